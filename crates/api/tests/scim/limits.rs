//! Rate limits, the failed-attempt throttle, concurrent seat checks, and how fast a change on
//! one replica reaches another.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use webwork_scim_domain::Workspace;

use crate::support::*;

async fn set_overrides(app: &TestApp, ws: &Workspace, overrides: serde_json::Value) {
    let path = format!("/api/v1/workspaces/{}/entitlement-overrides", ws.key);
    let response = app
        .call(
            Method::PUT,
            &path,
            Some(&platform()),
            Some(&json!({"overrides": overrides})),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

#[actix_web::test]
async fn a_noisy_workspace_is_throttled_while_a_quiet_one_is_served() {
    let app = TestApp::start().await;
    let (noisy, noisy_token) = app.premium("Noisy").await;
    let (quiet, quiet_token) = app.premium("Quiet").await;
    set_overrides(&app, &noisy, json!({"requests_per_second": 1, "burst": 5})).await;
    let mut limited = None;
    for _ in 0..20 {
        let response = app.get(&users(&noisy), &noisy_token).await;
        if response.status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(response);
            break;
        }
    }
    let limited = limited.expect("the noisy workspace hits its limit");
    limited.assert_scim_error(429, None);
    let retry: u64 = limited
        .header("retry-after")
        .unwrap()
        .parse()
        .expect("an integer Retry-After");
    assert!((1..=2).contains(&retry), "{retry}");
    for _ in 0..10 {
        assert_eq!(
            app.get(&users(&quiet), &quiet_token).await.status,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn the_default_premium_burst_absorbs_a_large_assignment() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    for i in 0..150 {
        let response = app
            .get(
                &format!("{}?filter=userName+eq+%22u{i}%40acme.com%22", users(&ws)),
                &token,
            )
            .await;
        assert_eq!(response.status, StatusCode::OK, "request {i}");
    }
}

#[actix_web::test]
async fn failures_are_throttled_per_real_token_prefix_and_never_lock_out_a_valid_token() {
    let app = TestApp::start_with(|config| config.failed_auth_per_prefix = 3).await;
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    assert_eq!(app.get(&users(&ws), &token).await.status, StatusCode::OK);
    let wrong = format!("{}{}", &token[..token.len() - 4], "0000");
    for _ in 0..3 {
        app.get(&users(&ws), &wrong)
            .await
            .assert_scim_error(401, None);
    }
    let throttled = app.get(&users(&ws), &wrong).await;
    throttled.assert_scim_error(429, None);
    assert!(throttled.header("retry-after").is_some());
    assert_eq!(
        app.get(&users(&ws), &token).await.status,
        StatusCode::OK,
        "the right secret passes a throttled prefix"
    );
    // Unknown prefixes are refused without argon2 and count against no one.
    let runs = app.use_cases().auth.argon2_runs();
    for i in 0..100 {
        let guess = format!("wwscim_{:012x}_{}", i, "1".repeat(64));
        app.get(&users(&ws), &guess)
            .await
            .assert_scim_error(401, None);
    }
    assert_eq!(app.use_cases().auth.argon2_runs(), runs);
    let fresh = app.token(&ws).await;
    assert_eq!(app.get(&users(&ws), &fresh).await.status, StatusCode::OK);
    assert_eq!(
        app.get(&users(&other), &other_token).await.status,
        StatusCode::OK
    );
}

#[actix_web::test]
async fn concurrent_creations_cannot_exceed_the_seats() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let path = format!("/api/v1/workspaces/{}/seats", ws.key);
    app.call(
        Method::PUT,
        &path,
        Some(&platform()),
        Some(&json!({"seats": 3})),
    )
    .await
    .expect(200);
    let bodies: Vec<_> = (0..8)
        .map(|i| okta_user(&format!("u{i}@acme.com")))
        .collect();
    let path = users(&ws);
    let creations = bodies.iter().map(|body| app.post(&path, &token, body));
    let results = join_all(creations).await;
    let created = results
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let refused = results
        .iter()
        .filter(|r| r.status == StatusCode::FORBIDDEN)
        .count();
    assert_eq!((created, refused), (3, 5));
    assert_eq!(
        app.get(&users(&ws), &token).await.body["totalResults"],
        json!(3)
    );
}

#[actix_web::test]
async fn a_downgrade_reaches_other_replicas_within_the_cache_time_to_live() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let ttl = Duration::from_millis(800);
    let (_other_state, other) = app.replica(|config| config.tenant_cache_ttl = ttl);
    let on_other = |path: String| {
        let request = other
            .request(Method::GET, other.url(&path))
            .insert_header(("Authorization", format!("Bearer {token}")));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(
        on_other(users(&ws)).await,
        StatusCode::OK,
        "the other replica caches the caller"
    );
    crate::tenancy::set_plan(&app, &ws, webwork_scim_domain::Plan::Pro).await;
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(403, None);
    assert_eq!(
        on_other(users(&ws)).await,
        StatusCode::OK,
        "still within its time-to-live"
    );
    // After its time-to-live the other replica reads the plan again.
    let changed_at = std::time::Instant::now();
    eventually(ttl * 5, async || {
        on_other(users(&ws)).await == StatusCode::FORBIDDEN
    })
    .await;
    assert!(changed_at.elapsed() < ttl * 2);
    crate::tenancy::set_plan(&app, &ws, webwork_scim_domain::Plan::Premium).await;
    // An upgrade spreads the same way.
    eventually(ttl * 5, async || {
        on_other(users(&ws)).await == StatusCode::OK
    })
    .await;
}

#[actix_web::test]
async fn a_revocation_reaches_other_replicas_within_the_cache_time_to_live() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let ttl = Duration::from_millis(800);
    let (_other_state, other) = app.replica(|config| config.tenant_cache_ttl = ttl);
    let on_other = || {
        let request = other
            .request(Method::GET, other.url(&users(&ws)))
            .insert_header(("Authorization", format!("Bearer {token}")));
        async move { request.send().await.unwrap().status() }
    };
    assert_eq!(on_other().await, StatusCode::OK);
    let listed = app.use_cases().list_tokens(ws.key.as_str()).await.unwrap();
    let revoke = format!("/api/v1/workspaces/{}/tokens/{}", ws.key, listed[0].id);
    app.call(Method::DELETE, &revoke, Some(&admin_of(&ws)), None)
        .await
        .expect(200);
    app.get(&users(&ws), &token)
        .await
        .assert_scim_error(401, None);
    // After its time-to-live the other replica reads the token's revocation.
    eventually(ttl * 5, async || {
        on_other().await == StatusCode::UNAUTHORIZED
    })
    .await;
}

#[actix_web::test]
async fn a_workspace_holds_at_most_the_configured_users_even_under_concurrent_creations() {
    let app = TestApp::start_with(|config| config.max_users_per_workspace = 5).await;
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    app.create_user(&other, &other_token, "elsewhere@globex.com")
        .await;
    let creations = (0..12).map(|n| {
        let (app, ws, token) = (&app, &ws, &token);
        async move {
            app.post(&users(ws), token, &okta_user(&format!("u{n}@acme.com")))
                .await
        }
    });
    let answers = join_all(creations).await;
    let created = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    assert_eq!(created, 5, "another workspace's users do not count");
    for refused in answers.iter().filter(|a| a.status != StatusCode::CREATED) {
        refused.assert_scim_error(403, None);
        assert!(
            refused.body["detail"].as_str().unwrap().contains("5 users"),
            "{}",
            refused.body
        );
    }
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], 5);

    // Inactive users count; deleted ones do not.
    let first = id_of(&listed["Resources"][0]);
    app.patch(&user(&ws, &first), &token, &patch_active(false))
        .await
        .expect(200);
    app.post(&users(&ws), &token, &okta_user("late@acme.com"))
        .await
        .assert_scim_error(403, None);
    app.delete(&user(&ws, &first), &token).await.expect(204);
    app.post(&users(&ws), &token, &okta_user("late@acme.com"))
        .await
        .expect(201);

    // WebWork's app linking members meets the same limit.
    let body = json!({"members": [{"userName": "linked@acme.com"}]});
    let path = format!("/workspaces/{}/members/bulk-upsert", ws.key);
    let linked = app.internal(Method::POST, &path, Some(&body)).await;
    assert_eq!(linked.status, StatusCode::FORBIDDEN, "{}", linked.body);
}

#[actix_web::test]
async fn values_beyond_postgresql_index_limits_are_refused_not_failed() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let mut long_external = okta_user("jane@acme.com");
    long_external["externalId"] = json!("x".repeat(3000));
    let mut long_email = okta_user("bob@acme.com");
    long_email["emails"] =
        json!([{"value": format!("{}@acme.com", "b".repeat(3000)), "primary": true}]);
    for (body, attribute) in [
        (long_external, "'externalId'"),
        (long_email, "'emails.value'"),
    ] {
        let refused = app.post(&users(&ws), &token, &body).await;
        refused.assert_scim_error(400, Some("invalidValue"));
        assert!(
            refused.body["detail"].as_str().unwrap().contains(attribute),
            "{}",
            refused.body
        );
    }
    let group = json!({"displayName": "Sales", "externalId": "g".repeat(3000)});
    app.post(&format!("/scim/v2/{}/Groups", ws.key), &token, &group)
        .await
        .assert_scim_error(400, Some("invalidValue"));
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], 0);
}

#[actix_web::test]
async fn concurrent_creations_and_deletions_leave_the_workspace_count_exact() {
    let app = TestApp::start_with(|config| config.max_users_per_workspace = 10).await;
    let (ws, token) = app.premium("Acme").await;
    let first = created(&app, &ws, &token, "old", 8).await;
    // Each deleted user's name is created again at the same time: a create waits on the
    // deletion's row while the deletion updates the workspace's count.
    let deletions = first.iter().map(|id| {
        let (app, ws, token) = (&app, &ws, &token);
        async move { app.delete(&user(ws, id), token).await.status }
    });
    let creations = (0..8).map(|n| {
        let (app, ws, token) = (&app, &ws, &token);
        async move {
            app.post(&users(ws), token, &okta_user(&format!("old{n}@acme.com")))
                .await
                .status
        }
    });
    let (deleted, created) = futures_join(join_all(deletions), join_all(creations)).await;
    assert!(
        deleted.iter().all(|s| *s == StatusCode::NO_CONTENT),
        "{deleted:?}"
    );
    let created = created
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], created);
    // The count the limit checks is the number of users there are: exactly the rest fits.
    for n in created..10 {
        app.post(&users(&ws), &token, &okta_user(&format!("new{n}@acme.com")))
            .await
            .expect(201);
    }
    app.post(&users(&ws), &token, &okta_user("one-too-many@acme.com"))
        .await
        .assert_scim_error(403, None);
}
