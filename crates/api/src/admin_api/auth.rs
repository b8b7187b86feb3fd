//! The admin API's caller: a JWT from WebWork's main app, and what its role lets it touch.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use webwork_scim_domain::Actor;
use webwork_scim_tenancy::{AdminClaims, Role};

use super::AdminApiError;
use crate::request_log::RequestId;
use crate::usecases::{Caller, NotFound, Resource};
use crate::{ApiError, AppState};

/// A caller with a valid admin-API JWT.
#[derive(Debug, Clone)]
pub struct AdminAuth {
    pub claims: AdminClaims,
    pub request_id: Option<String>,
}

impl AdminAuth {
    pub fn caller(&self) -> Caller {
        Caller {
            actor: Actor::Subject(self.claims.subject.clone()),
            request_id: self.request_id.clone(),
        }
    }

    /// Only the platform (billing, operators) may do this.
    pub fn require_platform(&self) -> Result<(), AdminApiError> {
        match self.claims.role {
            Role::Platform => Ok(()),
            Role::Admin | Role::Service => {
                Err(ApiError::Forbidden("this needs the platform role").into())
            }
        }
    }

    /// The platform, or an admin of workspace `key`. Another workspace's admin is told the
    /// workspace does not exist, so that keys cannot be probed.
    pub fn require_workspace(&self, key: &str) -> Result<(), AdminApiError> {
        match (self.claims.role, self.claims.workspace.as_deref()) {
            (Role::Platform, _) => Ok(()),
            (Role::Admin, Some(ws)) if ws == key => Ok(()),
            (Role::Admin, _) => Err(ApiError::from(NotFound::new(Resource::Workspace, key)).into()),
            (Role::Service, _) => {
                Err(ApiError::Forbidden("this needs the admin or platform role").into())
            }
        }
    }
}

impl FromRequest for AdminAuth {
    type Error = AdminApiError;
    type Future = Pin<Box<dyn Future<Output = Result<AdminAuth, AdminApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let bearer = crate::bearer::credential(req).ok().map(str::to_owned);
        let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::internal("AppState is not configured"))?;
            let token = bearer.ok_or_else(|| ApiError::InvalidJwt("no bearer token".into()))?;
            let claims = state
                .config
                .jwt
                .verify(&token)
                .map_err(|err| ApiError::InvalidJwt(err.to_string()))?;
            Ok(AdminAuth { claims, request_id })
        })
    }
}
