//! What each backend is set up to do: migrations up and down, SQLite's settings, concurrent
//! writers, and SQLite's writers queued in arrival order.

use diesel::prelude::*;
use serde_json::json;
use webwork_scim_domain::Plan;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{migrations, users};

use crate::support::*;

#[test]
fn migrations_go_up_down_and_up_again() {
    let db = TestDb::empty();
    let mut conn = db.store.raw_connection().unwrap();
    assert!(!migrations::is_up_to_date(&mut conn).unwrap());
    assert!(!migrations::run_pending(&mut conn).unwrap().is_empty());
    assert!(migrations::is_up_to_date(&mut conn).unwrap());
    assert!(migrations::revert_all(&mut conn).unwrap() > 0);
    assert!(!migrations::run_pending(&mut conn).unwrap().is_empty());
    assert!(migrations::run_pending(&mut conn).unwrap().is_empty());
}

#[test]
fn sqlite_connections_use_wal_a_busy_timeout_foreign_keys_and_stable_plans() {
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Sqlite {
        return;
    }
    use diesel::sql_types::{BigInt, Text};
    #[derive(QueryableByName)]
    struct Mode {
        #[diesel(sql_type = Text)]
        journal_mode: String,
    }
    #[derive(QueryableByName)]
    struct Flag {
        #[diesel(sql_type = BigInt)]
        value: i64,
    }
    let db = TestDb::new();
    let mut conn = db.store.raw_connection().unwrap();
    let mode: Mode = diesel::sql_query("PRAGMA journal_mode")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(mode.journal_mode, "wal");
    let fk: Flag = diesel::sql_query("SELECT foreign_keys AS value FROM pragma_foreign_keys")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(fk.value, 1);
    let busy: Flag = diesel::sql_query("SELECT timeout AS value FROM pragma_busy_timeout")
        .get_result(&mut *conn)
        .unwrap();
    assert!(busy.value >= 1000);
    // Commits never stop to copy the write-ahead log: the store's checkpoint thread does.
    #[derive(QueryableByName)]
    struct Autocheckpoint {
        #[diesel(sql_type = BigInt)]
        wal_autocheckpoint: i64,
    }
    let checkpoint: Autocheckpoint = diesel::sql_query("PRAGMA wal_autocheckpoint")
        .get_result(&mut *conn)
        .unwrap();
    assert_eq!(checkpoint.wal_autocheckpoint, 0);
    // One plan per prepared statement whatever is bound: a statement with a bound LIMIT is not
    // parsed again on every run (see .cargo/config.toml).
    let qpsg: Flag = diesel::sql_query(
        "SELECT count(*) AS value FROM pragma_compile_options WHERE compile_options = 'ENABLE_QPSG'",
    )
    .get_result(&mut *conn)
    .unwrap();
    assert_eq!(qpsg.value, 1, "SQLite is built with SQLITE_ENABLE_QPSG");
    // Connections reading in parallel share no page-cache or statistics mutex.
    let shared: Flag = diesel::sql_query(
        "SELECT count(*) AS value FROM pragma_compile_options
         WHERE compile_options = 'ENABLE_MEMORY_MANAGEMENT'",
    )
    .get_result(&mut *conn)
    .unwrap();
    assert_eq!(
        shared.value, 0,
        "SQLite's page caches do not share one list"
    );
    let statistics: Flag = diesel::sql_query(
        "SELECT count(*) AS value FROM pragma_compile_options
         WHERE compile_options IN ('DEFAULT_MEMSTATUS=0', 'DISABLE_PAGECACHE_OVERFLOW_STATS')",
    )
    .get_result(&mut *conn)
    .unwrap();
    assert_eq!(
        statistics.value, 2,
        "SQLite keeps no memory or page-cache statistics"
    );
    // Foreign keys are enforced: a user of a workspace that does not exist is refused.
    let orphan = diesel::sql_query(
        "INSERT INTO users (workspace_id, id, user_name, user_name_key, active, document, version, created_at, updated_at)
         VALUES ('nope', 'x', 'a', 'a', 1, '{}', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *conn);
    assert!(orphan.is_err());
}

#[test]
fn sqlite_reads_the_database_through_a_memory_map_per_connection_unless_turned_off() {
    use webwork_scim_persistence::{DatabaseUrl, PoolSettings, SqliteSettings, Store};
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Sqlite {
        return;
    }
    #[derive(QueryableByName)]
    struct MmapSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    assert_eq!(SqliteSettings::default().mmap_bytes, 1024 * 1024 * 1024);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapped.db");
    let url = DatabaseUrl::Sqlite(path.clone());
    // The file's mappings in this process, as /proc lists them.
    let mappings = || {
        std::fs::read_to_string("/proc/self/maps")
            .unwrap()
            .lines()
            .filter(|line| line.ends_with(path.to_str().unwrap()))
            .count()
    };
    let read_through = |mmap_bytes: u64| {
        let settings = PoolSettings {
            sqlite: SqliteSettings {
                mmap_bytes,
                ..SqliteSettings::default()
            },
            ..webwork_scim_persistence::testing::pool_settings()
        };
        let store = Store::connect(&url, &settings).unwrap();
        store.migrate().unwrap();
        let mut conn = store.raw_connection().unwrap();
        let set: MmapSize = diesel::sql_query("PRAGMA mmap_size")
            .get_result(&mut *conn)
            .unwrap();
        // Every page into the database file (out of the log), then a read of them.
        diesel::connection::SimpleConnection::batch_execute(
            &mut *conn,
            "PRAGMA wal_checkpoint(TRUNCATE); SELECT count(*) FROM users",
        )
        .unwrap();
        drop(conn);
        (set.mmap_size, store)
    };

    let (size, store) = read_through(0);
    assert_eq!(size, 0);
    assert_eq!(
        mappings(),
        0,
        "no connection maps the file when the map is off"
    );
    drop(store);
    let (size, store) = read_through(64 * 1024 * 1024);
    assert_eq!(size, 64 * 1024 * 1024);
    assert!(mappings() > 0, "a connection that read maps the file");
    drop(store);
}

#[test]
fn postgres_analyses_the_users_table_after_a_fixed_number_of_changes_whatever_its_size() {
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return;
    }
    use diesel::sql_types::{Integer, Nullable, Text};
    #[derive(QueryableByName)]
    struct Settings {
        #[diesel(sql_type = Nullable<Text>)]
        options: Option<String>,
        #[diesel(sql_type = Nullable<Integer>)]
        statistics: Option<i32>,
    }
    let db = TestDb::new();
    let mut conn = db.store.raw_connection().unwrap();
    let settings: Settings = diesel::sql_query(
        "SELECT array_to_string(c.reloptions, ' ') AS options, a.attstattarget::int AS statistics
         FROM pg_class c
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
         WHERE c.oid = 'users'::regclass",
    )
    .get_result(&mut *conn)
    .unwrap();
    let options = settings.options.unwrap_or_default();
    let mut options: Vec<_> = options.split(' ').collect();
    options.sort_unstable();
    assert_eq!(
        options,
        [
            "autovacuum_analyze_scale_factor=0",
            "autovacuum_analyze_threshold=20000",
            "autovacuum_vacuum_insert_scale_factor=0",
            "autovacuum_vacuum_insert_threshold=20000",
        ]
    );
    assert_eq!(settings.statistics, Some(500));
}

#[test]
fn concurrent_writers_all_succeed() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    // More writers than pooled connections: on SQLite they queue in this process, on PostgreSQL
    // they wait for a connection; none fails.
    std::thread::scope(|scope| {
        for t in 0..20 {
            let db = &db;
            scope.spawn(move || {
                for i in 0..5 {
                    let user = draft(json!({"userName": format!("t{t}-u{i}")}));
                    db.store
                        .write(ws.id, |tx| users::insert(tx, &user, None))
                        .expect("insert under contention");
                }
            });
        }
    });
    assert_eq!(
        db.store
            .read(ws.id, |tx| users::list(tx, all(None)))
            .unwrap()
            .total,
        100
    );
}

#[test]
fn sqlite_finds_a_users_groups_through_the_index_of_members_by_user() {
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Sqlite {
        return;
    }
    #[derive(QueryableByName)]
    struct Step {
        #[diesel(sql_type = diesel::sql_types::Text)]
        detail: String,
    }
    let db = TestDb::new();
    let mut conn = db.store.raw_connection().unwrap();
    let members = "FROM group_members m JOIN groups g \
                   ON g.workspace_id = m.workspace_id AND g.id = m.group_id";
    // The shapes of `users/groups_json.rs`, `groups::groups_of_user` and
    // `groups::memberships_of`: each must seek the
    // user's rows, not read every member row of the workspace (the primary key's prefix).
    for query in [
        format!(
            "SELECT users.id, (SELECT COALESCE(json_group_array(json_array(g.id, g.display_name) \
             ORDER BY g.id), '[]') {members} \
             WHERE m.workspace_id = users.workspace_id AND m.user_id = users.id) \
             FROM users WHERE users.workspace_id = 'w' AND users.id = 'u'"
        ),
        format!(
            "SELECT m.user_id, g.id, g.display_name {members} \
             WHERE m.workspace_id = 'w' AND m.user_id = 'u' ORDER BY m.user_id, g.id"
        ),
        format!(
            "SELECT m.user_id, g.id, g.display_name {members} \
             WHERE m.workspace_id = 'w' AND m.user_id IN ('u', 'v') ORDER BY m.user_id, g.id"
        ),
    ] {
        let plan: Vec<String> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {query}"))
            .load::<Step>(&mut *conn)
            .unwrap()
            .into_iter()
            .map(|step| step.detail)
            .collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("group_members_user (workspace_id=? AND user_id=?)")),
            "{query}: {plan:?}"
        );
    }
}
