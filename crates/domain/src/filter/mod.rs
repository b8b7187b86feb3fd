//! The SCIM filter language of RFC 7644 §3.4.2.2: a parser into an AST, and a matcher that
//! evaluates the AST against a JSON resource.
//!
//! The database answers the filters it can translate (see the persistence crate); the matcher
//! serves PATCH value paths such as `emails[type eq "work"]`.

mod lexer;
pub(crate) mod matcher;
mod parser;
mod path;

pub use matcher::matches;
pub use path::{AttrPath, PatchPath};

use crate::DomainError;

/// The longest filter we parse; Okta's and Entra's are far shorter.
pub const MAX_FILTER_LEN: usize = 4096;
/// The deepest nesting of parentheses and brackets we accept, so that a hostile filter cannot
/// exhaust the stack.
pub const MAX_DEPTH: usize = 32;
/// The most comparisons one filter may hold: `and`/`or` chains build trees as deep as they are
/// long, and evaluating or dropping them recurses.
pub const MAX_TERMS: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Lt,
    Ge,
    Le,
}

impl CompareOp {
    fn parse(word: &str) -> Option<Self> {
        const OPS: [(&str, CompareOp); 9] = [
            ("eq", CompareOp::Eq),
            ("ne", CompareOp::Ne),
            ("co", CompareOp::Co),
            ("sw", CompareOp::Sw),
            ("ew", CompareOp::Ew),
            ("gt", CompareOp::Gt),
            ("lt", CompareOp::Lt),
            ("ge", CompareOp::Ge),
            ("le", CompareOp::Le),
        ];
        OPS.iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(word))
            .map(|(_, op)| *op)
    }
}

/// A literal on the right of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some element of the multi-valued `path` matches `filter`, whose
    /// attribute paths are relative to the element.
    ValuePath {
        path: AttrPath,
        filter: Box<Filter>,
    },
}

impl Filter {
    /// Parses a filter as it arrives in `?filter=` (already percent-decoded).
    pub fn parse(text: &str) -> Result<Filter, DomainError> {
        if text.len() > MAX_FILTER_LEN {
            return Err(DomainError::InvalidFilter(format!(
                "filter longer than {MAX_FILTER_LEN} characters"
            )));
        }
        parser::parse_filter(text)
    }

    /// The comparisons of a conjunction of `eq` tests (`type eq "work" and primary eq true`), used
    /// to build an element that a value-path PATCH should create when none matches.
    pub fn equalities(&self) -> Option<Vec<(&AttrPath, &CompValue)>> {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value,
            } => Some(vec![(path, value)]),
            Filter::And(left, right) => {
                let mut all = left.equalities()?;
                all.extend(right.equalities()?);
                Some(all)
            }
            _ => None,
        }
    }

    /// The name of `userName eq "…"` when the filter is exactly that test: the look-up
    /// identity providers send before every create, answered by a statement of its own.
    pub fn user_name_equals(&self) -> Option<&str> {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(name),
            } if path.is_core("userName") => Some(name),
            _ => None,
        }
    }

    /// Whether no more than one live user of a workspace can match: a `userName eq` test
    /// (userName is unique in a workspace, compared without case as SCIM's `caseExact: false`
    /// asks), alone or in a conjunction. Identity providers look users up this way before
    /// every create, so a listing can answer it without counting.
    pub fn selects_at_most_one_user(&self) -> bool {
        match self {
            Filter::Compare {
                path,
                op: CompareOp::Eq,
                value: CompValue::String(_),
            } => path.is_core("userName"),
            Filter::And(left, right) => {
                left.selects_at_most_one_user() || right.selects_at_most_one_user()
            }
            _ => false,
        }
    }
}

impl CompValue {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            CompValue::Null => serde_json::Value::Null,
            CompValue::Bool(b) => serde_json::Value::Bool(*b),
            CompValue::Number(n) => serde_json::Value::Number(n.clone()),
            CompValue::String(s) => serde_json::Value::String(s.clone()),
        }
    }
}

#[cfg(test)]
mod tests;
