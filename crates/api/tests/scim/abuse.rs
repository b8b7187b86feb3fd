//! Requests built to monopolise the service: each costs work in proportion to what is stored,
//! and while many run, another workspace is answered as usual.

use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use webwork_scim_domain::Workspace;

use crate::support::*;

/// User and system CPU time this test process has used so far (nextest runs each test in a
/// process of its own).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // The kernel's USER_HZ is 100 on Linux.
    Duration::from_millis(ticks * 10)
}

/// A replace of `emails` with 300,000 empty objects followed by 300 adds to every element's
/// `display`: under a megabyte of JSON.
fn hostile_patch() -> Value {
    let flood: Vec<Value> = (0..300_000).map(|_| json!({})).collect();
    let mut ops = vec![json!({"op": "replace", "path": "emails", "value": flood})];
    ops.extend(
        (0..300).map(|n| json!({"op": "add", "path": "emails.display", "value": format!("{n}")})),
    );
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

#[actix_web::test]
async fn a_patch_that_would_build_a_huge_document_is_refused_at_once() {
    let app = TestApp::start_with(|config| config.max_body_bytes = 1024 * 1024).await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let body = hostile_patch().to_string();
    let before = cpu_time();
    let refused = app
        .call_raw(
            Method::PATCH,
            &user(&ws, &id),
            Some(&token),
            Some(&body),
            "application/scim+json",
        )
        .await;
    let spent = cpu_time() - before;
    refused.assert_scim_error(400, Some("invalidValue"));
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("more than 100 values"),
        "{}",
        refused.body
    );
    // Reading and parsing the megabyte of JSON is most of it: 60 to 110 ms of the whole
    // process (server, client and background tasks, in 10 ms ticks) on a 2-core machine, where
    // building the document the PATCH asks for took seconds.
    eprintln!("{spent:?} of CPU time");
    assert!(spent <= Duration::from_millis(150), "{spent:?} of CPU time");
    let stored = app.get(&user(&ws, &id), &token).await.expect(200);
    assert_eq!(stored["emails"].as_array().map(Vec::len), Some(1));
}

#[actix_web::test]
async fn fifty_hostile_patches_leave_another_workspaces_lookups_answered() {
    let app = TestApp::start_with(|config| config.max_body_bytes = 1024 * 1024).await;
    let (attacker, attacker_token) = app.premium("Mallory").await;
    let (ws, token) = app.premium("Acme").await;
    let target = id_of(
        &app.create_user(&attacker, &attacker_token, "m@mallory.io")
            .await,
    );
    app.create_user(&ws, &token, "jane@acme.com").await;
    let body = hostile_patch().to_string();
    // The attacker's megabytes take their time to upload and parse; it waits as long as it must.
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(Duration::from_secs(120))
        .finish();
    let url = app.server.url(&user(&attacker, &target));
    let hostile = join_all((0..50).map(|_| {
        let request = client
            .patch(url.clone())
            .insert_header(("Authorization", format!("Bearer {attacker_token}")))
            .insert_header(("Content-Type", "application/scim+json"));
        let body = body.clone();
        async move { request.send_body(body).await.map(|r| r.status()).ok() }
    }));
    let lookups = async {
        let mut answers = Vec::new();
        for _ in 0..20 {
            let lookup = format!("{}?filter=userName%20eq%20%22jane@acme.com%22", users(&ws));
            answers.push(app.get(&lookup, &token).await);
        }
        answers
    };
    let (refusals, answers) = futures_join(hostile, lookups).await;
    assert!(
        refusals.iter().all(|r| *r == Some(StatusCode::BAD_REQUEST)),
        "{refusals:?}"
    );
    for answer in answers {
        assert_eq!(answer.body["totalResults"], 1, "{}", answer.body);
    }
}

/// The slowest of `samples` (p99 of a few dozen is their maximum, near enough).
fn p99(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[(samples.len() * 99).div_ceil(100) - 1]
}

/// One cold-cache SCIM request and one credential check of workspace `ws`, each timed.
async fn probe(app: &TestApp, ws: &Workspace, token: &str) -> (Duration, Duration) {
    let started = Instant::now();
    let listed = app.get(&format!("{}?count=1", users(ws)), token).await;
    let scim = started.elapsed();
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let login = json!({"userName": "jane@globex.io", "password": "Correct-Horse-9"});
    let started = Instant::now();
    let path = format!("/workspaces/{}/credentials/verify", ws.key);
    let checked = app.internal(Method::POST, &path, Some(&login)).await;
    let check = started.elapsed();
    assert_eq!(checked.status, StatusCode::OK, "{}", checked.body);
    (scim, check)
}

async fn probes(app: &TestApp, ws: &Workspace, token: &str, rounds: usize) -> (Duration, Duration) {
    let (mut scim, mut checks) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (one, other) = probe(app, ws, token).await;
        scim.push(one);
        checks.push(other);
    }
    (p99(&mut scim), p99(&mut checks))
}

#[actix_web::test]
async fn wrong_secrets_hammering_one_workspace_leave_anothers_argon2_work_on_time() {
    // Every token check of Globex runs argon2 (nothing is trusted from a cache), and the
    // throttle lets 300 of Acme's wrong secrets reach argon2 so that they keep it busy.
    let app = TestApp::start_with(|config| {
        config.token_cache_ttl = Duration::ZERO;
        config.failed_auth_per_prefix = 300;
        config.argon2_workers = 2;
    })
    .await;
    let (acme, acme_token) = app.premium("Acme").await;
    let (globex, globex_token) = app.premium("Globex").await;
    let mut jane = okta_user("jane@globex.io");
    jane["password"] = json!("Correct-Horse-9");
    app.post(&users(&globex), &globex_token, &jane)
        .await
        .expect(201);
    let (idle_scim, idle_check) = probes(&app, &globex, &globex_token, 20).await;

    // The real prefix of Acme's token with 2,000 different wrong secrets, all at once, each on a
    // connection of its own.
    let prefix = acme_token.split('_').nth(1).unwrap().to_owned();
    let attacker = awc::Client::builder()
        .connector(awc::Connector::new().limit(0))
        .timeout(Duration::from_secs(120))
        .finish();
    let url = app.server.url(&format!("{}?count=1", users(&acme)));
    let attack = join_all((0..2000).map(|n| {
        let request = attacker
            .get(url.clone())
            .insert_header(("Authorization", format!("Bearer wwscim_{prefix}_{n:064x}")));
        async move {
            let status = request.send().await.map(|r| r.status().as_u16()).ok();
            (status, Instant::now())
        }
    }));
    let measured = async {
        // Once the attack's connections are open and its argon2 runs under way.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let p99s = probes(&app, &globex, &globex_token, 20).await;
        (p99s, Instant::now())
    };
    let (answers, ((busy_scim, busy_check), measured_at)) = futures_join(attack, measured).await;

    let refused = |code: u16| answers.iter().filter(|(s, _)| *s == Some(code)).count();
    assert_eq!(
        refused(401) + refused(429),
        2000,
        "every attempt was refused"
    );
    assert_eq!(
        refused(401),
        300,
        "argon2 ran only for the throttle's slots"
    );
    let still_refusing = answers.iter().filter(|(_, at)| *at > measured_at).count();
    assert!(
        still_refusing > 0,
        "the attack was over before Globex was measured"
    );
    eprintln!(
        "idle p99: token {idle_scim:?}, credentials {idle_check:?}; \
         under attack: token {busy_scim:?}, credentials {busy_check:?}"
    );
    assert!(
        busy_scim < idle_scim * 10,
        "{busy_scim:?} against {idle_scim:?} idle"
    );
    assert!(
        busy_check < idle_check * 10,
        "{busy_check:?} against {idle_check:?} idle"
    );
}
