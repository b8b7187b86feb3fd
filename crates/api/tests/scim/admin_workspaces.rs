//! The admin API for the platform and a workspace's admin: seats, overrides, the audit and error
//! logs, export, erasure, deletion, and what it answers to bad requests.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::admin_api::{api, assert_problem, ws_path};
use crate::support::*;

#[actix_web::test]
async fn seats_limit_active_users_and_inactive_ones_do_not_count() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/seats"),
        &platform(),
        Some(json!({"seats": 2})),
    )
    .await;
    let a = id_of(&app.create_user(&ws, &token, "a@acme.com").await);
    app.create_user(&ws, &token, "b@acme.com").await;
    let full = app
        .post(&users(&ws), &token, &okta_user("c@acme.com"))
        .await;
    full.assert_scim_error(403, None);
    assert_eq!(full.body["detail"], "seat limit reached: 2 of 2");
    let mut inactive = okta_user("d@acme.com");
    inactive["active"] = json!(false);
    assert_eq!(
        app.post(&users(&ws), &token, &inactive).await.status,
        StatusCode::CREATED,
        "inactive users take no seat"
    );
    app.patch(&user(&ws, &a), &token, &patch_active(false))
        .await
        .expect(200);
    app.create_user(&ws, &token, "c@acme.com").await;
    let reactivate = app.patch(&user(&ws, &a), &token, &patch_active(true)).await;
    reactivate.assert_scim_error(403, None);
    // Okta's PUT carries `"active": true`: of an inactive user, it is a reactivation too.
    let replace = app
        .put(&user(&ws, &a), &token, &okta_user("a@acme.com"))
        .await;
    replace.assert_scim_error(403, None);
    assert_eq!(
        app.get(&user(&ws, &a), &token).await.body["active"],
        json!(false),
        "nothing written"
    );
    let page = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/sso"),
        &admin_of(&ws),
        None,
    )
    .await
    .body;
    assert_eq!(
        (page["seats_used"].clone(), page["seats_bought"].clone()),
        (json!(2), json!(2))
    );
}

#[actix_web::test]
async fn an_expiring_override_grants_a_premium_trial() {
    let app = TestApp::start().await;
    let ws = app.workspace("Acme", webwork_scim_domain::Plan::Pro).await;
    let until = (time::OffsetDateTime::now_utc() + time::Duration::days(14))
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let trial = api(&app, Method::PUT, &ws_path(&ws, "/entitlement-overrides"), &platform(),
        Some(json!({"overrides": {"scim_provisioning": true, "max_active_tokens": 1}, "expires_at": until}))).await;
    assert_eq!(trial.status, StatusCode::OK, "{}", trial.body);
    assert_eq!(trial.body["entitlements"]["scim_provisioning"], json!(true));
    let token = app.token(&ws).await;
    assert_eq!(app.get(&users(&ws), &token).await.status, StatusCode::OK);
    let expired = api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/entitlement-overrides"),
        &platform(),
        Some(
            json!({"overrides": {"scim_provisioning": true}, "expires_at": "2020-01-01T00:00:00Z"}),
        ),
    )
    .await;
    assert_eq!(
        expired.body["entitlements"]["scim_provisioning"],
        json!(false)
    );
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(403, None);
    let bad = api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/entitlement-overrides"),
        &platform(),
        Some(json!({"overrides": {"unknown": 1}})),
    )
    .await;
    assert_problem(&bad, 400);
}

#[actix_web::test]
async fn every_change_is_audited_with_attribute_names_only() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    let mut body = app.get(&user(&ws, &id), &token).await.body;
    body["title"] = json!("Secret Title");
    app.put(&user(&ws, &id), &token, &body).await.expect(200);
    app.delete(&user(&ws, &id), &token).await.expect(204);
    let log = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/audit-events?limit=50"),
        &admin_of(&ws),
        None,
    )
    .await
    .body;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        &actions[..5],
        [
            "user.deleted",
            "user.updated",
            "user.deactivated",
            "user.password_set",
            "user.created"
        ]
    );
    let text = log.to_string();
    assert!(
        !text.contains("Secret Title") && !text.contains("Okta-Placeholder"),
        "names, never values"
    );
    let updated = &log["items"][1];
    assert_eq!(updated["attributes"], json!(["title"]));
    assert!(updated["actor"].as_str().unwrap().starts_with("token:"));
    assert!(updated["request_id"].is_string());
    let only = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/audit-events?action=user.created"),
        &admin_of(&ws),
        None,
    )
    .await
    .body;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
    let page = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/audit-events?limit=2"),
        &admin_of(&ws),
        None,
    )
    .await
    .body;
    let before = page["next_before"].as_str().unwrap();
    let next = api(
        &app,
        Method::GET,
        &ws_path(&ws, &format!("/audit-events?limit=2&before={before}")),
        &admin_of(&ws),
        None,
    )
    .await
    .body;
    assert_eq!(next["items"][0]["action"], "user.deactivated");
}

#[actix_web::test]
async fn failed_provisioning_requests_are_listed_for_support() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "jane@acme.com").await;
    // Another person of the same name: a conflict, not a retry.
    let mut another = okta_user("jane@acme.com");
    another["externalId"] = json!("00u2another");
    app.post(&users(&ws), &token, &another).await.expect(409);
    app.get(&format!("{}?filter=nosuch+eq+%22x%22", users(&ws)), &token)
        .await
        .expect(400);
    // The error log is written in the background: wait for both entries.
    let errors = std::cell::RefCell::new(Value::Null);
    eventually(std::time::Duration::from_secs(5), async || {
        let listed = api(
            &app,
            Method::GET,
            &ws_path(&ws, "/provisioning-errors"),
            &admin_of(&ws),
            None,
        )
        .await
        .body;
        let logged = listed["items"]
            .as_array()
            .is_some_and(|items| items.len() >= 2);
        *errors.borrow_mut() = listed;
        logged
    })
    .await;
    let errors = errors.into_inner();
    let items = errors["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{errors}");
    assert_eq!(items[0]["status"], json!(400));
    assert_eq!(items[0]["scim_type"], "invalidFilter");
    assert_eq!(items[1]["status"], json!(409));
    assert_eq!(items[1]["route"], "/scim/v2/{workspace}/Users");
    assert!(
        items[1]["detail"]
            .as_str()
            .unwrap()
            .contains("already taken")
    );
    assert!(
        !errors.to_string().contains("Okta-Placeholder"),
        "never bodies"
    );
}

#[actix_web::test]
async fn export_erase_and_delete() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.create_user(&ws, &token, "bob@acme.com").await;
    let group = id_of(
        &app.post(
            &format!("/scim/v2/{}/Groups", ws.key),
            &token,
            &json!({"displayName": "Sales", "members": [{"value": id}]}),
        )
        .await
        .body,
    );
    let groups = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/groups"),
        &admin_of(&ws),
        None,
    )
    .await;
    assert_eq!(groups.status, StatusCode::OK, "{}", groups.body);
    assert_eq!(groups.body["items"][0]["displayName"], json!("Sales"));
    let one = api(
        &app,
        Method::GET,
        &ws_path(&ws, &format!("/groups/{group}")),
        &admin_of(&ws),
        None,
    )
    .await;
    assert_eq!(one.body["members"][0]["value"], json!(id));
    let export = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/export"),
        &platform(),
        None,
    )
    .await
    .body;
    assert_eq!(export["users"].as_array().unwrap().len(), 2);
    assert_eq!(export["workspace"]["key"], json!(ws.key.as_str()));
    assert_eq!(export["groups"][0]["displayName"], json!("Sales"));
    assert_eq!(export["groups"][0]["members"][0]["value"], json!(id));
    let erased = api(
        &app,
        Method::POST,
        &ws_path(&ws, &format!("/users/{id}/erase")),
        &platform(),
        None,
    )
    .await;
    assert_eq!(erased.status, StatusCode::NO_CONTENT, "{}", erased.body);
    app.get(&user(&ws, &id), &token)
        .await
        .assert_scim_error(404, None);
    let export = api(
        &app,
        Method::GET,
        &ws_path(&ws, "/export"),
        &platform(),
        None,
    )
    .await
    .body;
    assert!(!export.to_string().contains("jane@acme.com"));
    assert_eq!(
        export["groups"][0]["members"],
        json!([]),
        "an erased user leaves every group"
    );
    let deleted = api(&app, Method::DELETE, &ws_path(&ws, ""), &platform(), None).await;
    assert_eq!(deleted.status, StatusCode::ACCEPTED, "{}", deleted.body);
    assert!(deleted.body["data_purged_after"].is_string());
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(401, None);
    assert_problem(
        &api(&app, Method::GET, &ws_path(&ws, ""), &platform(), None).await,
        404,
    );
}

#[actix_web::test]
async fn bad_admin_requests_get_problem_documents() {
    let app = TestApp::start().await;
    let ws = app
        .workspace("Acme", webwork_scim_domain::Plan::Premium)
        .await;
    assert_problem(
        &api(
            &app,
            Method::POST,
            "/workspaces",
            &platform(),
            Some(json!({"name": "X", "plan": "gold"})),
        )
        .await,
        400,
    );
    assert_problem(
        &api(
            &app,
            Method::POST,
            "/workspaces",
            &platform(),
            Some(json!({"nam": "X"})),
        )
        .await,
        400,
    );
    assert_problem(
        &api(
            &app,
            Method::PUT,
            &ws_path(&ws, "/seats"),
            &platform(),
            Some(json!({"seats": -1})),
        )
        .await,
        400,
    );
    let malformed = app
        .call_raw(
            Method::POST,
            "/api/v1/workspaces",
            Some(&platform()),
            Some("{"),
            "application/json",
        )
        .await;
    assert_problem(&malformed, 400);
    assert_problem(
        &api(
            &app,
            Method::GET,
            "/workspaces/no-such-ws",
            &platform(),
            None,
        )
        .await,
        404,
    );
    assert_problem(
        &api(
            &app,
            Method::DELETE,
            &ws_path(&ws, "/tokens/not-a-uuid"),
            &platform(),
            None,
        )
        .await,
        404,
    );
    assert_problem(
        &api(&app, Method::GET, "/nope", &platform(), None).await,
        404,
    );
}
