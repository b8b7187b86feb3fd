//! The parsers and the PATCH engine on hostile input: the filter parser, the PATCH path parser
//! and PATCH requests applied to a user never panic, and what they accept stays within the
//! service's bounds. Each run replays the corpus under `tests/corpus` (inputs that once broke
//! something, or are the RFC's own) and then generated input; `PROPTEST_CASES` sets how much
//! (256 per property by default; raise it for a longer run).

// Test fixtures fail the test at once, hence unwrap and expect outside `#[test]` functions too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use webwork_scim_domain::UserDraft;
use webwork_scim_domain::filter::{Filter, PatchPath};
use webwork_scim_domain::patch::PatchRequest;

fn corpus(name: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/corpus")
        .join(name);
    fs::read_to_string(&path)
        .unwrap_or_else(|err| panic!("{}: {err}", path.display()))
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Pieces filters and paths are made of, and some that they are not.
const TOKENS: &[&str] = &[
    "userName",
    "emails",
    "value",
    "type",
    "name",
    "givenName",
    "meta",
    "lastModified",
    "members",
    "active",
    "urn:ietf:params:scim:schemas:core:2.0:User:",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:",
    "manager",
    ".",
    ":",
    "[",
    "]",
    "(",
    ")",
    " ",
    " eq ",
    " ne ",
    " co ",
    " sw ",
    " ew ",
    " gt ",
    " pr",
    " and ",
    " or ",
    "not ",
    "\"",
    "\"x\"",
    "\"work\"",
    "true",
    "false",
    "null",
    "1",
    "-2.5e3",
    "\\",
    "é",
    "ｆ",
    "\u{200b}",
    "$ref",
    "primary",
    "\0",
];

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(TOKENS), 0..40).prop_map(|parts| parts.concat()),
        ".{0,64}",
    ]
}

fn user_document() -> Map<String, Value> {
    let draft = UserDraft::from_scim(&json!({
        "userName": "jane@acme.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"value": "jane@acme.com", "type": "work", "primary": true}],
        "roles": [{"value": "admin", "primary": "True"}],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
    }))
    .expect("a valid user");
    draft.document
}

fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i32>().prop_map(|n| json!(n)),
        "[a-zA-Z@. ]{0,12}".prop_map(Value::String),
        Just(json!("True")),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "value",
                    "type",
                    "primary",
                    "display",
                    "givenName",
                    "schemas",
                    "department",
                    "x"
                ]),
                inner,
                0..4
            )
            .prop_map(|m| Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())),
        ]
    })
}

fn operation() -> impl Strategy<Value = Value> {
    let paths = corpus("patch_paths.txt");
    (
        prop::sample::select(vec!["add", "replace", "remove", "Replace", "move"]),
        prop_oneof![
            prop::sample::select(paths).prop_map(Some),
            hostile_text().prop_map(Some),
            Just(None),
        ],
        prop::option::of(value()),
    )
        .prop_map(|(op, path, value)| {
            let mut operation = json!({"op": op});
            if let Some(path) = path {
                operation["path"] = json!(path);
            }
            if let Some(value) = value {
                operation["value"] = value;
            }
            operation
        })
}

/// Applies a PatchOp body to a user; whatever it is, the answer is Ok or Err, and an Ok leaves
/// a document that is either a valid user within the size limit or refused as one.
fn apply(body: Value) {
    let Ok(request) = PatchRequest::parse(body) else {
        return;
    };
    let mut document = user_document();
    if request.apply(&mut document).is_ok()
        && let Ok(user) = UserDraft::from_scim(&Value::Object(document))
    {
        let size = serde_json::to_vec(&user.document).map_or(0, |bytes| bytes.len());
        assert!(size <= webwork_scim_domain::user::MAX_DOCUMENT_BYTES);
        for (name, values) in &user.document {
            if let Some(values) = values.as_array() {
                assert!(
                    values.len() <= webwork_scim_domain::user::MAX_VALUES,
                    "{name}"
                );
                let primaries = values
                    .iter()
                    .filter(|v| v.get("primary") == Some(&json!(true)))
                    .count();
                assert!(primaries <= 1, "{name} has {primaries} primary values");
            }
        }
    }
}

#[test]
fn the_corpus_never_panics() {
    for text in corpus("filters.txt")
        .iter()
        .chain(&corpus("patch_paths.txt"))
    {
        let _ = Filter::parse(text);
        let _ = PatchPath::parse(text);
    }
    for path in corpus("patch_paths.txt") {
        for op in ["add", "replace", "remove"] {
            for value in [
                json!("x"),
                json!(true),
                json!([{"value": "v", "primary": true}]),
                json!({"value": "v"}),
            ] {
                apply(
                    json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                             "Operations": [{"op": op, "path": path, "value": value}]}),
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn filters_and_paths_never_panic(text in hostile_text()) {
        let _ = Filter::parse(&text);
        let _ = PatchPath::parse(&text);
    }

    #[test]
    fn patch_requests_never_panic_and_stay_in_bounds(operations in prop::collection::vec(operation(), 1..6)) {
        apply(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": operations}));
    }
}
