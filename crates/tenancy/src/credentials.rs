//! The policy of WebWork's password login, checked here against the password an identity
//! provider set: a workspace that enforces single sign-on refuses every password; an unknown
//! user, a user without a password and a wrong password cost the same argon2 run (against a dummy
//! hash) and get the same answer; only the holder of the right password learns that the user is
//! deactivated.

use webwork_scim_domain::user::MAX_PASSWORD_BYTES;

use crate::hashing;

/// The answer to a credential check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialVerdict {
    Accepted,
    /// The user name or the password is wrong (or the user has no password).
    Invalid,
    /// The workspace signs in through its identity provider only.
    SsoRequired,
    /// The password is right, but the user is deactivated.
    Deactivated,
}

/// What a password is checked against.
#[derive(Debug, Clone)]
pub struct CredentialCheck {
    phc: String,
    /// The user exists and has a password.
    real: bool,
    active: bool,
}

/// The user a credential check found: whether they are active, and their password hash.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub active: bool,
    pub password_hash: Option<String>,
}

impl CredentialCheck {
    /// The check for a workspace that does (or does not) enforce single sign-on and the user the
    /// name found, if any. `Err` is the verdict given without any argon2.
    pub fn new(
        sso_enforced: bool,
        candidate: Option<Candidate>,
    ) -> Result<CredentialCheck, CredentialVerdict> {
        if sso_enforced {
            return Err(CredentialVerdict::SsoRequired);
        }
        Ok(match candidate {
            Some(Candidate {
                active,
                password_hash: Some(phc),
            }) => CredentialCheck {
                phc,
                real: true,
                active,
            },
            _ => CredentialCheck {
                phc: hashing::dummy_hash().to_owned(),
                real: false,
                active: false,
            },
        })
    }

    /// Whether the password is worth an argon2 run at all: longer ones are never stored.
    pub fn admits(password: &str) -> bool {
        password.len() <= MAX_PASSWORD_BYTES
    }

    /// The PHC string to verify the password against.
    pub fn phc(&self) -> &str {
        &self.phc
    }

    /// The verdict once argon2 said whether the password matches.
    pub fn verdict(&self, matches: bool) -> CredentialVerdict {
        match (self.real && matches, self.active) {
            (false, _) => CredentialVerdict::Invalid,
            (true, false) => CredentialVerdict::Deactivated,
            (true, true) => CredentialVerdict::Accepted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(active: bool, hash: Option<&str>) -> Option<Candidate> {
        Some(Candidate {
            active,
            password_hash: hash.map(str::to_owned),
        })
    }

    #[test]
    fn sso_enforcement_refuses_before_any_argon2() {
        assert_eq!(
            CredentialCheck::new(true, user(true, Some("$argon2id$x"))).unwrap_err(),
            CredentialVerdict::SsoRequired
        );
    }

    #[test]
    fn unknown_users_and_users_without_a_password_cost_a_dummy_run_and_fail() {
        for candidate in [None, user(true, None)] {
            let check = CredentialCheck::new(false, candidate).unwrap();
            assert_eq!(check.phc(), hashing::dummy_hash());
            assert_eq!(check.verdict(true), CredentialVerdict::Invalid);
        }
    }

    #[test]
    fn only_the_right_password_learns_of_deactivation() {
        let inactive = CredentialCheck::new(false, user(false, Some("$argon2id$x"))).unwrap();
        assert_eq!(inactive.verdict(false), CredentialVerdict::Invalid);
        assert_eq!(inactive.verdict(true), CredentialVerdict::Deactivated);
        let active = CredentialCheck::new(false, user(true, Some("$argon2id$x"))).unwrap();
        assert_eq!(active.verdict(true), CredentialVerdict::Accepted);
        assert!(!CredentialCheck::admits(
            &"x".repeat(MAX_PASSWORD_BYTES + 1)
        ));
    }
}
