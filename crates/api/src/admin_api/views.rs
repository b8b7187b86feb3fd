//! JSON views of the admin API.

use std::time::Duration;

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::{Entitlements, Workspace};
use webwork_scim_persistence::audit::AuditRecord;
use webwork_scim_persistence::provisioning_errors::ErrorRecord;
use webwork_scim_persistence::tokens::TokenSummary;

use crate::usecases::sso::SsoSettings;

pub fn time(at: Option<OffsetDateTime>) -> Value {
    at.and_then(|at| at.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

pub fn parse_time(
    raw: Option<&str>,
    field: &str,
) -> Result<Option<OffsetDateTime>, webwork_scim_domain::DomainError> {
    raw.map(|text| {
        OffsetDateTime::parse(text, &Rfc3339).map_err(|_| {
            webwork_scim_domain::DomainError::invalid_value(format!(
                "'{field}' must be an RFC 3339 date-time"
            ))
        })
    })
    .transpose()
}

pub fn entitlements(e: &Entitlements) -> Value {
    json!({
        "scim_provisioning": e.scim_provisioning,
        "sso": e.sso,
        "requests_per_second": e.requests_per_second,
        "burst": e.burst,
        "max_active_tokens": e.max_active_tokens,
        "seats": e.seats,
    })
}

pub fn workspace(ws: &Workspace, scim_base_url: &str, effective: &Entitlements) -> Value {
    json!({
        "key": ws.key.as_str(),
        "id": ws.id.to_string(),
        "name": ws.name,
        "plan": ws.plan.as_str(),
        "sso_enabled": ws.sso_enabled,
        "idp_issuer": ws.idp_issuer,
        "seats": ws.seats,
        "entitlement_overrides": ws.overrides,
        "entitlement_overrides_expire_at": time(ws.overrides_expire_at),
        "entitlements": entitlements(effective),
        "scim_base_url": scim_base_url,
        "created_at": time(Some(ws.created_at)),
    })
}

pub fn token(t: &TokenSummary, warning: Duration, now: OffsetDateTime) -> Value {
    let lifetime = t.lifetime();
    let active = lifetime.is_active_at(now);
    let warning = time::Duration::try_from(warning).unwrap_or(time::Duration::MAX);
    let expiring_soon = lifetime.expires_within(now, warning);
    json!({
        "id": t.id.to_string(),
        "label": t.label,
        "prefix": t.prefix,
        "created_at": time(Some(t.created_at)),
        "last_used_at": time(t.last_used_at),
        "expires_at": time(t.expires_at),
        "revoked_at": time(t.revoked_at),
        "active": active,
        "expiring_soon": expiring_soon,
    })
}

pub fn sso(settings: &SsoSettings, scim_base_url: &str) -> Value {
    let ws = &settings.workspace;
    json!({
        "workspace": ws.key.as_str(),
        "plan": ws.plan.as_str(),
        "scim_allowed": settings.scim_refusal.is_none(),
        "scim_refusal_reason": settings.scim_refusal.map(|refusal| refusal.to_string()),
        "sso_enabled": ws.sso_enabled,
        "sso_enforced": ws.sso_enforced,
        "idp_issuer": ws.idp_issuer,
        "scim_base_url": scim_base_url,
        "seats_used": settings.seats_used,
        "seats_bought": settings.entitlements.seats,
    })
}

pub fn audit_event(e: &AuditRecord) -> Value {
    json!({
        "id": e.id,
        "at": time(Some(e.at)),
        "actor": e.actor,
        "action": e.action,
        "target_id": e.target_id,
        "attributes": e.attributes,
        "request_id": e.request_id,
    })
}

pub fn provisioning_error(e: &ErrorRecord) -> Value {
    let r = &e.request;
    json!({
        "id": e.id,
        "at": time(Some(e.at)),
        "actor": r.actor,
        "method": r.method,
        "route": r.route,
        "status": r.status,
        "scim_type": r.scim_type,
        "detail": r.detail,
        "request_id": r.request_id,
    })
}

/// A page of a log, with the cursor for the next (older) page.
pub fn log_page(items: Vec<Value>, limit: i64) -> Value {
    let next = (i64::try_from(items.len()).unwrap_or(i64::MAX) == limit)
        .then(|| {
            items
                .last()
                .and_then(|item| item["id"].as_str().map(str::to_owned))
        })
        .flatten();
    json!({"items": items, "next_before": next})
}
