//! Loading many users at once: a few multi-row statements instead of a statement and a read
//! per user, for seeding a large workspace (an import, or a benchmark's data).

use diesel::prelude::*;
use webwork_scim_domain::{UserDraft, UserId};

use super::{document_json, email_key, folded_json};
use crate::inserts::insert_rows;
use crate::schema::users;
use crate::{StoreError, TenantTx, clock};

/// Users rendered at a time; `insert_rows!` writes them in statements of at most 64 rows.
const RENDERED_AT_ONCE: usize = 500;

/// One user's values, rendered before they move into the statement.
struct Rendered<'d> {
    draft: &'d UserDraft,
    id: String,
    document: String,
    folded: String,
    email_key: Option<String>,
}

/// Stores `drafts` as new users of the transaction's workspace, as [`super::insert`] would one by
/// one (without a password). A `userName` already live in the workspace, or twice in `drafts`,
/// is [`StoreError::Conflict`], and since the caller's transaction then rolls back, nothing is
/// written. Returns the new ids in the order of `drafts`.
pub fn insert_many(tx: &mut TenantTx<'_>, drafts: &[UserDraft]) -> Result<Vec<UserId>, StoreError> {
    let now = clock::now();
    let mut ids = Vec::with_capacity(drafts.len());
    for chunk in drafts.chunks(RENDERED_AT_ONCE) {
        let rendered = chunk
            .iter()
            .map(|draft| {
                let id = UserId::generate();
                ids.push(id);
                Ok(Rendered {
                    draft,
                    id: id.to_string(),
                    document: document_json(draft)?,
                    folded: folded_json(&draft.document)?,
                    email_key: email_key(draft),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        // Owned values: diesel keys a cached statement by the type of its rows, which must be
        // 'static.
        let rows = rendered.into_iter().map(|row| {
            (
                users::id.eq(row.id),
                users::user_name.eq(row.draft.user_name.as_str().to_owned()),
                users::user_name_key.eq(row.draft.user_name.key().to_owned()),
                users::external_id.eq(row.draft.external_id.clone()),
                users::active.eq(row.draft.active),
                users::display_name.eq(row.draft.display_name.clone()),
                users::document.eq(row.document),
                users::folded_document.eq(row.folded),
                users::folded_version.eq(1_i64),
                users::version.eq(1_i64),
                users::created_at.eq(now),
                users::updated_at.eq(now),
                users::email_key.eq(row.email_key),
            )
        });
        insert_rows!(tx, users, rows)?;
    }
    Ok(ids)
}
