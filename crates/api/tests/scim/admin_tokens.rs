//! The admin API's token lifecycle: issued once, listed without secrets, rotated, revoked,
//! expiring, and capped by the plan.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use crate::admin_api::{api, assert_problem, ws_path};
use crate::support::*;

#[actix_web::test]
async fn tokens_are_issued_once_listed_without_secrets_rotated_and_revoked() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    let jwt = admin_of(&ws);
    let issued = api(
        &app,
        Method::POST,
        &ws_path(&ws, "/tokens"),
        &jwt,
        Some(json!({"label": "okta"})),
    )
    .await;
    assert_eq!(issued.status, StatusCode::CREATED, "{}", issued.body);
    let token = issued.body["token"].as_str().unwrap().to_owned();
    assert_eq!(
        issued.body["scim_base_url"],
        json!(format!("{BASE}/scim/v2/{}", ws.key))
    );
    assert_eq!(app.get(&users(&ws), &token).await.status, StatusCode::OK);

    let listed = api(&app, Method::GET, &ws_path(&ws, "/tokens"), &jwt, None)
        .await
        .body;
    let text = listed.to_string();
    assert!(
        !text.contains(&token[20..]) && !text.contains("argon2"),
        "no secret, no hash"
    );
    let id = issued.body["id"].as_str().unwrap();
    let entry = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .unwrap()
        .clone();
    assert_eq!(entry["label"], "okta");
    assert!(
        entry["last_used_at"].is_string(),
        "the use above was recorded"
    );
    assert!(entry.get("token").is_none());

    // Rotation: a new token, and the old one keeps working through the grace period.
    let rotated = api(
        &app,
        Method::POST,
        &ws_path(&ws, &format!("/tokens/{id}/rotate")),
        &jwt,
        Some(json!({"grace_seconds": 3600})),
    )
    .await;
    assert_eq!(rotated.status, StatusCode::CREATED, "{}", rotated.body);
    let new_token = rotated.body["token"].as_str().unwrap().to_owned();
    assert!(rotated.body["replaces"]["expires_at"].is_string());
    assert_eq!(rotated.body["replaces"]["expiring_soon"], json!(true));
    assert_eq!(
        app.get(&users(&ws), &token).await.status,
        StatusCode::OK,
        "old token in grace"
    );
    assert_eq!(
        app.get(&users(&ws), &new_token).await.status,
        StatusCode::OK
    );

    // Revocation is immediate on this replica, even with the token cached.
    let revoked = api(
        &app,
        Method::DELETE,
        &ws_path(&ws, &format!("/tokens/{id}")),
        &jwt,
        None,
    )
    .await;
    assert!(revoked.body["revoked_at"].is_string());
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(401, None);
    assert_eq!(
        app.get(&users(&ws), &new_token).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn tokens_with_expiry_are_flagged_and_expire() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    let soon = (time::OffsetDateTime::now_utc() + time::Duration::days(3))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let issued = api(
        &app,
        Method::POST,
        &ws_path(&ws, "/tokens"),
        &admin_of(&ws),
        Some(json!({"expires_at": soon})),
    )
    .await;
    assert_eq!(issued.body["expiring_soon"], json!(true));
    let past = api(
        &app,
        Method::POST,
        &ws_path(&ws, "/tokens"),
        &admin_of(&ws),
        Some(json!({"expires_at": "2020-01-01T00:00:00Z"})),
    )
    .await;
    assert_problem(&past, 400);
}

#[actix_web::test]
async fn the_active_token_count_is_capped_by_the_plan() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    let mut last = None;
    for _ in 0..5 {
        last = Some(
            api(
                &app,
                Method::POST,
                &ws_path(&ws, "/tokens"),
                &admin_of(&ws),
                Some(json!({})),
            )
            .await,
        );
    }
    let last = last.unwrap();
    assert_problem(&last, 409);
    assert!(last.body["detail"].as_str().unwrap().contains("revoke one"));
}
