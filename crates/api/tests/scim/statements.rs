//! The queries of the SCIM calls IdPs repeat all day are prepared once per connection and
//! reused: the second time a call runs, no query is parsed or planned again.

use serde_json::json;
use webwork_scim_persistence::testing::{TestDb, pool_settings};
use webwork_scim_persistence::{PoolSettings, StatementLog, Store, audit, outbox};

use crate::support::*;

fn patch(operations: serde_json::Value) -> serde_json::Value {
    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations})
}

/// Okta's calls, each shape once; `n` varies the values. Group Push adds `members` beside the
/// new user: 85 and the new one (64 + 16 + 4 + 1 + 1) take every length of statement a
/// multi-row insert is split into.
async fn okta_calls(
    app: &TestApp,
    ws: &webwork_scim_domain::Workspace,
    token: &str,
    members: &[String],
    n: usize,
) {
    let name = format!("new{n}@acme.com");
    let lookup = format!("{}?filter=userName%20eq%20%22{name}%22", users(ws));
    assert_eq!(app.get(&lookup, token).await.body["totalResults"], 0);
    let body = json!({"userName": name, "name": {"givenName": "A", "familyName": "B"}});
    let id = id_of(&app.post(&users(ws), token, &body).await.expect(201));
    assert_eq!(app.get(&lookup, token).await.body["totalResults"], 1);
    app.get(&user(ws, &id), token).await.expect(200);
    let listing = format!("{}?startIndex=1&count=2", users(ws));
    app.get(&listing, token).await.expect(200);
    for active in [false, true] {
        let body = patch(json!([{"op": "replace", "value": {"active": active}}]));
        app.patch(&user(ws, &id), token, &body).await.expect(200);
    }
    let replaced = json!({"userName": name, "name": {"givenName": "C", "familyName": "D"}});
    app.put(&user(ws, &id), token, &replaced).await.expect(200);
    let groups = format!("/scim/v2/{}/Groups", ws.key);
    let group = json!({"displayName": format!("Team {n}")});
    let group = id_of(&app.post(&groups, token, &group).await.expect(201));
    let value: Vec<_> = members
        .iter()
        .chain([&id])
        .map(|member| json!({"value": member}))
        .collect();
    let add = patch(json!([{"op": "add", "path": "members", "value": value}]));
    let added = app.patch(&format!("{groups}/{group}"), token, &add).await;
    assert!(added.status.is_success(), "{}", added.status);
    // Entra ID deletes the users it unassigns; the member row goes with the user.
    assert_eq!(app.delete(&user(ws, &id), token).await.status, 204);
}

/// An app on a new database whose store logs every statement it runs (`adjust` changes its
/// pool), and whether that store has SQLite's writer thread.
fn logged_app(adjust: impl FnOnce(&mut PoolSettings)) -> (TestApp, StatementLog, bool) {
    let db = TestDb::new();
    let log = StatementLog::default();
    let mut settings = PoolSettings {
        statement_log: Some(log.clone()),
        ..pool_settings()
    };
    adjust(&mut settings);
    let store = Store::connect(&db.url, &settings).unwrap();
    let sqlite = store.has_writer_thread();
    (TestApp::on_store(db, store), log, sqlite)
}

#[actix_web::test]
async fn okta_calls_reuse_the_statements_their_first_run_prepared() {
    if !pool_settings().prepared_statements {
        return; // turned off, as behind a pooler in transaction mode
    }
    let (app, log, sqlite) = logged_app(|settings| settings.max_size = 1);
    let (ws, token) = app.premium("Acme").await;
    let mut members = Vec::new();
    for n in 0..85 {
        let body = json!({"userName": format!("member{n}@acme.com")});
        members.push(id_of(
            &app.post(&users(&ws), &token, &body).await.expect(201),
        ));
    }
    okta_calls(&app, &ws, &token, &members, 0).await;
    log.clear_runs();
    okta_calls(&app, &ws, &token, &members, 1).await;
    assert!(log.runs() > 20, "the calls ran {} statements", log.runs());
    // Every query, UPDATE and INSERT is reused, multi-row INSERTs included (the group's
    // members): none is prepared again.
    let anew = log.prepared_anew();
    assert!(anew.is_empty(), "{anew:#?}");
    if sqlite {
        let control = log.control_prepared_anew();
        assert!(control.is_empty(), "{control:#?}");
    }
}

#[actix_web::test]
async fn a_change_to_a_user_writes_its_audit_and_outbox_rows_in_one_statement_on_postgresql_two_on_sqlite()
 {
    let (app, log, sqlite) = logged_app(|_| {});
    let postgres = !sqlite;
    let (ws, token) = app.premium("Acme").await;
    let events = || {
        let outbox = app.db.store.read(ws.id, outbox::list).unwrap().len();
        let query = audit::LogQuery {
            limit: 100,
            ..Default::default()
        };
        let audit = app
            .db
            .store
            .read(ws.id, |tx| audit::list(tx, query))
            .unwrap();
        (audit.len(), outbox)
    };
    // The statements of one call that write audit or outbox rows.
    let writes = || {
        log.ran()
            .into_iter()
            .filter(|sql| sql.contains("audit_events") || sql.contains("outbox_events"))
            .collect::<Vec<_>>()
    };

    let before = events();
    log.clear_runs();
    let id = id_of(
        &app.post(&users(&ws), &token, &okta_user("jane@acme.com"))
            .await
            .expect(201),
    );
    let mut calls = vec![("POST", writes())];
    log.clear_runs();
    app.patch(&user(&ws, &id), &token, &patch_active(false))
        .await
        .expect(200);
    calls.push(("PATCH", writes()));
    log.clear_runs();
    app.put(&user(&ws, &id), &token, &okta_user("jane.doe@acme.com"))
        .await
        .expect(200);
    calls.push(("PUT", writes()));
    log.clear_runs();
    assert_eq!(app.delete(&user(&ws, &id), &token).await.status, 204);
    calls.push(("DELETE", writes()));

    // One statement per event on PostgreSQL (naming both tables), two on SQLite.
    let both = |sql: &String| sql.contains("audit_events") && sql.contains("outbox_events");
    for (call, statements) in &calls {
        assert!(!statements.is_empty(), "{call} wrote no event");
        assert!(
            statements.iter().all(|sql| both(sql) == postgres),
            "{call}: {statements:#?}"
        );
    }
    let (audit, outbox) = events();
    let (audit, outbox) = (audit - before.0, outbox - before.1);
    assert_eq!(audit, outbox, "every user event is in both");
    let per_event = if postgres { 1 } else { 2 };
    let written: usize = calls.iter().map(|(_, statements)| statements.len()).sum();
    assert_eq!(written, audit * per_event, "{calls:#?}");
}

#[actix_web::test]
async fn an_unfiltered_page_reads_its_total_from_the_count_the_workspace_keeps_a_filtered_one_counts()
 {
    let (app, log, _) = logged_app(|_| {});
    let (ws, token) = app.premium("Acme").await;
    let (other, other_token) = app.premium("Globex").await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let body = json!({"userName": format!("user{n}@acme.com")});
        ids.push(id_of(
            &app.post(&users(&ws), &token, &body).await.expect(201),
        ));
    }
    let body = json!({"userName": "someone@globex.com"});
    app.post(&users(&other), &other_token, &body)
        .await
        .expect(201);
    let deactivate = patch(json!([{"op": "replace", "value": {"active": false}}]));
    app.patch(&user(&ws, &ids[0]), &token, &deactivate)
        .await
        .expect(200);
    assert_eq!(app.delete(&user(&ws, &ids[1]), &token).await.status, 204);
    // The statements one listing ran, and whether any of them counted rows.
    let listed = |query: &'static str| {
        let app = &app;
        let (ws, token, log) = (&ws, &token, &log);
        async move {
            log.clear_runs();
            let body = app
                .get(&format!("{}?{query}", users(ws)), token)
                .await
                .expect(200);
            let ran = log.ran().join("\n");
            (body, ran.to_uppercase().contains("COUNT("), ran)
        }
    };
    for query in ["startIndex=1&count=2", "count=0", "startIndex=50&count=2"] {
        let (body, counted, ran) = listed(query).await;
        assert_eq!(
            body["totalResults"], 4,
            "{query}: the deleted user is not counted"
        );
        assert!(!counted, "{query} counted the users:\n{ran}");
        assert!(ran.contains("live_users"), "{query}:\n{ran}");
    }
    let (body, _, _) = listed("startIndex=1&count=10").await;
    let listed_ids: Vec<_> = body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|user| user["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed_ids.len(), 4);
    assert!(!listed_ids.contains(&ids[1]));
    let (body, counted, ran) = listed("filter=active%20eq%20true&count=2").await;
    assert_eq!(body["totalResults"], 3);
    assert!(counted, "a filtered page counts what matches:\n{ran}");
}
