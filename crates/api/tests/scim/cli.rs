//! The `webwork-scim` binary: the admin commands with `--json`, and the first start of `serve`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use webwork_scim_persistence::testing::TestDb;

fn binary(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webwork-scim"));
    command
        .env("DATABASE_URL", db.url.expose())
        .env("PUBLIC_BASE_URL", "https://scim.example.com")
        .env("RUST_LOG", "warn");
    command
}

/// Runs a command; returns its exit code and its stdout parsed as one JSON object.
fn run(db: &TestDb, args: &[&str]) -> (i32, Value) {
    let output = binary(db).args(args).output().expect("the binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let value = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    if !output.status.success() {
        eprintln!("{args:?}: {}", String::from_utf8_lossy(&output.stderr));
    }
    (output.status.code().unwrap_or(-1), value)
}

#[test]
fn workspace_and_token_commands_print_json_and_refuse_with_exit_code_2() {
    let db = TestDb::new();
    let (code, created) = run(
        &db,
        &[
            "workspace",
            "create",
            "--name",
            "Acme Corp",
            "--plan",
            "pro",
            "--json",
        ],
    );
    assert_eq!(code, 0);
    let key = created["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("acme-corp-") && !key.contains('_'));
    assert_eq!(
        created["scim_base_url"],
        format!("https://scim.example.com/scim/v2/{key}")
    );

    let (code, _) = run(&db, &["token", "issue", &key, "--json"]);
    assert_eq!(code, 2, "pro cannot have tokens");
    let (code, ws) = run(&db, &["workspace", "set-plan", &key, "premium", "--json"]);
    assert_eq!((code, ws["plan"].as_str()), (0, Some("premium")));
    let (code, _) = run(&db, &["token", "issue", &key, "--json"]);
    assert_eq!(code, 2, "SSO is off");
    let (code, ws) = run(&db, &["workspace", "sso", &key, "--enable", "--json"]);
    assert_eq!((code, ws["sso_enabled"].as_bool()), (0, Some(true)));

    let (code, issued) = run(&db, &["token", "issue", &key, "--label", "okta", "--json"]);
    assert_eq!(code, 0);
    let token = issued["token"].as_str().unwrap();
    assert!(token.starts_with("wwscim_") && token.len() > 70);
    let id = issued["id"].as_str().unwrap();

    let (code, listed) = run(&db, &["token", "list", &key, "--json"]);
    assert_eq!(code, 0);
    assert_eq!(listed["tokens"][0]["id"], id);
    assert_eq!(listed["tokens"][0]["label"], "okta");
    assert!(
        !listed.to_string().contains(&token[20..]),
        "the secret is never listed"
    );

    let (code, revoked) = run(&db, &["token", "revoke", &key, id, "--json"]);
    assert_eq!(code, 0);
    assert!(revoked["revoked_at"].is_string());
    let (code, _) = run(&db, &["token", "revoke", "no-such-ws", id, "--json"]);
    assert_eq!(code, 2);
    let (code, _) = run(
        &db,
        &[
            "workspace",
            "create",
            "--name",
            "X",
            "--plan",
            "gold",
            "--json",
        ],
    );
    assert_eq!(code, 2);
}

#[test]
fn migrate_reports_an_up_to_date_database() {
    let db = TestDb::new();
    let (code, value) = run(&db, &["migrate", "--json"]);
    assert_eq!(code, 0);
    assert_eq!(value["applied"], serde_json::json!([]));
}

#[test]
fn first_start_with_demo_workspace_prints_a_working_base_url_and_token() {
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Sqlite {
        return; // `make run` uses the embedded SQLite database
    }
    let dir = tempfile_dir();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_webwork-scim"))
        .arg("serve")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/data/webwork-scim.db", dir.display()),
        )
        .env("BIND_ADDR", format!("127.0.0.1:{port}"))
        .env_remove("PUBLIC_BASE_URL")
        .env("DEMO_WORKSPACE", "true")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut base, mut token) = (None, None);
    for line in stdout.by_ref().map_while(Result::ok) {
        if let Some(url) = line.trim().strip_prefix("SCIM Base URL:") {
            base = Some(url.trim().to_owned());
        }
        if let Some(t) = line.trim().strip_prefix("SCIM API Token:") {
            token = Some(t.trim().to_owned());
            break;
        }
    }
    let (base, token) = (
        base.expect("base URL printed"),
        token.expect("token printed"),
    );
    assert!(base.starts_with(&format!("http://127.0.0.1:{port}/scim/v2/demo-workspace-")));
    let status = wait_for_ok(&format!("{base}/Users?startIndex=1&count=2"), &token);
    drop(stdout);
    child.kill().ok();
    child.wait().ok();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(status, Some(200));
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("webwork-scim-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A minimal HTTP/1.1 GET over a socket, retried until the server is up.
fn wait_for_ok(url: &str, token: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest.split_once('/')?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut stream) = std::net::TcpStream::connect(host) {
            let request = format!(
                "GET /{path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n"
            );
            stream.write_all(request.as_bytes()).ok()?;
            let mut response = String::new();
            stream.read_to_string(&mut response).ok()?;
            return response.split_whitespace().nth(1)?.parse().ok();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn migrate_uses_the_migration_url_of_the_owning_role() {
    let db = TestDb::empty();
    let owner = db.owner_url.clone().unwrap_or_else(|| db.url.clone());
    let output = Command::new(env!("CARGO_BIN_EXE_webwork-scim"))
        .args(["migrate", "--json"])
        .env("DATABASE_URL", "postgres://nobody@127.0.0.1:1/unreachable")
        .env("MIGRATION_DATABASE_URL", owner.expose())
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    let applied = value["applied"].as_array().unwrap();
    assert!(applied.len() >= 4, "every migration applied: {applied:?}");
}

/// One HTTP/1.1 request over a socket; the status and the body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn logs_never_contain_tokens_passwords_or_jwts() {
    let db = TestDb::new();
    let (_, created) = run(
        &db,
        &[
            "workspace",
            "create",
            "--name",
            "Acme",
            "--plan",
            "premium",
            "--sso",
            "--json",
        ],
    );
    let key = created["key"].as_str().unwrap().to_owned();
    let (_, issued) = run(&db, &["token", "issue", &key, "--json"]);
    let token = issued["token"].as_str().unwrap().to_owned();
    let secret = token.rsplit('_').next().unwrap().to_owned();
    let wrong = format!("{}{}", &token[..token.len() - 8], "00000000");
    let jwt = crate::support::platform();
    let public_key = include_str!("../../../tenancy/tests/fixtures/jwt-ed25519-public.pem");
    let keys =
        serde_json::json!([{"kid": "test", "alg": "EdDSA", "public_key": public_key}]).to_string();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let log_path = std::env::temp_dir().join(format!(
        "webwork-scim-log-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = binary(&db)
        .arg("serve")
        .env("BIND_ADDR", &addr)
        .env("RUST_LOG", "trace")
        .env("JWT_KEYS", &keys)
        .stdout(Stdio::from(log.try_clone().unwrap()))
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let base = format!("/scim/v2/{key}");
    let bearer = format!("Bearer {token}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&addr).is_err() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    let scim = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/scim+json"),
    ];
    let passwords = ["Create-Pa55word!", "Synced-Pa55word!"];
    let body = format!(
        r#"{{"userName":"jane@acme.com","password":"{}","active":true}}"#,
        passwords[0]
    );
    let (status, created) = http(&addr, "POST", &format!("{base}/Users"), &scim, Some(&body));
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let patch = format!(
        r#"{{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{{"op":"replace","value":{{"password":"{}"}}}}]}}"#,
        passwords[1]
    );
    assert_eq!(
        http(
            &addr,
            "PATCH",
            &format!("{base}/Users/{id}"),
            &scim,
            Some(&patch)
        )
        .0,
        200
    );
    let bad = format!("Bearer {wrong}");
    assert_eq!(
        http(
            &addr,
            "GET",
            &format!("{base}/Users"),
            &[("Authorization", bad.as_str())],
            None
        )
        .0,
        401
    );
    let admin = format!("Bearer {jwt}");
    assert_eq!(
        http(
            &addr,
            "GET",
            &format!("/api/v1/workspaces/{key}/tokens"),
            &[("Authorization", admin.as_str())],
            None
        )
        .0,
        200
    );
    let broken = format!("Bearer {}x", &jwt[..jwt.len() - 1]);
    assert_eq!(
        http(
            &addr,
            "GET",
            "/api/v1/workspaces",
            &[("Authorization", broken.as_str())],
            None
        )
        .0,
        401
    );
    // A body that fails to parse must not be echoed into the logs either.
    let leaky = format!(r#"{{"userName":"x","password":"{}""#, passwords[0]);
    assert_eq!(
        http(&addr, "POST", &format!("{base}/Users"), &scim, Some(&leaky)).0,
        400
    );

    child.kill().ok();
    child.wait().ok();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).ok();
    assert!(logs.contains("request"), "the server logged its requests");
    for (what, secret) in [
        ("token", token.as_str()),
        ("token secret", secret.as_str()),
        ("wrong token", wrong.as_str()),
        ("password", passwords[0]),
        ("synced password", passwords[1]),
        ("JWT", jwt.as_str()),
        ("JWT signature", jwt.rsplit('.').next().unwrap()),
    ] {
        assert!(!logs.contains(secret), "the logs contain a {what}");
    }
    assert!(
        !logs.to_ascii_lowercase().contains("bearer "),
        "the logs contain an Authorization header"
    );
}

#[test]
fn sigterm_finishes_every_request_in_flight_and_logs_json() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Barrier};
    let db = TestDb::new();
    let (_, created) = run(
        &db,
        &[
            "workspace",
            "create",
            "--name",
            "Acme",
            "--plan",
            "premium",
            "--sso",
            "--json",
        ],
    );
    let key = created["key"].as_str().unwrap().to_owned();
    let (_, issued) = run(&db, &["token", "issue", &key, "--json"]);
    let token = issued["token"].as_str().unwrap().to_owned();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let metrics_addr = format!(
        "127.0.0.1:{}",
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    );
    let log_path = std::env::temp_dir().join(format!(
        "webwork-scim-json-{}.txt",
        uuid::Uuid::new_v4().simple()
    ));
    let mut child = binary(&db)
        .arg("serve")
        .env("BIND_ADDR", &addr)
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("SHUTDOWN_TIMEOUT_SECS", "20")
        .env("METRICS_BIND_ADDR", &metrics_addr)
        .stderr(Stdio::from(std::fs::File::create(&log_path).unwrap()))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while http_status(&addr, "/readyz") != Some(200) {
        assert!(Instant::now() < deadline, "the server became ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(http_status(&metrics_addr, "/metrics"), Some(200));
    assert_eq!(
        http_status(&addr, "/metrics"),
        Some(404),
        "with a port of its own, /metrics is not on the API's"
    );

    // Creations with a password: argon2 keeps each in flight for a while.
    const IN_FLIGHT: usize = 48;
    let sent = Arc::new(Barrier::new(IN_FLIGHT + 1));
    let clients: Vec<_> = (0..IN_FLIGHT)
        .map(|n| {
            let (addr, key, token, sent) = (addr.clone(), key.clone(), token.clone(), sent.clone());
            std::thread::spawn(move || {
                let body = format!(
                    r#"{{"userName":"u{n}@acme.com","password":"Pa55word-{n}!","active":true}}"#
                );
                let mut stream = std::net::TcpStream::connect(&addr).unwrap();
                let request = format!(
                    "POST /scim/v2/{key}/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
                     Content-Type: application/scim+json\r\nX-Request-Id: load-{n}\r\nConnection: close\r\n\
                     Content-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                stream.write_all(request.as_bytes()).unwrap();
                sent.wait();
                let mut response = String::new();
                stream.read_to_string(&mut response).ok();
                response
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse::<u16>().ok())
            })
        })
        .collect();
    sent.wait();
    // Every request is being answered (the argon2 queue keeps them in flight) before the signal;
    // in production the preStop delay gives the server this time.
    let deadline = Instant::now() + Duration::from_secs(20);
    while in_flight(&metrics_addr) < IN_FLIGHT {
        assert!(Instant::now() < deadline, "the requests reached the server");
        std::thread::sleep(Duration::from_millis(5));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let statuses: Vec<Option<u16>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let exit = child.wait().unwrap();
    let logs = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).ok();
    assert!(
        statuses.iter().all(|s| *s == Some(201)),
        "every request in flight at SIGTERM was answered: {statuses:?}\n{logs}"
    );
    assert!(exit.success(), "a clean exit: {exit:?}");

    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let stopping = lines
        .iter()
        .position(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("stopping"))
        })
        .expect("the stop is logged");
    let answered: Vec<(usize, &Value)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l["message"] == "request" && l["status"] == 201)
        .collect();
    assert_eq!(answered.len(), IN_FLIGHT);
    assert!(
        answered.iter().any(|(at, _)| *at > stopping),
        "some requests were still in flight when SIGTERM arrived"
    );
    let (_, first) = answered[0];
    assert_eq!(first["route"], "/scim/v2/{workspace}/Users");
    assert_eq!(first["workspace"], Value::String(key.clone()));
    assert!(first["latency_ms"].is_number());
    assert!(first["timestamp"].is_string() && first["level"] == "INFO");
    assert!(
        first["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("load-")),
        "{first}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
    let key = webwork_scim_domain::WorkspaceKey::parse(&key).unwrap();
    let workspace = webwork_scim_persistence::unscoped::find_workspace(&db.store, &key)
        .unwrap()
        .unwrap();
    let stored = db
        .store
        .read(workspace.id, |tx| {
            webwork_scim_persistence::users::count_active(tx, None)
        })
        .unwrap();
    assert_eq!(
        stored, IN_FLIGHT as i64,
        "every acknowledged user is stored"
    );
}

/// The status of a plain GET, or `None` while nothing listens.
/// Requests the server is answering now, from its metrics.
fn in_flight(metrics_addr: &str) -> usize {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(metrics_addr) else {
        return 0;
    };
    let request =
        format!("GET /metrics HTTP/1.1\r\nHost: {metrics_addr}\r\nConnection: close\r\n\r\n");
    let mut response = String::new();
    if stream.write_all(request.as_bytes()).is_err()
        || stream.read_to_string(&mut response).is_err()
    {
        return 0;
    }
    response
        .lines()
        .find_map(|line| line.strip_prefix("webwork_scim_http_requests_in_flight "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0)
}

fn http_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}
