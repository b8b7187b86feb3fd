//! Settings > Single Sign-On, as a workspace admin sees and changes it: whether SCIM is allowed
//! and why not, single sign-on on or off, its enforcement, the identity provider's issuer, and
//! the seats in use.

use time::OffsetDateTime;
use webwork_scim_domain::{Entitlements, PlainText, ScimRefusal, Workspace};
use webwork_scim_persistence::workspaces::WorkspaceUpdate;
use webwork_scim_persistence::{Access, TenantTx, users};
use webwork_scim_tenancy::effective_entitlements;

use super::workspaces::{apply_update, workspace_key};
use super::{AdminError, Caller, UseCases, in_workspace};

/// The longest identity-provider issuer a workspace may record.
pub const MAX_ISSUER_CHARS: usize = 500;

/// What the Settings > Single Sign-On page shows.
#[derive(Debug, Clone)]
pub struct SsoSettings {
    pub workspace: Workspace,
    pub entitlements: Entitlements,
    /// Why SCIM is not allowed, when it is not.
    pub scim_refusal: Option<ScimRefusal>,
    pub seats_used: i64,
}

/// A change an admin makes on the page.
#[derive(Debug, Clone)]
pub struct SsoChange {
    pub enabled: bool,
    /// `None` keeps it (and turning single sign-on off turns it off).
    pub enforced: Option<bool>,
    pub idp_issuer: Option<PlainText>,
}

fn settings(tx: &mut TenantTx<'_>, workspace: Workspace) -> Result<SsoSettings, AdminError> {
    let entitlements = effective_entitlements(&workspace, OffsetDateTime::now_utc());
    Ok(SsoSettings {
        scim_refusal: entitlements.scim_refusal(workspace.plan, workspace.sso_enabled),
        seats_used: users::count_active(tx, None)?,
        entitlements,
        workspace,
    })
}

impl UseCases {
    pub async fn sso_settings(&self, key: &str) -> Result<SsoSettings, AdminError> {
        in_workspace(&self.store, key, Access::Read, settings).await
    }

    /// Turns single sign-on on or off (and its enforcement), checked against the workspace as
    /// it is locked in the same transaction; returns the page afterwards.
    pub async fn change_sso(
        &self,
        caller: &Caller,
        key: &str,
        change: SsoChange,
    ) -> Result<SsoSettings, AdminError> {
        let changed_key = workspace_key(key)?;
        let update = WorkspaceUpdate {
            sso_enabled: Some(change.enabled),
            sso_enforced: change.enforced,
            idp_issuer: change.idp_issuer.map(|issuer| Some(issuer.into_string())),
            ..WorkspaceUpdate::default()
        };
        let caller = caller.clone();
        let page = in_workspace(&self.store, key, Access::Write, move |tx, _| {
            let workspace = apply_update(tx, &caller, update)?;
            settings(tx, workspace)
        })
        .await?;
        self.auth.forget_workspace(&changed_key);
        Ok(page)
    }
}
