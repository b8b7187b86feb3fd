//! `POST /Bulk` (RFC 7644 §3.7): bulkId references, failOnErrors, the announced limits, and
//! operations that fail alone with their own error bodies.

use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

fn bulk_path(workspace: &Workspace) -> String {
    format!("/scim/v2/{}/Bulk", workspace.key)
}

async fn group_count(app: &TestApp, workspace: &Workspace, token: &str) -> Value {
    let path = format!("/scim/v2/{}/Groups", workspace.key);
    app.get(&path, token).await.expect(200)["totalResults"].clone()
}

fn request(operations: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": operations})
}

fn statuses(answer: &Value) -> Vec<String> {
    answer["Operations"]
        .as_array()
        .expect("a BulkResponse")
        .iter()
        .map(|op| {
            op["status"]
                .as_str()
                .expect("status as a string")
                .to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn a_group_is_created_with_members_that_the_same_request_creates() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    // The group comes first and refers to users created after it: it waits for them.
    let body = request(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "team",
         "data": {"displayName": "Team", "members": [{"value": "bulkId:ann"}, {"value": "bulkId:bob"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "ann", "data": okta_user("ann@acme.com")},
        {"method": "POST", "path": "/Users", "bulkId": "bob",
         "data": {"userName": "bob@acme.com", "externalId": "00ubob"}},
        {"method": "PATCH", "path": "/Users/bulkId:bob",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "value": {"title": "Lead"}}]}},
    ]));
    let answer = app.post(&bulk_path(&ws), &token, &body).await.expect(200);
    assert_eq!(
        answer["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    assert_eq!(statuses(&answer), ["201", "201", "201", "200"], "{answer}");
    let ops = answer["Operations"].as_array().unwrap();
    assert_eq!(ops[0]["bulkId"], "team");
    assert_eq!(ops[1]["method"], "POST");
    let group_location = ops[0]["location"].as_str().unwrap();
    let ann_location = ops[1]["location"].as_str().unwrap();
    assert!(ops[1]["version"].as_str().unwrap().starts_with("W/\""));
    let ann_id = ann_location.rsplit('/').next().unwrap();
    let bob_id = ops[2]["location"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap();
    let group_id = group_location.rsplit('/').next().unwrap();
    let group = app
        .get(&format!("/scim/v2/{}/Groups/{group_id}", ws.key), &token)
        .await
        .expect(200);
    let mut members: Vec<&str> = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap())
        .collect();
    members.sort_unstable();
    let mut expected = vec![ann_id, bob_id];
    expected.sort_unstable();
    assert_eq!(members, expected);
    let bob = app.get(&user(&ws, bob_id), &token).await.expect(200);
    assert_eq!(bob["title"], "Lead");
    assert_eq!(bob["groups"][0]["value"], group_id);
    // Each operation is counted as its single request would be, and the request once.
    let page = crate::operations::metrics_page(&app).await;
    for (resource, operation, expected) in [
        ("User", "create", 2.0),
        ("Group", "create", 1.0),
        ("User", "patch", 1.0),
        ("Bulk", "request", 1.0),
    ] {
        assert_eq!(
            operations_counted(&page, resource, operation, "success"),
            expected,
            "{resource} {operation}"
        );
    }
}

/// The `scim_operations_total` sample of one resource, operation and outcome.
fn operations_counted(page: &str, resource: &str, operation: &str, outcome: &str) -> f64 {
    page.lines()
        .filter(|line| line.starts_with("webwork_scim_scim_operations_total{"))
        .filter(|line| {
            line.contains(&format!("resource=\"{resource}\""))
                && line.contains(&format!("operation=\"{operation}\""))
                && line.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|line| line.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

#[actix_web::test]
async fn fail_on_errors_stops_the_request_and_earlier_operations_stay_done() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    app.create_user(&ws, &token, "taken@acme.com").await;
    let mut taken = okta_user("taken@acme.com");
    taken["externalId"] = json!("00uother");
    let body = json!({
        "schemas": [BULK_REQUEST],
        "failOnErrors": 1,
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": "a@acme.com"}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": taken},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": {"userName": "c@acme.com"}},
        ],
    });
    let answer = app.post(&bulk_path(&ws), &token, &body).await.expect(200);
    assert_eq!(statuses(&answer), ["201", "409"], "{answer}");
    let conflict = &answer["Operations"][1]["response"];
    assert_eq!(
        conflict["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(conflict["status"], "409");
    assert_eq!(conflict["scimType"], "uniqueness");
    let listed = app
        .get(&format!("{}?filter=userName+sw+%22%22", users(&ws)), &token)
        .await
        .expect(200);
    let mut names = resource_names(&listed);
    names.sort();
    // The first operation committed on its own; the third never ran.
    assert_eq!(names, ["a@acme.com", "taken@acme.com"]);
}

#[actix_web::test]
async fn bad_operations_are_answered_in_place_and_the_rest_run() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    let theirs = id_of(&app.create_user(&other, &other_token, "x@globex.com").await);
    let mine = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let patch = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                       "Operations": [{"op": "replace", "path": "active", "value": false}]});
    let body = request(json!([
        {"method": "GET", "path": "/Users"},
        {"method": "POST", "path": "/Things", "bulkId": "t", "data": {}},
        {"method": "POST", "path": "/Users", "data": {"userName": "no-bulk-id@acme.com"}},
        {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"userName": 7}},
        {"method": "PATCH", "path": format!("/Users/{theirs}"), "data": patch},
        {"method": "PUT", "path": format!("/Users/{mine}"), "data": {"userName": "jane@acme.com"},
         "version": "W/\"999\""},
        {"method": "POST", "path": "/Groups", "bulkId": "g",
         "data": {"displayName": "G", "members": [{"value": "bulkId:nobody"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "h",
         "data": {"displayName": "H", "members": [{"value": "bulkId:bad"}]}},
        {"method": "PATCH", "path": format!("/Users/{mine}"), "data": patch},
        {"method": "DELETE", "path": format!("/Users/{mine}")},
    ]));
    let answer = app.post(&bulk_path(&ws), &token, &body).await.expect(200);
    assert_eq!(
        statuses(&answer),
        [
            "400", "400", "400", "400", "404", "412", "400", "409", "200", "204"
        ],
        "{answer}"
    );
    for op in answer["Operations"].as_array().unwrap() {
        if op["status"].as_str().unwrap().starts_with('4') {
            let response = &op["response"];
            assert_eq!(response["status"], op["status"], "{op}");
            assert!(response["detail"].is_string(), "{op}");
        }
    }
    let ops = answer["Operations"].as_array().unwrap();
    // `bulkId:nobody` names no operation of the request: it stays as written, and is no user.
    assert_eq!(ops[6]["response"]["scimType"], "invalidValue");
    // `bad` was declared but failed: what refers to it cannot run.
    assert_eq!(ops[7]["response"]["scimType"], "invalidValue");
    // Every operation on a resource says where it is, failed or not.
    for (n, id) in [(4, &theirs), (5, &mine), (8, &mine), (9, &mine)] {
        let location = ops[n]["location"].as_str().unwrap_or_default();
        assert!(location.ends_with(&format!("/Users/{id}")), "{}", ops[n]);
    }
    // The other workspace's user is untouched; this one was patched, then deleted.
    let still = app
        .get(&user(&other, &theirs), &other_token)
        .await
        .expect(200);
    assert_eq!(still["active"], json!(true));
    app.get(&user(&ws, &mine), &token)
        .await
        .assert_scim_error(404, None);
    assert_eq!(group_count(&app, &ws, &token).await, json!(0));
}

#[actix_web::test]
async fn requests_past_the_announced_limits_are_413_and_write_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let operations: Vec<Value> = (0..1001)
        .map(|i| {
            json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                   "data": {"userName": format!("u{i}@acme.com")}})
        })
        .collect();
    app.post(&bulk_path(&ws), &token, &request(Value::Array(operations)))
        .await
        .assert_scim_error(413, None);
    let big = request(json!([
        {"method": "POST", "path": "/Users", "bulkId": "big",
         "data": {"userName": "big@acme.com", "title": "x".repeat(1_100_000)}},
    ]));
    app.post(&bulk_path(&ws), &token, &big)
        .await
        .assert_scim_error(413, None);
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], json!(0));
    for malformed in [
        json!({"Operations": []}),
        json!({"schemas": [BULK_REQUEST], "Operations": {}}),
        json!({"schemas": [BULK_REQUEST], "Operations": [], "failOnErrors": 0}),
    ] {
        app.post(&bulk_path(&ws), &token, &malformed)
            .await
            .assert_scim_error(400, Some("invalidSyntax"));
    }
    app.get(&bulk_path(&ws), &token)
        .await
        .assert_scim_error(405, None);
}

#[actix_web::test]
async fn references_in_a_cycle_are_409_and_nothing_they_name_is_created() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = request(json!([
        {"method": "POST", "path": "/Groups", "bulkId": "a",
         "data": {"displayName": "A", "members": [{"value": "bulkId:b"}]}},
        {"method": "POST", "path": "/Groups", "bulkId": "b",
         "data": {"displayName": "B", "members": [{"value": "bulkId:a"}]}},
    ]));
    let answer = app.post(&bulk_path(&ws), &token, &body).await.expect(200);
    assert_eq!(statuses(&answer), ["409", "409"], "{answer}");
    assert_eq!(group_count(&app, &ws, &token).await, json!(0));
}

#[actix_web::test]
async fn concurrent_bulk_requests_create_each_user_once() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let bodies: Vec<Value> = (0..4)
        .map(|attempt| {
            let operations: Vec<Value> = (0..10)
                .map(|i| {
                    json!({"method": "POST", "path": "/Users", "bulkId": format!("u{i}"),
                           "data": {"userName": format!("user{i}@acme.com"),
                                    "externalId": format!("00u{attempt}-{i}")}})
                })
                .collect();
            request(Value::Array(operations))
        })
        .collect();
    let path = bulk_path(&ws);
    let answers = join_all(bodies.iter().map(|body| app.post(&path, &token, body))).await;
    let mut created = 0;
    for answer in answers {
        let answer = answer.expect(200);
        for status in statuses(&answer) {
            match status.as_str() {
                "201" => created += 1,
                "409" => {}
                other => panic!("unexpected status {other}: {answer}"),
            }
        }
    }
    assert_eq!(created, 10);
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], json!(10));
}

#[actix_web::test]
async fn a_bulk_id_belongs_to_its_first_post_and_undeclared_ones_are_plain_text() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    // The second `dup` comes later in the request; the reference waits for the first.
    let body = request(json!([
        {"method": "PATCH", "path": "/Users/bulkId:dup",
         "data": {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                  "Operations": [{"op": "replace", "path": "title", "value": "bulkId:not-declared"}]}},
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "first@acme.com"}},
        {"method": "POST", "path": "/Users", "bulkId": "dup", "data": {"userName": "second@acme.com"}},
    ]));
    let answer = app.post(&bulk_path(&ws), &token, &body).await.expect(200);
    assert_eq!(statuses(&answer), ["200", "201", "400"], "{answer}");
    let first = answer["Operations"][1]["location"].as_str().unwrap();
    let id = first.rsplit('/').next().unwrap();
    let stored = app.get(&user(&ws, id), &token).await.expect(200);
    assert_eq!(stored["userName"], "first@acme.com");
    assert_eq!(stored["title"], "bulkId:not-declared");
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], json!(1));
}
