//! The use cases of SCIM user provisioning. Each takes an authenticated [`Tenant`] and parsed
//! domain values, runs argon2 and the database on the blocking pool, and returns domain values.

use serde_json::Value;
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{Password, Tenant, User, UserDraft, UserId};
use webwork_scim_persistence::StoreError;
use webwork_scim_persistence::users::{self, ListQuery, UserPage};
use webwork_scim_tenancy::hashing;

use crate::blocking::{run_argon2, run_blocking};
use crate::scim::list::ListParams;
use crate::{ApiError, AppState};

/// How often a PATCH is retried when the user changed between its read and its write.
const PATCH_ATTEMPTS: usize = 3;

fn taken(user_name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("userName '{user_name}' is already taken in this workspace")
}

/// The argon2id hash of `password`, computed off the async workers and before any transaction.
async fn hash_password(
    state: &AppState,
    password: Option<Password>,
) -> Result<Option<String>, ApiError> {
    let Some(password) = password else {
        return Ok(None);
    };
    let hash = run_argon2(&state.argon2_permits, move || {
        hashing::hash_secret(password.expose().as_bytes())
    })
    .await?
    .map_err(ApiError::internal)?;
    Ok(Some(hash))
}

pub async fn list_users(
    state: &AppState,
    tenant: &Tenant,
    params: ListParams,
) -> Result<UserPage, ApiError> {
    let store = state.store.clone();
    let workspace = tenant.workspace_id;
    run_blocking(move || {
        store.read(workspace, |tx| {
            users::list(
                tx,
                ListQuery {
                    filter: params.filter.as_ref(),
                    offset: params.offset(),
                    limit: params.count,
                },
            )
        })
    })
    .await?
    .map_err(ApiError::from)
}

pub async fn get_user(state: &AppState, tenant: &Tenant, id: UserId) -> Result<User, ApiError> {
    let store = state.store.clone();
    let workspace = tenant.workspace_id;
    run_blocking(move || store.read(workspace, |tx| users::find(tx, id)))
        .await??
        .ok_or_else(|| ApiError::user_not_found(&id.to_string()))
}

pub async fn create_user(
    state: &AppState,
    tenant: &Tenant,
    draft: UserDraft,
) -> Result<User, ApiError> {
    let hash = hash_password(state, draft.password.clone()).await?;
    let store = state.store.clone();
    let workspace = tenant.workspace_id;
    let name = draft.user_name.as_str().to_owned();
    run_blocking(move || store.write(workspace, |tx| users::insert(tx, &draft, hash.as_deref())))
        .await?
        .map_err(|err| ApiError::from_store(err, taken(&name)))
}

/// PUT: replaces every attribute the body carries; a body without `password` keeps the stored
/// one, because IdPs PUT back what GET returned.
pub async fn replace_user(
    state: &AppState,
    tenant: &Tenant,
    id: UserId,
    draft: UserDraft,
) -> Result<User, ApiError> {
    let hash = hash_password(state, draft.password.clone()).await?;
    let store = state.store.clone();
    let workspace = tenant.workspace_id;
    let name = draft.user_name.as_str().to_owned();
    run_blocking(move || {
        store.write(workspace, |tx| {
            users::replace(tx, id, &draft, hash.as_deref(), None)
        })
    })
    .await?
    .map_err(|err| ApiError::from_store(err, taken(&name)))?
    .ok_or_else(|| ApiError::user_not_found(&id.to_string()))
}

/// PATCH: reads the user, applies the operations in memory, validates the result like a PUT
/// body, hashes a new password outside any transaction, then writes if the user has not changed
/// meanwhile (retrying otherwise). A PATCH that changes nothing writes nothing.
pub async fn patch_user(
    state: &AppState,
    tenant: &Tenant,
    id: UserId,
    patch: PatchRequest,
) -> Result<User, ApiError> {
    for _ in 0..PATCH_ATTEMPTS {
        let current = get_user(state, tenant, id).await?;
        let mut document = current.document.clone();
        patch.apply(&mut document)?;
        let draft = UserDraft::from_scim(&Value::Object(document))?;
        if draft.password.is_none() && draft.document == current.document {
            return Ok(current);
        }
        let hash = hash_password(state, draft.password.clone()).await?;
        let store = state.store.clone();
        let workspace = tenant.workspace_id;
        let name = draft.user_name.as_str().to_owned();
        let written = run_blocking(move || {
            store.write(workspace, |tx| {
                users::replace(tx, id, &draft, hash.as_deref(), Some(current.version))
            })
        })
        .await?;
        match written {
            Ok(Some(user)) => return Ok(user),
            Ok(None) => return Err(ApiError::user_not_found(&id.to_string())),
            Err(StoreError::Concurrent) => continue,
            Err(err) => return Err(ApiError::from_store(err, taken(&name))),
        }
    }
    Err(StoreError::Concurrent.into())
}

pub async fn delete_user(state: &AppState, tenant: &Tenant, id: UserId) -> Result<(), ApiError> {
    let store = state.store.clone();
    let workspace = tenant.workspace_id;
    let deleted =
        run_blocking(move || store.write(workspace, |tx| users::delete(tx, id))).await??;
    if deleted {
        Ok(())
    } else {
        Err(ApiError::user_not_found(&id.to_string()))
    }
}
