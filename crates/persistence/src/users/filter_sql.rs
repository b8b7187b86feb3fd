//! The attributes of a User as a filter names them, mapped to SQL: `userName`, `externalId`,
//! `id`, `active` and `meta`'s times to their columns (and indexes); `groups` to the memberships;
//! every other attribute, in the core schema or the Enterprise extension, to its place in the
//! folded document, any element of a multi-valued one.

use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::schema::{self, AttributeDef, Kind};
use webwork_scim_domain::text::fold_key;
use webwork_scim_domain::user::folds;

use crate::sql_filter::{
    Dialect, JsonDocument, Leaf, Memberships, Operand, Resolve, Source, Sql, compile,
    nested_value_path, sought, sub_attribute,
};

/// `filter` as a condition on the users table of `workspace` (its id as stored).
pub(super) fn condition(
    filter: &Filter,
    dialect: Dialect,
    workspace: &str,
) -> Result<Sql, DomainError> {
    compile(filter, &Users { dialect, workspace })
}

struct Users<'w> {
    dialect: Dialect,
    /// For the seeks of `user_emails`, whose key leads with it.
    workspace: &'w str,
}

fn unknown(path: &AttrPath) -> DomainError {
    DomainError::InvalidFilter(format!("'{path}' is not an attribute of a User"))
}

fn not_filterable(path: &AttrPath, why: &str) -> DomainError {
    DomainError::InvalidFilter(format!("'{path}' cannot be filtered: {why}"))
}

/// A core or common attribute's definition (`sub` resolved too), or an error naming the path.
fn definition(
    path: &AttrPath,
) -> Result<
    (
        Option<&'static str>,
        &'static AttributeDef,
        Option<&'static AttributeDef>,
    ),
    DomainError,
> {
    let (container, def) = match path.urn.as_deref() {
        Some(urn) if !schema::is_core_user(urn) => {
            let (urn, defs) = schema::user_extension(urn).ok_or_else(|| unknown(path))?;
            (Some(urn), AttributeDef::find(defs, &path.name))
        }
        _ => (None, schema::user_attribute(&path.name)),
    };
    let def = def.ok_or_else(|| unknown(path))?;
    let sub = match &path.sub {
        Some(sub) => Some(def.sub(sub).ok_or_else(|| unknown(path))?),
        None => None,
    };
    Ok((container, def, sub))
}

impl Users<'_> {
    /// The users of the workspace one of whose emails has the value `key` (folded), from
    /// `user_emails`, which the database keeps from each user's folded document.
    fn with_email(&self, key: String) -> Sql {
        let mut sql = Sql::raw(
            "users.id IN (SELECT scim_email.user_id FROM user_emails AS scim_email \
             WHERE scim_email.workspace_id = ",
        );
        sql.bind_text(self.workspace.to_owned())
            .push(" AND scim_email.value_key = ")
            .bind_text(key)
            .push(")");
        sql
    }

    fn document(&self) -> JsonDocument {
        JsonDocument {
            column: match self.dialect {
                Dialect::Sqlite => "users.folded_document",
                Dialect::Postgres => "users.folded_jsonb",
            },
            dialect: self.dialect,
        }
    }

    /// A column of `users` that an index leads with (after `workspace_id`).
    fn column(&self, def: &'static AttributeDef, column: &'static str, nullable: bool) -> Leaf {
        Leaf::Values {
            def,
            source: Source::One(Operand::indexed_column(self.dialect, column, nullable)),
        }
    }

    fn meta(
        &self,
        path: &AttrPath,
        sub: Option<&'static AttributeDef>,
    ) -> Result<Leaf, DomainError> {
        match sub.map(|def| def.name) {
            Some("created") => Ok(Leaf::Time("users.created_at")),
            Some("lastModified") => Ok(Leaf::Time("users.updated_at")),
            Some("resourceType") => Ok(Leaf::Constant("User")),
            Some(_) => Err(not_filterable(
                path,
                "it is derived when the resource is returned; filter on id or meta.lastModified",
            )),
            None => Err(not_filterable(path, "name one of its sub-attributes")),
        }
    }
}

impl Resolve for Users<'_> {
    fn dialect(&self) -> Dialect {
        self.dialect
    }

    fn leaf(&self, path: &AttrPath) -> Result<Leaf, DomainError> {
        let (container, def, sub) = definition(path)?;
        if container.is_none() {
            match (def.name, sub) {
                ("userName", None) => return Ok(self.column(def, "users.user_name_key", false)),
                ("externalId", None) => return Ok(self.column(def, "users.external_id", true)),
                ("id", None) => return Ok(self.column(def, "users.id", false)),
                ("active", None) => return Ok(Leaf::Flag("users.active")),
                ("meta", _) => return self.meta(path, sub),
                ("password", _) => return Err(not_filterable(path, "it is never returned")),
                ("groups", _) => return groups_of_user(self.dialect, def).leaf(path, sub),
                _ => {}
            }
        }
        let document = self.document();
        let mut steps: Vec<&'static str> = container.into_iter().collect();
        steps.push(def.name);
        let leaf = sub.unwrap_or(def);
        let source = if def.multi_valued {
            Source::Any {
                open: document.each(&steps),
                operand: document.element(sub.map(|s| s.name)),
            }
        } else {
            steps.extend(sub.map(|s| s.name));
            Source::One(document.at(&steps))
        };
        Ok(Leaf::Values { def: leaf, source })
    }

    fn value_path(&self, path: &AttrPath, filter: &Filter) -> Result<Sql, DomainError> {
        let (container, def, sub) = definition(path)?;
        if sub.is_some() || def.kind != Kind::Complex {
            return Err(DomainError::InvalidFilter(format!(
                "'{path}[…]' needs a complex attribute"
            )));
        }
        if container.is_none() && def.name == "groups" {
            return groups_of_user(self.dialect, def).value_path(filter);
        }
        if container.is_none() && def.name == "meta" {
            return Err(not_filterable(path, "filter on meta's sub-attributes"));
        }
        let seek = match (container, def.name, equal_value(filter)) {
            (None, "emails", Some(value)) => email_key(def, value).map(|key| self.with_email(key)),
            _ => None,
        };
        let document = self.document();
        let mut steps: Vec<&'static str> = container.into_iter().collect();
        steps.push(def.name);
        let element = Element {
            document,
            parent: def,
            at: (!def.multi_valued).then(|| steps.clone()),
        };
        let inner = compile(filter, &element)?;
        // A singular value filters only where the value is there: `name[givenName ne "x"]`
        // is false for a user without a name, as `emails[…]` is for one without emails.
        let open = if def.multi_valued {
            document.each(&steps)
        } else {
            format!("({} AND ", document.is_object(&steps))
        };
        let mut sql = Sql::raw(open);
        sql.append(inner).push(")");
        Ok(match seek {
            Some(seek) => sought(seek, sql),
            None => sql,
        })
    }

    fn seek_equal(&self, path: &AttrPath, value: &str) -> Option<Sql> {
        let (container, def, sub) = definition(path).ok()?;
        match (container, def.name, sub?.name) {
            (None, "emails", "value") => Some(self.with_email(email_key(def, value)?)),
            _ => None,
        }
    }
}

/// `value` as `user_emails` holds an email's value: folded as `emails.value` compares.
fn email_key(emails: &'static AttributeDef, value: &str) -> Option<String> {
    let def = emails.sub("value")?;
    Some(if folds(def) {
        fold_key(value)
    } else {
        value.to_owned()
    })
}

/// The string that `value` must equal for `filter` (a value filter's, names relative to the
/// element) to hold: from a `value eq "…"` alone or and'ed with other terms.
fn equal_value(filter: &Filter) -> Option<&str> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::String(value),
        } if path.urn.is_none()
            && path.sub.is_none()
            && path.name.eq_ignore_ascii_case("value") =>
        {
            Some(value)
        }
        Filter::And(left, right) => equal_value(left).or_else(|| equal_value(right)),
        _ => None,
    }
}

/// The sub-attributes of one complex value in the document: an element of a multi-valued
/// attribute (`at` is `None`), or the singular value at `at`.
struct Element {
    document: JsonDocument,
    parent: &'static AttributeDef,
    at: Option<Vec<&'static str>>,
}

impl Resolve for Element {
    fn dialect(&self) -> Dialect {
        self.document.dialect
    }

    fn leaf(&self, path: &AttrPath) -> Result<Leaf, DomainError> {
        let def = sub_attribute(self.parent, path)?;
        let operand = match &self.at {
            Some(steps) => {
                let mut steps = steps.clone();
                steps.push(def.name);
                self.document.at(&steps)
            }
            None => self.document.element(Some(def.name)),
        };
        Ok(Leaf::Values {
            def,
            source: Source::One(operand),
        })
    }

    fn value_path(&self, path: &AttrPath, _: &Filter) -> Result<Sql, DomainError> {
        Err(nested_value_path(path))
    }
}

/// The groups a user belongs to (`groups` is `def`): a group's display is its folded name.
fn groups_of_user(dialect: Dialect, def: &'static AttributeDef) -> Memberships {
    Memberships {
        dialect,
        parent: def,
        open: "EXISTS (SELECT 1 FROM group_members AS scim_membership WHERE \
               scim_membership.workspace_id = users.workspace_id AND \
               scim_membership.user_id = users.id AND ",
        value: "scim_membership.group_id",
        display: "(SELECT scim_group.display_name_key FROM groups AS scim_group WHERE \
                  scim_group.workspace_id = scim_membership.workspace_id AND scim_group.id = \
                  scim_membership.group_id)",
        kind: "'direct'",
    }
}
