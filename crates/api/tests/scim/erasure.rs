//! Erasure erases: after it, neither the outbox (delivered events included) nor the error log
//! holds the person's name, email or external id, and WebWork's app is told.

use std::time::Duration;

use actix_web::http::Method;
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;
use webwork_scim_persistence::outbox;

use crate::admin_api::{api, ws_path};
use crate::lifecycle::{LONG_LIFE, settings, start_worker};
use crate::receiver::Receiver;
use crate::support::*;

async fn error_details(app: &TestApp, ws: &Workspace) -> Vec<String> {
    let listed = api(
        app,
        Method::GET,
        &ws_path(ws, "/provisioning-errors"),
        &admin_of(ws),
        None,
    )
    .await
    .expect(200);
    listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item["detail"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn erasure_leaves_no_personal_data_in_delivered_events_or_error_logs() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("jane.personal@acme.com");
    body["externalId"] = json!("00uJanePersonal");
    let jane = id_of(&app.post(&users(&ws), &token, &body).await.expect(201));
    app.create_user(&ws, &token, "bob@acme.com").await;
    // Two refused requests quote the names, one in another case.
    app.post(&users(&ws), &token, &okta_user("JANE.Personal@acme.com"))
        .await
        .expect(409);
    let mut another_bob = okta_user("bob@acme.com");
    another_bob["externalId"] = json!("00uAnotherBob");
    app.post(&users(&ws), &token, &another_bob)
        .await
        .expect(409);
    eventually(Duration::from_secs(5), async || {
        error_details(&app, &ws).await.len() == 2 && receiver.types_for(&jane).len() == 2
    })
    .await;

    api(
        &app,
        Method::POST,
        &ws_path(&ws, &format!("/users/{jane}/erase")),
        &platform(),
        None,
    )
    .await
    .expect(204);

    let details = error_details(&app, &ws).await;
    assert_eq!(details.len(), 1, "{details:?}");
    assert!(details[0].contains("bob@acme.com"), "others' errors stay");
    let events = app.db.store.read(ws.id, outbox::list).unwrap();
    let about_jane: Vec<&str> = events
        .iter()
        .filter(|event| event.aggregate_id == jane)
        .map(|event| event.event_type.as_str())
        .collect();
    assert_eq!(about_jane, ["user.erased"], "delivered events are gone too");
    let stored = serde_json::to_string(
        &events
            .iter()
            .map(|e| e.payload.as_str())
            .collect::<Vec<_>>(),
    )
    .unwrap()
    .to_lowercase();
    for personal in ["jane.personal", "00ujanepersonal"] {
        assert!(!stored.contains(personal), "{personal} left in the outbox");
    }
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| {
                r.types_for(&jane).last().map(String::as_str) == Some("user.erased")
            })
            .await
    );
    let erased: Value = receiver
        .deliveries()
        .iter()
        .map(|delivery| delivery.json())
        .find(|event| event["type"] == "user.erased")
        .unwrap();
    assert!(!erased.to_string().to_lowercase().contains("jane.personal"));
    worker.abort();
}
