//! Deprovisioning never waits on an operator: a receiver outage longer than any fixed number of
//! attempts delays events but kills none, delivery resumes soon after the receiver does, and a
//! deactivated user is refused at login at once whatever the outbox holds.

use std::time::Duration;

use actix_web::http::Method;
use serde_json::json;
use webwork_scim_persistence::outbox;

use crate::lifecycle::{LONG_LIFE, SHORT_LIFE, settings, start_worker};
use crate::receiver::Receiver;
use crate::support::*;

#[actix_web::test]
async fn a_long_receiver_outage_delays_events_without_killing_them() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    receiver.fail(true);
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.patch(&user(&ws, &jane), &token, &patch_active(false))
        .await
        .expect(200);

    // Deactivated while its events wait: the login check refuses her at once.
    let login = json!({"userName": "jane@acme.com", "password": "Okta-Placeholder-1!"});
    let path = format!("/workspaces/{}/credentials/verify", ws.key);
    let verify = app.internal(Method::POST, &path, Some(&login)).await;
    verify.expect(403);
    assert!(receiver.deliveries().is_empty());

    // Past the 12 attempts after which an event used to die.
    let attempts = |app: &TestApp| {
        let events = app.db.store.read(ws.id, outbox::list).unwrap();
        (
            events[0].attempts,
            events.iter().filter(|e| e.dead_at.is_some()).count(),
        )
    };
    eventually(Duration::from_secs(20), async || attempts(&app).0 >= 15).await;
    assert_eq!(attempts(&app).1, 0, "no event is dead");

    receiver.fail(false);
    assert!(
        receiver
            .wait_until(Duration::from_secs(2), |r| r.types_for(&jane).len() == 3)
            .await,
        "delivery resumes within the capped backoff"
    );
    assert_eq!(
        receiver.types_for(&jane),
        ["user.created", "user.password_set", "user.deactivated"]
    );
    worker.abort();
}

#[actix_web::test]
async fn one_call_replays_every_workspaces_dead_events_in_order() {
    let app = TestApp::start().await;
    let receiver = Receiver::start();
    receiver.fail(true);
    let worker = start_worker(&app, settings(&receiver, SHORT_LIFE));
    let (acme, acme_token) = app.premium("Acme").await;
    let (globex, globex_token) = app.premium("Globex").await;
    let jane = id_of(&app.create_user(&acme, &acme_token, "jane@acme.com").await);
    let bob = id_of(
        &app.create_user(&globex, &globex_token, "bob@globex.com")
            .await,
    );
    let dead = |app: &TestApp| {
        [acme.id, globex.id]
            .iter()
            .map(|ws| {
                let events = app.db.store.read(*ws, outbox::list).unwrap();
                events.iter().filter(|e| e.dead_at.is_some()).count()
            })
            .sum::<usize>()
    };
    eventually(Duration::from_secs(5), async || dead(&app) == 2).await;
    worker.abort();

    app.call(
        Method::POST,
        "/api/v1/outbox/replay",
        Some(&admin_of(&acme)),
        None,
    )
    .await
    .expect(403);
    receiver.fail(false);
    let replayed = app
        .call(
            Method::POST,
            "/api/v1/outbox/replay",
            Some(&platform()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(replayed["replayed"], 2);
    let worker = start_worker(&app, settings(&receiver, LONG_LIFE));
    assert!(
        receiver
            .wait_until(Duration::from_secs(5), |r| {
                r.types_for(&jane).len() == 2 && r.types_for(&bob).len() == 2
            })
            .await
    );
    for id in [&jane, &bob] {
        assert_eq!(
            receiver.types_for(id),
            ["user.created", "user.password_set"]
        );
    }
    let audited = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/{}/audit-events?action=outbox.replayed",
                globex.key
            ),
            Some(&platform()),
            None,
        )
        .await
        .expect(200);
    assert_eq!(audited["items"][0]["attributes"], json!(["events:1"]));
    worker.abort();
}
