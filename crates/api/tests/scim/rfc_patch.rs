//! The PATCH examples of RFC 7644 §3.5.2.1–3, replayed against users and groups of a workspace
//! (the RFC's ids replaced by ours), and the member shapes identity providers send.

use serde_json::{Value, json};

use crate::support::*;

fn patch_op(operations: Value) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// Applies `operations` to `path`, then reads the resource back.
async fn patched(app: &TestApp, path: &str, token: &str, operations: Value) -> Value {
    let answer = app.patch(path, token, &patch_op(operations)).await;
    assert!(answer.status.is_success(), "{}", answer.body);
    app.get(path, token).await.expect(200)
}

fn member_ids(group: &Value) -> Vec<String> {
    let mut ids: Vec<String> = group["members"]
        .as_array()
        .map(|members| {
            members
                .iter()
                .map(|m| m["value"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[actix_web::test]
async fn the_rfcs_group_examples_apply() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let babs = id_of(&app.create_user(&ws, &token, "babs@example.com").await);
    let james = id_of(&app.create_user(&ws, &token, "james@example.com").await);
    let groups = format!("/scim/v2/{}/Groups", ws.key);
    let group = app
        .post(&groups, &token, &json!({"displayName": "Tour Guides"}))
        .await
        .expect(201);
    let path = format!("{groups}/{}", id_of(&group));
    let reference = |id: &str| format!("https://example.com/v2/Users/{id}");

    // §3.5.2.1: add a member.
    let added = patched(
        &app,
        &path,
        &token,
        json!([{"op": "add", "path": "members",
        "value": [{"display": "Babs Jensen", "$ref": reference(&babs), "value": babs}]}]),
    )
    .await;
    assert_eq!(member_ids(&added), std::slice::from_ref(&babs));

    // §3.5.2.2: remove one member by filter, then all, then remove and add in one request.
    let removed = patched(
        &app,
        &path,
        &token,
        json!([{"op": "remove",
        "path": format!("members[value eq \"{babs}\"]")}]),
    )
    .await;
    assert!(member_ids(&removed).is_empty());
    patched(
        &app,
        &path,
        &token,
        json!([{"op": "add", "path": "members", "value": [{"value": babs}, {"value": james}]}]),
    )
    .await;
    let emptied = patched(
        &app,
        &path,
        &token,
        json!([{"op": "remove", "path": "members"}]),
    )
    .await;
    assert!(member_ids(&emptied).is_empty());
    patched(
        &app,
        &path,
        &token,
        json!([{"op": "add", "path": "members", "value": [{"value": babs}]}]),
    )
    .await;
    let swapped = patched(&app, &path, &token, json!([
        {"op": "remove", "path": format!("members[value eq \"{babs}\"]")},
        {"op": "add", "path": "members", "value": [{"display": "James Smith", "$ref": reference(&james), "value": james}]}
    ])).await;
    assert_eq!(member_ids(&swapped), std::slice::from_ref(&james));

    // §3.5.2.3: replace all members.
    let replaced = patched(
        &app,
        &path,
        &token,
        json!([{"op": "replace", "path": "members", "value": [
            {"display": "Babs Jensen", "$ref": reference(&babs), "value": babs},
            {"display": "James Smith", "$ref": reference(&james), "value": james}
        ]}]),
    )
    .await;
    let mut both = vec![babs.clone(), james.clone()];
    both.sort();
    assert_eq!(member_ids(&replaced), both);

    // A member that is a group is refused, whatever its type says; nothing is written.
    let other = app
        .post(&groups, &token, &json!({"displayName": "Drivers"}))
        .await
        .expect(201);
    let nested = app
        .patch(
            &path,
            &token,
            &patch_op(json!([{"op": "add", "path": "members",
        "value": [{"value": id_of(&other)}]}])),
        )
        .await;
    nested.assert_scim_error(400, Some("invalidValue"));
    assert!(
        nested.body["detail"]
            .as_str()
            .unwrap()
            .contains("nested groups are not supported")
    );
    assert_eq!(member_ids(&app.get(&path, &token).await.expect(200)), both);
}

#[actix_web::test]
async fn the_rfcs_user_examples_apply() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("bjensen@example.com");
    body["emails"] = json!([{"value": "bjensen@example.com", "type": "work", "primary": true}]);
    body["addresses"] = json!([{"type": "work", "streetAddress": "100 Universal City Plaza",
                                 "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                                 "country": "USA", "primary": true}]);
    let created = app.post(&users(&ws), &token, &body).await.expect(201);
    let path = user(&ws, &id_of(&created));

    // §3.5.2.1: add without a path.
    let added = patched(
        &app,
        &path,
        &token,
        json!([{"op": "add", "value": {
        "emails": [{"value": "babs@jensen.org", "type": "home"}], "nickName": "Babs"}}]),
    )
    .await;
    assert_eq!(added["nickName"], "Babs");
    assert_eq!(added["emails"].as_array().unwrap().len(), 2);

    // §3.5.2.2: remove by a filter on two sub-attributes.
    let removed = patched(
        &app,
        &path,
        &token,
        json!([{"op": "remove",
        "path": "emails[type eq \"work\" and value ew \"example.com\"]"}]),
    )
    .await;
    assert_eq!(
        removed["emails"],
        json!([{"value": "babs@jensen.org", "type": "home"}])
    );

    // §3.5.2.3: replace a filtered element, then one of its sub-attributes.
    let address = json!({"type": "work", "streetAddress": "911 Universal City Plaza",
                         "locality": "Hollywood", "region": "CA", "postalCode": "91608",
                         "country": "US", "formatted": "911 Universal City Plaza\nHollywood, CA 91608 US",
                         "primary": true});
    let moved = patched(
        &app,
        &path,
        &token,
        json!([{"op": "replace",
        "path": "addresses[type eq \"work\"]", "value": address}]),
    )
    .await;
    assert_eq!(moved["addresses"], json!([address]));
    let street = patched(
        &app,
        &path,
        &token,
        json!([{"op": "replace",
        "path": "addresses[type eq \"work\"].streetAddress", "value": "1010 Broadway Ave"}]),
    )
    .await;
    assert_eq!(street["addresses"][0]["streetAddress"], "1010 Broadway Ave");

    // §3.5.2.3: replace without a path.
    let emails = json!([{"value": "bjensen@example.com", "type": "work", "primary": true},
                        {"value": "babs@jensen.org", "type": "home"}]);
    let replaced = patched(
        &app,
        &path,
        &token,
        json!([{"op": "replace",
        "value": {"emails": emails, "nickName": "Babs"}}]),
    )
    .await;
    assert_eq!(replaced["emails"], emails);
}
