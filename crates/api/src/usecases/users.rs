//! SCIM users: list, read, create, replace, patch and delete, for an identity provider's token.

use std::sync::Arc;

use serde_json::Value;
use webwork_scim_domain::patch::PatchRequest;
use webwork_scim_domain::{
    AuditAction, AuditEvent, DocumentText, DomainError, ListedUser, Password, Refusal, User,
    UserDraft, UserId,
};
use webwork_scim_persistence::users::StoredDocument;
use webwork_scim_persistence::users::{self, ListQuery, UserPage};
use webwork_scim_persistence::{Access, TenantTx};

use super::user_writes::Created;
use super::{
    IfMatch, NotFound, ProvisioningError, Resource, ScimCaller, UseCases, events, user_writes,
};

/// A page of users as SCIM lists them: an optional filter and a window.
#[derive(Debug, Clone)]
pub struct UserQuery {
    pub filter: Option<webwork_scim_domain::filter::Filter>,
    pub sort: Option<webwork_scim_domain::sort::SortBy>,
    /// Only users created after, or before, the user with this id (cursor pages).
    pub after: Option<String>,
    pub before: Option<String>,
    pub offset: i64,
    pub limit: i64,
}

fn list_query(query: &UserQuery) -> ListQuery<'_> {
    ListQuery {
        filter: query.filter.as_ref(),
        sort: query.sort.as_ref(),
        after: query.after.as_deref(),
        before: query.before.as_deref(),
        offset: query.offset,
        limit: query.limit,
    }
}

fn not_found(id: UserId) -> NotFound {
    NotFound::new(Resource::User, id)
}

/// PUT and PATCH in their transaction: the user locked for the change (the workspace row first
/// where a change that `may_activate` reactivates it under limited seats, see
/// [`user_writes::lock_for_change`]), its `If-Match` checked, `draft_of` the draft it becomes,
/// written. A draft without `active` (a PUT without it, a PATCH removing it) keeps the stored
/// state: no reactivation by omission. `hash` is the new password's, written where the draft
/// sets one.
fn change_user(
    tx: &mut TenantTx<'_>,
    caller: &ScimCaller,
    id: UserId,
    if_match: Option<&IfMatch>,
    may_activate: bool,
    hash: Option<&str>,
    draft_of: impl FnOnce(&User) -> Result<UserDraft, ProvisioningError>,
) -> Result<User, ProvisioningError> {
    let (current, locked) =
        user_writes::lock_for_change(tx, &caller.tenant, id, |user| may_activate && !user.active)?;
    IfMatch::check(if_match, &current.etag())?;
    let mut draft = draft_of(&current)?;
    draft.keep_active(current.active);
    let tenant = &caller.tenant;
    let workspace = (tenant.workspace_id, &tenant.workspace_key);
    let hash = draft.password.as_ref().and(hash);
    user_writes::replace(
        tx,
        workspace,
        &caller.caller(),
        current,
        &draft,
        hash,
        locked.as_ref(),
    )
}

impl UseCases {
    /// The argon2id hash of a new password, made on the argon2 workers in the caller's
    /// workspace's turn, before any transaction.
    async fn hash_password(
        &self,
        caller: &ScimCaller,
        password: Option<&Password>,
    ) -> Result<Option<String>, ProvisioningError> {
        match password {
            Some(password) => Ok(Some(
                self.hashes
                    .hash(
                        &caller.tenant.workspace_key,
                        password.expose().as_bytes().to_vec(),
                    )
                    .await?,
            )),
            None => Ok(None),
        }
    }

    /// A refused attempt on the owner's password is audited in a transaction of its own, since
    /// the refused change wrote nothing; an audit failure is logged and the refusal still
    /// answered.
    async fn audit_refusal<R>(
        &self,
        caller: &ScimCaller,
        id: UserId,
        result: Result<R, ProvisioningError>,
    ) -> Result<R, ProvisioningError> {
        if let Err(ProvisioningError::Refused(Refusal::OwnerCredentials)) = &result {
            let attempt = AuditEvent::new(AuditAction::UserPasswordRefused, id)
                .with_attributes(vec!["password".into()]);
            let recorded = self
                .for_caller(caller, Access::Write, move |tx, caller| {
                    Ok(events::audit(tx, &caller.caller(), &[attempt])?)
                })
                .await;
            if let Err(err) = recorded {
                tracing::error!(error = %err, user = %id, "the refused owner password change was not audited");
            }
        }
        result
    }

    pub async fn list_users(
        &self,
        caller: &ScimCaller,
        query: UserQuery,
    ) -> Result<UserPage<DocumentText>, ProvisioningError> {
        let look_up = list_query(&query).user_name_look_up()?.map(str::to_owned);
        if let Some(name) = look_up {
            return self
                .reading_once(caller, move |read| Ok(users::look_up_once(read, &name)?))
                .await;
        }
        self.for_caller(caller, Access::Read, move |tx, _| {
            Ok(users::list_as_text(tx, list_query(&query))?)
        })
        .await
    }

    pub async fn get_user(
        &self,
        caller: &ScimCaller,
        id: UserId,
    ) -> Result<User, ProvisioningError> {
        self.read_user(caller, id).await
    }

    /// [`Self::get_user`] with the document as stored, for a GET that renders it whole.
    pub async fn get_user_as_text(
        &self,
        caller: &ScimCaller,
        id: UserId,
    ) -> Result<ListedUser, ProvisioningError> {
        self.read_user(caller, id).await
    }

    /// Live user `id`, its document as `D`; not found for an unknown, deleted or another
    /// workspace's id.
    async fn read_user<D: StoredDocument + Send + 'static>(
        &self,
        caller: &ScimCaller,
        id: UserId,
    ) -> Result<User<D>, ProvisioningError> {
        self.reading_once(caller, move |read| {
            Ok(users::find_once(read, id)?.ok_or_else(|| not_found(id))?)
        })
        .await
    }

    /// POST: creates the user, or answers with the user an earlier attempt of the same create
    /// made (same userName and externalId, equal document, same password), changing nothing, so
    /// that an identity provider's retry after a lost answer succeeds. Two attempts that race are
    /// told apart by the unique index: the loser looks again and finds the winner's user.
    pub async fn create_user(
        &self,
        caller: &ScimCaller,
        draft: UserDraft,
    ) -> Result<User, ProvisioningError> {
        let hash = self.hash_password(caller, draft.password.as_ref()).await?;
        let draft = Arc::new(draft);
        let mut raced = false;
        let created = loop {
            let (draft, hash) = (Arc::clone(&draft), hash.clone());
            let max_users = self.max_users_per_workspace;
            let attempt = self
                .for_caller(caller, Access::Write, move |tx, caller| {
                    if let Some(retry) = user_writes::earlier_attempt(tx, &draft)? {
                        return Ok(retry);
                    }
                    let tenant = &caller.tenant;
                    let workspace = (tenant.workspace_id, &tenant.workspace_key);
                    let caller = caller.caller();
                    let new = user_writes::insert(
                        tx,
                        workspace,
                        &caller,
                        &draft,
                        hash.as_deref(),
                        max_users,
                    )?;
                    Ok(Created::New(new))
                })
                .await;
            match attempt {
                Err(ProvisioningError::Invalid(DomainError::Uniqueness(_))) if !raced => {
                    raced = true;
                }
                other => break other?,
            }
        };
        match created {
            Created::New(user) => Ok(user),
            Created::Retry {
                user,
                password_hash,
            } => {
                let same_password = match (&draft.password, password_hash) {
                    (None, _) => true,
                    (Some(_), None) => false,
                    (Some(password), Some(phc)) => {
                        let secret = password.expose().as_bytes().to_vec();
                        let lane = &caller.tenant.workspace_key;
                        self.hashes.verify(lane, secret, phc).await
                    }
                };
                if !same_password {
                    return Err(user_writes::name_taken(&draft));
                }
                tracing::info!(user_id = %user.id, "a create was retried; the user it made is returned");
                Ok(user)
            }
        }
    }

    /// PUT: replaces every attribute the body carries; a body without `password` keeps the
    /// stored one, because IdPs PUT back what GET returned, and one without `active` keeps the
    /// stored state.
    pub async fn replace_user(
        &self,
        caller: &ScimCaller,
        id: UserId,
        draft: UserDraft,
        if_match: Option<IfMatch>,
    ) -> Result<User, ProvisioningError> {
        let hash = self.hash_password(caller, draft.password.as_ref()).await?;
        // A PUT without `active` keeps the stored state: only one that says `true` may take a
        // seat.
        let may_activate = draft.active_given && draft.active;
        self.change(caller, id, if_match, may_activate, hash, |_| Ok(draft))
            .await
    }

    /// PATCH: applies the operations to the user as it is locked in the transaction, so that
    /// concurrent PATCHes of one user run one after another and each sees the one before it.
    /// The result is validated like a PUT body; a new password is hashed before the transaction.
    pub async fn patch_user(
        &self,
        caller: &ScimCaller,
        id: UserId,
        patch: PatchRequest,
        if_match: Option<IfMatch>,
    ) -> Result<User, ProvisioningError> {
        let password = patch.password()?;
        let hash = self.hash_password(caller, password.as_ref()).await?;
        // Whether the operations make the user active is known only once they are applied:
        // any that names `active` may take a seat.
        let may_activate = patch.may_set_active();
        self.change(caller, id, if_match, may_activate, hash, move |current| {
            let mut document = current.document.clone();
            patch.apply(&mut document)?;
            let draft = UserDraft::from_scim(&Value::Object(document))?;
            debug_assert_eq!(draft.password, password, "the scan and the engine agree");
            Ok(draft)
        })
        .await
    }

    /// A PUT's or PATCH's transaction ([`change_user`]), then the audit of a refusal.
    async fn change(
        &self,
        caller: &ScimCaller,
        id: UserId,
        if_match: Option<IfMatch>,
        may_activate: bool,
        hash: Option<String>,
        draft_of: impl FnOnce(&User) -> Result<UserDraft, ProvisioningError> + Send + 'static,
    ) -> Result<User, ProvisioningError> {
        let result = self
            .for_caller(caller, Access::Write, move |tx, caller| {
                let (if_match, hash) = (if_match.as_ref(), hash.as_deref());
                change_user(tx, caller, id, if_match, may_activate, hash, draft_of)
            })
            .await;
        self.audit_refusal(caller, id, result).await
    }

    pub async fn delete_user(
        &self,
        caller: &ScimCaller,
        id: UserId,
        if_match: Option<IfMatch>,
    ) -> Result<(), ProvisioningError> {
        self.for_caller(caller, Access::Write, move |tx, caller| {
            // The workspace row before the user, as a create takes them: the deletion changes the
            // workspace's count of users (a trigger), and two orders could deadlock.
            user_writes::lock_workspace::<ProvisioningError>(tx)?;
            let current = users::lock(tx, id)?.ok_or_else(|| not_found(id))?;
            IfMatch::check(if_match.as_ref(), &current.etag())?;
            let tenant = &caller.tenant;
            let workspace = (tenant.workspace_id, &tenant.workspace_key);
            user_writes::delete(tx, workspace, &caller.caller(), current)
        })
        .await
    }
}
