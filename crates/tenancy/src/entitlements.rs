//! The table from plan to entitlements, and the entitlements a workspace has right now. Callers
//! ask for an entitlement; only this table knows which plan grants it.

use time::OffsetDateTime;
use webwork_scim_domain::{Entitlements, Plan, Workspace};

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
}
