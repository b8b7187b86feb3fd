//! A fresh, migrated database per test: a SQLite file in a temporary directory, or a PostgreSQL
//! schema of its own on the server at `TEST_DATABASE_URL`, dropped when the test ends.
//!
//! `TEST_BACKEND=postgres` picks PostgreSQL (`make test-postgres`); the default is SQLite.
//! Fixtures fail the test at once when the database cannot be set up, hence `expect`.

#![allow(clippy::expect_used)]

use diesel::connection::SimpleConnection;
use webwork_scim_domain::{Plan, Workspace, WorkspaceKey, WorkspaceName};

use crate::{
    Access, Backend, DatabaseUrl, DbConnection, PoolSettings, Store, StoreError, workspaces,
};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One test's database. Keep it alive for the whole test.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    pub url: DatabaseUrl,
    _dir: Option<tempfile::TempDir>,
    postgres_schema: Option<(String, String)>,
}

/// The backend the suite runs against.
pub fn backend() -> Backend {
    match std::env::var("TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    }
}

impl Default for TestDb {
    fn default() -> Self {
        TestDb::new()
    }
}

impl TestDb {
    /// A migrated database on the suite's backend.
    pub fn new() -> TestDb {
        let db = TestDb::empty();
        db.store.migrate().expect("migrations apply");
        db
    }

    /// A database on the suite's backend with no tables yet.
    pub fn empty() -> TestDb {
        match backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = DatabaseUrl::Sqlite(dir.path().join("test.db"));
                TestDb {
                    store: Store::connect(&url, &settings()).expect("sqlite pool"),
                    url,
                    _dir: Some(dir),
                    postgres_schema: None,
                }
            }
            Backend::Postgres => {
                let admin = std::env::var("TEST_DATABASE_URL")
                    .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
                let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
                let admin_url = DatabaseUrl::Postgres(admin.clone());
                let mut conn = admin_url
                    .connect()
                    .expect("the PostgreSQL at TEST_DATABASE_URL");
                conn.batch_execute(&format!("CREATE SCHEMA {schema}"))
                    .expect("create test schema");
                let separator = if admin.contains('?') { '&' } else { '?' };
                let url = DatabaseUrl::Postgres(format!(
                    "{admin}{separator}options=-csearch_path%3D{schema}"
                ));
                TestDb {
                    store: Store::connect(&url, &settings()).expect("postgres pool"),
                    url,
                    _dir: None,
                    postgres_schema: Some((admin, schema)),
                }
            }
        }
    }

    /// A workspace with `plan`, SSO as given.
    pub fn workspace(&self, name: &str, plan: Plan, sso: bool) -> Workspace {
        let name = WorkspaceName::parse(name).expect("valid name");
        let suffix = &uuid::Uuid::new_v4().simple().to_string()[..8];
        let key = WorkspaceKey::from_name_and_suffix(&name, suffix).expect("valid key");
        self.store
            .unscoped(Access::Write, |conn: &mut DbConnection| {
                workspaces::create(conn, &key, &name, plan, sso)
            })
            .expect("workspace created")
    }
}

fn settings() -> PoolSettings {
    PoolSettings {
        max_size: 4,
        ..PoolSettings::default()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, schema)) = self.postgres_schema.take() {
            let dropped = DatabaseUrl::Postgres(admin)
                .connect()
                .map_err(|err| StoreError::Config(err.to_string()))
                .and_then(|mut conn| {
                    conn.batch_execute(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .map_err(StoreError::from)
                });
            if let Err(err) = dropped {
                eprintln!("could not drop test schema {schema}: {err}");
            }
        }
    }
}
