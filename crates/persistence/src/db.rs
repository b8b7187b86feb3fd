//! The connection enum over both backends, the database URL that picks one, and the r2d2 pool.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::R2D2Connection;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, ConnectionError};

use diesel::connection::CacheSize;

use crate::{StatementLog, StoreError};

/// A connection to either backend; diesel derives the common query interface.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

impl std::fmt::Debug for DbConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbConnection({:?})", self.backend())
    }
}

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// `postgres://…` (or `postgresql://…`) or `sqlite://path`. `Debug` and `Display` hide a
/// PostgreSQL password.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    Postgres(String),
    Sqlite(PathBuf),
}

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<DatabaseUrl, StoreError> {
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            return Ok(DatabaseUrl::Postgres(raw.to_owned()));
        }
        if let Some(path) = raw.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or_default();
            if path.is_empty() || path.contains(":memory:") {
                return Err(StoreError::Config(
                    "DATABASE_URL: give SQLite a file path, e.g. sqlite://data/webwork-scim.db \
                     (an in-memory database would differ per pooled connection)"
                        .into(),
                ));
            }
            return Ok(DatabaseUrl::Sqlite(PathBuf::from(path)));
        }
        Err(StoreError::Config(
            "DATABASE_URL must start with postgres:// or sqlite://".into(),
        ))
    }

    pub fn backend(&self) -> Backend {
        match self {
            DatabaseUrl::Postgres(_) => Backend::Postgres,
            DatabaseUrl::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// The URL with its password, to hand to a child process; never log it.
    pub fn expose(&self) -> String {
        match self {
            DatabaseUrl::Postgres(url) => url.clone(),
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }

    /// Opens one connection with the default SQLite settings, keeping the real error (diesel's
    /// derived `establish` would try each backend and report only that the URL fits none).
    pub fn connect(&self) -> Result<DbConnection, ConnectionError> {
        self.connect_with(&SqliteSettings::default())
    }

    /// Opens one connection; a SQLite one with `sqlite`'s busy timeout and durability.
    pub fn connect_with(&self, sqlite: &SqliteSettings) -> Result<DbConnection, ConnectionError> {
        match self {
            DatabaseUrl::Postgres(url) => {
                PgConnection::establish(&with_liveness(url)).map(DbConnection::Postgres)
            }
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|err| {
                        ConnectionError::BadConnection(format!(
                            "cannot create {}: {err}",
                            dir.display()
                        ))
                    })?;
                }
                let path = path.to_str().ok_or_else(|| {
                    ConnectionError::InvalidConnectionUrl("the SQLite path is not UTF-8".into())
                })?;
                let mut conn = SqliteConnection::establish(path)?;
                // The busy timeout comes first so that even switching a new file to WAL queues
                // behind the pool's other connections instead of failing with SQLITE_BUSY; WAL
                // lets readers run beside the one writer; LIKE compares case-sensitively as on
                // PostgreSQL (case-insensitive comparisons use the folded *_key columns); the
                // connection that starts the log again cuts its file back to the limit; pages
                // are read in place from a shared memory map instead of copied into each
                // connection's own cache by a read() per page.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {busy};
                     PRAGMA journal_mode = WAL;
                     PRAGMA synchronous = {synchronous};
                     PRAGMA foreign_keys = ON;
                     PRAGMA case_sensitive_like = ON;
                     PRAGMA journal_size_limit = {wal_limit};
                     PRAGMA mmap_size = {mmap};",
                    busy = sqlite.busy_timeout.as_millis(),
                    synchronous = sqlite.synchronous.pragma(),
                    wal_limit = sqlite.wal_limit_bytes.min(i64::MAX as u64),
                    mmap = sqlite.mmap_bytes.min(i64::MAX as u64),
                ))
                .map_err(|err| ConnectionError::BadConnection(err.to_string()))?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DatabaseUrl::Postgres(url) => f.write_str(&redact_password(url)),
            DatabaseUrl::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({self})")
    }
}

/// TCP settings libpq applies unless the URL sets its own: a server that stops answering (a
/// partition that drops packets, a failover) is noticed within about a minute, and a connection
/// attempt gives up after 5 s, so that requests answer 503 promptly instead of hanging for the
/// kernel's quarter of an hour.
const LIVENESS: [(&str, &str); 5] = [
    ("connect_timeout", "5"),
    ("keepalives_idle", "30"),
    ("keepalives_interval", "10"),
    ("keepalives_count", "3"),
    ("tcp_user_timeout", "30000"),
];

/// `url` with each [`LIVENESS`] parameter it does not set itself.
fn with_liveness(url: &str) -> String {
    let query = url.split_once('?').map_or("", |(_, query)| query);
    let mut out = url.to_owned();
    let mut separator = if url.contains('?') { '&' } else { '?' };
    for (name, value) in LIVENESS {
        let set = query
            .split('&')
            .any(|pair| pair.split_once('=').map_or(pair, |(key, _)| key) == name);
        if !set {
            out.push(separator);
            out.push_str(name);
            out.push('=');
            out.push_str(value);
            separator = '&';
        }
    }
    out
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

/// When SQLite syncs its write-ahead log to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Synchronous {
    /// At checkpoints only: the database never corrupts, but the last acknowledged writes can be
    /// lost when the machine (not the process) loses power.
    #[default]
    Normal,
    /// On every commit: an acknowledged write survives a power failure, at the cost of one
    /// fsync per transaction.
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

impl std::str::FromStr for Synchronous {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_uppercase().as_str() {
            "NORMAL" => Ok(Synchronous::Normal),
            "FULL" => Ok(Synchronous::Full),
            _ => Err(format!("'{s}' is neither NORMAL nor FULL")),
        }
    }
}

/// How SQLite connections wait for the write lock and sync their commits.
#[derive(Debug, Clone)]
pub struct SqliteSettings {
    /// How long a statement waits for a lock another process holds (the service's own writers
    /// queue in the process first) before it fails as busy.
    pub busy_timeout: Duration,
    pub synchronous: Synchronous,
    /// The size the write-ahead log's file is cut back to when the log starts again: a burst of
    /// changes grows it (up to a quarter of a second of commits between two checkpoints), and
    /// SQLite otherwise keeps the file at the largest size it reached.
    pub wal_limit_bytes: u64,
    /// How much of the database file each connection reads through a memory map (SQLite's
    /// `mmap_size`, at most 2 GiB; 0 reads every page with a system call into the connection's
    /// own cache). Each connection maps the file on its own; the pages are the kernel's cache.
    pub mmap_bytes: u64,
}

impl SqliteSettings {
    /// The default of [`SqliteSettings::wal_limit_bytes`], in MiB.
    pub const DEFAULT_WAL_LIMIT_MB: u64 = 128;
    /// The default of [`SqliteSettings::mmap_bytes`], in MiB.
    pub const DEFAULT_MMAP_MB: u64 = 1024;
}

impl Default for SqliteSettings {
    fn default() -> Self {
        SqliteSettings {
            busy_timeout: Duration::from_secs(5),
            synchronous: Synchronous::Normal,
            wal_limit_bytes: Self::DEFAULT_WAL_LIMIT_MB * 1024 * 1024,
            mmap_bytes: Self::DEFAULT_MMAP_MB * 1024 * 1024,
        }
    }
}

/// The r2d2 manager: opens connections for one [`DatabaseUrl`].
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
    sqlite: SqliteSettings,
    prepared_statements: bool,
    statement_log: Option<StatementLog>,
    /// SQLite connections leave checkpoints to the store's checkpoint thread
    /// (`sqlite_checkpoint`) instead of running one inside a commit.
    background_checkpoints: bool,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = DbConnection;
    type Error = ConnectionError;

    fn connect(&self) -> Result<DbConnection, ConnectionError> {
        let mut conn = self.url.connect_with(&self.sqlite)?;
        if self.background_checkpoints
            && let DbConnection::Sqlite(lite) = &mut conn
        {
            lite.batch_execute("PRAGMA wal_autocheckpoint = 0")
                .map_err(|err| ConnectionError::BadConnection(err.to_string()))?;
        }
        if !self.prepared_statements
            && let DbConnection::Postgres(pg) = &mut conn
        {
            // Named prepared statements live on one server connection, which a pooler in
            // transaction mode does not keep for us between transactions.
            pg.set_prepared_statement_cache_size(CacheSize::Disabled);
        }
        if let Some(log) = &self.statement_log {
            conn.set_instrumentation(log.instrumentation());
        }
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut DbConnection) -> Result<(), ConnectionError> {
        conn.ping()
            .map_err(|err| ConnectionError::BadConnection(err.to_string()))
    }

    fn has_broken(&self, conn: &mut DbConnection) -> bool {
        conn.is_broken()
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;
pub type PooledConnection = r2d2::PooledConnection<ConnectionManager>;

/// How the pool is sized and how long a caller waits for a connection.
#[derive(Debug, Clone)]
pub struct PoolSettings {
    pub max_size: u32,
    pub connection_timeout: Duration,
    pub sqlite: SqliteSettings,
    /// Whether PostgreSQL connections prepare each statement once and reuse it (the default).
    /// Off behind a pooler in transaction mode that cannot carry prepared statements.
    pub prepared_statements: bool,
    /// Records what the connections run and prepare (tests and benchmarks).
    pub statement_log: Option<StatementLog>,
}

impl Default for PoolSettings {
    fn default() -> Self {
        PoolSettings {
            max_size: 10,
            connection_timeout: Duration::from_secs(5),
            sqlite: SqliteSettings::default(),
            prepared_statements: true,
            statement_log: None,
        }
    }
}

/// Opens connections as the pool's do, with `settings`.
pub(crate) fn manager(url: &DatabaseUrl, settings: &PoolSettings) -> ConnectionManager {
    ConnectionManager {
        url: url.clone(),
        sqlite: settings.sqlite.clone(),
        prepared_statements: settings.prepared_statements,
        statement_log: settings.statement_log.clone(),
        background_checkpoints: url.backend() == Backend::Sqlite,
    }
}

pub fn build_pool(url: &DatabaseUrl, settings: &PoolSettings) -> Result<Pool, StoreError> {
    if let DatabaseUrl::Sqlite(_) = url {
        // One connection switches a new file to WAL (a setting stored in the file) before the
        // pool opens its connections side by side, so they never race for that exclusive lock.
        url.connect_with(&settings.sqlite)
            .map_err(|err| StoreError::Config(err.to_string()))?;
    }
    r2d2::Pool::builder()
        .max_size(settings.max_size)
        .connection_timeout(settings.connection_timeout)
        // A ping on every checkout halves throughput; broken connections are caught by
        // `has_broken` when they return.
        .test_on_check_out(false)
        .build(manager(url, settings))
        .map_err(StoreError::Unavailable)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_urls_get_liveness_settings_they_do_not_set() {
        let plain = with_liveness("postgres://u@h/db");
        assert!(plain.starts_with("postgres://u@h/db?connect_timeout=5&keepalives_idle=30"));
        assert!(plain.ends_with("tcp_user_timeout=30000"));
        let own = with_liveness("postgres://u@h/db?sslmode=disable&connect_timeout=2");
        assert!(own.contains("connect_timeout=2"));
        assert!(!own.contains("connect_timeout=5"));
        assert!(
            own.starts_with(
                "postgres://u@h/db?sslmode=disable&connect_timeout=2&keepalives_idle=30"
            )
        );
    }

    #[test]
    fn urls_pick_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("data/x.db"))
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/x.db").unwrap(),
            DatabaseUrl::Sqlite(PathBuf::from("/var/lib/x.db"))
        );
        for bad in ["mysql://x", "sqlite://", "sqlite://:memory:", "data/x.db"] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn postgres_passwords_are_redacted_in_output() {
        let url = DatabaseUrl::parse("postgres://scim:hunter2@db:5432/scim").unwrap();
        assert_eq!(url.to_string(), "postgres://scim:***@db:5432/scim");
        assert!(!format!("{url:?}").contains("hunter2"));
    }
}
