//! `attributes` and `excludedAttributes` on every User response, sub-attributes and extension
//! attributes included.

use serde_json::json;

use crate::support::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

#[actix_web::test]
async fn every_user_response_honours_attributes_and_excluded_attributes() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("jane@acme.com");
    body[ENTERPRISE] = json!({"department": "Sales", "manager": {"value": "m1"}});
    let created = app
        .post(
            &format!("{}?attributes=userName,name.givenName", users(&ws)),
            &token,
            &body,
        )
        .await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = id_of(&created.body);
    assert!(created.header("location").is_some_and(|l| l.ends_with(&id)));
    assert_eq!(created.body["name"], json!({"givenName": "Jane"}));
    let mut keys: Vec<&String> = created.body.as_object().unwrap().keys().collect();
    keys.sort();
    assert_eq!(keys, ["id", "name", "schemas", "userName"]);

    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "title", "value": "CTO"}]});
    let excluded = format!("excludedAttributes=emails.type,{ENTERPRISE}:manager");
    let patched = app
        .patch(&format!("{}?{excluded}", user(&ws, &id)), &token, &patch)
        .await
        .expect(200);
    assert_eq!(patched["title"], "CTO");
    assert_eq!(
        patched["emails"],
        json!([{"primary": true, "value": "jane@acme.com"}])
    );
    assert_eq!(patched[ENTERPRISE], json!({"department": "Sales"}));

    let mut put = body.clone();
    put["displayName"] = json!("Jane Q. Doe");
    let replaced = app
        .put(
            &format!("{}?attributes=displayName", user(&ws, &id)),
            &token,
            &put,
        )
        .await
        .expect(200);
    assert_eq!(replaced["displayName"], "Jane Q. Doe");
    assert!(replaced.get("userName").is_none());

    let read = app
        .get(
            &format!("{}?attributes={ENTERPRISE}:department", user(&ws, &id)),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(read[ENTERPRISE], json!({"department": "Sales"}));
    assert!(read.get("emails").is_none());
}

/// A GET of the whole user writes the stored document's text as it stands (as listings do),
/// where a creation and a projection write the document parsed into values: both must give the
/// same resource.
#[actix_web::test]
async fn a_user_read_whole_is_the_resource_its_creation_and_a_projection_answer() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("zoe@acme.com");
    body["displayName"] = json!("Zoë \"Z\" Ångström\n\t\\ \u{1F600}");
    body["phoneNumbers"] = json!([{"value": "+1 555 0100", "type": "work", "primary": true}]);
    body[ENTERPRISE] =
        json!({"department": "Sales", "manager": {"value": "m1"}, "costCenter": "7"});
    let created = app.post(&users(&ws), &token, &body).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = id_of(&created.body);

    let read = app.get(&user(&ws, &id), &token).await;
    assert_eq!(read.status.as_u16(), 200, "{}", read.body);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), created.header("etag"));
    assert_eq!(read.body["displayName"], body["displayName"]);
    // Excluding an attribute the user does not have shapes the parsed document instead.
    let shaped = app
        .get(
            &format!("{}?excludedAttributes=title", user(&ws, &id)),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(shaped, read.body);
}
