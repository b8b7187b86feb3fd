//! Listing a workspace's users: a page through a SCIM filter translated to SQL, or, for filters
//! whose SQL only narrows, through each narrowed row checked against the filter.

use diesel::prelude::*;
use serde_json::Value;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::{DomainError, User};

use webwork_scim_domain::sort::SortBy;

use super::{UserRow, filter_sql, with_groups};
use crate::schema::users;
use crate::scope::Scoped;
use crate::sort_sql::{Key, order_terms, user_key};
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

/// The most rows an inexact filter may narrow to before each is checked; an email look-up
/// narrows to one or two.
const MAX_CHECKED_ROWS: i64 = 10_000;

type Boxed = users::BoxedQuery<'static, crate::db::MultiBackend>;

/// The live users the query's filter and id bounds select.
fn filtered(tx: &TenantTx<'_>, query: &ListQuery<'_>) -> Result<Scoped<Boxed>, DomainError> {
    let condition = query.filter.map(filter_sql::condition).transpose()?;
    let (after, before) = (
        query.after.map(str::to_owned),
        query.before.map(str::to_owned),
    );
    Ok(tx.live_users().refine(|q| {
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
    }))
}

/// A page of users matching the query, and the total count. A filter the database cannot answer
/// is [`DomainError::UnsupportedFilter`], never a silent full listing.
pub fn list(tx: &mut TenantTx<'_>, query: ListQuery<'_>) -> Result<UserPage, StoreError> {
    let order: Order<'_> = match query.sort {
        Some(sort) => Some((user_key(&sort.path)?, sort, tx.is_postgres())),
        None => None,
    };
    if query.filter.is_some_and(filter_sql::needs_row_check) {
        return list_checked(tx, query, &order);
    }
    let count = filtered(tx, &query)?.refine(|q| q.count());
    let total: i64 = tx.get(count)?;
    if query.limit <= 0 || query.offset >= total {
        return Ok(UserPage {
            total,
            users: Vec::new(),
        });
    }
    let page = filtered(tx, &query)?.refine(|q| {
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

/// The user as a filter sees it: its document, `id` and `meta`'s times.
fn resource(user: &User) -> Value {
    let time = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .map_or(Value::Null, Value::String)
    };
    let mut resource = user.document.clone();
    resource.insert("id".into(), Value::String(user.id.to_string()));
    resource.insert(
        "meta".into(),
        serde_json::json!({"created": time(user.created_at), "lastModified": time(user.updated_at)}),
    );
    Value::Object(resource)
}

/// Rows read and checked at a time: memory holds one chunk and the page, never every match.
const CHECK_CHUNK: i64 = 100;

/// Lists through an inexact SQL condition: reads the narrowed rows a chunk at a time in the
/// listing's order (after the last id read, or by position when sorted), counts those the filter
/// matches and keeps only the ones inside the page's window.
fn list_checked(
    tx: &mut TenantTx<'_>,
    query: ListQuery<'_>,
    order: &Order<'_>,
) -> Result<UserPage, StoreError> {
    let offset = usize::try_from(query.offset).unwrap_or(usize::MAX);
    let limit = usize::try_from(query.limit.max(0)).unwrap_or(0);
    let mut total = 0_usize;
    let mut checked = 0_i64;
    let mut after = String::new();
    let mut users = Vec::with_capacity(limit.min(1000));
    loop {
        let from = after.clone();
        let chunk = filtered(tx, &query)?.refine(|q| {
            let window = match order {
                None => ordered(q.filter(users::id.gt(from)), order),
                Some(_) => ordered(q, order).offset(checked),
            };
            window.limit(CHECK_CHUNK).select(UserRow::as_select())
        });
        let rows = tx.load::<UserRow, _>(chunk)?;
        let Some(last) = rows.last() else {
            break;
        };
        after = last.id.clone();
        let full = i64::try_from(rows.len()).unwrap_or(i64::MAX) == CHECK_CHUNK;
        checked += i64::try_from(rows.len()).unwrap_or(i64::MAX);
        if checked > MAX_CHECKED_ROWS {
            return Err(DomainError::TooMany(format!(
                "the filter selects more than {MAX_CHECKED_ROWS} users to check; narrow it"
            ))
            .into());
        }
        for row in rows {
            let user = User::try_from(row)?;
            let matched = query.filter.is_none_or(|filter| {
                webwork_scim_domain::filter::matches(filter, &resource(&user))
            });
            if matched {
                if total >= offset && users.len() < limit {
                    users.push(user);
                }
                total += 1;
            }
        }
        if !full {
            break;
        }
    }
    with_groups(tx, &mut users)?;
    Ok(UserPage {
        total: i64::try_from(total).unwrap_or(i64::MAX),
        users,
    })
}
