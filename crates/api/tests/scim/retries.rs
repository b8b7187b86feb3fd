//! A create retried after its answer was lost (Okta and Entra ID retry a POST that timed out)
//! answers with the user the first attempt made and changes nothing; anything that differs from
//! that attempt is still a uniqueness conflict.

use actix_web::http::Method;
use serde_json::{Value, json};
use webwork_scim_domain::Workspace;

use crate::support::*;

async fn created_events(app: &TestApp, ws: &Workspace) -> usize {
    let path = format!(
        "/api/v1/workspaces/{}/audit-events?action=user.created",
        ws.key
    );
    let log = app
        .call(Method::GET, &path, Some(&admin_of(ws)), None)
        .await
        .expect(200);
    log["items"].as_array().map_or(0, Vec::len)
}

#[actix_web::test]
async fn a_retried_create_answers_with_the_user_it_made_and_changes_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = okta_user("jane@acme.com");
    let first = app.post(&users(&ws), &token, &body).await;
    assert_eq!(first.status.as_u16(), 201, "{}", first.body);

    let retry = app.post(&users(&ws), &token, &body).await;
    assert_eq!(retry.status.as_u16(), 201, "{}", retry.body);
    assert_eq!(retry.body["id"], first.body["id"]);
    assert_eq!(retry.body["meta"]["version"], first.body["meta"]["version"]);
    assert_eq!(retry.header("location"), first.header("location"));
    assert_eq!(created_events(&app, &ws).await, 1, "no second event");

    // Whatever differs from the first attempt is another person or another intent.
    let mut other_person = body.clone();
    other_person["externalId"] = json!("00u2other");
    let mut other_name = body.clone();
    other_name["displayName"] = json!("Jane Q. Doe");
    let mut other_password = body.clone();
    other_password["password"] = json!("Another-Secret-7");
    let mut inactive = body.clone();
    inactive["active"] = json!(false);
    for conflicting in [other_person, other_name, other_password, inactive] {
        app.post(&users(&ws), &token, &conflicting)
            .await
            .assert_scim_error(409, Some("uniqueness"));
    }
    let stored = app
        .get(&user(&ws, &id_of(&first.body)), &token)
        .await
        .expect(200);
    assert_eq!(stored["displayName"], "Jane Doe");
    assert_eq!(stored["meta"]["version"], first.body["meta"]["version"]);
    assert_eq!(created_events(&app, &ws).await, 1);
}

#[actix_web::test]
async fn without_an_external_id_a_second_create_is_a_conflict() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let body = json!({"userName": "sam@acme.com", "active": true});
    app.post(&users(&ws), &token, &body).await.expect(201);
    app.post(&users(&ws), &token, &body)
        .await
        .assert_scim_error(409, Some("uniqueness"));
}

#[actix_web::test]
async fn attempts_of_one_create_that_race_all_answer_with_one_user() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut body = okta_user("kim@acme.com");
    body.as_object_mut().map(|b| b.remove("password"));
    let path = users(&ws);
    let answers = join_all((0..8).map(|_| app.post(&path, &token, &body))).await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|answer| {
            assert_eq!(answer.status.as_u16(), 201, "{}", answer.body);
            &answer.body["id"]
        })
        .collect();
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], json!(1));
    assert_eq!(created_events(&app, &ws).await, 1);
}
