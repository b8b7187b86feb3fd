//! Linking WebWork's existing members: a member whose `userName` is already here keeps its SCIM
//! data and gets its roles; any other is created. All or nothing, in one transaction, so that
//! Okta's `userName eq` look-up then finds and links them instead of creating duplicates.

use serde_json::json;
use webwork_scim_domain::{
    AuditAction, AuditEvent, DomainError, PlainText, Refusal, User, UserDraft, UserName,
};
use webwork_scim_persistence::{Access, StoreError, TenantTx, users};

use super::events;
use super::user_writes::{room_for_users, seats_in_use};
use super::{Caller, DirectoryError, UseCases, in_workspace};

/// The most members one request may link.
pub const MAX_MEMBERS: usize = 1000;
/// The longest role name.
pub const MAX_ROLE_CHARS: usize = 64;

/// One member to link, validated.
#[derive(Debug, Clone)]
pub struct MemberLink {
    user_name: UserName,
    /// The user to create when the name is new here.
    draft: UserDraft,
    /// `None` keeps an existing member's roles.
    roles: Option<Vec<String>>,
}

/// The fields of one member as WebWork's app sends them.
#[derive(Debug, Clone)]
pub struct MemberFields {
    pub user_name: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub roles: Option<Vec<String>>,
    pub active: bool,
}

impl MemberLink {
    /// Validates member number `index` of a request; errors name it.
    pub fn parse(index: usize, fields: MemberFields) -> Result<MemberLink, DomainError> {
        let invalid =
            |err: DomainError| DomainError::invalid_value(format!("members[{index}]: {err}"));
        let roles = fields
            .roles
            .map(|roles| {
                roles
                    .iter()
                    .map(|role| {
                        PlainText::parse("roles", role, MAX_ROLE_CHARS).map(PlainText::into_string)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(invalid)?;
        let user_name = UserName::parse(&fields.user_name).map_err(invalid)?;
        let mut scim = json!({"userName": fields.user_name, "active": fields.active});
        if let Some(email) = &fields.email {
            scim["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
        }
        if let Some(display) = &fields.display_name {
            scim["displayName"] = json!(display);
        }
        let draft = UserDraft::from_scim(&scim).map_err(invalid)?;
        Ok(MemberLink {
            user_name,
            draft,
            roles,
        })
    }
}

/// What became of one member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub user_name: String,
    pub id: String,
    pub created: bool,
}

/// What a request may still create: places in the workspace (under its user limit) and seats.
struct Room {
    users: i64,
    max_users: u32,
    seats: Option<(i64, webwork_scim_domain::Entitlements)>,
}

fn link_one(
    tx: &mut TenantTx<'_>,
    member: &MemberLink,
    room: &mut Room,
) -> Result<(User, bool, Vec<AuditEvent>), DirectoryError> {
    if let Some(existing) = users::find_by_user_name(tx, &member.user_name)? {
        let changed = member
            .roles
            .as_ref()
            .is_some_and(|roles| *roles != existing.app_roles);
        let events = if changed {
            vec![
                AuditEvent::new(AuditAction::UserUpdated, existing.id)
                    .with_attributes(vec!["roles".into()]),
            ]
        } else {
            Vec::new()
        };
        return Ok((existing, false, events));
    }
    if room.users <= 0 {
        return Err(Refusal::UserLimit {
            max: room.max_users,
        }
        .into());
    }
    room.users -= 1;
    // Members created active take seats like any other user.
    if let (Some((used, entitlements)), true) = (room.seats.as_mut(), member.draft.active) {
        entitlements.admit_active_user(*used)?;
        *used += 1;
    }
    let user = users::insert(tx, &member.draft, None)?;
    let event = AuditEvent::new(AuditAction::UserCreated, user.id)
        .with_attributes(vec!["userName".into(), "roles".into()]);
    Ok((user, true, vec![event]))
}

impl UseCases {
    pub async fn link_members(
        &self,
        caller: &Caller,
        key: &str,
        members: Vec<MemberLink>,
    ) -> Result<Vec<Linked>, DirectoryError> {
        if members.len() > MAX_MEMBERS {
            return Err(DomainError::invalid_value(format!(
                "at most {MAX_MEMBERS} members per request"
            ))
            .into());
        }
        let caller = caller.clone();
        let max_users = self.max_users_per_workspace;
        in_workspace(&self.store, key, Access::Write, move |tx, workspace| {
            let (users, locked) = room_for_users::<DirectoryError>(tx, max_users)?;
            let mut room = Room {
                users,
                max_users,
                seats: seats_in_use::<DirectoryError>(tx, None, Some(&locked))?,
            };
            let mut linked = Vec::with_capacity(members.len());
            for member in &members {
                let (user, created, changes) = link_one(tx, member, &mut room)?;
                if let Some(roles) = &member.roles {
                    users::set_app_roles(tx, user.id, roles)?;
                }
                let user = users::find(tx, user.id)?
                    .ok_or(StoreError::Corrupt("a linked user vanished".into()))?;
                let scope = (workspace.id, &workspace.key);
                events::user_changed(tx, scope, &caller, &user, &changes)?;
                linked.push(Linked {
                    user_name: user.user_name,
                    id: user.id.to_string(),
                    created,
                });
            }
            Ok::<_, DirectoryError>(linked)
        })
        .await
    }
}
