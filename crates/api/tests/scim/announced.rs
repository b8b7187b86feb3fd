//! Discovery tells the truth: every feature `/ServiceProviderConfig` announces works as
//! announced, what it says is not offered is refused, and every resource type and schema
//! extension it lists can be read.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

#[actix_web::test]
async fn every_announced_feature_works_and_the_rest_is_refused() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let base = format!("/scim/v2/{}", ws.key);
    let config = app
        .get(&format!("{base}/ServiceProviderConfig"), &token)
        .await
        .expect(200);
    let supported = |section: &str| config[section]["supported"] == json!(true);
    for name in ["ann@acme.com", "bob@acme.com"] {
        app.create_user(&ws, &token, name).await;
    }
    let bob = app
        .get(
            &format!("{}?filter=userName%20eq%20%22bob@acme.com%22", users(&ws)),
            &token,
        )
        .await
        .expect(200);
    let bob_path = user(&ws, bob["Resources"][0]["id"].as_str().unwrap());

    assert!(supported("filter"));
    assert_eq!(bob["totalResults"], json!(1));
    let max = config["filter"]["maxResults"].as_i64().unwrap();
    let capped = app
        .get(&format!("{}?count={}", users(&ws), max * 10), &token)
        .await
        .expect(200);
    assert!(capped["itemsPerPage"].as_i64().unwrap() <= max);

    assert!(supported("sort"));
    let sorted = app
        .get(
            &format!("{}?sortBy=userName&sortOrder=descending", users(&ws)),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(sorted["Resources"][0]["userName"], "bob@acme.com");

    assert!(supported("patch"));
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "title", "value": "Lead"}]});
    assert_eq!(
        app.patch(&bob_path, &token, &patch).await.expect(200)["title"],
        "Lead"
    );

    assert!(supported("etag"));
    let read = app.get(&bob_path, &token).await;
    let tag = read.header("etag").unwrap().to_owned();
    let unchanged = app
        .call_with_headers(
            Method::GET,
            &bob_path,
            &token,
            &Value::Null,
            &[("If-None-Match", &tag)],
        )
        .await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED);

    assert!(supported("changePassword"));
    let change = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "path": "password", "value": "New-Secret-42"}]});
    app.patch(&bob_path, &token, &change).await.expect(200);
    let login = json!({"userName": "bob@acme.com", "password": "New-Secret-42"});
    let path = format!("/workspaces/{}/credentials/verify", ws.key);
    app.internal(Method::POST, &path, Some(&login))
        .await
        .expect(200);

    assert!(supported("bulk"));
    assert_eq!(config["bulk"]["maxOperations"], json!(1000));
    let max_payload = config["bulk"]["maxPayloadSize"].as_u64().unwrap();
    let oversized = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                           "Operations": [{"method": "POST", "path": "/Users", "bulkId": "x",
                                           "data": {"userName": "x".repeat(usize::try_from(max_payload).unwrap())}}]});
    app.post(&format!("{base}/Bulk"), &token, &oversized)
        .await
        .assert_scim_error(413, None);
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
                      "Operations": [{"method": "POST", "path": "/Users", "bulkId": "c",
                                      "data": {"userName": "carol@acme.com"}}]});
    let answered = app
        .post(&format!("{base}/Bulk"), &token, &bulk)
        .await
        .expect(200);
    assert_eq!(answered["Operations"][0]["status"], json!("201"));
}

#[actix_web::test]
async fn every_listed_resource_type_and_schema_can_be_read() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let base = format!("/scim/v2/{}", ws.key);
    let types = app
        .get(&format!("{base}/ResourceTypes"), &token)
        .await
        .expect(200);
    let schemas = app
        .get(&format!("{base}/Schemas"), &token)
        .await
        .expect(200);
    let schema_ids: Vec<&str> = schemas["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for resource_type in types["Resources"].as_array().unwrap() {
        let endpoint = resource_type["endpoint"].as_str().unwrap();
        app.get(&format!("{base}{endpoint}"), &token)
            .await
            .expect(200);
        assert!(schema_ids.contains(&resource_type["schema"].as_str().unwrap()));
        for extension in resource_type["schemaExtensions"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let urn = extension["schema"].as_str().unwrap();
            assert!(schema_ids.contains(&urn), "{urn}");
            app.get(&format!("{base}/Schemas/{urn}"), &token)
                .await
                .expect(200);
        }
    }
}

/// Every attribute of `attributes`, sub-attributes included, with the path that names it.
fn every_attribute(attributes: &Value, parent: &str, out: &mut Vec<(String, Value)>) {
    for attribute in attributes.as_array().into_iter().flatten() {
        let path = format!("{parent}{}", attribute["name"].as_str().unwrap());
        if let Some(subs) = attribute.get("subAttributes") {
            every_attribute(subs, &format!("{path}."), out);
        }
        out.push((path, attribute.clone()));
    }
}

#[actix_web::test]
async fn every_schema_attribute_is_described() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let schemas = app
        .get(&format!("/scim/v2/{}/Schemas", ws.key), &token)
        .await
        .expect(200);
    let mut attributes = Vec::new();
    for schema in schemas["Resources"].as_array().unwrap() {
        every_attribute(&schema["attributes"], "", &mut attributes);
    }
    assert!(attributes.len() > 50, "{}", attributes.len());
    for (path, attribute) in &attributes {
        let description = attribute["description"].as_str().unwrap_or_default();
        assert!(!description.is_empty(), "{path} has no description");
        if attribute["type"] == "reference" {
            assert!(
                attribute["referenceTypes"]
                    .as_array()
                    .is_some_and(|t| !t.is_empty()),
                "{path}"
            );
        }
    }
    let find = |wanted: &str| {
        attributes
            .iter()
            .find(|(path, _)| path == wanted)
            .map(|(_, a)| a.clone())
    };
    assert_eq!(
        find("emails.type").unwrap()["canonicalValues"],
        json!(["work", "home", "other"])
    );
    assert_eq!(
        find("groups.$ref").unwrap()["referenceTypes"],
        json!(["Group"])
    );
    assert_eq!(
        find("members.$ref").unwrap()["referenceTypes"],
        json!(["User"])
    );
}
