//! The `webwork-scim` binary: the admin commands with `--json`, and the first start of `serve` (its
//! logs and its shutdown are in `process`).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use webwork_scim_persistence::testing::TestDb;

pub fn binary(db: &TestDb) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_webwork-scim"));
    command
        .env("DATABASE_URL", db.url.expose())
        .env("PUBLIC_BASE_URL", "https://scim.example.com")
        .env("RUST_LOG", "warn");
    command
}

/// Runs a command; returns its exit code and its stdout parsed as one JSON object.
pub fn run(db: &TestDb, args: &[&str]) -> (i32, Value) {
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

pub fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("webwork-scim-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A minimal HTTP/1.1 GET over a socket, retried until the server is up.
pub fn wait_for_ok(url: &str, token: &str) -> Option<u16> {
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
pub fn http(
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
