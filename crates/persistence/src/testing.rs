//! A fresh, migrated database per test: a SQLite file in a temporary directory, or a PostgreSQL
//! schema of its own on the server at `TEST_DATABASE_URL`, dropped when the test ends.
//!
//! `TEST_BACKEND=postgres` picks PostgreSQL (`make test-postgres`); the default is SQLite.
//! Fixtures fail the test at once when the database cannot be set up, hence `expect`.

#![allow(clippy::expect_used)]

use diesel::connection::SimpleConnection;
use webwork_scim_domain::{Plan, Workspace, WorkspaceKey, WorkspaceName};

use webwork_scim_domain::WorkspaceId;

use crate::{Backend, DatabaseUrl, PoolSettings, Store, StoreError, workspaces};

pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// One test's database. Keep it alive for the whole test.
///
/// With TEST_POOLER_URL (a PgBouncer in transaction mode in front of TEST_DATABASE_URL's server)
/// the service role connects through the pooler, while schemas and migrations go straight to the
/// server, as a migration Job does in production.
///
/// On PostgreSQL the schema is migrated by the owning role (TEST_DATABASE_URL's user) and
/// [`TestDb::store`] connects as a role of its own that neither owns the tables nor bypasses
/// row-level security, exactly as the service does in production. TEST_DATABASE_URL must let new
/// roles log in without a password (trust authentication), as the local and CI servers do.
#[derive(Debug)]
pub struct TestDb {
    pub store: Store,
    /// The URL the store connects with.
    pub url: DatabaseUrl,
    /// On PostgreSQL, the URL of the role that owns the tables (it runs migrations).
    pub owner_url: Option<DatabaseUrl>,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<PgSchema>,
}

#[derive(Debug)]
struct PgSchema {
    admin: String,
    schema: String,
    role: String,
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

/// `url` without TLS, unless it asks for a mode itself. The test server is on loopback, and
/// libpq's TLS state torn down by `exit` while a test server thread still holds connections can
/// abort a finished test process.
fn without_tls(url: &str) -> String {
    if url.contains("sslmode=") {
        return url.to_owned();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// `url` with its user (and password) replaced by `role`.
fn with_user(url: &str, role: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{role}@{host}")
}

impl TestDb {
    /// A migrated database on the suite's backend, reached as the service reaches it.
    pub fn new() -> TestDb {
        let mut db = TestDb::empty();
        db.store.migrate().expect("migrations apply");
        let Some(pg) = db.postgres.take() else {
            return db;
        };
        let mut owner = db.url.connect().expect("owner connection");
        owner
            .batch_execute(&format!(
                "CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS;
                 GRANT USAGE ON SCHEMA {schema} TO {role};
                 GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {schema} TO {role};
                 ALTER DEFAULT PRIVILEGES IN SCHEMA {schema}
                     GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role};",
                role = pg.role,
                schema = pg.schema
            ))
            .expect("create the service role");
        let url = match std::env::var("TEST_POOLER_URL") {
            // Through a pooler in transaction mode, whose server connections take no startup
            // options: the role carries its search path itself.
            Ok(pooler) => {
                owner
                    .batch_execute(&format!(
                        "ALTER ROLE {role} SET search_path TO {schema}",
                        role = pg.role,
                        schema = pg.schema
                    ))
                    .expect("the service role's search path");
                DatabaseUrl::Postgres(with_user(&without_tls(&pooler), &pg.role))
            }
            Err(_) => DatabaseUrl::Postgres(with_user(&db.url.expose(), &pg.role)),
        };
        TestDb {
            store: Store::connect(&url, &pool_settings()).expect("pool of the service role"),
            owner_url: Some(db.url.clone()),
            url,
            _dir: None,
            postgres: Some(pg),
        }
    }

    /// A database on the suite's backend with no tables yet, reached as their owner.
    pub fn empty() -> TestDb {
        match backend() {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = DatabaseUrl::Sqlite(dir.path().join("test.db"));
                TestDb {
                    store: Store::connect(&url, &pool_settings()).expect("sqlite pool"),
                    url,
                    owner_url: None,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin = without_tls(
                    &std::env::var("TEST_DATABASE_URL")
                        .unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned()),
                );
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
                    store: Store::connect(&url, &pool_settings()).expect("postgres pool"),
                    owner_url: Some(url.clone()),
                    url,
                    _dir: None,
                    postgres: Some(PgSchema {
                        role: format!("{schema}_app"),
                        admin,
                        schema,
                    }),
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
            .write(WorkspaceId::generate(), |tx| {
                workspaces::create(tx, &key, &name, plan, sso)
            })
            .expect("workspace created")
    }
}

/// The pool settings of [`TestDb::store`], for tests that build a pool of their own: four
/// connections; TEST_PREPARED_STATEMENTS=false runs the suite without prepared statements, as
/// behind a pooler in transaction mode.
pub fn pool_settings() -> PoolSettings {
    PoolSettings {
        max_size: 4,
        prepared_statements: std::env::var("TEST_PREPARED_STATEMENTS").as_deref() != Ok("false"),
        ..PoolSettings::default()
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(pg) = self.postgres.take() else {
            return;
        };
        let dropped = DatabaseUrl::Postgres(pg.admin)
            .connect()
            .map_err(|err| StoreError::Config(err.to_string()))
            .and_then(|mut conn| {
                conn.batch_execute(&format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE; DROP ROLE IF EXISTS {role};",
                    schema = pg.schema,
                    role = pg.role
                ))
                .map_err(StoreError::from)
            });
        if let Err(err) = dropped {
            eprintln!("could not drop test schema {}: {err}", pg.schema);
        }
    }
}
