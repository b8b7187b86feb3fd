//! What the database itself enforces on PostgreSQL: row-level security.

use diesel::prelude::*;
use serde_json::json;
use webwork_scim_domain::Plan;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{StoreError, users};

use crate::support::*;

#[test]
fn row_level_security_scopes_even_an_unscoped_query() {
    use diesel::sql_types::BigInt;
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return; // SQLite has no row-level security
    }
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let db = TestDb::new();
    let a = db.workspace("Acme", Plan::Premium, true);
    let b = db.workspace("Globex", Plan::Premium, true);
    for name in ["a1", "a2"] {
        db.store
            .write(a.id, |tx| {
                users::insert(tx, &draft(json!({"userName": name})), None)
            })
            .unwrap();
    }
    db.store
        .write(b.id, |tx| {
            users::insert(tx, &draft(json!({"userName": "b1"})), None)
        })
        .unwrap();
    let everything = "SELECT COUNT(*) AS n FROM users";
    let count_in = |ws| {
        db.store
            .read(ws, |tx| {
                diesel::sql_query(everything)
                    .get_result::<Count>(tx.connection())
                    .map_err(StoreError::from)
            })
            .unwrap()
            .n
    };
    assert_eq!(
        count_in(a.id),
        2,
        "a query without WHERE sees only its tenant's rows"
    );
    assert_eq!(count_in(b.id), 1);
    let outside: Count = diesel::sql_query(everything)
        .get_result(&mut *db.store.raw_connection().unwrap())
        .unwrap();
    assert_eq!(
        outside.n, 0,
        "outside a tenant transaction no tenant row is visible"
    );
    let smuggled = db.store.write(a.id, |tx| {
        diesel::sql_query(format!(
            "INSERT INTO users (workspace_id, id, user_name, user_name_key, active, document, version, created_at, updated_at)
             VALUES ('{}', 'x', 'evil', 'evil', TRUE, '{{}}', 1, now(), now())",
            b.id
        ))
        .execute(tx.connection())
        .map_err(StoreError::from)
    });
    assert!(
        smuggled.is_err(),
        "a row for another workspace cannot be written"
    );
    assert_eq!(count_in(b.id), 1);
}

#[test]
fn the_service_role_is_bound_by_row_level_security() {
    use diesel::sql_types::Bool;
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return; // SQLite has no row-level security
    }
    #[derive(QueryableByName)]
    struct Role {
        #[diesel(sql_type = Bool)]
        superuser: bool,
        #[diesel(sql_type = Bool)]
        bypass: bool,
        #[diesel(sql_type = Bool)]
        owns: bool,
    }
    let db = TestDb::new();
    let role: Role = diesel::sql_query(
        "SELECT rolsuper AS superuser, rolbypassrls AS bypass,
                EXISTS (SELECT 1 FROM pg_tables WHERE tablename = 'users' AND tableowner = current_user) AS owns
         FROM pg_roles WHERE rolname = current_user",
    )
    .get_result(&mut *db.store.raw_connection().unwrap())
    .unwrap();
    assert!(
        !role.superuser && !role.bypass && !role.owns,
        "the service role is bound by row-level security"
    );
}

#[test]
fn every_table_with_a_workspace_column_has_row_level_security() {
    use diesel::sql_types::Text;
    if webwork_scim_persistence::testing::backend() != webwork_scim_persistence::Backend::Postgres {
        return; // SQLite has no row-level security
    }
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let db = TestDb::new();
    let unguarded = |protected: bool| {
        diesel::sql_query(format!(
            "SELECT c.relname AS name FROM pg_class c
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'workspace_id'
             WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace
               AND c.relrowsecurity = {protected} ORDER BY 1"
        ))
        .load::<Table>(&mut *db.store.raw_connection().unwrap())
        .unwrap()
        .into_iter()
        .map(|t| t.name)
        .collect::<Vec<_>>()
    };
    assert_eq!(unguarded(false), Vec::<String>::new());
    let guarded = unguarded(true);
    for table in [
        "users",
        "groups",
        "group_members",
        "scim_tokens",
        "outbox_events",
    ] {
        assert!(guarded.iter().any(|t| t == table), "{table} in {guarded:?}");
    }
}
