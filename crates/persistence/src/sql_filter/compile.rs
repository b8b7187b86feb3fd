//! A filter's tree as SQL: `and`/`or`/`not` as written, `ne` as the complement of `eq` (a
//! resource without the attribute is "not equal"), and each comparison as its resolver maps the
//! attribute. Literals are checked against the attribute's type first: comparing a string with a
//! boolean, or ordering against `null`, is `invalidFilter`, not a silent empty answer. `eq null`
//! is "not present" and `ne null` "present" (RFC 7643 §2.5: null and unassigned are one state).

use time::format_description::well_known::Rfc3339;
use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::{AttrPath, CompValue, CompareOp, Filter};
use webwork_scim_domain::schema::{AttributeDef, Kind};
use webwork_scim_domain::text::{escape_like, fold_key, prefix_end};
use webwork_scim_domain::user::{folds, parse_bool_text};

use super::json::{Operand, Origin};
use super::{Dialect, Sql};
use crate::clock;

/// What an attribute path names, for its resource.
pub(crate) enum Leaf {
    /// Values compared as `def` says (type, `caseExact`), read through `source`.
    Values {
        def: &'static AttributeDef,
        source: Source,
    },
    /// A boolean column that every resource has.
    Flag(&'static str),
    /// A time column that every resource has (`meta.created`, `meta.lastModified`).
    Time(&'static str),
    /// A value every resource of the listing shares (`meta.resourceType`), compared exactly.
    Constant(&'static str),
}

/// How a leaf's values are reached.
pub(crate) enum Source {
    /// One value: a column or a place in the document.
    One(Operand),
    /// Any of several values: `open` begins `EXISTS (SELECT 1 FROM … WHERE `, and `operand`
    /// reads the value of one row.
    Any { open: String, operand: Operand },
}

/// The attribute names of one resource type, or of the elements of one of its attributes.
pub(crate) trait Resolve {
    fn dialect(&self) -> Dialect;

    fn leaf(&self, path: &AttrPath) -> Result<Leaf, DomainError>;

    /// `path[filter]`: some value of `path` matches `filter`, whose names are relative to it.
    fn value_path(&self, path: &AttrPath, filter: &Filter) -> Result<Sql, DomainError>;

    /// A condition that holds for every resource where some value of the multi-valued `path`
    /// equals `value` (compared as `path` compares), which an index answers: and'ed with the
    /// comparison, it finds the resources to check. `None` where no index serves `path`.
    fn seek_equal(&self, _path: &AttrPath, _value: &str) -> Option<Sql> {
        None
    }
}

/// `(seek AND condition)`, marked as seeking: `seek` holds wherever `condition` does.
pub(crate) fn sought(seek: Sql, condition: Sql) -> Sql {
    let mut sql = Sql::join(seek, "AND", condition);
    sql.seeks = true;
    sql
}

/// `filter` as a condition that is true or false for every row, never `NULL`.
pub(crate) fn compile(filter: &Filter, scope: &dyn Resolve) -> Result<Sql, DomainError> {
    Ok(match filter {
        Filter::And(left, right) => Sql::join(compile(left, scope)?, "AND", compile(right, scope)?),
        Filter::Or(left, right) => Sql::join(compile(left, scope)?, "OR", compile(right, scope)?),
        Filter::Not(inner) => Sql::negate(compile(inner, scope)?),
        Filter::Present(path) => leaf_condition(scope, path, Test::Present)?,
        // RFC 7643 §2.5: null and unassigned are one state.
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Null,
        } => Sql::negate(leaf_condition(scope, path, Test::Present)?),
        Filter::Compare {
            path,
            op: CompareOp::Ne,
            value: CompValue::Null,
        } => leaf_condition(scope, path, Test::Present)?,
        Filter::Compare {
            path,
            op: CompareOp::Ne,
            value,
        } => Sql::negate(leaf_condition(
            scope,
            path,
            Test::Compare(CompareOp::Eq, value),
        )?),
        Filter::Compare { path, op, value } => {
            leaf_condition(scope, path, Test::Compare(*op, value))?
        }
        Filter::ValuePath { path, filter } => scope.value_path(path, filter)?,
    })
}

#[derive(Clone, Copy)]
enum Test<'a> {
    Present,
    Compare(CompareOp, &'a CompValue),
}

/// The definition of `path` among `parent`'s sub-attributes, in a value filter of `parent`.
pub(crate) fn sub_attribute(
    parent: &'static AttributeDef,
    path: &AttrPath,
) -> Result<&'static AttributeDef, DomainError> {
    match (&path.urn, &path.sub) {
        (None, None) => parent.sub(&path.name),
        _ => None,
    }
    .ok_or_else(|| {
        invalid(format!(
            "'{path}' is not a sub-attribute of '{}'",
            parent.name
        ))
    })
}

/// `a[b[…]]`: value filters do not nest.
pub(crate) fn nested_value_path(path: &AttrPath) -> DomainError {
    invalid(format!(
        "'{path}[…]' cannot sit inside another value filter"
    ))
}

fn invalid(message: String) -> DomainError {
    DomainError::InvalidFilter(message)
}

fn truth(value: bool) -> Sql {
    Sql::raw(if value { "(1 = 1)" } else { "(1 = 0)" })
}

fn leaf_condition(
    scope: &dyn Resolve,
    path: &AttrPath,
    test: Test<'_>,
) -> Result<Sql, DomainError> {
    if let Test::Compare(_, CompValue::Null) = test {
        return Err(invalid(format!(
            "'{path}' compares with null by eq or ne only"
        )));
    }
    let dialect = scope.dialect();
    match scope.leaf(path)? {
        Leaf::Values { def, source } => {
            let (open, operand) = match source {
                Source::One(operand) => (None, operand),
                Source::Any { open, operand } => (Some(open), operand),
            };
            let mut predicate = predicate(dialect, def, &operand, path, test)?;
            Ok(match open {
                None => {
                    predicate.seeks = operand.seekable() && narrows(test);
                    predicate
                }
                Some(open) => {
                    let mut sql = Sql::raw(open);
                    sql.append(predicate).push(")");
                    match test {
                        Test::Compare(CompareOp::Eq, CompValue::String(value)) => {
                            match scope.seek_equal(path, value) {
                                Some(seek) => sought(seek, sql),
                                None => sql,
                            }
                        }
                        _ => sql,
                    }
                }
            })
        }
        Leaf::Flag(column) => match test {
            Test::Present => Ok(truth(true)),
            Test::Compare(CompareOp::Eq, literal) => {
                let wanted = boolean(path, literal)?;
                Ok(Sql::raw(if wanted {
                    format!("({column})")
                } else {
                    format!("(NOT {column})")
                }))
            }
            Test::Compare(..) => Err(invalid(format!("'{path}' takes only eq and ne"))),
        },
        Leaf::Time(column) => match test {
            Test::Present => Ok(truth(true)),
            Test::Compare(op, literal) => time_condition(column, path, op, literal),
        },
        Leaf::Constant(value) => match test {
            Test::Present => Ok(truth(true)),
            Test::Compare(op, literal) => {
                let literal = string(path, literal)?;
                Ok(truth(compare_exact(value, op, literal)))
            }
        },
    }
}

/// Whether `test` holds only for values an ordered index finds by seeking: one value, or the
/// values that begin with a prefix.
fn narrows(test: Test<'_>) -> bool {
    match test {
        Test::Compare(CompareOp::Eq, _) => true,
        Test::Compare(CompareOp::Sw, CompValue::String(prefix)) => !prefix.is_empty(),
        _ => false,
    }
}

fn string<'a>(path: &AttrPath, literal: &'a CompValue) -> Result<&'a str, DomainError> {
    match literal {
        CompValue::String(text) => Ok(text),
        _ => Err(invalid(format!("'{path}' compares with a string"))),
    }
}

/// A boolean literal, also as identity providers quote it (`"True"`).
fn boolean(path: &AttrPath, literal: &CompValue) -> Result<bool, DomainError> {
    match literal {
        CompValue::Bool(value) => Some(*value),
        CompValue::String(text) => parse_bool_text(text),
        _ => None,
    }
    .ok_or_else(|| invalid(format!("'{path}' compares with true or false")))
}

fn compare_exact(actual: &str, op: CompareOp, expected: &str) -> bool {
    match op {
        CompareOp::Eq => actual == expected,
        CompareOp::Ne => actual != expected,
        CompareOp::Co => actual.contains(expected),
        CompareOp::Sw => actual.starts_with(expected),
        CompareOp::Ew => actual.ends_with(expected),
        CompareOp::Gt => actual > expected,
        CompareOp::Ge => actual >= expected,
        CompareOp::Lt => actual < expected,
        CompareOp::Le => actual <= expected,
    }
}

fn time_condition(
    column: &str,
    path: &AttrPath,
    op: CompareOp,
    literal: &CompValue,
) -> Result<Sql, DomainError> {
    let wrong = || invalid(format!("'{path}' compares with an RFC 3339 date-time"));
    let CompValue::String(text) = literal else {
        return Err(wrong());
    };
    let literal = time::OffsetDateTime::parse(text, &Rfc3339).map_err(|_| wrong())?;
    // Stored times have microseconds; a literal finer than that lies between two of them.
    let between = literal.nanosecond() % 1_000 != 0;
    let at = clock::to_db(literal);
    let sign = match (op, between) {
        (CompareOp::Eq, false) => "=",
        (CompareOp::Eq, true) => return Ok(truth(false)),
        (CompareOp::Gt, _) | (CompareOp::Ge, true) => ">",
        (CompareOp::Ge, false) => ">=",
        (CompareOp::Lt, false) => "<",
        (CompareOp::Lt, true) | (CompareOp::Le, _) => "<=",
        _ => {
            return Err(invalid(format!("'{path}' takes eq, ne, gt, ge, lt and le")));
        }
    };
    let mut sql = Sql::raw(format!("({column} {sign} "));
    sql.bind_time(at).push(")");
    Ok(sql)
}

/// The condition on one value of `def`, read by `operand`.
fn predicate(
    dialect: Dialect,
    def: &AttributeDef,
    operand: &Operand,
    path: &AttrPath,
    test: Test<'_>,
) -> Result<Sql, DomainError> {
    let (op, literal) = match test {
        Test::Present => return Ok(present(dialect, operand)),
        Test::Compare(op, literal) => (op, literal),
    };
    match def.kind {
        Kind::Boolean => {
            let wanted = boolean(path, literal)?;
            if op != CompareOp::Eq {
                return Err(invalid(format!("'{path}' takes only eq and ne")));
            }
            let check = match dialect {
                Dialect::Sqlite => format!(
                    "{} = '{}'",
                    operand.json_type,
                    if wanted { "true" } else { "false" }
                ),
                Dialect::Postgres => format!(
                    "{} = 'boolean' AND {} = '{wanted}'",
                    operand.json_type, operand.text
                ),
            };
            Ok(guarded(dialect, operand, Sql::raw(check)))
        }
        Kind::String | Kind::Reference => {
            let literal = string(path, literal)?;
            Ok(text_condition(dialect, def, operand, op, literal))
        }
        Kind::Complex => Err(invalid(format!(
            "'{path}' is complex: compare one of its sub-attributes"
        ))),
        Kind::DateTime | Kind::Integer | Kind::Decimal => {
            Err(invalid(format!("'{path}' cannot be compared")))
        }
    }
}

/// A string comparison of the value `operand` reads, `literal` folded where `def` folds case.
fn text_condition(
    dialect: Dialect,
    def: &AttributeDef,
    operand: &Operand,
    op: CompareOp,
    literal: &str,
) -> Sql {
    let literal = if folds(def) {
        fold_key(literal)
    } else {
        literal.to_owned()
    };
    let mut check = match op {
        CompareOp::Sw if operand.seekable() => prefix_range(dialect, operand, &literal),
        _ => Sql::default(),
    };
    let (expression, bound) = match op {
        CompareOp::Eq => (format!("{} = ", operand.text), literal),
        CompareOp::Ne => (format!("{} <> ", operand.text), literal),
        CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le => {
            let sign = match op {
                CompareOp::Gt => ">",
                CompareOp::Ge => ">=",
                CompareOp::Lt => "<",
                _ => "<=",
            };
            (
                format!("{} {sign} ", dialect.binary(&operand.text)),
                literal,
            )
        }
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
            let escaped = escape_like(&literal);
            let pattern = match op {
                CompareOp::Co => format!("%{escaped}%"),
                CompareOp::Sw => format!("{escaped}%"),
                _ => format!("%{escaped}"),
            };
            (format!("{} LIKE ", operand.text), pattern)
        }
    };
    check.push(expression).bind_text(bound);
    if matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
        check.push(" ESCAPE '\\'");
    }
    if operand.origin == Origin::Json {
        let mut typed = Sql::raw(format!(
            "{} = {} AND ",
            operand.json_type,
            dialect.text_type()
        ));
        typed.append(check);
        check = typed;
    }
    guarded(dialect, operand, check)
}

/// `column >= prefix AND column < end AND ` (code-point order): the range of an indexed column's
/// values that begin with `prefix`, which `LIKE` alone does not seek (SQLite's `LIKE` ignores
/// ASCII case and PostgreSQL's collation need not order by code points). Empty for an empty
/// prefix, which every value begins with.
fn prefix_range(dialect: Dialect, operand: &Operand, prefix: &str) -> Sql {
    let mut range = Sql::default();
    if prefix.is_empty() {
        return range;
    }
    let ordered = dialect.binary(&operand.text);
    range
        .push(format!("{ordered} >= "))
        .bind_text(prefix.to_owned());
    if let Some(end) = prefix_end(prefix) {
        range.push(format!(" AND {ordered} < ")).bind_text(end);
    }
    range.push(" AND ");
    range
}

/// `check` made true or false where the value is missing: a document's value may be absent
/// (`NULL`), a nullable column too.
fn guarded(dialect: Dialect, operand: &Operand, check: Sql) -> Sql {
    match operand.origin {
        Origin::Json => {
            let mut sql = Sql::raw("COALESCE((");
            sql.append(check).push(format!("), {})", dialect.falsity()));
            sql
        }
        Origin::Column { nullable: true, .. } => {
            let mut sql = Sql::raw(format!("({} IS NOT NULL AND ", operand.text));
            sql.append(check).push(")");
            sql
        }
        Origin::Column {
            nullable: false, ..
        } => {
            let mut sql = Sql::raw("(");
            sql.append(check).push(")");
            sql
        }
    }
}

/// RFC 7644: `pr` is true for a value that is not null, not an empty string, array or object.
/// Stored documents hold no empty arrays or objects (they are not stored), so only strings are
/// checked for emptiness.
fn present(dialect: Dialect, operand: &Operand) -> Sql {
    let check = match operand.origin {
        Origin::Json => format!(
            "{t} <> 'null' AND ({t} <> {text} OR {x} <> '')",
            t = operand.json_type,
            text = dialect.text_type(),
            x = operand.text
        ),
        Origin::Column { .. } => format!("{} <> ''", operand.text),
    };
    guarded(dialect, operand, Sql::raw(check))
}
