//! SCIM users: the validated body of a create or replace ([`UserDraft`]) and a stored user
//! ([`User`]).

use std::fmt;

use serde_json::{Map, Value};
use time::OffsetDateTime;

use crate::refusal::Refusal;
use crate::schema;
use crate::text::{PlainText, bounded_key, format_character};
use crate::{DomainError, GroupId, UserId};

/// The longest `userName` we store; longer ones are refused rather than truncated.
pub const MAX_USER_NAME_CHARS: usize = 256;
/// The most values one multi-valued attribute may hold (emails, phone numbers, …).
pub const MAX_VALUES: usize = 100;

/// The most bytes a stored User document may take as JSON (its attributes, without `id`,
/// `meta` and `groups`).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The longest password we hash, so that a hostile body cannot make argon2 chew megabytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A `userName`, kept in the case it was given, with its normalised key for uniqueness.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserName {
    value: String,
    key: String,
}

impl UserName {
    pub fn parse(raw: &str) -> Result<UserName, DomainError> {
        let value = PlainText::parse_trimmed("userName", raw, MAX_USER_NAME_CHARS)?.into_string();
        if let Some(invisible) = format_character(&value) {
            return Err(DomainError::invalid_value(format!(
                "'userName' must not contain the invisible character U+{:04X}",
                u32::from(invisible)
            )));
        }
        Ok(UserName {
            key: bounded_key("userName", &value)?,
            value,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The case-folded form that is unique per workspace.
    pub fn key(&self) -> &str {
        &self.key
    }
}

/// A password in clear text on its way to the hasher. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Password, DomainError> {
        if raw.is_empty() || raw.len() > MAX_PASSWORD_BYTES {
            return Err(DomainError::invalid_value(format!(
                "'password' must have 1 to {MAX_PASSWORD_BYTES} bytes"
            )));
        }
        Ok(Password(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A User as a client wants it stored: the body of a POST or PUT, or a stored user after PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct UserDraft {
    pub user_name: UserName,
    pub external_id: Option<String>,
    pub active: bool,
    pub display_name: Option<String>,
    /// Set when the body carried a password; `None` keeps the stored one.
    pub password: Option<Password>,
    /// Whether the body said `active`; without it a create makes an active user and a replace
    /// keeps the stored state (so that a PUT never reactivates by omission).
    pub active_given: bool,
    /// Every stored attribute under its canonical name, the extensions under their URN. Never
    /// holds `id`, `meta`, `schemas`, `password` or other read-only attributes.
    pub document: Map<String, Value>,
}

impl UserDraft {
    /// Validates a SCIM User body. Read-only attributes (`id`, `meta`, `groups`) are ignored, as
    /// IdPs echo what GET returned; unknown attributes are ignored; known ones must have their
    /// schema's type (booleans may arrive as the strings `"True"`/`"False"`).
    pub fn from_scim(body: &Value) -> Result<UserDraft, DomainError> {
        let object = body
            .as_object()
            .ok_or_else(|| DomainError::InvalidSyntax("a User must be a JSON object".into()))?;
        check_schemas(object)?;
        let mut document = Map::new();
        let mut password = None;
        for (key, value) in object {
            if key.eq_ignore_ascii_case("schemas") {
                continue;
            }
            if let Some((urn, defs)) = schema::user_extension(key) {
                if let Some(ext) = canonical_object(urn, defs, value)? {
                    document.insert(urn.to_owned(), Value::Object(ext));
                }
                continue;
            }
            let Some(def) = schema::user_attribute(key) else {
                continue;
            };
            if def.name == "password" {
                password = match value {
                    Value::Null => None,
                    Value::String(raw) => Some(Password::parse(raw)?),
                    _ => return Err(type_error(def.name, def)),
                };
                continue;
            }
            if def.is_read_only() {
                continue;
            }
            if let Some(value) = canonical_value("", def, value)? {
                document.insert(def.name.to_owned(), value);
            }
        }
        let user_name = match document.get("userName") {
            Some(Value::String(name)) => UserName::parse(name)?,
            _ => return Err(DomainError::invalid_value("'userName' is required")),
        };
        document.insert(
            "userName".into(),
            Value::String(user_name.as_str().to_owned()),
        );
        let (active, active_given) = match document.get("active") {
            Some(Value::Bool(active)) => (*active, true),
            _ => (true, false),
        };
        document.insert("active".into(), Value::Bool(active));
        // Every email's folded value is a key (`user_emails` on PostgreSQL, the primary's
        // `email_key`): one that outgrows an index entry is refused here, not by the database.
        let emails = document.get("emails").and_then(Value::as_array);
        for email in emails.into_iter().flatten() {
            if let Some(value) = email.get("value").and_then(Value::as_str) {
                bounded_key("emails.value", value)?;
            }
        }
        check_primaries(&document)?;
        check_document_size(&document)?;
        let text = |name: &str| {
            document
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(UserDraft {
            external_id: text("externalId"),
            display_name: text("displayName"),
            user_name,
            active,
            active_given,
            password,
            document,
        })
    }
}

/// A stored user, as read back from the database. Its document is a map of its attributes, or,
/// for a user read only to be rendered ([`ListedUser`]), the JSON text the database holds.
#[derive(Debug, Clone, PartialEq)]
pub struct User<D = Map<String, Value>> {
    pub id: UserId,
    pub user_name: String,
    pub external_id: Option<String>,
    pub active: bool,
    pub display_name: Option<String>,
    pub document: D,
    /// Increases by one with every change; rendered as the weak ETag `W/"<version>"`.
    pub version: i64,
    /// The user's roles in WebWork (`owner`, `admin`, `member`, …), set by WebWork's app.
    pub app_roles: Vec<String>,
    /// Changes whenever the user's WebWork sessions must end: deactivation, deletion, a new
    /// password.
    pub session_version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// The groups the user belongs to (RFC 7643's read-only `groups`), by id.
    pub groups: Vec<GroupRef>,
}

/// A group as a member sees it: its id and `displayName`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: GroupId,
    pub display_name: String,
}

/// A stored user's document as the JSON object text the database holds. A listing copies it
/// into its response as it is: building it into a map and writing that out again was a third
/// of the CPU a page of 100 users took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentText(String);

impl DocumentText {
    /// `text` must be a JSON object, as the store writes it; [`DocumentText::parse`] says
    /// whether it is.
    pub fn new(text: String) -> DocumentText {
        DocumentText(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn parse(&self) -> Result<Map<String, Value>, serde_json::Error> {
        serde_json::from_str(&self.0)
    }
}

/// A user read to be rendered, its document still text.
pub type ListedUser = User<DocumentText>;

impl ListedUser {
    /// This user with its document built into a map, for what needs its attributes.
    pub fn parsed(self) -> Result<User, serde_json::Error> {
        self.with_document(|text| text.parse())
    }
}

impl<D> User<D> {
    /// This user with its document turned into another form by `convert`.
    pub fn with_document<T, E>(
        self,
        convert: impl FnOnce(D) -> Result<T, E>,
    ) -> Result<User<T>, E> {
        Ok(User {
            id: self.id,
            user_name: self.user_name,
            external_id: self.external_id,
            active: self.active,
            display_name: self.display_name,
            document: convert(self.document)?,
            version: self.version,
            app_roles: self.app_roles,
            session_version: self.session_version,
            created_at: self.created_at,
            updated_at: self.updated_at,
            groups: self.groups,
        })
    }

    /// The entity tag of this user's representation (RFC 7644 §3.14), without `W/` and quotes:
    /// its version, followed, when it belongs to groups, by a digest of them. Its `groups`
    /// attribute changes when a group adds or removes it, or is renamed, without a write to the
    /// user's row; the digest makes the tag move then too.
    pub fn etag(&self) -> String {
        if self.groups.is_empty() {
            return self.version.to_string();
        }
        let mut groups: Vec<(String, &str)> = self
            .groups
            .iter()
            .map(|g| (g.id.to_string(), g.display_name.as_str()))
            .collect();
        groups.sort();
        // FNV-1a: stable across processes and releases, unlike the standard library's hasher.
        let mut digest: u64 = 0xcbf2_9ce4_8422_2325;
        for (id, name) in &groups {
            for byte in id.bytes().chain([0]).chain(name.bytes()).chain([0]) {
                digest ^= u64::from(byte);
                digest = digest.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        format!("{}-{:08x}", self.version, digest >> 32)
    }
}

impl User {
    /// The primary email (or the first one), as events and the internal API show it.
    pub fn primary_email(&self) -> Option<&str> {
        primary_email(&self.document)
    }

    /// The workspace owner may never be deactivated or deleted over SCIM.
    pub fn is_owner(&self) -> bool {
        self.app_roles.iter().any(|role| role == "owner")
    }

    /// Whether this user may become `active` (or stay it): the owner may never be deactivated.
    pub fn check_activity(&self, active: bool) -> Result<(), Refusal> {
        if self.is_owner() && self.active && !active {
            return Err(Refusal::OwnerProtected);
        }
        Ok(())
    }

    /// Whether an identity provider may set this user's password: never the owner's, whose
    /// credentials are WebWork's own (the credential check would grant the `owner` role).
    pub fn check_password_change(&self, password_set: bool) -> Result<(), Refusal> {
        if password_set && self.is_owner() {
            return Err(Refusal::OwnerCredentials);
        }
        Ok(())
    }

    /// Whether a create of `draft` is a retry of the create that made this user: the same
    /// `externalId` (one must be set: without it two people of one name are indistinguishable),
    /// the same state and an equal document. The caller found this user by `draft`'s userName
    /// key; a password the draft carries must still be checked against the stored hash.
    pub fn is_retried_by(&self, draft: &UserDraft) -> bool {
        self.external_id.is_some()
            && self.external_id == draft.external_id
            && self.active == draft.active
            && self.document == draft.document
    }

    /// Whether this user may be deleted: never the owner.
    pub fn check_deletion(&self) -> Result<(), Refusal> {
        if self.is_owner() {
            return Err(Refusal::OwnerProtected);
        }
        Ok(())
    }

    /// Whether this change takes a seat: the user becomes active.
    pub fn takes_seat(&self, active: bool) -> bool {
        active && !self.active
    }

    /// The session version after a change to `active`, with or without a new password.
    /// Deactivation and a new password end the user's WebWork sessions: WebWork's app ends every
    /// session whose version is older.
    pub fn sessions_after(&self, active: bool, password_set: bool) -> i64 {
        if (self.active && !active) || password_set {
            self.session_version + 1
        } else {
            self.session_version
        }
    }

    /// The session version after the user is deleted or erased: every session ends.
    pub fn sessions_after_removal(&self) -> i64 {
        self.session_version + 1
    }
}

impl UserDraft {
    /// For a replace that did not say `active`: the stored state `active` instead of the default.
    pub fn keep_active(&mut self, active: bool) {
        if !self.active_given {
            self.active = active;
            self.document.insert("active".into(), Value::Bool(active));
        }
    }

    /// The primary email (or the first one), as WebWork's app looks users up by it.
    pub fn primary_email(&self) -> Option<&str> {
        primary_email(&self.document)
    }
}

/// The `value` of the email marked primary in a User document, else of its first email.
pub fn primary_email(document: &Map<String, Value>) -> Option<&str> {
    let emails = document.get("emails")?.as_array()?;
    let primary = emails
        .iter()
        .find(|email| email.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| emails.first())?;
    primary.get("value")?.as_str()
}

/// Whether a multi-valued attribute's element is marked primary (`true`, or `"True"` as
/// identity providers write it).
pub fn is_primary(element: &Value) -> bool {
    element
        .as_object()
        .and_then(|e| e.iter().find(|(k, _)| k.eq_ignore_ascii_case("primary")))
        .is_some_and(|(_, v)| match v {
            Value::Bool(b) => *b,
            Value::String(s) => parse_bool_text(s) == Some(true),
            _ => false,
        })
}

/// `"true"`/`"false"` in any case, as Entra ID sends booleans.
pub fn parse_bool_text(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

mod canonical;
mod folded;

pub use folded::{folded_document, folds};

pub(crate) use canonical::check_value;
use canonical::{
    canonical_object, canonical_value, check_document_size, check_primaries, check_schemas,
    type_error,
};

#[cfg(test)]
mod tests;
