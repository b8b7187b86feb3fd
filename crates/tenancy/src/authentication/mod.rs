//! Who is calling a workspace's SCIM Base URL: one call turns a workspace key and a bearer
//! credential into a [`Tenant`] allowed to provision, or a typed refusal.
//!
//! The order of checks keeps argon2 for credentials that could be right, and never lets
//! someone else's failures refuse a valid token:
//!
//! 1. a credential that is not shaped like a token, an unknown workspace key or an unknown
//!    prefix is refused at once, without argon2 and without counting against anyone;
//! 2. a revoked or expired token is refused (its row is read at most a tenant-cache time-to-live
//!    ago);
//! 3. a secret verified within the token time-to-live passes without argon2;
//! 4. otherwise the attempt waits for the token's turn (one verification per token at a time, so
//!    a burst against one token queues here and holds at most one argon2 worker), looks again at
//!    what verified meanwhile, takes a slot of its prefix's failure throttle (a secret this
//!    process has seen verify needs none) and only then runs argon2 on the [`HashPool`] in its
//!    workspace's turn. A success gives the slot back; a failure, or an attempt abandoned
//!    half way, keeps it. A prefix whose throttle is full is refused before it waits;
//! 5. the plan, then single sign-on, must allow provisioning; then the workspace's request rate.

mod tenants;
mod throttle;
mod verified;

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use time::OffsetDateTime;
use webwork_scim_domain::{
    ScimRefusal, Tenant, TokenId, TokenLifetime, TokenState, Workspace, WorkspaceId, WorkspaceKey,
};

use crate::entitlements::effective_entitlements;
use crate::hash_pool::HashPool;
use crate::limits::RateLimiter;
use crate::token::{PresentedToken, TokenPrefix, random_bytes};
use tenants::TenantCache;
pub use throttle::{FailureThrottle, Slot};
use verified::{Digest, VerifiedTokens};

/// What the store knows of a token, looked up by (workspace, prefix). `Debug` leaves the hash
/// out.
#[derive(Clone)]
pub struct TokenRecord {
    pub id: TokenId,
    pub workspace_id: WorkspaceId,
    pub secret_hash: String,
    pub lifetime: TokenLifetime,
}

impl std::fmt::Debug for TokenRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRecord")
            .field("id", &self.id)
            .field("workspace_id", &self.workspace_id)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

/// A workspace and one of its tokens, as read together.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub workspace: Workspace,
    pub token: TokenRecord,
}

/// Why the directory could not answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// The database cannot be reached; the client should retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Every connection is busy; the client should retry soon.
    #[error("no database connection was free in time")]
    Busy,
    #[error("the look-up failed: {0}")]
    Failed(String),
}

/// Where the workspaces and their tokens are: the store, wired in by the API crate.
pub trait CredentialDirectory: Send + Sync + 'static {
    /// The live workspace `key` and its token with public prefix `prefix`, or `None` when
    /// either is unknown.
    fn resolve(
        &self,
        key: WorkspaceKey,
        prefix: TokenPrefix,
    ) -> impl Future<Output = Result<Option<Resolved>, LookupError>> + Send;
}

/// Why a token was refused. Every reason gets the same 401 on the wire; the reason is for
/// metrics and logs only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    #[error("no bearer token")]
    Missing,
    #[error("the bearer token is not shaped like a SCIM token")]
    Malformed,
    #[error("no such token in this workspace")]
    Unknown,
    #[error("the token's secret does not match")]
    WrongSecret,
    #[error("the token was revoked")]
    Revoked,
    #[error("the token has expired")]
    Expired,
}

impl AuthFailure {
    /// A short label for metrics.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Missing => "missing",
            Self::Malformed => "malformed",
            Self::Unknown => "unknown",
            Self::WrongSecret => "wrong_secret",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
        }
    }
}

/// Why a SCIM request was not admitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AuthRefusal {
    #[error("unauthorized: {0}")]
    Unauthorized(AuthFailure),
    /// Too many failed attempts on this token prefix; retry after the wait.
    #[error("too many failed attempts")]
    Throttled(Duration),
    /// The caller is who it says, but its workspace may not provision now.
    #[error("{reason}")]
    Forbidden { tenant: Tenant, reason: ScimRefusal },
    /// The workspace's request rate is exhausted on this replica.
    #[error("rate limited")]
    RateLimited { tenant: Tenant, wait: Duration },
    #[error(transparent)]
    Lookup(LookupError),
}

/// How the token's secret was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// Verified within the time-to-live: no argon2.
    Cached,
    /// argon2 ran for this request (or for one it shared it with).
    Argon2,
}

/// An admitted caller.
#[derive(Debug, Clone)]
pub struct Admission {
    pub tenant: Tenant,
    pub verification: Verification,
}

/// How long what is cached stays trusted, how much is cached, and how many failures a token
/// prefix may have.
#[derive(Debug, Clone, Copy)]
pub struct AuthSettings {
    /// How long a verified secret is trusted without argon2, counted from its verification.
    pub token_ttl: Duration,
    /// How long a workspace and token record are served from this replica's cache.
    pub tenant_ttl: Duration,
    /// Failed attempts allowed per (workspace, token prefix) in each window.
    pub failures_per_prefix: u32,
    pub failure_window: Duration,
    /// Entries per cache; one per active token is plenty.
    pub capacity: u64,
}

/// The authentication of this replica: its caches, its throttles and its argon2 workers.
pub struct Authenticator<D> {
    directory: Arc<D>,
    hashes: Arc<HashPool>,
    tenants: Option<TenantCache>,
    verified: VerifiedTokens,
    failures: FailureThrottle,
    rates: RateLimiter,
}

impl<D> std::fmt::Debug for Authenticator<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl<D: CredentialDirectory> Authenticator<D> {
    pub fn new(
        directory: D,
        hashes: Arc<HashPool>,
        settings: AuthSettings,
    ) -> Result<Authenticator<D>, crate::token::IssueError> {
        let tenants = (!settings.tenant_ttl.is_zero())
            .then(|| TenantCache::new(settings.tenant_ttl, settings.capacity));
        Ok(Authenticator {
            directory: Arc::new(directory),
            hashes,
            tenants,
            verified: VerifiedTokens::new(random_bytes::<32>()?, settings),
            failures: FailureThrottle::new(
                settings.failures_per_prefix,
                settings.failure_window,
                settings.capacity,
            ),
            rates: RateLimiter::new(settings.capacity),
        })
    }

    /// Admits a request to workspace `key` with the bearer `credential`.
    pub async fn admit(
        &self,
        key: &str,
        credential: Result<&str, AuthFailure>,
    ) -> Result<Admission, AuthRefusal> {
        let unauthorized = AuthRefusal::Unauthorized;
        let presented = PresentedToken::parse(credential.map_err(unauthorized)?)
            .ok_or(unauthorized(AuthFailure::Malformed))?;
        let key = WorkspaceKey::parse(key).map_err(|_| unauthorized(AuthFailure::Unknown))?;
        let resolved = self.resolve(key, presented.prefix().clone()).await?;
        let record = &resolved.token;
        match record.lifetime.state_at(OffsetDateTime::now_utc()) {
            TokenState::Active => {}
            TokenState::Revoked => return Err(unauthorized(AuthFailure::Revoked)),
            TokenState::Expired => return Err(unauthorized(AuthFailure::Expired)),
        }
        let verification = self.verify(&resolved, &presented).await?;
        let workspace = &resolved.workspace;
        let tenant = Tenant {
            sso_enabled: workspace.sso_enabled,
            entitlements: effective_entitlements(workspace, OffsetDateTime::now_utc()),
            workspace_id: workspace.id,
            workspace_key: workspace.key.clone(),
            plan: workspace.plan,
            token_id: record.id,
        };
        if let Some(reason) = tenant.scim_refusal() {
            return Err(AuthRefusal::Forbidden { tenant, reason });
        }
        let rate = (
            tenant.entitlements.requests_per_second,
            tenant.entitlements.burst,
        );
        if let Err(wait) = self.rates.check(tenant.workspace_id, rate, Instant::now()) {
            return Err(AuthRefusal::RateLimited { tenant, wait });
        }
        Ok(Admission {
            tenant,
            verification,
        })
    }

    /// The workspace and token for (key, prefix): from this replica's cache (see
    /// [`TenantCache`]), or from the directory when there is none.
    async fn resolve(
        &self,
        key: WorkspaceKey,
        prefix: TokenPrefix,
    ) -> Result<Resolved, AuthRefusal> {
        let found = match &self.tenants {
            Some(cache) => cache.resolve(&self.directory, key, prefix).await,
            None => tenants::look_up(self.directory.as_ref(), key, prefix).await,
        };
        found.map_err(|miss| match miss {
            None => AuthRefusal::Unauthorized(AuthFailure::Unknown),
            Some(err) => AuthRefusal::Lookup(err),
        })
    }

    /// Checks the presented secret against the token's hash: from the cache of verified
    /// secrets, else with argon2, failures counted and throttled per real prefix.
    async fn verify(
        &self,
        resolved: &Resolved,
        presented: &PresentedToken,
    ) -> Result<Verification, AuthRefusal> {
        let record = &resolved.token;
        let digest: Digest = self.verified.digest(presented);
        if self.verified.contains(record.id, &digest) {
            return Ok(Verification::Cached);
        }
        let attempt = (record.workspace_id, presented.prefix().clone());
        let recognised = self.verified.recognises(record.id, &digest);
        if !recognised && let Err(wait) = self.failures.check(&attempt) {
            return Err(AuthRefusal::Throttled(wait));
        }
        let _turn = self.verified.turn(record.id).await;
        // Whoever waited looks again: the secret may have verified meanwhile, or the prefix
        // filled its throttle.
        if self.verified.contains(record.id, &digest) {
            return Ok(Verification::Cached);
        }
        let slot = match recognised {
            true => None,
            false => Some(
                self.failures
                    .reserve(&attempt)
                    .map_err(AuthRefusal::Throttled)?,
            ),
        };
        let (secret, phc) = (presented.secret().to_vec(), record.secret_hash.clone());
        let argon2 = self.hashes.verify(&resolved.workspace.key, secret, phc);
        if self.verified.verify(record.id, digest, argon2).await {
            if let Some(slot) = slot {
                slot.release();
            }
            Ok(Verification::Argon2)
        } else {
            // The slot stays taken: this failure counts against the prefix.
            Err(AuthRefusal::Unauthorized(AuthFailure::WrongSecret))
        }
    }

    /// Forgets what this replica cached about workspace `key`, after a change to it here.
    pub fn forget_workspace(&self, key: &WorkspaceKey) {
        if let Some(cache) = &self.tenants {
            cache.forget_workspace(key);
        }
    }

    /// Forgets token `id`, after it was revoked or rotated here.
    pub fn forget_token(&self, id: TokenId) {
        if let Some(cache) = &self.tenants {
            cache.forget_token(id);
        }
        self.verified.forget(id);
    }

    /// How many argon2 verifications have run (the cache misses that reached argon2).
    pub fn argon2_runs(&self) -> u64 {
        self.verified.argon2_runs()
    }
}

#[cfg(test)]
mod tests;
