//! The admin API: JWT roles, the Settings > Single Sign-On page, token lifecycle, plans,
//! seats, overrides, logs, export, deletion and erasure.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    jwt: &str,
    body: Option<Value>,
) -> Response {
    app.call(method, &format!("/api/v1{path}"), Some(jwt), body.as_ref())
        .await
}

fn ws_path(ws: &Workspace, rest: &str) -> String {
    format!("/workspaces/{}{rest}", ws.key)
}

fn assert_problem(response: &Response, status: u16) {
    assert_eq!(response.status.as_u16(), status, "{}", response.body);
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(response.body["status"], json!(status));
    assert!(response.body["detail"].is_string());
}

#[actix_web::test]
async fn bad_expired_or_foreign_jwts_are_401() {
    let app = TestApp::start().await;
    let ws = app
        .workspace("Acme", webwork_scim_domain::Plan::Premium)
        .await;
    let path = ws_path(&ws, "/sso");
    let no_token = app
        .call(Method::GET, &format!("/api/v1{path}"), None, None)
        .await;
    assert_problem(&no_token, 401);
    assert!(no_token.header("www-authenticate").is_some());
    for bad in ["garbage", "a.b.c"] {
        assert_problem(&api(&app, Method::GET, &path, bad, None).await, 401);
    }
    // A SCIM token is not an admin JWT.
    let scim = app.token(&ws).await;
    assert_problem(&api(&app, Method::GET, &path, &scim, None).await, 401);
    // A correct JWT with a tampered payload fails its signature.
    let good = admin_of(&ws);
    let mut parts: Vec<&str> = good.split('.').collect();
    let other = jwt("platform", None);
    parts[1] = other.split('.').nth(1).unwrap();
    assert_problem(
        &api(&app, Method::GET, &path, &parts.join("."), None).await,
        401,
    );
}

#[actix_web::test]
async fn roles_and_workspaces_are_enforced() {
    let app = TestApp::start().await;
    let a = app
        .workspace("Acme", webwork_scim_domain::Plan::Premium)
        .await;
    let b = app
        .workspace("Globex", webwork_scim_domain::Plan::Premium)
        .await;
    // An admin of A sees A and nothing of B (404, not 403).
    assert_eq!(
        api(&app, Method::GET, &ws_path(&a, "/sso"), &admin_of(&a), None)
            .await
            .status,
        StatusCode::OK
    );
    for path in [
        "/sso",
        "/tokens",
        "/audit-events",
        "/provisioning-errors",
        "/users",
        "/groups",
        "",
    ] {
        assert_problem(
            &api(&app, Method::GET, &ws_path(&b, path), &admin_of(&a), None).await,
            404,
        );
    }
    assert_problem(
        &api(
            &app,
            Method::POST,
            &ws_path(&b, "/tokens"),
            &admin_of(&a),
            Some(json!({})),
        )
        .await,
        404,
    );
    // An admin may not do what only the platform may: 403.
    assert_problem(
        &api(
            &app,
            Method::PUT,
            &ws_path(&a, "/plan"),
            &admin_of(&a),
            Some(json!({"plan": "enterprise"})),
        )
        .await,
        403,
    );
    assert_problem(
        &api(&app, Method::GET, "/workspaces", &admin_of(&a), None).await,
        403,
    );
    assert_problem(
        &api(&app, Method::DELETE, &ws_path(&a, ""), &admin_of(&a), None).await,
        403,
    );
    // The platform sees every workspace.
    let listed = api(&app, Method::GET, "/workspaces", &platform(), None).await;
    assert_eq!(listed.body["total"], json!(2));
}

#[actix_web::test]
async fn the_sso_page_shows_the_base_url_plan_and_seats() {
    let app = TestApp::start().await;
    let created = api(
        &app,
        Method::POST,
        "/workspaces",
        &platform(),
        Some(json!({"name": "Acme", "plan": "pro", "seats": 10})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let key = created.body["key"].as_str().unwrap().to_owned();
    let page = api(
        &app,
        Method::GET,
        &format!("/workspaces/{key}/sso"),
        &jwt("admin", Some(&key)),
        None,
    )
    .await
    .body;
    assert_eq!(page["plan"], "pro");
    assert_eq!(page["scim_allowed"], json!(false));
    assert!(
        page["scim_refusal_reason"]
            .as_str()
            .unwrap()
            .contains("Premium")
    );
    assert_eq!(
        page["scim_base_url"],
        json!(format!("{BASE}/scim/v2/{key}"))
    );
    assert_eq!(
        (page["seats_used"].clone(), page["seats_bought"].clone()),
        (json!(0), json!(10))
    );

    api(
        &app,
        Method::PUT,
        &format!("/workspaces/{key}/plan"),
        &platform(),
        Some(json!({"plan": "premium"})),
    )
    .await;
    let enabled = api(
        &app,
        Method::PUT,
        &format!("/workspaces/{key}/sso"),
        &jwt("admin", Some(&key)),
        Some(json!({"enabled": true, "idp_issuer": "https://acme.okta.com"})),
    )
    .await;
    assert_eq!(enabled.status, StatusCode::OK, "{}", enabled.body);
    assert_eq!(enabled.body["scim_allowed"], json!(true));
    assert_eq!(enabled.body["idp_issuer"], "https://acme.okta.com");
}

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
        .await;
    app.create_user(&ws, &token, "c@acme.com").await;
    let reactivate = app.patch(&user(&ws, &a), &token, &patch_active(true)).await;
    reactivate.assert_scim_error(403, None);
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
        .await;
    let mut body = app.get(&user(&ws, &id), &token).await.body;
    body["title"] = json!("Secret Title");
    app.put(&user(&ws, &id), &token, &body).await;
    app.delete(&user(&ws, &id), &token).await;
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
    app.post(&users(&ws), &token, &okta_user("jane@acme.com"))
        .await;
    app.get(&format!("{}?filter=title+eq+%22x%22", users(&ws)), &token)
        .await;
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

#[actix_web::test]
async fn sso_needs_its_entitlement_and_enforcement_needs_sso() {
    let app = TestApp::start().await;
    let created = api(
        &app,
        Method::POST,
        "/workspaces",
        &platform(),
        Some(json!({"name": "Small", "plan": "pro"})),
    )
    .await;
    let key = created.body["key"].as_str().unwrap().to_owned();
    let admin = jwt("admin", Some(&key));
    let refused = api(
        &app,
        Method::PUT,
        &format!("/workspaces/{key}/sso"),
        &admin,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_problem(&refused, 403);
    assert!(refused.body["detail"].as_str().unwrap().contains("Premium"));
    let (ws, _) = app.premium("Big").await;
    let half = api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/sso"),
        &admin_of(&ws),
        Some(json!({"enabled": false, "enforced": true})),
    )
    .await;
    assert_problem(&half, 400);
}

#[actix_web::test]
async fn turning_sso_off_pauses_provisioning_and_turning_it_on_resumes_it() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let set = |enabled: bool| {
        let app = &app;
        let ws = &ws;
        async move {
            api(
                app,
                Method::PUT,
                &ws_path(ws, "/sso"),
                &admin_of(ws),
                Some(json!({"enabled": enabled})),
            )
            .await
            .status
        }
    };
    assert_eq!(set(false).await, StatusCode::OK);
    let paused = app.get(&users(&ws), &token).await;
    paused.assert_scim_error(403, None);
    assert!(
        paused.body["detail"]
            .as_str()
            .unwrap()
            .contains("Single sign-on is turned off")
    );
    assert_eq!(set(true).await, StatusCode::OK);
    // The plan comes first: a downgraded workspace with SSO off is told about its plan.
    assert_eq!(set(false).await, StatusCode::OK);
    let downgraded = api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/plan"),
        &platform(),
        Some(json!({"plan": "pro"})),
    )
    .await;
    assert_eq!(downgraded.status, StatusCode::OK, "{}", downgraded.body);
    let refused = app.get(&users(&ws), &token).await;
    refused.assert_scim_error(403, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("Premium"));
    api(
        &app,
        Method::PUT,
        &ws_path(&ws, "/plan"),
        &platform(),
        Some(json!({"plan": "premium"})),
    )
    .await;
    assert_eq!(set(true).await, StatusCode::OK);
    let resumed = app.get(&user(&ws, &jane), &token).await;
    assert_eq!(
        resumed.status,
        StatusCode::OK,
        "the same token works again and the user is kept"
    );
}
