//! Cursor pagination (RFC 9865) on `/Users` and `/Groups`: pages in creation order that survive
//! creations and deletions between them, backward as well as forward, and cursors that mean
//! nothing in another workspace.

use std::collections::HashSet;

use serde_json::{Value, json};

use crate::support::*;

fn cursor_query(cursor: &Value) -> String {
    cursor
        .as_str()
        .map_or(String::new(), |c| format!("&cursor={c}"))
}

#[actix_web::test]
async fn cursor_pages_survive_changes_between_them_and_walk_both_ways() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut ids = Vec::new();
    for n in 1..=5 {
        ids.push(id_of(
            &app.create_user(&ws, &token, &format!("u{n}@acme.com"))
                .await,
        ));
    }
    let first = app
        .get(&format!("{}?cursor&count=2", users(&ws)), &token)
        .await
        .expect(200);
    assert_eq!(resource_names(&first), ["u1@acme.com", "u2@acme.com"]);
    assert_eq!(first["totalResults"], json!(5));
    assert!(first.get("startIndex").is_none() && first.get("previousCursor").is_none());

    // Between pages: a user not yet seen is deleted and a new one created.
    app.delete(&user(&ws, &ids[3]), &token).await;
    app.create_user(&ws, &token, "u6@acme.com").await;

    let mut seen: Vec<String> = resource_names(&first);
    let mut page = first.clone();
    let mut pages = vec![first];
    while page.get("nextCursor").is_some() {
        let next = format!(
            "{}?count=2{}",
            users(&ws),
            cursor_query(&page["nextCursor"])
        );
        page = app.get(&next, &token).await.expect(200);
        seen.extend(resource_names(&page));
        pages.push(page.clone());
    }
    assert_eq!(
        seen,
        [
            "u1@acme.com",
            "u2@acme.com",
            "u3@acme.com",
            "u5@acme.com",
            "u6@acme.com"
        ]
    );
    assert_eq!(
        seen.iter().collect::<HashSet<_>>().len(),
        seen.len(),
        "nothing repeated"
    );

    // Back from the second page: the first page again.
    let back = format!(
        "{}?count=2{}",
        users(&ws),
        cursor_query(&pages[1]["previousCursor"])
    );
    let again = app.get(&back, &token).await.expect(200);
    assert_eq!(resource_names(&again), ["u1@acme.com", "u2@acme.com"]);
    assert!(again.get("previousCursor").is_none());
    assert!(again.get("nextCursor").is_some());

    // The same through a search.
    let searched = app
        .post(
            &format!("{}/.search", users(&ws)),
            &token,
            &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                    "cursor": "", "count": 3, "filter": "userName sw \"u\""}),
        )
        .await
        .expect(200);
    assert_eq!(
        resource_names(&searched),
        ["u1@acme.com", "u2@acme.com", "u3@acme.com"]
    );
}

#[actix_web::test]
async fn cursors_are_refused_elsewhere_and_groups_page_alike() {
    let app = TestApp::start().await;
    let (acme, acme_token) = app.premium("Acme").await;
    let (globex, globex_token) = app.premium("Globex").await;
    let groups = |ws: &webwork_scim_domain::Workspace| format!("/scim/v2/{}/Groups", ws.key);
    for name in ["Sales", "Support", "Admins"] {
        app.post(&groups(&acme), &acme_token, &json!({"displayName": name}))
            .await
            .expect(201);
    }
    let first = app
        .get(&format!("{}?cursor=&count=2", groups(&acme)), &acme_token)
        .await
        .expect(200);
    assert_eq!(resource_names(&first), ["Sales", "Support"]);
    let next = first["nextCursor"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("{}?cursor={next}&count=2", groups(&acme)),
            &acme_token,
        )
        .await
        .expect(200);
    assert_eq!(resource_names(&second), ["Admins"]);
    assert!(second.get("nextCursor").is_none());

    // Acme's cursor in Globex, a made-up one, and a cursor beside sortBy are refused.
    app.get(&format!("{}?cursor={next}", groups(&globex)), &globex_token)
        .await
        .assert_scim_error(400, Some("invalidCursor"));
    app.get(&format!("{}?cursor=0123abcd", users(&acme)), &acme_token)
        .await
        .assert_scim_error(400, Some("invalidCursor"));
    app.get(
        &format!("{}?cursor&sortBy=userName", users(&acme)),
        &acme_token,
    )
    .await
    .assert_scim_error(400, Some("invalidValue"));
    let config = app
        .get(
            &format!("/scim/v2/{}/ServiceProviderConfig", acme.key),
            &acme_token,
        )
        .await
        .expect(200);
    assert_eq!(config["pagination"]["cursor"], json!(true));
    assert_eq!(config["pagination"]["index"], json!(true));
}
