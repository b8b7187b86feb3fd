//! The table from plan to entitlements. Callers ask for an entitlement; only this table knows
//! which plan grants it.

use webwork_scim_domain::workspace::Entitlements;
use webwork_scim_domain::{DomainError, Entitlement, Plan};

/// What `plan` grants.
pub fn entitlements_for(plan: Plan) -> Entitlements {
    match plan {
        Plan::Free | Plan::Pro => Entitlements::none(),
        Plan::Premium | Plan::Enterprise => {
            Entitlements::of(&[Entitlement::ScimProvisioning, Entitlement::Sso])
        }
    }
}

/// A SCIM token may be issued only to a workspace whose plan includes provisioning and whose admin
/// has turned single sign-on on.
pub fn may_issue_scim_token(plan: Plan, sso_enabled: bool) -> Result<(), DomainError> {
    if !entitlements_for(plan).allows(Entitlement::ScimProvisioning) {
        return Err(DomainError::invalid_value(format!(
            "SCIM provisioning requires the Premium plan; this workspace is on {plan}"
        )));
    }
    if !sso_enabled {
        return Err(DomainError::invalid_value(
            "enable single sign-on for this workspace before issuing a SCIM token",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_premium_and_enterprise_provision() {
        for (plan, allowed) in [
            (Plan::Free, false),
            (Plan::Pro, false),
            (Plan::Premium, true),
            (Plan::Enterprise, true),
        ] {
            assert_eq!(
                entitlements_for(plan).allows(Entitlement::ScimProvisioning),
                allowed,
                "{plan}"
            );
        }
    }

    #[test]
    fn token_issue_needs_premium_and_sso() {
        assert!(may_issue_scim_token(Plan::Premium, true).is_ok());
        assert!(may_issue_scim_token(Plan::Enterprise, true).is_ok());
        let no_sso = may_issue_scim_token(Plan::Premium, false).unwrap_err();
        assert!(no_sso.to_string().contains("single sign-on"));
        let pro = may_issue_scim_token(Plan::Pro, true).unwrap_err();
        assert!(pro.to_string().contains("Premium"));
    }
}
