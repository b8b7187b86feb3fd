//! Reads of one statement (`Store::read_one`): Okta's GET by id and look-up by `userName`,
//! outside any transaction. On PostgreSQL through functions that scope their own read to the
//! workspace; on SQLite scoped by the statement's workspace filter.

use diesel::prelude::*;
use serde_json::{Map, Value};
use webwork_scim_domain::{Plan, User, UserId, WorkspaceId};
use webwork_scim_persistence::testing::{TestDb, backend, pool_settings};
use webwork_scim_persistence::users::{self, UserPage};
use webwork_scim_persistence::{Backend, DbConnection, PoolSettings, StatementLog, Store, groups};

use crate::support::{delete, group_draft, jane};

type Document = Map<String, Value>;

fn found(store: &Store, ws: WorkspaceId, id: UserId) -> Option<User> {
    store
        .read_one(ws, |read| users::find_once::<Document>(read, id))
        .unwrap()
}

fn looked_up(store: &Store, ws: WorkspaceId, name: &str) -> UserPage {
    store
        .read_one(ws, |read| users::look_up_once::<Document>(read, name))
        .unwrap()
}

/// Jane, created in `ws`.
fn insert_jane(db: &TestDb, ws: WorkspaceId) -> UserId {
    db.store
        .write(ws, |tx| users::insert(tx, &jane(), None))
        .unwrap()
        .id
}

#[test]
fn a_read_of_one_statement_finds_what_a_transaction_finds_and_nothing_of_another_workspace() {
    let db = TestDb::new();
    let acme = db.workspace("Acme", Plan::Premium, true).id;
    let other = db.workspace("Other", Plan::Premium, true).id;
    let id = insert_jane(&db, acme);
    db.store
        .write(acme, |tx| groups::insert(tx, &group_draft("Ops", &[id])))
        .unwrap();
    let in_transaction = db.store.read(acme, |tx| users::find(tx, id)).unwrap();
    let in_transaction = in_transaction.expect("Jane is live");
    assert_eq!(
        in_transaction.groups.len(),
        1,
        "the group was read with her"
    );

    assert_eq!(found(&db.store, acme, id).as_ref(), Some(&in_transaction));
    let page = looked_up(&db.store, acme, "JANE@acme.COM");
    assert_eq!(page.total, 1);
    assert_eq!(page.users, vec![in_transaction.clone()]);
    assert_eq!(looked_up(&db.store, acme, "john@acme.com").total, 0);

    // Another workspace's id and name find nothing, as in a transaction of that workspace; its
    // own Jane is found by her name there.
    assert_eq!(found(&db.store, other, id), None);
    assert_eq!(looked_up(&db.store, other, "jane@acme.com").users, vec![]);
    let theirs = insert_jane(&db, other);
    let page = looked_up(&db.store, other, "jane@acme.com");
    assert_eq!(
        page.users.iter().map(|u| u.id).collect::<Vec<_>>(),
        [theirs]
    );
    assert_eq!(found(&db.store, acme, theirs), None);
    assert_eq!(looked_up(&db.store, acme, "jane@acme.com").users[0].id, id);

    delete(&db, acme, id).unwrap().expect("Jane was live");
    assert_eq!(
        found(&db.store, acme, id),
        None,
        "a deleted user is not found"
    );
    assert_eq!(looked_up(&db.store, acme, "jane@acme.com").total, 0);
}

#[test]
fn a_read_of_one_statement_runs_it_alone_and_on_postgresql_leaves_no_scope_behind() {
    let db = TestDb::new();
    let acme = db.workspace("Acme", Plan::Premium, true).id;
    let id = insert_jane(&db, acme);
    let log = StatementLog::default();
    let settings = PoolSettings {
        max_size: 1,
        statement_log: Some(log.clone()),
        ..pool_settings()
    };
    let store = Store::connect(&db.url, &settings).unwrap();
    for _ in 0..2 {
        log.clear_runs();
        assert!(found(&store, acme, id).is_some());
        assert_eq!(looked_up(&store, acme, "jane@acme.com").total, 1);
        let ran = log.ran_with_control();
        match backend() {
            Backend::Postgres => assert_eq!(
                ran,
                vec![
                    "SELECT * FROM scim_live_user_by_id($1, $2)",
                    "SELECT * FROM scim_live_user_by_user_name_key($1, $2)",
                ],
                "no BEGIN, no COMMIT, nothing else"
            ),
            Backend::Sqlite => {
                assert_eq!(ran.len(), 2, "no BEGIN, no COMMIT, nothing else: {ran:?}");
                assert!(ran.iter().all(|sql| sql.starts_with("SELECT")), "{ran:?}");
            }
        }
    }
    if settings.prepared_statements {
        assert!(
            log.prepared_anew().is_empty(),
            "both statements were kept prepared"
        );
    }
    if backend() != Backend::Postgres {
        return;
    }

    // The one connection of the pool, after those reads: its session has no workspace, so no
    // user is visible to a statement outside a read of its own.
    let mut conn = store.raw_connection().unwrap();
    let DbConnection::Postgres(pg) = &mut *conn else {
        unreachable!("a PostgreSQL store");
    };
    let scope: Option<String> = diesel::select(diesel::dsl::sql::<
        diesel::sql_types::Nullable<diesel::sql_types::Text>,
    >("current_setting('app.workspace_id', true)"))
    .get_result(pg)
    .unwrap();
    assert_eq!(scope.unwrap_or_default(), "");
    let visible: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
        "(SELECT COUNT(*) FROM users)",
    ))
    .get_result(pg)
    .unwrap();
    assert_eq!(visible, 0);
}

#[test]
fn on_postgresql_a_transaction_that_calls_a_read_for_another_workspace_keeps_its_own_scope() {
    if backend() != Backend::Postgres {
        return;
    }
    let db = TestDb::new();
    let acme = db.workspace("Acme", Plan::Premium, true).id;
    let other = db.workspace("Other", Plan::Premium, true).id;
    insert_jane(&db, acme);
    let theirs = insert_jane(&db, other);
    let (called, scope, visible) = db
        .store
        .read(acme, |tx| {
            let DbConnection::Postgres(pg) = tx.connection() else {
                unreachable!("a PostgreSQL store");
            };
            // Ids the service generated, safe to write into the statement.
            let called: i64 = diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(
                &format!("(SELECT COUNT(*) FROM scim_live_user_by_id('{other}', '{theirs}'))"),
            ))
            .get_result(pg)?;
            let scope: Option<String> = diesel::select(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Text>,
            >(
                "current_setting('app.workspace_id', true)",
            ))
            .get_result(pg)?;
            let visible: Vec<String> = diesel::select(diesel::dsl::sql::<
                diesel::sql_types::Array<diesel::sql_types::Text>,
            >(
                "(SELECT COALESCE(array_agg(DISTINCT workspace_id), '{}') FROM users)",
            ))
            .get_result(pg)?;
            Ok::<_, webwork_scim_persistence::StoreError>((called, scope, visible))
        })
        .unwrap();
    assert_eq!(called, 1, "the function read the other workspace's user");
    assert_eq!(scope.as_deref(), Some(acme.to_string().as_str()));
    assert_eq!(
        visible,
        [acme.to_string()],
        "the transaction still sees only its own"
    );
}
