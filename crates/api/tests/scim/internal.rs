//! The internal API: the directory, linking existing members, owner protection and the
//! credential check of WebWork's login.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

async fn internal(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Response {
    app.internal(method, path, body.as_ref()).await
}

fn verify_path(ws: &Workspace) -> String {
    format!("/workspaces/{}/credentials/verify", ws.key)
}

#[actix_web::test]
async fn only_service_tokens_open_the_internal_api() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let path = format!("/internal/v1/workspaces/{}/users", ws.key);
    for bearer in [platform(), admin_of(&ws), token, "garbage".to_owned()] {
        let response = app.call(Method::GET, &path, Some(&bearer), None).await;
        assert_eq!(
            response.status,
            StatusCode::UNAUTHORIZED,
            "{}",
            response.body
        );
    }
    assert_eq!(
        internal(
            &app,
            Method::GET,
            &format!("/workspaces/{}/users", ws.key),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn users_are_found_by_user_name_email_and_external_id() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "Jane@Acme.com").await);
    app.create_user(&ws, &token, "bob@acme.com").await;
    let base = format!("/workspaces/{}/users", ws.key);
    for query in [
        "?userName=jane%40acme.com",
        "?email=JANE%40acme.com",
        "?externalId=00u1okta&userName=Jane%40Acme.com",
    ] {
        let found = internal(&app, Method::GET, &format!("{base}{query}"), None)
            .await
            .body;
        assert_eq!(found["total"], json!(1), "{query}: {found}");
        assert_eq!(found["items"][0]["id"], json!(jane));
        assert_eq!(found["items"][0]["email"], "Jane@Acme.com");
        assert!(found["items"][0]["session_version"].is_number());
    }
    let all = internal(&app, Method::GET, &format!("{base}?limit=1"), None)
        .await
        .body;
    assert_eq!(
        (all["total"].clone(), all["items"].as_array().unwrap().len()),
        (json!(2), 1)
    );
    let one = internal(&app, Method::GET, &format!("{base}/{jane}"), None).await;
    assert_eq!(one.body["userName"], "Jane@Acme.com");
    assert_eq!(
        internal(&app, Method::GET, "/workspaces/nope-nope/users", None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn existing_members_are_linked_not_duplicated() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = json!({"members": [
        {"userName": "owner@acme.com", "email": "owner@acme.com", "displayName": "Olga Owner", "roles": ["owner"]},
        {"userName": "mia@acme.com", "roles": ["member"]}
    ]});
    let upserted = internal(
        &app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(body.clone()),
    )
    .await;
    assert_eq!(upserted.status, StatusCode::OK, "{}", upserted.body);
    assert_eq!(
        (
            upserted.body["created"].clone(),
            upserted.body["linked"].clone()
        ),
        (json!(2), json!(0))
    );
    let mia = upserted.body["members"][1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Okta's look-up finds the member and links it; a POST would be a duplicate.
    let lookup = app
        .get(
            &format!("{}?filter=userName+eq+%22MIA%40acme.com%22", users(&ws)),
            &token,
        )
        .await;
    assert_eq!(lookup.body["Resources"][0]["id"], json!(mia));
    app.post(&users(&ws), &token, &okta_user("mia@acme.com"))
        .await
        .assert_scim_error(409, Some("uniqueness"));
    let again = internal(
        &app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(body),
    )
    .await;
    assert_eq!(
        (again.body["created"].clone(), again.body["linked"].clone()),
        (json!(0), json!(2))
    );
    let bad = json!({"members": [{"userName": ""}]});
    let refused = internal(
        &app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(bad),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn scim_can_never_deactivate_or_delete_the_owner() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = json!({"members": [{"userName": "owner@acme.com", "roles": ["owner"]}]});
    let upserted = internal(
        &app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(body),
    )
    .await;
    let owner = upserted.body["members"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let refused = app
        .patch(&user(&ws, &owner), &token, &patch_active(false))
        .await;
    refused.assert_scim_error(403, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("owner"));
    app.delete(&user(&ws, &owner), &token)
        .await
        .assert_scim_error(403, None);
    assert_eq!(
        app.get(&user(&ws, &owner), &token).await.body["active"],
        json!(true)
    );
}

/// The owner upserted by WebWork's app, by id.
async fn upsert_owner(app: &TestApp, ws: &Workspace) -> String {
    let body = json!({"members": [{"userName": "owner@acme.com", "roles": ["owner"]}]});
    let upserted = internal(
        app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(body),
    )
    .await
    .expect(200);
    id_of(&upserted["members"][0])
}

#[actix_web::test]
async fn scim_can_never_set_the_owners_password() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let owner = upsert_owner(&app, &ws).await;
    let before = app.get(&user(&ws, &owner), &token).await.expect(200);

    let patch = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            {"op": "replace", "path": "displayName", "value": "Mallory"},
            {"op": "replace", "path": "password", "value": "Taken-Over-1!"}
        ]
    });
    let refused = app.patch(&user(&ws, &owner), &token, &patch).await;
    refused.assert_scim_error(403, None);
    assert!(refused.body["detail"].as_str().unwrap().contains("owner"));
    let mut put = before.clone();
    put["password"] = json!("Taken-Over-2!");
    app.put(&user(&ws, &owner), &token, &put)
        .await
        .assert_scim_error(403, None);

    let after = app.get(&user(&ws, &owner), &token).await.expect(200);
    assert_eq!(after, before, "nothing of the refused requests was applied");
    for password in ["Taken-Over-1!", "Taken-Over-2!"] {
        let login = json!({"userName": "owner@acme.com", "password": password});
        let verify = internal(&app, Method::POST, &verify_path(&ws), Some(login)).await;
        assert_eq!(verify.status, StatusCode::UNAUTHORIZED, "{}", verify.body);
    }
    let log = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/{}/audit-events?action=user.password_refused",
                ws.key
            ),
            Some(&admin_of(&ws)),
            None,
        )
        .await
        .expect(200);
    let attempts: Vec<(&str, &Value)> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["target_id"].as_str().unwrap_or_default(),
                &e["attributes"],
            )
        })
        .collect();
    assert_eq!(
        attempts,
        [(owner.as_str(), &json!(["password"])); 2],
        "{log}"
    );

    // The owner's other attributes stay the IdP's to push.
    let rename = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Olga Owner"}]
    });
    let renamed = app
        .patch(&user(&ws, &owner), &token, &rename)
        .await
        .expect(200);
    assert_eq!(renamed["displayName"], "Olga Owner");
}

#[actix_web::test]
async fn credential_checks_follow_the_users_state() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let login = |name: &str, password: &str| json!({"userName": name, "password": password});
    let ok = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("JANE@acme.com", "Okta-Placeholder-1!")),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["user_id"], json!(id));
    let first_version = ok.body["session_version"].as_i64().unwrap();

    let wrong = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("jane@acme.com", "nope")),
    )
    .await;
    let unknown = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("ghost@acme.com", "nope")),
    )
    .await;
    assert_eq!(
        (wrong.status, unknown.status),
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        wrong.body, unknown.body,
        "the same 401 for an unknown user and a wrong password"
    );

    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    let deactivated = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("jane@acme.com", "Okta-Placeholder-1!")),
    )
    .await;
    assert_eq!(deactivated.status, StatusCode::FORBIDDEN);
    assert_eq!(deactivated.body["reason"], "deactivated");
    app.patch(&user(&ws, &id), &token, &patch_active(true))
        .await
        .expect(200);
    let back = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("jane@acme.com", "Okta-Placeholder-1!")),
    )
    .await;
    assert_eq!(back.status, StatusCode::OK);
    assert!(
        back.body["session_version"].as_i64().unwrap() > first_version,
        "deactivation ended the sessions"
    );

    let sso = format!("/api/v1/workspaces/{}/sso", ws.key);
    app.call(
        Method::PUT,
        &sso,
        Some(&admin_of(&ws)),
        Some(&json!({"enabled": true, "enforced": true})),
    )
    .await
    .expect(200);
    let enforced = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(login("jane@acme.com", "Okta-Placeholder-1!")),
    )
    .await;
    assert_eq!(enforced.status, StatusCode::FORBIDDEN);
    assert_eq!(enforced.body["reason"], "sso_required");
}

#[actix_web::test]
async fn a_new_password_changes_the_session_version() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let login = json!({"userName": "jane@acme.com", "password": "Okta-Placeholder-1!"});
    let before = internal(&app, Method::POST, &verify_path(&ws), Some(login))
        .await
        .body["session_version"]
        .as_i64()
        .unwrap();
    let sync = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "Brand-New-2!"}}]});
    app.patch(&user(&ws, &id), &token, &sync).await.expect(200);
    let after = internal(
        &app,
        Method::POST,
        &verify_path(&ws),
        Some(json!({"userName": "jane@acme.com", "password": "Brand-New-2!"})),
    )
    .await;
    assert_eq!(after.status, StatusCode::OK);
    assert!(after.body["session_version"].as_i64().unwrap() > before);
}

#[actix_web::test]
async fn linking_members_respects_the_seats() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    let seats = format!("/api/v1/workspaces/{}/seats", ws.key);
    app.call(
        Method::PUT,
        &seats,
        Some(&platform()),
        Some(&json!({"seats": 1})),
    )
    .await
    .expect(200);
    let body = json!({"members": [{"userName": "a@acme.com"}, {"userName": "b@acme.com"}]});
    let refused = internal(
        &app,
        Method::POST,
        &format!("/workspaces/{}/members/bulk-upsert", ws.key),
        Some(body),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.body["detail"], "seat limit reached: 1 of 1");
    let listed = internal(
        &app,
        Method::GET,
        &format!("/workspaces/{}/users", ws.key),
        None,
    )
    .await;
    assert_eq!(listed.body["total"], json!(0), "all or nothing");
}

#[actix_web::test]
async fn groups_are_found_by_name_and_external_id_with_members_by_the_page() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    let mut members = Vec::new();
    for i in 0..3 {
        members.push(
            json!({"value": id_of(&app.create_user(&ws, &token, &format!("u{i}@acme.com")).await)}),
        );
    }
    let created = app
        .post(
            &format!("/scim/v2/{}/Groups", ws.key),
            &token,
            &json!({"displayName": "Sales", "externalId": "okta-g1", "members": members}),
        )
        .await;
    let id = id_of(&created.body);
    let theirs = id_of(
        &app.post(
            &format!("/scim/v2/{}/Groups", other.key),
            &other_token,
            &json!({"displayName": "Sales"}),
        )
        .await
        .body,
    );
    let base = format!("/workspaces/{}/groups", ws.key);
    for query in ["?displayName=SALES", "?externalId=okta-g1", ""] {
        let found = internal(&app, Method::GET, &format!("{base}{query}"), None).await;
        assert_eq!(found.status, StatusCode::OK, "{}", found.body);
        assert_eq!(found.body["total"], json!(1), "{query}");
        assert_eq!(found.body["items"][0]["id"], json!(id));
        assert_eq!(found.body["items"][0]["externalId"], json!("okta-g1"));
    }
    let one = internal(&app, Method::GET, &format!("{base}/{id}"), None).await;
    assert_eq!(one.body["displayName"], json!("Sales"));
    let first = internal(
        &app,
        Method::GET,
        &format!("{base}/{id}/members?limit=2"),
        None,
    )
    .await;
    let rest = internal(
        &app,
        Method::GET,
        &format!("{base}/{id}/members?offset=2&limit=2"),
        None,
    )
    .await;
    assert_eq!(
        (first.body["total"].clone(), rest.body["total"].clone()),
        (json!(3), json!(3))
    );
    let mut seen: Vec<Value> = first.body["items"].as_array().unwrap().clone();
    seen.extend(rest.body["items"].as_array().unwrap().clone());
    let mut ids: Vec<&str> = seen.iter().map(|m| m["id"].as_str().unwrap()).collect();
    let mut created: Vec<&str> = members
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    created.sort_unstable();
    assert_eq!(ids, created, "pages neither repeat nor skip");
    assert!(
        seen.iter()
            .all(|m| m["userName"].as_str().unwrap().ends_with("@acme.com"))
    );
    for path in [
        format!("{base}/{theirs}"),
        format!("{base}/{theirs}/members"),
        format!("{base}/nope"),
    ] {
        assert_eq!(
            internal(&app, Method::GET, &path, None).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
}
