//! Concurrent requests, as identity providers and WebWork's app send them: every use case reads,
//! checks and writes in one transaction with what it changes locked, so concurrent changes queue
//! instead of failing, and no limit is exceeded by requests that each saw room.

use actix_web::http::Method;
use serde_json::{Value, json};

use crate::support::*;

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Whether a change is in the final user.
type Check = Box<dyn Fn(&Value) -> bool>;

/// 32 changes, each to a different attribute, and how to find each in the final user.
fn attribute_changes() -> Vec<(Value, Check)> {
    let mut changes = single_valued_changes();
    changes.extend(multi_valued_changes());
    changes
}

fn single_valued_changes() -> Vec<(Value, Check)> {
    let simple = [
        "name.formatted",
        "name.familyName",
        "name.givenName",
        "name.middleName",
        "name.honorificPrefix",
        "name.honorificSuffix",
        "displayName",
        "nickName",
        "profileUrl",
        "title",
        "userType",
        "preferredLanguage",
        "locale",
        "timezone",
        "externalId",
    ];
    let mut changes: Vec<(Value, Check)> = Vec::new();
    for path in simple {
        let value = format!("v-{path}");
        let op = json!({"op": "replace", "path": path, "value": value});
        let (top, sub) = path
            .split_once('.')
            .map_or((path, None), |(t, s)| (t, Some(s)));
        let check = move |user: &Value| {
            let found = sub.map_or(&user[top], |sub| &user[top][sub]);
            *found == json!(value)
        };
        changes.push((op, Box::new(check)));
    }
    for name in [
        "employeeNumber",
        "costCenter",
        "organization",
        "division",
        "department",
    ] {
        let value = format!("v-{name}");
        let op = json!({"op": "replace", "path": format!("{ENTERPRISE}:{name}"), "value": value});
        changes.push((
            op,
            Box::new(move |user: &Value| user[ENTERPRISE][name] == json!(value)),
        ));
    }
    changes.push((
        json!({"op": "replace", "path": format!("{ENTERPRISE}:manager"), "value": {"value": "boss-1"}}),
        Box::new(|user: &Value| user[ENTERPRISE]["manager"]["value"] == json!("boss-1")),
    ));
    changes
}

fn multi_valued_changes() -> Vec<(Value, Check)> {
    let mut changes: Vec<(Value, Check)> = Vec::new();
    let multi = [
        "emails",
        "phoneNumbers",
        "ims",
        "photos",
        "entitlements",
        "roles",
        "x509Certificates",
    ];
    for name in multi {
        let value = format!("added-{name}");
        let op = json!({"op": "add", "path": name, "value": [{"value": value, "type": "other"}]});
        let check = move |user: &Value| {
            user[name]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item["value"] == json!(value)))
        };
        changes.push((op, Box::new(check)));
    }
    let addresses = [
        ("work", "locality"),
        ("work", "postalCode"),
        ("home", "country"),
        ("other", "region"),
    ];
    for (filter, sub) in addresses {
        let value = format!("{filter}-{sub}");
        let path = format!("addresses[type eq \"{filter}\"].{sub}");
        let op = json!({"op": "add", "path": path, "value": value});
        let check = move |user: &Value| {
            user["addresses"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|item| item["type"] == json!(filter) && item[sub] == json!(value))
            })
        };
        changes.push((op, Box::new(check)));
    }
    changes
}

fn patch_of(operation: Value) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [operation]
    })
}

#[actix_web::test]
async fn sixty_four_concurrent_patches_of_one_user_all_succeed_and_none_is_lost() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let id = id_of(&app.create_user(&ws, &token, "jane@acme.com").await);
    let path = user(&ws, &id);
    let changes = attribute_changes();
    assert_eq!(changes.len(), 32);
    let mut bodies: Vec<Value> = changes.iter().map(|(op, _)| patch_of(op.clone())).collect();
    bodies.extend((0..32).map(|n| patch_active(n % 2 == 1)));
    let responses = join_all(bodies.iter().map(|body| app.patch(&path, &token, body))).await;
    for response in &responses {
        assert_eq!(response.status.as_u16(), 200, "{}", response.body);
    }
    let final_user = app.get(&path, &token).await.expect(200);
    for (op, present) in &changes {
        assert!(present(&final_user), "{op} is lost: {final_user}");
    }
    // The toggles ran one after another: the audit log alternates, and the user is as the last
    // one left it. Every change moved the version exactly once.
    let log = app
        .call(
            Method::GET,
            &format!(
                "/api/v1/workspaces/{}/audit-events?target_id={id}&limit=500",
                ws.key
            ),
            Some(&admin_of(&ws)),
            None,
        )
        .await
        .expect(200);
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .rev()
        .map(|event| event["action"].as_str().unwrap())
        .collect();
    let toggles: Vec<&&str> = actions
        .iter()
        .filter(|a| **a == "user.deactivated" || **a == "user.reactivated")
        .collect();
    assert!(
        toggles.windows(2).all(|pair| pair[0] != pair[1]),
        "{toggles:?}"
    );
    let active = toggles
        .last()
        .is_none_or(|last| **last == "user.reactivated");
    assert_eq!(final_user["active"], json!(active));
    let updates = actions.iter().filter(|a| **a == "user.updated").count();
    assert_eq!(updates, 32, "{actions:?}");
    let version = format!("W/\"{}\"", 1 + updates + toggles.len());
    assert_eq!(final_user["meta"]["version"], json!(version));
}

#[actix_web::test]
async fn concurrent_token_issues_never_exceed_the_limit() {
    let app = TestApp::start().await;
    let (ws, _token) = app.premium("Acme").await;
    let path = format!("/api/v1/workspaces/{}/tokens", ws.key);
    let admin = admin_of(&ws);
    let body = json!({"label": "okta"});
    let issues = (0..20).map(|_| app.call(Method::POST, &path, Some(&admin), Some(&body)));
    let responses = join_all(issues).await;
    let created = responses
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .count();
    let refused: Vec<_> = responses
        .iter()
        .filter(|r| r.status.as_u16() == 409)
        .collect();
    // Premium allows five active tokens; the workspace had one.
    assert_eq!((created, refused.len()), (4, 16));
    assert!(
        refused[0].body["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("5 active SCIM tokens")),
        "{}",
        refused[0].body
    );
    let listed = app
        .call(Method::GET, &path, Some(&admin), None)
        .await
        .expect(200);
    let active = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|token| token["active"] == json!(true))
        .count();
    assert_eq!(active, 5);
}

#[actix_web::test]
async fn concurrent_rotations_of_one_token_leave_exactly_one_successor() {
    let app = TestApp::start().await;
    let (ws, _token) = app.premium("Acme").await;
    let admin = admin_of(&ws);
    let tokens = format!("/api/v1/workspaces/{}/tokens", ws.key);
    let listed = app
        .call(Method::GET, &tokens, Some(&admin), None)
        .await
        .expect(200);
    let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
    let rotate = format!("{tokens}/{id}/rotate");
    let rotations = (0..10).map(|_| app.call(Method::POST, &rotate, Some(&admin), None));
    let responses = join_all(rotations).await;
    let created: Vec<_> = responses
        .iter()
        .filter(|r| r.status.as_u16() == 201)
        .collect();
    let refused = responses
        .iter()
        .filter(|r| r.status.as_u16() == 409)
        .count();
    assert_eq!((created.len(), refused), (1, 9));
    let listed = app
        .call(Method::GET, &tokens, Some(&admin), None)
        .await
        .expect(200);
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "one successor: {listed}");
    assert_eq!(items[1]["id"], created[0].body["id"]);
}

#[actix_web::test]
async fn concurrent_member_links_never_exceed_the_seats() {
    let app = TestApp::start().await;
    let (ws, _token) = app.premium("Acme").await;
    app.call(
        Method::PUT,
        &format!("/api/v1/workspaces/{}/seats", ws.key),
        Some(&platform()),
        Some(&json!({"seats": 3})),
    )
    .await
    .expect(200);
    let path = format!("/internal/v1/workspaces/{}/members/bulk-upsert", ws.key);
    let service = service_jwt();
    let bodies: Vec<Value> = (0..10)
        .map(|n| json!({"members": [{"userName": format!("m{n}@acme.com")}]}))
        .collect();
    let links = bodies
        .iter()
        .map(|body| app.call(Method::POST, &path, Some(&service), Some(body)));
    let responses = join_all(links).await;
    let linked = responses
        .iter()
        .filter(|r| r.status.as_u16() == 200)
        .count();
    let refused = responses
        .iter()
        .filter(|r| r.status.as_u16() == 403)
        .count();
    assert_eq!((linked, refused), (3, 7));
    let page = app
        .call(
            Method::GET,
            &format!("/api/v1/workspaces/{}/sso", ws.key),
            Some(&admin_of(&ws)),
            None,
        )
        .await
        .expect(200);
    assert_eq!(page["seats_used"], json!(3));
}

#[actix_web::test]
async fn if_match_makes_a_stale_change_fail_with_412_and_write_nothing() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let created = app.create_user(&ws, &token, "jane@acme.com").await;
    let path = user(&ws, &id_of(&created));
    let first = created["meta"]["version"].as_str().unwrap().to_owned();
    let patched = app
        .call_with_headers(
            Method::PATCH,
            &path,
            &token,
            &patch_active(false),
            &[("If-Match", &first)],
        )
        .await;
    assert_eq!(patched.status.as_u16(), 200, "{}", patched.body);
    let stale = app
        .call_with_headers(
            Method::PATCH,
            &path,
            &token,
            &patch_active(true),
            &[("If-Match", &first)],
        )
        .await;
    stale.assert_scim_error(412, None);
    let now = app.get(&path, &token).await.expect(200);
    assert_eq!(
        now["active"],
        json!(false),
        "the stale change wrote nothing"
    );
    let any = app
        .call_with_headers(
            Method::PATCH,
            &path,
            &token,
            &patch_active(true),
            &[("If-Match", "*")],
        )
        .await;
    assert_eq!(any.status.as_u16(), 200);
    let put = app
        .call_with_headers(
            Method::PUT,
            &path,
            &token,
            &okta_user("jane@acme.com"),
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    put.assert_scim_error(412, None);
    let delete = app
        .call_with_headers(
            Method::DELETE,
            &path,
            &token,
            &Value::Null,
            &[("If-Match", "W/\"1\"")],
        )
        .await;
    delete.assert_scim_error(412, None);
    assert_eq!(app.get(&path, &token).await.status.as_u16(), 200);
    // Without If-Match nothing fails for a version.
    assert_eq!(app.delete(&path, &token).await.status.as_u16(), 204);
}

#[actix_web::test]
async fn a_valid_token_is_answered_while_bad_ones_hammer_its_workspace() {
    let app = TestApp::start().await;
    let (ws, token) = app.premium("Acme").await;
    let path = users(&ws);
    app.get(&path, &token).await.expect(200);
    let prefix = &token[..token.len() - 65];
    let attacks: Vec<String> = (0..300)
        .map(|n| {
            if n % 2 == 0 {
                format!("wwscim_{n:012x}_{}", "a".repeat(64))
            } else {
                format!("{prefix}_{:064x}", n)
            }
        })
        .collect();
    let attacker = async {
        let mut refused = 0;
        for bad in &attacks {
            let status = app.get(&path, bad).await.status.as_u16();
            assert!(status == 401 || status == 429, "{status}");
            refused += 1;
        }
        refused
    };
    let idp = async {
        let mut answered = Vec::new();
        for _ in 0..60 {
            answered.push(app.get(&path, &token).await.status.as_u16());
        }
        answered
    };
    let (refused, answered) = futures_join(attacker, idp).await;
    assert_eq!(refused, 300);
    assert!(answered.iter().all(|status| *status == 200), "{answered:?}");
}
