//! Okta's provisioning traffic, request by request, as its documentation and test plan show it.

use actix_web::http::StatusCode;
use serde_json::json;
use webwork_scim_persistence::users;

use crate::support::*;

#[actix_web::test]
async fn test_api_credentials_gets_a_well_formed_list_response() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let response = app
        .get(&format!("{}?startIndex=1&count=2", users(&ws)), &token)
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("content-type"),
        Some("application/scim+json")
    );
    let body = &response.body;
    assert_eq!(
        body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(body["totalResults"], json!(0));
    assert_eq!(body["startIndex"], json!(1));
    assert_eq!(body["itemsPerPage"], json!(0));
    assert_eq!(body["Resources"], json!([]));
}

#[actix_web::test]
async fn create_or_link_looks_up_then_creates_only_when_absent() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for encoded in [
        "userName%20eq%20%22jane.doe%40acme.com%22",
        "userName+eq+%22jane.doe%40acme.com%22",
    ] {
        let lookup = app
            .get(
                &format!("{}?filter={encoded}&startIndex=1&count=100", users(&ws)),
                &token,
            )
            .await;
        assert_eq!(lookup.status, StatusCode::OK);
        assert_eq!(lookup.body["totalResults"], json!(0));
        assert_eq!(lookup.body["Resources"], json!([]));
    }
    let created = app
        .post(&users(&ws), &token, &okta_user("Jane.Doe@acme.com"))
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let resource = &created.body;
    let id = id_of(resource);
    assert_eq!(resource["userName"], "Jane.Doe@acme.com", "case kept");
    assert_eq!(resource["meta"]["resourceType"], "User");
    assert!(
        resource["meta"]["created"].is_string() && resource["meta"]["lastModified"].is_string()
    );
    assert_eq!(
        resource["meta"]["location"],
        json!(format!("{BASE}{}", user(&ws, &id)))
    );
    assert_eq!(resource["meta"]["version"], "W/\"1\"");
    assert_eq!(
        created.header("location"),
        resource["meta"]["location"].as_str()
    );
    assert_eq!(created.header("etag"), Some("W/\"1\""));
    assert!(
        resource.get("password").is_none(),
        "password never returned"
    );

    // The next lookup, in another case, links the existing user.
    let lookup = app
        .get(
            &format!(
                "{}?filter=userName+eq+%22JANE.DOE%40ACME.COM%22&startIndex=1&count=100",
                users(&ws)
            ),
            &token,
        )
        .await;
    assert_eq!(lookup.body["totalResults"], json!(1));
    assert_eq!(lookup.body["itemsPerPage"], json!(1));
    assert_eq!(lookup.body["Resources"][0]["id"], json!(id));
    let by_external = app
        .get(
            &format!("{}?filter=externalId+eq+%2200u1okta%22", users(&ws)),
            &token,
        )
        .await;
    assert_eq!(by_external.body["totalResults"], json!(1));
}

#[actix_web::test]
async fn duplicates_in_any_case_conflict_and_write_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "jane@acme.com").await;
    // Case, full-width letters and ligatures all fold to the one key.
    for name in [
        "jane@acme.com",
        "JANE@Acme.COM",
        "\u{ff4a}ane@acme.com",
        "ＪＡＮＥ@ａｃｍｅ.com",
    ] {
        // Another person (another externalId), so never a retry of the first create.
        let mut other = okta_user(name);
        other["externalId"] = json!("00u2other");
        let again = app.post(&users(&ws), &token, &other).await;
        again.assert_scim_error(409, Some("uniqueness"));
    }
    let found = app
        .get(
            &format!(
                "{}?filter=userName%20eq%20%22%EF%BD%8Aane@acme.com%22",
                users(&ws)
            ),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(found["Resources"][0]["userName"], "jane@acme.com");
    let all = app.get(&users(&ws), &token).await;
    assert_eq!(all.body["totalResults"], json!(1));
}

#[actix_web::test]
async fn user_names_with_invisible_characters_are_refused() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for name in [
        "ja\u{200b}ne@acme.com",
        "jane\u{200d}@acme.com",
        "\u{202e}jane@acme.com",
    ] {
        let refused = app.post(&users(&ws), &token, &okta_user(name)).await;
        refused.assert_scim_error(400, Some("invalidValue"));
        assert!(
            refused.body["detail"]
                .as_str()
                .unwrap()
                .contains("invisible"),
            "{}",
            refused.body
        );
    }
    let all = app.get(&users(&ws), &token).await;
    assert_eq!(all.body["totalResults"], json!(0));
}

#[actix_web::test]
async fn profile_push_puts_back_what_get_returned() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let hash_before = app
        .db
        .store
        .read(ws.id, |tx| users::password_hash(tx, id.parse().unwrap()))
        .unwrap();
    assert!(
        hash_before
            .as_deref()
            .is_some_and(|h| h.starts_with("$argon2id$")),
        "{hash_before:?}"
    );

    let mut body = app.get(&user(&ws, &id), &token).await.body;
    body["name"]["familyName"] = json!("Smith");
    body["title"] = json!("Engineering Manager");
    body["id"] = json!("forged-id");
    body["meta"]["version"] = json!("W/\"999\"");
    let put = app.put(&user(&ws, &id), &token, &body).await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["id"], json!(id), "id in the body is ignored");
    assert_eq!(put.body["name"]["familyName"], "Smith");
    assert_eq!(put.body["title"], "Engineering Manager");
    assert_eq!(put.body["meta"]["version"], "W/\"2\"");
    let hash_after = app
        .db
        .store
        .read(ws.id, |tx| users::password_hash(tx, id.parse().unwrap()))
        .unwrap();
    assert_eq!(hash_after, hash_before, "a PUT without password keeps it");
    let fetched = app.get(&user(&ws, &id), &token).await;
    assert_eq!(fetched.body, put.body);
}

#[actix_web::test]
async fn deactivate_and_reactivate_by_patch_keep_everything() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let created = app.create_user(&ws, &token, "jane@acme.com").await;
    let id = id_of(&created);
    let off = app
        .patch(&user(&ws, &id), &token, &patch_active(false))
        .await;
    assert_eq!(off.status, StatusCode::OK, "{}", off.body);
    assert_eq!(off.body["active"], json!(false));
    let stored = app.get(&user(&ws, &id), &token).await.body;
    assert_eq!(stored["active"], json!(false));
    for kept in [
        "userName",
        "name",
        "emails",
        "displayName",
        "locale",
        "externalId",
    ] {
        assert_eq!(stored[kept], created[kept], "{kept}");
    }
    // A deactivated user is still found by Okta's lookup.
    let lookup = app
        .get(
            &format!("{}?filter=userName+eq+%22jane%40acme.com%22", users(&ws)),
            &token,
        )
        .await;
    assert_eq!(lookup.body["Resources"][0]["active"], json!(false));

    let on = app
        .patch(&user(&ws, &id), &token, &patch_active(true))
        .await;
    assert_eq!(on.body["active"], json!(true));
    assert_eq!(on.body["id"], json!(id));
    for kept in [
        "userName",
        "name",
        "emails",
        "displayName",
        "locale",
        "externalId",
    ] {
        assert_eq!(on.body[kept], created[kept], "{kept}");
    }
    assert_eq!(on.body["meta"]["version"], "W/\"3\"");
}

#[actix_web::test]
async fn deactivate_and_reactivate_by_put_keep_everything() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let created = app.create_user(&ws, &token, "jane@acme.com").await;
    let id = id_of(&created);
    let mut body = app.get(&user(&ws, &id), &token).await.body;
    body["active"] = json!(false);
    let off = app.put(&user(&ws, &id), &token, &body).await;
    assert_eq!(off.body["active"], json!(false));
    body["active"] = json!(true);
    let on = app.put(&user(&ws, &id), &token, &body).await;
    assert_eq!(on.body["active"], json!(true));
    assert_eq!(on.body["id"], json!(id));
    assert_eq!(on.body["emails"], created["emails"]);
    assert_eq!(on.body["name"], created["name"]);
}

#[actix_web::test]
async fn password_sync_by_patch_replaces_the_hash() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let hash = |app: &TestApp| {
        app.db
            .store
            .read(ws.id, |tx| users::password_hash(tx, id.parse().unwrap()))
            .unwrap()
    };
    let before = hash(&app);
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"password": "N3w-Secret!"}}]});
    let patched = app.patch(&user(&ws, &id), &token, &body).await;
    assert_eq!(patched.status, StatusCode::OK);
    assert!(patched.body.get("password").is_none());
    let after = hash(&app);
    assert_ne!(after, before);
    assert!(webwork_scim_tenancy::hashing::verify_secret(
        b"N3w-Secret!",
        after.as_deref().unwrap()
    ));
}

#[actix_web::test]
async fn core_attributes_and_the_enterprise_extension_are_stored_and_returned() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "userName": "kim@acme.com",
        "name": {"formatted": "Ms. Kim Lee", "givenName": "Kim", "familyName": "Lee", "honorificPrefix": "Ms."},
        "displayName": "Kim Lee", "nickName": "Kimmy", "title": "CFO", "userType": "Employee",
        "preferredLanguage": "en-GB", "locale": "en-GB", "timezone": "Europe/London",
        "emails": [{"value": "kim@acme.com", "type": "work", "primary": true}],
        "phoneNumbers": [{"value": "+44 20 7946 0000", "type": "work"}],
        "addresses": [{"streetAddress": "1 High St", "locality": "London", "country": "GB", "type": "work"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "42", "costCenter": "CC1", "organization": "Acme", "division": "EMEA",
            "department": "Finance", "manager": {"value": "boss-1"}
        }
    });
    let created = app.post(&users(&ws), &token, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let fetched = app
        .get(&user(&ws, &id_of(&created.body)), &token)
        .await
        .body;
    for key in [
        "name",
        "displayName",
        "nickName",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "emails",
        "phoneNumbers",
        "addresses",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    ] {
        assert_eq!(fetched[key], body[key], "{key}");
    }
    assert_eq!(fetched["schemas"], body["schemas"]);
    assert_eq!(fetched["active"], json!(true));
}

#[actix_web::test]
async fn delete_answers_204_then_404_and_frees_the_user_name() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let deleted = app.delete(&user(&ws, &id), &token).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    app.get(&user(&ws, &id), &token)
        .await
        .assert_scim_error(404, None);
    app.delete(&user(&ws, &id), &token)
        .await
        .assert_scim_error(404, None);
    let again = app.create_user(&ws, &token, "jane@acme.com").await;
    assert_ne!(id_of(&again), id);
}

#[actix_web::test]
async fn import_pages_are_stable() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for i in 0..5 {
        app.create_user(&ws, &token, &format!("user{i}@acme.com"))
            .await;
    }
    let mut names = Vec::new();
    for start in [1, 3, 5] {
        let page = app
            .get(
                &format!("{}?startIndex={start}&count=2", users(&ws)),
                &token,
            )
            .await
            .body;
        assert_eq!(page["totalResults"], json!(5));
        assert_eq!(page["startIndex"], json!(start));
        for resource in page["Resources"].as_array().unwrap() {
            names.push(resource["userName"].as_str().unwrap().to_owned());
        }
    }
    let expected: Vec<_> = (0..5).map(|i| format!("user{i}@acme.com")).collect();
    assert_eq!(names, expected);
}

#[actix_web::test]
async fn entra_style_patch_updates_a_value_filtered_element() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [
        {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jane.doe@acme.com"},
        {"op": "Replace", "path": "name.familyName", "value": "Doe-Smith"},
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
        {"op": "Replace", "path": "active", "value": "False"}
    ]});
    let patched = app.patch(&user(&ws, &id), &token, &body).await;
    assert_eq!(patched.status, StatusCode::OK, "{}", patched.body);
    assert_eq!(
        patched.body["emails"],
        json!([{"primary": true, "value": "jane.doe@acme.com", "type": "work"}])
    );
    assert_eq!(patched.body["name"]["familyName"], "Doe-Smith");
    assert_eq!(
        patched.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Sales"
    );
    assert_eq!(patched.body["active"], json!(false));
}

#[actix_web::test]
async fn a_put_that_omits_active_keeps_a_deactivated_user_deactivated() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    let replaced = app
        .put(
            &user(&ws, &id),
            &token,
            &json!({"userName": "jane@acme.com", "displayName": "Jane D."}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::OK, "{}", replaced.body);
    assert_eq!(
        replaced.body["active"],
        json!(false),
        "no reactivation by omission"
    );
    assert_eq!(replaced.body["displayName"], "Jane D.");
    let removed = app
        .patch(
            &user(&ws, &id),
            &token,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "remove", "path": "active"}]}),
        )
        .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);
    assert_eq!(
        removed.body["active"],
        json!(false),
        "removing active reactivates no one"
    );
    let created = app
        .post(&users(&ws), &token, &json!({"userName": "bob@acme.com"}))
        .await;
    assert_eq!(
        created.body["active"],
        json!(true),
        "a create without active is active"
    );
}

#[actix_web::test]
async fn custom_attribute_extensions_are_accepted_and_not_stored() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let custom = "urn:okta:webwork_1:1.0:user:custom";
    let mut body = okta_user("jane@acme.com");
    body["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User", custom]);
    body[custom] = json!({"badgeColour": "blue"});
    let created = app.post(&users(&ws), &token, &body).await.expect(201);
    assert!(created.get(custom).is_none(), "{created}");
    let mut put = created.clone();
    put["schemas"] = body["schemas"].clone();
    put[custom] = json!({"badgeColour": "green"});
    put["displayName"] = json!("Jane Q. Doe");
    let replaced = app
        .put(&user(&ws, &id_of(&created)), &token, &put)
        .await
        .expect(200);
    assert_eq!(replaced["displayName"], "Jane Q. Doe");
    assert!(replaced.get(custom).is_none(), "{replaced}");
}
