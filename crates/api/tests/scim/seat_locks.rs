//! Lock order with limited seats: a change that may take a seat locks the workspace row
//! before the user, as creations, deletions and member links do; other changes leave the row
//! alone.

use std::time::Duration;

use actix_web::http::{Method, StatusCode};
use serde_json::json;
use webwork_scim_domain::Workspace;

use crate::support::*;

/// A Premium workspace whose active users are limited to `seats`.
async fn premium_with_seats(app: &TestApp, seats: u32) -> (Workspace, String) {
    let (ws, token) = app.premium("Acme").await;
    app.call(
        Method::PUT,
        &format!("/api/v1/workspaces/{}/seats", ws.key),
        Some(&platform()),
        Some(&json!({"seats": seats})),
    )
    .await
    .expect(200);
    (ws, token)
}

/// The ids of `count` users created and then deactivated, which a reactivation gives a seat.
async fn deactivated(app: &TestApp, ws: &Workspace, token: &str, count: usize) -> Vec<String> {
    let ids = created(app, ws, token, "u", count).await;
    for id in &ids {
        app.patch(&user(ws, id), token, &patch_active(false))
            .await
            .expect(200);
    }
    ids
}

#[actix_web::test]
async fn reactivations_racing_deletions_of_the_same_users_never_fail_with_limited_seats() {
    let app = TestApp::start().await;
    let (ws, token) = premium_with_seats(&app, 100).await;
    let ids = deactivated(&app, &ws, &token, 24).await;
    // A reactivation counts the seats under the workspace row's lock, which a deletion takes
    // before the user's: taken in the other order, the two would wait for each other until the
    // database broke the cycle (answered 503). Half reactivate by PATCH, half by the PUT of
    // Okta's custom apps.
    let races = ids.iter().enumerate().map(|(n, id)| {
        let (app, ws, token) = (&app, &ws, &token);
        async move {
            futures_join(
                async {
                    if n % 2 == 0 {
                        return app
                            .patch(&user(ws, id), token, &patch_active(true))
                            .await
                            .status;
                    }
                    let body = json!({
                        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                        "userName": format!("u{n}@acme.com"),
                        "active": true,
                    });
                    app.put(&user(ws, id), token, &body).await.status
                },
                async { app.delete(&user(ws, id), token).await.status },
            )
            .await
        }
    });
    for (reactivated, deleted) in join_all(races).await {
        assert_eq!(deleted, StatusCode::NO_CONTENT);
        assert!(
            reactivated == StatusCode::OK || reactivated == StatusCode::NOT_FOUND,
            "{reactivated}"
        );
    }
    let listed = app.get(&users(&ws), &token).await.expect(200);
    assert_eq!(listed["totalResults"], 0);
}

#[actix_web::test]
async fn group_pushes_racing_reactivations_of_their_members_never_fail_with_limited_seats() {
    let app = TestApp::start().await;
    let (ws, token) = premium_with_seats(&app, 100).await;
    let groups_path = format!("/scim/v2/{}/Groups", ws.key);
    let group = app
        .post(&groups_path, &token, &json!({"displayName": "Engineering"}))
        .await
        .expect(201);
    let group_path = format!("{groups_path}/{}", group["id"].as_str().unwrap());
    let ids = deactivated(&app, &ws, &token, 24).await;
    // The push share-locks the member and writes events, whose foreign keys take a key-share
    // lock on the workspace row; the reactivation, with seats limited, holds the workspace row
    // before it locks the user. A workspace lock that excluded key-share locks would close the
    // cycle.
    let races = ids.iter().map(|id| {
        let (app, ws, token, group_path) = (&app, &ws, &token, &group_path);
        let push = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]
        });
        let reactivate = json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"displayName": format!("User {id}"), "active": true}}]
        });
        async move {
            futures_join(
                async move { app.patch(group_path, token, &push).await.status },
                async move { app.patch(&user(ws, id), token, &reactivate).await.status },
            )
            .await
        }
    });
    for (pushed, reactivated) in join_all(races).await {
        assert!(pushed.is_success(), "{pushed}");
        assert_eq!(reactivated, StatusCode::OK);
    }
    let group = app.get(&group_path, &token).await.expect(200);
    assert_eq!(group["members"].as_array().map(Vec::len), Some(24));
}

/// A transaction of the test's own holding a lock; ended when dropped too, so that a failed
/// assertion leaves no request of the server waiting for it.
struct Holder(webwork_scim_persistence::db::PooledConnection);

impl Holder {
    fn end(&mut self) {
        use diesel::connection::SimpleConnection;
        let _ = self.0.batch_execute("ROLLBACK");
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.end();
    }
}

/// Whether a backend of the database waits for a lock.
fn someone_waits_for_a_lock(conn: &mut webwork_scim_persistence::DbConnection) -> bool {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        waiting: i64,
    }
    diesel::sql_query(
        "SELECT count(*) AS waiting FROM pg_stat_activity
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    )
    .get_result::<Waiting>(conn)
    .is_ok_and(|row| row.waiting > 0)
}

#[actix_web::test]
async fn with_limited_seats_only_a_change_that_takes_a_seat_waits_for_the_workspace_row() {
    use diesel::connection::SimpleConnection;
    use std::sync::atomic::{AtomicBool, Ordering};
    use webwork_scim_persistence::Backend;

    let app = TestApp::start().await;
    if app.state.store().backend() != Backend::Postgres {
        return; // row locks: SQLite's writer holds the whole database for every change
    }
    let (ws, token) = premium_with_seats(&app, 100).await;
    let ids = created(&app, &ws, &token, "u", 2).await;
    let (profile, reactivated) = (&ids[0], &ids[1]);
    app.patch(&user(&ws, reactivated), &token, &patch_active(false))
        .await
        .expect(200);
    // Another transaction holds the workspace row as a seat check or a settings change does.
    let mut holder = Holder(app.state.store().raw_connection().unwrap());
    holder
        .0
        .batch_execute(&format!(
            "BEGIN; SELECT set_config('app.workspace_id', '{id}', true);
             SELECT id FROM workspaces WHERE id = '{id}' FOR NO KEY UPDATE;",
            id = ws.id
        ))
        .unwrap();
    // Profile updates of an active user go on (were one to wait, the client's timeout would
    // fail the test): a PATCH, and Okta's PUT, which says `"active": true` every time.
    let rename = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "value": {"displayName": "Still active", "active": true}}]
    });
    app.patch(&user(&ws, profile), &token, &rename)
        .await
        .expect(200);
    let mut okta = okta_user("u0@acme.com");
    okta["title"] = json!("Engineer");
    let replaced = app
        .put(&user(&ws, profile), &token, &okta)
        .await
        .expect(200);
    assert_eq!(replaced["title"], "Engineer");
    // A reactivation counts the seats under that row's lock: it waits until the holder ends.
    let released = AtomicBool::new(false);
    let (answer, waited) = futures_join(
        async {
            let answer = app
                .patch(&user(&ws, reactivated), &token, &patch_active(true))
                .await;
            (answer, released.load(Ordering::SeqCst))
        },
        async {
            let mut waited = false;
            for _ in 0..500 {
                if someone_waits_for_a_lock(&mut holder.0) {
                    waited = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            released.store(true, Ordering::SeqCst);
            holder.end();
            waited
        },
    )
    .await;
    let (answer, after_release) = answer;
    assert!(waited, "the reactivation waited for a lock");
    assert!(
        after_release,
        "and was answered once the workspace row was released"
    );
    assert_eq!(answer.expect(200)["active"], true);
}
