//! Filters on memberships: a user's `groups` and a group's `members`, one row of
//! `group_members` each, bound to the outer row and its workspace.

use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::{AttrPath, Filter};
use webwork_scim_domain::schema::AttributeDef;

use super::{
    Dialect, Leaf, Operand, Resolve, Source, Sql, compile, nested_value_path, sub_attribute,
};

/// The memberships of the outer row, as the sub-attributes of `parent` see them.
pub(crate) struct Memberships {
    pub(crate) dialect: Dialect,
    /// `groups` of a User or `members` of a Group.
    pub(crate) parent: &'static AttributeDef,
    /// `EXISTS (SELECT 1 FROM group_members AS scim_membership WHERE` bound to the outer row
    /// `AND `.
    pub(crate) open: &'static str,
    /// SQL of one membership's `value`, its folded `display`, and the folded `type` all share.
    pub(crate) value: &'static str,
    pub(crate) display: &'static str,
    pub(crate) kind: &'static str,
}

fn not_filterable(path: &AttrPath, parent: &AttributeDef) -> DomainError {
    DomainError::InvalidFilter(format!(
        "'{path}' cannot be filtered: filter on {}.value",
        parent.name
    ))
}

impl Memberships {
    fn operand(&self, path: &AttrPath, sub: &AttributeDef) -> Result<Operand, DomainError> {
        let column = |sql: &str, nullable| Operand::column(self.dialect, sql, nullable);
        match sub.name {
            "value" => Ok(column(self.value, false)),
            "display" => Ok(column(self.display, true)),
            "type" => Ok(column(self.kind, false)),
            _ => Err(not_filterable(path, self.parent)),
        }
    }

    /// `parent.sub` (or `parent` itself, for `pr`: the row has a membership) at the resource.
    pub(crate) fn leaf(
        &self,
        path: &AttrPath,
        sub: Option<&'static AttributeDef>,
    ) -> Result<Leaf, DomainError> {
        let value = self
            .parent
            .sub("value")
            .ok_or_else(|| not_filterable(path, self.parent))?;
        let (def, operand) = match sub {
            Some(sub) => (sub, self.operand(path, sub)?),
            None => (self.parent, self.operand(path, value)?),
        };
        Ok(Leaf::Values {
            def,
            source: Source::Any {
                open: self.open.to_owned(),
                operand,
            },
        })
    }

    /// `parent[filter]`: some membership matches `filter`.
    pub(crate) fn value_path(&self, filter: &Filter) -> Result<Sql, DomainError> {
        let mut sql = Sql::raw(self.open);
        sql.append(compile(filter, self)?).push(")");
        Ok(sql)
    }
}

impl Resolve for Memberships {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn leaf(&self, path: &AttrPath) -> Result<Leaf, DomainError> {
        let def = sub_attribute(self.parent, path)?;
        Ok(Leaf::Values {
            def,
            source: Source::One(self.operand(path, def)?),
        })
    }

    fn value_path(&self, path: &AttrPath, _: &Filter) -> Result<Sql, DomainError> {
        Err(nested_value_path(path))
    }
}
