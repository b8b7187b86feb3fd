//! Member rows of groups: added, removed and read by the ids a request names, in chunks, never by
//! loading a whole group to rewrite it.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use webwork_scim_domain::group::unknown_member;
use webwork_scim_domain::{GroupId, GroupRef, Member, UserId};

use crate::db::DbConnection;
use crate::schema::{group_members, groups, users};
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

/// Adds `ids` to group `group`; returns those that were not members yet. Every id must be a live
/// user of this workspace, else nothing is added (the transaction rolls back on the error).
pub(super) fn add(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    ids: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let (conn, workspace) = tx.parts();
    let (workspace, group) = (workspace.to_string(), group.to_string());
    let mut added = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let wanted = texts(chunk);
        let live_users = users::table
            .filter(users::workspace_id.eq(&workspace))
            .filter(users::id.eq_any(&wanted))
            .filter(users::deleted_at.is_null())
            // One lock order for every transaction that locks several users.
            .order(users::id)
            .select(users::id);
        // On PostgreSQL the users stay locked (shared) until commit, so that a concurrent
        // deletion waits for this add and then removes the new rows too.
        let live: HashSet<String> = match conn {
            DbConnection::Postgres(pg) => live_users.for_share().load::<String>(pg)?,
            DbConnection::Sqlite(lite) => live_users.load::<String>(lite)?,
        }
        .into_iter()
        .collect();
        if let Some(missing) = wanted.iter().find(|id| !live.contains(*id)) {
            return Err(StoreError::Domain(unknown_member(missing)));
        }
        let present: HashSet<String> = group_members::table
            .filter(group_members::workspace_id.eq(&workspace))
            .filter(group_members::group_id.eq(&group))
            .filter(group_members::user_id.eq_any(&wanted))
            .select(group_members::user_id)
            .load::<String>(conn)?
            .into_iter()
            .collect();
        let now = clock::now();
        let fresh: Vec<_> = chunk
            .iter()
            .filter(|id| !present.contains(&id.to_string()))
            .map(|id| {
                (
                    group_members::workspace_id.eq(workspace.clone()),
                    group_members::group_id.eq(group.clone()),
                    group_members::user_id.eq(id.to_string()),
                    group_members::created_at.eq(now),
                )
            })
            .collect();
        if fresh.is_empty() {
            continue;
        }
        // One statement per chunk; diesel builds multi-row inserts per backend only.
        let insert = diesel::insert_into(group_members::table).values(&fresh);
        match conn {
            DbConnection::Postgres(pg) => insert.execute(pg)?,
            DbConnection::Sqlite(lite) => insert.execute(lite)?,
        };
        added.extend(
            chunk
                .iter()
                .filter(|id| !present.contains(&id.to_string()))
                .copied(),
        );
    }
    Ok(added)
}

/// Removes `ids` from group `group`; returns those that were members.
pub(super) fn remove(
    tx: &mut TenantTx<'_>,
    group: GroupId,
    ids: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let (conn, workspace) = tx.parts();
    let (workspace, group) = (workspace.to_string(), group.to_string());
    let mut removed = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let named = texts(chunk);
        let this = || {
            group_members::table
                .filter(group_members::workspace_id.eq(workspace.clone()))
                .filter(group_members::group_id.eq(group.clone()))
                .filter(group_members::user_id.eq_any(named.clone()))
        };
        let present = this().select(group_members::user_id).load::<String>(conn)?;
        if present.is_empty() {
            continue;
        }
        diesel::delete(this()).execute(conn)?;
        for id in present {
            removed.push(parse_user(&id)?);
        }
    }
    Ok(removed)
}

/// Every member id of group `group`, in a stable order.
fn all_ids(tx: &mut TenantTx<'_>, group: GroupId) -> Result<Vec<UserId>, StoreError> {
    let (conn, workspace) = tx.parts();
    group_members::table
        .filter(group_members::workspace_id.eq(workspace.to_string()))
        .filter(group_members::group_id.eq(group.to_string()))
        .order(group_members::user_id)
        .select(group_members::user_id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_user(id))
        .collect()
}

/// Empties group `group`; returns who was in it.
pub(super) fn remove_all(tx: &mut TenantTx<'_>, group: GroupId) -> Result<Vec<UserId>, StoreError> {
    let members = all_ids(tx, group)?;
    let (conn, workspace) = tx.parts();
    diesel::delete(
        group_members::table
            .filter(group_members::workspace_id.eq(workspace.to_string()))
            .filter(group_members::group_id.eq(group.to_string())),
    )
    .execute(conn)?;
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
    let (conn, workspace) = tx.parts();
    let workspace = workspace.to_string();
    let mut by_group: HashMap<String, Vec<Member>> = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let rows = group_members::table
            .inner_join(
                users::table.on(users::workspace_id
                    .eq(group_members::workspace_id)
                    .and(users::id.eq(group_members::user_id))),
            )
            .filter(group_members::workspace_id.eq(&workspace))
            .filter(group_members::group_id.eq_any(chunk))
            .filter(users::deleted_at.is_null())
            .order((group_members::group_id, group_members::user_id))
            .select((group_members::group_id, users::id, users::user_name))
            .load::<(String, String, String)>(conn)?;
        for (group, user, user_name) in rows {
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
    let (conn, workspace) = tx.parts();
    let query = || {
        group_members::table
            .inner_join(
                users::table.on(users::workspace_id
                    .eq(group_members::workspace_id)
                    .and(users::id.eq(group_members::user_id))),
            )
            .filter(group_members::workspace_id.eq(workspace.to_string()))
            .filter(group_members::group_id.eq(group.to_string()))
            .filter(users::deleted_at.is_null())
    };
    let total: i64 = query().count().get_result(conn)?;
    let rows = query()
        .order(group_members::user_id)
        .offset(offset)
        .limit(limit)
        .select((users::id, users::user_name))
        .load::<(String, String)>(conn)?;
    let members = rows
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
    let (conn, workspace) = tx.parts();
    let workspace = workspace.to_string();
    let of_user = || {
        group_members::table
            .filter(group_members::workspace_id.eq(workspace.clone()))
            .filter(group_members::user_id.eq(user.to_string()))
    };
    let left: Vec<String> = of_user().select(group_members::group_id).load(conn)?;
    if left.is_empty() {
        return Ok(Vec::new());
    }
    // Group versions are left alone: bumping them would lock group rows after the user's row,
    // the reverse of a membership change's order, and could deadlock with one. The caller sends
    // each group left a `group.members_removed` naming the user.
    diesel::delete(of_user()).execute(conn)?;
    left.iter()
        .map(|id| {
            id.parse()
                .map_err(|_| StoreError::Corrupt(format!("group id '{id}'")))
        })
        .collect()
}

pub(super) fn groups_of_user(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> Result<Vec<(GroupId, String)>, StoreError> {
    let (conn, workspace) = tx.parts();
    let rows = group_members::table
        .inner_join(
            groups::table.on(groups::workspace_id
                .eq(group_members::workspace_id)
                .and(groups::id.eq(group_members::group_id))),
        )
        .filter(group_members::workspace_id.eq(workspace.to_string()))
        .filter(group_members::user_id.eq(user.to_string()))
        .order(groups::id)
        .select((groups::id, groups::display_name))
        .load::<(String, String)>(conn)?;
    rows.into_iter()
        .map(|(id, name)| {
            let id = id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("group id '{id}'")))?;
            Ok((id, name))
        })
        .collect()
}

pub(super) fn memberships_of(
    tx: &mut TenantTx<'_>,
    users: &[UserId],
) -> Result<HashMap<UserId, Vec<GroupRef>>, StoreError> {
    let (conn, workspace) = tx.parts();
    let workspace = workspace.to_string();
    let mut by_user: HashMap<UserId, Vec<GroupRef>> = HashMap::new();
    for chunk in users.chunks(CHUNK) {
        let rows = group_members::table
            .inner_join(
                groups::table.on(groups::workspace_id
                    .eq(group_members::workspace_id)
                    .and(groups::id.eq(group_members::group_id))),
            )
            .filter(group_members::workspace_id.eq(&workspace))
            .filter(group_members::user_id.eq_any(texts(chunk)))
            .order((group_members::user_id, groups::id))
            .select((group_members::user_id, groups::id, groups::display_name))
            .load::<(String, String, String)>(conn)?;
        for (user, group, display_name) in rows {
            let id = group
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("group id '{group}'")))?;
            by_user
                .entry(parse_user(&user)?)
                .or_default()
                .push(GroupRef { id, display_name });
        }
    }
    Ok(by_user)
}

/// How many member rows each of `group_ids` has.
pub(super) fn counts(
    tx: &mut TenantTx<'_>,
    group_ids: &[String],
) -> Result<HashMap<String, i64>, StoreError> {
    let (conn, workspace) = tx.parts();
    let workspace = workspace.to_string();
    let mut counts = HashMap::new();
    for chunk in group_ids.chunks(CHUNK) {
        let rows = group_members::table
            .filter(group_members::workspace_id.eq(&workspace))
            .filter(group_members::group_id.eq_any(chunk))
            .group_by(group_members::group_id)
            .select((group_members::group_id, diesel::dsl::count_star()))
            .load::<(String, i64)>(conn)?;
        counts.extend(rows);
    }
    Ok(counts)
}
