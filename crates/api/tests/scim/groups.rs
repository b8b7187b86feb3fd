//! `/Groups` as Okta's Group Push and Entra ID's group provisioning use it.

use actix_web::http::StatusCode;
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

fn groups(workspace: &Workspace) -> String {
    format!("/scim/v2/{}/Groups", workspace.key)
}

fn group(workspace: &Workspace, id: &str) -> String {
    format!("/scim/v2/{}/Groups/{id}", workspace.key)
}

fn patch(operations: Value) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": operations})
}

/// The member ids of a group resource, sorted.
fn member_ids(resource: &Value) -> Vec<String> {
    let mut ids: Vec<String> = resource["members"]
        .as_array()
        .expect("members are shown")
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

#[actix_web::test]
async fn okta_group_push_creates_renames_and_moves_members() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let bob = id_of(&app.create_user(&ws, &token, "bob@acme.com").await);

    let lookup = format!(
        "{}?filter=displayName%20eq%20%22Sales%22&startIndex=1&count=100",
        groups(&ws)
    );
    let none = app.get(&lookup, &token).await;
    assert_eq!(
        (none.status, none.body["totalResults"].clone()),
        (StatusCode::OK, json!(0))
    );

    let created = app
        .post(
            &groups(&ws),
            &token,
            &json!({"displayName": "Sales", "members": []}),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = id_of(&created.body);
    assert_eq!(
        created.body["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:Group"])
    );
    assert_eq!(created.body["meta"]["resourceType"], "Group");
    assert_eq!(created.body["members"], json!([]));
    let location = created.body["meta"]["location"].as_str().unwrap();
    assert_eq!(created.header("location"), Some(location));
    assert!(location.ends_with(&format!("/Groups/{id}")));
    assert_eq!(
        app.get(&lookup, &token).await.body["totalResults"],
        json!(1)
    );

    let renamed = app
        .patch(
            &group(&ws, &id),
            &token,
            &patch(json!([{"op": "replace", "value": {"id": id, "displayName": "Sales EMEA"}}])),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::NO_CONTENT, "{}", renamed.body);

    let add_both = patch(json!([{"op": "add", "path": "members", "value": [
        {"value": jane, "display": "jane@acme.com"}, {"value": bob, "display": "bob@acme.com"}]}]));
    assert_eq!(
        app.patch(&group(&ws, &id), &token, &add_both).await.status,
        StatusCode::NO_CONTENT
    );
    let moved = patch(json!([
        {"op": "remove", "path": format!("members[value eq \"{bob}\"]")},
        {"op": "add", "path": "members", "value": [{"value": jane, "display": "jane@acme.com"}]}
    ]));
    assert_eq!(
        app.patch(&group(&ws, &id), &token, &moved).await.status,
        StatusCode::NO_CONTENT
    );
    let read = app.get(&group(&ws, &id), &token).await;
    assert_eq!(read.body["displayName"], "Sales EMEA");
    assert_eq!(member_ids(&read.body), vec![jane.clone()]);
    let member = &read.body["members"][0];
    assert_eq!(member["display"], "jane@acme.com");
    assert_eq!(member["type"], "User");
    assert!(
        member["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Users/{jane}"))
    );
    assert_eq!(read.header("etag"), Some("W/\"4\""));

    // A custom app pushes the whole group with PUT.
    let put = app
        .put(
            &group(&ws, &id),
            &token,
            &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "id": id,
                    "displayName": "Sales EMEA", "members": [{"value": bob}]}),
        )
        .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(member_ids(&put.body), vec![bob.clone()]);

    // Okta's full push: replace the member list.
    let full = patch(
        json!([{"op": "replace", "path": "members", "value": [{"value": jane}, {"value": bob}]}]),
    );
    app.patch(&group(&ws, &id), &token, &full).await.expect(204);
    assert_eq!(
        member_ids(&app.get(&group(&ws, &id), &token).await.body),
        sorted(vec![jane.clone(), bob.clone()])
    );

    assert_eq!(
        app.delete(&group(&ws, &id), &token).await.status,
        StatusCode::NO_CONTENT
    );
    app.get(&group(&ws, &id), &token)
        .await
        .assert_scim_error(404, None);
    app.delete(&group(&ws, &id), &token)
        .await
        .assert_scim_error(404, None);
}

#[actix_web::test]
async fn entra_groups_keep_unlisted_members_and_never_load_excluded_ones() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Contoso").await;
    let mut ids = Vec::new();
    for name in ["a@contoso.com", "b@contoso.com", "c@contoso.com"] {
        ids.push(id_of(&app.create_user(&ws, &token, name).await));
    }
    let created = app
        .post(
            &groups(&ws),
            &token,
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                            "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
                "externalId": "e1a2b3", "displayName": "Engineering", "members": []
            }),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let id = id_of(&created.body);
    assert_eq!(created.body["externalId"], "e1a2b3");

    app.post(&groups(&ws), &token, &json!({"displayName": "ENGINEERING"}))
        .await
        .assert_scim_error(409, Some("uniqueness"));

    let add = patch(json!([{"op": "Add", "path": "members", "value": ids.iter()
        .map(|id| json!({"value": id, "$ref": null})).collect::<Vec<_>>()}]));
    assert_eq!(
        app.patch(&group(&ws, &id), &token, &add).await.status,
        StatusCode::NO_CONTENT
    );
    let remove_one =
        patch(json!([{"op": "Remove", "path": "members", "value": [{"value": ids[1]}]}]));
    assert_eq!(
        app.patch(&group(&ws, &id), &token, &remove_one)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    let read = app.get(&group(&ws, &id), &token).await;
    assert_eq!(
        member_ids(&read.body),
        sorted(vec![ids[0].clone(), ids[2].clone()]),
        "only the listed member left"
    );

    let lean = app
        .get(
            &format!("{}?excludedAttributes=members", group(&ws, &id)),
            &token,
        )
        .await;
    assert_eq!(lean.status, StatusCode::OK);
    assert!(lean.body.get("members").is_none(), "{}", lean.body);
    assert_eq!(lean.body["displayName"], "Engineering");
    let by_external = app
        .get(
            &format!(
                "{}?excludedAttributes=members&filter=externalId+eq+%22e1a2b3%22",
                groups(&ws)
            ),
            &token,
        )
        .await;
    assert_eq!(by_external.body["totalResults"], json!(1));
    assert!(by_external.body["Resources"][0].get("members").is_none());

    // A PATCH that asks for attributes gets the group back.
    let echoed = app
        .patch(
            &format!("{}?excludedAttributes=members", group(&ws, &id)),
            &token,
            &patch(json!([{"op": "Replace", "path": "displayName", "value": "Eng"}])),
        )
        .await;
    assert_eq!(echoed.status, StatusCode::OK, "{}", echoed.body);
    assert_eq!(echoed.body["displayName"], "Eng");
    assert!(echoed.body.get("members").is_none());
}

#[actix_web::test]
async fn bad_members_filters_and_bodies_are_refused_and_write_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let stranger = id_of(&app.create_user(&other, &other_token, "x@globex.com").await);
    let id = id_of(
        &app.post(&groups(&ws), &token, &json!({"displayName": "Sales"}))
            .await
            .body,
    );

    for member in [
        stranger.as_str(),
        "0190f0d0-0000-7000-8000-000000000000",
        "not-an-id",
    ] {
        let response = app
            .patch(
                &group(&ws, &id),
                &token,
                &patch(json!([{"op": "add", "path": "members",
                               "value": [{"value": jane}, {"value": member}]}])),
            )
            .await;
        response.assert_scim_error(400, Some("invalidValue"));
        assert!(
            response.body["detail"]
                .as_str()
                .unwrap()
                .contains("is not a user of this workspace"),
            "{}",
            response.body
        );
    }
    assert_eq!(
        app.get(&group(&ws, &id), &token).await.body["members"],
        json!([]),
        "the valid member of a refused request was not added"
    );
    app.post(
        &groups(&ws),
        &token,
        &json!({"displayName": "Ops", "members": [{"value": stranger}]}),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    assert_eq!(
        app.get(&groups(&ws), &token).await.body["totalResults"],
        json!(1)
    );

    app.patch(
        &group(&ws, &id),
        &token,
        &patch(json!([{"op": "remove", "path": "members[display eq \"jane\"]"}])),
    )
    .await
    .assert_scim_error(400, Some("invalidFilter"));
    app.get(
        &format!("{}?filter=members.nosuch+eq+%22x%22", groups(&ws)),
        &token,
    )
    .await
    .assert_scim_error(400, Some("invalidFilter"));
    app.post(&groups(&ws), &token, &json!({"members": []}))
        .await
        .assert_scim_error(400, Some("invalidValue"));
    app.post(
        &groups(&ws),
        &token,
        &json!({"schemas": ["urn:example:nope"], "displayName": "X"}),
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    app.call_raw(
        actix_web::http::Method::POST,
        &groups(&ws),
        Some(&token),
        Some("{\"displayName\": "),
        "application/scim+json",
    )
    .await
    .assert_scim_error(400, Some("invalidSyntax"));

    // Another workspace's group is as unknown as a made-up one.
    let theirs = id_of(
        &app.post(
            &groups(&other),
            &other_token,
            &json!({"displayName": "Theirs"}),
        )
        .await
        .body,
    );
    app.get(&group(&ws, &theirs), &token)
        .await
        .assert_scim_error(404, None);
    app.put(
        &group(&ws, &theirs),
        &token,
        &json!({"displayName": "Mine now"}),
    )
    .await
    .assert_scim_error(404, None);
    app.patch(
        &group(&ws, &theirs),
        &token,
        &patch(json!([{"op": "add", "path": "members", "value": [{"value": jane}]}])),
    )
    .await
    .assert_scim_error(404, None);
    app.delete(&group(&ws, &theirs), &token)
        .await
        .assert_scim_error(404, None);
    let intact = app.get(&group(&other, &theirs), &other_token).await;
    assert_eq!(
        (
            intact.body["displayName"].clone(),
            intact.body["members"].clone()
        ),
        (json!("Theirs"), json!([]))
    );
}

#[actix_web::test]
async fn concurrent_member_patches_lose_no_member() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut ids = Vec::new();
    for i in 0..12 {
        ids.push(id_of(
            &app.create_user(&ws, &token, &format!("u{i}@acme.com"))
                .await,
        ));
    }
    let id = id_of(
        &app.post(&groups(&ws), &token, &json!({"displayName": "All"}))
            .await
            .body,
    );
    let url = group(&ws, &id);
    let responses = join_all(ids.iter().map(|member| {
        let body = patch(json!([{"op": "add", "path": "members", "value": [{"value": member}]}]));
        let (app, token, url) = (&app, &token, &url);
        async move { app.patch(url, token, &body).await.status }
    }))
    .await;
    assert!(
        responses.iter().all(|s| *s == StatusCode::NO_CONTENT),
        "{responses:?}"
    );
    assert_eq!(member_ids(&app.get(&url, &token).await.body), sorted(ids));
}

#[actix_web::test]
async fn deactivation_keeps_memberships_and_deletion_ends_them() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let bob = id_of(&app.create_user(&ws, &token, "bob@acme.com").await);
    let id = id_of(
        &app.post(
            &groups(&ws),
            &token,
            &json!({"displayName": "Sales", "members": [{"value": jane}, {"value": bob}]}),
        )
        .await
        .body,
    );
    let shown = app.get(&user(&ws, &jane), &token).await.body;
    assert_eq!(shown["groups"][0]["value"], json!(id));
    assert_eq!(shown["groups"][0]["display"], "Sales");
    assert!(
        shown["groups"][0]["$ref"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/Groups/{id}"))
    );
    let listed = app
        .get(
            &format!("{}?filter=userName+eq+%22bob%40acme.com%22", users(&ws)),
            &token,
        )
        .await
        .body;
    assert_eq!(listed["Resources"][0]["groups"][0]["value"], json!(id));
    // Okta PUTs back what GET showed; the read-only groups are ignored, memberships kept.
    let mut echoed = shown.clone();
    echoed["groups"] = json!([]);
    assert_eq!(
        app.put(&user(&ws, &jane), &token, &echoed).await.status,
        StatusCode::OK
    );
    app.patch(&user(&ws, &jane), &token, &patch_active(false))
        .await
        .expect(200);
    app.patch(&user(&ws, &jane), &token, &patch_active(true))
        .await
        .expect(200);
    assert_eq!(
        member_ids(&app.get(&group(&ws, &id), &token).await.body),
        sorted(vec![jane.clone(), bob.clone()])
    );
    assert_eq!(
        app.delete(&user(&ws, &bob), &token).await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        member_ids(&app.get(&group(&ws, &id), &token).await.body),
        vec![jane]
    );
}

#[actix_web::test]
async fn group_changes_are_audited_with_attribute_names() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let jane = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let id = id_of(
        &app.post(&groups(&ws), &token, &json!({"displayName": "Sales"}))
            .await
            .body,
    );
    app.patch(
        &group(&ws, &id),
        &token,
        &patch(json!([{"op": "add", "path": "members", "value": [{"value": jane}]}])),
    )
    .await
    .expect(204);
    app.delete(&group(&ws, &id), &token).await.expect(204);
    let log = app
        .get(
            &format!("/api/v1/workspaces/{}/audit-events?target_id={id}", ws.key),
            &admin_of(&ws),
        )
        .await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let actions: Vec<(String, Value)> = log.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["attributes"].clone(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        vec![
            ("group.deleted".to_owned(), json!([])),
            ("group.updated".to_owned(), json!(["members"])),
            ("group.created".to_owned(), json!(["displayName"])),
        ]
    );
}
