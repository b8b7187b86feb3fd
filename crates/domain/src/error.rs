//! Every failure a SCIM client or an operator can cause, named after what they did wrong.

use thiserror::Error;

/// The `scimType` keywords of RFC 7644 §3.12 that a domain failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScimType {
    InvalidFilter,
    InvalidSyntax,
    InvalidPath,
    InvalidValue,
    NoTarget,
    Mutability,
    Uniqueness,
    TooMany,
    /// A cursor this service did not give, or gave to another workspace (RFC 9865).
    InvalidCursor,
}

impl ScimType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidFilter => "invalidFilter",
            Self::InvalidSyntax => "invalidSyntax",
            Self::InvalidPath => "invalidPath",
            Self::InvalidValue => "invalidValue",
            Self::NoTarget => "noTarget",
            Self::Mutability => "mutability",
            Self::Uniqueness => "uniqueness",
            Self::TooMany => "tooMany",
            Self::InvalidCursor => "invalidCursor",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("invalid filter: {0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("invalid path: {0}")]
    InvalidPath(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("no target: {0}")]
    NoTarget(String),
    #[error("attribute '{0}' is read-only")]
    Mutability(String),
    #[error("{0}")]
    Uniqueness(String),
    /// The filter selects more resources than the server will examine (RFC 7644 `tooMany`).
    #[error("{0}")]
    TooMany(String),
    #[error("{0}")]
    InvalidCursor(String),
}

impl DomainError {
    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::InvalidValue(detail.into())
    }

    pub fn scim_type(&self) -> ScimType {
        match self {
            Self::InvalidFilter(_) => ScimType::InvalidFilter,
            Self::InvalidSyntax(_) => ScimType::InvalidSyntax,
            Self::InvalidPath(_) => ScimType::InvalidPath,
            Self::InvalidValue(_) => ScimType::InvalidValue,
            Self::NoTarget(_) => ScimType::NoTarget,
            Self::Mutability(_) => ScimType::Mutability,
            Self::Uniqueness(_) => ScimType::Uniqueness,
            Self::TooMany(_) => ScimType::TooMany,
            Self::InvalidCursor(_) => ScimType::InvalidCursor,
        }
    }
}
