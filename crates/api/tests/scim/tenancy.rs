//! Tokens, plans and the wall between workspaces.

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use webwork_scim_domain::Plan;

use crate::support::*;

/// Billing moves the workspace to `plan` through this replica's admin API.
pub async fn set_plan(app: &TestApp, ws: &webwork_scim_domain::Workspace, plan: Plan) {
    let path = format!("/api/v1/workspaces/{}/plan", ws.key);
    let response = app
        .call(
            Method::PUT,
            &path,
            Some(&platform()),
            Some(&json!({"plan": plan.as_str()})),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[actix_web::test]
async fn missing_malformed_and_wrong_tokens_get_the_same_401() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let wrong_secret = format!("{}{}", &token[..token.len() - 4], "0000");
    let cases: [Option<&str>; 4] = [
        None,
        Some("not-a-token"),
        Some(&wrong_secret),
        Some(
            "wwscim_0123456789ab_0000000000000000000000000000000000000000000000000000000000000000",
        ),
    ];
    let mut bodies = Vec::new();
    for bearer in cases {
        let response = app.call(Method::GET, &users(&ws), bearer, None).await;
        response.assert_scim_error(401, None);
        assert!(
            response
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer"))
        );
        bodies.push(response.body);
    }
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "all 401s alike"
    );
}

#[actix_web::test]
async fn unknown_workspace_keys_look_like_bad_tokens() {
    let app = TestApp::start().await;
    let (_, token) = app.premium("Acme").await;
    for key in ["no-such-workspace", "Not_A_Key"] {
        app.get(&format!("/scim/v2/{key}/Users"), &token)
            .await
            .assert_scim_error(401, None);
    }
}

#[actix_web::test]
async fn a_token_works_only_on_its_own_workspace() {
    let app = TestApp::start().await;
    let (a, _) = app.premium("Acme").await;
    let (_, b_token) = app.premium("Globex").await;
    app.get(&users(&a), &b_token)
        .await
        .assert_scim_error(401, None);
    app.post(&users(&a), &b_token, &okta_user("x@acme.com"))
        .await
        .assert_scim_error(401, None);
}

#[actix_web::test]
async fn another_workspaces_ids_are_404_and_untouched() {
    let app = TestApp::start().await;
    let (a, a_token) = app.premium("Acme").await;
    let (b, b_token) = app.premium("Globex").await;
    let created = app.create_user(&a, &a_token, "jane@acme.com").await;
    let id = id_of(&created);
    app.get(&user(&b, &id), &b_token)
        .await
        .assert_scim_error(404, None);
    app.put(&user(&b, &id), &b_token, &okta_user("evil@globex.com"))
        .await
        .assert_scim_error(404, None);
    app.patch(&user(&b, &id), &b_token, &patch_active(false))
        .await
        .assert_scim_error(404, None);
    app.delete(&user(&b, &id), &b_token)
        .await
        .assert_scim_error(404, None);
    let filter = format!("{}?filter=id+eq+%22{id}%22", users(&b));
    assert_eq!(
        app.get(&filter, &b_token).await.body["totalResults"],
        json!(0)
    );
    assert_eq!(app.get(&user(&a, &id), &a_token).await.body, created);
}

#[actix_web::test]
async fn the_same_user_name_may_live_in_two_workspaces() {
    let app = TestApp::start().await;
    let (a, a_token) = app.premium("Acme").await;
    let (b, b_token) = app.premium("Globex").await;
    let in_a = app.create_user(&a, &a_token, "jane@example.com").await;
    let in_b = app.create_user(&b, &b_token, "jane@example.com").await;
    assert_ne!(id_of(&in_a), id_of(&in_b));
}

#[actix_web::test]
async fn a_revoked_token_is_refused_at_once_even_when_cached() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    assert_eq!(app.get(&users(&ws), &token).await.status, StatusCode::OK);
    let listed = app.use_cases().list_tokens(ws.key.as_str()).await.unwrap();
    let revoke = format!("/api/v1/workspaces/{}/tokens/{}", ws.key, listed[0].id);
    let revoked = app
        .call(Method::DELETE, &revoke, Some(&admin_of(&ws)), None)
        .await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(401, None);
    let fresh = app.token(&ws).await;
    assert_eq!(app.get(&users(&ws), &fresh).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn workspaces_without_premium_get_403_naming_the_plan() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for plan in [Plan::Pro, Plan::Free] {
        set_plan(&app, &ws, plan).await;
        let response = app.get(&users(&ws), &token).await;
        response.assert_scim_error(403, None);
        assert!(
            response.body["detail"]
                .as_str()
                .unwrap()
                .contains("Premium")
        );
    }
}

#[actix_web::test]
async fn downgrade_keeps_data_and_upgrade_restores_access() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let created = app.create_user(&ws, &token, "jane@acme.com").await;
    let id = id_of(&created);
    set_plan(&app, &ws, Plan::Pro).await;
    app.get(&user(&ws, &id), &token)
        .await
        .assert_scim_error(403, None);
    app.post(&users(&ws), &token, &okta_user("bob@acme.com"))
        .await
        .assert_scim_error(403, None);
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .assert_scim_error(403, None);
    set_plan(&app, &ws, Plan::Premium).await;
    assert_eq!(
        app.get(&user(&ws, &id), &token).await.body,
        created,
        "data kept, nothing changed"
    );
    assert_eq!(
        app.get(&users(&ws), &token).await.body["totalResults"],
        json!(1)
    );
    app.create_user(&ws, &token, "bob@acme.com").await;
    set_plan(&app, &ws, Plan::Enterprise).await;
    assert_eq!(
        app.get(&users(&ws), &token).await.body["totalResults"],
        json!(2)
    );
}

#[actix_web::test]
async fn tokens_are_stored_only_as_argon2id_hashes() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let prefix = token.split('_').nth(1).unwrap().to_owned();
    let secret = token.split('_').nth(2).unwrap().to_owned();
    let stored = app
        .db
        .store
        .read(ws.id, |tx| {
            webwork_scim_persistence::tokens::find_by_prefix(tx, &prefix)
        })
        .unwrap()
        .unwrap();
    assert!(
        stored
            .secret_hash
            .starts_with("$argon2id$v=19$m=19456,t=2,p=1$")
    );
    assert!(!stored.secret_hash.contains(&secret));
}

#[actix_web::test]
async fn argon2_runs_once_per_token_however_many_requests_arrive() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let before = app.use_cases().auth.argon2_runs();
    let path = users(&ws);
    let requests = (0..8).map(|_| app.get(&path, &token));
    for response in join_all(requests).await {
        assert_eq!(response.status, StatusCode::OK);
    }
    for _ in 0..4 {
        assert_eq!(app.get(&path, &token).await.status, StatusCode::OK);
    }
    assert_eq!(app.use_cases().auth.argon2_runs() - before, 1);
    // A wrong secret with the same prefix is checked, and never cached.
    let wrong = format!("{}{}", &token[..token.len() - 4], "0000");
    app.get(&path, &wrong).await.assert_scim_error(401, None);
    app.get(&path, &wrong).await.assert_scim_error(401, None);
    assert_eq!(app.use_cases().auth.argon2_runs() - before, 3);
}
