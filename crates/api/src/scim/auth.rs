//! The extractor that turns `Authorization: Bearer …` on `/scim/v2/{workspace}` into a
//! [`Tenant`] allowed to provision, or a 401/403.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use time::OffsetDateTime;
use webwork_scim_domain::{Entitlement, Tenant, WorkspaceKey};
use webwork_scim_persistence::unscoped;
use webwork_scim_tenancy::{AuthFailure, PresentedToken, TokenRecord, Verdict, entitlements_for};

use crate::blocking::{run_argon2, run_blocking};
use crate::{ApiError, AppState};

/// An authenticated caller of one workspace whose plan includes SCIM provisioning.
#[derive(Debug, Clone)]
pub struct ScimTenant(pub Tenant);

impl FromRequest for ScimTenant {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ScimTenant, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let key = req.match_info().get("workspace").map(str::to_owned);
        let bearer = bearer_token(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not configured"))?;
            let tenant = authenticate(&state, key.as_deref(), bearer).await?;
            if !tenant.entitlements.allows(Entitlement::ScimProvisioning) {
                tracing::info!(workspace = %tenant.workspace_key, plan = %tenant.plan, "SCIM refused by plan");
                return Err(ApiError::PlanRequired);
            }
            Ok(ScimTenant(tenant))
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<PresentedToken, AuthFailure> {
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthFailure::Missing)?
        .to_str()
        .map_err(|_| AuthFailure::Malformed)?;
    let (scheme, token) = value.trim().split_once(' ').ok_or(AuthFailure::Malformed)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(AuthFailure::Malformed);
    }
    PresentedToken::parse(token.trim()).ok_or(AuthFailure::Malformed)
}

async fn authenticate(
    state: &AppState,
    key: Option<&str>,
    bearer: Result<PresentedToken, AuthFailure>,
) -> Result<Tenant, ApiError> {
    let presented = bearer.map_err(ApiError::Unauthorized)?;
    let key = key
        .and_then(|key| WorkspaceKey::parse(key).ok())
        .ok_or(ApiError::Unauthorized(AuthFailure::Unknown))?;
    let store = state.store.clone();
    let prefix = presented.prefix().as_str().to_owned();
    let lookup_key = key.clone();
    let found = run_blocking(move || {
        let mut conn = store.connection()?;
        unscoped::resolve_token(&mut conn, &lookup_key, &prefix)
    })
    .await??;
    let (workspace, stored) = found.ok_or(ApiError::Unauthorized(AuthFailure::Unknown))?;
    let record = TokenRecord {
        id: stored.id,
        workspace_id: workspace.id,
        secret_hash: stored.secret_hash,
        revoked_at: stored.revoked_at,
        expires_at: stored.expires_at,
    };
    let verdict = state
        .verifier
        .precheck(&record, &presented, OffsetDateTime::now_utc())
        .map_err(ApiError::Unauthorized)?;
    if verdict == Verdict::NeedsHash {
        let verifier = state.verifier.clone();
        let checked = record.clone();
        run_argon2(&state.argon2_permits, move || {
            verifier.verify_slow(&checked, &presented)
        })
        .await?
        .map_err(ApiError::Unauthorized)?;
    }
    Ok(Tenant {
        workspace_id: workspace.id,
        workspace_key: workspace.key,
        plan: workspace.plan,
        entitlements: entitlements_for(workspace.plan),
        token_id: record.id,
    })
}
