//! Recomputes the stored `*_key` columns when the folding of keys changes
//! ([`KEY_FOLDING_VERSION`]): run by the migration, as the role that owns the tables, over every
//! workspace in one transaction.
//!
//! Two rows of one workspace whose keys now fold alike (`ｆinance@x.io` created before
//! `finance@x.io`) cannot both keep the key: the older keeps it, the newer's key gets its id
//! appended, so a look-up by name finds the older, and the pair is reported for an operator to
//! merge or delete. Nothing else about either row changes.

use std::collections::HashMap;

use diesel::prelude::*;
use serde_json::{Map, Value};
use webwork_scim_domain::text::{KEY_FOLDING_VERSION, fold_key};
use webwork_scim_domain::user::primary_email;

use crate::schema::{groups, key_folding, users};
use crate::{DbConnection, StoreError};

/// Two rows of one workspace whose names now fold to one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Collision {
    pub table: &'static str,
    pub workspace_id: String,
    /// The row that keeps the key: the older one.
    pub kept: String,
    /// The row whose key now ends with `#` and its id.
    pub renamed: String,
    pub key: String,
}

/// What a re-keying changed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rekeyed {
    pub user_names: usize,
    pub emails: usize,
    pub group_names: usize,
    pub collisions: Vec<Collision>,
}

/// One row's key: as stored, and as the current folding computes it.
struct Keyed {
    workspace_id: String,
    id: String,
    stored: String,
    folded: String,
}

/// Recomputes every key of an older folding, then records the current one; a database already
/// on it is left alone.
pub fn rekey(conn: &mut DbConnection) -> Result<Rekeyed, StoreError> {
    conn.transaction(|conn| {
        let stored: i32 = key_folding::table
            .select(key_folding::version)
            .first(conn)?;
        if stored >= KEY_FOLDING_VERSION {
            return Ok(Rekeyed::default());
        }
        let mut rekeyed = Rekeyed::default();
        rekey_user_names(conn, &mut rekeyed)?;
        rekeyed.emails = rekey_emails(conn)?;
        rekey_group_names(conn, &mut rekeyed)?;
        diesel::update(key_folding::table)
            .set(key_folding::version.eq(KEY_FOLDING_VERSION))
            .execute(conn)?;
        Ok(rekeyed)
    })
}

/// The key each row gets: the folded one, unless an older row of its workspace took it first.
/// Rows come oldest first. Returns the rows whose key changes, with their new key.
fn assign(
    table: &'static str,
    rows: Vec<Keyed>,
    collisions: &mut Vec<Collision>,
) -> Vec<(Keyed, String)> {
    let mut owners: HashMap<(String, String), String> = HashMap::new();
    let mut changes = Vec::new();
    for row in rows {
        let slot = (row.workspace_id.clone(), row.folded.clone());
        let key = match owners.get(&slot) {
            None => {
                owners.insert(slot, row.id.clone());
                row.folded.clone()
            }
            Some(kept) => {
                collisions.push(Collision {
                    table,
                    workspace_id: row.workspace_id.clone(),
                    kept: kept.clone(),
                    renamed: row.id.clone(),
                    key: row.folded.clone(),
                });
                format!("{}#{}", row.folded, row.id)
            }
        };
        if key != row.stored {
            changes.push((row, key));
        }
    }
    changes
}

/// A key no real one can equal (keys hold no control character), so that swapping two rows'
/// keys never meets the unique index half way.
fn parked(id: &str) -> String {
    format!("\u{1}{id}")
}

fn rekey_user_names(conn: &mut DbConnection, rekeyed: &mut Rekeyed) -> Result<(), StoreError> {
    let rows: Vec<(String, String, String, String, bool)> = users::table
        .select((
            users::workspace_id,
            users::id,
            users::user_name,
            users::user_name_key,
            users::deleted_at.is_null(),
        ))
        .order((users::created_at, users::id))
        .load(conn)?;
    let (live, tombstones): (Vec<_>, Vec<_>) = rows.into_iter().partition(|row| row.4);
    let keyed = |rows: Vec<(String, String, String, String, bool)>| -> Vec<Keyed> {
        rows.into_iter()
            .map(|(workspace_id, id, name, stored, _)| Keyed {
                workspace_id,
                id,
                stored,
                folded: fold_key(&name),
            })
            .collect()
    };
    // Only live users are unique by name; a tombstone keeps the plain folded key.
    let mut changes = assign("users", keyed(live), &mut rekeyed.collisions);
    changes.extend(keyed(tombstones).into_iter().filter_map(|row| {
        let key = row.folded.clone();
        (key != row.stored).then_some((row, key))
    }));
    let target = |row: &Keyed| {
        users::table
            .filter(users::workspace_id.eq(row.workspace_id.clone()))
            .filter(users::id.eq(row.id.clone()))
    };
    for (row, _) in &changes {
        diesel::update(target(row))
            .set(users::user_name_key.eq(parked(&row.id)))
            .execute(conn)?;
    }
    for (row, key) in &changes {
        diesel::update(target(row))
            .set(users::user_name_key.eq(key))
            .execute(conn)?;
    }
    rekeyed.user_names = changes.len();
    Ok(())
}

/// Email keys are not unique; only those beyond ASCII can fold differently, and they are
/// recomputed from the stored document's primary email.
fn rekey_emails(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let rows: Vec<(String, String, Option<String>, String)> = users::table
        .filter(users::email_key.is_not_null())
        .select((
            users::workspace_id,
            users::id,
            users::email_key,
            users::document,
        ))
        .load(conn)?;
    let mut changed = 0;
    for (workspace_id, id, stored, document) in rows {
        if stored.as_deref().is_none_or(|key| key.is_ascii()) {
            continue;
        }
        let document: Map<String, Value> = serde_json::from_str(&document)
            .map_err(|err| StoreError::Corrupt(format!("user {id}'s document: {err}")))?;
        let key = primary_email(&document).map(fold_key);
        if key != stored {
            diesel::update(
                users::table
                    .filter(users::workspace_id.eq(workspace_id))
                    .filter(users::id.eq(id)),
            )
            .set(users::email_key.eq(key))
            .execute(conn)?;
            changed += 1;
        }
    }
    Ok(changed)
}

fn rekey_group_names(conn: &mut DbConnection, rekeyed: &mut Rekeyed) -> Result<(), StoreError> {
    let rows: Vec<(String, String, String, String)> = groups::table
        .select((
            groups::workspace_id,
            groups::id,
            groups::display_name,
            groups::display_name_key,
        ))
        .order((groups::created_at, groups::id))
        .load(conn)?;
    let keyed = rows
        .into_iter()
        .map(|(workspace_id, id, name, stored)| Keyed {
            workspace_id,
            id,
            stored,
            folded: fold_key(&name),
        })
        .collect();
    let changes = assign("groups", keyed, &mut rekeyed.collisions);
    let target = |row: &Keyed| {
        groups::table
            .filter(groups::workspace_id.eq(row.workspace_id.clone()))
            .filter(groups::id.eq(row.id.clone()))
    };
    for (row, _) in &changes {
        diesel::update(target(row))
            .set(groups::display_name_key.eq(parked(&row.id)))
            .execute(conn)?;
    }
    for (row, key) in &changes {
        diesel::update(target(row))
            .set(groups::display_name_key.eq(key))
            .execute(conn)?;
    }
    rekeyed.group_names = changes.len();
    Ok(())
}
