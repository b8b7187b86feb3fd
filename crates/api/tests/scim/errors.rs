//! Bad input gets a clear RFC 7644 error and loses nothing.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

async fn user_count(
    app: &TestApp,
    ws: &webwork_scim_domain::Workspace,
    token: &str,
) -> serde_json::Value {
    app.get(&users(ws), token).await.body["totalResults"].clone()
}

#[actix_web::test]
async fn malformed_json_is_invalid_syntax() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for body in ["{\"userName\": ", "not json", ""] {
        let response = app
            .call_raw(
                Method::POST,
                &users(&ws),
                Some(&token),
                Some(body),
                "application/scim+json",
            )
            .await;
        response.assert_scim_error(400, Some("invalidSyntax"));
    }
    assert_eq!(user_count(&app, &ws, &token).await, json!(0));
}

#[actix_web::test]
async fn invalid_values_and_unknown_schemas_are_invalid_value() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let bodies = [
        json!({"schemas": ["urn:example:not-a-user"], "userName": "a"}),
        json!({"name": {"givenName": "no userName"}}),
        json!({"userName": ""}),
        json!({"userName": "a", "active": "sometimes"}),
        json!({"userName": "a", "emails": "not-a-list-of-objects"}),
    ];
    for body in &bodies {
        app.post(&users(&ws), &token, body)
            .await
            .assert_scim_error(400, Some("invalidValue"));
    }
    assert_eq!(user_count(&app, &ws, &token).await, json!(0));
}

#[actix_web::test]
async fn both_json_content_types_are_accepted_and_others_refused() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for (i, content_type) in [
        "application/json",
        "application/scim+json; charset=utf-8",
        "application/scim+json",
    ]
    .iter()
    .enumerate()
    {
        let body = okta_user(&format!("u{i}@acme.com")).to_string();
        let response = app
            .call_raw(
                Method::POST,
                &users(&ws),
                Some(&token),
                Some(&body),
                content_type,
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{content_type}");
    }
    let body = okta_user("x@acme.com").to_string();
    app.call_raw(
        Method::POST,
        &users(&ws),
        Some(&token),
        Some(&body),
        "text/plain",
    )
    .await
    .assert_scim_error(415, None);
    app.call_raw(
        Method::POST,
        &users(&ws),
        Some(&token),
        Some(&body),
        "application/json; charset=latin1",
    )
    .await
    .assert_scim_error(415, None);
    assert_eq!(user_count(&app, &ws, &token).await, json!(3));
}

#[actix_web::test]
async fn oversized_bodies_get_413_and_write_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("big@acme.com");
    body["title"] = json!("x".repeat(MAX_BODY + 1));
    app.post(&users(&ws), &token, &body)
        .await
        .assert_scim_error(413, None);
    assert_eq!(user_count(&app, &ws, &token).await, json!(0));
}

#[actix_web::test]
async fn bad_filters_are_invalid_filter_never_a_full_list() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "jane@acme.com").await;
    for filter in [
        "userName+eq",
        "userName+eq+jane",
        "%28userName+eq+%22a%22",
        "nosuch+eq+%22x%22",
        "title+eq+true",
        "userName+gt+null",
        "password+eq+%22secret%22",
    ] {
        app.get(&format!("{}?filter={filter}", users(&ws)), &token)
            .await
            .assert_scim_error(400, Some("invalidFilter"));
    }
    // Any attribute filters, through the database.
    for (filter, found) in [
        ("title+eq+%22CTO%22", 0),
        ("phoneNumbers%5Btype+eq+%22work%22%5D.value+eq+%22123%22", 0),
        (
            "not+%28emails%5Btype+eq+%22work%22%5D.value+eq+%22jane%40acme.com%22%29",
            0,
        ),
        (
            "not+%28emails%5Btype+eq+%22work%22%5D.value+eq+%22bob%40acme.com%22%29",
            1,
        ),
    ] {
        let answer = app
            .get(&format!("{}?filter={filter}", users(&ws)), &token)
            .await;
        assert_eq!(answer.status.as_u16(), 200, "{filter}: {}", answer.body);
        assert_eq!(answer.body["totalResults"], json!(found), "{filter}");
    }
    // Entra ID's look-up by work email is answered, not refused.
    let entra = app
        .get(
            &format!(
                "{}?filter=emails%5Btype+eq+%22work%22%5D.value+eq+%22JANE%40acme.com%22",
                users(&ws)
            ),
            &token,
        )
        .await;
    assert_eq!(entra.status, StatusCode::OK, "{}", entra.body);
    assert_eq!(entra.body["totalResults"], json!(1));
    assert_eq!(entra.body["Resources"][0]["userName"], "jane@acme.com");
    app.get(&format!("{}?count=ten", users(&ws)), &token)
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[actix_web::test]
async fn unknown_ids_are_404_with_a_scim_body() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let unknown = webwork_scim_domain::UserId::generate().to_string();
    for id in [unknown.as_str(), "not-a-uuid"] {
        app.get(&user(&ws, id), &token)
            .await
            .assert_scim_error(404, None);
        app.put(&user(&ws, id), &token, &okta_user("a@b.c"))
            .await
            .assert_scim_error(404, None);
        app.patch(&user(&ws, id), &token, &patch_active(false))
            .await
            .assert_scim_error(404, None);
        app.delete(&user(&ws, id), &token)
            .await
            .assert_scim_error(404, None);
    }
}

#[actix_web::test]
async fn bad_patch_requests_are_refused_and_change_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let created = app.create_user(&ws, &token, "jane@acme.com").await;
    let id = id_of(&created);
    let cases = [
        (
            json!({"Operations": [{"op": "explode", "path": "title", "value": "x"}]}),
            "invalidValue",
        ),
        (json!({"Operations": [{"op": "remove"}]}), "noTarget"),
        (
            json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "favouriteColour", "value": "x"}]}),
            "invalidPath",
        ),
        (
            json!({"Operations": [{"op": "replace", "path": "id", "value": "x"}]}),
            "mutability",
        ),
        (
            json!({"Operations": [
                {"op": "replace", "path": "title", "value": "changed first"},
                {"op": "replace", "path": "userName", "value": ""}
            ]}),
            "invalidValue",
        ),
    ];
    for (body, scim_type) in cases {
        app.patch(&user(&ws, &id), &token, &body)
            .await
            .assert_scim_error(400, Some(scim_type));
    }
    let after = app.get(&user(&ws, &id), &token).await.body;
    assert_eq!(after, created, "nothing was written");
}

#[actix_web::test]
async fn renaming_onto_a_taken_user_name_conflicts() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "jane@acme.com").await;
    let bob = app.create_user(&ws, &token, "bob@acme.com").await;
    let mut body = bob.clone();
    body["userName"] = json!("JANE@acme.com");
    app.put(&user(&ws, &id_of(&bob)), &token, &body)
        .await
        .assert_scim_error(409, Some("uniqueness"));
    assert_eq!(app.get(&user(&ws, &id_of(&bob)), &token).await.body, bob);
}

#[actix_web::test]
async fn wrong_methods_and_unknown_paths() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.call(Method::DELETE, &users(&ws), Some(&token), None)
        .await
        .assert_scim_error(405, None);
    app.get(&format!("/scim/v2/{}/Nope", ws.key), &token)
        .await
        .assert_scim_error(404, None);
    let health = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!(health.status, StatusCode::OK);
}

#[actix_web::test]
async fn request_ids_are_returned() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let response = app.get(&users(&ws), &token).await;
    assert!(
        response
            .header("x-request-id")
            .is_some_and(|id| id.len() >= 32)
    );
}

#[actix_web::test]
async fn hostile_patch_paths_are_refused_not_evaluated() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let chain = vec!["type pr"; 5000].join(" or ");
    let body = json!({"Operations": [{"op": "remove", "path": format!("emails[{chain}]")}]});
    app.patch(&user(&ws, &id), &token, &body)
        .await
        .assert_scim_error(400, Some("invalidPath"));
    let many: Vec<_> = (0..500)
        .map(|i| json!({"value": format!("{i}@acme.com")}))
        .collect();
    let add = json!({"Operations": [{"op": "add", "path": "emails", "value": many}]});
    app.patch(&user(&ws, &id), &token, &add)
        .await
        .assert_scim_error(400, Some("invalidValue"));
}

#[actix_web::test]
async fn an_accept_without_json_is_406_and_me_is_501() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for accept in [
        "text/html",
        "application/xml, text/*",
        "application/json;q=0",
    ] {
        let refused = app
            .call_with_headers(
                Method::GET,
                &users(&ws),
                &token,
                &serde_json::Value::Null,
                &[("Accept", accept)],
            )
            .await;
        refused.assert_scim_error(406, None);
    }
    for accept in [
        "application/scim+json",
        "application/json",
        "*/*",
        "text/html, */*;q=0.1",
    ] {
        let listed = app
            .call_with_headers(
                Method::GET,
                &users(&ws),
                &token,
                &serde_json::Value::Null,
                &[("Accept", accept)],
            )
            .await;
        assert_eq!(listed.status, StatusCode::OK, "{accept}: {}", listed.body);
    }
    let me = format!("/scim/v2/{}/Me", ws.key);
    app.get(&me, &token).await.assert_scim_error(501, None);
    let anonymous = app.call(Method::GET, &me, None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
