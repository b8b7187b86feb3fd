//! What every request handler shares: the store, the caches and limits of this replica, and the
//! settings that shape responses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use webwork_scim_persistence::Store;
use webwork_scim_tenancy::{AuthSettings, JwtVerifier, RateLimiter, UseRecorder};

use crate::metrics::Metrics;
use crate::usecases::UseCases;

/// Entries in the caches of this replica; one per active token is plenty.
pub const CACHE_CAPACITY: u64 = 100_000;

/// The settings of a running app, with their defaults in [`AppConfig::new`].
#[derive(Debug)]
pub struct AppConfig {
    /// Without a trailing slash.
    pub public_base_url: String,
    pub max_body_bytes: usize,
    /// How long a verified token is trusted without argon2.
    pub token_cache_ttl: Duration,
    /// How long a workspace's plan, settings and token record are trusted without the database;
    /// other replicas see a change within this time.
    pub tenant_cache_ttl: Duration,
    /// Failed token attempts allowed per (workspace, token prefix) in a window.
    pub failed_auth_per_prefix: u32,
    pub failed_auth_window: Duration,
    /// argon2 workers (token verification, password hashing, credential checks).
    pub argon2_workers: usize,
    /// Tokens expiring within this time are flagged.
    pub token_expiry_warning: Duration,
    /// How long a rotated token keeps working by default.
    pub rotation_grace: Duration,
    /// How long a deleted workspace's data is kept before it is purged.
    pub workspace_deletion_grace: Duration,
    pub jwt: JwtVerifier,
    /// Service JWTs of the internal API (the same keys, their own audience).
    pub internal_jwt: JwtVerifier,
    /// Whether `/metrics` is served beside the API (false when it has a port of its own).
    pub metrics_on_api_port: bool,
    /// The most users (active and inactive) one workspace may hold.
    pub max_users_per_workspace: u32,
}

impl AppConfig {
    pub fn new(public_base_url: &str) -> AppConfig {
        AppConfig {
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            max_body_bytes: 1_048_576,
            token_cache_ttl: Duration::from_secs(300),
            tenant_cache_ttl: Duration::from_secs(5),
            failed_auth_per_prefix: 10,
            failed_auth_window: Duration::from_secs(60),
            argon2_workers: std::thread::available_parallelism().map_or(2, usize::from),
            token_expiry_warning: Duration::from_secs(14 * 24 * 3600),
            rotation_grace: Duration::from_secs(24 * 3600),
            workspace_deletion_grace: Duration::from_secs(30 * 24 * 3600),
            jwt: JwtVerifier::disabled(),
            internal_jwt: JwtVerifier::disabled(),
            metrics_on_api_port: true,
            max_users_per_workspace: crate::usecases::MAX_USERS_PER_WORKSPACE,
        }
    }
}

/// What every request handler shares: the use cases, the settings, and this replica's
/// metrics, limits and life.
#[derive(Debug, Clone)]
pub struct AppState {
    pub use_cases: UseCases,
    pub config: Arc<AppConfig>,
    /// When each token's use was last written.
    pub usage: Arc<UseRecorder>,
    /// Bounds how many failed requests per workspace are written to its error log.
    pub error_log_budget: Arc<RateLimiter>,
    pub metrics: Arc<Metrics>,
    pub status: Arc<ProcessStatus>,
}

/// Where the process is in its life: ready to serve once started, then stopping on SIGTERM.
#[derive(Debug)]
pub struct ProcessStatus {
    ready: AtomicBool,
    stop: watch::Sender<bool>,
    stopping_since: OnceLock<Instant>,
}

impl ProcessStatus {
    fn new() -> ProcessStatus {
        ProcessStatus {
            ready: AtomicBool::new(false),
            stop: watch::Sender::new(false),
            stopping_since: OnceLock::new(),
        }
    }

    /// Started, configuration valid, schema checked: `/readyz` answers 200 from now on.
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Not ready any more, and background work is asked to finish what it holds and stop.
    pub fn begin_stopping(&self) {
        self.stopping_since.get_or_init(Instant::now);
        self.ready.store(false, Ordering::Release);
        self.stop.send_replace(true);
    }

    /// How much of `grace` is left since stopping began (all of it before).
    pub fn grace_left(&self, grace: Duration) -> Duration {
        self.stopping_since
            .get()
            .map_or(grace, |since| grace.saturating_sub(since.elapsed()))
    }

    /// Resolves to `true` once stopping has begun.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }
}

impl AppState {
    pub fn new(store: Store, config: AppConfig) -> Result<AppState, String> {
        let metrics = Metrics::new().map_err(|err| err.to_string())?;
        let pool_wait = metrics.pool_wait.clone();
        let store = store.with_wait_observer(Arc::new(move |waited: Duration| {
            pool_wait.observe(waited.as_secs_f64());
        }));
        let settings = AuthSettings {
            token_ttl: config.token_cache_ttl,
            tenant_ttl: config.tenant_cache_ttl,
            failures_per_prefix: config.failed_auth_per_prefix,
            failure_window: config.failed_auth_window,
            capacity: CACHE_CAPACITY,
        };
        let mut use_cases =
            UseCases::new(store, config.argon2_workers, settings).map_err(|err| err.to_string())?;
        use_cases.max_users_per_workspace = config.max_users_per_workspace;
        Ok(AppState {
            use_cases,
            usage: Arc::new(UseRecorder::new(Duration::from_secs(60), CACHE_CAPACITY)),
            error_log_budget: Arc::new(RateLimiter::new(CACHE_CAPACITY)),
            metrics: Arc::new(metrics),
            status: Arc::new(ProcessStatus::new()),
            config: Arc::new(config),
        })
    }

    /// The store, for the outbox worker and the metrics.
    pub fn store(&self) -> &Store {
        &self.use_cases.store
    }

    /// The SCIM Base URL of workspace `key`, as an admin pastes it into Okta.
    pub fn scim_base_url(&self, key: &str) -> String {
        scim_base_url(&self.config.public_base_url, key)
    }
}

pub fn scim_base_url(public_base_url: &str, key: &str) -> String {
    format!("{}/scim/v2/{key}", public_base_url.trim_end_matches('/'))
}
