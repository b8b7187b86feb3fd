//! The attributes of a Group as a filter names them, mapped to SQL: `displayName` (through its
//! folded column), `externalId`, `id` and `meta`'s times to columns; `members` and its
//! sub-attributes to the memberships, any member.

use webwork_scim_domain::filter::{AttrPath, Filter};
use webwork_scim_domain::schema::AttributeDef;
use webwork_scim_domain::{DomainError, schema};

use crate::sql_filter::{Dialect, Leaf, Memberships, Operand, Resolve, Source, Sql, compile};

/// `filter` as a condition on the groups table.
pub(super) fn condition(filter: &Filter, dialect: Dialect) -> Result<Sql, DomainError> {
    compile(filter, &Groups { dialect })
}

struct Groups {
    dialect: Dialect,
}

fn unknown(path: &AttrPath) -> DomainError {
    DomainError::InvalidFilter(format!("'{path}' is not an attribute of a Group"))
}

fn not_filterable(path: &AttrPath, why: &str) -> DomainError {
    DomainError::InvalidFilter(format!("'{path}' cannot be filtered: {why}"))
}

fn definition(
    path: &AttrPath,
) -> Result<(&'static AttributeDef, Option<&'static AttributeDef>), DomainError> {
    if path
        .urn
        .as_deref()
        .is_some_and(|urn| !urn.eq_ignore_ascii_case(schema::CORE_GROUP))
    {
        return Err(unknown(path));
    }
    let def = AttributeDef::find(schema::GROUP, &path.name)
        .or_else(|| AttributeDef::find(schema::COMMON, &path.name))
        .ok_or_else(|| unknown(path))?;
    let sub = match &path.sub {
        Some(sub) => Some(def.sub(sub).ok_or_else(|| unknown(path))?),
        None => None,
    };
    Ok((def, sub))
}

/// `EXISTS (… WHERE` one membership of the group `AND …`.
const MEMBERS: &str = "EXISTS (SELECT 1 FROM group_members AS scim_membership WHERE \
                       scim_membership.workspace_id = groups.workspace_id AND \
                       scim_membership.group_id = groups.id AND ";

impl Resolve for Groups {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn leaf(&self, path: &AttrPath) -> Result<Leaf, DomainError> {
        let (def, sub) = definition(path)?;
        // Each column leads an index of `groups` after `workspace_id`.
        let column = |column: &'static str, nullable: bool| Leaf::Values {
            def,
            source: Source::One(Operand::indexed_column(self.dialect, column, nullable)),
        };
        Ok(match (def.name, sub.map(|s| s.name)) {
            ("displayName", None) => column("groups.display_name_key", false),
            ("externalId", None) => column("groups.external_id", true),
            ("id", None) => column("groups.id", false),
            ("meta", Some("created")) => Leaf::Time("groups.created_at"),
            ("meta", Some("lastModified")) => Leaf::Time("groups.updated_at"),
            ("meta", Some("resourceType")) => Leaf::Constant("Group"),
            ("meta", _) => {
                return Err(not_filterable(
                    path,
                    "filter on meta.created, meta.lastModified or meta.resourceType",
                ));
            }
            ("members", _) => return members(self.dialect, def).leaf(path, sub),
            _ => return Err(unknown(path)),
        })
    }

    fn value_path(&self, path: &AttrPath, filter: &Filter) -> Result<Sql, DomainError> {
        let (def, sub) = definition(path)?;
        if def.name != "members" || sub.is_some() {
            return Err(DomainError::InvalidFilter(format!(
                "'{path}[…]': a Group's value filters are on members"
            )));
        }
        members(self.dialect, def).value_path(filter)
    }
}

/// A group's members (`members` is `def`): a member's display is its folded userName.
fn members(dialect: Dialect, def: &'static AttributeDef) -> Memberships {
    Memberships {
        dialect,
        parent: def,
        open: MEMBERS,
        value: "scim_membership.user_id",
        display: "(SELECT scim_user.user_name_key FROM users AS scim_user WHERE \
                  scim_user.workspace_id = scim_membership.workspace_id AND scim_user.id = \
                  scim_membership.user_id)",
        kind: "'user'",
    }
}
