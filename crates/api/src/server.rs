//! `webwork-scim serve`: open the database, migrate SQLite (or check PostgreSQL is migrated),
//! seed the demo workspace when asked, and serve until SIGTERM.

use actix_web::HttpServer;
use webwork_scim_persistence::{
    Access, Backend, DatabaseUrl, PoolSettings, Store, StoreError, migrations, workspaces,
};
use webwork_scim_tenancy::TokenVerifier;

use crate::config::{CommonSettings, ServeSettings};
use crate::{AppState, admin, app};

/// Entries in the verified-token cache; one per active token is plenty.
const TOKEN_CACHE_CAPACITY: usize = 100_000;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Admin(#[from] admin::AdminError),
    #[error("{0}")]
    Startup(String),
    #[error("the HTTP server failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Connects the pool and brings the schema up to date: SQLite migrates itself; PostgreSQL must
/// have been migrated by `webwork-scim migrate` with the owning role.
pub fn open_store(common: &CommonSettings, migrate_postgres: bool) -> Result<Store, ServeError> {
    let url = DatabaseUrl::parse(&common.database_url)?;
    let store = Store::connect(
        &url,
        &PoolSettings {
            max_size: common.db_pool_size,
            ..PoolSettings::default()
        },
    )?;
    let mut conn = store.connection()?;
    if url.backend() == Backend::Sqlite || migrate_postgres {
        let applied = migrations::run_pending(&mut conn)?;
        if !applied.is_empty() {
            tracing::info!(database = %url, ?applied, "migrations applied");
        }
    } else if !migrations::is_up_to_date(&mut conn)? {
        return Err(ServeError::Startup(format!(
            "the database at {url} has pending migrations: run `webwork-scim migrate` first"
        )));
    }
    Ok(store)
}

pub async fn serve(common: CommonSettings, settings: ServeSettings) -> Result<(), ServeError> {
    let store = open_store(&common, false)?;
    let public_base_url = common.public_base_url();
    if settings.demo_workspace {
        seed_demo(&store, &public_base_url)?;
    }
    let verifier = TokenVerifier::new(settings.token_cache_ttl(), TOKEN_CACHE_CAPACITY)
        .map_err(|err| ServeError::Startup(err.to_string()))?;
    let state = AppState::new(
        store,
        verifier,
        public_base_url.clone(),
        settings.max_body_bytes,
    );
    let workers = settings
        .http_workers
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from));
    let server = HttpServer::new(move || app::app(state.clone()))
        .workers(workers)
        .shutdown_timeout(settings.shutdown_timeout_secs)
        .bind(common.bind_addr)?;
    tracing::info!(addr = %common.bind_addr, %public_base_url, workers, "listening");
    server.run().await?;
    tracing::info!("stopped");
    Ok(())
}

/// On an empty database, creates a Premium workspace with SSO on and prints its SCIM Base URL and
/// a token, so that a newcomer can point Okta (or curl) at it at once.
#[allow(clippy::print_stdout)] // the one place a token is shown on first start, by design
fn seed_demo(store: &Store, public_base_url: &str) -> Result<(), ServeError> {
    if store.unscoped(Access::Read, workspaces::count)? > 0 {
        return Ok(());
    }
    let workspace = admin::create_workspace(
        store,
        "Demo Workspace",
        webwork_scim_domain::Plan::Premium,
        true,
    )?;
    let token = admin::issue_token(store, workspace.key.as_str(), "demo", None)?;
    println!();
    println!(
        "  Demo workspace created (Premium, SSO enabled): {}",
        workspace.key
    );
    println!(
        "  SCIM Base URL:  {}",
        crate::state::scim_base_url(public_base_url, workspace.key.as_str())
    );
    println!("  SCIM API Token: {}", token.plaintext);
    println!(
        "  The token is shown only now; issue another with `webwork-scim token issue {}`.",
        workspace.key
    );
    println!();
    Ok(())
}
