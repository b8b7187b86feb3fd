//! The running binary: what its logs hold (never a secret), and a SIGTERM under load that
//! finishes every request in flight.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use serde_json::Value;
use webwork_scim_persistence::testing::TestDb;

use crate::cli::{binary, http, run};

/// A free local address.
fn free_addr() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    format!("127.0.0.1:{}", listener.local_addr().unwrap().port())
}

/// A Premium workspace with SSO on, made with the command line: its key and a token.
fn workspace(db: &TestDb) -> (String, String) {
    let create = [
        "workspace",
        "create",
        "--name",
        "Acme",
        "--plan",
        "premium",
        "--sso",
        "--json",
    ];
    let (_, created) = run(db, &create);
    let key = created["key"].as_str().unwrap().to_owned();
    let (_, issued) = run(db, &["token", "issue", &key, "--json"]);
    (key, issued["token"].as_str().unwrap().to_owned())
}

/// `webwork-scim serve` on its own address, everything it writes going to a file.
struct Served {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Served {
    fn start(db: &TestDb, env: &[(&str, &str)]) -> Served {
        let addr = free_addr();
        let log = std::env::temp_dir().join(format!(
            "webwork-scim-log-{}.txt",
            uuid::Uuid::new_v4().simple()
        ));
        let file = std::fs::File::create(&log).unwrap();
        let mut command = binary(db);
        command
            .arg("serve")
            .env("BIND_ADDR", &addr)
            .stdout(Stdio::from(file.try_clone().unwrap()))
            .stderr(Stdio::from(file));
        for (name, value) in env {
            command.env(name, value);
        }
        let served = Served {
            child: command.spawn().unwrap(),
            addr,
            log,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while http_status(&served.addr, "/readyz") != Some(200) {
            assert!(Instant::now() < deadline, "the server became ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        served
    }

    fn status(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&str>,
    ) -> u16 {
        http(&self.addr, method, path, headers, body).0
    }

    /// Waits for the process to end and returns everything it logged.
    fn logs(mut self) -> String {
        self.child.wait().ok();
        let logs = std::fs::read_to_string(&self.log).unwrap();
        std::fs::remove_file(&self.log).ok();
        logs
    }
}

#[test]
fn logs_never_contain_tokens_passwords_or_jwts() {
    let db = TestDb::new();
    let (key, token) = workspace(&db);
    let secret = token.rsplit('_').next().unwrap().to_owned();
    let wrong = format!("{}{}", &token[..token.len() - 8], "00000000");
    let jwt = crate::support::platform();
    let public_key = include_str!("../../../tenancy/tests/fixtures/jwt-ed25519-public.pem");
    let keys =
        serde_json::json!([{"kid": "test", "alg": "EdDSA", "public_key": public_key}]).to_string();
    let mut served = Served::start(&db, &[("RUST_LOG", "trace"), ("JWT_KEYS", &keys)]);
    let passwords = ["Create-Pa55word!", "Synced-Pa55word!"];
    send_secrets(&served, &key, &token, &wrong, &jwt, passwords);
    served.child.kill().ok();
    let logs = served.logs();
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
fn every_okta_call_makes_one_hop_to_the_blocking_pool() {
    let db = TestDb::new();
    let (key, token) = workspace(&db);
    let mut served = Served::start(&db, &[("RUST_LOG", "info")]);
    let bearer = format!("Bearer {token}");
    let base = format!("/scim/v2/{key}");
    let send = |name: &str, method: &str, path: &str, body: Option<&str>| {
        let id = format!("hops-{name}");
        let headers = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/scim+json"),
            ("X-Request-Id", id.as_str()),
        ];
        http(
            &served.addr,
            method,
            &format!("{base}{path}"),
            &headers,
            body,
        )
    };
    // The token is read and verified once; every call after it is served from the caches.
    assert_eq!(send("first", "GET", "/Users?count=1", None).0, 200);
    let lookup = "/Users?filter=userName%20eq%20%22jane%40acme.com%22";
    assert_eq!(send("lookup", "GET", lookup, None).0, 200);
    let jane = r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName":"jane@acme.com","name":{"givenName":"Jane","familyName":"Doe"},
        "emails":[{"value":"jane@acme.com","primary":true}],"active":true}"#;
    let (status, created) = send("create", "POST", "/Users", Some(jane));
    assert_eq!(status, 201, "{created}");
    let id = serde_json::from_str::<Value>(&created).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = format!("/Users/{id}");
    let deactivate = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations":[{"op":"replace","value":{"active":false}}]}"#;
    let calls = [
        ("get", "GET", user.as_str(), None, 200),
        (
            "credentials",
            "GET",
            "/Users?startIndex=1&count=2",
            None,
            200,
        ),
        ("patch", "PATCH", user.as_str(), Some(deactivate), 200),
        ("put", "PUT", user.as_str(), Some(jane), 200),
        ("delete", "DELETE", user.as_str(), None, 204),
    ];
    for (name, method, path, body, expected) in calls {
        let (status, answer) = send(name, method, path, body);
        assert_eq!(status, expected, "{name}: {answer}");
    }
    served.child.kill().ok();
    let logs = served.logs();
    let hops = |name: &str| {
        logs.lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| {
                line["message"] == "request" && line["span"]["request_id"] == format!("hops-{name}")
            })
            .unwrap_or_else(|| panic!("no request line for {name}"))["blocking_hops"]
            .as_u64()
            .unwrap_or_else(|| panic!("no blocking_hops for {name}"))
    };
    assert_eq!(hops("first"), 2, "the token's read, then the listing");
    for name in [
        "lookup",
        "create",
        "get",
        "credentials",
        "patch",
        "put",
        "delete",
    ] {
        assert_eq!(hops(name), 1, "{name} made more than one hop");
    }
}

/// Requests that carry every kind of secret: a token, passwords (in a good body and in one
/// that fails to parse), a wrong token, a JWT and a broken one.
fn send_secrets(
    served: &Served,
    key: &str,
    token: &str,
    wrong: &str,
    jwt: &str,
    passwords: [&str; 2],
) {
    let base = format!("/scim/v2/{key}");
    let bearer = format!("Bearer {token}");
    let scim = [
        ("Authorization", bearer.as_str()),
        ("Content-Type", "application/scim+json"),
    ];
    let body = format!(
        r#"{{"userName":"jane@acme.com","password":"{}","active":true}}"#,
        passwords[0]
    );
    let (status, created) = http(
        &served.addr,
        "POST",
        &format!("{base}/Users"),
        &scim,
        Some(&body),
    );
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
        served.status("PATCH", &format!("{base}/Users/{id}"), &scim, Some(&patch)),
        200
    );
    let bad = format!("Bearer {wrong}");
    let users = format!("{base}/Users");
    assert_eq!(
        served.status("GET", &users, &[("Authorization", &bad)], None),
        401
    );
    let admin = format!("Bearer {jwt}");
    let tokens = format!("/api/v1/workspaces/{key}/tokens");
    assert_eq!(
        served.status("GET", &tokens, &[("Authorization", &admin)], None),
        200
    );
    let broken = format!("Bearer {}x", &jwt[..jwt.len() - 1]);
    let workspaces = "/api/v1/workspaces";
    assert_eq!(
        served.status("GET", workspaces, &[("Authorization", &broken)], None),
        401
    );
    // A body that fails to parse must not be echoed into the logs either.
    let leaky = format!(r#"{{"userName":"x","password":"{}""#, passwords[0]);
    assert_eq!(served.status("POST", &users, &scim, Some(&leaky)), 400);
}

/// Creations with a password, each on its own connection, all sent before any is answered:
/// argon2 keeps each in flight for a while. The handles give each answer's status.
fn creations_in_flight(
    addr: &str,
    key: &str,
    token: &str,
    count: usize,
) -> Vec<std::thread::JoinHandle<Option<u16>>> {
    let sent = Arc::new(Barrier::new(count + 1));
    let clients = (0..count)
        .map(|n| {
            let (addr, key, token, sent) = (addr.to_owned(), key.to_owned(), token.to_owned(), sent.clone());
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
    clients
}

#[test]
fn sigterm_finishes_every_request_in_flight_and_logs_json() {
    const IN_FLIGHT: usize = 48;
    let db = TestDb::new();
    let (key, token) = workspace(&db);
    let metrics_addr = free_addr();
    let env = [
        ("LOG_FORMAT", "json"),
        ("RUST_LOG", "info"),
        ("SHUTDOWN_TIMEOUT_SECS", "20"),
        ("METRICS_BIND_ADDR", metrics_addr.as_str()),
    ];
    let served = Served::start(&db, &env);
    assert_eq!(http_status(&metrics_addr, "/metrics"), Some(200));
    assert_eq!(
        http_status(&served.addr, "/metrics"),
        Some(404),
        "with a port of its own, /metrics is not on the API's"
    );
    let clients = creations_in_flight(&served.addr, &key, &token, IN_FLIGHT);
    // Every request is being answered (the argon2 queue keeps them in flight) before the signal;
    // in production the preStop delay gives the server this time.
    let deadline = Instant::now() + Duration::from_secs(20);
    while in_flight(&metrics_addr) < IN_FLIGHT {
        assert!(Instant::now() < deadline, "the requests reached the server");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = served.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let statuses: Vec<Option<u16>> = clients.into_iter().map(|c| c.join().unwrap()).collect();
    let mut served = served;
    let exit = served.child.wait().unwrap();
    let logs = served.logs();
    assert!(
        statuses.iter().all(|s| *s == Some(201)),
        "every request in flight at SIGTERM was answered: {statuses:?}\n{logs}"
    );
    assert!(exit.success(), "a clean exit: {exit:?}");
    check_shutdown_logs(&logs, &key, IN_FLIGHT);
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

/// The JSON log of a shutdown under load: one line per answered request, some after the stop
/// began, and the stop itself.
fn check_shutdown_logs(logs: &str, key: &str, answered_count: usize) {
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
    assert_eq!(answered.len(), answered_count);
    assert!(
        answered.iter().any(|(at, _)| *at > stopping),
        "some requests were still in flight when SIGTERM arrived"
    );
    let (_, first) = answered[0];
    assert_eq!(first["route"], "/scim/v2/{workspace}/Users");
    assert_eq!(first["workspace"], Value::String(key.to_owned()));
    assert!(first["latency_ms"].is_number());
    assert!(first["timestamp"].is_string() && first["level"] == "INFO");
    assert!(
        first["span"]["request_id"]
            .as_str()
            .is_some_and(|id| id.starts_with("load-")),
        "{first}"
    );
    assert!(lines.iter().any(|l| l["message"] == "stopped"));
}

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

/// The status of a plain GET, or `None` while nothing listens.
fn http_status(addr: &str, path: &str) -> Option<u16> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).ok()?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_whitespace().nth(1)?.parse().ok()
}
