//! Member rows of groups: added, removed and read by the ids a request names, in chunks, never by
//! loading a whole group to rewrite it.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use webwork_scim_domain::group::{nested_group, unknown_member};
use webwork_scim_domain::{GroupId, GroupRef, Member, UserId};

use crate::inserts::insert_rows;
use crate::reused::{Reused, padded};
use crate::schema::{group_members, groups, users};
use crate::scope::LockMode;
use crate::{StoreError, TenantTx, clock};

/// Ids per statement: far below either backend's limit on bound parameters.
const CHUNK: usize = 500;

/// The members a request added and removed in all, an add undone by a later remove (and the
/// reverse) counting as no change.
#[derive(Debug, Default)]
pub(super) struct Net {
    added: Vec<UserId>,
    removed: Vec<UserId>,
}

impl Net {
    pub(super) fn added(&mut self, ids: Vec<UserId>) {
        for id in ids {
            if let Some(at) = self.removed.iter().position(|r| *r == id) {
                self.removed.swap_remove(at);
            } else {
                self.added.push(id);
            }
        }
    }

    pub(super) fn removed(&mut self, ids: Vec<UserId>) {
        for id in ids {
            if let Some(at) = self.added.iter().position(|a| *a == id) {
                self.added.swap_remove(at);
            } else {
                self.removed.push(id);
            }
        }
    }

    pub(super) fn into_parts(self) -> (Vec<UserId>, Vec<UserId>) {
        (self.added, self.removed)
    }
}

fn texts(ids: &[UserId]) -> Vec<String> {
    ids.iter().map(ToString::to_string).collect()
}

fn parse_user(raw: &str) -> Result<UserId, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("member id '{raw}'")))
}

fn parse_group(raw: &str) -> Result<GroupId, StoreError> {
    raw.parse()
        .map_err(|_| StoreError::Corrupt(format!("group id '{raw}'")))
}

/// Adds `ids` to group `group`; returns those that were not members yet. Every id must be a live
/// user of this workspace, else nothing is added (the transaction rolls back on the error).
pub(super) fn add(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    ids: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let group_text = group.to_string();
    let mut added = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let wanted = texts(chunk);
        // The users stay share-locked until commit, so that a concurrent deletion waits for this
        // add and then removes the new rows too.
        tx.lock_users(&wanted, LockMode::Shared)?;
        let live_query = tx.live_users().refine(|q| {
            Reused(
                q.filter(users::id.eq_any(padded(wanted.clone())))
                    .select(users::id),
            )
        });
        let live: HashSet<String> = tx.load::<String, _>(live_query)?.into_iter().collect();
        if let Some(missing) = wanted.iter().find(|id| !live.contains(*id)) {
            let group_query = tx
                .groups()
                .refine(|q| q.filter(groups::id.eq(missing.clone())).select(groups::id));
            let is_group = !tx.load::<String, _>(group_query)?.is_empty();
            return Err(StoreError::Domain(match is_group {
                true => nested_group(missing),
                false => unknown_member(missing),
            }));
        }
        let present_query = tx.members().refine(|q| {
            Reused(
                q.filter(group_members::group_id.eq(group_text.clone()))
                    .filter(group_members::user_id.eq_any(padded(wanted.clone())))
                    .select(group_members::user_id),
            )
        });
        let present: HashSet<String> = tx.load::<String, _>(present_query)?.into_iter().collect();
        let fresh: Vec<UserId> = chunk
            .iter()
            .filter(|id| !present.contains(&id.to_string()))
            .copied()
            .collect();
        let now = clock::now();
        let rows = fresh.iter().map(|id| {
            (
                group_members::group_id.eq(group_text.clone()),
                group_members::user_id.eq(id.to_string()),
                group_members::created_at.eq(now),
            )
        });
        insert_rows!(tx, group_members, rows)?;
        added.extend(fresh);
    }
    Ok(added)
}

/// Removes `ids` from group `group`; returns those that were members.
pub(super) fn remove(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    ids: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let group_text = group.to_string();
    let mut removed = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let named = texts(chunk);
        let these = |tx: &TenantTx<'_>| {
            tx.members().refine(|q| {
                q.filter(group_members::group_id.eq(group_text.clone()))
                    .filter(group_members::user_id.eq_any(named.clone()))
            })
        };
        let present_query = these(tx).refine(|q| q.select(group_members::user_id));
        let present = tx.load::<String, _>(present_query)?;
        if present.is_empty() {
            continue;
        }
        let target = these(tx);
        tx.delete(target)?;
        for id in present {
            removed.push(parse_user(&id)?);
        }
    }
    Ok(removed)
}

/// Every member id of group `group`, in a stable order.
fn all_ids(tx: &mut TenantTx<'_>, group: GroupId) -> Result<Vec<UserId>, StoreError> {
    let query = tx.members().refine(|q| {
        q.filter(group_members::group_id.eq(group.to_string()))
            .order(group_members::user_id)
            .select(group_members::user_id)
    });
    tx.load::<String, _>(query)?
        .iter()
        .map(|id| parse_user(id))
        .collect()
}

/// Empties group `group`; returns who was in it.
pub(super) fn remove_all(tx: &mut TenantTx<'_>, group: GroupId) -> Result<Vec<UserId>, StoreError> {
    let members = all_ids(tx, group)?;
    let target = tx
        .members()
        .refine(|q| q.filter(group_members::group_id.eq(group.to_string())));
    tx.delete(target)?;
    Ok(members)
}

/// Makes `ids` the members of group `group`, touching only the rows that differ; returns who
/// joined and who left.
pub(super) fn replace(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    ids: &[UserId],
) -> Result<(Vec<UserId>, Vec<UserId>), StoreError> {
    let current: HashSet<UserId> = all_ids(tx, group)?.into_iter().collect();
    let wanted: HashSet<UserId> = ids.iter().copied().collect();
    let leaving: Vec<UserId> = current.difference(&wanted).copied().collect();
    let joining: Vec<UserId> = ids
        .iter()
        .filter(|id| !current.contains(id))
        .copied()
        .collect();
    let removed = remove(tx, group, &leaving)?;
    let added = add(tx, group, &joining)?;
    Ok((added, removed))
}

/// The live members of `groups`, by group id, each list ordered by user id.
pub(super) fn of_groups(
    tx: &mut TenantTx<'_>,
    group_ids: &[String],
) -> Result<HashMap<String, Vec<Member>>, StoreError> {
    let mut by_group: HashMap<String, Vec<Member>> = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let query = tx.members_with_users().refine(|q| {
            Reused(
                q.filter(group_members::group_id.eq_any(padded(chunk.to_vec())))
                    .filter(users::deleted_at.is_null())
                    .order((group_members::group_id, group_members::user_id))
                    .select((group_members::group_id, users::id, users::user_name)),
            )
        });
        for (group, user, user_name) in tx.load::<(String, String, String), _>(query)? {
            by_group.entry(group).or_default().push(Member {
                user_id: parse_user(&user)?,
                user_name,
            });
        }
    }
    Ok(by_group)
}

/// A page of group `group`'s live members by user id, and how many there are.
pub(super) fn page(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Member>), StoreError> {
    let group = group.to_string();
    let members = |tx: &TenantTx<'_>| {
        tx.members_with_users().refine(|q| {
            q.filter(group_members::group_id.eq(group.clone()))
                .filter(users::deleted_at.is_null())
        })
    };
    let count = members(tx).refine(|q| q.count());
    let total: i64 = tx.get(count)?;
    let page = members(tx).refine(|q| {
        q.order(group_members::user_id)
            .offset(offset)
            .limit(limit)
            .select((users::id, users::user_name))
    });
    let members = tx
        .load::<(String, String), _>(page)?
        .into_iter()
        .map(|(user, user_name)| {
            Ok(Member {
                user_id: parse_user(&user)?,
                user_name,
            })
        })
        .collect::<Result<_, StoreError>>()?;
    Ok((total, members))
}

pub(super) fn remove_user_everywhere(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> Result<Vec<GroupId>, StoreError> {
    let of_user = |tx: &TenantTx<'_>| {
        tx.members()
            .refine(|q| q.filter(group_members::user_id.eq(user.to_string())))
    };
    let query = of_user(tx).refine(|q| q.select(group_members::group_id));
    let left: Vec<String> = tx.load(query)?;
    if left.is_empty() {
        return Ok(Vec::new());
    }
    // Group versions are left alone: bumping them would lock group rows after the user's row,
    // the reverse of a membership change's order, and could deadlock with one. The caller sends
    // each group left a `group.members_removed` naming the user.
    let target = of_user(tx);
    tx.delete(target)?;
    left.iter().map(|id| parse_group(id)).collect()
}

pub(super) fn groups_of_user(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> Result<Vec<(GroupId, String)>, StoreError> {
    // Ordered by the member index's columns, so that SQLite seeks the user's rows in it
    // (ordered by group id alone, it walks every group of the workspace instead).
    let query = tx.members_with_groups().refine(|q| {
        q.filter(group_members::user_id.eq(user.to_string()))
            .order((group_members::user_id, groups::id))
            .select((groups::id, groups::display_name))
    });
    tx.load::<(String, String), _>(query)?
        .into_iter()
        .map(|(id, name)| Ok((parse_group(&id)?, name)))
        .collect()
}

pub(super) fn memberships_of(
    tx: &mut TenantTx<'_>,
    users: &[UserId],
) -> Result<HashMap<UserId, Vec<GroupRef>>, StoreError> {
    let mut by_user: HashMap<UserId, Vec<GroupRef>> = HashMap::new();
    for chunk in users.chunks(CHUNK) {
        let query = tx.members_with_groups().refine(|q| {
            Reused(
                q.filter(group_members::user_id.eq_any(padded(texts(chunk))))
                    .order((group_members::user_id, groups::id))
                    .select((group_members::user_id, groups::id, groups::display_name)),
            )
        });
        for (user, group, display_name) in tx.load::<(String, String, String), _>(query)? {
            by_user
                .entry(parse_user(&user)?)
                .or_default()
                .push(GroupRef {
                    id: parse_group(&group)?,
                    display_name,
                });
        }
    }
    Ok(by_user)
}

/// How many member rows each of `group_ids` has.
pub(super) fn counts(
    tx: &mut TenantTx<'_>,
    group_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let mut counts = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let query = tx.members().refine(|q| {
            Reused(
                q.filter(group_members::group_id.eq_any(padded(chunk.to_vec())))
                    .group_by(group_members::group_id)
                    .select((group_members::group_id, diesel::dsl::count_star())),
            )
        });
        counts.extend(tx.load::<(String, i64), _>(query)?);
    }
    Ok(counts)
}
