//! Who is calling and what they may do.
//!
//! SCIM API tokens (format, generation, argon2id hashing, verification and the cache of verified
//! tokens), passwords, and the table from plans to entitlements. Nothing here knows HTTP or the
//! database: the API crate looks records up and hands them in.

pub mod entitlements;
pub mod hashing;
pub mod jwt;
pub mod limits;
pub mod tenant_cache;
pub mod token;
pub mod verifier;

pub use entitlements::{
    ScimRefusal, effective_entitlements, may_issue_scim_token, plan_entitlements,
    provisioning_refusal, scim_refusal,
};
pub use jwt::{AdminClaims, JwtError, JwtVerifier, Role};
pub use limits::{FailureThrottle, RateLimiter, UseRecorder};
pub use tenant_cache::{Resolved, TenantCache};
pub use token::{IssuedToken, PresentedToken, TokenPrefix};
pub use verifier::{AuthFailure, TokenRecord, TokenVerifier, Verdict};
