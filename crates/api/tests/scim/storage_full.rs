//! A database with no room left (SQLite's "database or disk is full"): the change that needs
//! room answers 503 as a database outage, writes nothing, and the service writes again once
//! there is room.

use actix_web::http::StatusCode;
use diesel::connection::SimpleConnection;
use serde_json::json;
use webwork_scim_persistence::{SqliteSettings, Store, StoreError};

use crate::support::*;

/// Holds what the writer thread's connection may use to `pages` (SQLite keeps it at the
/// database's size at least): "1" fills the database as it stands.
async fn limit_pages(store: &Store, workspace: webwork_scim_domain::WorkspaceId, pages: &str) {
    let pragma = format!("PRAGMA max_page_count = {pages}");
    store
        .write_queued(workspace, move |tx| {
            Ok::<_, StoreError>(tx.connection().batch_execute(&pragma)?)
        })
        .await
        .unwrap();
}

#[actix_web::test]
async fn a_full_database_is_a_503_outage_that_writes_nothing_until_there_is_room() {
    let dir = tempfile::tempdir().unwrap();
    let (_, store) = sqlite_store(&dir, SqliteSettings::default());
    let (state, server) = serve_store(store.clone(), test_config());
    let (ws, token) = premium_on(&state.use_cases, "Acme").await;
    let users = format!("/scim/v2/{}/Users", ws.key);
    limit_pages(&store, ws.id, "1").await;

    let mut created = 0;
    let (refused_name, mut refused) = loop {
        assert!(created < 500, "the database never filled up");
        let name = format!("user{created}@acme.com");
        let mut user = okta_user(&name);
        user["emails"] = json!(
            (0..20)
                .map(|n| json!({ "value": format!("{n}.{}.{name}", "x".repeat(150)) }))
                .collect::<Vec<_>>()
        );
        let response = server
            .post(&users)
            .bearer_auth(&token)
            .send_json(&user)
            .await
            .unwrap();
        match response.status() {
            StatusCode::CREATED => created += 1,
            _ => break (name, response),
        }
    };
    assert_eq!(refused.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(refused.headers().contains_key("retry-after"));
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["status"], "503");
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    let metrics = server
        .get("/metrics")
        .send()
        .await
        .unwrap()
        .body()
        .await
        .unwrap();
    let metrics = String::from_utf8_lossy(&metrics);
    assert!(
        metrics
            .lines()
            .any(|line| line.starts_with("webwork_scim_db_unavailable_total")
                && !line.ends_with(" 0")),
        "the full database is counted as an outage"
    );

    assert_eq!(
        users_named(&server, &users, &token, &refused_name).await,
        0,
        "the refused creation wrote nothing"
    );

    limit_pages(&store, ws.id, "4294967294").await;
    let retried = server
        .post(&users)
        .bearer_auth(&token)
        .send_json(&okta_user(&refused_name))
        .await
        .unwrap();
    assert_eq!(retried.status(), StatusCode::CREATED);
}
