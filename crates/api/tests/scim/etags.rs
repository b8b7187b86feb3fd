//! Entity tags (RFC 7644 §3.14): every resource answer carries its tag, `If-None-Match` gets 304,
//! `If-Match` guards changes, and a user's tag moves when its groups change.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::*;

async fn tagged_get(app: &TestApp, path: &str, token: &str, tag: &str) -> Response {
    app.call_with_headers(
        Method::GET,
        path,
        token,
        &Value::Null,
        &[("If-None-Match", tag)],
    )
    .await
}

#[actix_web::test]
async fn a_users_tag_moves_with_its_groups_and_guards_reads_and_writes() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = app.create_user(&ws, &token, "jane@acme.com").await;
    let path = user(&ws, &id_of(&jane));
    let read = app.get(&path, &token).await;
    let first = read.header("etag").unwrap().to_owned();
    assert_eq!(read.body["meta"]["version"], json!(first));

    let unchanged = tagged_get(&app, &path, &token, &first).await;
    assert_eq!(unchanged.status.as_u16(), 304);
    assert_eq!(unchanged.header("etag"), Some(first.as_str()));
    assert_eq!(unchanged.body, Value::Null);

    // Joining a group changes the user's `groups`, so its tag, though its row is untouched.
    let groups = format!("/scim/v2/{}/Groups", ws.key);
    let group = app
        .post(
            &groups,
            &token,
            &json!({"displayName": "Sales", "members": [{"value": id_of(&jane)}]}),
        )
        .await
        .expect(201);
    let joined = app.get(&path, &token).await;
    let second = joined.header("etag").unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(joined.body["meta"]["version"], json!(second));
    assert_eq!(
        tagged_get(&app, &path, &token, &first)
            .await
            .status
            .as_u16(),
        200
    );
    assert_eq!(
        tagged_get(&app, &path, &token, &second)
            .await
            .status
            .as_u16(),
        304
    );

    // A write that names the tag from before the group change is refused.
    let stale = app
        .call_with_headers(
            Method::PATCH,
            &path,
            &token,
            &patch_active(false),
            &[("If-Match", &first)],
        )
        .await;
    stale.assert_scim_error(412, None);
    let fresh = app
        .call_with_headers(
            Method::PATCH,
            &path,
            &token,
            &patch_active(false),
            &[("If-Match", &second)],
        )
        .await;
    assert_eq!(fresh.status.as_u16(), 200, "{}", fresh.body);

    // Leaving the group moves it again.
    let group_path = format!("{groups}/{}", id_of(&group));
    let leave = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "remove", "path": "members"}]});
    let left = app.patch(&group_path, &token, &leave).await;
    assert!(left.status.is_success(), "{}", left.body);
    let after = app.get(&path, &token).await;
    assert_ne!(after.header("etag"), fresh.header("etag"));

    // Groups: the same rules on their own version.
    let read_group = app.get(&group_path, &token).await;
    let group_tag = read_group.header("etag").unwrap().to_owned();
    assert_eq!(
        tagged_get(&app, &group_path, &token, &group_tag)
            .await
            .status
            .as_u16(),
        304
    );
    assert_eq!(
        tagged_get(&app, &group_path, &token, "W/\"999\"")
            .await
            .status
            .as_u16(),
        200
    );
}

#[actix_web::test]
async fn discovery_announces_etags() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let config = app
        .get(
            &format!("/scim/v2/{}/ServiceProviderConfig", ws.key),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(config["etag"]["supported"], json!(true));
}
