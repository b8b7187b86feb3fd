//! The SCIM schema catalogue (RFC 7643): which attributes a User has, their types, whether they
//! are multi-valued, who may write them, when they are returned, and how they compare.
//!
//! Attribute names are case-insensitive on the wire; [`AttributeDef::find`] resolves any casing to
//! the canonical definition so that the stored document always uses canonical names.

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// The schema Entra ID lists beside [`CORE_GROUP`] on group bodies; it adds nothing we store.
pub const ENTRA_GROUP: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
/// The SCIM 1.1 core URN some IdP templates still send on v2 endpoints; it means [`CORE_USER`].
pub const LEGACY_CORE: &str = "urn:scim:schemas:core:1.0";
pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uniqueness {
    None,
    Server,
    Global,
}

#[derive(Debug)]
pub struct AttributeDef {
    pub name: &'static str,
    pub kind: Kind,
    pub multi_valued: bool,
    pub required: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub uniqueness: Uniqueness,
    pub sub_attributes: &'static [AttributeDef],
    /// The most characters a string value may have ([`DEFAULT_MAX_CHARS`] unless named).
    pub max_chars: usize,
}

/// The most characters of a string attribute without a bound of its own.
pub const DEFAULT_MAX_CHARS: usize = 1024;
/// The most characters of a name, identifier or address that is compared or indexed: short
/// enough that its folded key stays far below PostgreSQL's index row limit (about 2.7 kB).
pub const NAME_MAX_CHARS: usize = 256;
/// An email address: RFC 5321 allows 254; some directories store up to 320.
pub const EMAIL_MAX_CHARS: usize = 320;
/// A URL (`profileUrl`, `photos`, a `$ref`).
pub const URL_MAX_CHARS: usize = 2048;
/// A base64 DER certificate (`x509Certificates.value`).
pub const CERTIFICATE_MAX_CHARS: usize = 8192;

impl AttributeDef {
    /// The definition named `name` (any casing) among `defs`.
    pub fn find(defs: &'static [AttributeDef], name: &str) -> Option<&'static AttributeDef> {
        defs.iter().find(|def| def.name.eq_ignore_ascii_case(name))
    }

    pub fn sub(&self, name: &str) -> Option<&'static AttributeDef> {
        Self::find(self.sub_attributes, name)
    }

    pub fn is_read_only(&self) -> bool {
        self.mutability == Mutability::ReadOnly
    }
}

const fn attr(name: &'static str, kind: Kind) -> AttributeDef {
    AttributeDef {
        name,
        kind,
        multi_valued: false,
        required: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        uniqueness: Uniqueness::None,
        sub_attributes: &[],
        max_chars: DEFAULT_MAX_CHARS,
    }
}

const fn bounded(max_chars: usize, def: AttributeDef) -> AttributeDef {
    AttributeDef { max_chars, ..def }
}

const fn string(name: &'static str) -> AttributeDef {
    attr(name, Kind::String)
}

const fn complex(name: &'static str, subs: &'static [AttributeDef]) -> AttributeDef {
    AttributeDef {
        sub_attributes: subs,
        ..attr(name, Kind::Complex)
    }
}

const fn multi(name: &'static str, subs: &'static [AttributeDef]) -> AttributeDef {
    AttributeDef {
        multi_valued: true,
        ..complex(name, subs)
    }
}

const fn read_only(def: AttributeDef) -> AttributeDef {
    AttributeDef {
        mutability: Mutability::ReadOnly,
        ..def
    }
}

const fn case_exact(def: AttributeDef) -> AttributeDef {
    AttributeDef {
        case_exact: true,
        ..def
    }
}

/// `value`, `display`, `type` and `primary`: the sub-attributes of RFC 7643's multi-valued
/// attributes such as `emails` and `phoneNumbers`.
const VALUE_DISPLAY_TYPE_PRIMARY: &[AttributeDef] = &[
    string("value"),
    string("display"),
    bounded(NAME_MAX_CHARS, string("type")),
    attr("primary", Kind::Boolean),
];

const EMAIL: &[AttributeDef] = &[
    bounded(EMAIL_MAX_CHARS, string("value")),
    string("display"),
    bounded(NAME_MAX_CHARS, string("type")),
    attr("primary", Kind::Boolean),
];

const URL_VALUE: &[AttributeDef] = &[
    bounded(URL_MAX_CHARS, attr("value", Kind::Reference)),
    string("display"),
    bounded(NAME_MAX_CHARS, string("type")),
    attr("primary", Kind::Boolean),
];

const CERTIFICATE: &[AttributeDef] = &[
    bounded(CERTIFICATE_MAX_CHARS, string("value")),
    string("display"),
    bounded(NAME_MAX_CHARS, string("type")),
    attr("primary", Kind::Boolean),
];

const REFERENCE_TRIPLE: &[AttributeDef] = &[
    read_only(string("value")),
    read_only(attr("$ref", Kind::Reference)),
    read_only(string("display")),
    read_only(string("type")),
];

const NAME: &[AttributeDef] = &[
    string("formatted"),
    bounded(NAME_MAX_CHARS, string("familyName")),
    bounded(NAME_MAX_CHARS, string("givenName")),
    bounded(NAME_MAX_CHARS, string("middleName")),
    bounded(NAME_MAX_CHARS, string("honorificPrefix")),
    bounded(NAME_MAX_CHARS, string("honorificSuffix")),
];

const ADDRESS: &[AttributeDef] = &[
    string("formatted"),
    string("streetAddress"),
    string("locality"),
    string("region"),
    string("postalCode"),
    string("country"),
    string("type"),
    attr("primary", Kind::Boolean),
];

const MANAGER: &[AttributeDef] = &[
    bounded(NAME_MAX_CHARS, string("value")),
    bounded(URL_MAX_CHARS, attr("$ref", Kind::Reference)),
    read_only(string("displayName")),
];

const META: &[AttributeDef] = &[
    read_only(case_exact(string("resourceType"))),
    read_only(attr("created", Kind::DateTime)),
    read_only(attr("lastModified", Kind::DateTime)),
    read_only(case_exact(attr("location", Kind::Reference))),
    read_only(case_exact(string("version"))),
];

/// Attributes common to every resource (RFC 7643 §3.1).
pub const COMMON: &[AttributeDef] = &[
    AttributeDef {
        returned: Returned::Always,
        uniqueness: Uniqueness::Server,
        ..read_only(case_exact(string("id")))
    },
    bounded(NAME_MAX_CHARS, case_exact(string("externalId"))),
    read_only(complex("meta", META)),
];

/// The core User schema (RFC 7643 §4.1).
pub const USER: &[AttributeDef] = &[
    AttributeDef {
        required: true,
        uniqueness: Uniqueness::Server,
        ..bounded(NAME_MAX_CHARS, string("userName"))
    },
    complex("name", NAME),
    bounded(NAME_MAX_CHARS, string("displayName")),
    bounded(NAME_MAX_CHARS, string("nickName")),
    bounded(URL_MAX_CHARS, attr("profileUrl", Kind::Reference)),
    bounded(NAME_MAX_CHARS, string("title")),
    bounded(NAME_MAX_CHARS, string("userType")),
    bounded(NAME_MAX_CHARS, string("preferredLanguage")),
    bounded(NAME_MAX_CHARS, string("locale")),
    bounded(NAME_MAX_CHARS, string("timezone")),
    attr("active", Kind::Boolean),
    AttributeDef {
        mutability: Mutability::WriteOnly,
        returned: Returned::Never,
        ..case_exact(string("password"))
    },
    multi("emails", EMAIL),
    multi("phoneNumbers", VALUE_DISPLAY_TYPE_PRIMARY),
    multi("ims", VALUE_DISPLAY_TYPE_PRIMARY),
    multi("photos", URL_VALUE),
    multi("addresses", ADDRESS),
    read_only(multi("groups", REFERENCE_TRIPLE)),
    multi("entitlements", VALUE_DISPLAY_TYPE_PRIMARY),
    multi("roles", VALUE_DISPLAY_TYPE_PRIMARY),
    multi("x509Certificates", CERTIFICATE),
];

/// A group's members (RFC 7643 §4.2): users, named by `value`.
const MEMBER: &[AttributeDef] = &[
    AttributeDef {
        mutability: Mutability::Immutable,
        ..case_exact(string("value"))
    },
    AttributeDef {
        mutability: Mutability::Immutable,
        ..attr("$ref", Kind::Reference)
    },
    read_only(string("display")),
    AttributeDef {
        mutability: Mutability::Immutable,
        ..string("type")
    },
];

/// The core Group schema (RFC 7643 §4.2). `displayName` is unique per workspace, ignoring case,
/// as Entra ID expects.
pub const GROUP: &[AttributeDef] = &[
    AttributeDef {
        required: true,
        uniqueness: Uniqueness::Server,
        ..bounded(NAME_MAX_CHARS, string("displayName"))
    },
    AttributeDef {
        returned: Returned::Default,
        ..multi("members", MEMBER)
    },
];

/// Whether `urn` may be listed in a Group body's `schemas` (OneLogin templates may send the SCIM
/// 1.1 core URN, unambiguous on `/Groups`).
pub fn is_group_schema(urn: &str) -> bool {
    [CORE_GROUP, ENTRA_GROUP, LEGACY_CORE]
        .iter()
        .any(|known| urn.eq_ignore_ascii_case(known))
}

/// The enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE: &[AttributeDef] = &[
    bounded(NAME_MAX_CHARS, string("employeeNumber")),
    bounded(NAME_MAX_CHARS, string("costCenter")),
    bounded(NAME_MAX_CHARS, string("organization")),
    bounded(NAME_MAX_CHARS, string("division")),
    bounded(NAME_MAX_CHARS, string("department")),
    complex("manager", MANAGER),
];

/// The definition of a User attribute named `name` in the core schema or the common attributes.
pub fn user_attribute(name: &str) -> Option<&'static AttributeDef> {
    AttributeDef::find(USER, name).or_else(|| AttributeDef::find(COMMON, name))
}

/// The attribute list of the extension schema `urn` (any casing), if we know it.
pub fn user_extension(urn: &str) -> Option<(&'static str, &'static [AttributeDef])> {
    urn.eq_ignore_ascii_case(ENTERPRISE_USER)
        .then_some((ENTERPRISE_USER, ENTERPRISE))
}

/// Whether `urn` names the core User schema (the SCIM 1.1 URN counts).
pub fn is_core_user(urn: &str) -> bool {
    urn.eq_ignore_ascii_case(CORE_USER) || urn.eq_ignore_ascii_case(LEGACY_CORE)
}

/// Whether `urn` names a schema extension this service does not know: an identity provider's
/// custom attributes (Okta's `urn:okta:…`, Entra ID's `urn:ietf:params:scim:schemas:extension:…`,
/// OneLogin's and JumpCloud's templates). A body may list one; its attributes are not stored.
/// The IETF's other SCIM URNs (the Group schema, the API messages) are never an extension.
pub fn is_foreign_extension(urn: &str) -> bool {
    let lower = urn.to_ascii_lowercase();
    lower.starts_with("urn:")
        && (!lower.starts_with("urn:ietf:params:scim:")
            || lower.starts_with("urn:ietf:params:scim:schemas:extension:"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_resolve_in_any_case() {
        assert_eq!(user_attribute("USERNAME").unwrap().name, "userName");
        assert_eq!(user_attribute("phonenumbers").unwrap().name, "phoneNumbers");
        assert_eq!(user_attribute("externalid").unwrap().name, "externalId");
        assert!(user_attribute("favouriteColour").is_none());
    }

    #[test]
    fn password_is_write_only_and_never_returned() {
        let password = user_attribute("password").unwrap();
        assert_eq!(password.mutability, Mutability::WriteOnly);
        assert_eq!(password.returned, Returned::Never);
    }

    #[test]
    fn id_meta_and_groups_are_read_only() {
        for name in ["id", "meta", "groups"] {
            assert!(user_attribute(name).unwrap().is_read_only(), "{name}");
        }
        assert!(!user_attribute("userName").unwrap().is_read_only());
    }

    #[test]
    fn case_exactness_follows_rfc_7643() {
        assert!(!user_attribute("userName").unwrap().case_exact);
        assert!(user_attribute("externalId").unwrap().case_exact);
        assert!(user_attribute("id").unwrap().case_exact);
    }

    #[test]
    fn extensions_and_core_urns_are_recognised() {
        assert!(user_extension(&ENTERPRISE_USER.to_uppercase()).is_some());
        assert!(user_extension("urn:example:custom").is_none());
        assert!(is_core_user(CORE_USER) && is_core_user(LEGACY_CORE));
        assert!(!is_core_user(ENTERPRISE_USER));
    }
}
