//! `POST /.search` (RFC 7644 §3.4.3) on `/Users`, `/Groups` and the SCIM Base URL: the same
//! listing as a `GET`, its parameters in the body.

use actix_web::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

fn search(body: Value) -> Value {
    let mut request = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    if let (Some(request), Some(body)) = (request.as_object_mut(), body.as_object()) {
        request.extend(body.clone());
    }
    request
}

#[actix_web::test]
async fn searches_answer_as_the_same_gets_do() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for name in ["ann@acme.com", "bob@acme.com", "cat@acme.com"] {
        app.create_user(&ws, &token, name).await;
    }
    let groups = format!("/scim/v2/{}/Groups", ws.key);
    app.post(&groups, &token, &json!({"displayName": "Sales"}))
        .await
        .expect(201);

    let found = app
        .post(
            &format!("{}/.search", users(&ws)),
            &token,
            &search(json!({"filter": "userName sw \"b\"", "attributes": ["userName", "name.givenName"]})),
        )
        .await
        .expect(200);
    let got = app
        .get(
            &format!(
                "{}?filter=userName%20sw%20%22b%22&attributes=userName,name.givenName",
                users(&ws)
            ),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(found, got);
    assert_eq!(resource_names(&found), ["bob@acme.com"]);
    assert_eq!(found["Resources"][0]["name"], json!({"givenName": "Jane"}));

    let windowed = app
        .post(
            &format!("{}/.search", users(&ws)),
            &token,
            &search(json!({"startIndex": 2, "count": 1})),
        )
        .await
        .expect(200);
    assert_eq!(
        (windowed["totalResults"].clone(), resource_names(&windowed)),
        (json!(3), vec!["bob@acme.com".to_owned()])
    );

    let group_page = app
        .post(
            &format!("{groups}/.search"),
            &token,
            &search(json!({"excludedAttributes": ["members"]})),
        )
        .await
        .expect(200);
    assert_eq!(group_page["totalResults"], json!(1));
    assert!(group_page["Resources"][0].get("members").is_none());

    // At the root: users, then groups, one window over both.
    let root = format!("/scim/v2/{}/.search", ws.key);
    let all = app
        .post(&root, &token, &search(json!({"startIndex": 3, "count": 5})))
        .await
        .expect(200);
    assert_eq!(all["totalResults"], json!(4));
    assert_eq!(resource_names(&all), ["cat@acme.com", "Sales"]);
    // A filter only users can answer selects no group.
    let only_users = app
        .post(
            &root,
            &token,
            &search(json!({"filter": "userName eq \"ann@acme.com\""})),
        )
        .await
        .expect(200);
    assert_eq!(resource_names(&only_users), ["ann@acme.com"]);
    assert_eq!(only_users["totalResults"], json!(1));
}

#[actix_web::test]
async fn bad_search_bodies_are_400_and_other_methods_405() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let path = format!("{}/.search", users(&ws));
    for body in [
        json!({"filter": "userName eq \"x\""}),
        search(json!({"count": "ten"})),
        search(json!({"attributes": [7]})),
        search(json!({"filter": "userName eq"})),
    ] {
        let refused = app.post(&path, &token, &body).await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{body}: {}",
            refused.body
        );
    }
    let get = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[actix_web::test]
async fn lists_and_searches_sort_by_any_singular_attribute() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for (name, family) in [
        ("ann@acme.com", "Young"),
        ("bob@acme.com", "adams"),
        ("cat@acme.com", "Mills"),
    ] {
        let mut body = okta_user(name);
        body["name"]["familyName"] = json!(family);
        app.post(&users(&ws), &token, &body).await.expect(201);
    }
    let sorted = app
        .get(
            &format!("{}?sortBy=name.familyName&sortOrder=descending", users(&ws)),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(
        resource_names(&sorted),
        ["ann@acme.com", "cat@acme.com", "bob@acme.com"]
    );
    let searched = app
        .post(
            &format!("{}/.search", users(&ws)),
            &token,
            &search(json!({"sortBy": "name.familyName", "startIndex": 2, "count": 1})),
        )
        .await
        .expect(200);
    assert_eq!(resource_names(&searched), ["cat@acme.com"]);
    app.get(&format!("{}?sortBy=emails.type", users(&ws)), &token)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    // Also beside the look-up by userName, which takes a way of its own.
    app.get(
        &format!(
            "{}?filter=userName%20eq%20%22ann@acme.com%22&sortBy=emails.type",
            users(&ws)
        ),
        &token,
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    app.get(
        &format!("{}?sortBy=userName&sortOrder=up", users(&ws)),
        &token,
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    let config = app
        .get(
            &format!("/scim/v2/{}/ServiceProviderConfig", ws.key),
            &token,
        )
        .await
        .expect(200);
    assert_eq!(config["sort"]["supported"], json!(true));
}
