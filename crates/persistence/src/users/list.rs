//! Listing a workspace's users: a page through a SCIM filter translated to SQL.

use diesel::prelude::*;
use webwork_scim_domain::User;
use webwork_scim_domain::filter::Filter;

use webwork_scim_domain::sort::SortBy;

use super::{UserRow, filter_sql, with_groups};
use crate::schema::users;
use crate::scope::Scoped;
use crate::sort_sql::{Key, order_terms, user_key};
use crate::sql_filter::Sql;
use crate::{StoreError, TenantTx};

/// One page of a listing, and how many users match in all.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPage {
    pub total: i64,
    pub users: Vec<User>,
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

/// A page of users matching the query, and the total count.
pub fn list(tx: &mut TenantTx<'_>, query: ListQuery<'_>) -> Result<UserPage, StoreError> {
    let order: Order<'_> = match query.sort {
        Some(sort) => Some((user_key(&sort.path)?, sort, tx.is_postgres())),
        None => None,
    };
    let dialect = tx.dialect();
    // Compiled once, for the count and the page.
    let condition = query
        .filter
        .map(|filter| filter_sql::condition(filter, dialect))
        .transpose()?;
    let count = filtered(tx, condition.as_ref(), &query).refine(|q| q.count());
    let total: i64 = tx.get(count)?;
    if query.limit <= 0 || query.offset >= total {
        return Ok(UserPage {
            total,
            users: Vec::new(),
        });
    }
    let page = filtered(tx, condition.as_ref(), &query).refine(|q| {
        ordered(q, &order)
            .offset(query.offset)
            .limit(query.limit)
            .select(UserRow::as_select())
    });
    let mut users: Vec<User> = tx
        .load::<UserRow, _>(page)?
        .into_iter()
        .map(User::try_from)
        .collect::<Result<_, _>>()?;
    with_groups(tx, &mut users)?;
    Ok(UserPage { total, users })
}
