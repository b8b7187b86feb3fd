//! Storage for webwork-scim on PostgreSQL or SQLite, chosen by the database URL.
//!
//! One diesel `schema.rs` of types common to both backends, a connection enum derived with
//! `diesel::MultiConnection`, an r2d2 pool, embedded migrations per backend, and one repository
//! module per aggregate. Tenant data is reached only through [`Store::tenant`] and
//! [`Store::tenant_by_key`], which open a transaction for one workspace and hand the closure a
//! [`TenantTx`]; every repository function takes it, so a query without the workspace does not
//! compile. The few queries that must cross workspaces live in [`unscoped`].

pub mod audit;
mod clock;
pub mod db;
mod error;
pub mod groups;
mod inserts;
pub mod migrations;
mod one_read;
pub mod outbox;
pub mod provisioning_errors;
mod reused;
mod schema;
mod scope;
mod sort_sql;
mod sql_filter;
mod sqlite_checkpoint;
mod sqlite_control;
mod sqlite_writer;
mod statement_log;
mod store;
mod subselect;
#[cfg(feature = "testing")]
pub mod testing;
pub mod tokens;
pub mod unscoped;
pub mod users;
pub mod workspaces;
mod writer_queue;

pub use db::{Backend, DatabaseUrl, DbConnection, PoolSettings, SqliteSettings, Synchronous};
pub use error::StoreError;
pub use one_read::OneRead;
pub use scope::TenantTx;
pub use statement_log::StatementLog;
pub use store::{Access, Store};
