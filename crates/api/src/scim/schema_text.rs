//! What `/Schemas` says of each attribute beyond its characteristics (RFC 7643 §7): a
//! description, the resource types a reference may point at, and the canonical values of the
//! `type` sub-attributes.

/// The description of attribute `name` under `parent` (`None` at the top of a resource).
pub fn description(parent: Option<&str>, name: &str) -> &'static str {
    match (parent, name) {
        (None, "id") => "Unique identifier of the resource, assigned by the service.",
        (None, "externalId") => "The identifier the identity provider gives the resource.",
        (None, "meta") => "Resource metadata: type, times, location and version.",
        (Some("meta"), "resourceType") => "The name of the resource's type.",
        (Some("meta"), "created") => "When the resource was created.",
        (Some("meta"), "lastModified") => "When the resource was last changed.",
        (Some("meta"), "location") => "The resource's URI.",
        (Some("meta"), "version") => "The resource's entity tag.",
        (None, "userName") => {
            "Unique identifier of the user in the workspace, typically the email address; unique ignoring case."
        }
        (None, "name") => "The components of the user's name.",
        (Some("name"), "formatted") => "The full name, formatted for display.",
        (Some("name"), "familyName") => "The family name.",
        (Some("name"), "givenName") => "The given name.",
        (Some("name"), "middleName") => "The middle name(s).",
        (Some("name"), "honorificPrefix") => "The honorific prefix, as in 'Ms.'.",
        (Some("name"), "honorificSuffix") => "The honorific suffix, as in 'III'.",
        (None, "displayName") => "The name shown for the resource.",
        (None, "nickName") => "The casual name of the user.",
        (None, "profileUrl") => "A URL of the user's online profile.",
        (None, "title") => "The user's title, as in 'Vice President'.",
        (None, "userType") => "The relation of the user to the organisation, as in 'Employee'.",
        (None, "preferredLanguage") => "The user's preferred written or spoken language.",
        (None, "locale") => "The user's default location, for localisation.",
        (None, "timezone") => "The user's time zone, in the IANA database's form.",
        (None, "active") => {
            "Whether the user may sign in to WebWork; a deactivated user keeps all data."
        }
        (None, "password") => "The user's password; written only, never returned.",
        (None, "emails") => "Email addresses of the user.",
        (None, "phoneNumbers") => "Phone numbers of the user.",
        (None, "ims") => "Instant messaging addresses of the user.",
        (None, "photos") => "URLs of photos of the user.",
        (None, "addresses") => "Physical mailing addresses of the user.",
        (None, "groups") => "The groups the user belongs to; changed through the groups.",
        (None, "entitlements") => "Entitlements of the user.",
        (None, "roles") => "Roles of the user.",
        (None, "x509Certificates") => "X.509 certificates of the user.",
        (None, "members") => "The users in the group.",
        (None, "employeeNumber") => "The number the organisation gives the user.",
        (None, "costCenter") => "The user's cost center.",
        (None, "organization") => "The user's organisation.",
        (None, "division") => "The user's division.",
        (None, "department") => "The user's department.",
        (None, "manager") => "The user's manager.",
        (Some("manager"), "value") => "The id of the manager's user.",
        (Some("manager"), "$ref") => "The URI of the manager's user.",
        (Some("manager"), "displayName") => "The manager's display name.",
        (Some("addresses"), "formatted") => "The full address, formatted for display.",
        (Some("addresses"), "streetAddress") => "The street address.",
        (Some("addresses"), "locality") => "The city or locality.",
        (Some("addresses"), "region") => "The state or region.",
        (Some("addresses"), "postalCode") => "The postal code.",
        (Some("addresses"), "country") => "The country, as an ISO 3166-1 alpha-2 code.",
        (Some(_), "value") => "The value.",
        (Some(_), "display") => "A name for display.",
        (Some(_), "type") => "A label of the value's function.",
        (Some(_), "primary") => "Whether this is the primary value; at most one is.",
        (Some(_), "$ref") => "The URI of the resource the value names.",
        _ => "",
    }
}

/// The resource types a reference attribute may point at.
pub fn reference_types(parent: Option<&str>, name: &str) -> &'static [&'static str] {
    match (parent, name) {
        (Some("groups"), "$ref") => &["Group"],
        (Some("members" | "manager"), "$ref") => &["User"],
        (Some("meta"), "location") => &["uri"],
        _ => &["external"],
    }
}

/// The canonical values of attribute `name` under `parent`, where the schema names some.
pub fn canonical_values(parent: Option<&str>, name: &str) -> &'static [&'static str] {
    match (parent, name) {
        (Some("emails" | "addresses"), "type") => &["work", "home", "other"],
        (Some("phoneNumbers"), "type") => &["work", "home", "mobile", "fax", "pager", "other"],
        (Some("ims"), "type") => &["aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"],
        (Some("photos"), "type") => &["photo", "thumbnail"],
        (Some("groups"), "type") => &["direct"],
        (Some("members"), "type") => &["User"],
        _ => &[],
    }
}
