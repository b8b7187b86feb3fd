//! What every request handler shares: the store, the caches and limits of this replica, and the
//! settings that shape responses.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, watch};

use crate::metrics::Metrics;
use webwork_scim_persistence::Store;
use webwork_scim_tenancy::{
    FailureThrottle, JwtVerifier, RateLimiter, TenantCache, TokenVerifier, UseRecorder,
};

/// Entries in the caches of this replica; one per active token is plenty.
const CACHE_CAPACITY: usize = 100_000;

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
    /// Failed token attempts allowed per (workspace, prefix) and per workspace in a window.
    pub failed_auth_per_prefix: u32,
    pub failed_auth_per_workspace: u32,
    pub failed_auth_window: Duration,
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
}

impl AppConfig {
    pub fn new(public_base_url: &str) -> AppConfig {
        AppConfig {
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            max_body_bytes: 1_048_576,
            token_cache_ttl: Duration::from_secs(300),
            tenant_cache_ttl: Duration::from_secs(5),
            failed_auth_per_prefix: 10,
            failed_auth_per_workspace: 50,
            failed_auth_window: Duration::from_secs(60),
            token_expiry_warning: Duration::from_secs(14 * 24 * 3600),
            rotation_grace: Duration::from_secs(24 * 3600),
            workspace_deletion_grace: Duration::from_secs(30 * 24 * 3600),
            jwt: JwtVerifier::disabled(),
            internal_jwt: JwtVerifier::disabled(),
            metrics_on_api_port: true,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<AppConfig>,
    pub verifier: Arc<TokenVerifier>,
    pub tenants: Arc<TenantCache>,
    pub rate_limiter: Arc<RateLimiter>,
    pub failures: Arc<FailureThrottle>,
    pub usage: Arc<UseRecorder>,
    /// Bounds how many failed requests per workspace are written to its error log.
    pub error_log_budget: Arc<RateLimiter>,
    /// Bounds concurrent argon2 runs (token verification, password hashing) to the core count,
    /// so that a burst cannot starve the blocking pool.
    pub argon2_permits: Arc<Semaphore>,
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
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let verifier = TokenVerifier::new(config.token_cache_ttl, CACHE_CAPACITY)
            .map_err(|err| err.to_string())?;
        let metrics = Metrics::new().map_err(|err| err.to_string())?;
        let pool_wait = metrics.pool_wait.clone();
        let store = store.with_wait_observer(Arc::new(move |waited: Duration| {
            pool_wait.observe(waited.as_secs_f64());
        }));
        Ok(AppState {
            store,
            verifier: Arc::new(verifier),
            tenants: Arc::new(TenantCache::new(config.tenant_cache_ttl, CACHE_CAPACITY)),
            rate_limiter: Arc::new(RateLimiter::default()),
            failures: Arc::new(FailureThrottle::new(
                config.failed_auth_per_prefix,
                config.failed_auth_per_workspace,
                config.failed_auth_window,
            )),
            usage: Arc::new(UseRecorder::new(Duration::from_secs(60))),
            error_log_budget: Arc::new(RateLimiter::default()),
            argon2_permits: Arc::new(Semaphore::new(cores)),
            metrics: Arc::new(metrics),
            status: Arc::new(ProcessStatus::new()),
            config: Arc::new(config),
        })
    }

    /// The SCIM Base URL of workspace `key`, as an admin pastes it into Okta.
    pub fn scim_base_url(&self, key: &str) -> String {
        scim_base_url(&self.config.public_base_url, key)
    }

    /// Forgets what this replica cached about a workspace, after a change to it here.
    pub fn forget_workspace(&self, key: &str) {
        self.tenants.forget_workspace(key);
    }
}

pub fn scim_base_url(public_base_url: &str, key: &str) -> String {
    format!("{}/scim/v2/{key}", public_base_url.trim_end_matches('/'))
}
