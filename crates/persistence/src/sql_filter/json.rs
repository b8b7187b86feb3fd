//! Reading a stored JSON document in SQL: the value at a path of keys, and the elements of an
//! array. Keys come from the schema catalogue (never from a request), so they are written into
//! the SQL text, which keeps one statement per filter shape.

use super::Dialect;

/// A value a comparison reads: SQL for its JSON type name (`json_type` on SQLite, `jsonb_typeof`
/// on PostgreSQL) and for its text.
#[derive(Debug, Clone)]
pub(crate) struct Operand {
    pub(crate) json_type: String,
    pub(crate) text: String,
    pub(crate) origin: Origin,
}

/// Where an operand's value comes from, which decides how a comparison guards against `NULL`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A stored document: any JSON type, or none.
    Json,
    /// A text column (compared bare, so that its index serves), `NULL` where `nullable`;
    /// `indexed` where it is a column of the listed table that leads an index after
    /// `workspace_id`.
    Column { nullable: bool, indexed: bool },
}

impl Operand {
    /// A text column, or a text expression that is `NULL` where the resource has no value.
    pub(crate) fn column(
        dialect: Dialect,
        expression: impl Into<String>,
        nullable: bool,
    ) -> Operand {
        Operand {
            json_type: dialect.text_type().to_owned(),
            text: expression.into(),
            origin: Origin::Column {
                nullable,
                indexed: false,
            },
        }
    }

    /// A column of the listed table that an index of it leads with, after `workspace_id`.
    pub(crate) fn indexed_column(
        dialect: Dialect,
        column: &'static str,
        nullable: bool,
    ) -> Operand {
        Operand {
            origin: Origin::Column {
                nullable,
                indexed: true,
            },
            ..Operand::column(dialect, column, nullable)
        }
    }

    /// Whether an index of the listed table finds the rows where this operand has a value.
    pub(crate) fn seekable(&self) -> bool {
        matches!(self.origin, Origin::Column { indexed: true, .. })
    }

    fn json(json_type: String, text: String) -> Operand {
        Operand {
            json_type,
            text,
            origin: Origin::Json,
        }
    }
}

/// A column holding a JSON object: text on SQLite (`users.folded_document`), `jsonb` on
/// PostgreSQL (`users.folded_jsonb`, parsed once when the row is written).
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonDocument {
    pub(crate) column: &'static str,
    pub(crate) dialect: Dialect,
}

/// The alias of an array element inside `EXISTS (SELECT 1 FROM … WHERE …)`.
const ELEMENT: &str = "scim_element";

fn sqlite_path(steps: &[&str]) -> String {
    let keys: String = steps.iter().map(|step| format!(".\"{step}\"")).collect();
    format!("'${keys}'")
}

fn postgres_path(steps: &[&str]) -> String {
    let keys: Vec<String> = steps.iter().map(|step| format!("\"{step}\"")).collect();
    format!("'{{{}}}'", keys.join(","))
}

impl JsonDocument {
    fn jsonb(&self) -> &str {
        self.column
    }

    /// The value at `steps`, outermost key first.
    pub(crate) fn at(&self, steps: &[&str]) -> Operand {
        match self.dialect {
            Dialect::Sqlite => {
                let path = sqlite_path(steps);
                Operand::json(
                    format!("json_type({}, {path})", self.column),
                    format!("json_extract({}, {path})", self.column),
                )
            }
            Dialect::Postgres => {
                let path = postgres_path(steps);
                Operand::json(
                    format!("jsonb_typeof({} #> {path})", self.jsonb()),
                    format!("({} #>> {path})", self.jsonb()),
                )
            }
        }
    }

    /// Whether the value at `steps` is an object: true or false, never `NULL`.
    pub(crate) fn is_object(&self, steps: &[&str]) -> String {
        let value = self.at(steps);
        format!(
            "COALESCE({} = 'object', {})",
            value.json_type,
            self.dialect.falsity()
        )
    }

    /// `EXISTS (SELECT 1 FROM` the elements of the array at `steps` `WHERE `: the caller writes
    /// a condition on [`JsonDocument::element`] and closes with `)`. On PostgreSQL a value that
    /// is not an array has no elements; SQLite's `json_each` would walk an object's members, but
    /// stored documents hold every multi-valued attribute as an array (the canonical form).
    pub(crate) fn each(&self, steps: &[&str]) -> String {
        match self.dialect {
            Dialect::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each({}, {}) AS {ELEMENT} WHERE ",
                self.column,
                sqlite_path(steps)
            ),
            Dialect::Postgres => {
                let array = format!("({} #> {})", self.jsonb(), postgres_path(steps));
                format!(
                    "EXISTS (SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof({array}) = \
                     'array' THEN {array} ELSE '[]'::jsonb END) AS {ELEMENT}(v) WHERE "
                )
            }
        }
    }

    /// The element of [`JsonDocument::each`], or its sub-attribute `sub`.
    pub(crate) fn element(&self, sub: Option<&str>) -> Operand {
        match (self.dialect, sub) {
            (Dialect::Sqlite, None) => {
                Operand::json(format!("{ELEMENT}.type"), format!("{ELEMENT}.atom"))
            }
            (Dialect::Sqlite, Some(sub)) => {
                let path = sqlite_path(&[sub]);
                Operand::json(
                    format!("json_type({ELEMENT}.value, {path})"),
                    format!("json_extract({ELEMENT}.value, {path})"),
                )
            }
            (Dialect::Postgres, None) => Operand::json(
                format!("jsonb_typeof({ELEMENT}.v)"),
                format!("({ELEMENT}.v #>> '{{}}')"),
            ),
            (Dialect::Postgres, Some(sub)) => Operand::json(
                format!("jsonb_typeof({ELEMENT}.v -> '{sub}')"),
                format!("({ELEMENT}.v ->> '{sub}')"),
            ),
        }
    }
}
