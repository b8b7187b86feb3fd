//! The directory of a workspace as WebWork's services and its admins read it: users by id,
//! `userName`, email or `externalId`; groups by id, `displayName` or `externalId`; a group's
//! members a page at a time (a group may hold a whole company).

use webwork_scim_domain::Workspace;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::{Group, GroupId, Member, PlainText, User, UserId};
use webwork_scim_persistence::groups::{self, GroupPage, GroupQuery};
use webwork_scim_persistence::users::{self, ListQuery, UserPage};
use webwork_scim_persistence::{Access, Store, TenantTx};

use super::{DirectoryError, NotFound, Resource, UseCases, in_workspace};

/// The longest value a look-up compares with.
pub const MAX_LOOKUP_CHARS: usize = 256;

/// A window of a listing.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: i64,
    pub limit: i64,
}

/// Users to find: every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct UserLookup {
    pub user_name: Option<PlainText>,
    pub email: Option<PlainText>,
    pub external_id: Option<PlainText>,
}

/// Groups to find: every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct GroupLookup {
    pub display_name: Option<PlainText>,
    pub external_id: Option<PlainText>,
}

fn equals(path: AttrPath, value: &PlainText) -> Filter {
    Filter::Compare {
        path,
        op: CompareOp::Eq,
        value: CompValue::String(value.as_str().to_owned()),
    }
}

/// The conjunction of `parts`, or no filter.
fn all_of(parts: Vec<Filter>) -> Option<Filter> {
    parts
        .into_iter()
        .reduce(|all, next| Filter::And(Box::new(all), Box::new(next)))
}

impl UserLookup {
    fn filter(&self) -> Option<Filter> {
        let email = AttrPath {
            urn: None,
            name: "emails".into(),
            sub: Some("value".into()),
        };
        let parts = [
            (AttrPath::simple("userName"), &self.user_name),
            (email, &self.email),
            (AttrPath::simple("externalId"), &self.external_id),
        ];
        all_of(
            parts
                .into_iter()
                .filter_map(|(path, value)| value.as_ref().map(|value| equals(path, value)))
                .collect(),
        )
    }
}

impl GroupLookup {
    fn filter(&self) -> Option<Filter> {
        let parts = [
            ("displayName", &self.display_name),
            ("externalId", &self.external_id),
        ];
        all_of(
            parts
                .into_iter()
                .filter_map(|(name, value)| {
                    value.as_ref().map(|v| equals(AttrPath::simple(name), v))
                })
                .collect(),
        )
    }
}

/// Runs `read` in one read transaction of the workspace `key`.
pub(crate) async fn read_directory<R, F>(
    store: &Store,
    key: &str,
    read: F,
) -> Result<R, DirectoryError>
where
    R: Send + 'static,
    F: FnOnce(&mut TenantTx<'_>, Workspace) -> Result<R, DirectoryError> + Send + 'static,
{
    in_workspace(store, key, Access::Read, read).await
}

impl UseCases {
    pub async fn find_users(
        &self,
        key: &str,
        lookup: UserLookup,
        window: Window,
    ) -> Result<UserPage, DirectoryError> {
        read_directory(&self.store, key, move |tx, _| {
            let filter = lookup.filter();
            let query = ListQuery {
                filter: filter.as_ref(),
                sort: None,
                after: None,
                before: None,
                offset: window.offset,
                limit: window.limit,
            };
            Ok(users::list(tx, query)?)
        })
        .await
    }

    pub async fn directory_user(&self, key: &str, id: &str) -> Result<User, DirectoryError> {
        let user_id: UserId = id.parse().map_err(|_| NotFound::new(Resource::User, id))?;
        read_directory(&self.store, key, move |tx, _| {
            Ok(users::find(tx, user_id)?.ok_or_else(|| NotFound::new(Resource::User, user_id))?)
        })
        .await
    }

    /// A page of groups, without their members.
    pub async fn find_groups(
        &self,
        key: &str,
        lookup: GroupLookup,
        window: Window,
    ) -> Result<GroupPage, DirectoryError> {
        read_directory(&self.store, key, move |tx, _| {
            let filter = lookup.filter();
            let query = GroupQuery {
                filter: filter.as_ref(),
                sort: None,
                after: None,
                before: None,
                offset: window.offset,
                limit: window.limit,
                with_members: false,
                member_budget: i64::MAX,
            };
            Ok(groups::list(tx, query)?)
        })
        .await
    }

    pub async fn directory_group(
        &self,
        key: &str,
        id: &str,
        with_members: bool,
    ) -> Result<Group, DirectoryError> {
        let group_id: GroupId = id.parse().map_err(|_| NotFound::new(Resource::Group, id))?;
        read_directory(&self.store, key, move |tx, _| {
            Ok(groups::find(tx, group_id, with_members)?
                .ok_or_else(|| NotFound::new(Resource::Group, group_id))?)
        })
        .await
    }

    /// A page of a group's members and how many it has.
    pub async fn group_members(
        &self,
        key: &str,
        id: &str,
        window: Window,
    ) -> Result<(i64, Vec<Member>), DirectoryError> {
        let group_id: GroupId = id.parse().map_err(|_| NotFound::new(Resource::Group, id))?;
        read_directory(&self.store, key, move |tx, _| {
            if groups::find(tx, group_id, false)?.is_none() {
                return Err(NotFound::new(Resource::Group, group_id).into());
            }
            Ok(groups::members_page(
                tx,
                group_id,
                window.offset,
                window.limit,
            )?)
        })
        .await
    }
}
