//! The pure core of webwork-scim: identifiers, workspaces and plans, SCIM users and groups, the SCIM schema
//! catalogue, the filter language and the PATCH engine.
//!
//! Nothing here performs I/O or knows a framework or a database; every value that comes from a
//! tenant is parsed into a type that is valid by construction, and every failure a caller can
//! cause is a [`DomainError`].

pub mod audit;
pub mod bulk;
pub mod cursor;
pub mod error;
pub mod filter;
pub mod group;
pub mod ids;
pub mod patch;
pub mod refusal;
pub mod schema;
pub mod sort;
pub mod text;
pub mod token;
pub mod user;
pub mod workspace;

pub use audit::{Actor, AuditAction, AuditEvent};
pub use error::{DomainError, ScimType};
pub use group::{Group, GroupChange, GroupDraft, GroupName, Member};
pub use ids::{GroupId, TokenId, UserId, WorkspaceId};
pub use refusal::{Refusal, ScimRefusal};
pub use text::PlainText;
pub use token::{TokenLifetime, TokenState};
pub use user::{DocumentText, GroupRef, ListedUser, Password, User, UserDraft, UserName};
pub use workspace::{
    Entitlement, EntitlementOverrides, Entitlements, Plan, SsoState, Tenant, Workspace,
    WorkspaceKey, WorkspaceName,
};
