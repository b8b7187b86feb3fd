//! The extractor that turns `Authorization: Bearer …` on `/scim/v2/{workspace}` into a
//! [`Tenant`] allowed to provision, or a 401, 403 or 429.
//!
//! Order of checks: the failed-attempt throttle (before any argon2 work), the caller (from this
//! replica's cache, else the database), the token (revocation and expiry always; argon2 only on
//! a cache miss), the `ScimProvisioning` entitlement, single sign-on being on, the workspace's
//! request rate.

use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use time::OffsetDateTime;
use webwork_scim_domain::{Actor, Tenant, WorkspaceKey};
use webwork_scim_persistence::{StoreError, tokens, workspaces};
use webwork_scim_tenancy::{
    AuthFailure, PresentedToken, Resolved, ScimRefusal, TokenRecord, Verdict,
    effective_entitlements, provisioning_refusal,
};

use crate::bearer;
use crate::blocking::{run_argon2, run_blocking};
use crate::request_log::RequestId;
use crate::{ApiError, AppState};

/// Why SCIM is refused to a workspace with single sign-on turned off.
const SSO_OFF: &str = "Single sign-on is turned off for this WebWork workspace, so provisioning is paused. Turn it on in Settings > Single Sign-On to resume; no data was removed.";

/// An authenticated caller of one workspace whose plan includes SCIM provisioning.
#[derive(Debug, Clone)]
pub struct ScimTenant {
    pub tenant: Tenant,
    pub request_id: Option<String>,
}

impl ScimTenant {
    pub fn actor(&self) -> Actor {
        Actor::Token(self.tenant.token_id)
    }
}

impl FromRequest for ScimTenant {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ScimTenant, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("AppState is not configured"))?;
            let key = req
                .match_info()
                .get("workspace")
                .unwrap_or_default()
                .to_owned();
            let tenant = authenticate(&state, &key, bearer_token(&req))
                .await
                .inspect_err(|err| {
                    let reason = match err {
                        ApiError::Unauthorized(failure) => failure.reason(),
                        ApiError::TooManyFailures(_) => "throttled",
                        _ => return,
                    };
                    state
                        .metrics
                        .auth_failures
                        .with_label_values(&[reason])
                        .inc();
                })?;
            let caller = ScimTenant {
                tenant,
                request_id: req.extensions().get::<RequestId>().map(|id| id.0.clone()),
            };
            // Known from here on: failures are written to this workspace's error log.
            req.extensions_mut().insert(caller.clone());
            let tenant = &caller.tenant;
            // Provisioning follows the SSO page: a workspace whose admin turned single sign-on off
            // gets no more changes from its IdP until it is turned on again; nothing is deleted.
            match provisioning_refusal(tenant.plan, tenant.sso_enabled, &tenant.entitlements) {
                Some(ScimRefusal::PlanLacksProvisioning(plan)) => {
                    tracing::info!(workspace = %tenant.workspace_key, %plan, "SCIM refused by plan");
                    state.metrics.plan_refusals.inc();
                    return Err(ApiError::PlanRequired);
                }
                Some(ScimRefusal::SsoOff) => {
                    tracing::info!(workspace = %tenant.workspace_key, "SCIM refused: single sign-on is off");
                    return Err(ApiError::Forbidden(SSO_OFF.into()));
                }
                None => {}
            }
            state
                .rate_limiter
                .check(
                    tenant.workspace_id,
                    tenant.entitlements.requests_per_second,
                    tenant.entitlements.burst,
                    Instant::now(),
                )
                .map_err(|wait| {
                    state.metrics.rate_limited.inc();
                    ApiError::RateLimited(wait)
                })?;
            // Only a request that is served counts as the token's use.
            record_use(&state, tenant.workspace_id, tenant.token_id);
            Ok(caller)
        })
    }
}

fn bearer_token(req: &HttpRequest) -> Result<PresentedToken, AuthFailure> {
    PresentedToken::parse(bearer::credential(req)?).ok_or(AuthFailure::Malformed)
}

async fn authenticate(
    state: &AppState,
    key: &str,
    bearer: Result<PresentedToken, AuthFailure>,
) -> Result<Tenant, ApiError> {
    let presented = bearer.map_err(ApiError::Unauthorized)?;
    let key = WorkspaceKey::parse(key).map_err(|_| ApiError::Unauthorized(AuthFailure::Unknown))?;
    let prefix = presented.prefix().as_str().to_owned();
    state
        .failures
        .check(key.as_str(), &prefix, Instant::now())
        .map_err(ApiError::TooManyFailures)?;
    let failed = |reason: AuthFailure| {
        state
            .failures
            .record_failure(key.as_str(), &prefix, Instant::now());
        ApiError::Unauthorized(reason)
    };
    let resolved = resolve(state, &key, &prefix)
        .await?
        .ok_or_else(|| failed(AuthFailure::Unknown))?;
    let record = resolved.token;
    let verdict = state
        .verifier
        .precheck(&record, &presented, OffsetDateTime::now_utc())
        .map_err(failed)?;
    if verdict == Verdict::NeedsHash {
        state.metrics.token_cache_misses.inc();
        let verifier = state.verifier.clone();
        let checked = record.clone();
        run_argon2(&state.argon2_permits, move || {
            verifier.verify_slow(&checked, &presented)
        })
        .await?
        .map_err(failed)?;
    } else {
        state.metrics.token_cache_hits.inc();
    }
    let workspace = resolved.workspace;
    Ok(Tenant {
        sso_enabled: workspace.sso_enabled,
        entitlements: effective_entitlements(&workspace, OffsetDateTime::now_utc()),
        workspace_id: workspace.id,
        workspace_key: workspace.key,
        plan: workspace.plan,
        token_id: record.id,
    })
}

/// The workspace and token for (key, prefix): from this replica's cache while it is fresh,
/// otherwise from the database (the workspace by key, then the token inside the workspace's
/// own transaction).
async fn resolve(
    state: &AppState,
    key: &WorkspaceKey,
    prefix: &str,
) -> Result<Option<Resolved>, ApiError> {
    if let Some(resolved) = state.tenants.get(key.as_str(), prefix, Instant::now()) {
        return Ok(Some(resolved));
    }
    let store = state.store.clone();
    let (key, lookup_prefix) = (key.clone(), prefix.to_owned());
    let found = run_blocking(move || -> Result<Option<Resolved>, StoreError> {
        let workspace = {
            let mut conn = store.connection()?;
            workspaces::find_by_key(&mut conn, &key)?
        };
        let Some(workspace) = workspace else {
            return Ok(None);
        };
        let token = store.read(workspace.id, |tx| {
            tokens::find_by_prefix(tx, &lookup_prefix)
        })?;
        Ok(token.map(|token| Resolved {
            token: TokenRecord {
                id: token.id,
                workspace_id: workspace.id,
                secret_hash: token.secret_hash,
                revoked_at: token.revoked_at,
                expires_at: token.expires_at,
            },
            workspace,
        }))
    })
    .await??;
    if let Some(resolved) = &found {
        state.tenants.put(prefix, resolved.clone(), Instant::now());
    }
    Ok(found)
}

/// Writes the token's `last_used_at`, at most once a minute per token, in the background.
fn record_use(
    state: &AppState,
    workspace: webwork_scim_domain::WorkspaceId,
    token: webwork_scim_domain::TokenId,
) {
    if !state.usage.due(token, Instant::now()) {
        return;
    }
    let store = state.store.clone();
    actix_web::rt::spawn(async move {
        let written = run_blocking(move || {
            store.write(workspace, |tx| {
                tokens::touch_last_used(tx, token, OffsetDateTime::now_utc())
            })
        })
        .await;
        if let Ok(Err(err)) = written {
            tracing::debug!(error = %err, "could not record a token's last use");
        }
    });
}
