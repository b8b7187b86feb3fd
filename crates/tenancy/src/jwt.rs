//! Validation of the JWTs WebWork's main app issues for the admin API.
//!
//! Each configured key has a `kid` and exactly one algorithm: EdDSA or RS256 public keys in
//! production, an HS256 secret only when explicitly allowed (development). A token is checked
//! against the key its `kid` names and only with that key's algorithm, which rules out algorithm
//! confusion (an RS256 public key used as an HS256 secret, or `alg: none`).

use std::collections::HashMap;
use std::fmt;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

/// What the caller may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Billing and operators: every workspace.
    Platform,
    /// A workspace admin: their own workspace (`ws`) only.
    Admin,
    /// WebWork's own services, on the internal API.
    Service,
}

/// The validated claims of an admin-API token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminClaims {
    pub subject: String,
    pub workspace: Option<String>,
    pub role: Role,
}

#[derive(Debug, Deserialize)]
struct RawClaims {
    sub: String,
    #[serde(default)]
    ws: Option<String>,
    role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    #[error("the token is malformed")]
    Malformed,
    #[error("no key has the token's kid")]
    UnknownKey,
    #[error("the token is invalid: {0}")]
    Invalid(String),
    #[error("unknown role '{0}'")]
    UnknownRole(String),
}

#[derive(Debug, thiserror::Error)]
#[error("JWT key configuration: {0}")]
pub struct JwtConfigError(String);

/// One key as configured (`JWT_KEYS`): `{"kid": …, "alg": "EdDSA"|"RS256", "public_key": PEM}`
/// or `{"kid": …, "alg": "HS256", "secret": …}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeySpec {
    kid: String,
    alg: String,
    #[serde(default)]
    public_key: Option<String>,
    #[serde(default)]
    secret: Option<String>,
}

struct Key {
    algorithm: Algorithm,
    decoding: DecodingKey,
}

pub struct JwtVerifier {
    keys: HashMap<String, Key>,
    issuer: String,
    audience: String,
    leeway_secs: u64,
}

impl fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("kids", &self.keys.keys().collect::<Vec<_>>())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl JwtVerifier {
    /// Builds a verifier from the JSON array in `JWT_KEYS`. HS256 keys are refused unless
    /// `allow_hs256` is set.
    pub fn from_json(
        keys_json: &str,
        issuer: &str,
        audience: &str,
        leeway_secs: u64,
        allow_hs256: bool,
    ) -> Result<JwtVerifier, JwtConfigError> {
        let specs: Vec<KeySpec> = serde_json::from_str(keys_json).map_err(|err| {
            JwtConfigError(format!("JWT_KEYS is not a JSON array of keys: {err}"))
        })?;
        let mut keys = HashMap::new();
        for spec in specs {
            let invalid = |what: &str| JwtConfigError(format!("key '{}': {what}", spec.kid));
            let key = match (spec.alg.as_str(), &spec.public_key, &spec.secret) {
                ("EdDSA", Some(pem), None) => Key {
                    algorithm: Algorithm::EdDSA,
                    decoding: DecodingKey::from_ed_pem(pem.as_bytes())
                        .map_err(|err| invalid(&format!("not an Ed25519 public key PEM: {err}")))?,
                },
                ("RS256", Some(pem), None) => Key {
                    algorithm: Algorithm::RS256,
                    decoding: DecodingKey::from_rsa_pem(pem.as_bytes())
                        .map_err(|err| invalid(&format!("not an RSA public key PEM: {err}")))?,
                },
                ("HS256", None, Some(secret)) if allow_hs256 => {
                    if secret.len() < 32 {
                        return Err(invalid("an HS256 secret needs at least 32 bytes"));
                    }
                    Key {
                        algorithm: Algorithm::HS256,
                        decoding: DecodingKey::from_secret(secret.as_bytes())
                            .map_err(|err| invalid(&err.to_string()))?,
                    }
                }
                ("HS256", _, _) if !allow_hs256 => {
                    return Err(invalid(
                        "HS256 is for development only; set JWT_ALLOW_HS256=true to use it",
                    ));
                }
                _ => {
                    return Err(invalid(
                        "use alg EdDSA or RS256 with public_key, or HS256 with secret",
                    ));
                }
            };
            if keys.insert(spec.kid.clone(), key).is_some() {
                return Err(JwtConfigError(format!(
                    "kid '{}' is configured twice",
                    spec.kid
                )));
            }
        }
        Ok(JwtVerifier {
            keys,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            leeway_secs,
        })
    }

    /// A verifier that accepts no token (no keys configured).
    pub fn disabled() -> JwtVerifier {
        JwtVerifier {
            keys: HashMap::new(),
            issuer: String::new(),
            audience: String::new(),
            leeway_secs: 0,
        }
    }

    pub fn is_enabled(&self) -> bool {
        !self.keys.is_empty()
    }

    /// Validates signature, `iss`, `aud`, `exp` and `nbf` (with the configured leeway) and reads
    /// `sub`, `ws` and `role`.
    pub fn verify(&self, token: &str) -> Result<AdminClaims, JwtError> {
        let header = decode_header(token).map_err(|_| JwtError::Malformed)?;
        let kid = header.kid.ok_or(JwtError::UnknownKey)?;
        let key = self.keys.get(&kid).ok_or(JwtError::UnknownKey)?;
        let mut validation = Validation::new(key.algorithm);
        validation.set_issuer(&[&self.issuer]);
        validation.set_audience(&[&self.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = self.leeway_secs;
        let data = decode::<RawClaims>(token, &key.decoding, &validation)
            .map_err(|err| JwtError::Invalid(err.to_string()))?;
        let role = match data.claims.role.as_str() {
            "platform" => Role::Platform,
            "admin" => Role::Admin,
            "service" => Role::Service,
            other => return Err(JwtError::UnknownRole(other.to_owned())),
        };
        Ok(AdminClaims {
            subject: data.claims.sub,
            workspace: data.claims.ws,
            role,
        })
    }
}
