//! A User resource written straight into a response: `schemas` and `id`, the user's stored
//! attributes, `groups` and `meta`. The attributes come from the user's document, either as a
//! map (a user a use case has just read or changed) or as the text the database holds (a
//! listed user, [`ListedUser`]), whose values are copied without being built into values.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{Error as _, SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::{DocumentText, GroupId, GroupRef, ListedUser, User, UserId, schema};

/// Attributes the resource writes itself; a document never holds them (`UserDraft`), and one
/// that did would not have them written twice.
const OURS: [&str; 4] = ["schemas", "id", "groups", "meta"];

/// `user` as a SCIM resource under the workspace's SCIM Base URL `base`, its entity tag `tag`
/// (`User::etag`, which the caller also sends as `ETag`).
#[derive(Debug)]
pub struct UserResource<'a, D> {
    user: &'a User<D>,
    base: &'a str,
    tag: &'a str,
}

impl<'a, D> UserResource<'a, D> {
    pub fn new(user: &'a User<D>, base: &'a str, tag: &'a str) -> Self {
        UserResource { user, base, tag }
    }

    fn write<'v, S, V>(
        &self,
        serializer: S,
        attributes: impl Iterator<Item = (&'v str, V)> + Clone,
    ) -> Result<S::Ok, S::Error>
    where
        S: Serializer,
        V: Serialize,
    {
        let user = self.user;
        let extended = attributes
            .clone()
            .any(|(name, _)| name == schema::ENTERPRISE_USER);
        let mut resource = serializer.serialize_map(None)?;
        let schemas: &[&str] = if extended {
            &[schema::CORE_USER, schema::ENTERPRISE_USER]
        } else {
            &[schema::CORE_USER]
        };
        resource.serialize_entry("schemas", schemas)?;
        resource.serialize_entry("id", &Shown(user.id))?;
        for (name, value) in attributes.filter(|(name, _)| !OURS.contains(name)) {
            resource.serialize_entry(name, &value)?;
        }
        if !user.groups.is_empty() {
            let groups = Groups {
                groups: &user.groups,
                base: self.base,
            };
            resource.serialize_entry("groups", &groups)?;
        }
        let meta = Meta {
            resource_type: "User",
            created: timestamp(user.created_at),
            last_modified: timestamp(user.updated_at),
            location: Shown(Location {
                base: self.base,
                collection: "Users",
                id: user.id,
            }),
            version: Shown(Weak(self.tag)),
        };
        resource.serialize_entry("meta", &meta)?;
        resource.end()
    }
}

impl Serialize for UserResource<'_, Map<String, Value>> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let attributes = self.user.document.iter().map(|(k, v)| (k.as_str(), v));
        self.write(serializer, attributes)
    }
}

impl Serialize for UserResource<'_, DocumentText> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let stored: Attributes<'_> =
            serde_json::from_str(self.user.document.as_str()).map_err(|err| {
                S::Error::custom(format_args!("user {} document: {err}", self.user.id))
            })?;
        let attributes = stored.0.iter().map(|(k, v)| (k.as_ref(), *v));
        self.write(serializer, attributes)
    }
}

/// A listed user with what its resource needs, owned, for a page to hold until it is written.
#[derive(Debug)]
pub struct ListedResource {
    pub user: ListedUser,
    pub base: Arc<str>,
    pub tag: String,
}

impl ListedResource {
    pub fn new(user: ListedUser, base: Arc<str>) -> ListedResource {
        let tag = user.etag();
        ListedResource { user, base, tag }
    }
}

impl Serialize for ListedResource {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        UserResource::new(&self.user, &self.base, &self.tag).serialize(serializer)
    }
}

/// A stored document's attributes in their stored order, each value as the JSON text it is.
struct Attributes<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for Attributes<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries;
        impl<'de> Visitor<'de> for Entries {
            type Value = Attributes<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some(name) = map.next_key::<Name<'de>>()? {
                    entries.push((name.0, map.next_value::<&'de RawValue>()?));
                }
                Ok(Attributes(entries))
            }
        }
        deserializer.deserialize_map(Entries)
    }
}

/// An attribute's name, borrowed from the document unless it holds an escape.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Text;
        impl<'de> Visitor<'de> for Text {
            type Value = Name<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an attribute name")
            }

            fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Borrowed(name)))
            }

            fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
                Ok(Name(Cow::Owned(name.to_owned())))
            }
        }
        deserializer.deserialize_str(Text)
    }
}

/// The user's groups (RFC 7643 §4.1.2), each with its `$ref`.
struct Groups<'a> {
    groups: &'a [GroupRef],
    base: &'a str,
}

impl Serialize for Groups<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.groups.iter().map(|group| GroupEntry {
            value: Shown(group.id),
            display: &group.display_name,
            kind: "direct",
            reference: Shown(Location {
                base: self.base,
                collection: "Groups",
                id: group.id,
            }),
        }))
    }
}

#[derive(Serialize)]
struct GroupEntry<'a> {
    value: Shown<GroupId>,
    display: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(rename = "$ref")]
    reference: Shown<Location<'a, GroupId>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    resource_type: &'static str,
    created: String,
    last_modified: String,
    location: Shown<Location<'a, UserId>>,
    version: Shown<Weak<'a>>,
}

/// A resource's URL under the workspace's SCIM Base URL.
#[derive(Debug)]
pub struct Location<'a, I> {
    pub base: &'a str,
    pub collection: &'static str,
    pub id: I,
}

impl<I: fmt::Display> fmt::Display for Location<'_, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.base, self.collection, self.id)
    }
}

/// The weak entity tag `W/"<tag>"`.
struct Weak<'a>(&'a str);

impl fmt::Display for Weak<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "W/\"{}\"", self.0)
    }
}

/// A value written as the string its `Display` gives, without a `String` in between.
struct Shown<T>(T);

impl<T: fmt::Display> Serialize for Shown<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

pub(super) fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

#[cfg(test)]
mod tests {
    use actix_web::body::MessageBody;
    use actix_web::http::StatusCode;
    use serde_json::json;
    use webwork_scim_domain::GroupId;

    use super::*;
    use crate::scim::render;

    const BASE: &str = "https://scim.example/scim/v2/acme";

    fn user(document: Value) -> User {
        let Value::Object(document) = document else {
            panic!("a document is an object");
        };
        let now = OffsetDateTime::now_utc();
        User {
            id: UserId::generate(),
            user_name: "jane@acme.example".into(),
            external_id: None,
            active: true,
            display_name: None,
            document,
            version: 3,
            app_roles: Vec::new(),
            session_version: 1,
            created_at: now,
            updated_at: now,
            groups: vec![
                GroupRef {
                    id: GroupId::generate(),
                    display_name: "Sales \"EMEA\"".into(),
                },
                GroupRef {
                    id: GroupId::generate(),
                    display_name: "Engineering".into(),
                },
            ],
        }
    }

    fn listed(user: &User) -> ListedUser {
        let stored = |document| serde_json::to_string(&document).map(DocumentText::new);
        user.clone()
            .with_document(stored)
            .expect("a map serialises")
    }

    fn written<T: Serialize>(resource: &T) -> Vec<u8> {
        serde_json::to_vec(resource).expect("the resource serialises")
    }

    #[test]
    fn a_listed_user_is_written_as_the_same_resource_as_the_user_read_into_a_map() {
        let user = user(json!({
            "userName": "jane@acme.example",
            "active": true,
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": "jane@acme.example", "primary": true}],
            "title": "Line one\nline \"two\" é",
            "with \"quotes\" and \\": 1,
            schema::ENTERPRISE_USER: {"employeeNumber": "42"},
        }));
        let tag = user.etag();
        let from_map = written(&UserResource::new(&user, BASE, &tag));
        let listed = listed(&user);
        let from_text = written(&ListedResource::new(listed, BASE.into()));
        assert_eq!(from_map, from_text);

        let resource: Value = serde_json::from_slice(&from_text).expect("JSON");
        assert_eq!(
            resource["schemas"],
            json!([schema::CORE_USER, schema::ENTERPRISE_USER])
        );
        assert_eq!(resource["id"], user.id.to_string());
        assert_eq!(resource["title"], "Line one\nline \"two\" é");
        assert_eq!(resource["with \"quotes\" and \\"], 1);
        assert_eq!(resource[schema::ENTERPRISE_USER]["employeeNumber"], "42");
        let group = &user.groups[0];
        assert_eq!(
            resource["groups"][0],
            json!({
                "value": group.id.to_string(),
                "display": "Sales \"EMEA\"",
                "type": "direct",
                "$ref": format!("{BASE}/Groups/{}", group.id),
            })
        );
        assert_eq!(resource["meta"]["resourceType"], "User");
        assert_eq!(
            resource["meta"]["location"],
            format!("{BASE}/Users/{}", user.id)
        );
        assert_eq!(resource["meta"]["version"], format!("W/\"{tag}\""));
        assert_eq!(
            resource["meta"]["created"],
            timestamp(user.created_at).as_str()
        );
        // RFC 7643's examples begin with `schemas` and `id`.
        let text = String::from_utf8(from_text).expect("UTF-8");
        let id = format!(r#""id":"{}""#, user.id);
        assert!(text.starts_with(r#"{"schemas":["#), "{text}");
        assert!(text.find(&id) < text.find(r#""active""#), "{text}");
    }

    #[test]
    fn a_core_user_without_groups_names_one_schema_and_no_groups() {
        let mut user = user(json!({"userName": "kim@acme.example", "active": false}));
        user.groups.clear();
        let listed = listed(&user);
        let resource: Value =
            serde_json::from_slice(&written(&ListedResource::new(listed, BASE.into())))
                .expect("JSON");
        assert_eq!(resource["schemas"], json!([schema::CORE_USER]));
        assert!(resource.get("groups").is_none());
        assert_eq!(resource["meta"]["version"], "W/\"3\"");
        assert_eq!(resource["active"], false);
    }

    #[test]
    fn attributes_the_resource_writes_itself_are_not_taken_from_the_document() {
        let user = user(json!({
            "userName": "lee@acme.example",
            "id": "not-the-id",
            "meta": {"resourceType": "Group"},
            "schemas": ["urn:example"],
        }));
        let listed = listed(&user);
        let text = written(&ListedResource::new(listed, BASE.into()));
        let resource: Value = serde_json::from_slice(&text).expect("JSON");
        assert_eq!(resource["id"], user.id.to_string());
        assert_eq!(resource["meta"]["resourceType"], "User");
        assert_eq!(resource["schemas"], json!([schema::CORE_USER]));
        let text = String::from_utf8(text).expect("UTF-8");
        assert_eq!(text.matches(r#""id":"#).count(), 1, "{text}");
    }

    #[actix_web::test]
    async fn a_stored_document_that_is_not_json_answers_a_scim_500_instead_of_half_a_body() {
        let user = user(json!({"userName": "pat@acme.example"}));
        let broken = User {
            document: DocumentText::new(r#"{"userName": "pat@"#.into()),
            ..listed(&user)
        };
        let page = render::Page {
            total: 1,
            start_index: 1,
            resources: vec![render::Resource::User(Box::new(ListedResource::new(
                broken,
                BASE.into(),
            )))],
            cursors: None,
        };
        let response = page.respond();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = response.into_body().try_into_bytes().expect("a whole body");
        let error: Value = serde_json::from_slice(&body).expect("a JSON error body");
        assert_eq!(error["schemas"], json!([schema::ERROR]));
        assert_eq!(error["status"], "500");
        assert!(!String::from_utf8_lossy(&body).contains("pat@"));
    }
}
