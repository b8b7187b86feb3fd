//! `make bench`: the SCIM calls that matter most, through real HTTP against the real app and
//! database (SQLite by default, PostgreSQL with `TEST_BACKEND=postgres`), with throughput and
//! latency percentiles beside the goals they are held to. Goals are checked only when
//! `BENCH_STRICT=1`, since a shared machine makes timings noisy.

// A benchmark's fixtures fail it at once, like a test's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webwork_scim_api::admin::{self, Caller};
use webwork_scim_api::state::AppConfig;
use webwork_scim_api::{AppState, app};
use webwork_scim_domain::{Plan, UserDraft};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users;

/// Users in the workspace the lookups search.
const USERS: usize = 2_000;
const CONCURRENCY: usize = 16;

struct Scenario {
    name: &'static str,
    requests: usize,
    /// The 99th percentile latency the scenario must stay under, in milliseconds.
    p99_goal_ms: f64,
}

struct Outcome {
    per_second: f64,
    p50: Duration,
    p99: Duration,
}

fn main() {
    actix_web::rt::System::new().block_on(run());
}

async fn run() {
    let db = TestDb::new();
    let config = AppConfig {
        max_body_bytes: 1 << 20,
        ..AppConfig::new("http://bench.local")
    };
    let state = AppState::new(db.store.clone(), config).unwrap();
    state.status.mark_ready();
    let served = state.clone();
    let server = actix_test::start(move || app::app(served.clone()));
    // No rate limit gets in the way of measuring the service itself.
    let workspace =
        admin::create_workspace(&db.store, &Caller::operator(), "Bench", Plan::Premium, true)
            .unwrap();
    let update = webwork_scim_persistence::workspaces::WorkspaceUpdate {
        overrides: Some((
            Some(serde_json::from_value(json!({"requests_per_second": 0, "burst": 0})).unwrap()),
            None,
        )),
        ..Default::default()
    };
    admin::update_workspace(
        &db.store,
        &Caller::operator(),
        workspace.key.as_str(),
        update,
    )
    .unwrap();
    let token = admin::issue_token(
        &db.store,
        &Caller::operator(),
        workspace.key.as_str(),
        "b",
        None,
    )
    .unwrap()
    .plaintext;
    let mut ids = Vec::with_capacity(USERS);
    db.store
        .write(workspace.id, |tx| {
            for n in 0..USERS {
                let draft = UserDraft::from_scim(&json!({
                    "userName": format!("user{n}@bench.example"),
                    "name": {"givenName": "Bench", "familyName": format!("User {n}")},
                    "emails": [{"value": format!("user{n}@bench.example"), "primary": true}],
                }))
                .unwrap();
                ids.push(users::insert(tx, &draft, None)?.id.to_string());
            }
            Ok::<_, webwork_scim_persistence::StoreError>(())
        })
        .unwrap();
    let group = {
        let response = client()
            .post(server.url(&format!("/scim/v2/{}/Groups", workspace.key)))
            .insert_header(("Authorization", format!("Bearer {token}")))
            .send_json(&json!({"displayName": "Everyone"}))
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 201);
        let mut response = response;
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    };
    let base = server.url(&format!("/scim/v2/{}", workspace.key));
    let ids = Rc::new(ids);

    println!(
        "backend: {:?}; {USERS} users; {CONCURRENCY} requests at a time\n",
        db.store.backend()
    );
    println!(
        "{:<44} {:>8} {:>10} {:>9} {:>9} {:>10}",
        "scenario", "requests", "req/s", "p50 ms", "p99 ms", "p99 goal"
    );
    let mut missed = Vec::new();
    let scenarios: [(Scenario, Request); 4] = [
        (
            Scenario {
                name: "Okta lookup: GET /Users?filter=userName eq",
                requests: 4_000,
                p99_goal_ms: 50.0,
            },
            Request::Lookup,
        ),
        (
            Scenario {
                name: "Test API Credentials: GET /Users?count=2",
                requests: 4_000,
                p99_goal_ms: 50.0,
            },
            Request::List,
        ),
        (
            Scenario {
                name: "Deactivate/reactivate: PATCH /Users/{id}",
                requests: 2 * USERS,
                p99_goal_ms: 100.0,
            },
            Request::Patch,
        ),
        (
            Scenario {
                name: "Group Push: PATCH /Groups/{id} add member",
                requests: 2_000,
                p99_goal_ms: 100.0,
            },
            Request::AddMember,
        ),
    ];
    for (scenario, request) in scenarios {
        let target = Target {
            base: base.clone(),
            token: token.clone(),
            group: group.clone(),
            ids: ids.clone(),
        };
        // Warm the caches (the token is verified once) before measuring.
        measure(&target, Request::List, 50).await;
        let outcome = measure(&target, request, scenario.requests).await;
        let met = outcome.p99.as_secs_f64() * 1000.0 <= scenario.p99_goal_ms;
        println!(
            "{:<44} {:>8} {:>10.0} {:>9.2} {:>9.2} {:>7.0} {}",
            scenario.name,
            scenario.requests,
            outcome.per_second,
            outcome.p50.as_secs_f64() * 1000.0,
            outcome.p99.as_secs_f64() * 1000.0,
            scenario.p99_goal_ms,
            if met { "ok" } else { "MISSED" }
        );
        if !met {
            missed.push(scenario.name);
        }
    }
    println!(
        "\nargon2 verifications of the token over every request: {}",
        state.verifier.argon2_runs()
    );
    if !missed.is_empty() && std::env::var("BENCH_STRICT").is_ok_and(|v| v == "1") {
        eprintln!("goals missed: {missed:?}");
        std::process::exit(1);
    }
}

#[derive(Clone, Copy)]
enum Request {
    Lookup,
    List,
    Patch,
    AddMember,
}

#[derive(Clone)]
struct Target {
    base: String,
    token: String,
    group: String,
    ids: Rc<Vec<String>>,
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish()
}

/// Sends `requests` requests, `CONCURRENCY` at a time; every answer must be a success.
async fn measure(target: &Target, request: Request, requests: usize) -> Outcome {
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(requests)));
    let started = Instant::now();
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|worker| {
            let (target, latencies) = (target.clone(), latencies.clone());
            actix_web::rt::spawn(async move {
                let client = client();
                let mut n = worker;
                while n < requests {
                    let sent = Instant::now();
                    let status = send(&client, &target, request, n).await;
                    assert!(status < 300, "request {n} answered {status}");
                    latencies.borrow_mut().push(sent.elapsed());
                    n += CONCURRENCY;
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.unwrap();
    }
    let elapsed = started.elapsed();
    let mut latencies = latencies.borrow().clone();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies.get(index).copied().unwrap_or_default()
    };
    Outcome {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
    }
}

async fn send(client: &awc::Client, target: &Target, request: Request, n: usize) -> u16 {
    let auth = ("Authorization", format!("Bearer {}", target.token));
    let user = &target.ids[n % target.ids.len()];
    let patch = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    let response = match request {
        Request::Lookup => {
            let url = format!(
                "{}/Users?filter=userName%20eq%20%22user{}%40bench.example%22&startIndex=1&count=100",
                target.base,
                n % USERS
            );
            client.get(url).insert_header(auth).send().await
        }
        Request::List => {
            let url = format!("{}/Users?startIndex=1&count=2", target.base);
            client.get(url).insert_header(auth).send().await
        }
        Request::Patch => {
            // Every user is deactivated, then every one reactivated (seat check included).
            let active = (n / USERS) % 2 == 1;
            client
                .patch(format!("{}/Users/{user}", target.base))
                .insert_header(auth)
                .send_json(&patch(
                    json!([{"op": "replace", "value": {"active": active}}]),
                ))
                .await
        }
        Request::AddMember => {
            client
                .patch(format!("{}/Groups/{}", target.base, target.group))
                .insert_header(auth)
                .send_json(&patch(
                    json!([{"op": "add", "path": "members", "value": [{"value": user}]}]),
                ))
                .await
        }
    };
    response.map_or(0, |r| r.status().as_u16())
}
