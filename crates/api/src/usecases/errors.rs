//! The errors of the use cases, one enum per area: SCIM provisioning, administration (the admin
//! API and the command line), and the directory of WebWork's own services. Each keeps what went
//! wrong as a type — a missing resource with its kind and id, a rule's refusal, a malformed value
//! with its `scimType`, a store failure with its cause — and the HTTP layer maps each enum to the
//! wire once.

use std::fmt;

use webwork_scim_domain::{DomainError, Refusal};
use webwork_scim_persistence::StoreError;
use webwork_scim_tenancy::hashing::HashError;
use webwork_scim_tenancy::token::IssueError;

/// The kinds of resource a request can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    User,
    Group,
    Token,
    Workspace,
    Event,
    /// A discovery document: a resource type or a schema.
    ResourceType,
    Schema,
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Resource::User => "User",
            Resource::Group => "Group",
            Resource::Token => "Token",
            Resource::Workspace => "Workspace",
            Resource::Event => "Event",
            Resource::ResourceType => "ResourceType",
            Resource::Schema => "Schema",
        })
    }
}

/// A resource the caller named does not exist for it: unknown, deleted, or another
/// workspace's (which must look exactly the same).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} {id} not found")]
pub struct NotFound {
    pub kind: Resource,
    pub id: String,
}

impl NotFound {
    pub fn new(kind: Resource, id: impl ToString) -> NotFound {
        NotFound {
            kind,
            id: id.to_string(),
        }
    }
}

/// The failures of SCIM user and group provisioning.
#[derive(Debug, thiserror::Error)]
pub enum ProvisioningError {
    /// The request's values break the SCIM schema (its `scimType` says how).
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A rule refused it: the workspace owner, the seats.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The client's `If-Match` names another version than the resource has.
    #[error("the resource's ETag is W/\"{current}\", not one that If-Match names")]
    PreconditionFailed { current: String },
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Hashing(#[from] HashError),
}

/// The failures of workspace, token and SSO administration, the logs, export and erasure.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A rule refused it: the plan, single sign-on, the token limit, a rotated token.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Issue(#[from] IssueError),
}

impl AdminError {
    /// The process exit code of a command: 2 for a request refused or naming nothing, 1 for a
    /// failure of ours.
    pub fn exit_code(&self) -> u8 {
        match self {
            AdminError::Invalid(_) | AdminError::NotFound(_) | AdminError::Refused(_) => 2,
            AdminError::Store(_) | AdminError::Issue(_) => 1,
        }
    }
}

/// The failures of the directory WebWork's services read, member linking and credential checks.
#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    NotFound(#[from] NotFound),
    /// A rule refused it: the seats.
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error(transparent)]
    Store(StoreError),
}

/// A store failure that carries a domain error (a member that is no user of the workspace, a
/// filter the store cannot answer) is that error; any other stays a store failure.
macro_rules! from_store {
    ($($area:ident),*) => {$(
        impl From<StoreError> for $area {
            fn from(err: StoreError) -> Self {
                match err {
                    StoreError::Domain(err) => $area::Invalid(err),
                    other => $area::Store(other),
                }
            }
        }
    )*};
}

from_store!(ProvisioningError, AdminError, DirectoryError);

/// A store failure that a unique index raised, as the uniqueness error it means here; any other
/// failure as it is.
pub(crate) fn uniqueness<E: From<StoreError> + From<DomainError>>(
    err: StoreError,
    detail: impl FnOnce() -> String,
) -> E {
    match err {
        StoreError::Conflict => E::from(DomainError::Uniqueness(detail())),
        other => E::from(other),
    }
}
