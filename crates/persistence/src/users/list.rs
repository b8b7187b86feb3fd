//! Listing a workspace's users: a page through a SCIM filter translated to SQL.

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use serde_json::{Map, Value};
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::{DocumentText, User};

use webwork_scim_domain::sort::SortBy;

use super::{StoredDocument, UserRow, by_user_name_key, filter_sql, with_groups};
use crate::schema::{users, workspaces};
use crate::scope::Scoped;
use crate::sort_sql::{Key, order_terms, user_key};
use crate::sql_filter::{Sql, plan_for_values, seeking_id_order};
use crate::subselect;
use crate::{StoreError, TenantTx};

/// One page of a listing, and how many users match in all; each user's document as `D`
/// holds it ([`StoredDocument`]).
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage<D = Map<String, Value>> {
    pub total: i64,
    pub users: Vec<User<D>>,
}

impl<D> UserPage<D> {
    /// The page of a query that selects at most one user.
    pub(super) fn of_one(user: Option<User<D>>) -> UserPage<D> {
        UserPage {
            total: i64::from(user.is_some()),
            users: user.into_iter().collect(),
        }
    }
}

/// What to list: an optional filter, an optional sort, and a window in the order the sort gives
/// (ties, and everything without a sort, by id, which is time-ordered).
#[derive(Debug, Clone, Copy)]
pub struct ListQuery<'a> {
    pub filter: Option<&'a Filter>,
    pub sort: Option<&'a SortBy>,
    /// Only users created after, or before, the user with this id (cursor pages).
    pub after: Option<&'a str>,
    pub before: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

impl<'a> ListQuery<'a> {
    /// The `userName` an identity provider looks up before every create, when the query is
    /// only that: a filter `userName eq`, from the first user, with room for one. Its page is
    /// the one user the name folds to, or none. A sort has nothing to order in it, but one by
    /// an attribute that cannot be sorted is refused here as on any other page.
    pub fn user_name_look_up(&self) -> Result<Option<&'a str>, StoreError> {
        if let Some(sort) = self.sort {
            user_key(&sort.path)?;
        }
        Ok(self
            .filter
            .and_then(Filter::user_name_equals)
            .filter(|_| self.limit > 0 && self.offset == 0 && no_bounds(self)))
    }
}

/// A sort resolved against the columns, with the backend it is written for.
type Order<'a> = Option<(Key, &'a SortBy, bool)>;

fn ordered(query: Boxed, order: &Order<'_>) -> Boxed {
    match order {
        Some((key, sort, postgres)) => {
            let (nulls, value) = order_terms(key, sort, *postgres);
            query.order((nulls, value, users::id))
        }
        None => query.order(users::id),
    }
}

type Boxed = users::BoxedQuery<'static, crate::db::MultiBackend>;

/// A page's total, selected beside each of its rows.
type Total = Box<dyn BoxableExpression<UsersTable, crate::db::MultiBackend, SqlType = BigInt>>;
/// The table by a name of its own: the scoping test takes `users::table` followed by a comma for
/// the start of an unscoped query.
type UsersTable = users::table;

/// The live users `condition` (the query's filter in SQL) and the query's id bounds select.
fn filtered(tx: &TenantTx<'_>, condition: Option<&Sql>, query: &ListQuery<'_>) -> Scoped<Boxed> {
    let condition = condition.cloned();
    let (after, before) = (
        query.after.map(str::to_owned),
        query.before.map(str::to_owned),
    );
    tx.live_users().refine(|q| {
        let mut boxed = q.into_boxed();
        if let Some(condition) = condition {
            boxed = boxed.filter(condition);
        }
        if let Some(after) = after {
            boxed = boxed.filter(users::id.gt(after));
        }
        if let Some(before) = before {
            boxed = boxed.filter(users::id.lt(before));
        }
        boxed
    })
}

/// Whether the query takes every user, not only those after or before a cursor's.
fn no_bounds(query: &ListQuery<'_>) -> bool {
    query.after.is_none() && query.before.is_none()
}

/// A page of users matching the query, and the total count.
pub fn list(tx: &mut TenantTx<'_>, query: ListQuery<'_>) -> Result<UserPage, StoreError> {
    page_of(tx, query)
}

/// [`list`], each user's document kept as the text the database holds, for a response that
/// renders the users as they are.
pub fn list_as_text(
    tx: &mut TenantTx<'_>,
    query: ListQuery<'_>,
) -> Result<UserPage<DocumentText>, StoreError> {
    page_of(tx, query)
}

fn page_of<D: StoredDocument>(
    tx: &mut TenantTx<'_>,
    query: ListQuery<'_>,
) -> Result<UserPage<D>, StoreError> {
    let order: Order<'_> = match query.sort {
        Some(sort) => Some((user_key(&sort.path)?, sort, tx.is_postgres())),
        None => None,
    };
    if let Some(name) = query.user_name_look_up()? {
        // A statement of a fixed shape, compared as the filter compares `userName` (its folded
        // key).
        return Ok(UserPage::of_one(by_user_name_key(tx, fold_key(name))?));
    }
    let dialect = tx.dialect();
    // Compiled once, for the count and the page.
    let condition = compiled(tx, query.filter)?;
    let count = |tx: &TenantTx<'_>| filtered(tx, condition.as_ref(), &query).refine(|q| q.count());
    // Every live user matches: the total is the count the database keeps on the workspace's
    // row, read in one seek, where counting would read an index entry per user.
    let kept_count = query.filter.is_none() && no_bounds(&query);
    let total_alone = |tx: &mut TenantTx<'_>| match kept_count {
        true => super::count_live(tx),
        false => tx.get_boxed(count(tx)),
    };
    if query.limit <= 0 {
        let total = total_alone(tx)?;
        return Ok(UserPage {
            total,
            users: Vec::new(),
        });
    }
    if query.offset == 0 && query.filter.is_some_and(Filter::selects_at_most_one_user) {
        return whole_result(tx, condition.as_ref(), &query, &order);
    }
    // A deep page of every user in id order starts from the nearest start remembered before it.
    let start = match tx.page_starts() {
        Some(starts) if kept_count && order.is_none() => starts.start(tx, query.offset)?,
        _ => None,
    };
    let window = match &start {
        Some((after, offset)) => ListQuery {
            after: Some(after),
            offset: *offset,
            ..query
        },
        None => query,
    };
    // The ids of the page first, read from an index where the order allows (a deep page skips
    // index entries, not rows); then their rows and the total, in the same statement.
    let seek_order = seeking_id_order(dialect, condition.as_ref(), "users.id");
    let ids = filtered(tx, condition.as_ref(), &window)
        .refine(|q| {
            match (&order, seek_order) {
                (None, Some(seek_order)) => q.order(seek_order),
                _ => ordered(q, &order),
            }
            .offset(window.offset)
            .limit(window.limit)
            .select(users::id)
        })
        .nested();
    let total: Total = match kept_count {
        true => Box::new(subselect::or_zero(
            tx.workspace_row()
                .refine(|q| q.select(workspaces::live_users))
                .nested(),
        )),
        false => Box::new(subselect::count(count(tx).nested())),
    };
    let ids = subselect::user_id_in(ids, dialect);
    let page = tx.live_users().refine(|q| {
        ordered(q.into_boxed().filter(ids), &order).select((UserRow::as_select(), total))
    });
    let rows = tx.load_boxed::<(UserRow, i64), _>(page)?;
    let total = match rows.first() {
        Some((_, total)) => *total,
        // Past the end (or nothing matches): the total alone.
        None if query.offset > 0 => total_alone(tx)?,
        None => 0,
    };
    let mut users: Vec<User<D>> = rows
        .into_iter()
        .map(|(row, _)| User::try_from(row))
        .collect::<Result<_, _>>()?;
    with_groups(tx, &mut users)?;
    Ok(UserPage { total, users })
}

/// `filter` in SQL, and on PostgreSQL the rest of the transaction planned for its values.
fn compiled(tx: &mut TenantTx<'_>, filter: Option<&Filter>) -> Result<Option<Sql>, StoreError> {
    let Some(filter) = filter else {
        return Ok(None);
    };
    let condition = filter_sql::condition(filter, tx.dialect(), &tx.workspace_text())?;
    plan_for_values(tx)?;
    Ok(Some(condition))
}

/// A page of a filter that selects at most one user (a look-up by userName): the page is the
/// whole result, so its length is the total and neither a count nor the page's ids are needed.
fn whole_result<D: StoredDocument>(
    tx: &mut TenantTx<'_>,
    condition: Option<&Sql>,
    query: &ListQuery<'_>,
    order: &Order<'_>,
) -> Result<UserPage<D>, StoreError> {
    let page = filtered(tx, condition, query).refine(|q| {
        ordered(q, order)
            .limit(query.limit)
            .select(UserRow::as_select())
    });
    let mut users: Vec<User<D>> = tx
        .load_boxed::<UserRow, _>(page)?
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    with_groups(tx, &mut users)?;
    let total = i64::try_from(users.len()).unwrap_or(i64::MAX);
    Ok(UserPage { total, users })
}
