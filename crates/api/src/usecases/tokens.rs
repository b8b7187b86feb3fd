//! The SCIM API tokens of a workspace: issue, list, revoke, rotate, and the record of their use.
//! A new token's secret is hashed on the argon2 workers before the transaction that checks the
//! workspace's limit and stores it; the workspace row (and, for a rotation, the token's) is
//! locked there, so concurrent issues never exceed the limit and a token is rotated once.

use std::time::Duration;

use time::OffsetDateTime;
use webwork_scim_domain::{
    AuditAction, AuditEvent, PlainText, Refusal, TokenId, Workspace, WorkspaceId,
};
use webwork_scim_persistence::tokens::{self, TokenSummary};
use webwork_scim_persistence::{Access, StoreError, TenantTx, workspaces};
use webwork_scim_tenancy::IssuedToken;
use webwork_scim_tenancy::effective_entitlements;

use super::events;
use super::workspaces::workspace_key;
use super::{AdminError, Caller, NotFound, Resource, UseCases, in_workspace, run_blocking};

/// The longest label a token may have.
pub const MAX_LABEL_CHARS: usize = 100;

/// A token just issued: its listing and the clear text, shown once. `Debug` hides the clear
/// text.
pub struct NewToken {
    pub summary: TokenSummary,
    pub plaintext: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewToken")
            .field("summary", &self.summary)
            .finish_non_exhaustive()
    }
}

fn token_id(raw: &str) -> Result<TokenId, NotFound> {
    raw.parse().map_err(|_| NotFound::new(Resource::Token, raw))
}

/// The workspace, locked, when it may hold one more active token besides `replacing` (a token
/// whose slot the new one takes): provisioning is included, single sign-on is on, and the
/// limit has room.
fn admit_token(tx: &mut TenantTx<'_>, replacing: usize) -> Result<Workspace, AdminError> {
    let id = tx.workspace();
    let workspace = workspaces::lock(tx)?.ok_or_else(|| NotFound::new(Resource::Workspace, id))?;
    let now = OffsetDateTime::now_utc();
    let entitlements = effective_entitlements(&workspace, now);
    if let Some(refusal) = entitlements.scim_refusal(workspace.plan, workspace.sso_enabled) {
        return Err(Refusal::Scim(refusal).into());
    }
    let active = tokens::count_active(tx, now)?;
    entitlements.admit_token(active.saturating_sub(replacing))?;
    Ok(workspace)
}

fn store_token(
    tx: &mut TenantTx<'_>,
    issued: &IssuedToken,
    label: &str,
    expires_at: Option<OffsetDateTime>,
) -> Result<TokenSummary, StoreError> {
    tokens::insert(
        tx,
        issued.prefix.as_str(),
        &issued.secret_hash,
        label,
        expires_at,
    )
}

impl UseCases {
    /// Issues a SCIM token labelled `label`, expiring at `expires_at` (never, without one).
    pub async fn issue_token(
        &self,
        caller: &Caller,
        key: &str,
        label: PlainText,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<NewToken, AdminError> {
        let lane = workspace_key(key)?;
        if expires_at.is_some_and(|at| at <= OffsetDateTime::now_utc()) {
            return Err(Refusal::ExpiryInPast.into());
        }
        let issued = IssuedToken::generate_on(&self.hashes, &lane).await?;
        let caller = caller.clone();
        in_workspace(&self.store, key, Access::Write, move |tx, _| {
            admit_token(tx, 0)?;
            let summary = store_token(tx, &issued, label.as_str(), expires_at)?;
            let event = AuditEvent::new(AuditAction::TokenIssued, summary.id);
            events::audit(tx, &caller, &[event])?;
            Ok(NewToken {
                summary,
                plaintext: issued.plaintext,
            })
        })
        .await
    }

    /// Every token of the workspace, oldest first, revoked ones included.
    pub async fn list_tokens(&self, key: &str) -> Result<Vec<TokenSummary>, AdminError> {
        in_workspace(&self.store, key, Access::Read, |tx, _| {
            Ok::<_, AdminError>(tokens::list(tx)?)
        })
        .await
    }

    /// Revokes a token at once, here and (within the tenant cache's time-to-live) everywhere.
    pub async fn revoke_token(
        &self,
        caller: &Caller,
        key: &str,
        token: &str,
    ) -> Result<TokenSummary, AdminError> {
        let id = token_id(token)?;
        let caller = caller.clone();
        let revoked = in_workspace(&self.store, key, Access::Write, move |tx, _| {
            let missing = || NotFound::new(Resource::Token, id);
            let before = tokens::lock(tx, id)?.ok_or_else(missing)?;
            let revoked = tokens::revoke(tx, id)?.ok_or_else(missing)?;
            if before.revoked_at.is_none() {
                let event = AuditEvent::new(AuditAction::TokenRevoked, id);
                events::audit(tx, &caller, &[event])?;
            }
            Ok::<_, AdminError>(revoked)
        })
        .await?;
        self.auth.forget_token(revoked.id);
        Ok(revoked)
    }

    /// Issues a successor of token `token` and lets the old one work for `grace` more, so that
    /// the IdP can be given the new one without an outage. A token is rotated once: a second
    /// rotation of it is refused, however many arrive at once.
    pub async fn rotate_token(
        &self,
        caller: &Caller,
        key: &str,
        token: &str,
        grace: Duration,
    ) -> Result<(NewToken, TokenSummary), AdminError> {
        let lane = workspace_key(key)?;
        let id = token_id(token)?;
        let issued = IssuedToken::generate_on(&self.hashes, &lane).await?;
        let caller = caller.clone();
        let (summary, old) = in_workspace(&self.store, key, Access::Write, move |tx, _| {
            rotate(tx, &caller, id, &issued, grace)
        })
        .await?;
        self.auth.forget_token(old.id);
        Ok((summary, old))
    }

    /// Records that `token` was used now; a failure is only worth a log line.
    pub async fn record_token_use(
        &self,
        workspace: WorkspaceId,
        token: TokenId,
    ) -> Result<(), StoreError> {
        let store = self.store.clone();
        run_blocking(move || {
            store.write(workspace, |tx| {
                tokens::touch_last_used(tx, token, OffsetDateTime::now_utc())
            })
        })
        .await
    }
}

fn rotate(
    tx: &mut TenantTx<'_>,
    caller: &Caller,
    id: TokenId,
    issued: &IssuedToken,
    grace: Duration,
) -> Result<(NewToken, TokenSummary), AdminError> {
    // The workspace first, then the token: every change of a workspace's tokens locks in this
    // order.
    admit_token(tx, 1)?;
    let now = OffsetDateTime::now_utc();
    let old = tokens::lock(tx, id)?
        .filter(|old| old.lifetime().is_active_at(now))
        .ok_or_else(|| NotFound::new(Resource::Token, id))?;
    if old.replaced_by.is_some() {
        return Err(Refusal::AlreadyRotated(id).into());
    }
    let summary = store_token(tx, issued, &old.label, None)?;
    let until = now + grace;
    let old =
        tokens::expire_by(tx, id, until)?.ok_or_else(|| NotFound::new(Resource::Token, id))?;
    tokens::mark_replaced(tx, id, summary.id)?;
    let event = AuditEvent::new(AuditAction::TokenRotated, id)
        .with_attributes(vec![format!("replaced_by:{}", summary.id)]);
    events::audit(tx, caller, &[event])?;
    let new = NewToken {
        summary,
        plaintext: issued.plaintext.clone(),
    };
    Ok((new, old))
}
