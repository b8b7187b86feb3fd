//! The discovery endpoints of RFC 7644 §4: `/ServiceProviderConfig`, `/ResourceTypes` and
//! `/Schemas`, rendered from the schema catalogue so that they always describe what the service
//! really does.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Value, json};
use webwork_scim_domain::bulk::MAX_OPERATIONS;
use webwork_scim_domain::schema::{self, AttributeDef, Kind, Mutability, Returned, Uniqueness};

use super::list::{DEFAULT_COUNT, MAX_RESULTS};
use super::schema_text;
use super::{base_url, render};
use crate::usecases::{NotFound, Resource, ScimCaller};
use crate::{ApiError, AppState};

const SERVICE_PROVIDER_CONFIG: &str = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";

pub async fn service_provider_config(
    state: web::Data<AppState>,
    tenant: ScimCaller,
) -> Result<HttpResponse, ApiError> {
    let body = json!({
        "schemas": [SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://www.webwork-tracker.com/",
        "patch": {"supported": true},
        "bulk": {
            "supported": true,
            "maxOperations": MAX_OPERATIONS,
            "maxPayloadSize": state.config.max_body_bytes,
        },
        "filter": {"supported": true, "maxResults": MAX_RESULTS},
        "changePassword": {"supported": true},
        "sort": {"supported": true},
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT,
            "maxPageSize": MAX_RESULTS,
        },
        "etag": {"supported": true},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "The workspace's SCIM API Token from Settings > Single Sign-On, sent \
                            as 'Authorization: Bearer <token>'.",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{}/ServiceProviderConfig", base_url(&state, &tenant)),
        }
    });
    Ok(render::respond(StatusCode::OK, &body, None))
}

fn resource_type_document(base: &str, id: &str) -> Option<Value> {
    let (endpoint, description, schema, extensions) = match id {
        "User" => (
            "/Users",
            "A member of the WebWork workspace",
            schema::CORE_USER,
            json!([{"schema": schema::ENTERPRISE_USER, "required": false}]),
        ),
        "Group" => (
            "/Groups",
            "A group of members of the WebWork workspace",
            schema::CORE_GROUP,
            json!([]),
        ),
        _ => return None,
    };
    Some(json!({
        "schemas": [RESOURCE_TYPE],
        "id": id,
        "name": id,
        "endpoint": endpoint,
        "description": description,
        "schema": schema,
        "schemaExtensions": extensions,
        "meta": {"resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/{id}")}
    }))
}

pub async fn resource_types(
    state: web::Data<AppState>,
    tenant: ScimCaller,
) -> Result<HttpResponse, ApiError> {
    let base = base_url(&state, &tenant);
    let resources: Vec<Value> = ["User", "Group"]
        .iter()
        .filter_map(|id| resource_type_document(&base, id))
        .collect();
    let body = render::list_response(resources.len() as i64, &resources);
    Ok(render::respond(StatusCode::OK, &body, None))
}

pub async fn resource_type(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let body = resource_type_document(&base_url(&state, &tenant), &path.1)
        .ok_or_else(|| ApiError::from(NotFound::new(Resource::ResourceType, &path.1)))?;
    Ok(render::respond(StatusCode::OK, &body, None))
}

fn kind(def: &AttributeDef) -> &'static str {
    match def.kind {
        Kind::String => "string",
        Kind::Boolean => "boolean",
        Kind::Decimal => "decimal",
        Kind::Integer => "integer",
        Kind::DateTime => "dateTime",
        Kind::Reference => "reference",
        Kind::Complex => "complex",
    }
}

fn attribute(parent: Option<&str>, def: &AttributeDef) -> Value {
    let mut value = json!({
        "name": def.name,
        "description": schema_text::description(parent, def.name),
        "type": kind(def),
        "multiValued": def.multi_valued,
        "required": def.required,
        "caseExact": def.case_exact,
        "mutability": match def.mutability {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        },
        "returned": match def.returned {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        },
        "uniqueness": match def.uniqueness {
            Uniqueness::None => "none",
            Uniqueness::Server => "server",
            Uniqueness::Global => "global",
        },
    });
    if def.kind == Kind::Reference {
        value["referenceTypes"] = json!(schema_text::reference_types(parent, def.name));
    }
    let canonical = schema_text::canonical_values(parent, def.name);
    if !canonical.is_empty() {
        value["canonicalValues"] = json!(canonical);
    }
    if !def.sub_attributes.is_empty() {
        value["subAttributes"] = def
            .sub_attributes
            .iter()
            .map(|sub| attribute(Some(def.name), sub))
            .collect();
    }
    value
}

/// The schemas we serve: id, name and attributes.
const SCHEMAS: [(&str, &str, &[AttributeDef]); 3] = [
    (schema::CORE_USER, "User", schema::USER),
    (
        schema::ENTERPRISE_USER,
        "EnterpriseUser",
        schema::ENTERPRISE,
    ),
    (schema::CORE_GROUP, "Group", schema::GROUP),
];

fn schema_resource(base: &str, id: &str) -> Option<Value> {
    let (id, name, attributes) = SCHEMAS
        .iter()
        .find(|(urn, _, _)| urn.eq_ignore_ascii_case(id))?;
    Some(json!({
        "schemas": [SCHEMA],
        "id": id,
        "name": name,
        "attributes": attributes.iter().map(|def| attribute(None, def)).collect::<Vec<_>>(),
        "meta": {"resourceType": "Schema", "location": format!("{base}/Schemas/{id}")}
    }))
}

pub async fn schemas(
    state: web::Data<AppState>,
    tenant: ScimCaller,
) -> Result<HttpResponse, ApiError> {
    let base = base_url(&state, &tenant);
    let resources: Vec<Value> = SCHEMAS
        .iter()
        .filter_map(|(id, _, _)| schema_resource(&base, id))
        .collect();
    let body = render::list_response(resources.len() as i64, &resources);
    Ok(render::respond(StatusCode::OK, &body, None))
}

pub async fn schema_by_id(
    state: web::Data<AppState>,
    tenant: ScimCaller,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let body = schema_resource(&base_url(&state, &tenant), &path.1)
        .ok_or_else(|| ApiError::from(NotFound::new(Resource::Schema, &path.1)))?;
    Ok(render::respond(StatusCode::OK, &body, None))
}
