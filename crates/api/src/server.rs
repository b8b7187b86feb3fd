//! `webwork-scim serve`: open the database, migrate SQLite (or check PostgreSQL is migrated),
//! seed the demo workspace when asked, run retention in the background, and serve until SIGTERM.

use std::time::Duration;

use secrecy::ExposeSecret;

use actix_web::HttpServer;
use webwork_scim_domain::{PlainText, Plan, WorkspaceName};
use webwork_scim_persistence::{
    Backend, DatabaseUrl, PoolSettings, SqliteSettings, Store, StoreError, migrations,
};

use crate::config::{CommonSettings, ServeSettings};
use crate::state::AppConfig;
use crate::usecases::housekeeping::Retention;
use crate::usecases::workspaces::NewWorkspace;
use crate::usecases::{AdminError, Caller};
use crate::{AppState, app};

/// How often retention and the token-expiry count run.
const HOUSEKEEPING_EVERY: Duration = Duration::from_secs(15 * 60);
/// How soon a user written by an earlier release during a rollout is found by filters on
/// attributes without a column.
const REFOLD_EVERY: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] AdminError),
    #[error("{0}")]
    Startup(String),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects the service's pool and checks the schema: the embedded SQLite database migrates
/// itself; PostgreSQL must have been migrated by `webwork-scim migrate` with the owning role.
pub fn open_store(common: &CommonSettings) -> Result<Store, ServeError> {
    let url = DatabaseUrl::parse(common.database_url.expose_secret())?;
    let store = Store::connect(
        &url,
        &PoolSettings {
            max_size: common.db_pool_size,
            prepared_statements: common.db_prepared_statements,
            sqlite: SqliteSettings {
                busy_timeout: Duration::from_millis(common.sqlite_busy_timeout_ms),
                synchronous: common.sqlite_synchronous,
                wal_limit_bytes: common.sqlite_wal_limit_mb.saturating_mul(1024 * 1024),
                mmap_bytes: common.sqlite_mmap_mb.saturating_mul(1024 * 1024),
            },
            ..PoolSettings::default()
        },
    )?;
    if url.backend() == Backend::Sqlite {
        let applied = store.migrate()?;
        if !applied.is_empty() {
            tracing::info!(database = %url, ?applied, "migrations applied");
        }
    } else if !store.is_migrated()? {
        return Err(ServeError::Startup(format!(
            "the database at {url} has pending migrations: run `webwork-scim migrate` first"
        )));
    }
    Ok(store)
}

/// Applies pending migrations with MIGRATION_DATABASE_URL (the owning role), or DATABASE_URL.
pub fn migrate(common: &CommonSettings) -> Result<Vec<String>, ServeError> {
    let raw = common
        .migration_database_url
        .as_ref()
        .unwrap_or(&common.database_url);
    let url = DatabaseUrl::parse(raw.expose_secret())?;
    Ok(migrations::migrate(&url)?)
}

pub async fn serve(common: CommonSettings, settings: ServeSettings) -> Result<(), ServeError> {
    let store = open_store(&common)?;
    let public_base_url = common.public_base_url();
    let config = settings
        .app_config(&public_base_url)
        .map_err(ServeError::Startup)?;
    if !config.jwt.is_enabled() {
        tracing::warn!("no JWT_KEYS configured: the admin API refuses every call");
    }
    let config = AppConfig {
        metrics_on_api_port: settings.metrics_bind_addr.is_none(),
        ..config
    };
    let state = AppState::new(store, config).map_err(ServeError::Startup)?;
    if settings.demo_workspace {
        seed_demo(&state, &public_base_url).await?;
    }
    actix_web::rt::spawn(housekeeping(state.clone(), settings.retention()));
    actix_web::rt::spawn(refolding(state.clone()));
    let worker = start_delivery(&state, &settings)?;
    let workers = settings
        .http_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let grace = Duration::from_secs(settings.shutdown_timeout_secs);
    let served = state.clone();
    // Signals are handled below, once for both servers, so that they stop together.
    let api = HttpServer::new(move || app::app(served.clone()))
        .workers(workers)
        // The blocking tasks are database work: past the pool's size, more threads would mostly
        // wait for a connection, each keeping its stack and its allocator's heap resident. (A
        // task queued for a thread holds no connection, so the cap delays; it cannot deadlock.)
        .worker_max_blocking_threads(state.store().pool_max_size().max(1) as usize)
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .disable_signals()
        .bind(common.bind_addr)?
        .run();
    let metrics = match settings.metrics_bind_addr {
        Some(addr) => {
            let served = state.clone();
            let server = HttpServer::new(move || app::metrics_app(served.clone()))
                .workers(1)
                .shutdown_timeout(settings.shutdown_timeout_secs)
                .disable_signals()
                .bind(addr)?
                .run();
            tracing::info!(%addr, "metrics listening");
            Some(server)
        }
        None => None,
    };
    let api_handle = api.handle();
    let metrics_handle = metrics.as_ref().map(actix_web::dev::Server::handle);
    let status = state.status.clone();
    actix_web::rt::spawn(async move {
        wait_for_signal().await;
        tracing::info!("stopping: finishing in-flight requests");
        status.begin_stopping();
        match metrics_handle {
            Some(metrics) => {
                tokio::join!(api_handle.stop(true), metrics.stop(true));
            }
            None => api_handle.stop(true).await,
        }
    });
    state.status.mark_ready();
    tracing::info!(addr = %common.bind_addr, %public_base_url, workers, "listening");
    match metrics {
        Some(metrics) => {
            let (api, metrics) = tokio::join!(api, metrics);
            api?;
            metrics?;
        }
        None => api.await?,
    }
    state.status.begin_stopping();
    // The whole stop, requests and the outbox batch together, fits in one grace period.
    let left = state.status.grace_left(grace);
    if let Some(worker) = worker
        && tokio::time::timeout(left, worker).await.is_err()
    {
        tracing::warn!("the outbox batch in hand did not finish in time; its leases expire");
    }
    tracing::info!("stopped");
    Ok(())
}

/// The outbox delivery worker when webhooks are configured (its handle, to let it finish on
/// stop); otherwise a watcher that keeps the backlog gauges current.
fn start_delivery(
    state: &AppState,
    settings: &ServeSettings,
) -> Result<Option<actix_web::rt::task::JoinHandle<()>>, ServeError> {
    Ok(match settings.webhooks().map_err(ServeError::Startup)? {
        Some(webhooks) => {
            tracing::info!(
                endpoints = webhooks.urls.len(),
                "delivering lifecycle events"
            );
            Some(actix_web::rt::spawn(crate::webhooks::run(
                state.clone(),
                webhooks,
            )))
        }
        None => {
            tracing::warn!("no WEBHOOK_URLS configured: lifecycle events wait in the outbox");
            actix_web::rt::spawn(crate::webhooks::watch_backlog(state.clone()));
            None
        }
    })
}

/// SIGTERM (Kubernetes) or SIGINT (a terminal).
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot watch SIGTERM; stopping on SIGINT only");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Every interval: purge what retention allows, and count the tokens about to expire for the
/// `tokens_expiring_soon` metric.
async fn housekeeping(state: AppState, retention: Retention) {
    let mut every = tokio::time::interval(HOUSEKEEPING_EVERY);
    loop {
        every.tick().await;
        let warning = state.config.token_expiry_warning;
        match state.use_cases.housekeeping_pass(retention, warning).await {
            Ok((purged, expiring)) => {
                let gauge = i64::try_from(expiring).unwrap_or(i64::MAX);
                state.metrics.tokens_expiring_soon.set(gauge);
                tracing::info!(
                    ?purged,
                    tokens_expiring_soon = expiring,
                    "housekeeping pass"
                );
            }
            Err(err) => tracing::warn!(error = %err, "housekeeping pass failed"),
        }
    }
}

/// At start and then every [`REFOLD_EVERY`]: recompute the folded documents that filters read
/// where an earlier release (during a rollout) or the time before the column left them stale.
async fn refolding(state: AppState) {
    let mut every = tokio::time::interval(REFOLD_EVERY);
    loop {
        every.tick().await;
        match state.use_cases.refold_pass().await {
            Ok(0) => {}
            Ok(refolded) => tracing::info!(refolded, "folded documents recomputed"),
            Err(err) => tracing::warn!(error = %err, "recomputing folded documents failed"),
        }
    }
}

/// On an empty database, creates a Premium workspace with SSO on and prints its SCIM Base URL and
/// a token, so that a newcomer can point Okta (or curl) at it at once. A closed stdout does not
/// stop the server.
async fn seed_demo(state: &AppState, public_base_url: &str) -> Result<(), ServeError> {
    use std::io::Write;
    if state.use_cases.has_workspaces().await? {
        return Ok(());
    }
    let operator = Caller::operator();
    let demo = NewWorkspace {
        name: WorkspaceName::parse("Demo Workspace").map_err(AdminError::from)?,
        plan: Plan::Premium,
        sso_enabled: true,
        seats: None,
    };
    let use_cases = &state.use_cases;
    let workspace = use_cases.create_workspace(&operator, demo).await?;
    let label = PlainText::parse("label", "demo", 100).map_err(AdminError::from)?;
    let token = use_cases
        .issue_token(&operator, workspace.key.as_str(), label, None)
        .await?;
    let url = crate::state::scim_base_url(public_base_url, workspace.key.as_str());
    let key = &workspace.key;
    let banner = format!(
        "\n  Demo workspace created (Premium, SSO enabled): {key}\n  SCIM Base URL:  {url}\n  \
         SCIM API Token: {}\n  The token is shown only now; issue another with \
         `webwork-scim token issue {key}`.\n\n",
        token.plaintext
    );
    let mut stdout = std::io::stdout().lock();
    if stdout
        .write_all(banner.as_bytes())
        .and_then(|()| stdout.flush())
        .is_err()
    {
        tracing::warn!("could not print the demo workspace's token to stdout");
    }
    Ok(())
}
