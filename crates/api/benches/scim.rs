//! `make bench`: the SCIM calls that matter most, through real HTTP against the real app and
//! database (SQLite by default, PostgreSQL with `TEST_BACKEND=postgres`), with throughput, latency
//! percentiles and errors beside the goals they are held to. Goals are checked only when
//! `BENCH_STRICT=1`, since a shared machine makes timings noisy.

// A benchmark's fixtures fail it at once, like a test's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use webwork_scim_api::state::AppConfig;
use webwork_scim_api::usecases::workspaces::NewWorkspace;
use webwork_scim_api::usecases::{Caller, UseCases};
use webwork_scim_api::{AppState, app};
use webwork_scim_domain::{PlainText, Plan, UserDraft, WorkspaceName};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users;
use webwork_scim_persistence::workspaces::WorkspaceUpdate;

/// Users in the workspace the lookups search.
const USERS: usize = 2_000;

/// What a scenario is held to.
#[derive(Clone, Copy)]
enum Goal {
    /// The 99th percentile latency stays under this many milliseconds.
    P99Ms(f64),
    /// The 99th percentile stays within this multiple of the median: requests queue fairly.
    P99OverP50(f64),
}

struct Scenario {
    name: &'static str,
    request: Request,
    requests: usize,
    concurrency: usize,
    goal: Goal,
}

struct Outcome {
    per_second: f64,
    p50: Duration,
    p99: Duration,
    errors: usize,
}

impl Outcome {
    /// Whether the goal is met; no scenario may fail a request.
    fn meets(&self, goal: Goal) -> bool {
        let (p50, p99) = (self.p50.as_secs_f64(), self.p99.as_secs_f64());
        self.errors == 0
            && match goal {
                Goal::P99Ms(ms) => p99 * 1000.0 <= ms,
                Goal::P99OverP50(ratio) => p99 <= p50 * ratio,
            }
    }
}

fn main() {
    actix_web::rt::System::new().block_on(run());
}

fn scenarios() -> [Scenario; 7] {
    let scenario = |name, request, requests, concurrency, goal| Scenario {
        name,
        request,
        requests,
        concurrency,
        goal,
    };
    [
        scenario(
            "Okta lookup: GET /Users?filter=userName eq",
            Request::Lookup,
            4_000,
            16,
            Goal::P99Ms(50.0),
        ),
        scenario(
            "Unindexed: ?filter=name.familyName eq",
            Request::DocumentLookup,
            1_000,
            16,
            Goal::P99Ms(250.0),
        ),
        scenario(
            "Test API Credentials: GET /Users?count=2",
            Request::List,
            4_000,
            16,
            Goal::P99Ms(50.0),
        ),
        scenario(
            "Deactivate/reactivate: PATCH /Users/{id}",
            Request::Patch,
            2 * USERS,
            16,
            Goal::P99Ms(100.0),
        ),
        scenario(
            "Group Push: PATCH /Groups/{id} add member",
            Request::AddMember,
            2_000,
            16,
            Goal::P99Ms(100.0),
        ),
        scenario(
            "32 at once: POST /Users",
            Request::Create,
            2_000,
            32,
            Goal::P99OverP50(10.0),
        ),
        scenario(
            "32 at once: PATCH /Users/{one user}",
            Request::PatchOne,
            2_000,
            32,
            Goal::P99OverP50(10.0),
        ),
    ]
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
    let (key, token) = workspace(&state.use_cases).await;
    let ids = Rc::new(seed_users(&db, &state.use_cases, &key).await);
    let group = create(
        &server.url(&format!("/scim/v2/{key}/Groups")),
        &token,
        &json!({"displayName": "Everyone"}),
    )
    .await;
    let target = Target {
        base: server.url(&format!("/scim/v2/{key}")),
        token,
        group,
        ids,
    };
    println!("backend: {:?}; {USERS} users\n", db.store.backend());
    println!(
        "{:<44} {:>8} {:>4} {:>8} {:>8} {:>8} {:>6} {:>12}",
        "scenario", "requests", "at", "req/s", "p50 ms", "p99 ms", "errors", "goal"
    );
    let mut missed = Vec::new();
    for scenario in scenarios() {
        // Warm the caches (the token is verified once) before measuring.
        measure(&target, Request::List, 50, 16).await;
        let outcome = measure(
            &target,
            scenario.request,
            scenario.requests,
            scenario.concurrency,
        )
        .await;
        let met = outcome.meets(scenario.goal);
        let goal = match scenario.goal {
            Goal::P99Ms(ms) => format!("p99≤{ms:.0}ms"),
            Goal::P99OverP50(ratio) => format!("p99≤{ratio:.0}×p50"),
        };
        println!(
            "{:<44} {:>8} {:>4} {:>8.0} {:>8.2} {:>8.2} {:>6} {:>12} {}",
            scenario.name,
            scenario.requests,
            scenario.concurrency,
            outcome.per_second,
            outcome.p50.as_secs_f64() * 1000.0,
            outcome.p99.as_secs_f64() * 1000.0,
            outcome.errors,
            goal,
            if met { "ok" } else { "MISSED" }
        );
        if !met {
            missed.push(scenario.name);
        }
    }
    println!(
        "\nargon2 verifications of the token over every request: {}",
        state.use_cases.auth.argon2_runs()
    );
    if !missed.is_empty() && std::env::var("BENCH_STRICT").is_ok_and(|v| v == "1") {
        eprintln!("goals missed: {missed:?}");
        std::process::exit(1);
    }
}

/// A Premium workspace without a rate limit (nothing gets in the way of measuring the service
/// itself), and a token for it.
async fn workspace(use_cases: &UseCases) -> (String, String) {
    let operator = Caller::operator();
    let new = NewWorkspace {
        name: WorkspaceName::parse("Bench").unwrap(),
        plan: Plan::Premium,
        sso_enabled: true,
        seats: None,
    };
    let workspace = use_cases.create_workspace(&operator, new).await.unwrap();
    let key = workspace.key.as_str().to_owned();
    let unlimited = json!({"requests_per_second": 0, "burst": 0});
    let update = WorkspaceUpdate {
        overrides: Some((Some(serde_json::from_value(unlimited).unwrap()), None)),
        ..WorkspaceUpdate::default()
    };
    use_cases
        .update_workspace(&operator, &key, update)
        .await
        .unwrap();
    let label = PlainText::parse("label", "bench", 100).unwrap();
    let token = use_cases
        .issue_token(&operator, &key, label, None)
        .await
        .unwrap();
    (key, token.plaintext)
}

/// `USERS` users written straight to the store, for the look-ups to search.
async fn seed_users(db: &TestDb, use_cases: &UseCases, key: &str) -> Vec<String> {
    let workspace = use_cases.find_workspace(key).await.unwrap();
    db.store
        .write(workspace.id, |tx| {
            (0..USERS)
                .map(|n| {
                    let draft = UserDraft::from_scim(&json!({
                        "userName": format!("user{n}@bench.example"),
                        "name": {"givenName": "Bench", "familyName": format!("User {n}")},
                        "emails": [{"value": format!("user{n}@bench.example"), "primary": true}],
                    }))
                    .unwrap();
                    Ok(users::insert(tx, &draft, None)?.id.to_string())
                })
                .collect::<Result<Vec<_>, webwork_scim_persistence::StoreError>>()
        })
        .unwrap()
}

async fn create(url: &str, token: &str, body: &Value) -> String {
    let mut response = client()
        .post(url)
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(body)
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let body: Value = response.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

#[derive(Clone, Copy)]
enum Request {
    Lookup,
    /// A filter on an attribute without a column: read from every user's folded document.
    DocumentLookup,
    List,
    Patch,
    AddMember,
    Create,
    PatchOne,
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

/// Sends `requests` requests, `concurrency` at a time; counts the answers that are no success.
async fn measure(
    target: &Target,
    request: Request,
    requests: usize,
    concurrency: usize,
) -> Outcome {
    let latencies = Rc::new(RefCell::new(Vec::with_capacity(requests)));
    let errors = Rc::new(RefCell::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|worker| {
            let (target, latencies, errors) = (target.clone(), latencies.clone(), errors.clone());
            actix_web::rt::spawn(async move {
                let client = client();
                let mut n = worker;
                while n < requests {
                    let sent = Instant::now();
                    if send(&client, &target, request, n).await >= 300 {
                        *errors.borrow_mut() += 1;
                    }
                    latencies.borrow_mut().push(sent.elapsed());
                    n += concurrency;
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
    let errors = *errors.borrow();
    Outcome {
        per_second: requests as f64 / elapsed.as_secs_f64(),
        p50: at(0.50),
        p99: at(0.99),
        errors,
    }
}

fn patch(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

async fn send(client: &awc::Client, target: &Target, request: Request, n: usize) -> u16 {
    let auth = ("Authorization", format!("Bearer {}", target.token));
    let user = &target.ids[n % target.ids.len()];
    let response = match request {
        Request::Lookup => {
            let url = format!(
                "{}/Users?filter=userName%20eq%20%22user{}%40bench.example%22&startIndex=1&count=100",
                target.base,
                n % USERS
            );
            client.get(url).insert_header(auth).send().await
        }
        Request::DocumentLookup => {
            let url = format!(
                "{}/Users?filter=name.familyName%20eq%20%22USER%20{}%22",
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
            let body = patch(json!([{"op": "replace", "value": {"active": active}}]));
            let url = format!("{}/Users/{user}", target.base);
            client.patch(url).insert_header(auth).send_json(&body).await
        }
        Request::AddMember => {
            let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": user}]}]));
            let url = format!("{}/Groups/{}", target.base, target.group);
            client.patch(url).insert_header(auth).send_json(&body).await
        }
        Request::Create => {
            let name = format!("created{n}@bench.example");
            let body = json!({"userName": name, "emails": [{"value": name, "primary": true}]});
            let url = format!("{}/Users", target.base);
            client.post(url).insert_header(auth).send_json(&body).await
        }
        Request::PatchOne => {
            // Every request changes the same user: half toggle `active`, half its title.
            let operation = if n % 2 == 0 {
                json!({"op": "replace", "value": {"active": n % 4 == 0}})
            } else {
                json!({"op": "replace", "path": "title", "value": format!("title {n}")})
            };
            let url = format!("{}/Users/{}", target.base, target.ids[0]);
            client
                .patch(url)
                .insert_header(auth)
                .send_json(&patch(json!([operation])))
                .await
        }
    };
    response.map_or(0, |r| r.status().as_u16())
}
