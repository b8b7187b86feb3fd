//! The SCIM API token: `wwscim_<prefix>_<secret>`.
//!
//! The prefix (12 hex digits) is public: it is stored in clear, shown in token listings and used
//! to find the token's row. The secret (64 hex digits, 256 random bits) is stored only as an
//! argon2id hash and shown once, when the token is issued.

use std::fmt;

use webwork_scim_domain::WorkspaceKey;

use crate::hashing::{self, HashError};

const TAG: &str = "wwscim_";
const PREFIX_BYTES: usize = 6;
const SECRET_BYTES: usize = 32;

/// The public part of a token, unique within its workspace.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TokenPrefix(String);

impl TokenPrefix {
    pub fn parse(raw: &str) -> Option<TokenPrefix> {
        is_lower_hex(raw, PREFIX_BYTES * 2).then(|| TokenPrefix(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TokenPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A token as a client presented it in `Authorization: Bearer`. `Debug` hides the secret.
#[derive(Clone)]
pub struct PresentedToken {
    prefix: TokenPrefix,
    secret: String,
}

impl PresentedToken {
    /// `None` for anything that is not shaped like one of our tokens.
    pub fn parse(raw: &str) -> Option<PresentedToken> {
        let rest = raw.strip_prefix(TAG)?;
        let (prefix, secret) = rest.split_once('_')?;
        let prefix = TokenPrefix::parse(prefix)?;
        is_lower_hex(secret, SECRET_BYTES * 2).then(|| PresentedToken {
            prefix,
            secret: secret.to_owned(),
        })
    }

    pub fn prefix(&self) -> &TokenPrefix {
        &self.prefix
    }

    pub fn secret(&self) -> &[u8] {
        self.secret.as_bytes()
    }
}

impl fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PresentedToken({}_<redacted>)", self.prefix)
    }
}

/// A freshly generated token: the clear text to show once, and what to store.
pub struct IssuedToken {
    pub prefix: TokenPrefix,
    /// The whole token for the admin to copy; never stored or logged.
    pub plaintext: String,
    /// The argon2id PHC string of the secret.
    pub secret_hash: String,
}

impl fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IssuedToken({}_<redacted>)", self.prefix)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the operating system's random source failed: {0}")]
    Random(String),
    #[error(transparent)]
    Hash(#[from] HashError),
}

impl IssuedToken {
    /// Generates a token from the operating system's random source and hashes its secret.
    /// CPU-heavy (argon2): call it off async workers.
    pub fn generate() -> Result<IssuedToken, IssueError> {
        let prefix = TokenPrefix(hex(&random_bytes::<PREFIX_BYTES>()?));
        let secret = hex(&random_bytes::<SECRET_BYTES>()?);
        let secret_hash = hashing::hash_secret(secret.as_bytes())?;
        Ok(IssuedToken {
            plaintext: format!("{TAG}{prefix}_{secret}"),
            prefix,
            secret_hash,
        })
    }
}

impl IssuedToken {
    /// Generates a token of workspace `lane` and hashes its secret on the argon2 workers.
    pub async fn generate_on(
        hashes: &crate::HashPool,
        lane: &WorkspaceKey,
    ) -> Result<IssuedToken, IssueError> {
        let prefix = TokenPrefix(hex(&random_bytes::<PREFIX_BYTES>()?));
        let secret = hex(&random_bytes::<SECRET_BYTES>()?);
        let secret_hash = hashes.hash(lane, secret.as_bytes().to_vec()).await?;
        Ok(IssuedToken {
            plaintext: format!("{TAG}{prefix}_{secret}"),
            prefix,
            secret_hash,
        })
    }
}

/// `N` bytes from the operating system's random source.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], IssueError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|err| IssueError::Random(err.to_string()))?;
    Ok(bytes)
}

pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    out
}

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_parse_back_and_verify() {
        let issued = IssuedToken::generate().unwrap();
        assert_eq!(issued.plaintext.len(), TAG.len() + 12 + 1 + 64);
        let presented = PresentedToken::parse(&issued.plaintext).unwrap();
        assert_eq!(presented.prefix(), &issued.prefix);
        assert!(hashing::verify_secret(
            presented.secret(),
            &issued.secret_hash
        ));
        assert!(
            !issued
                .secret_hash
                .contains(&issued.plaintext[TAG.len() + 13..])
        );
    }

    #[test]
    fn tokens_carry_256_random_bits_and_do_not_repeat() {
        let a = IssuedToken::generate().unwrap();
        let b = IssuedToken::generate().unwrap();
        assert_ne!(a.plaintext, b.plaintext);
        assert_ne!(a.prefix, b.prefix);
        assert_eq!(SECRET_BYTES * 8, 256);
    }

    #[test]
    fn malformed_tokens_are_refused() {
        let secret = "a".repeat(64);
        assert!(PresentedToken::parse(&format!("wwscim_0123456789ab_{secret}")).is_some());
        for bad in [
            String::new(),
            "Bearer x".to_owned(),
            format!("wwscim_0123456789AB_{secret}"),
            format!("wwscim_0123456789a_{secret}"),
            format!("other_0123456789ab_{secret}"),
            format!("wwscim_0123456789ab_{}", "a".repeat(63)),
            format!("wwscim_0123456789ab_{}g", "a".repeat(63)),
            format!("wwscim_0123456789ab{secret}"),
        ] {
            assert!(PresentedToken::parse(&bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let issued = IssuedToken::generate().unwrap();
        let presented = PresentedToken::parse(&issued.plaintext).unwrap();
        let secret = &issued.plaintext[TAG.len() + 13..];
        assert!(!format!("{issued:?}").contains(secret));
        assert!(!format!("{presented:?}").contains(secret));
    }

    #[test]
    fn hex_encodes_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xab, 0xff]), "000fabff");
    }
}
