//! The credential check of WebWork's login: the password an identity provider set (or synced)
//! for a user, checked under the policy of `tenancy::credentials`.

use webwork_scim_domain::{User, UserName};
use webwork_scim_persistence::users;
use webwork_scim_tenancy::{Candidate, CredentialCheck, CredentialVerdict};

use super::directory::read_directory;
use super::{DirectoryError, UseCases};

/// The answer to a credential check, with the user when the password was right.
#[derive(Debug, Clone)]
pub enum CredentialOutcome {
    Accepted(Box<User>),
    Refused(CredentialVerdict),
}

impl UseCases {
    /// Reads the workspace's policy and the user in one transaction, then runs argon2 on its
    /// workers (a dummy run for an unknown user, so that it costs the same).
    pub async fn check_credentials(
        &self,
        key: &str,
        user_name: &str,
        password: String,
    ) -> Result<CredentialOutcome, DirectoryError> {
        let name = UserName::parse(user_name).ok();
        let (check, user, lane) = read_directory(&self.store, key, move |tx, workspace| {
            let found = match &name {
                Some(name) => users::find_by_user_name(tx, name)?,
                None => None,
            };
            let candidate = match &found {
                Some(user) => Some(Candidate {
                    active: user.active,
                    password_hash: users::password_hash(tx, user.id)?,
                }),
                None => None,
            };
            Ok((
                CredentialCheck::new(workspace.sso_enforced, candidate),
                found,
                workspace.key,
            ))
        })
        .await?;
        let check = match check {
            Ok(check) => check,
            Err(verdict) => return Ok(CredentialOutcome::Refused(verdict)),
        };
        let matches = CredentialCheck::admits(&password)
            && self
                .hashes
                .verify(&lane, password.into_bytes(), check.phc().to_owned())
                .await;
        Ok(match (check.verdict(matches), user) {
            (CredentialVerdict::Accepted, Some(user)) => {
                CredentialOutcome::Accepted(Box::new(user))
            }
            (CredentialVerdict::Accepted, None) => {
                CredentialOutcome::Refused(CredentialVerdict::Invalid)
            }
            (verdict, _) => CredentialOutcome::Refused(verdict),
        })
    }
}
