//! What every request handler shares: the store, the token verifier, the argon2 permits and the
//! settings that shape responses.

use std::sync::Arc;

use tokio::sync::Semaphore;
use webwork_scim_persistence::Store;
use webwork_scim_tenancy::TokenVerifier;

#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub verifier: Arc<TokenVerifier>,
    /// Bounds concurrent argon2 runs (token verification, password hashing) to the core count,
    /// so that a burst of logins cannot starve the blocking pool.
    pub argon2_permits: Arc<Semaphore>,
    /// Without a trailing slash.
    pub public_base_url: String,
    pub max_body_bytes: usize,
}

impl AppState {
    pub fn new(
        store: Store,
        verifier: TokenVerifier,
        public_base_url: String,
        max_body_bytes: usize,
    ) -> AppState {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        AppState {
            store,
            verifier: Arc::new(verifier),
            argon2_permits: Arc::new(Semaphore::new(cores)),
            public_base_url: public_base_url.trim_end_matches('/').to_owned(),
            max_body_bytes,
        }
    }

    /// The SCIM Base URL of workspace `key`, as an admin pastes it into Okta.
    pub fn scim_base_url(&self, key: &str) -> String {
        scim_base_url(&self.public_base_url, key)
    }
}

pub fn scim_base_url(public_base_url: &str, key: &str) -> String {
    format!("{}/scim/v2/{key}", public_base_url.trim_end_matches('/'))
}
