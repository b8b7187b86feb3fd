//! Deep pages of a workspace's users in id order, found from the page starts a store remembers:
//! always the page their offset names, through every kind of change to the users, and without
//! walking the index again while nothing changed.

use serde_json::json;
use webwork_scim_domain::filter::{AttrPath, Filter};
use webwork_scim_domain::sort::SortBy;
use webwork_scim_domain::{Plan, UserId, WorkspaceId};
use webwork_scim_persistence::testing::{TestDb, pool_settings};
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::{PoolSettings, StatementLog, Store, StoreError};

use crate::support::*;

fn load(db: &TestDb, ws: WorkspaceId, users: usize, prefix: &str) {
    let drafts: Vec<_> = (0..users)
        .map(|n| draft(json!({ "userName": format!("{prefix}{n}") })))
        .collect();
    db.store
        .write(ws, |tx| users::insert_many(tx, &drafts))
        .unwrap();
}

fn page(store: &Store, ws: WorkspaceId, offset: usize, limit: usize) -> (i64, Vec<UserId>) {
    let query = ListQuery {
        offset: i64::try_from(offset).unwrap(),
        limit: i64::try_from(limit).unwrap(),
        ..all(None)
    };
    let page = store.read(ws, |tx| users::list(tx, query)).unwrap();
    (page.total, page.users.iter().map(|user| user.id).collect())
}

/// Every page `store` answers at the offsets around the remembered starts is the slice of the
/// whole listing (read from offset 0, which no start serves) that the offset names.
fn check(store: &Store, ws: WorkspaceId, step: &str) -> Vec<UserId> {
    let (total, every) = page(store, ws, 0, 10_000);
    assert_eq!(usize::try_from(total).unwrap(), every.len(), "{step}");
    let n = every.len();
    for offset in [999, 1000, 1001, 1999, 2000, 2001, 2500, n - 1, n, n + 5] {
        let (total, ids) = page(store, ws, offset, 7);
        let expected = &every[offset.min(n)..(offset + 7).min(n)];
        assert_eq!(ids, expected, "{step}: the page at offset {offset}");
        assert_eq!(
            usize::try_from(total).unwrap(),
            n,
            "{step}: offset {offset}"
        );
    }
    every
}

#[test]
fn a_deep_page_is_the_page_its_offset_names_through_every_change_to_the_users() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let other = db.workspace("Globex", Plan::Premium, true).id;
    load(&db, ws, 2_600, "user");
    load(&db, other, 1_100, "other");
    let store = &db.store;
    let every = check(store, ws, "loaded");
    check(store, other, "another workspace");
    check(store, ws, "again, from the starts remembered");
    // Each change below moves the users after it by one place.
    delete(&db, ws, every[10]).unwrap().unwrap();
    check(store, ws, "a deletion before the first start");
    db.store
        .write(ws, |tx| {
            tx.run_sql(&format!(
                "UPDATE users SET deleted_at = NULL WHERE id = '{}'",
                every[10]
            ))
        })
        .unwrap();
    check(store, ws, "a restore by hand");
    db.store
        .write(ws, |tx| users::erase(tx, every[1500]))
        .unwrap();
    check(store, ws, "erasing a user between two starts");
    let failed: Result<(), StoreError> = db.store.write(ws, |tx| {
        users::insert(tx, &draft(json!({"userName": "rolled-back"})), None)?;
        Err(StoreError::Conflict)
    });
    assert!(failed.is_err());
    check(store, ws, "a rolled-back create");
    user(&db, ws, "newest");
    check(store, ws, "a create");
    load(&db, ws, 3, "loaded-later");
    check(store, ws, "a bulk load");
    db.store
        .write(ws, |tx| {
            tx.run_sql(&format!("DELETE FROM users WHERE id = '{}'", every[5]))
        })
        .unwrap();
    let every = check(store, ws, "a row deleted by hand");
    assert_eq!(every.len(), 2_602);
    // The other workspace's pages were not disturbed by any of it.
    check(store, other, "the other workspace at the end");
}

/// A store beside `db`'s that logs its statements, on a workspace of 2,100 users.
fn logged(db: &TestDb) -> (WorkspaceId, Store, StatementLog) {
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    load(db, ws, 2_100, "user");
    let log = StatementLog::default();
    let settings = PoolSettings {
        statement_log: Some(log.clone()),
        ..pool_settings()
    };
    (ws, Store::connect(&db.url, &settings).unwrap(), log)
}

/// How many statements looked for a start since the last call: the users' ids alone, one at a
/// time (SQLite quotes names with backticks).
fn walks(log: &StatementLog) -> usize {
    let walks = log
        .ran()
        .into_iter()
        .filter(|sql| {
            sql.replace('`', "\"")
                .starts_with(r#"SELECT "users"."id" FROM"#)
        })
        .count();
    log.clear_runs();
    walks
}

#[test]
fn a_deep_page_walks_the_index_once_per_change_to_the_users() {
    let db = TestDb::new();
    let (ws, store, log) = logged(&db);
    let walks = || walks(&log);
    log.clear_runs();
    page(&store, ws, 2_050, 10);
    assert_eq!(walks(), 2, "two starts found, at 1,000 and 2,000");
    page(&store, ws, 2_050, 10);
    page(&store, ws, 1_500, 10);
    assert_eq!(walks(), 0, "nothing changed: the starts are remembered");
    user(&db, ws, "newest");
    log.clear_runs();
    page(&store, ws, 1_500, 10);
    assert_eq!(walks(), 1, "a change: found again as far as the page needs");
    page(&store, ws, 2_050, 10);
    assert_eq!(walks(), 1, "and further when a deeper page needs it");
    page(&store, ws, 999, 10);
    assert_eq!(
        walks(),
        0,
        "a page within the first thousand needs no start"
    );
    // Tombstones purged leave the live users as they were: the starts still hold.
    delete(&db, ws, page(&store, ws, 0, 1).1[0])
        .unwrap()
        .unwrap();
    log.clear_runs();
    page(&store, ws, 2_050, 10);
    assert_eq!(walks(), 2, "a deletion moves every start");
    let later = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    let purged = db
        .store
        .write(ws, |tx| users::purge_deleted_before(tx, later))
        .unwrap();
    assert_eq!(purged, 1);
    log.clear_runs();
    page(&store, ws, 2_050, 10);
    assert_eq!(walks(), 0, "purging a tombstone moves none");
}

#[test]
fn only_a_read_of_every_user_in_id_order_finds_its_page_from_the_starts() {
    let db = TestDb::new();
    let (ws, store, log) = logged(&db);
    page(&store, ws, 1_500, 10);
    assert_eq!(walks(&log), 1);
    user(&db, ws, "newer");
    let everyone = Filter::parse("userName pr").unwrap();
    let by_name = SortBy {
        path: AttrPath::parse("userName").unwrap(),
        descending: false,
    };
    let after = page(&store, ws, 0, 1).1[0].to_string();
    let deep = |filter, sort, after| ListQuery {
        filter,
        sort,
        after,
        offset: 1_500,
        limit: 10,
        ..all(None)
    };
    log.clear_runs();
    for query in [
        deep(Some(&everyone), None, None),
        deep(None, Some(&by_name), None),
        deep(None, None, Some(&after)),
    ] {
        store.read(ws, |tx| users::list(tx, query)).unwrap();
    }
    store
        .write(ws, |tx| users::list(tx, deep(None, None, None)))
        .unwrap();
    assert_eq!(
        walks(&log),
        0,
        "a filter, a sort, a cursor or a write walks no start"
    );
    page(&store, ws, 1_500, 10);
    assert_eq!(walks(&log), 1, "while a read after them does");
}

#[test]
fn a_read_on_postgresql_sees_one_snapshot_in_all_its_statements() {
    let db = TestDb::new();
    if db.store.has_writer_thread() {
        return; // SQLite: a read transaction is one snapshot already
    }
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let isolation = db.store.read(ws, |tx| {
        tx.run_sql(
            "DO $$ BEGIN
                IF current_setting('transaction_isolation') <> 'repeatable read'
                   OR current_setting('transaction_read_only') <> 'on' THEN
                    RAISE EXCEPTION 'a read runs in %', current_setting('transaction_isolation');
                END IF;
             END $$",
        )
    });
    assert!(isolation.is_ok(), "{isolation:?}");
}

#[test]
fn deep_pages_read_while_users_are_deleted_are_each_the_page_of_one_snapshot() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    load(&db, ws, 2_200, "user");
    let (_, every) = page(&db.store, ws, 0, 10_000);
    let n = every.len();
    let deleted = 60;
    std::thread::scope(|scope| {
        // The first users in id order go one by one, each in a transaction of its own: a
        // snapshot with k of them gone holds n - k users, and its page at 1,500 starts at
        // every[k + 1500].
        scope.spawn(|| {
            for id in &every[..deleted] {
                delete(&db, ws, *id).unwrap().unwrap();
            }
        });
        for _ in 0..2 {
            scope.spawn(|| {
                for _ in 0..40 {
                    let (total, ids) = page(&db.store, ws, 1_500, 10);
                    let gone = n - usize::try_from(total).unwrap();
                    assert!(gone <= deleted, "{gone} gone");
                    let expected = &every[gone + 1_500..gone + 1_510];
                    assert_eq!(ids, expected, "the page with {gone} users gone");
                }
            });
        }
    });
    let (total, ids) = page(&db.store, ws, 1_500, 10);
    assert_eq!(usize::try_from(total).unwrap(), n - deleted);
    assert_eq!(ids, &every[deleted + 1_500..deleted + 1_510]);
}

#[test]
fn deep_pages_read_at_once_after_a_change_walk_the_index_once_for_all() {
    let db = TestDb::new();
    let (ws, store, log) = logged(&db);
    load(&db, ws, 3_000, "more");
    let (_, every) = page(&store, ws, 0, 10_000);
    log.clear_runs();
    // An identity provider's parallel pages right after its changes: each would walk the five
    // starts alone, and all at once, without the others' walk to wait for.
    let readers = 8;
    let together = std::sync::Barrier::new(readers);
    std::thread::scope(|scope| {
        for _ in 0..readers {
            scope.spawn(|| {
                together.wait();
                let (_, ids) = page(&store, ws, 5_050, 10);
                assert_eq!(ids, every[5_050..5_060]);
            });
        }
    });
    assert_eq!(
        walks(&log),
        5,
        "the five starts, found once for the eight pages"
    );
}
