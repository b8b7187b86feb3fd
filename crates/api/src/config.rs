//! Settings, read once from the environment (or flags) in `main` and passed down.
//!
//! Every variable is listed in the README's settings table and in `webwork-scim --help`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use webwork_scim_persistence::{SqliteSettings, Synchronous};
use webwork_scim_tenancy::JwtVerifier;

use crate::state::AppConfig;
use crate::usecases::housekeeping::Retention;
use crate::webhooks::WebhookSettings;

/// Settings every command needs.
#[derive(Debug, Clone, Args)]
pub struct CommonSettings {
    /// Where the data lives: `sqlite://path` (the embedded default) or `postgres://…`.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "sqlite://data/webwork-scim.db",
        global = true,
        hide_env_values = true
    )]
    pub database_url: SecretString,

    /// The address the HTTP server listens on.
    #[arg(
        long,
        env = "BIND_ADDR",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    pub bind_addr: SocketAddr,

    /// The externally visible base URL, used in SCIM Base URLs and `meta.location`
    /// (default: `http://` + BIND_ADDR).
    #[arg(long, env = "PUBLIC_BASE_URL", global = true)]
    pub public_base_url: Option<String>,

    /// Connections in the database pool.
    #[arg(long, env = "DB_POOL_SIZE", default_value_t = 10, global = true)]
    pub db_pool_size: u32,

    /// Whether PostgreSQL connections prepare each statement once and reuse it. Set to false
    /// behind a pooler in transaction mode (PgBouncer before 1.21, or without
    /// `max_prepared_statements`): its server connections change under a client between
    /// transactions, and named statements with them.
    #[arg(
        long,
        env = "DB_PREPARED_STATEMENTS",
        default_value_t = true,
        action = clap::ArgAction::Set,
        global = true
    )]
    pub db_prepared_statements: bool,

    /// When the embedded SQLite database syncs to disk: NORMAL (at checkpoints; an
    /// acknowledged write can be lost if the machine loses power) or FULL (on every commit).
    #[arg(
        long,
        env = "SQLITE_SYNCHRONOUS",
        default_value = "NORMAL",
        global = true
    )]
    pub sqlite_synchronous: Synchronous,

    /// How long a SQLite statement waits, in milliseconds, for a write lock held by another
    /// process (a command run beside the server) before the request answers 503.
    #[arg(
        long,
        env = "SQLITE_BUSY_TIMEOUT_MS",
        default_value_t = 5000,
        global = true
    )]
    pub sqlite_busy_timeout_ms: u64,

    /// The size, in MiB, to which SQLite's write-ahead log file is cut back when the log starts
    /// again after a burst of changes grew it past that (the log itself never waits for it).
    #[arg(
        long,
        env = "SQLITE_WAL_LIMIT_MB",
        default_value_t = SqliteSettings::DEFAULT_WAL_LIMIT_MB,
        global = true
    )]
    pub sqlite_wal_limit_mb: u64,

    /// How much of the SQLite database file, in MiB, each pool connection reads through a memory
    /// map of the kernel's page cache instead of a system call and a copy per page (0 turns the
    /// map off; SQLite caps it at 2047).
    #[arg(
        long,
        env = "SQLITE_MMAP_MB",
        default_value_t = SqliteSettings::DEFAULT_MMAP_MB,
        global = true
    )]
    pub sqlite_mmap_mb: u64,

    /// The URL `migrate` uses: a role that owns the tables (default: DATABASE_URL). The service
    /// itself connects with DATABASE_URL, a role that neither owns them nor bypasses row-level
    /// security.
    #[arg(
        long,
        env = "MIGRATION_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub migration_database_url: Option<SecretString>,

    /// Log lines as JSON objects (for log collectors) or as text for people (`make run`).
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Json, global = true)]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Json,
    Text,
}

impl CommonSettings {
    /// The public base URL without a trailing slash.
    pub fn public_base_url(&self) -> String {
        match &self.public_base_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.bind_addr),
        }
    }
}

/// Settings of the HTTP server.
#[derive(Debug, Clone, Args)]
pub struct ServeSettings {
    /// The largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1_048_576)]
    pub max_body_bytes: usize,

    /// How long a verified token is trusted without argon2, counted from its verification.
    #[arg(long, env = "TOKEN_CACHE_TTL_SECS", default_value_t = 300)]
    pub token_cache_ttl_secs: u64,

    /// How long a workspace's plan, settings and token record are served from this replica's
    /// cache; changes made on another replica apply here within this time.
    #[arg(long, env = "TENANT_CACHE_TTL_SECS", default_value_t = 5)]
    pub tenant_cache_ttl_secs: u64,

    /// Admin-API JWT keys: a JSON array of {"kid", "alg": "EdDSA"|"RS256", "public_key": PEM}
    /// (or {"kid", "alg": "HS256", "secret"} with JWT_ALLOW_HS256). Without keys the admin API
    /// refuses every call.
    #[arg(long, env = "JWT_KEYS", hide_env_values = true)]
    pub jwt_keys: Option<SecretString>,

    /// A file holding the JWT_KEYS array (e.g. a mounted Kubernetes secret).
    #[arg(long, env = "JWT_KEYS_FILE")]
    pub jwt_keys_file: Option<std::path::PathBuf>,

    /// The `iss` admin-API JWTs must carry.
    #[arg(long, env = "JWT_ISSUER", default_value = "webwork")]
    pub jwt_issuer: String,

    /// The `aud` admin-API JWTs must carry.
    #[arg(long, env = "JWT_AUDIENCE", default_value = "webwork-scim-admin")]
    pub jwt_audience: String,

    /// The `aud` service JWTs of the internal API must carry.
    #[arg(
        long,
        env = "JWT_INTERNAL_AUDIENCE",
        default_value = "webwork-scim-internal"
    )]
    pub jwt_internal_audience: String,

    /// Where lifecycle events are posted (comma-separated `http://` or `https://` URLs);
    /// without any, events wait in the outbox.
    #[arg(long, env = "WEBHOOK_URLS", value_delimiter = ',')]
    pub webhook_urls: Vec<String>,

    /// A PEM file of CA certificates trusted for `https://` webhook URLs besides the system's.
    #[arg(long, env = "WEBHOOK_CA_FILE")]
    pub webhook_ca_file: Option<std::path::PathBuf>,

    /// The signing secret of the webhooks, `whsec_` + base64 of at least 24 random bytes.
    #[arg(long, env = "WEBHOOK_SECRET", hide_env_values = true)]
    pub webhook_secret: Option<SecretString>,

    /// Hours an event is retried before it is dead and waits for a replay.
    #[arg(long, env = "WEBHOOK_DEAD_AFTER_HOURS", default_value_t = 72)]
    pub webhook_dead_after_hours: u64,

    /// The longest wait between two attempts of one event, in seconds.
    #[arg(long, env = "WEBHOOK_MAX_BACKOFF_SECS", default_value_t = 300)]
    pub webhook_max_backoff_secs: u64,

    /// Seconds to wait for WebWork's app to answer one delivery.
    #[arg(long, env = "WEBHOOK_TIMEOUT_SECS", default_value_t = 5)]
    pub webhook_timeout_secs: u64,

    /// The first retry's delay in milliseconds; each further one doubles, up to
    /// WEBHOOK_MAX_BACKOFF_SECS.
    #[arg(long, env = "WEBHOOK_BACKOFF_BASE_MS", default_value_t = 1000)]
    pub webhook_backoff_base_ms: u64,

    /// Milliseconds the delivery worker waits when nothing is due.
    #[arg(long, env = "OUTBOX_POLL_MS", default_value_t = 250)]
    pub outbox_poll_ms: u64,

    /// Days delivered outbox events are kept.
    #[arg(long, env = "OUTBOX_RETENTION_DAYS", default_value_t = 7)]
    pub outbox_retention_days: u64,

    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[arg(long, env = "JWT_LEEWAY_SECS", default_value_t = 30)]
    pub jwt_leeway_secs: u64,

    /// Accept HS256 keys in JWT_KEYS (development only).
    #[arg(long, env = "JWT_ALLOW_HS256", default_value_t = false)]
    pub jwt_allow_hs256: bool,

    /// Failed token attempts allowed per workspace and token prefix per minute. Only prefixes
    /// of real tokens count; a token that verifies always passes.
    #[arg(long, env = "FAILED_AUTH_PER_TOKEN", default_value_t = 10)]
    pub failed_auth_per_token: u32,

    /// Tokens expiring within this many days are flagged in the admin API.
    #[arg(long, env = "TOKEN_EXPIRY_WARNING_DAYS", default_value_t = 14)]
    pub token_expiry_warning_days: u64,

    /// How long a rotated token keeps working unless the rotation says otherwise.
    #[arg(long, env = "TOKEN_ROTATION_GRACE_SECS", default_value_t = 86_400)]
    pub token_rotation_grace_secs: u64,

    /// The most users, active and inactive, one workspace may hold; a creation past it answers
    /// 403. Deleted users do not count.
    #[arg(long, env = "MAX_USERS_PER_WORKSPACE", default_value_t = 100_000)]
    pub max_users_per_workspace: u32,

    /// Days audit events are kept.
    #[arg(long, env = "AUDIT_RETENTION_DAYS", default_value_t = 365)]
    pub audit_retention_days: u64,

    /// Days provisioning errors are kept.
    #[arg(long, env = "ERROR_RETENTION_DAYS", default_value_t = 30)]
    pub error_retention_days: u64,

    /// Days a deleted user's tombstone is kept.
    #[arg(long, env = "DELETED_USER_RETENTION_DAYS", default_value_t = 90)]
    pub deleted_user_retention_days: u64,

    /// Days a deleted workspace's data is kept before it is purged.
    #[arg(long, env = "WORKSPACE_DELETION_GRACE_DAYS", default_value_t = 30)]
    pub workspace_deletion_grace_days: u64,

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "HTTP_WORKERS")]
    pub http_workers: Option<usize>,

    /// On first start with an empty database, create a demo Premium workspace and print its SCIM
    /// Base URL and token (`make run` turns this on).
    #[arg(long, env = "DEMO_WORKSPACE", default_value_t = false)]
    pub demo_workspace: bool,

    /// Serve `/metrics` on this address only (a port Prometheus reaches but clients do not);
    /// unset, `/metrics` is served on BIND_ADDR.
    #[arg(long, env = "METRICS_BIND_ADDR")]
    pub metrics_bind_addr: Option<SocketAddr>,

    /// Seconds to finish in-flight requests after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
}

const DAY: u64 = 24 * 3600;

impl ServeSettings {
    /// The app's settings, with the JWT keys read and checked.
    pub fn app_config(&self, public_base_url: &str) -> Result<AppConfig, String> {
        let keys: Option<SecretString> = match (&self.jwt_keys, &self.jwt_keys_file) {
            (Some(json), _) => Some(json.clone()),
            (None, Some(path)) => Some(
                std::fs::read_to_string(path)
                    .map_err(|err| format!("JWT_KEYS_FILE {}: {err}", path.display()))?
                    .into(),
            ),
            (None, None) => None,
        };
        let verifier = |audience: &str| match &keys {
            Some(json) => JwtVerifier::from_json(
                json.expose_secret(),
                &self.jwt_issuer,
                audience,
                self.jwt_leeway_secs,
                self.jwt_allow_hs256,
            )
            .map_err(|err| err.to_string()),
            None => Ok(JwtVerifier::disabled()),
        };
        let jwt = verifier(&self.jwt_audience)?;
        let internal_jwt = verifier(&self.jwt_internal_audience)?;
        Ok(AppConfig {
            max_body_bytes: self.max_body_bytes,
            token_cache_ttl: Duration::from_secs(self.token_cache_ttl_secs),
            tenant_cache_ttl: Duration::from_secs(self.tenant_cache_ttl_secs),
            failed_auth_per_prefix: self.failed_auth_per_token,
            token_expiry_warning: Duration::from_secs(self.token_expiry_warning_days * DAY),
            rotation_grace: Duration::from_secs(self.token_rotation_grace_secs),
            max_users_per_workspace: self.max_users_per_workspace,
            workspace_deletion_grace: Duration::from_secs(self.workspace_deletion_grace_days * DAY),
            jwt,
            internal_jwt,
            ..AppConfig::new(public_base_url)
        })
    }

    /// The delivery worker's settings; `None` when no webhook URL is configured.
    pub fn webhooks(&self) -> Result<Option<WebhookSettings>, String> {
        let urls: Vec<String> = self
            .webhook_urls
            .iter()
            .map(|u| u.trim().to_owned())
            .filter(|u| !u.is_empty())
            .collect();
        if urls.is_empty() {
            return Ok(None);
        }
        let https = |url: &String| url.starts_with("https://");
        if let Some(bad) = urls.iter().find(|u| !u.starts_with("http://") && !https(u)) {
            return Err(format!(
                "WEBHOOK_URLS: '{bad}' must be an http:// or https:// URL"
            ));
        }
        let tls = match urls.iter().any(https) {
            true => Some(crate::webhook_tls::client_config(
                self.webhook_ca_file.as_deref(),
            )?),
            false => None,
        };
        let secret = self
            .webhook_secret
            .as_ref()
            .ok_or("WEBHOOK_SECRET is required with WEBHOOK_URLS")?
            .expose_secret();
        Ok(Some(WebhookSettings {
            urls,
            secret: WebhookSettings::decode_secret(secret)?,
            dead_after: Duration::from_secs(self.webhook_dead_after_hours.max(1) * 3600),
            timeout: Duration::from_secs(self.webhook_timeout_secs.max(1)),
            poll: Duration::from_millis(self.outbox_poll_ms.max(10)),
            backoff_base: Duration::from_millis(self.webhook_backoff_base_ms.max(1)),
            max_backoff: Duration::from_secs(self.webhook_max_backoff_secs.max(1)),
            batch: 20,
            tls,
        }))
    }

    pub fn retention(&self) -> Retention {
        Retention {
            audit: Duration::from_secs(self.audit_retention_days * DAY),
            errors: Duration::from_secs(self.error_retention_days * DAY),
            deleted_users: Duration::from_secs(self.deleted_user_retention_days * DAY),
            deleted_workspaces: Duration::from_secs(self.workspace_deletion_grace_days * DAY),
            delivered_events: Duration::from_secs(self.outbox_retention_days * DAY),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Settings {
        #[command(flatten)]
        common: CommonSettings,
        #[command(flatten)]
        serve: ServeSettings,
    }

    #[test]
    fn secrets_in_the_settings_are_never_printed() {
        let settings = Settings::try_parse_from([
            "webwork-scim",
            "--database-url",
            "postgres://scim:hunter2@db/scim",
            "--migration-database-url",
            "postgres://owner:sw0rdfish@db/scim",
            "--jwt-keys",
            "[{\"kid\": \"k\", \"alg\": \"HS256\", \"secret\": \"opensesame-opensesame-opensesame\"}]",
            "--webhook-secret",
            "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
            "--webhook-urls",
            "http://app.test/hooks",
        ])
        .unwrap();
        let printed = format!("{settings:?}");
        for secret in ["hunter2", "sw0rdfish", "opensesame", "MDEyMzQ1"] {
            assert!(!printed.contains(secret), "{secret} in {printed}");
        }
        let webhooks = settings.serve.webhooks().unwrap().unwrap();
        assert!(!format!("{webhooks:?}").contains("0123456789abcdef"));
        assert_eq!(
            webhooks.secret.expose_secret(),
            b"0123456789abcdef0123456789abcdef"
        );
    }

    #[test]
    fn webhook_urls_may_be_https_and_a_ca_file_must_be_readable() {
        let webhooks = |urls: &str, ca: Option<&str>| {
            let mut args = vec![
                "webwork-scim",
                "--webhook-secret",
                "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
                "--webhook-urls",
                urls,
            ];
            if let Some(ca) = ca {
                args.extend(["--webhook-ca-file", ca]);
            }
            Settings::try_parse_from(args).unwrap().serve.webhooks()
        };
        let plain = webhooks("http://app.test/hooks", None).unwrap().unwrap();
        assert!(plain.tls.is_none());
        let refused = webhooks("ftp://app.test/hooks", None).unwrap_err();
        assert!(refused.contains("http:// or https://"), "{refused}");
        let missing = webhooks("https://app.test/hooks", Some("/nonexistent/ca.pem")).unwrap_err();
        assert!(
            missing.contains("WEBHOOK_CA_FILE '/nonexistent/ca.pem'"),
            "{missing}"
        );
    }
}
