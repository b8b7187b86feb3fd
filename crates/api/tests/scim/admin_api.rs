//! The admin API: JWT roles, the Settings > Single Sign-On page, token lifecycle, plans,
//! seats, overrides, logs, export, deletion and erasure.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

pub async fn api(
    app: &TestApp,
    method: Method,
    path: &str,
    jwt: &str,
    body: Option<Value>,
) -> Response {
    app.call(method, &format!("/api/v1{path}"), Some(jwt), body.as_ref())
        .await
}

pub fn ws_path(ws: &Workspace, rest: &str) -> String {
    format!("/workspaces/{}{rest}", ws.key)
}

pub fn assert_problem(response: &Response, status: u16) {
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
