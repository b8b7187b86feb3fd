//! The extractor that turns `Authorization: Bearer …` on `/scim/v2/{workspace}` into a
//! [`ScimCaller`] allowed to provision, or a 401, 403, 429 or 503: one call to the
//! authentication of `tenancy`, whose order of checks is documented there.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use webwork_scim_tenancy::{Admission, AuthRefusal};

use crate::request_log::RequestId;
use crate::usecases::ScimCaller;
use crate::{ApiError, AppState, bearer};

impl FromRequest for ScimCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ScimCaller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = req
                .app_data::<web::Data<AppState>>()
                .cloned()
                .ok_or_else(|| ApiError::internal("AppState is not configured"))?;
            let key = req.match_info().get("workspace").unwrap_or_default();
            let admitted = state
                .use_cases
                .auth
                .admit(key, bearer::credential(&req))
                .await;
            state.metrics.observe_admission(&admitted);
            let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
            let (tenant, refusal) = match admitted {
                Ok(Admission { tenant, .. }) => (tenant, None),
                Err(
                    refusal @ (AuthRefusal::Forbidden { .. } | AuthRefusal::RateLimited { .. }),
                ) => match &refusal {
                    AuthRefusal::Forbidden { tenant, reason } => {
                        tracing::info!(workspace = %tenant.workspace_key, %reason, "SCIM refused");
                        (tenant.clone(), Some(refusal))
                    }
                    AuthRefusal::RateLimited { tenant, .. } => (tenant.clone(), Some(refusal)),
                    _ => return Err(refusal.into()),
                },
                Err(refusal) => return Err(refusal.into()),
            };
            let caller = ScimCaller { tenant, request_id };
            // Known from here on: failures are written to this workspace's error log.
            req.extensions_mut().insert(caller.clone());
            if let Some(refusal) = refusal {
                return Err(refusal.into());
            }
            record_use(&state, &caller);
            Ok(caller)
        })
    }
}

/// Writes the token's `last_used_at`, at most once a minute per token, in the background. Only
/// a request that is served counts as the token's use.
fn record_use(state: &AppState, caller: &ScimCaller) {
    let (workspace, token) = (caller.tenant.workspace_id, caller.tenant.token_id);
    if !state.usage.due(token) {
        return;
    }
    let use_cases = state.use_cases.clone();
    actix_web::rt::spawn(async move {
        if let Err(err) = use_cases.record_token_use(workspace, token).await {
            tracing::debug!(error = %err, "could not record a token's last use");
        }
    });
}
