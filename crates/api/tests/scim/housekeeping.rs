//! Retention purges and the count of tokens about to expire.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use time::OffsetDateTime;
use webwork_scim_api::usecases::Caller;
use webwork_scim_api::usecases::housekeeping::{self as retention, Retention};
use webwork_scim_persistence::audit::{self, LogQuery};

use crate::support::*;

fn keep_for(days: u64) -> Retention {
    let span = Duration::from_secs(days * 24 * 3600);
    Retention {
        audit: span,
        errors: span,
        deleted_users: span,
        deleted_workspaces: span,
        delivered_events: span,
    }
}

#[actix_web::test]
async fn retention_purges_only_what_is_older_than_configured() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.delete(&user(&ws, &id), &token).await.expect(204);
    let (gone, _) = app.premium("Gone").await;
    app.use_cases()
        .delete_workspace(&Caller::operator(), gone.key.as_str())
        .await
        .unwrap();

    let now = OffsetDateTime::now_utc();
    let kept = retention::purge(&app.db.store, &keep_for(30), now).unwrap();
    assert_eq!(
        kept,
        retention::Purged::default(),
        "nothing is old enough yet"
    );

    let later = now + time::Duration::days(31);
    let purged = retention::purge(&app.db.store, &keep_for(30), later).unwrap();
    assert!(purged.audit_events >= 3, "{purged:?}");
    assert_eq!((purged.user_tombstones, purged.workspaces), (1, 1));
    let left = app
        .db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert!(left.is_empty());
    assert_eq!(
        app.get(&users(&ws), &token).await.status,
        StatusCode::OK,
        "live data stays"
    );
}

#[actix_web::test]
async fn tokens_about_to_expire_are_counted_and_exported_as_a_metric() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    let soon = (OffsetDateTime::now_utc() + time::Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let path = format!("/api/v1/workspaces/{}/tokens", ws.key);
    app.call(
        Method::POST,
        &path,
        Some(&admin_of(&ws)),
        Some(&json!({"expires_at": soon})),
    )
    .await
    .expect(201);
    let now = OffsetDateTime::now_utc();
    let fortnight = Duration::from_secs(14 * 24 * 3600);
    assert_eq!(
        retention::tokens_expiring(&app.db.store, now, fortnight).unwrap(),
        1
    );
    assert_eq!(
        retention::tokens_expiring(&app.db.store, now, Duration::from_secs(3600)).unwrap(),
        0
    );
    // A rotation sets the old token's end to the grace period; the new token replaces it, so the
    // end of that grace is no warning.
    let listed = app
        .call(Method::GET, &path, Some(&admin_of(&ws)), None)
        .await;
    let expiring = listed.body["items"]
        .as_array()
        .or(listed.body.as_array())
        .unwrap()
        .iter()
        .find(|t| t["expires_at"].is_string())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rotated = app
        .call(
            Method::POST,
            &format!("{path}/{expiring}/rotate"),
            Some(&admin_of(&ws)),
            Some(&json!({})),
        )
        .await;
    assert!(rotated.status.is_success(), "{}", rotated.body);
    assert_eq!(
        retention::tokens_expiring(&app.db.store, now, fortnight).unwrap(),
        0,
        "a rotated token is not about to expire"
    );
    let successor = rotated.body["id"].as_str().unwrap().to_owned();
    let revoked = app
        .call(
            Method::DELETE,
            &format!("{path}/{successor}"),
            Some(&admin_of(&ws)),
            None,
        )
        .await;
    assert!(revoked.status.is_success(), "{}", revoked.body);
    assert_eq!(
        retention::tokens_expiring(&app.db.store, now, fortnight).unwrap(),
        1,
        "with its successor revoked, the rotated token is what the IdP depends on again"
    );
    app.state.metrics.tokens_expiring_soon.set(1);
    let metrics = app.call(Method::GET, "/metrics", None, None).await;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert!(
        text.contains("webwork_scim_tokens_expiring_soon 1"),
        "{text}"
    );
}
