//! The SQL of a filter selects exactly the users the in-memory matcher selects, on random
//! documents and random filters over every kind of attribute, on the backend under test.

use std::collections::BTreeSet;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value, json};
use webwork_scim_domain::filter::{Filter, matches};
use webwork_scim_domain::schema::ENTERPRISE_USER;
use webwork_scim_domain::{Plan, User, UserDraft};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::users;

use crate::support::all;

/// Users per generated workspace.
const USERS: usize = 10;
/// Nanoseconds added to a user's time in a generated literal.
const DELTAS: &[i64] = &[-1_000, -1, 0, 1, 500, 1_000, 86_400_000_000_000];

/// The filter with each `@T<user>_<delta>` replaced by that user's `meta.lastModified` (also its
/// creation time: nothing changes the users here) plus `delta` nanoseconds, and `@ID<user>` by
/// its id.
fn with_instants(text: &str, users: &[User]) -> String {
    let mut text = text.to_owned();
    for (n, user) in users.iter().enumerate().rev() {
        for delta in DELTAS {
            let at = user.updated_at + time::Duration::nanoseconds(*delta);
            let formatted = at
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap();
            text = text.replace(&format!("@T{n}_{delta}\""), &format!("{formatted}\""));
        }
        text = text.replace(&format!("@ID{n}\""), &format!("{}\"", user.id));
    }
    text
}

/// Words that fold alike and apart, with LIKE's metacharacters, accents composed and not, and
/// the empty string.
const WORDS: &[&str] = &[
    "",
    "a",
    "A",
    "ab",
    "aB",
    "b",
    "straße",
    "STRASSE",
    "é",
    "e\u{301}",
    "x%y",
    "x_y",
    "Z",
    "@acme.com",
    "j@Acme.com",
    "J@acme.COM",
    "work",
    "Work",
    "home",
    "ﬁ",
    "fi",
    // Prefixes whose range ends past a surrogate or at the last char.
    "a\u{10ffff}",
    "a\u{10ffff}b",
    "\u{d7ff}",
    "\u{d7ff}x",
    "\u{e000}",
    // Prefixes of the generated userNames (`u<n><word>`).
    "u1",
    "U1",
];

fn word() -> impl Strategy<Value = &'static str> {
    prop::sample::select(WORDS)
}

fn maybe<T: std::fmt::Debug>(inner: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
    prop::option::of(inner)
}

fn element() -> impl Strategy<Value = (Option<&'static str>, Option<&'static str>)> {
    (maybe(word()), maybe(word()))
}

/// A User body: `n` makes the userName unique, the rest is drawn from [`WORDS`].
fn body(n: usize) -> impl Strategy<Value = Value> {
    (
        (word(), maybe(word()), any::<bool>(), maybe(word()), maybe(word())),
        (maybe(word()), maybe(word())),
        (prop::collection::vec(element(), 0..4), prop::option::of(0..3_usize)),
        prop::collection::vec(element(), 0..3),
        (maybe(word()), maybe(word())),
        prop::collection::vec((word(), any::<bool>()), 0..3),
    )
        .prop_map(
            move |(
                (name, external, active, title, display),
                (family, given),
                (emails, primary),
                phones,
                (department, manager),
                roles,
            )| {
                let mut user = Map::new();
                user.insert("userName".into(), json!(format!("u{n}{name}")));
                let mut set = |key: &str, value: Option<&str>| {
                    if let Some(value) = value {
                        user.insert(key.into(), json!(value));
                    }
                };
                set("externalId", external.filter(|e| !e.is_empty()));
                set("title", title);
                set("displayName", display);
                user.insert("active".into(), json!(active));
                user.insert("name".into(), json!({"familyName": family, "givenName": given}));
                let emails: Vec<Value> = emails
                    .into_iter()
                    .enumerate()
                    .map(|(i, (value, kind))| {
                        json!({"value": value, "type": kind, "primary": primary == Some(i)})
                    })
                    .collect();
                user.insert("emails".into(), Value::Array(emails));
                let phones: Vec<Value> = phones
                    .into_iter()
                    .map(|(value, kind)| json!({"value": value, "type": kind}))
                    .collect();
                user.insert("phoneNumbers".into(), Value::Array(phones));
                // At most one role is primary, as RFC 7643 requires.
                let roles: Vec<Value> = roles
                    .into_iter()
                    .enumerate()
                    .map(|(i, (value, primary))| json!({"value": value, "primary": primary && i == 0}))
                    .collect();
                user.insert("roles".into(), Value::Array(roles));
                user.insert(
                    ENTERPRISE_USER.into(),
                    json!({"department": department, "manager": {"value": manager}}),
                );
                Value::Object(user)
            },
        )
}

const TEXT_PATHS: &[&str] = &[
    "userName",
    "externalId",
    "displayName",
    "title",
    "name.familyName",
    "NAME.givenName",
    "emails.value",
    "emails.type",
    "phoneNumbers.value",
    "roles.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:core:2.0:User:title",
];
const FLAG_PATHS: &[&str] = &["active", "emails.primary", "roles.primary"];
const PRESENT_PATHS: &[&str] = &[
    "name",
    "emails",
    "roles",
    "phoneNumbers",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
];
const OPS: &[&str] = &["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
const FLAGS: &[&str] = &["true", "false", "\"True\"", "\"false\""];
/// Value filters: an attribute and the sub-attributes its filter may name.
const VALUE_PATHS: &[(&str, &[&str], &[&str])] = &[
    ("emails", &["value", "type", "display"], &["primary"]),
    ("phoneNumbers", &["value", "type"], &["primary"]),
    ("roles", &["value"], &["primary"]),
    ("name", &["familyName", "givenName"], &[]),
];

fn quoted(text: &str) -> String {
    Value::String(text.to_owned()).to_string()
}

fn comparison(
    paths: &'static [&'static str],
    flags: &'static [&'static str],
) -> BoxedStrategy<String> {
    let text = (
        prop::sample::select(paths),
        prop::sample::select(OPS),
        word(),
    )
        .prop_map(|(path, op, value)| format!("{path} {op} {}", quoted(value)));
    let present = prop::sample::select(paths).prop_map(|path| format!("{path} pr"));
    if flags.is_empty() {
        return prop_oneof![4 => text, 1 => present].boxed();
    }
    let flag = (
        prop::sample::select(flags),
        prop::sample::select(&["eq", "ne"][..]),
        prop::sample::select(FLAGS),
    )
        .prop_map(|(path, op, value)| format!("{path} {op} {value}"));
    prop_oneof![4 => text, 1 => present, 2 => flag].boxed()
}

fn leaf() -> BoxedStrategy<String> {
    let value_path =
        prop::sample::select(VALUE_PATHS).prop_flat_map(|(attribute, texts, flags)| {
            let inner = comparison(texts, flags);
            (
                inner.clone(),
                prop::option::of((prop::sample::select(&["and", "or"][..]), inner)),
            )
                .prop_map(move |(first, second)| match second {
                    Some((join, second)) => format!("{attribute}[{first} {join} {second}]"),
                    None => format!("{attribute}[{first}]"),
                })
        });
    let present = prop::sample::select(PRESENT_PATHS).prop_map(|path| format!("{path} pr"));
    // Times and ids of the workspace's own users, filled in when the users exist (see
    // [`with_instants`]): a user's time itself, and a nanosecond or a microsecond around it.
    let modified = (
        prop::sample::select(&["meta.lastModified", "meta.created"][..]),
        prop::sample::select(&["gt", "lt", "ge", "le", "eq", "ne"][..]),
        0..USERS,
        prop::sample::select(DELTAS),
    )
        .prop_map(|(path, op, user, delta)| format!("{path} {op} \"@T{user}_{delta}\""));
    let id = (
        prop::sample::select(&["eq", "ne", "sw", "gt"][..]),
        0..USERS,
    )
        .prop_map(|(op, user)| format!("id {op} \"@ID{user}\""));
    let null = (
        prop::sample::select(&[TEXT_PATHS, FLAG_PATHS, PRESENT_PATHS][..]),
        any::<prop::sample::Index>(),
        prop::sample::select(&["eq", "ne"][..]),
    )
        .prop_map(|(paths, index, op)| format!("{} {op} null", index.get(paths)));
    let resource_type = prop::sample::select(&["User", "Group", "user"][..])
        .prop_map(|kind| format!("meta.resourceType eq \"{kind}\""));
    prop_oneof![
        6 => comparison(TEXT_PATHS, FLAG_PATHS),
        2 => value_path,
        1 => present,
        1 => modified,
        1 => id,
        1 => resource_type,
        1 => null,
    ]
    .boxed()
}

fn filter() -> impl Strategy<Value = String> {
    leaf().prop_recursive(3, 12, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

/// The user as the matcher sees it: its document, `id` and `meta` as a response shows them.
fn resource(user: &User) -> Value {
    let time = |at: time::OffsetDateTime| {
        at.format(&time::format_description::well_known::Rfc3339)
            .map_or(Value::Null, Value::String)
    };
    let mut resource = user.document.clone();
    resource.insert("id".into(), json!(user.id.to_string()));
    resource.insert(
        "meta".into(),
        json!({"resourceType": "User", "created": time(user.created_at),
               "lastModified": time(user.updated_at)}),
    );
    Value::Object(resource)
}

fn agree(db: &TestDb, bodies: Vec<Value>, filters: Vec<String>) -> Result<(), TestCaseError> {
    let ws = db.workspace("Acme", Plan::Premium, true);
    for body in &bodies {
        let draft = UserDraft::from_scim(body).map_err(|e| TestCaseError::fail(e.to_string()))?;
        db.store
            .write(ws.id, |tx| users::insert(tx, &draft, None))
            .map_err(|e| TestCaseError::fail(format!("{e:?}")))?;
    }
    let everyone = db
        .store
        .read(ws.id, |tx| users::list(tx, all(None)))
        .unwrap();
    for text in filters {
        let text = with_instants(&text, &everyone.users);
        let filter =
            Filter::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        let expected: BTreeSet<String> = everyone
            .users
            .iter()
            .filter(|user| matches(&filter, &resource(user)))
            .map(|user| user.id.to_string())
            .collect();
        let page = db
            .store
            .read(ws.id, |tx| users::list(tx, all(Some(&filter))))
            .map_err(|e| TestCaseError::fail(format!("{text}: {e:?}")))?;
        let selected: BTreeSet<String> = page.users.iter().map(|u| u.id.to_string()).collect();
        prop_assert_eq!(&selected, &expected, "{}", text);
        prop_assert_eq!(
            page.total,
            i64::try_from(expected.len()).unwrap(),
            "{}",
            text
        );
    }
    Ok(())
}

#[test]
fn sql_selects_what_the_matcher_selects() {
    let db = TestDb::new();
    let cases = std::env::var("FILTER_AGREEMENT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(48);
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let bodies = (0..10_usize).map(body).collect::<Vec<_>>();
    let strategy = (bodies, prop::collection::vec(filter(), 12));
    runner
        .run(&strategy, |(bodies, filters)| agree(&db, bodies, filters))
        .unwrap();
}
