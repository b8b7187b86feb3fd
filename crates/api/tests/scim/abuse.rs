//! Requests built to monopolise the service: each costs work in proportion to what is stored,
//! and while many run, another workspace is answered as usual.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

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
    // Reading and parsing the megabyte of JSON is most of it.
    eprintln!("{spent:?} of CPU time");
    assert!(spent <= Duration::from_millis(100), "{spent:?} of CPU time");
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
    let body = hostile_patch();
    let path = user(&attacker, &target);
    let hostile = join_all((0..50).map(|_| app.patch(&path, &attacker_token, &body)));
    let lookups = async {
        let mut answers = Vec::new();
        for _ in 0..20 {
            let lookup = format!("{}?filter=userName%20eq%20%22jane@acme.com%22", users(&ws));
            answers.push(app.get(&lookup, &token).await);
        }
        answers
    };
    let (refusals, answers) = futures_join(hostile, lookups).await;
    assert!(refusals.iter().all(|r| r.status == StatusCode::BAD_REQUEST));
    for answer in answers {
        assert_eq!(answer.body["totalResults"], 1, "{}", answer.body);
    }
}
