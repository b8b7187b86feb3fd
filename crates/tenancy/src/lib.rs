//! Who is calling and what they may do.
//!
//! SCIM API tokens (format, generation, argon2id hashing on a pool of its own), the one
//! authentication of a SCIM request with its caches and throttles, the policy of WebWork's
//! password login, the table from plans to entitlements, and the JWTs of the admin and internal
//! APIs. Nothing here knows HTTP or the database: the API crate hands in a
//! [`CredentialDirectory`] that looks workspaces and tokens up.

pub mod authentication;
pub mod credentials;
pub mod entitlements;
pub mod hash_pool;
pub mod hashing;
pub mod jwt;
pub mod limits;
pub mod token;

pub use authentication::{
    Admission, AuthFailure, AuthRefusal, AuthSettings, Authenticator, CredentialDirectory,
    LookupError, Resolved, TokenRecord, Verification,
};
pub use credentials::{Candidate, CredentialCheck, CredentialVerdict};
pub use entitlements::{effective_entitlements, plan_entitlements};
pub use hash_pool::HashPool;
pub use jwt::{AdminClaims, JwtError, JwtVerifier, Role};
pub use limits::{RateLimiter, UseRecorder};
pub use token::{IssuedToken, PresentedToken, TokenPrefix};
