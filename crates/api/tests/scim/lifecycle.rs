//! Lifecycle events reaching WebWork's app through a real HTTP receiver: signed, in order per
//! user, surviving receiver outages and worker restarts, dead-lettered and replayed.

use std::time::{Duration, Instant};

use actix_web::http::{Method, StatusCode};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use webwork_scim_api::webhooks::{self, WebhookSettings};

use crate::receiver::{Delivery, Receiver};
use crate::support::*;

const SECRET: &[u8] = b"an-example-webhook-secret-32-bytes!!";

/// Events that never die within a test.
pub const LONG_LIFE: Duration = Duration::from_secs(3600);
/// Events that die at their first failed attempt after 50 ms.
pub const SHORT_LIFE: Duration = Duration::from_millis(50);

/// A worker that retries a failed event after 30 ms, then twice as long each time up to 200 ms,
/// until the event is older than `dead_after`.
pub fn settings(receiver: &Receiver, dead_after: Duration) -> WebhookSettings {
    WebhookSettings {
        urls: vec![receiver.url()],
        secret: SECRET.to_vec().into(),
        dead_after,
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(20),
        backoff_base: Duration::from_millis(30),
        max_backoff: Duration::from_millis(200),
        batch: 50,
        tls: None,
    }
}

pub fn start_worker(app: &TestApp, settings: WebhookSettings) -> tokio::task::JoinHandle<()> {
    actix_web::rt::spawn(webhooks::run(app.state.clone(), settings))
}

#[actix_web::test]
async fn okta_deactivation_reaches_the_app_signed_within_two_seconds() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| r.types_for(&id).len() == 2)
            .await
    );
    let patched = Instant::now();
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    let arrived = receiver
        .wait_until(Duration::from_secs(2), |r| {
            r.types_for(&id).contains(&"user.deactivated".to_owned())
        })
        .await;
    assert!(
        arrived,
        "user.deactivated within 2 s (took {:?})",
        patched.elapsed()
    );
    assert_eq!(
        receiver.types_for(&id),
        ["user.created", "user.password_set", "user.deactivated"]
    );
    let deliveries = receiver.deliveries();
    let deactivated = deliveries.last().unwrap();
    // The signature verifies with the shared secret, as WebWork's app checks it.
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(SECRET).unwrap();
    mac.update(
        format!(
            "{}.{}.{}",
            deactivated.id, deactivated.timestamp, deactivated.body
        )
        .as_bytes(),
    );
    let expected = format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    );
    assert_eq!(deactivated.signature, expected);
    let event = deactivated.json();
    assert_eq!(event["id"], json!(deactivated.id));
    assert_eq!(event["data"]["workspace"]["key"], json!(ws.key.as_str()));
    assert_eq!(event["data"]["user"]["active"], json!(false));
    assert_eq!(event["data"]["changed_attributes"], json!(["active"]));
    let created = deliveries[0].json();
    let before = created["data"]["user"]["session_version"].as_i64().unwrap();
    assert!(
        event["data"]["user"]["session_version"].as_i64().unwrap() > before,
        "sessions end"
    );
    worker.abort();
}

#[actix_web::test]
async fn a_receiver_outage_loses_nothing_and_keeps_each_users_order() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    receiver.fail(true);
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let bob = id_of(&app.create_user(&ws, &token, "bob@acme.com").await);
    let retitle = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"title": "Lead"}}]});
    app.patch(&user(&ws, &jane), &token, &retitle)
        .await
        .expect(200);
    app.patch(&user(&ws, &jane), &token, &patch_active(false))
        .await
        .expect(200);
    app.patch(&user(&ws, &jane), &token, &patch_active(true))
        .await
        .expect(200);
    app.delete(&user(&ws, &bob), &token).await.expect(204);
    // Each user's first event was tried and refused; nothing got through.
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| r.refused() >= 2)
            .await
    );
    assert!(receiver.deliveries().is_empty());
    receiver.fail(false);
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |r| r.deliveries().len() == 8)
            .await,
        "{:?}",
        receiver.deliveries().len()
    );
    assert_eq!(
        receiver.types_for(&jane),
        [
            "user.created",
            "user.password_set",
            "user.updated",
            "user.deactivated",
            "user.reactivated"
        ]
    );
    assert_eq!(
        receiver.types_for(&bob),
        ["user.created", "user.password_set", "user.deleted"]
    );
    let ids: std::collections::HashSet<_> =
        receiver.deliveries().iter().map(|d| d.id.clone()).collect();
    assert_eq!(ids.len(), 8, "every event once");
    worker.abort();
}

#[actix_web::test]
async fn a_restarted_worker_resumes_delivery() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    receiver.fail(true);
    // Small batches and a short timeout keep the lease short: a worker stopped between claiming
    // and recording, as a crash can leave it, holds its batch only that long.
    let quick = || WebhookSettings {
        batch: 1,
        timeout: Duration::from_millis(500),
        ..settings(&receiver, LONG_LIFE)
    };
    let first = start_worker(&app, quick());
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| r.refused() >= 1)
            .await
    );
    first.abort();
    receiver.fail(false);
    // The process comes back: a new replica with its own state, on the same database.
    let (second_state, _server) = app.replica(|_| {});
    let second = actix_web::rt::spawn(webhooks::run(second_state, quick()));
    // Usually at once; had the first worker stopped holding a lease, once it expires (10.5 s).
    assert!(
        receiver
            .wait_until(Duration::from_secs(30), |r| r.types_for(&id).len() == 3)
            .await
    );
    assert_eq!(
        receiver.types_for(&id),
        ["user.created", "user.password_set", "user.deactivated"]
    );
    second.abort();
}

#[actix_web::test]
async fn dead_events_wait_for_an_operator_replay() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    receiver.fail(true);
    let worker = start_worker(&app, settings(&receiver, SHORT_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let dead = |app: &TestApp| {
        app.db
            .store
            .read(ws.id, webwork_scim_persistence::outbox::list)
            .unwrap()
            .iter()
            .filter(|e| e.dead_at.is_some())
            .count()
    };
    eventually(Duration::from_secs(5), async || dead(&app) == 1).await;
    worker.abort();
    // One more pass, on its own: the user's later event is not claimed behind the dead one.
    let client = awc::Client::default();
    let pass = webhooks::deliver_batch(&app.state, &settings(&receiver, SHORT_LIFE), &client)
        .await
        .unwrap();
    assert_eq!(pass, webhooks::Pass::default());
    let events = app
        .db
        .store
        .read(ws.id, webwork_scim_persistence::outbox::list)
        .unwrap();
    assert!(
        events[0].dead_at.is_some(),
        "user.created is dead once older than its horizon"
    );
    assert!(
        events[1].dead_at.is_none() && events[1].delivered_at.is_none() && events[1].attempts == 0,
        "the user's later event waits behind the dead one"
    );
    receiver.fail(false);
    let replay = format!("/api/v1/workspaces/{}/outbox/replay", ws.key);
    let replayed = app
        .call(Method::POST, &replay, Some(&platform()), None)
        .await;
    assert_eq!(replayed.status, StatusCode::OK, "{}", replayed.body);
    assert_eq!(replayed.body["replayed"], json!(1));
    let worker = start_worker(&app, settings(&receiver, SHORT_LIFE));
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| r.types_for(&id).len() == 2)
            .await
    );
    assert_eq!(
        receiver.types_for(&id),
        ["user.created", "user.password_set"],
        "order kept"
    );
    assert_eq!(dead(&app), 0);
    let metrics = app.call(Method::GET, "/metrics", None, None).await.body;
    assert!(
        metrics
            .as_str()
            .unwrap()
            .contains("webwork_scim_webhook_failures_total")
    );
    worker.abort();
}

#[actix_web::test]
async fn two_replicas_deliver_each_event_once() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    let (ws, token) = app.premium("Acme").await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(id_of(
            &app.create_user(&ws, &token, &format!("u{i}@acme.com"))
                .await,
        ));
    }
    let (other, _server) = app.replica(|_| {});
    let first = start_worker(&app, settings(&receiver, LONG_LIFE));
    let second = actix_web::rt::spawn(webhooks::run(other.clone(), settings(&receiver, LONG_LIFE)));
    assert!(
        receiver
            .wait_until(Duration::from_secs(10), |r| r.deliveries().len() >= 20)
            .await
    );
    // Both workers stop as in a shutdown: each finishes the batch it holds, then the count is
    // final.
    app.state.status.begin_stopping();
    other.status.begin_stopping();
    first.await.unwrap();
    second.await.unwrap();
    let deliveries = receiver.deliveries();
    let unique: std::collections::HashSet<_> = deliveries.iter().map(|d| d.id.clone()).collect();
    assert_eq!(
        (deliveries.len(), unique.len()),
        (20, 20),
        "each event delivered once"
    );
    for id in &ids {
        assert_eq!(
            receiver.types_for(id),
            ["user.created", "user.password_set"]
        );
    }
}

#[actix_web::test]
async fn group_push_reaches_the_app_as_group_and_membership_events_in_order() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let groups = format!("/scim/v2/{}/Groups", ws.key);
    let id = id_of(
        &app.post(
            &groups,
            &token,
            &json!({"displayName": "Sales", "members": []}),
        )
        .await
        .body,
    );
    let url = format!("{groups}/{id}");
    let op = |operations: Value| json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations});
    app.patch(
        &url,
        &token,
        &op(json!([{"op": "add", "path": "members", "value": [{"value": jane}]}])),
    )
    .await
    .expect(204);
    app.patch(
        &url,
        &token,
        &op(json!([{"op": "replace", "value": {"id": id, "displayName": "Sales EMEA"}}])),
    )
    .await
    .expect(204);
    app.patch(
        &url,
        &token,
        &op(json!([{"op": "remove", "path": format!("members[value eq \"{jane}\"]")}])),
    )
    .await
    .expect(204);
    app.delete(&url, &token).await.expect(204);
    let of_group = |r: &Receiver| -> Vec<Value> {
        r.deliveries()
            .iter()
            .map(Delivery::json)
            .filter(|event| event["data"]["group"]["id"] == json!(id))
            .collect()
    };
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| of_group(r).len() == 5)
            .await,
        "{:?}",
        of_group(&receiver)
    );
    let events = of_group(&receiver);
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "group.created",
            "group.members_added",
            "group.updated",
            "group.members_removed",
            "group.deleted"
        ]
    );
    assert_eq!(events[1]["data"]["members"], json!([jane]));
    assert_eq!(
        events[2]["data"]["changed_attributes"],
        json!(["displayName"])
    );
    assert_eq!(
        events[2]["data"]["group"]["displayName"],
        json!("Sales EMEA")
    );
    assert_eq!(events[3]["data"]["members"], json!([jane]));
    let versions: Vec<i64> = events[..4]
        .iter()
        .map(|e| e["data"]["group"]["version"].as_i64().unwrap())
        .collect();
    assert_eq!(
        versions,
        [1, 2, 3, 4],
        "each event carries the group's version"
    );
    worker.abort();
}

#[actix_web::test]
async fn a_deleted_user_leaves_its_groups_in_each_groups_order() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let group = id_of(
        &app.post(
            &format!("/scim/v2/{}/Groups", ws.key),
            &token,
            &json!({"displayName": "Sales", "members": [{"value": jane}]}),
        )
        .await
        .body,
    );
    app.delete(&user(&ws, &jane), &token).await.expect(204);
    let group_events = |r: &Receiver| -> Vec<(String, Value)> {
        r.deliveries()
            .iter()
            .map(Delivery::json)
            .filter(|event| event["data"]["group"]["id"] == json!(group))
            .map(|event| {
                (
                    event["type"].as_str().unwrap().to_owned(),
                    event["data"]["members"].clone(),
                )
            })
            .collect()
    };
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| group_events(r).len() == 3)
            .await,
        "{:?}",
        group_events(&receiver)
    );
    assert_eq!(
        group_events(&receiver),
        vec![
            ("group.created".to_owned(), Value::Null),
            ("group.members_added".to_owned(), json!([jane])),
            ("group.members_removed".to_owned(), json!([jane])),
        ]
    );
    assert!(
        receiver
            .types_for(&jane)
            .contains(&"user.deleted".to_owned())
    );
    worker.abort();
}
