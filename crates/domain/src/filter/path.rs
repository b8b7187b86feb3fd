//! Attribute paths (`userName`, `name.givenName`, `urn:…:User:employeeNumber`) and PATCH paths
//! (`emails[type eq "work"].value`).

use std::fmt;

use super::{Filter, parser};
use crate::{DomainError, schema};

/// `[URI ":"] ATTRNAME ["." subAttr]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    /// The schema URN when the path is fully qualified, as written.
    pub urn: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl AttrPath {
    pub fn parse(text: &str) -> Result<AttrPath, DomainError> {
        let invalid = || DomainError::InvalidPath(format!("'{text}' is not an attribute path"));
        let (urn, rest) = if text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            let (urn, rest) = text.rsplit_once(':').ok_or_else(invalid)?;
            (Some(urn.to_owned()), rest)
        } else {
            (None, text)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((name, sub)) => (name, Some(sub)),
            None => (rest, None),
        };
        if !is_attr_name(name) || sub.is_some_and(|sub| !is_attr_name(sub)) {
            return Err(invalid());
        }
        Ok(AttrPath {
            urn,
            name: name.to_owned(),
            sub: sub.map(str::to_owned),
        })
    }

    /// A path to `name` with no schema and no sub-attribute.
    pub fn simple(name: &str) -> AttrPath {
        AttrPath {
            urn: None,
            name: name.to_owned(),
            sub: None,
        }
    }

    /// Whether this path names the core attribute `name` (any casing; the core URN may be
    /// written out).
    pub fn is_core(&self, name: &str) -> bool {
        self.sub.is_none()
            && self.name.eq_ignore_ascii_case(name)
            && self.urn.as_deref().is_none_or(schema::is_core_user)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(urn) = &self.urn {
            write!(f, "{urn}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// `ATTRNAME = ALPHA *(nameChar)`, plus `$ref`.
fn is_attr_name(name: &str) -> bool {
    let mut chars = name.chars();
    name == "$ref"
        || chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// The `path` of a PATCH operation (RFC 7644 §3.5.2).
#[derive(Debug, Clone, PartialEq)]
pub enum PatchPath {
    /// A whole extension schema, such as the enterprise User extension.
    Extension(&'static str),
    Attribute {
        attr: AttrPath,
        filter: Option<Filter>,
        /// The sub-attribute after a value filter: `value` in `emails[type eq "work"].value`.
        sub: Option<String>,
    },
}

impl PatchPath {
    pub fn parse(text: &str) -> Result<PatchPath, DomainError> {
        let text = text.trim();
        if text.len() > super::MAX_FILTER_LEN {
            return Err(DomainError::InvalidPath(format!(
                "a path longer than {} characters",
                super::MAX_FILTER_LEN
            )));
        }
        if let Some((urn, _)) = schema::user_extension(text) {
            return Ok(PatchPath::Extension(urn));
        }
        let Some(open) = text.find('[') else {
            return Ok(PatchPath::Attribute {
                attr: AttrPath::parse(text)?,
                filter: None,
                sub: None,
            });
        };
        let close = text
            .rfind(']')
            .filter(|&close| close > open)
            .ok_or_else(|| DomainError::InvalidPath(format!("'{text}' has an unclosed '['")))?;
        let attr = AttrPath::parse(&text[..open])?;
        if attr.sub.is_some() {
            return Err(DomainError::InvalidPath(format!(
                "'{text}': a value filter follows a multi-valued attribute, not a sub-attribute"
            )));
        }
        let filter = parser::parse_value_filter(&text[open + 1..close])
            .map_err(|err| DomainError::InvalidPath(format!("'{text}': {err}")))?;
        let sub = match &text[close + 1..] {
            "" => None,
            rest => {
                let sub = rest.strip_prefix('.').filter(|sub| is_attr_name(sub));
                Some(sub.ok_or_else(|| {
                    DomainError::InvalidPath(format!("'{text}' has junk after ']'"))
                })?)
            }
        };
        Ok(PatchPath::Attribute {
            attr,
            filter: Some(filter),
            sub: sub.map(str::to_owned),
        })
    }
}
