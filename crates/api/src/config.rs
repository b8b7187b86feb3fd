//! Settings, read once from the environment (or flags) in `main` and passed down.
//!
//! Every variable is listed in the README's settings table and in `webwork-scim --help`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

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
    pub database_url: String,

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

    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "HTTP_WORKERS")]
    pub http_workers: Option<usize>,

    /// On first start with an empty database, create a demo Premium workspace and print its SCIM
    /// Base URL and token (`make run` turns this on).
    #[arg(long, env = "DEMO_WORKSPACE", default_value_t = false)]
    pub demo_workspace: bool,

    /// Seconds to finish in-flight requests after SIGTERM.
    #[arg(long, env = "SHUTDOWN_TIMEOUT_SECS", default_value_t = 30)]
    pub shutdown_timeout_secs: u64,
}

impl ServeSettings {
    pub fn token_cache_ttl(&self) -> Duration {
        Duration::from_secs(self.token_cache_ttl_secs)
    }
}
