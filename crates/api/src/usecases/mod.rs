//! The application layer: every operation a caller can ask for is one function here — a SCIM
//! create or PATCH, a token issue, a member link, a credential check, a command of the command
//! line. SCIM, admin and internal handlers and the CLI all call the same function.
//!
//! A use case takes the resolved caller and parsed domain values, does its expensive pure work
//! first (argon2 on the [`HashPool`]), then reads, checks every rule and writes inside one
//! transaction on one trip to the blocking pool, locking what it will change. It returns a typed
//! error of its area ([`errors`]); the HTTP layer maps each to the wire once. The rules
//! themselves live in `domain` and `tenancy`; a use case arranges them.
//!
//! Nothing here knows HTTP: a test fails the build of the test suite when a file of this layer
//! names actix.

pub mod authentication;
pub mod credentials;
pub mod delivery;
pub mod directory;
pub mod errors;
pub mod events;
pub mod groups;
pub mod housekeeping;
pub mod lanes;
pub mod logs;
pub mod members;
pub mod sso;
pub mod tokens;
pub mod user_writes;
pub mod users;
pub mod workspaces;

use std::sync::Arc;

use webwork_scim_domain::{Actor, Tenant, Workspace};
use webwork_scim_persistence::{Access, OneRead, Store, StoreError, TenantTx};
use webwork_scim_tenancy::token::IssueError;
use webwork_scim_tenancy::{AuthSettings, Authenticator, HashPool};

pub use authentication::StoreDirectory;
pub use errors::{AdminError, DirectoryError, NotFound, ProvisioningError, Resource};

/// What every use case works with: the store, the argon2 workers, and this replica's
/// authentication (whose caches a change made here must drop).
#[derive(Debug, Clone)]
pub struct UseCases {
    pub store: Store,
    pub hashes: Arc<HashPool>,
    pub auth: Arc<Authenticator<StoreDirectory>>,
    /// The most users (active and inactive, not deleted) one workspace may hold.
    pub max_users_per_workspace: u32,
    /// Each workspace's share of the database pool.
    pub lanes: Arc<lanes::WorkspaceLanes>,
}

/// The default of [`UseCases::max_users_per_workspace`].
pub const MAX_USERS_PER_WORKSPACE: u32 = 100_000;

impl UseCases {
    /// The use cases over `store`, with `argon2_workers` hashing threads and this replica's
    /// authentication under `settings`.
    pub fn new(
        store: Store,
        argon2_workers: usize,
        settings: AuthSettings,
    ) -> Result<UseCases, IssueError> {
        let hashes = Arc::new(HashPool::new(argon2_workers));
        let directory = StoreDirectory {
            store: store.clone(),
        };
        let auth = Authenticator::new(directory, hashes.clone(), settings)?;
        Ok(UseCases {
            lanes: lanes::WorkspaceLanes::new(store.pool_max_size()),
            store,
            hashes,
            auth: Arc::new(auth),
            max_users_per_workspace: MAX_USERS_PER_WORKSPACE,
        })
    }
}

/// Who asks, for the audit log: the actor and the request's id.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub request_id: Option<String>,
}

impl Caller {
    /// An operator at the command line.
    pub fn operator() -> Caller {
        Caller {
            actor: Actor::Operator,
            request_id: None,
        }
    }
}

/// An identity provider's request: an authenticated token of one workspace that may provision.
#[derive(Debug, Clone)]
pub struct ScimCaller {
    pub tenant: Tenant,
    pub request_id: Option<String>,
}

impl ScimCaller {
    pub fn actor(&self) -> Actor {
        Actor::Token(self.tenant.token_id)
    }

    pub fn caller(&self) -> Caller {
        Caller {
            actor: self.actor(),
            request_id: self.request_id.clone(),
        }
    }
}

/// `If-Match` or `If-None-Match` (RFC 7644 §3.14): the entity tags a client names. A change
/// whose client sent no `If-Match` never fails for a version: concurrent changes queue instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfMatch {
    /// `*`: any version of an existing resource.
    Any,
    /// The tags without `W/` and quotes: weak and strong tags compare alike (a weak comparison).
    Tags(Vec<String>),
}

impl IfMatch {
    /// `*`, or a comma-separated list of entity tags, weak (`W/"3"`) or strong (`"3"`).
    pub fn parse(header: &str) -> IfMatch {
        if header.trim() == "*" {
            return IfMatch::Any;
        }
        let tags = header
            .split(',')
            .filter_map(|tag| {
                let tag = tag.trim();
                let tag = tag.strip_prefix("W/").unwrap_or(tag);
                Some(tag.strip_prefix('"')?.strip_suffix('"')?.to_owned())
            })
            .collect();
        IfMatch::Tags(tags)
    }

    /// Whether the resource at `current` (a tag as [`IfMatch::parse`] keeps it) is named.
    pub fn admits(&self, current: &str) -> bool {
        match self {
            IfMatch::Any => true,
            IfMatch::Tags(tags) => tags.iter().any(|tag| tag == current),
        }
    }

    /// 412 unless `if_match` (when sent) admits `current`.
    pub(crate) fn check(
        if_match: Option<&IfMatch>,
        current: &str,
    ) -> Result<(), ProvisioningError> {
        match if_match {
            Some(expected) if !expected.admits(current) => {
                Err(ProvisioningError::PreconditionFailed {
                    current: current.to_owned(),
                })
            }
            _ => Ok(()),
        }
    }
}

impl UseCases {
    /// Runs `f` on the blocking pool in one transaction of an identity provider's workspace,
    /// once the workspace has a place in its share of the pool; `f` is handed the transaction
    /// and the caller. On SQLite a change goes to the writer thread instead (one hop all the
    /// same), still within the workspace's lane.
    pub(crate) async fn for_caller<R, F>(
        &self,
        caller: &ScimCaller,
        access: Access,
        f: F,
    ) -> Result<R, ProvisioningError>
    where
        F: FnOnce(&mut TenantTx<'_>, &ScimCaller) -> Result<R, ProvisioningError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.store.clone();
        let caller = caller.clone();
        let workspace = caller.tenant.workspace_id;
        if access == Access::Write && store.has_writer_thread() {
            let _place = self.lanes.enter_lane(workspace).await;
            count_hop();
            return store
                .write_queued(workspace, move |tx| f(tx, &caller))
                .await;
        }
        let _place = self.lanes.enter(workspace).await;
        run_blocking(move || store.tenant(workspace, access, |tx| f(tx, &caller))).await
    }

    /// Runs `f`, a read of one statement, on the blocking pool for an identity provider's
    /// workspace, as [`UseCases::for_caller`] runs a read (see [`Store::read_one`]).
    pub(crate) async fn reading_once<R, F>(
        &self,
        caller: &ScimCaller,
        f: F,
    ) -> Result<R, ProvisioningError>
    where
        F: FnOnce(OneRead<'_>) -> Result<R, ProvisioningError> + Send + 'static,
        R: Send + 'static,
    {
        let store = self.store.clone();
        let workspace = caller.tenant.workspace_id;
        let _place = self.lanes.enter(workspace).await;
        run_blocking(move || store.read_one(workspace, f)).await
    }
}

/// Runs `f` on the blocking pool in one transaction of the live workspace `key`, which it is
/// handed as read at the start; a key that names no live workspace is [`NotFound`].
pub(crate) async fn in_workspace<R, E, F>(
    store: &Store,
    key: &str,
    access: Access,
    f: F,
) -> Result<R, E>
where
    F: FnOnce(&mut TenantTx<'_>, Workspace) -> Result<R, E> + Send + 'static,
    R: Send + 'static,
    E: From<StoreError> + From<NotFound> + Send + 'static,
{
    let key = workspaces::workspace_key(key)?;
    let store = store.clone();
    run_blocking(move || {
        store
            .tenant_by_key(&key, access, f)?
            .ok_or_else(|| NotFound::new(Resource::Workspace, key.as_str()).into())
    })
    .await
}

tokio::task_local! {
    /// Hops to the blocking pool made by the request being served, when it counts them.
    static HOPS: std::cell::Cell<u32>;
}

/// Runs `request`, counting the hops to the blocking pool it makes itself (not those of tasks it
/// spawns); returns its output and the hops, which the request log writes beside each request.
pub async fn counting_hops<F: std::future::Future>(request: F) -> (F::Output, u32) {
    HOPS.scope(std::cell::Cell::new(0), async {
        let output = request.await;
        (output, HOPS.with(std::cell::Cell::get))
    })
    .await
}

/// Counts a hand-off of the request being served to a thread that may block.
fn count_hop() {
    // Outside a counted request (background work) there is nothing to count.
    let _ = HOPS.try_with(|hops| hops.set(hops.get() + 1));
}

/// Runs `f` on tokio's blocking pool inside the current tracing span: diesel never runs on an
/// async worker. A panic in `f` is resumed here, so it is not mistaken for an ordinary error; a
/// task the runtime dropped while shutting down is answered like a lost database connection.
pub async fn run_blocking<F, T, E>(f: F) -> Result<T, E>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
{
    let span = tracing::Span::current();
    count_hop();
    match tokio::task::spawn_blocking(move || span.in_scope(f)).await {
        Ok(result) => result,
        Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
        Err(_) => Err(StoreError::Disconnected("the process is shutting down".into()).into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_takes_weak_and_strong_tags_and_the_wildcard() {
        assert!(IfMatch::parse("*").admits("7"));
        let tags = IfMatch::parse(r#"W/"3", "4-0a1b2c3d""#);
        assert!(tags.admits("3") && tags.admits("4-0a1b2c3d") && !tags.admits("4"));
        assert!(!IfMatch::parse("garbage").admits("0"));
        assert!(IfMatch::check(None, "9").is_ok());
        assert!(matches!(
            IfMatch::check(Some(&IfMatch::parse(r#"W/"8""#)), "9"),
            Err(ProvisioningError::PreconditionFailed { current }) if current == "9"
        ));
    }
}
