//! SCIM groups: the validated body of a create or replace ([`GroupDraft`]), what a PATCH asks to
//! change ([`GroupChange`]), and a stored group ([`Group`]).
//!
//! Members are kept apart from the group's own attributes: a PATCH becomes a list of changes that
//! the database applies row by row, so a membership change never loads or rewrites a big group.

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::filter::{AttrPath, CompValue, CompareOp, Filter, PatchPath, matcher};
use crate::patch::{Op, PatchRequest};
use crate::text::{PlainText, bounded_key};
use crate::{DomainError, GroupId, UserId, schema};

/// The longest `displayName` we store; longer ones are refused rather than truncated.
pub const MAX_DISPLAY_NAME_CHARS: usize = 256;
/// The most members one request may name. Okta sends at most 256 per PATCH; a PUT carries the
/// whole list.
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;

/// A group's `displayName`, kept as given, with its folded key, unique per workspace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupName {
    value: String,
    key: String,
}

impl GroupName {
    pub fn parse(raw: &str) -> Result<GroupName, DomainError> {
        let value =
            PlainText::parse_trimmed("displayName", raw, MAX_DISPLAY_NAME_CHARS)?.into_string();
        Ok(GroupName {
            key: bounded_key("displayName", &value)?,
            value,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A Group as a client wants it stored: the body of a POST or PUT.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupDraft {
    pub display_name: GroupName,
    pub external_id: Option<String>,
    /// The members, each once, in the order given. `None` when the body has no `members`: a PUT
    /// then keeps the stored ones (RFC 7644 §3.5.1 lets the server choose, and IdPs that rename
    /// by PUT do not always send the member list); `Some(vec![])` empties the group.
    pub members: Option<Vec<UserId>>,
}

impl GroupDraft {
    /// Validates a SCIM Group body. `id`, `meta` and unknown attributes are ignored; `schemas`
    /// may list the core Group URN and Entra ID's group URN.
    pub fn from_scim(body: &Value) -> Result<GroupDraft, DomainError> {
        let object = body
            .as_object()
            .ok_or_else(|| DomainError::InvalidSyntax("a Group must be a JSON object".into()))?;
        check_schemas(object)?;
        let display_name = match matcher::member(body, "displayName") {
            Some(Value::String(name)) => GroupName::parse(name)?,
            Some(Value::Null) | None => {
                return Err(DomainError::invalid_value("'displayName' is required"));
            }
            Some(_) => return Err(DomainError::invalid_value("'displayName' must be a string")),
        };
        let external_id = external_id(matcher::member(body, "externalId"))?;
        let members = match matcher::member(body, "members") {
            None => None,
            Some(value) => Some(member_ids(value, Strictness::Strict)?),
        };
        Ok(GroupDraft {
            display_name,
            external_id,
            members,
        })
    }
}

/// One change a PATCH asks of a group, applied in order.
#[derive(Debug, Clone, PartialEq)]
pub enum GroupChange {
    DisplayName(GroupName),
    ExternalId(Option<String>),
    AddMembers(Vec<UserId>),
    /// Members to remove; ids that are not members (or not ours) are ignored.
    RemoveMembers(Vec<UserId>),
    ReplaceMembers(Vec<UserId>),
    RemoveAllMembers,
}

impl GroupChange {
    /// The changes a PATCH request makes to a group, in the shapes Okta, Entra ID and OneLogin
    /// send: path-less `replace` of `displayName` (with an `id` to ignore), `add`/`replace` of
    /// `members`, `remove` of `members[value eq "…"]`, and `remove` of `members` with a `value`
    /// listing the members to remove (never the whole group).
    pub fn from_patch(patch: &PatchRequest) -> Result<Vec<GroupChange>, DomainError> {
        let mut changes = Vec::with_capacity(patch.operations.len());
        for operation in &patch.operations {
            let value = operation.value.as_ref();
            match &operation.path {
                None => {
                    let object = value.and_then(Value::as_object).ok_or_else(|| {
                        DomainError::invalid_value("an operation without 'path' needs an object")
                    })?;
                    for (key, value) in object {
                        let Some(attribute) = attribute_named(key) else {
                            continue;
                        };
                        changes.push(change(operation.op, attribute, Some(value))?);
                    }
                }
                Some(PatchPath::Extension(urn)) => {
                    return Err(DomainError::InvalidPath(format!(
                        "a Group has no extension '{urn}'"
                    )));
                }
                Some(PatchPath::Attribute { attr, filter, sub }) => {
                    let attribute = attribute_of(attr)?;
                    match (filter, sub) {
                        (None, None) => changes.push(change(operation.op, attribute, value)?),
                        (Some(filter), None)
                            if attribute == Attribute::Members && operation.op == Op::Remove =>
                        {
                            changes.push(GroupChange::RemoveMembers(selected_members(filter)?));
                        }
                        _ => {
                            return Err(DomainError::InvalidPath(format!(
                                "'{attr}' takes no value filter or sub-attribute here; remove \
                                 members with members[value eq \"<id>\"]"
                            )));
                        }
                    }
                }
            }
            let named: usize = changes
                .iter()
                .map(|change| match change {
                    GroupChange::AddMembers(ids)
                    | GroupChange::ReplaceMembers(ids)
                    | GroupChange::RemoveMembers(ids) => ids.len(),
                    _ => 0,
                })
                .sum();
            if named > MAX_MEMBERS_PER_REQUEST {
                return Err(too_many_members());
            }
        }
        Ok(changes)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attribute {
    DisplayName,
    ExternalId,
    Members,
}

fn attribute_named(name: &str) -> Option<Attribute> {
    if name.eq_ignore_ascii_case("displayName") {
        Some(Attribute::DisplayName)
    } else if name.eq_ignore_ascii_case("externalId") {
        Some(Attribute::ExternalId)
    } else if name.eq_ignore_ascii_case("members") {
        Some(Attribute::Members)
    } else {
        None
    }
}

fn attribute_of(path: &AttrPath) -> Result<Attribute, DomainError> {
    let core = path
        .urn
        .as_deref()
        .is_none_or(|urn| urn.eq_ignore_ascii_case(schema::CORE_GROUP));
    match attribute_named(&path.name) {
        Some(attribute) if core && path.sub.is_none() => Ok(attribute),
        _ => Err(DomainError::InvalidPath(format!(
            "'{path}' is not a writable Group attribute: use displayName, externalId or members"
        ))),
    }
}

fn change(op: Op, attribute: Attribute, value: Option<&Value>) -> Result<GroupChange, DomainError> {
    let needs_value = || {
        value.ok_or_else(|| DomainError::invalid_value("add and replace operations need a 'value'"))
    };
    Ok(match (attribute, op) {
        (Attribute::DisplayName, Op::Remove) => {
            return Err(DomainError::invalid_value(
                "'displayName' is required and cannot be removed",
            ));
        }
        (Attribute::DisplayName, Op::Add | Op::Replace) => match needs_value()? {
            Value::String(name) => GroupChange::DisplayName(GroupName::parse(name)?),
            _ => return Err(DomainError::invalid_value("'displayName' must be a string")),
        },
        (Attribute::ExternalId, Op::Remove) => GroupChange::ExternalId(None),
        (Attribute::ExternalId, Op::Add | Op::Replace) => {
            GroupChange::ExternalId(external_id(Some(needs_value()?))?)
        }
        (Attribute::Members, Op::Add) => {
            GroupChange::AddMembers(member_ids(needs_value()?, Strictness::Strict)?)
        }
        (Attribute::Members, Op::Replace) => {
            GroupChange::ReplaceMembers(member_ids(needs_value()?, Strictness::Strict)?)
        }
        // Entra ID names the members to remove in `value`; only without one does a remove empty
        // the group.
        // An empty list names no one: only a remove without any value empties the group.
        (Attribute::Members, Op::Remove) => match value {
            None | Some(Value::Null) => GroupChange::RemoveAllMembers,
            Some(value) => GroupChange::RemoveMembers(member_ids(value, Strictness::Lenient)?),
        },
    })
}

/// The members a value filter selects: `value eq "<id>"`, or several joined by `or`.
fn selected_members(filter: &Filter) -> Result<Vec<UserId>, DomainError> {
    let mut ids = Vec::new();
    collect_selected(filter, &mut ids)?;
    Ok(ids)
}

fn collect_selected(filter: &Filter, ids: &mut Vec<UserId>) -> Result<(), DomainError> {
    match filter {
        Filter::Or(left, right) => {
            collect_selected(left, ids)?;
            collect_selected(right, ids)
        }
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(id),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            // An id that is not one of ours names no member: nothing to remove.
            if let Ok(id) = id.parse::<UserId>()
                && !ids.contains(&id)
            {
                ids.push(id);
            }
            Ok(())
        }
        _ => Err(DomainError::InvalidFilter(
            "members are selected with value eq \"<user id>\", joined by or".into(),
        )),
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Adding: every member must name one of our user ids.
    Strict,
    /// Removing: a value that is not one of our ids names no member and is skipped.
    Lenient,
}

/// The user ids of a `members` value: an array of (or one) `{"value": "<id>", …}` objects.
/// `display`, `$ref` (also `null`) and `type` other than `Group` are accepted and ignored.
fn member_ids(value: &Value, strictness: Strictness) -> Result<Vec<UserId>, DomainError> {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        Value::Null => Vec::new(),
        single => vec![single],
    };
    if items.len() > MAX_MEMBERS_PER_REQUEST {
        return Err(too_many_members());
    }
    let mut ids: Vec<UserId> = Vec::with_capacity(items.len());
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    for item in items {
        let raw = match matcher::member(item, "value") {
            Some(Value::String(raw)) => raw,
            _ => {
                return Err(DomainError::invalid_value(
                    "each member must be an object with a string 'value' (a user id)",
                ));
            }
        };
        // Only `Group` is refused: identity providers write other values (`user`, `direct`,
        // `Person`) for what is still a user id, which the id itself proves or not.
        if let Some(kind) = matcher::member(item, "type").and_then(Value::as_str)
            && kind.eq_ignore_ascii_case("Group")
        {
            return Err(nested_group(raw));
        }
        match (raw.parse::<UserId>(), strictness) {
            (Ok(id), _) => {
                if seen.insert(id) {
                    ids.push(id);
                }
            }
            (Err(_), Strictness::Lenient) => {}
            (Err(_), Strictness::Strict) => return Err(unknown_member(raw)),
        }
    }
    Ok(ids)
}

/// The error for a member that is a group.
pub fn nested_group(raw: &str) -> DomainError {
    DomainError::invalid_value(format!(
        "member '{raw}' is a group: nested groups are not supported, a group holds users"
    ))
}

/// The error for a member id that names no user of this workspace (unknown, deleted or another
/// workspace's: they are not told apart).
pub fn unknown_member(raw: &str) -> DomainError {
    DomainError::invalid_value(format!("member '{raw}' is not a user of this workspace"))
}

fn too_many_members() -> DomainError {
    DomainError::invalid_value(format!(
        "one request may name at most {MAX_MEMBERS_PER_REQUEST} members"
    ))
}

fn external_id(value: Option<&Value>) -> Result<Option<String>, DomainError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(id)) if id.contains('\0') => Err(DomainError::invalid_value(
            "'externalId' must not contain NUL characters",
        )),
        Some(Value::String(id)) if id.is_empty() => Ok(None),
        Some(Value::String(id)) if id.chars().count() > schema::NAME_MAX_CHARS => {
            Err(DomainError::invalid_value(format!(
                "'externalId' must have at most {} characters",
                schema::NAME_MAX_CHARS
            )))
        }
        Some(Value::String(id)) => Ok(Some(id.clone())),
        Some(_) => Err(DomainError::invalid_value("'externalId' must be a string")),
    }
}

fn check_schemas(object: &Map<String, Value>) -> Result<(), DomainError> {
    let Some((_, schemas)) = object
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case("schemas"))
    else {
        return Ok(());
    };
    let invalid = || DomainError::invalid_value("'schemas' must be an array of URNs");
    for urn in schemas.as_array().ok_or_else(invalid)? {
        let urn = urn.as_str().ok_or_else(invalid)?;
        if !schema::is_group_schema(urn) {
            return Err(DomainError::invalid_value(format!(
                "unknown schema '{urn}': a Group takes {}",
                schema::CORE_GROUP
            )));
        }
    }
    Ok(())
}

/// A member of a stored group, with the name shown as `display`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: UserId,
    pub user_name: String,
}

/// A stored group, as read back from the database.
#[derive(Debug, Clone, PartialEq)]
pub struct Group {
    pub id: GroupId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// Increases by one with every change, membership included.
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// `None` when the caller asked not to load them (`excludedAttributes=members`).
    pub members: Option<Vec<Member>>,
}

#[cfg(test)]
mod tests;
