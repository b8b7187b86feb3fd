//! Keys stored under an older folding are recomputed by the migration: look-alike names that
//! were two keys become one, the older row keeps it, and the pair is reported.

use diesel::connection::SimpleConnection;
use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{Plan, UserId, WorkspaceId};
use webwork_scim_persistence::groups::GroupQuery;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::unscoped::rekey::{Collision, rekey};
use webwork_scim_persistence::{DbConnection, groups, migrations, users};

use crate::support::*;

fn owner(db: &TestDb) -> DbConnection {
    db.owner_url.as_ref().unwrap_or(&db.url).connect().unwrap()
}

fn insert(db: &TestDb, ws: WorkspaceId, body: serde_json::Value) -> UserId {
    db.store
        .write(ws, |tx| users::insert(tx, &draft(body), None))
        .unwrap()
        .id
}

/// What the service stored before compatibility folding: `name` with `key` (both given here
/// as the earlier folding computed them).
fn store_legacy(conn: &mut DbConnection, table: &str, id: &str, column: &str, key: &str) {
    conn.batch_execute(&format!(
        "UPDATE {table} SET {column} = '{key}' WHERE id = '{id}'"
    ))
    .unwrap();
}

fn names_found(db: &TestDb, ws: WorkspaceId, filter: &str) -> Vec<String> {
    let filter = Filter::parse(filter).unwrap();
    db.store
        .read(ws, |tx| users::list(tx, all(Some(&filter))))
        .unwrap()
        .users
        .into_iter()
        .map(|user| user.user_name)
        .collect()
}

/// Two workspaces as the earlier folding left them: in Acme, `ｆinance@x.io` created before
/// `Finance@X.io` (two keys then, one now), a user whose primary email is `Ｊane@x.io`, and the
/// group `Ｓales`; in Globex, `finance@x.io`.
struct Legacy {
    db: TestDb,
    acme: WorkspaceId,
    globex: WorkspaceId,
    wide: UserId,
    plain: UserId,
    sales: webwork_scim_domain::GroupId,
}

fn legacy() -> Legacy {
    let db = TestDb::new();
    let acme = db.workspace("Acme", Plan::Premium, true);
    let globex = db.workspace("Globex", Plan::Premium, true);
    // Created in this order: the full-width one first.
    let wide = insert(&db, acme.id, json!({"userName": "placeholder-1"}));
    let plain = insert(&db, acme.id, json!({"userName": "placeholder-2"}));
    let jane = insert(
        &db,
        acme.id,
        json!({"userName": "jane", "emails": [{"value": "\u{ff2a}ane@x.io", "primary": true}]}),
    );
    insert(&db, globex.id, json!({"userName": "finance@x.io"}));
    let sales = db
        .store
        .write(acme.id, |tx| {
            groups::insert(tx, &group_draft("\u{ff33}ales", &[]))
        })
        .unwrap()
        .group
        .id;

    let mut conn = owner(&db);
    for (id, name, key) in [
        (wide, "\u{ff46}inance@x.io", "\u{ff46}inance@x.io"),
        (plain, "Finance@X.io", "finance@x.io"),
    ] {
        conn.batch_execute(&format!(
            "UPDATE users SET user_name = '{name}', user_name_key = '{key}' WHERE id = '{id}'"
        ))
        .unwrap();
    }
    store_legacy(
        &mut conn,
        "users",
        &jane.to_string(),
        "email_key",
        "\u{ff4a}ane@x.io",
    );
    store_legacy(
        &mut conn,
        "groups",
        &sales.to_string(),
        "display_name_key",
        "\u{ff53}ales",
    );
    conn.batch_execute("UPDATE key_folding SET version = 1")
        .unwrap();
    assert_eq!(
        names_found(&db, acme.id, r#"userName eq "finance@x.io""#),
        ["Finance@X.io"]
    );

    Legacy {
        acme: acme.id,
        globex: globex.id,
        wide,
        plain,
        sales,
        db,
    }
}

#[test]
fn keys_of_the_earlier_folding_are_recomputed_and_look_alikes_reported() {
    let Legacy {
        db,
        acme,
        globex,
        wide,
        plain,
        sales,
    } = legacy();
    let mut conn = owner(&db);
    let rekeyed = rekey(&mut conn).unwrap();
    assert_eq!(
        rekeyed.collisions,
        [Collision {
            table: "users",
            workspace_id: acme.to_string(),
            kept: wide.to_string(),
            renamed: plain.to_string(),
            key: "finance@x.io".into(),
        }]
    );
    assert_eq!(
        (rekeyed.user_names, rekeyed.emails, rekeyed.group_names),
        (2, 1, 1)
    );
    // A look-up by any of the look-alikes finds the older user; the newer is still there by id.
    for name in ["finance@x.io", "\u{ff46}inance@x.io", "FINANCE@X.IO"] {
        let filter = format!(r#"userName eq "{name}""#);
        assert_eq!(
            names_found(&db, acme, &filter),
            ["\u{ff46}inance@x.io"],
            "{name}"
        );
    }
    let newer = db.store.read(acme, |tx| users::find(tx, plain)).unwrap();
    assert_eq!(
        newer.map(|user| user.user_name).as_deref(),
        Some("Finance@X.io")
    );
    assert_eq!(
        names_found(&db, acme, r#"emails.value eq "jane@X.IO""#),
        ["jane"]
    );
    let by_name = Filter::parse(r#"displayName eq "SALES""#).unwrap();
    let query = GroupQuery {
        filter: Some(&by_name),
        sort: None,
        after: None,
        before: None,
        offset: 0,
        limit: 10,
        with_members: false,
        member_budget: 0,
    };
    let found = db.store.read(acme, |tx| groups::list(tx, query)).unwrap();
    assert_eq!(
        found.groups.iter().map(|g| g.id).collect::<Vec<_>>(),
        [sales]
    );
    assert_eq!(
        names_found(&db, globex, r#"userName eq "finance@x.io""#),
        ["finance@x.io"],
        "another workspace's equal name is no collision"
    );

    // Done once: a second migration changes nothing.
    assert_eq!(rekey(&mut conn).unwrap(), Default::default());
    assert!(migrations::run_pending(&mut conn).unwrap().is_empty());
}

#[test]
fn folded_documents_an_earlier_release_left_behind_are_recomputed() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let jane = insert(
        &db,
        ws.id,
        json!({"userName": "jane", "name": {"familyName": "STRAßE"}}),
    );
    let bob = insert(&db, ws.id, json!({"userName": "bob"}));
    let mut conn = owner(&db);
    // As an earlier release inserts (no folded copy) and updates (document and version only).
    conn.batch_execute(&format!(
        "UPDATE users SET folded_document = NULL, folded_version = NULL WHERE id = '{jane}'"
    ))
    .unwrap();
    conn.batch_execute(&format!(
        "UPDATE users SET document = '{{\"userName\": \"bob\", \"title\": \"CTO\"}}', \
         version = version + 1 WHERE id = '{bob}'"
    ))
    .unwrap();
    assert!(names_found(&db, ws.id, r#"name.familyName eq "strasse""#).is_empty());
    assert!(names_found(&db, ws.id, r#"title eq "cto""#).is_empty());
    assert!(db.store.read(ws.id, users::any_stale).unwrap());
    let refolded = db
        .store
        .write(ws.id, |tx| users::refold_stale(tx, 500))
        .unwrap();
    assert_eq!(refolded, 2);
    assert_eq!(
        names_found(&db, ws.id, r#"name.familyName eq "strasse""#),
        ["jane"]
    );
    assert_eq!(names_found(&db, ws.id, r#"title eq "cto""#), ["bob"]);
    let again = db
        .store
        .write(ws.id, |tx| users::refold_stale(tx, 500))
        .unwrap();
    assert_eq!(again, 0);
    assert!(!db.store.read(ws.id, users::any_stale).unwrap());
}
