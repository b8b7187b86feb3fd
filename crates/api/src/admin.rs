//! Workspace and token administration, shared by the command line and the demo seed. Blocking:
//! these run argon2 and the database on the calling thread.

use time::OffsetDateTime;
use webwork_scim_domain::{DomainError, Plan, TokenId, Workspace, WorkspaceKey, WorkspaceName};
use webwork_scim_persistence::tokens::{self, TokenSummary};
use webwork_scim_persistence::{Access, Store, StoreError, workspaces};
use webwork_scim_tenancy::may_issue_scim_token;
use webwork_scim_tenancy::token::{IssuedToken, hex, random_bytes};

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The operator asked for something the rules refuse (exit code 2).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl From<DomainError> for AdminError {
    fn from(err: DomainError) -> Self {
        AdminError::Refused(err.to_string())
    }
}

impl AdminError {
    /// The process exit code: 2 for a refused or unknown request, 1 for a failure.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Refused(_) | AdminError::NotFound(_) => 2,
            AdminError::Store(_) | AdminError::Internal(_) => 1,
        }
    }
}

/// A token just issued: its listing and the clear text, shown once.
#[derive(Debug)]
pub struct NewToken {
    pub summary: TokenSummary,
    pub plaintext: String,
}

pub fn create_workspace(
    store: &Store,
    name: &str,
    plan: Plan,
    sso_enabled: bool,
) -> Result<Workspace, AdminError> {
    let name = WorkspaceName::parse(name)?;
    let suffix = hex(&random_bytes::<4>().map_err(|err| AdminError::Internal(err.to_string()))?);
    let key = WorkspaceKey::from_name_and_suffix(&name, &suffix)?;
    Ok(store.unscoped(Access::Write, |conn| {
        workspaces::create(conn, &key, &name, plan, sso_enabled)
    })?)
}

pub fn find_workspace(store: &Store, key: &str) -> Result<Workspace, AdminError> {
    let key = WorkspaceKey::parse(key)?;
    store
        .unscoped(Access::Read, |conn| workspaces::find_by_key(conn, &key))?
        .ok_or_else(|| AdminError::NotFound(format!("no workspace with key '{key}'")))
}

pub fn set_plan(store: &Store, key: &str, plan: Plan) -> Result<Workspace, AdminError> {
    let key = WorkspaceKey::parse(key)?;
    store
        .unscoped(Access::Write, |conn| workspaces::set_plan(conn, &key, plan))?
        .ok_or_else(|| AdminError::NotFound(format!("no workspace with key '{key}'")))
}

pub fn set_sso(store: &Store, key: &str, enabled: bool) -> Result<Workspace, AdminError> {
    let key = WorkspaceKey::parse(key)?;
    store
        .unscoped(Access::Write, |conn| {
            workspaces::set_sso(conn, &key, enabled)
        })?
        .ok_or_else(|| AdminError::NotFound(format!("no workspace with key '{key}'")))
}

/// Issues a SCIM token. Refused unless the workspace's plan includes provisioning and SSO is on.
pub fn issue_token(
    store: &Store,
    key: &str,
    label: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<NewToken, AdminError> {
    let workspace = find_workspace(store, key)?;
    may_issue_scim_token(workspace.plan, workspace.sso_enabled)?;
    let issued = IssuedToken::generate().map_err(|err| AdminError::Internal(err.to_string()))?;
    let summary = store.write(workspace.id, |tx| {
        tokens::insert(
            tx,
            issued.prefix.as_str(),
            &issued.secret_hash,
            label,
            expires_at,
        )
    })?;
    Ok(NewToken {
        summary,
        plaintext: issued.plaintext,
    })
}

pub fn list_tokens(store: &Store, key: &str) -> Result<Vec<TokenSummary>, AdminError> {
    let workspace = find_workspace(store, key)?;
    Ok(store.read(workspace.id, tokens::list)?)
}

pub fn revoke_token(store: &Store, key: &str, token_id: &str) -> Result<TokenSummary, AdminError> {
    let workspace = find_workspace(store, key)?;
    let id: TokenId = token_id
        .parse()
        .map_err(|_| AdminError::NotFound(format!("no token '{token_id}' in workspace '{key}'")))?;
    store
        .write(workspace.id, |tx| tokens::revoke(tx, id))?
        .ok_or_else(|| AdminError::NotFound(format!("no token '{token_id}' in workspace '{key}'")))
}
