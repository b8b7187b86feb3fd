//! The rules of the service that refuse a well-formed request: the workspace owner, seats, the
//! token limit, the plan and single sign-on. Each rule is written once, on the type it is about;
//! this module names their refusals, each with the one text its callers see.

use std::fmt;

use thiserror::Error;

use crate::{Plan, TokenId};

/// Why a workspace may not provision over SCIM. The plan is checked before single sign-on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimRefusal {
    /// Its plan (with any overrides) lacks SCIM provisioning.
    PlanLacksProvisioning(Plan),
    /// Its admin has single sign-on turned off: provisioning is paused, nothing is deleted.
    SsoOff,
}

impl fmt::Display for ScimRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScimRefusal::PlanLacksProvisioning(plan) => write!(
                f,
                "SCIM provisioning requires the WebWork Premium plan; this workspace is on \
                 {plan}. Upgrade it to Premium (or Enterprise) to provision users; existing \
                 data is kept."
            ),
            ScimRefusal::SsoOff => f.write_str(
                "Single sign-on is turned off for this WebWork workspace, so provisioning is \
                 paused. Turn it on in Settings > Single Sign-On to resume; no data was removed.",
            ),
        }
    }
}

/// A request the rules refuse. Every variant is a 4xx for its caller, never a failure of ours.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum Refusal {
    #[error(
        "the workspace owner cannot be deactivated or deleted through SCIM; transfer ownership \
         in WebWork first"
    )]
    OwnerProtected,
    #[error(
        "the workspace owner's password cannot be set through SCIM; the owner signs in with \
         WebWork's own credentials. Unassign the password push for this user in the identity \
         provider"
    )]
    OwnerCredentials,
    #[error("seat limit reached: {used} of {seats}")]
    SeatLimit { used: i64, seats: u32 },
    #[error(
        "this workspace already holds {max} users (active and inactive), the most one workspace \
         may hold; delete or erase users who left before creating more"
    )]
    UserLimit { max: u32 },
    #[error(
        "this workspace already has {active} active SCIM tokens, the most its plan allows; \
         revoke one first"
    )]
    TokenLimit { active: usize, max: u32 },
    #[error("{0}")]
    Scim(ScimRefusal),
    #[error("single sign-on requires the Premium plan; this workspace is on {0}")]
    SsoNotIncluded(Plan),
    #[error("SSO can be enforced only while it is enabled")]
    EnforcementNeedsSso,
    #[error("token {0} was already rotated; rotate its successor instead")]
    AlreadyRotated(TokenId),
    #[error("the expiry must lie in the future")]
    ExpiryInPast,
}

impl From<ScimRefusal> for Refusal {
    fn from(refusal: ScimRefusal) -> Self {
        Refusal::Scim(refusal)
    }
}
