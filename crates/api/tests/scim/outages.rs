//! Database outages: a cut connection, a saturated pool, and a PostgreSQL server stopped and
//! restarted under traffic cost 503s and no acknowledged write.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use serde_json::json;
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::{
    Backend, DatabaseUrl, PoolSettings, SqliteSettings, Store, Synchronous,
};

use crate::private_postgres::PrivateServer;
use crate::support::*;

/// A TCP proxy in front of PostgreSQL that can cut every connection and refuse new ones, as a
/// database outage looks from the service.
struct Outage {
    addr: String,
    down: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Outage {
    fn start(upstream: String) -> Outage {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let down = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (flag, streams) = (down.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if flag.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let mut guard = streams.lock().unwrap();
                guard.push(client.try_clone().unwrap());
                guard.push(server.try_clone().unwrap());
                drop(guard);
                pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
                pipe(server, client);
            }
        });
        Outage { addr, down, open }
    }

    fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            stream.shutdown(Shutdown::Both).ok();
        }
    }

    fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let mut buffer = [0_u8; 16 * 1024];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buffer[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        to.shutdown(Shutdown::Both).ok();
    });
}

#[actix_web::test]
async fn a_database_outage_answers_503_then_recovers_and_loses_no_acknowledged_write() {
    let db = webwork_scim_persistence::testing::TestDb::new();
    if db.store.backend() != Backend::Postgres {
        return; // the outage of a server; the embedded database cannot go away
    }
    let DatabaseUrl::Postgres(direct) = db.url.clone() else {
        unreachable!()
    };
    let (scheme_user, rest) = direct.split_once('@').unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let outage = Outage::start(host.to_owned());
    let proxied = DatabaseUrl::Postgres(format!("{scheme_user}@{}/{path}", outage.addr));
    let store = Store::connect(
        &proxied,
        &PoolSettings {
            max_size: 4,
            connection_timeout: Duration::from_millis(800),
            ..webwork_scim_persistence::testing::pool_settings()
        },
    )
    .unwrap();
    let (state, server) = serve_store(store, test_config());
    let (workspace, token) = premium_on(&state.use_cases, "Acme").await;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let create = |n: usize| {
        let body = json!({"userName": format!("u{n}@acme.com"), "active": true});
        let url = server.url(&format!("/scim/v2/{}/Users", workspace.key));
        let request = client
            .post(url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/scim+json"));
        async move {
            let mut response = request.send_json(&body).await.unwrap();
            let status = response.status();
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            (status, retry_after, body)
        }
    };
    let ready = || {
        let request = client.get(server.url("/readyz"));
        async move { request.send().await.unwrap().status() }
    };

    let mut acknowledged = Vec::new();
    let (mut unavailable, mut n) = (0, 0);
    let phases = [(false, 600), (true, 2000), (false, 0)];
    for (down, millis) in phases {
        if down {
            outage.cut();
        } else {
            outage.restore();
        }
        let until = Instant::now() + Duration::from_millis(millis);
        let mut recovered = down;
        loop {
            n += 1;
            let (status, retry_after, body) = create(n).await;
            match status {
                StatusCode::CREATED => {
                    acknowledged.push(format!("u{n}@acme.com"));
                    recovered = true;
                }
                StatusCode::SERVICE_UNAVAILABLE => {
                    unavailable += 1;
                    assert_eq!(retry_after.as_deref(), Some("5"));
                    assert_eq!(body["status"], json!("503"), "{body}");
                    assert_eq!(
                        body["schemas"],
                        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
                    );
                }
                other => panic!("request {n} got {other}: {body}"),
            }
            if down {
                assert_eq!(ready().await, StatusCode::OK, "readiness does not flap");
            }
            let done = if millis == 0 {
                recovered
            } else {
                Instant::now() >= until
            };
            if done {
                break;
            }
            assert!(
                Instant::now() < until + Duration::from_secs(20),
                "service did not resume within 20 s of the database's return"
            );
        }
        if !down && millis == 0 {
            assert!(recovered, "service resumed by itself");
        }
    }
    eprintln!(
        "{} writes acknowledged, {unavailable} answered 503",
        acknowledged.len()
    );
    assert!(unavailable > 0, "the outage was seen");
    let stored: Vec<String> = db
        .store
        .read(workspace.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: None,
                    sort: None,
                    after: None,
                    before: None,
                    offset: 0,
                    limit: 10_000,
                },
            )
        })
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.user_name)
        .collect();
    for name in &acknowledged {
        assert!(stored.contains(name), "acknowledged {name} was lost");
    }
    let page = state.metrics.render(state.store().pool_state(), 4).unwrap();
    assert!(
        page.lines().any(
            |line| line.starts_with("webwork_scim_db_unavailable_total ") && !line.ends_with(" 0")
        ),
        "the outage is counted"
    );
}

#[actix_web::test]
async fn a_saturated_pool_answers_503_without_calling_it_an_outage() {
    let db = webwork_scim_persistence::testing::TestDb::new();
    let store = Store::connect(
        &db.url,
        &PoolSettings {
            max_size: 1,
            connection_timeout: Duration::from_millis(300),
            ..webwork_scim_persistence::testing::pool_settings()
        },
    )
    .unwrap();
    let (state, server) = serve_store(store, test_config());
    let (workspace, token) = premium_on(&state.use_cases, "Acme").await;
    let held = state.store().raw_connection().unwrap();
    let mut response = awc::Client::default()
        .get(server.url(&format!("/scim/v2/{}/Users", workspace.key)))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .unwrap();
    drop(held);
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("1")
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], json!("503"));
    let page = state.metrics.render(state.store().pool_state(), 1).unwrap();
    assert!(
        page.contains("webwork_scim_db_unavailable_total 0"),
        "{page}"
    );
    assert!(page.contains("webwork_scim_db_pool_wait_seconds_count"));
}

#[actix_web::test]
async fn a_postgresql_restart_under_traffic_costs_503s_and_no_acknowledged_write() {
    if webwork_scim_persistence::testing::backend() != Backend::Postgres {
        return; // the restart of a server; the embedded database cannot go away
    }
    let Some(server) = PrivateServer::start() else {
        eprintln!("no PostgreSQL server binaries here: the restart test needs them");
        return;
    };
    let store = Store::connect(
        &server.url(),
        &PoolSettings {
            max_size: 4,
            connection_timeout: Duration::from_millis(800),
            ..webwork_scim_persistence::testing::pool_settings()
        },
    )
    .unwrap();
    store.migrate().unwrap();
    let (state, http) = serve_store(store.clone(), test_config());
    let (workspace, token) = premium_on(&state.use_cases, "Acme").await;
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(10))
        .finish();
    let url = http.url(&format!("/scim/v2/{}/Users", workspace.key));
    // Creates user `n`: its name when acknowledged, `None` for a 503.
    let create = async |n: usize| -> Option<String> {
        let name = format!("u{n}@acme.com");
        let mut response = client
            .post(url.clone())
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("Content-Type", "application/scim+json"))
            .send_json(&json!({"userName": name}))
            .await
            .unwrap();
        match response.status() {
            StatusCode::CREATED => Some(name),
            StatusCode::SERVICE_UNAVAILABLE => {
                let body: serde_json::Value = response.json().await.unwrap();
                assert_eq!(body["status"], json!("503"), "{body}");
                None
            }
            other => panic!("request {n} got {other}"),
        }
    };
    let mut acknowledged = Vec::new();
    let (mut unavailable, mut n) = (0, 0);
    let send =
        async |n: usize, acknowledged: &mut Vec<String>, unavailable: &mut usize| match create(n)
            .await
        {
            Some(name) => {
                acknowledged.push(name);
                true
            }
            None => {
                *unavailable += 1;
                false
            }
        };
    let until = Instant::now() + Duration::from_millis(500);
    while Instant::now() < until {
        n += 1;
        send(n, &mut acknowledged, &mut unavailable).await;
    }
    let before = acknowledged.len();
    // Stop the server while requests keep coming, and start it again a moment later.
    let (tx_down, rx_down) = std::sync::mpsc::channel();
    let server = Arc::new(server);
    let controller = server.clone();
    let control = std::thread::spawn(move || {
        controller.down();
        tx_down.send(()).ok();
        std::thread::sleep(Duration::from_millis(1500));
        controller.up();
    });
    while rx_down.try_recv().is_err() {
        n += 1;
        send(n, &mut acknowledged, &mut unavailable).await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        n += 1;
        let restarted = control.is_finished();
        if send(n, &mut acknowledged, &mut unavailable).await && restarted {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "service did not resume after the restart"
        );
    }
    control.join().unwrap();
    eprintln!(
        "{before} writes before the stop, {} in all, {unavailable} answered 503",
        acknowledged.len()
    );
    assert!(unavailable > 0, "the stopped server was noticed");
    let stored: Vec<String> = store
        .read(workspace.id, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: None,
                    sort: None,
                    after: None,
                    before: None,
                    offset: 0,
                    limit: 100_000,
                },
            )
        })
        .unwrap()
        .users
        .into_iter()
        .map(|u| u.user_name)
        .collect();
    for name in &acknowledged {
        assert!(stored.contains(name), "acknowledged {name} was lost");
    }
    drop(http);
    drop(state);
    drop(store);
}

#[actix_web::test]
async fn a_sqlite_write_lock_held_elsewhere_is_a_503_with_retry_after_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = SqliteSettings {
        busy_timeout: Duration::from_millis(100),
        ..SqliteSettings::default()
    };
    let (url, store) = sqlite_store(&dir, sqlite);
    let (state, server) = serve_store(store, test_config());
    let (ws, token) = premium_on(&state.use_cases, "Acme").await;
    let users = format!("/scim/v2/{}/Users", ws.key);

    // Another process (a command run beside the server) holds the write lock.
    let mut other = url.connect().unwrap();
    other.batch_execute("BEGIN IMMEDIATE").unwrap();
    let mut refused = server
        .post(&users)
        .bearer_auth(&token)
        .send_json(&okta_user("jane@acme.com"))
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(
        refused
            .headers()
            .get("retry-after")
            .map(|v| v.to_str().unwrap()),
        Some("1")
    );
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["status"], "503");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    other.batch_execute("ROLLBACK").unwrap();

    assert_eq!(
        users_named(&server, &users, &token, "jane@acme.com").await,
        0,
        "the refused creation wrote nothing"
    );
    let retried = server
        .post(&users)
        .bearer_auth(&token)
        .send_json(&okta_user("jane@acme.com"))
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::CREATED);
}

#[test]
fn sqlite_durability_follows_the_setting() {
    use diesel::RunQueryDsl;
    use diesel::sql_types::Integer;

    #[derive(diesel::QueryableByName)]
    struct Level {
        #[diesel(sql_type = Integer)]
        synchronous: i32,
    }
    // PRAGMA synchronous reads 1 for NORMAL and 2 for FULL.
    for (synchronous, level) in [(Synchronous::Normal, 1), (Synchronous::Full, 2)] {
        let dir = tempfile::tempdir().unwrap();
        let sqlite = SqliteSettings {
            synchronous,
            ..SqliteSettings::default()
        };
        let (_, store) = sqlite_store(&dir, sqlite);
        let mut conn = store.raw_connection().unwrap();
        let read: Level = diesel::sql_query("PRAGMA synchronous")
            .get_result(&mut *conn)
            .unwrap();
        assert_eq!(read.synchronous, level, "{synchronous:?}");
    }
}
