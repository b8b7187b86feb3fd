//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, as Okta's conformance suite reads them.

use actix_web::http::{Method, StatusCode};
use serde_json::json;

use crate::support::*;

#[actix_web::test]
async fn service_provider_config_has_every_section() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let response = app
        .get(
            &format!("/scim/v2/{}/ServiceProviderConfig", ws.key),
            &token,
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let body = &response.body;
    assert_eq!(body["patch"]["supported"], json!(true));
    assert!(
        body["bulk"]["maxOperations"].is_number() && body["bulk"]["maxPayloadSize"].is_number()
    );
    assert_eq!(body["filter"]["supported"], json!(true));
    assert!(body["filter"]["maxResults"].as_i64().is_some_and(|n| n > 0));
    for section in ["changePassword", "sort", "etag"] {
        assert!(body[section]["supported"].is_boolean(), "{section}");
    }
    assert_eq!(body["authenticationSchemes"][0]["type"], "oauthbearertoken");
    assert!(body["authenticationSchemes"][0]["description"].is_string());
}

#[actix_web::test]
async fn resource_types_and_schemas_describe_users_and_groups() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let types = app
        .get(&format!("/scim/v2/{}/ResourceTypes", ws.key), &token)
        .await
        .body;
    assert_eq!(types["totalResults"], json!(2));
    assert_eq!(types["Resources"][0]["endpoint"], "/Users");
    assert_eq!(types["Resources"][1]["endpoint"], "/Groups");
    let group_type = app
        .get(&format!("/scim/v2/{}/ResourceTypes/Group", ws.key), &token)
        .await;
    assert_eq!(
        group_type.body["schema"],
        "urn:ietf:params:scim:schemas:core:2.0:Group"
    );
    let user_type = app
        .get(&format!("/scim/v2/{}/ResourceTypes/User", ws.key), &token)
        .await;
    assert_eq!(
        user_type.body["schema"],
        "urn:ietf:params:scim:schemas:core:2.0:User"
    );
    let schemas = app
        .get(&format!("/scim/v2/{}/Schemas", ws.key), &token)
        .await
        .body;
    assert_eq!(schemas["totalResults"], json!(3));
    let group = &schemas["Resources"][2];
    assert_eq!(group["id"], "urn:ietf:params:scim:schemas:core:2.0:Group");
    let members = group["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "members")
        .unwrap();
    assert_eq!(members["multiValued"], json!(true));
    let core = &schemas["Resources"][0];
    let user_name = core["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "userName")
        .unwrap();
    assert_eq!(
        (
            user_name["required"].clone(),
            user_name["uniqueness"].clone()
        ),
        (json!(true), json!("server"))
    );
    let password = core["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "password")
        .unwrap();
    assert_eq!(
        (password["mutability"].clone(), password["returned"].clone()),
        (json!("writeOnly"), json!("never"))
    );
    let enterprise = app
        .get(
            &format!(
                "/scim/v2/{}/Schemas/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                ws.key
            ),
            &token,
        )
        .await;
    assert_eq!(enterprise.status, StatusCode::OK);
    app.get(&format!("/scim/v2/{}/Schemas/urn:nope", ws.key), &token)
        .await
        .assert_scim_error(404, None);
}

#[actix_web::test]
async fn discovery_endpoints_refuse_writes_with_405() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for path in ["ServiceProviderConfig", "ResourceTypes", "Schemas"] {
        let response = app
            .call(
                Method::POST,
                &format!("/scim/v2/{}/{path}", ws.key),
                Some(&token),
                Some(&json!({})),
            )
            .await;
        response.assert_scim_error(405, None);
    }
}

#[actix_web::test]
async fn discovery_needs_a_valid_token() {
    let app = TestApp::start().await;
    let (ws, _) = app.premium("Acme").await;
    app.get(
        &format!("/scim/v2/{}/ServiceProviderConfig", ws.key),
        "wrong",
    )
    .await
    .assert_scim_error(401, None);
}
