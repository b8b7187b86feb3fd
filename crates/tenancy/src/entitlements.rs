//! The table from plan to entitlements, and the entitlements a workspace has right now. Callers
//! ask for an entitlement; only this table knows which plan grants it.

use std::fmt;

use time::OffsetDateTime;
use webwork_scim_domain::{DomainError, Entitlements, Plan, Workspace};

/// What `plan` grants before bought seats and overrides. The Premium burst absorbs Okta
/// provisioning hundreds of users at once when an admin assigns a large group.
pub fn plan_entitlements(plan: Plan) -> Entitlements {
    match plan {
        Plan::Free | Plan::Pro => Entitlements::default(),
        Plan::Premium => Entitlements {
            scim_provisioning: true,
            sso: true,
            requests_per_second: 25,
            burst: 500,
            max_active_tokens: 5,
            seats: None,
        },
        Plan::Enterprise => Entitlements {
            scim_provisioning: true,
            sso: true,
            requests_per_second: 100,
            burst: 2000,
            max_active_tokens: 20,
            seats: None,
        },
    }
}

/// The entitlements of `workspace` at `now`: its plan's, then the seats billing sold it, then any
/// overrides that have not expired.
pub fn effective_entitlements(workspace: &Workspace, now: OffsetDateTime) -> Entitlements {
    let mut entitlements = plan_entitlements(workspace.plan);
    if workspace.seats.is_some() {
        entitlements.seats = workspace.seats;
    }
    match workspace.active_overrides(now) {
        Some(overrides) => overrides.apply(entitlements),
        None => entitlements,
    }
}

/// Why a workspace may not provision over SCIM. The plan is checked before single sign-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimRefusal {
    /// Its plan (with any overrides) lacks SCIM provisioning.
    PlanLacksProvisioning(Plan),
    /// Its admin has single sign-on turned off.
    SsoOff,
}

impl fmt::Display for ScimRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScimRefusal::PlanLacksProvisioning(plan) => write!(
                f,
                "SCIM provisioning requires the Premium plan; this workspace is on {plan}"
            ),
            ScimRefusal::SsoOff => {
                f.write_str("enable single sign-on for this workspace to provision users")
            }
        }
    }
}

/// Whether a workspace on `plan`, with single sign-on on or off and these entitlements, may
/// provision over SCIM; the one rule the SSO page, token issuing and every SCIM request follow.
pub fn provisioning_refusal(
    plan: Plan,
    sso_enabled: bool,
    entitlements: &Entitlements,
) -> Option<ScimRefusal> {
    if !entitlements.scim_provisioning {
        Some(ScimRefusal::PlanLacksProvisioning(plan))
    } else if !sso_enabled {
        Some(ScimRefusal::SsoOff)
    } else {
        None
    }
}

/// Why the workspace may not provision over SCIM, in words for its admin; `None` when it may.
pub fn scim_refusal(workspace: &Workspace, entitlements: &Entitlements) -> Option<String> {
    provisioning_refusal(workspace.plan, workspace.sso_enabled, entitlements)
        .map(|refusal| refusal.to_string())
}

/// A SCIM token may be issued only when provisioning is included, single sign-on is on, and the
/// workspace has fewer active tokens than it may hold.
pub fn may_issue_scim_token(
    workspace: &Workspace,
    entitlements: &Entitlements,
    active_tokens: usize,
) -> Result<(), DomainError> {
    if let Some(reason) = scim_refusal(workspace, entitlements) {
        return Err(DomainError::invalid_value(reason));
    }
    let max = usize::try_from(entitlements.max_active_tokens).unwrap_or(usize::MAX);
    if active_tokens >= max {
        return Err(DomainError::invalid_value(format!(
            "this workspace already has {active_tokens} active SCIM tokens, the most its plan \
             allows; revoke one first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use webwork_scim_domain::{Entitlement, EntitlementOverrides, WorkspaceId, WorkspaceKey};

    use super::*;

    fn workspace(plan: Plan, sso: bool) -> Workspace {
        Workspace {
            id: WorkspaceId::generate(),
            key: WorkspaceKey::parse("acme-1234").unwrap(),
            name: "Acme".into(),
            plan,
            sso_enabled: sso,
            sso_enforced: false,
            idp_issuer: None,
            seats: None,
            overrides: None,
            overrides_expire_at: None,
            created_at: OffsetDateTime::now_utc(),
        }
    }

    #[test]
    fn only_premium_and_enterprise_provision() {
        for (plan, allowed) in [
            (Plan::Free, false),
            (Plan::Pro, false),
            (Plan::Premium, true),
            (Plan::Enterprise, true),
        ] {
            assert_eq!(
                plan_entitlements(plan).allows(Entitlement::ScimProvisioning),
                allowed,
                "{plan}"
            );
        }
    }

    #[test]
    fn seats_and_unexpired_overrides_shape_the_entitlements() {
        let now = OffsetDateTime::now_utc();
        let mut ws = workspace(Plan::Pro, true);
        ws.seats = Some(50);
        assert_eq!(effective_entitlements(&ws, now).seats, Some(50));
        ws.overrides = Some(EntitlementOverrides {
            scim_provisioning: Some(true),
            ..EntitlementOverrides::default()
        });
        ws.overrides_expire_at = Some(now + time::Duration::days(14));
        assert!(
            effective_entitlements(&ws, now).scim_provisioning,
            "Premium trial on Pro"
        );
        ws.overrides_expire_at = Some(now - time::Duration::seconds(1));
        assert!(
            !effective_entitlements(&ws, now).scim_provisioning,
            "trial over"
        );
    }

    #[test]
    fn token_issue_needs_provisioning_sso_and_a_free_slot() {
        let premium = workspace(Plan::Premium, true);
        let entitlements = plan_entitlements(Plan::Premium);
        assert!(may_issue_scim_token(&premium, &entitlements, 0).is_ok());
        let full = may_issue_scim_token(&premium, &entitlements, 5).unwrap_err();
        assert!(full.to_string().contains("revoke one"));
        let no_sso = workspace(Plan::Premium, false);
        assert!(
            may_issue_scim_token(&no_sso, &entitlements, 0)
                .unwrap_err()
                .to_string()
                .contains("single sign-on")
        );
        let pro = workspace(Plan::Pro, true);
        let refused = may_issue_scim_token(&pro, &plan_entitlements(Plan::Pro), 0).unwrap_err();
        assert!(refused.to_string().contains("Premium"));
    }
}
