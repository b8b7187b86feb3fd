//! Workspaces, their public keys, and the plans WebWork sells.

use std::fmt;
use std::str::FromStr;

use crate::refusal::{Refusal, ScimRefusal};
use crate::text::PlainText;
use crate::{DomainError, TokenId, WorkspaceId};

/// The public, URL-safe key of a workspace as it appears in its SCIM Base URL.
///
/// Lower-case ASCII letters, digits and `-`, 3 to 63 characters, starting with a letter or digit.
/// Okta refuses base URLs that contain `_`, so the key never does.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WorkspaceKey(String);

impl WorkspaceKey {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let valid_len = (3..=63).contains(&raw.len());
        let valid_chars = raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid_edges = !raw.starts_with('-') && !raw.ends_with('-');
        if valid_len && valid_chars && valid_edges {
            Ok(Self(raw.to_owned()))
        } else {
            Err(DomainError::invalid_value(format!(
                "'{raw}' is not a workspace key: use 3 to 63 lower-case letters, digits and '-'"
            )))
        }
    }

    /// A key made of a slug of the workspace name and a random suffix, so that keys are stable,
    /// readable in an admin's URL bar, and not guessable from the name alone.
    pub fn from_name_and_suffix(name: &WorkspaceName, suffix: &str) -> Result<Self, DomainError> {
        let mut slug = String::new();
        for c in name.as_str().chars() {
            if c.is_ascii_alphanumeric() {
                slug.push(c.to_ascii_lowercase());
            } else if !slug.is_empty() && !slug.ends_with('-') {
                slug.push('-');
            }
            if slug.len() >= 40 {
                break;
            }
        }
        let slug = slug.trim_end_matches('-');
        let key = if slug.is_empty() {
            format!("ws-{suffix}")
        } else {
            format!("{slug}-{suffix}")
        };
        Self::parse(&key)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for WorkspaceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A workspace's display name: trimmed, 1 to 200 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceName(String);

impl WorkspaceName {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        PlainText::parse_trimmed("name", raw, Self::MAX_CHARS).map(|text| Self(text.into_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The plans of WebWork Time Tracker, cheapest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Plan {
    Free,
    Pro,
    Premium,
    Enterprise,
}

impl Plan {
    pub const ALL: [Plan; 4] = [Plan::Free, Plan::Pro, Plan::Premium, Plan::Enterprise];

    pub fn as_str(self) -> &'static str {
        match self {
            Plan::Free => "free",
            Plan::Pro => "pro",
            Plan::Premium => "premium",
            Plan::Enterprise => "enterprise",
        }
    }
}

impl FromStr for Plan {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Plan::ALL
            .into_iter()
            .find(|plan| plan.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                DomainError::invalid_value(format!(
                    "unknown plan '{s}': use free, pro, premium or enterprise"
                ))
            })
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a plan lets a workspace do. Code asks for an entitlement, never for a plan name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Entitlement {
    /// Okta, Entra ID and others may provision users and groups over SCIM.
    ScimProvisioning,
    /// The workspace may connect an identity provider for single sign-on.
    Sso,
}

/// What a workspace may do right now: its plan's grants, with bought seats and any unexpired
/// overrides applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Entitlements {
    pub scim_provisioning: bool,
    pub sso: bool,
    /// Sustained SCIM requests per second for the workspace (per replica).
    pub requests_per_second: u32,
    /// Requests allowed at once above the sustained rate, as when an admin assigns many users.
    pub burst: u32,
    /// SCIM tokens that may be active at once.
    pub max_active_tokens: u32,
    /// Active users allowed; `None` means no limit.
    pub seats: Option<u32>,
}

impl Entitlements {
    pub fn allows(&self, entitlement: Entitlement) -> bool {
        match entitlement {
            Entitlement::ScimProvisioning => self.scim_provisioning,
            Entitlement::Sso => self.sso,
        }
    }

    /// Whether a workspace on `plan` with these entitlements, single sign-on on or off, may
    /// provision over SCIM: the one rule the SSO page, token issuing and every SCIM request
    /// follow. The plan is checked before single sign-on.
    pub fn scim_refusal(&self, plan: Plan, sso_enabled: bool) -> Option<ScimRefusal> {
        if !self.scim_provisioning {
            Some(ScimRefusal::PlanLacksProvisioning(plan))
        } else if !sso_enabled {
            Some(ScimRefusal::SsoOff)
        } else {
            None
        }
    }

    /// Whether one more active user fits in the seats, when `active_users` are active now.
    /// Inactive users take no seat.
    pub fn admit_active_user(&self, active_users: i64) -> Result<(), Refusal> {
        match self.seats {
            Some(seats) if active_users >= i64::from(seats) => Err(Refusal::SeatLimit {
                used: active_users,
                seats,
            }),
            _ => Ok(()),
        }
    }

    /// Whether one more SCIM token may be active, when `active_tokens` are active now.
    pub fn admit_token(&self, active_tokens: usize) -> Result<(), Refusal> {
        let max = usize::try_from(self.max_active_tokens).unwrap_or(usize::MAX);
        if active_tokens >= max {
            return Err(Refusal::TokenLimit {
                active: active_tokens,
                max: self.max_active_tokens,
            });
        }
        Ok(())
    }
}

/// Deserializers for counts that JSON clients may write as `25` or `25.0`.
pub mod whole {
    use serde::{Deserialize, Deserializer, de::Error};

    fn exact<E: Error>(value: f64, max: f64) -> Result<f64, E> {
        if value.fract() == 0.0 && (0.0..=max).contains(&value) {
            Ok(value)
        } else {
            Err(E::custom(format!(
                "expected a whole number from 0 to {max}, found {value}"
            )))
        }
    }

    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked above
    pub fn option_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|v| exact(v, f64::from(u32::MAX)).map(|v| v as u32))
            .transpose()
    }

    /// Up to 2^53, the largest whole number a JSON double holds exactly.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // range checked above
    pub fn option_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        Option::<f64>::deserialize(d)?
            .map(|v| exact(v, 9_007_199_254_740_992.0).map(|v| v as u64))
            .transpose()
    }
}

/// Per-workspace changes to the plan's entitlements, e.g. a Premium trial; each field left out
/// keeps the plan's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EntitlementOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scim_provisioning: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sso: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option_u32"
    )]
    pub requests_per_second: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option_u32"
    )]
    pub burst: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option_u32"
    )]
    pub max_active_tokens: Option<u32>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole::option_u32"
    )]
    pub seats: Option<u32>,
}

impl EntitlementOverrides {
    pub fn apply(&self, base: Entitlements) -> Entitlements {
        Entitlements {
            scim_provisioning: self.scim_provisioning.unwrap_or(base.scim_provisioning),
            sso: self.sso.unwrap_or(base.sso),
            requests_per_second: self.requests_per_second.unwrap_or(base.requests_per_second),
            burst: self.burst.unwrap_or(base.burst),
            max_active_tokens: self.max_active_tokens.unwrap_or(base.max_active_tokens),
            seats: self.seats.or(base.seats),
        }
    }
}

/// A WebWork workspace: one customer and its identity-provider connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Workspace {
    pub id: WorkspaceId,
    pub key: WorkspaceKey,
    pub name: String,
    pub plan: Plan,
    pub sso_enabled: bool,
    /// Members must sign in through the identity provider; WebWork passwords are refused.
    pub sso_enforced: bool,
    /// The issuer of the connected identity provider, shown on the SSO settings page.
    pub idp_issuer: Option<String>,
    /// Seats bought; `None` when billing has set none (no limit).
    pub seats: Option<u32>,
    pub overrides: Option<EntitlementOverrides>,
    /// When the overrides stop applying; `None` keeps them until removed.
    pub overrides_expire_at: Option<time::OffsetDateTime>,
    pub created_at: time::OffsetDateTime,
}

/// Single sign-on as a workspace has it: on or off, and whether passwords are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SsoState {
    pub enabled: bool,
    pub enforced: bool,
}

impl Workspace {
    /// The single sign-on state after a change that sets `enabled` and `enforced` (each `None`
    /// keeps it), when the workspace's entitlements afterwards are `entitlements` (those of the
    /// plan it will be on). Turning single sign-on on needs the entitlement; turning it off turns
    /// enforcement off with it; enforcement needs single sign-on on.
    pub fn sso_after(
        &self,
        enabled: Option<bool>,
        enforced: Option<bool>,
        plan: Plan,
        entitlements: &Entitlements,
    ) -> Result<SsoState, Refusal> {
        let now_enabled = enabled.unwrap_or(self.sso_enabled);
        let now_enforced = enforced.unwrap_or(self.sso_enforced && now_enabled);
        if now_enabled && !self.sso_enabled && !entitlements.sso {
            return Err(Refusal::SsoNotIncluded(plan));
        }
        if now_enforced && !now_enabled {
            return Err(Refusal::EnforcementNeedsSso);
        }
        Ok(SsoState {
            enabled: now_enabled,
            enforced: now_enforced,
        })
    }

    /// The overrides in force at `now`.
    pub fn active_overrides(&self, now: time::OffsetDateTime) -> Option<&EntitlementOverrides> {
        let current = self.overrides_expire_at.is_none_or(|until| now < until);
        self.overrides.as_ref().filter(|_| current)
    }
}

/// The resolved caller of a SCIM request: an authenticated token of one workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub workspace_id: WorkspaceId,
    pub workspace_key: WorkspaceKey,
    pub plan: Plan,
    pub entitlements: Entitlements,
    /// Provisioning pauses while the workspace's admin has single sign-on turned off.
    pub sso_enabled: bool,
    pub token_id: TokenId,
}

impl Tenant {
    /// Why this caller may not provision, if it may not.
    pub fn scim_refusal(&self) -> Option<ScimRefusal> {
        self.entitlements.scim_refusal(self.plan, self.sso_enabled)
    }
}

#[cfg(test)]
mod tests;
