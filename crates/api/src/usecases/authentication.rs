//! The store as the authentication's directory of workspaces and tokens.

use webwork_scim_domain::WorkspaceKey;
use webwork_scim_persistence::{Access, Store, StoreError, tokens};
use webwork_scim_tenancy::token::TokenPrefix;
use webwork_scim_tenancy::{CredentialDirectory, LookupError, Resolved, TokenRecord};

use super::run_blocking;

/// Resolves (workspace key, token prefix) in one read transaction of the workspace.
#[derive(Debug, Clone)]
pub struct StoreDirectory {
    pub store: Store,
}

impl CredentialDirectory for StoreDirectory {
    async fn resolve(
        &self,
        key: WorkspaceKey,
        prefix: TokenPrefix,
    ) -> Result<Option<Resolved>, LookupError> {
        let store = self.store.clone();
        let found = run_blocking(move || {
            store
                .tenant_by_key(&key, Access::Read, |tx, workspace| {
                    let token = tokens::find_by_prefix(tx, prefix.as_str())?;
                    Ok::<_, StoreError>(token.map(|token| Resolved {
                        token: TokenRecord {
                            id: token.id,
                            workspace_id: workspace.id,
                            secret_hash: token.secret_hash,
                            lifetime: token.lifetime,
                        },
                        workspace,
                    }))
                })
                .map(Option::flatten)
        })
        .await;
        found.map_err(|err| match err {
            StoreError::Unavailable(cause) => LookupError::Unavailable(cause.to_string()),
            StoreError::Disconnected(cause) => LookupError::Unavailable(cause),
            full @ StoreError::Full(_) => LookupError::Unavailable(full.to_string()),
            StoreError::PoolExhausted | StoreError::Locked | StoreError::Concurrent => {
                LookupError::Busy
            }
            other => LookupError::Failed(other.to_string()),
        })
    }
}
