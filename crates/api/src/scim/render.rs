//! SCIM wire format of our resources: `schemas`, `id`, attributes and `meta`, and the
//! ListResponse envelope.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use serde_json::{Map, Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::{Group, User, schema};

use crate::error::SCIM_CONTENT_TYPE;

fn timestamp(at: OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_else(|_| at.to_string())
}

/// The weak entity tag `W/"<tag>"`.
pub fn weak_etag(tag: impl std::fmt::Display) -> String {
    format!("W/\"{tag}\"")
}

/// A User resource; `base` is the workspace's SCIM Base URL. The user's document becomes the
/// resource's object as it is (no attribute is copied): `schemas` and `id` are added where the
/// document has none, `groups` (when the user has any) and `meta` always.
pub fn user(user: User, base: &str) -> Value {
    let tag = user.etag();
    tagged_user(user, base, &tag)
}

/// [`user`], whose entity tag (`User::etag`) the caller has already computed for its `ETag`
/// header: it sorts and hashes the user's groups.
pub fn tagged_user(user: User, base: &str, tag: &str) -> Value {
    let User {
        id,
        document: mut resource,
        groups,
        created_at,
        updated_at,
        ..
    } = user;
    let mut schemas = vec![Value::from(schema::CORE_USER)];
    if resource.contains_key(schema::ENTERPRISE_USER) {
        schemas.push(Value::from(schema::ENTERPRISE_USER));
    }
    resource.entry("schemas").or_insert(Value::Array(schemas));
    resource
        .entry("id")
        .or_insert_with(|| Value::String(id.to_string()));
    if !groups.is_empty() {
        let groups = groups
            .into_iter()
            .map(|group| {
                json!({
                    "value": group.id.to_string(),
                    "display": group.display_name,
                    "type": "direct",
                    "$ref": format!("{base}/Groups/{}", group.id),
                })
            })
            .collect();
        resource.insert("groups".into(), Value::Array(groups));
    }
    resource.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": timestamp(created_at),
            "lastModified": timestamp(updated_at),
            "location": format!("{base}/Users/{id}"),
            "version": weak_etag(tag),
        }),
    );
    Value::Object(resource)
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

/// A ListResponse (RFC 7644 §3.4.2).
pub fn list_response(total: i64, start_index: i64, resources: Vec<Value>) -> Value {
    json!({
        "schemas": [schema::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// One page of a listing, rendered.
#[derive(Debug, Default)]
pub struct Page {
    pub total: i64,
    pub start_index: i64,
    pub resources: Vec<Value>,
    /// Set on a page in cursor pagination (RFC 9865): the next and previous pages' cursors.
    pub cursors: Option<(Option<String>, Option<String>)>,
}

impl Page {
    /// The `ListResponse` of this page: `startIndex` for an index page, `nextCursor` and
    /// `previousCursor` (when there is such a page) for a cursor page.
    pub fn body(self) -> Value {
        let mut body = list_response(self.total, self.start_index, self.resources);
        if let Some((next, previous)) = self.cursors
            && let Some(object) = body.as_object_mut()
        {
            object.remove("startIndex");
            if let Some(next) = next {
                object.insert("nextCursor".into(), Value::String(next));
            }
            if let Some(previous) = previous {
                object.insert("previousCursor".into(), Value::String(previous));
            }
        }
        body
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
        resource?.get("id")?.as_str().map(str::to_owned)
    }
}

/// A SCIM response with the right content type and, for a single resource, its ETag (`tag`
/// as [`weak_etag`] wraps it).
pub fn respond(status: StatusCode, body: &Value, tag: Option<&str>) -> HttpResponse {
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
        // A `Value` has only string keys and finite numbers: this cannot happen, and says so.
        Err(err) => {
            tracing::error!(error = %err, "a response body could not be serialised");
            HttpResponse::InternalServerError().finish()
        }
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
