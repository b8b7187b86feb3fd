//! Filters on an indexed column (`externalId eq`, `userName sw`) or on an email's value find
//! their few users by seeking an index, in a workspace whose other users they would otherwise
//! walk past; and answer the same users as a filter no index serves, through every change.

use serde_json::json;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{Plan, WorkspaceId};
use webwork_scim_persistence::testing::{TestDb, pool_settings};
use webwork_scim_persistence::users::{self, ListQuery, Replacement};
use webwork_scim_persistence::{Backend, PoolSettings, StatementLog, Store, migrations};

use crate::support::*;

const USERS: usize = 3_000;

/// `USERS` users named `user<n>@acme.com` with external ids `ext-<n>` and a work email of their
/// name (three also `shared@acme.com` at home), and a few whose names begin with what a prefix's
/// range must include or leave out.
fn workspace(db: &TestDb) -> WorkspaceId {
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    let mut drafts: Vec<_> = (0..USERS)
        .map(|n| {
            let mut emails = vec![json!({"value": format!("User{n}@Acme.com"), "type": "work"})];
            if n % 1_000 == 7 {
                emails.push(json!({"value": "shared@acme.com", "type": "home"}));
            }
            draft(json!({
                "userName": format!("user{n}@acme.com"),
                "externalId": format!("ext-{n}"),
                "emails": emails,
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
        (r#"emails.value eq "USER2500@acme.com""#, true),
        (
            r#"emails[type eq "work"].value eq "user2500@acme.com""#,
            true,
        ),
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

/// Rows of `user_emails` in every workspace (read as the tables' owner on PostgreSQL, which
/// row-level security does not bind).
fn email_rows(db: &TestDb) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let mut conn = db.owner_url.as_ref().unwrap_or(&db.url).connect().unwrap();
    let count: Count = diesel::sql_query("SELECT COUNT(*) AS n FROM user_emails")
        .get_result(&mut conn)
        .unwrap();
    count.n
}

fn id_of(store: &Store, ws: WorkspaceId, user_name: &str) -> webwork_scim_domain::UserId {
    let filter = Filter::parse(&format!(r#"userName eq "{user_name}""#)).unwrap();
    let page = store.read(ws, |tx| users::list(tx, all(Some(&filter))));
    page.unwrap().users[0].id
}

#[test]
fn an_email_filter_finds_the_users_holding_the_value_in_every_spelling() {
    let db = TestDb::new();
    let ws = workspace(&db);
    let find = |filter: &str| user_names(&db.store, ws, filter, 10);
    let user15 = (1, vec!["user15@acme.com".to_owned()]);
    assert_eq!(find(r#"emails.value eq "USER15@acme.com""#), user15);
    assert_eq!(
        find(r#"emails[type eq "work"].value eq "user15@Acme.com""#),
        user15
    );
    assert_eq!(
        find(r#"emails[value eq "user15@acme.com" and type eq "work"]"#),
        user15
    );
    assert_eq!(
        find(r#"emails[type eq "home"].value eq "user15@acme.com""#).0,
        0
    );
    assert_eq!(find(r#"emails.value eq "shared@acme.com""#).0, 3);
    let everyone = i64::try_from(USERS + 5).unwrap();
    assert_eq!(
        find(r#"not (emails.value eq "shared@acme.com")"#).0,
        everyone - 3
    );
    assert_eq!(
        find(r#"emails.value eq "user15@acme.com""#),
        find(r#"emails.value co "user15@acme.com" and emails.value sw "user15@""#),
        "the same as a filter no index serves"
    );
    assert_eq!(email_rows(&db), i64::try_from(USERS + 3).unwrap());
}

#[test]
fn an_email_filter_finds_the_users_holding_the_value_through_every_change() {
    let db = TestDb::new();
    let ws = workspace(&db);
    let store = &db.store;
    let find = |filter: &str| user_names(store, ws, filter, 10);
    let id = id_of(store, ws, "user15@acme.com");
    let new = draft(json!({
        "userName": "user15@acme.com",
        "emails": [{"value": "Fifteen@acme.com"}, {"value": "shared@acme.com"}],
    }));
    store
        .write(ws, |tx| {
            let current = users::lock(tx, id)?.unwrap();
            let replacement = Replacement {
                draft: &new,
                password_hash: None,
                session_version: current.session_version,
            };
            users::replace(tx, &current, replacement)
        })
        .unwrap();
    assert_eq!(
        find(r#"emails.value eq "user15@acme.com""#).0,
        0,
        "the old email"
    );
    assert_eq!(find(r#"emails.value eq "fifteen@ACME.com""#).0, 1);
    assert_eq!(find(r#"emails.value eq "shared@acme.com""#).0, 4);

    // A write that fails writes no email either.
    let failed: Result<(), _> = store.write(ws, |tx| {
        let later = draft(json!({"userName": "later", "emails": [{"value": "later@acme.com"}]}));
        users::insert(tx, &later, None)?;
        Err(webwork_scim_persistence::StoreError::Conflict)
    });
    assert!(failed.is_err());
    assert_eq!(find(r#"emails.value eq "later@acme.com""#).0, 0);

    // Erasure keeps no email of the user; tombstones leave with their users.
    store.write(ws, |tx| users::erase(tx, id)).unwrap();
    assert_eq!(find(r#"emails.value eq "fifteen@acme.com""#).0, 0);
    assert_eq!(email_rows(&db), i64::try_from(USERS + 3 - 1).unwrap());
    let other = id_of(store, ws, "user16@acme.com");
    store
        .write(ws, |tx| {
            let user = users::lock(tx, other)?.unwrap();
            users::delete(tx, &user)
        })
        .unwrap();
    assert_eq!(
        find(r#"emails.value eq "user16@acme.com""#).0,
        0,
        "a deleted user"
    );
    let later = time::OffsetDateTime::now_utc() + time::Duration::hours(1);
    let purged = store.write(ws, |tx| users::purge_deleted_before(tx, later));
    assert_eq!(purged.unwrap(), 2);
    assert_eq!(email_rows(&db), i64::try_from(USERS + 3 - 2).unwrap());
}

#[test]
fn the_migration_that_adds_the_emails_finds_the_users_already_there() {
    let db = TestDb::new();
    let ws = workspace(&db);
    let mut owner = db.owner_url.as_ref().unwrap_or(&db.url).connect().unwrap();
    // The migrations after the emails' one go first (on PostgreSQL, the one-statement reads).
    let mut reverted: Vec<String> = Vec::new();
    while reverted.last().map(String::as_str) != Some("20261207000002") {
        assert!(
            reverted.len() < 2,
            "the emails' migration is one of the last two: {reverted:?}"
        );
        reverted.push(migrations::revert_last(&mut owner).unwrap());
    }
    assert_eq!(
        user_names(&db.store, ws, r#"userName sw "user77""#, 100).0,
        11,
        "user77 and user770…779, read without the table"
    );
    migrations::run_pending(&mut owner).unwrap();
    assert_eq!(email_rows(&db), i64::try_from(USERS + 3).unwrap());
    assert_eq!(
        user_names(&db.store, ws, r#"emails.value eq "shared@acme.com""#, 10).0,
        3
    );
}

#[test]
fn a_group_filter_on_an_indexed_column_seeks_its_index_on_sqlite() {
    use webwork_scim_domain::GroupDraft;
    use webwork_scim_persistence::groups::{self, GroupQuery};
    let db = TestDb::new();
    if db.store.backend() != Backend::Sqlite {
        return;
    }
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    db.store
        .write(ws, |tx| {
            for n in 0..1_500 {
                let body =
                    json!({"displayName": format!("Team {n}"), "externalId": format!("g-{n}")});
                groups::insert(tx, &GroupDraft::from_scim(&body).unwrap())?;
            }
            Ok::<_, webwork_scim_persistence::StoreError>(())
        })
        .unwrap();
    let (store, log) = logged(&db);
    for (filter, seeks) in [
        (r#"externalId eq "g-1400""#, true),
        (r#"displayName sw "team 14""#, true),
        (r#"displayName sw "team 14" or externalId eq "g-1""#, false),
    ] {
        let filter = Filter::parse(filter).unwrap();
        log.clear_runs();
        let query = GroupQuery {
            limit: 5,
            with_members: false,
            ..all_groups(Some(&filter))
        };
        let page = store.read(ws, |tx| groups::list(tx, query)).unwrap();
        assert!(!page.groups.is_empty());
        let sql = log
            .ran()
            .into_iter()
            .find(|sql| sql.contains("LIMIT"))
            .unwrap();
        let plan = query_plan(&mut db.store.raw_connection().unwrap(), &sql);
        let walks = plan.iter().any(|step| step.starts_with("SCAN groups"))
            || plan.iter().any(|step| step.ends_with("(workspace_id=?)"));
        assert_eq!(walks, !seeks, "{filter:?}: {plan:#?}");
    }
}

#[test]
fn on_postgresql_a_page_is_planned_once_per_connection_and_a_filtered_one_for_its_values() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName, Debug)]
    struct Prepared {
        #[diesel(sql_type = diesel::sql_types::Text)]
        statement: String,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        generic_plans: i64,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        custom_plans: i64,
    }
    let db = TestDb::new();
    // Behind a pooler the statements are the pooler's to keep, on connections it chooses.
    if db.store.backend() != Backend::Postgres
        || !pool_settings().prepared_statements
        || std::env::var_os("TEST_POOLER_URL").is_some()
    {
        return;
    }
    let ws = workspace(&db);
    let settings = PoolSettings {
        max_size: 1,
        ..pool_settings()
    };
    let store = Store::connect(&db.url, &settings).unwrap();
    let filter = Filter::parse(r#"userName sw "user1""#).unwrap();
    for _ in 0..8 {
        for filter in [None, Some(&filter)] {
            let query = ListQuery {
                limit: 2,
                ..all(filter)
            };
            store.read(ws, |tx| users::list(tx, query)).unwrap();
        }
    }
    let mut conn = store.raw_connection().unwrap();
    let kept: Vec<Prepared> = diesel::sql_query(
        "SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements",
    )
    .load(&mut conn)
    .unwrap();
    // (generic, custom) plans of the kept page statement whose text holds `word`.
    let plans = |word: &str| {
        let page = kept
            .iter()
            .find(|p| p.statement.contains(word) && p.statement.contains("LIMIT"))
            .unwrap_or_else(|| panic!("a page's statement with {word}, kept: {kept:?}"));
        (page.generic_plans, page.custom_plans)
    };
    assert_eq!(
        plans("live_users"),
        (8, 0),
        "the page: planned once, for any page"
    );
    assert_eq!(
        plans("LIKE"),
        (0, 8),
        "the filtered page: planned for its values at every run"
    );
}
