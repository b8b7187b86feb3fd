//! SCIM groups of one workspace and their members.
//!
//! Members are rows of `group_members`; every change locks the group's row first (PostgreSQL;
//! SQLite's write transactions are serial already) and then touches only the member rows it
//! names, so a membership PATCH never loads a big group and two concurrent ones lose nothing.

mod filter_sql;
mod members;

use std::collections::HashMap;

use diesel::prelude::*;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::sort::SortBy;
use webwork_scim_domain::{
    Group, GroupChange, GroupDraft, GroupId, GroupName, GroupRef, Member, UserId,
};

use crate::inserts::insert_row;
use crate::schema::{group_members, groups};
use crate::sort_sql::{group_key, order_terms};
use crate::{StoreError, TenantTx, clock};

/// The most members one page of groups shows in all (some 10 MB of JSON): a guard against a
/// page of huge groups, not a paging rule, since clients that step by `count` instead of
/// `itemsPerPage` would skip the groups a shortened page leaves out.
pub const MAX_MEMBERS_PER_PAGE: i64 = 100_000;

/// One page of a listing, and how many groups match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupPage {
    pub total: i64,
    pub groups: Vec<Group>,
}

/// What to list: an optional filter, a window in the stable order (by id, which is
/// time-ordered), and whether to load members at all (`excludedAttributes=members` says no).
#[derive(Debug, Clone, Copy)]
pub struct GroupQuery<'a> {
    pub filter: Option<&'a Filter>,
    /// By `displayName`, `externalId`, `id` or `meta`; ties, and everything unsorted, by id.
    pub sort: Option<&'a SortBy>,
    /// Only groups created after, or before, the group with this id (cursor pages).
    pub after: Option<&'a str>,
    pub before: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
    pub with_members: bool,
    /// With members: the page shows fewer groups rather than more members than this in all
    /// (usually [`MAX_MEMBERS_PER_PAGE`]).
    pub member_budget: i64,
}

/// What a write changed: the group afterwards (members not loaded), the names of its own
/// attributes that changed, and the members that joined and left.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupWrite {
    pub group: Group,
    pub attributes: Vec<String>,
    pub added: Vec<UserId>,
    pub removed: Vec<UserId>,
}

impl GroupWrite {
    pub fn changed(&self) -> bool {
        !(self.attributes.is_empty() && self.added.is_empty() && self.removed.is_empty())
    }
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = groups)]
struct GroupRow {
    id: String,
    display_name: String,
    external_id: Option<String>,
    version: i64,
    created_at: time::PrimitiveDateTime,
    updated_at: time::PrimitiveDateTime,
}

impl GroupRow {
    fn into_group(self, members: Option<Vec<Member>>) -> Result<Group, StoreError> {
        Ok(Group {
            id: self
                .id
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("group id '{}'", self.id)))?,
            display_name: self.display_name,
            external_id: self.external_id,
            version: self.version,
            created_at: clock::from_db(self.created_at),
            updated_at: clock::from_db(self.updated_at),
            members,
        })
    }
}

fn row(tx: &mut TenantTx<'_>, id: GroupId) -> Result<Option<GroupRow>, StoreError> {
    let query = tx.groups().refine(|q| {
        q.filter(groups::id.eq(id.to_string()))
            .select(crate::scope::columns::<GroupRow>())
    });
    tx.first(query)
}

type Boxed = groups::BoxedQuery<'static, crate::db::MultiBackend>;

/// The groups `condition` (the query's filter in SQL) and the query's id bounds select.
fn filtered(
    tx: &TenantTx<'_>,
    condition: Option<&crate::sql_filter::Sql>,
    query: &GroupQuery<'_>,
) -> crate::scope::Scoped<Boxed> {
    let condition = condition.cloned();
    let (after, before) = (
        query.after.map(str::to_owned),
        query.before.map(str::to_owned),
    );
    tx.groups().refine(|q| {
        let mut boxed = q.into_boxed();
        if let Some(condition) = condition {
            boxed = boxed.filter(condition);
        }
        if let Some(after) = after {
            boxed = boxed.filter(groups::id.gt(after));
        }
        if let Some(before) = before {
            boxed = boxed.filter(groups::id.lt(before));
        }
        boxed
    })
}

/// Stores a new group with its members. A `displayName` already used in this workspace (in any
/// case) is [`StoreError::Conflict`]; a member that is not a live user of this workspace is an
/// `invalidValue` domain error.
pub fn insert(tx: &mut TenantTx<'_>, draft: &GroupDraft) -> Result<GroupWrite, StoreError> {
    let id = GroupId::generate();
    let now = clock::now();
    insert_row!(
        tx,
        groups,
        (
            groups::id.eq(id.to_string()),
            groups::display_name.eq(draft.display_name.as_str()),
            groups::display_name_key.eq(draft.display_name.key()),
            groups::external_id.eq(draft.external_id.as_deref()),
            groups::version.eq(1_i64),
            groups::created_at.eq(now),
            groups::updated_at.eq(now),
        )
    )?;
    let added = match &draft.members {
        Some(ids) => members::add(tx, id, ids)?,
        None => Vec::new(),
    };
    let group = row(tx, id)?
        .ok_or_else(|| StoreError::Corrupt("group vanished after insert".into()))?
        .into_group(None)?;
    let mut attributes = vec!["displayName".to_owned()];
    if draft.external_id.is_some() {
        attributes.push("externalId".into());
    }
    Ok(GroupWrite {
        group,
        attributes,
        added,
        removed: Vec::new(),
    })
}

/// Group `id` of this workspace, with its members when `with_members`; `None` for unknown ids
/// and another workspace's.
pub fn find(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    with_members: bool,
) -> Result<Option<Group>, StoreError> {
    let Some(found) = row(tx, id)? else {
        return Ok(None);
    };
    let members = if with_members {
        Some(
            members::of_groups(tx, std::slice::from_ref(&found.id))?
                .remove(&found.id)
                .unwrap_or_default(),
        )
    } else {
        None
    };
    found.into_group(members).map(Some)
}

/// A page of groups matching the query, and the total count. Members of the page's groups are
/// loaded in one query, and not at all unless asked for.
pub fn list(tx: &mut TenantTx<'_>, query: GroupQuery<'_>) -> Result<GroupPage, StoreError> {
    let order = match query.sort {
        Some(sort) => Some((group_key(&sort.path)?, sort, tx.is_postgres())),
        None => None,
    };
    let dialect = tx.dialect();
    // Compiled once, for the count and the page.
    let condition = query
        .filter
        .map(|filter| filter_sql::condition(filter, dialect))
        .transpose()?;
    if condition.is_some() {
        crate::sql_filter::plan_for_values(tx)?;
    }
    let count = filtered(tx, condition.as_ref(), &query).refine(|q| q.count());
    let total: i64 = tx.get_boxed(count)?;
    if query.limit <= 0 || query.offset >= total {
        return Ok(GroupPage {
            total,
            groups: Vec::new(),
        });
    }
    let seek_order = crate::sql_filter::seeking_id_order(dialect, condition.as_ref(), "groups.id");
    let page = filtered(tx, condition.as_ref(), &query).refine(|q| {
        let q = match &order {
            Some((key, sort, postgres)) => {
                let (nulls, value) = order_terms(key, sort, *postgres);
                q.order((nulls, value, groups::id))
            }
            None => match seek_order {
                Some(seek_order) => q.order(seek_order),
                None => q.order(groups::id),
            },
        };
        q.offset(query.offset)
            .limit(query.limit)
            .select(GroupRow::as_select())
    });
    let mut rows: Vec<GroupRow> = tx.load_boxed(page)?;
    if query.with_members {
        // A page shows fewer groups rather than more members than this (RFC 7644 lets a page
        // hold fewer resources than asked for); the first group is always shown.
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        let counts = members::counts(tx, &ids)?;
        let mut shown = 0_i64;
        let keep = rows
            .iter()
            .position(|row| {
                shown += counts.get(&row.id).copied().unwrap_or(0);
                shown > query.member_budget
            })
            .map_or(rows.len(), |at| at.max(1));
        rows.truncate(keep);
    }
    let mut members: HashMap<String, Vec<Member>> = if query.with_members {
        let ids: Vec<String> = rows.iter().map(|row| row.id.clone()).collect();
        members::of_groups(tx, &ids)?
    } else {
        HashMap::new()
    };
    let groups = rows
        .into_iter()
        .map(|row| {
            let own = query
                .with_members
                .then(|| members.remove(&row.id).unwrap_or_default());
            row.into_group(own)
        })
        .collect::<Result<_, _>>()?;
    Ok(GroupPage { total, groups })
}

/// Applies PATCH `changes` in order. `None` when there is no such group. The version moves only
/// when something changed.
pub fn apply(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    changes: &[GroupChange],
) -> Result<Option<GroupWrite>, StoreError> {
    let Some(current) = lock_row(tx, id)? else {
        return Ok(None);
    };
    let mut name = (current.display_name.clone(), None::<GroupName>);
    let mut external_id = current.external_id.clone();
    let mut net = members::Net::default();
    for change in changes {
        match change {
            GroupChange::DisplayName(new) => name.1 = Some(new.clone()),
            GroupChange::ExternalId(new) => external_id.clone_from(new),
            GroupChange::AddMembers(ids) => net.added(members::add(tx, id, ids)?),
            GroupChange::RemoveMembers(ids) => net.removed(members::remove(tx, id, ids)?),
            GroupChange::RemoveAllMembers => net.removed(members::remove_all(tx, id)?),
            GroupChange::ReplaceMembers(ids) => {
                let (added, removed) = members::replace(tx, id, ids)?;
                net.removed(removed);
                net.added(added);
            }
        }
    }
    let mut attributes = Vec::new();
    let new_name = name.1.filter(|new| new.as_str() != name.0);
    if new_name.is_some() {
        attributes.push("displayName".to_owned());
    }
    if external_id != current.external_id {
        attributes.push("externalId".to_owned());
    }
    let (added, removed) = net.into_parts();
    if !added.is_empty() || !removed.is_empty() {
        attributes.push("members".to_owned());
    }
    if !attributes.is_empty() {
        let this = |tx: &TenantTx<'_>| {
            tx.groups()
                .refine(|q| q.filter(groups::id.eq(id.to_string())))
        };
        if let Some(new) = &new_name {
            let target = this(tx);
            tx.update(
                target,
                (
                    groups::display_name.eq(new.as_str()),
                    groups::display_name_key.eq(new.key()),
                ),
            )?;
        }
        let target = this(tx);
        tx.update(
            target,
            (
                groups::external_id.eq(external_id.as_deref()),
                groups::version.eq(groups::version + 1),
                groups::updated_at.eq(clock::now()),
            ),
        )?;
    }
    let group = row(tx, id)?
        .ok_or_else(|| StoreError::Corrupt("group vanished during a change".into()))?
        .into_group(None)?;
    Ok(Some(GroupWrite {
        group,
        attributes,
        added,
        removed,
    }))
}

/// PUT: the draft's name and external id, and its members when it lists them.
pub fn replace(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    draft: &GroupDraft,
) -> Result<Option<GroupWrite>, StoreError> {
    let mut changes = vec![
        GroupChange::DisplayName(draft.display_name.clone()),
        GroupChange::ExternalId(draft.external_id.clone()),
    ];
    if let Some(ids) = &draft.members {
        changes.push(GroupChange::ReplaceMembers(ids.clone()));
    }
    apply(tx, id, &changes)
}

/// Deletes group `id` and its memberships; returns the group as it was (members not loaded), or
/// `None` when there is no such group.
pub fn delete(tx: &mut TenantTx<'_>, id: GroupId) -> Result<Option<Group>, StoreError> {
    let Some(row) = lock_row(tx, id)? else {
        return Ok(None);
    };
    let group = row.into_group(None)?;
    let members = tx
        .members()
        .refine(|q| q.filter(group_members::group_id.eq(id.to_string())));
    tx.delete(members)?;
    let this = tx
        .groups()
        .refine(|q| q.filter(groups::id.eq(id.to_string())));
    tx.delete(this)?;
    Ok(Some(group))
}

/// Removes user `user` from every group (the user was deleted or erased); returns the groups it
/// left, whose versions move.
pub fn remove_user_everywhere(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> Result<Vec<GroupId>, StoreError> {
    members::remove_user_everywhere(tx, user)
}

/// The groups of each of `users` (those in none are absent).
pub fn memberships_of(
    tx: &mut TenantTx<'_>,
    users: &[UserId],
) -> Result<HashMap<UserId, Vec<GroupRef>>, StoreError> {
    members::memberships_of(tx, users)
}

/// The groups user `user` belongs to, by id and `displayName`.
pub fn groups_of_user(
    tx: &mut TenantTx<'_>,
    user: UserId,
) -> Result<Vec<(GroupId, String)>, StoreError> {
    members::groups_of_user(tx, user)
}

/// A page of group `id`'s members in a stable order, and how many it has in all.
pub fn members_page(
    tx: &mut TenantTx<'_>,
    id: GroupId,
    offset: i64,
    limit: i64,
) -> Result<(i64, Vec<Member>), StoreError> {
    members::page(tx, id, offset, limit)
}

/// Locks group `id`'s row until the transaction ends and reads it (SQLite's write transactions
/// are serial already).
fn lock_row(tx: &mut TenantTx<'_>, id: GroupId) -> Result<Option<GroupRow>, StoreError> {
    tx.lock_group(&id.to_string())?;
    row(tx, id)
}

/// Group `id` (members not loaded), locked until the transaction ends, so that a change can
/// check it before it applies.
pub fn lock(tx: &mut TenantTx<'_>, id: GroupId) -> Result<Option<Group>, StoreError> {
    lock_row(tx, id)?
        .map(|row| row.into_group(None))
        .transpose()
}
