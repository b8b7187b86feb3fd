//! Filters on an indexed column (`externalId eq`, `userName sw`) find their few users by seeking
//! that column's index, in a workspace whose other users they would otherwise walk past; and
//! answer the same users as a filter the index cannot serve.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{Plan, WorkspaceId};
use webwork_scim_persistence::testing::{TestDb, pool_settings};
use webwork_scim_persistence::users::{self, ListQuery};
use webwork_scim_persistence::{Backend, PoolSettings, StatementLog, Store};

use crate::support::*;

const USERS: usize = 3_000;

/// `USERS` users named `user<n>@acme.com` with external ids `ext-<n>`, and a few whose names
/// begin with what a prefix's range must include or leave out.
fn workspace(db: &TestDb) -> WorkspaceId {
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let mut drafts: Vec<_> = (0..USERS)
        .map(|n| {
            draft(json!({
                "userName": format!("user{n}@acme.com"),
                "externalId": format!("ext-{n}"),
            }))
        })
        .collect();
    for name in [
        "USER15-Upper",
        "user15\u{10ffff}",
        "user16",
        "user1_5",
        "usEr15é",
    ] {
        drafts.push(draft(json!({ "userName": name })));
    }
    db.store
        .write(ws, |tx| users::insert_many(tx, &drafts))
        .unwrap();
    ws
}

fn user_names(store: &Store, ws: WorkspaceId, filter: &str, limit: i64) -> (i64, Vec<String>) {
    let filter = Filter::parse(filter).unwrap();
    let query = ListQuery {
        limit,
        ..all(Some(&filter))
    };
    let page = store.read(ws, |tx| users::list(tx, query)).unwrap();
    let mut names: Vec<_> = page.users.into_iter().map(|u| u.user_name).collect();
    names.sort();
    (page.total, names)
}

#[test]
fn a_prefix_of_user_names_selects_what_a_scan_of_every_name_selects() {
    let db = TestDb::new();
    let ws = workspace(&db);
    let store = &db.store;
    let (total, names) = user_names(store, ws, r#"userName sw "User15""#, 200);
    let mut expected: Vec<String> = (0..USERS)
        .map(|n| format!("user{n}@acme.com"))
        .filter(|name| name.starts_with("user15"))
        .collect();
    expected.extend(["USER15-Upper", "user15\u{10ffff}", "usEr15é"].map(String::from));
    expected.sort();
    assert_eq!(names, expected);
    assert_eq!(
        total, 114,
        "user15, user150…159, user1500…1599 and three more"
    );
    // `pr`-and-`sw` over a name the index does not order by: no range, the same users.
    for (seeking, scanning) in [
        (
            r#"userName sw "user15""#,
            r#"userName co "user15" and userName sw "user15""#,
        ),
        (r#"userName sw "user1_5""#, r#"userName ew "_5""#),
        (
            "userName sw \"user15\u{10ffff}\"",
            "userName ew \"\u{10ffff}\"",
        ),
        (r#"userName sw "user2999@""#, r#"externalId eq "ext-2999""#),
        (r#"userName sw "nobody""#, r#"userName co "nobody""#),
    ] {
        assert_eq!(
            user_names(store, ws, seeking, 200),
            user_names(store, ws, scanning, 200),
            "{seeking} against {scanning}"
        );
    }
    let (total, page) = user_names(store, ws, r#"userName sw "user2""#, 7);
    assert_eq!(
        (total, page.len()),
        (1_111, 7),
        "a page of the prefix's users"
    );
}

/// A store beside `db`'s that logs its statements.
fn logged(db: &TestDb) -> (Store, StatementLog) {
    let log = StatementLog::default();
    let settings = PoolSettings {
        statement_log: Some(log.clone()),
        ..pool_settings()
    };
    (Store::connect(&db.url, &settings).unwrap(), log)
}

#[test]
fn a_filter_on_an_indexed_column_seeks_its_index_on_sqlite() {
    let db = TestDb::new();
    if db.store.backend() != Backend::Sqlite {
        return;
    }
    let ws = workspace(&db);
    let (store, log) = logged(&db);
    // The last: SQLite seeks neither side of an `or`, and walks the workspace in id order.
    for (filter, seeks) in [
        (r#"externalId eq "ext-2500""#, true),
        (r#"userName sw "user25""#, true),
        (r#"active eq true and userName sw "user25""#, true),
        (r#"userName sw "user25" or externalId eq "ext-1""#, false),
    ] {
        log.clear_runs();
        let (_, names) = user_names(&store, ws, filter, 5);
        assert!(!names.is_empty(), "{filter}");
        let page = log
            .ran()
            .into_iter()
            .find(|sql| sql.contains("LIMIT"))
            .expect("the page's statement");
        let mut conn = db.store.raw_connection().unwrap();
        let plan = query_plan(&mut conn, &page);
        let walks = plan
            .iter()
            .any(|step| step.ends_with("USING INDEX users_live (workspace_id=?)"));
        assert_eq!(walks, !seeks, "{filter}: {plan:#?}");
    }
}

fn query_plan(conn: &mut webwork_scim_persistence::DbConnection, sql: &str) -> Vec<String> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Step {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
        .load::<Step>(conn)
        .unwrap()
        .into_iter()
        .map(|step| step.detail)
        .collect()
}
