//! What the service knows of a SCIM API token's life: when it was revoked, when it expires, and
//! whether it is active at a given time. Authentication, the token limit, rotation and the
//! admin listing all ask this one question here.

use time::{Duration, OffsetDateTime};

/// The limits on a token's life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TokenLifetime {
    pub revoked_at: Option<OffsetDateTime>,
    pub expires_at: Option<OffsetDateTime>,
}

/// A token's state at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Revoked,
    Expired,
}

impl TokenLifetime {
    /// Revoked wins over expired: a token revoked before it expired says so. A revocation
    /// applies from the moment it is recorded, whatever time is asked about (it is never
    /// scheduled ahead).
    pub fn state_at(&self, now: OffsetDateTime) -> TokenState {
        if self.revoked_at.is_some() {
            TokenState::Revoked
        } else if self.expires_at.is_some_and(|at| at <= now) {
            TokenState::Expired
        } else {
            TokenState::Active
        }
    }

    pub fn is_active_at(&self, now: OffsetDateTime) -> bool {
        self.state_at(now) == TokenState::Active
    }

    /// Active at `now` and due to expire within `window` of it.
    pub fn expires_within(&self, now: OffsetDateTime, window: Duration) -> bool {
        self.is_active_at(now) && self.expires_at.is_some_and(|at| at <= now + window)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_active_until_revoked_or_expired() {
        let now = OffsetDateTime::now_utc();
        let open = TokenLifetime::default();
        assert!(open.is_active_at(now));
        assert!(!open.expires_within(now, Duration::days(14)));
        let expiring = TokenLifetime {
            expires_at: Some(now + Duration::days(3)),
            ..TokenLifetime::default()
        };
        assert!(expiring.is_active_at(now));
        assert!(expiring.expires_within(now, Duration::days(14)));
        assert!(!expiring.expires_within(now, Duration::days(1)));
        assert_eq!(
            expiring.state_at(now + Duration::days(3)),
            TokenState::Expired
        );
        let revoked = TokenLifetime {
            revoked_at: Some(now),
            expires_at: Some(now),
        };
        assert_eq!(revoked.state_at(now), TokenState::Revoked);
        assert!(!revoked.expires_within(now, Duration::days(14)));
        let revoked_just_now = TokenLifetime {
            revoked_at: Some(now + Duration::milliseconds(5)),
            expires_at: None,
        };
        assert!(!revoked_just_now.is_active_at(now));
    }
}
