//! SCIM wire format of our resources: `schemas`, `id`, attributes and `meta`, and the
//! ListResponse envelope.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde::Serialize;
use serde_json::{Map, Value, json};
use webwork_scim_domain::{Group, User, schema};

use super::user_resource::{ListedResource, UserResource, timestamp};
use crate::ApiError;
use crate::error::SCIM_CONTENT_TYPE;

/// The weak entity tag `W/"<tag>"`.
pub fn weak_etag(tag: impl std::fmt::Display) -> String {
    format!("W/\"{tag}\"")
}

/// A User resource as a JSON value (for a projection to shape, or an admin view to embed);
/// `base` is the workspace's SCIM Base URL. Responses write [`UserResource`] straight into
/// their body instead.
pub fn user(user: User, base: &str) -> Value {
    let tag = user.etag();
    user_value(&user, base, &tag)
}

/// [`user`], whose entity tag (`User::etag`) the caller has already computed.
pub fn user_value(user: &User, base: &str, tag: &str) -> Value {
    // Only a serialiser's own failure can fail this; a map's entries always serialise.
    serde_json::to_value(UserResource::new(user, base, tag)).unwrap_or(Value::Null)
}

/// A Group resource; `base` is the workspace's SCIM Base URL. `members` appears only when they
/// were loaded.
pub fn group(group: &Group, base: &str) -> Value {
    let mut resource = Map::with_capacity(6);
    resource.insert("schemas".into(), json!([schema::CORE_GROUP]));
    resource.insert("id".into(), Value::String(group.id.to_string()));
    resource.insert(
        "displayName".into(),
        Value::String(group.display_name.clone()),
    );
    if let Some(external_id) = &group.external_id {
        resource.insert("externalId".into(), Value::String(external_id.clone()));
    }
    if let Some(members) = &group.members {
        let members = members
            .iter()
            .map(|member| {
                json!({
                    "value": member.user_id.to_string(),
                    "display": member.user_name,
                    "type": "User",
                    "$ref": format!("{base}/Users/{}", member.user_id),
                })
            })
            .collect();
        resource.insert("members".into(), Value::Array(members));
    }
    resource.insert(
        "meta".into(),
        json!({
            "resourceType": "Group",
            "created": timestamp(group.created_at),
            "lastModified": timestamp(group.updated_at),
            "location": format!("{base}/Groups/{}", group.id),
            "version": weak_etag(group.version),
        }),
    );
    Value::Object(resource)
}

/// A ListResponse (RFC 7644 §3.4.2) of `resources`, with `startIndex` for a page by index, or
/// the cursors of a page by cursor (RFC 9865).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ListResponse<'a, R> {
    schemas: [&'static str; 1],
    total_results: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_index: Option<i64>,
    items_per_page: usize,
    #[serde(rename = "Resources")]
    resources: &'a [R],
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_cursor: Option<&'a str>,
}

/// The ListResponse of a whole collection, by index from 1.
pub fn list_response<R: Serialize>(total: i64, resources: &[R]) -> ListResponse<'_, R> {
    ListResponse {
        schemas: [schema::LIST_RESPONSE],
        total_results: total,
        start_index: Some(1),
        items_per_page: resources.len(),
        resources,
        next_cursor: None,
        previous_cursor: None,
    }
}

/// A resource of a page: a listed user written from its stored text, or a resource built as a
/// JSON value (a group, or a user a projection shaped).
#[derive(Debug)]
pub enum Resource {
    User(Box<ListedResource>),
    Value(Value),
}

impl Serialize for Resource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Resource::User(user) => user.serialize(serializer),
            Resource::Value(value) => value.serialize(serializer),
        }
    }
}

impl Resource {
    fn id(&self) -> Option<String> {
        match self {
            Resource::User(listed) => Some(listed.user.id.to_string()),
            Resource::Value(value) => value.get("id")?.as_str().map(str::to_owned),
        }
    }
}

/// One page of a listing, rendered.
#[derive(Debug, Default)]
pub struct Page {
    pub total: i64,
    pub start_index: i64,
    pub resources: Vec<Resource>,
    /// Set on a page in cursor pagination (RFC 9865): the next and previous pages' cursors.
    pub cursors: Option<(Option<String>, Option<String>)>,
}

impl Page {
    /// The `ListResponse` of this page: `startIndex` for an index page, `nextCursor` and
    /// `previousCursor` (when there is such a page) for a cursor page.
    pub fn body(&self) -> ListResponse<'_, Resource> {
        let (next_cursor, previous_cursor) = match &self.cursors {
            Some((next, previous)) => (next.as_deref(), previous.as_deref()),
            None => (None, None),
        };
        ListResponse {
            start_index: self.cursors.is_none().then_some(self.start_index),
            next_cursor,
            previous_cursor,
            ..list_response(self.total, &self.resources)
        }
    }

    /// 200 with this page's `ListResponse`.
    pub fn respond(self) -> HttpResponse {
        respond(StatusCode::OK, &self.body(), None)
    }

    /// The id of the page's first (`last` false) or last resource.
    pub fn edge_id(&self, last: bool) -> Option<String> {
        let resource = if last {
            self.resources.last()
        } else {
            self.resources.first()
        };
        resource?.id()
    }
}

/// A SCIM response with the right content type and, for a single resource, its ETag (`tag`
/// as [`weak_etag`] wraps it).
pub fn respond(status: StatusCode, body: &impl Serialize, tag: Option<&str>) -> HttpResponse {
    let mut response = HttpResponse::build(status);
    response.insert_header((header::CONTENT_TYPE, SCIM_CONTENT_TYPE));
    if let Some(tag) = tag
        && let Ok(etag) = HeaderValue::from_str(&weak_etag(tag))
    {
        response.insert_header((header::ETAG, etag));
    }
    // Written straight into the buffer that becomes the body.
    match serde_json::to_vec(body) {
        Ok(bytes) => response.body(bytes),
        // Only a stored document that is not JSON can fail this: answered as every internal
        // error is (logged, with a SCIM error body), not sent half-written.
        Err(err) => actix_web::ResponseError::error_response(&ApiError::internal(err)),
    }
}

/// 304 Not Modified for a `GET` whose `If-None-Match` names the resource's current tag.
pub fn not_modified(tag: &str) -> HttpResponse {
    let mut response = HttpResponse::NotModified();
    if let Ok(etag) = HeaderValue::from_str(&weak_etag(tag)) {
        response.insert_header((header::ETAG, etag));
    }
    response.finish()
}
