//! argon2id hashing of token secrets and user passwords, with OWASP's minimum parameters
//! (19 MiB, two passes, one lane). Both functions are CPU-heavy: call them off async workers.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

#[derive(Debug, thiserror::Error)]
#[error("argon2 failed: {0}")]
pub struct HashError(String);

impl HashError {
    pub(crate) fn new(cause: String) -> HashError {
        HashError(cause)
    }
}

fn argon2() -> Argon2<'static> {
    // Params::DEFAULT is OWASP's recommendation: m = 19 MiB, t = 2, p = 1.
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::DEFAULT)
}

/// The PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`) of `secret` under a fresh random salt.
pub fn hash_secret(secret: &[u8]) -> Result<String, HashError> {
    argon2()
        .hash_password(secret)
        .map(|hash| hash.to_string())
        .map_err(|err| HashError(err.to_string()))
}

/// A hash of nothing anyone knows, verified against when a user does not exist, so that an
/// unknown user costs the same argon2 run as a wrong password.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret = crate::token::random_bytes::<32>().unwrap_or([7; 32]);
        hash_secret(&secret).unwrap_or_default()
    })
}

/// Whether `secret` matches the PHC string `phc`. A malformed `phc` never matches.
pub fn verify_secret(secret: &[u8], phc: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    argon2().verify_password(secret, &parsed).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash_secret(b"correct horse").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify_secret(b"correct horse", &phc));
        assert!(!verify_secret(b"correct horse!", &phc));
    }

    #[test]
    fn salts_differ_and_garbage_never_verifies() {
        assert_ne!(hash_secret(b"x").unwrap(), hash_secret(b"x").unwrap());
        assert!(!verify_secret(b"x", "not a phc string"));
        assert!(!verify_secret(b"x", ""));
    }
}
