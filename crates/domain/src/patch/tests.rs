use serde_json::json;

use super::*;
use crate::UserDraft;
use crate::user::Password;

fn doc() -> Map<String, Value> {
    let draft = UserDraft::from_scim(&json!({
        "userName": "jane@acme.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [
            {"value": "jane@acme.com", "type": "work", "primary": true},
            {"value": "jane@home.example", "type": "home"}
        ],
        "title": "Engineer",
        "active": true
    }))
    .unwrap();
    draft.document
}

fn patch(ops: Value) -> PatchRequest {
    PatchRequest::parse(json!({"schemas": [schema::PATCH_OP], "Operations": ops})).unwrap()
}

fn applied(ops: Value) -> UserDraft {
    let mut document = doc();
    patch(ops).apply(&mut document).unwrap();
    UserDraft::from_scim(&Value::Object(document)).unwrap()
}

#[test]
fn okta_deactivation_without_path() {
    let user = applied(json!([{"op": "replace", "value": {"active": false}}]));
    assert!(!user.active);
    assert_eq!(user.document["title"], "Engineer");
    assert_eq!(user.document["name"]["givenName"], "Jane");
}

#[test]
fn okta_password_sync_is_extracted_not_stored() {
    let user = applied(json!([{"op": "replace", "value": {"password": "n3w!"}}]));
    assert_eq!(user.password.unwrap().expose(), "n3w!");
    assert!(!user.document.contains_key("password"));
}

#[test]
fn ops_are_case_insensitive_and_booleans_may_be_strings() {
    let user = applied(json!([{"op": "Replace", "path": "active", "value": "False"}]));
    assert!(!user.active);
}

#[test]
fn simple_and_sub_attribute_paths() {
    let user = applied(json!([
        {"op": "replace", "path": "title", "value": "Manager"},
        {"op": "replace", "path": "name.familyName", "value": "Smith"},
        {"op": "add", "path": "nickName", "value": "JJ"},
        {"op": "remove", "path": "name.givenName"}
    ]));
    assert_eq!(user.document["title"], "Manager");
    assert_eq!(user.document["name"], json!({"familyName": "Smith"}));
    assert_eq!(user.document["nickName"], "JJ");
}

#[test]
fn entra_dotted_and_urn_keys_in_a_path_less_value_are_stored_nested() {
    let user = applied(json!([{"op": "replace", "value": {
        "name.givenName": "Kim",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
        "id": "ignored"
    }}]));
    assert_eq!(user.document["name"]["givenName"], "Kim");
    assert_eq!(
        user.document[schema::ENTERPRISE_USER]["employeeNumber"],
        "42"
    );
    assert!(!user.document.contains_key("name.givenName"));
}

#[test]
fn value_filter_paths_update_the_matching_element() {
    let user = applied(json!([
        {"op": "replace", "path": "emails[type eq \"work\"].value", "value": "jane.doe@acme.com"}
    ]));
    let emails = user.document["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0]["value"], "jane.doe@acme.com");
    assert_eq!(emails[1]["value"], "jane@home.example");
}

#[test]
fn value_filter_without_a_match_creates_the_element() {
    let user = applied(json!([
        {"op": "Add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555 0100"}
    ]));
    assert_eq!(
        user.document["phoneNumbers"],
        json!([{"type": "mobile", "value": "+1 555 0100"}])
    );
}

#[test]
fn remove_with_value_filter_removes_only_matches() {
    let user = applied(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]));
    let emails = user.document["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["type"], "work");
}

#[test]
fn remove_with_value_list_removes_only_listed_elements() {
    let user = applied(
        json!([{"op": "remove", "path": "emails", "value": [{"value": "jane@home.example"}]}]),
    );
    assert_eq!(user.document["emails"].as_array().unwrap().len(), 1);
}

#[test]
fn add_to_multi_valued_appends_and_replace_overwrites() {
    let added = applied(json!([{"op": "add", "path": "emails", "value": [{"value": "x@y.z"}]}]));
    assert_eq!(added.document["emails"].as_array().unwrap().len(), 3);
    let replaced =
        applied(json!([{"op": "replace", "path": "emails", "value": [{"value": "x@y.z"}]}]));
    assert_eq!(replaced.document["emails"], json!([{"value": "x@y.z"}]));
}

#[test]
fn enterprise_extension_path() {
    let user = applied(json!([
        {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
         "value": {"department": "Sales"}},
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
         "value": "boss-1"}
    ]));
    let ext = &user.document[schema::ENTERPRISE_USER];
    assert_eq!(ext["department"], "Sales");
    assert_eq!(ext["manager"]["value"], "boss-1");
}

#[test]
fn an_extension_object_copied_with_its_schemas_key_applies() {
    let user = applied(json!([
        {"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
         "value": {"schemas": ["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                   "department": "Support", "costCenter": "4130"}}
    ]));
    let ext = &user.document[schema::ENTERPRISE_USER];
    assert_eq!(ext, &json!({"department": "Support", "costCenter": "4130"}));
}

fn primaries(user: &UserDraft) -> Vec<(String, bool)> {
    user.document["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let value = e["value"].as_str().unwrap().to_owned();
            (value, e.get("primary") == Some(&json!(true)))
        })
        .collect()
}

#[test]
fn a_new_primary_demotes_the_old_one() {
    let added = applied(json!([
        {"op": "add", "path": "emails", "value": [{"value": "j@new.example", "primary": true}]}
    ]));
    assert_eq!(
        primaries(&added),
        [
            ("jane@acme.com".into(), false),
            ("jane@home.example".into(), false),
            ("j@new.example".into(), true)
        ]
    );
    assert_eq!(added.document["emails"][0]["primary"], json!(false));
    let marked = applied(json!([
        {"op": "replace", "path": "emails[value eq \"jane@home.example\"].primary", "value": true}
    ]));
    assert_eq!(
        primaries(&marked),
        [
            ("jane@acme.com".into(), false),
            ("jane@home.example".into(), true)
        ]
    );
    let two = patch(json!([{"op": "add", "path": "emails", "value": [
        {"value": "a@x.io", "primary": true}, {"value": "b@x.io", "primary": true}
    ]}]))
    .apply(&mut doc())
    .unwrap_err();
    assert!(two.to_string().contains("at most one primary"), "{two}");
}

#[test]
fn a_quoted_boolean_in_a_value_path_matches_the_stored_one() {
    let user = applied(json!([
        {"op": "replace", "path": "emails[primary eq \"True\"].type", "value": "office"}
    ]));
    let emails = user.document["emails"].as_array().unwrap();
    assert_eq!(emails.len(), 2, "no element was appended");
    assert_eq!(emails[0]["type"], "office");
    assert_eq!(emails[0]["value"], "jane@acme.com");
}

#[test]
fn changes_to_a_custom_extension_are_no_ops() {
    let before = doc();
    let user = applied(json!([
        {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:CostCenters:2.0:User:costCentre",
         "value": "7"},
        {"op": "replace", "value": {"urn:okta:webwork_1:1.0:user:custom": {"badgeColour": "blue"}}},
        {"op": "remove", "path": "urn:okta:webwork_1:1.0:user:custom:badgeColour"}
    ]));
    assert_eq!(user.document, before);
    // Another IETF SCIM schema is still an unknown path.
    let err = patch(json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:displayName", "value": "x"}]))
        .apply(&mut doc())
        .unwrap_err();
    assert!(matches!(err, DomainError::InvalidPath(_)), "{err:?}");
}

#[test]
fn a_bare_manager_id_as_entra_sends_it_is_stored_as_its_value() {
    let user = applied(json!([
        {"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
         "value": "boss-2"}
    ]));
    let ext = &user.document[schema::ENTERPRISE_USER];
    assert_eq!(ext["manager"], json!({"value": "boss-2"}));
}

#[test]
fn explicit_paths_to_read_only_attributes_are_mutability_errors() {
    let mut document = doc();
    let err = patch(json!([{"op": "replace", "path": "id", "value": "x"}]))
        .apply(&mut document)
        .unwrap_err();
    assert_eq!(err.scim_type(), crate::ScimType::Mutability);
}

#[test]
fn malformed_requests_are_refused() {
    let bad = [
        json!({"Operations": []}),
        json!({"schemas": ["urn:wrong"], "Operations": [{"op": "add", "path": "title", "value": "x"}]}),
        json!({"Operations": [{"op": "move", "path": "title", "value": "x"}]}),
        json!({"Operations": [{"op": "remove"}]}),
        json!({"Operations": [{"op": "replace", "path": "title"}]}),
        json!({"Operations": [{"op": "replace", "value": "not an object"}]}),
        json!({"Operations": [{"op": "replace", "path": "emails[type eq", "value": "x"}]}),
        json!({"Operations": "nope"}),
    ];
    for body in bad {
        assert!(PatchRequest::parse(body.clone()).is_err(), "{body}");
    }
    let mut document = doc();
    let unknown = PatchRequest::parse(
        json!({"Operations": [{"op": "replace", "path": "favouriteColour", "value": "x"}]}),
    )
    .unwrap();
    assert_eq!(
        unknown.apply(&mut document).unwrap_err().scim_type(),
        crate::ScimType::InvalidPath
    );
    let no_target = PatchRequest::parse(json!({"Operations": [{"op": "replace", "path": "emails[value co \"zzz\"]", "value": {"type": "y"}}]})).unwrap();
    assert_eq!(
        no_target.apply(&mut document).unwrap_err().scim_type(),
        crate::ScimType::NoTarget
    );
}

#[test]
fn a_patch_cannot_store_what_a_put_would_refuse() {
    let mut document = doc();
    patch(json!([{"op": "replace", "path": "userName", "value": ""}]))
        .apply(&mut document)
        .unwrap();
    assert!(UserDraft::from_scim(&Value::Object(document)).is_err());
}

#[test]
fn the_password_a_patch_sets_is_known_before_it_is_applied() {
    let cases = [
        (
            json!([{"op": "replace", "path": "password", "value": "a"}]),
            Some("a"),
        ),
        (
            json!([{"op": "Replace", "value": {"password": "b"}}]),
            Some("b"),
        ),
        (
            json!([{"op": "add", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "c"}]),
            Some("c"),
        ),
        (
            json!([{"op": "replace", "value": {"urn:ietf:params:scim:schemas:core:2.0:User:password": "d"}}]),
            Some("d"),
        ),
        (
            json!([{"op": "replace", "path": "password", "value": "e"}, {"op": "remove", "path": "password"}]),
            None,
        ),
        (json!([{"op": "replace", "value": {"active": false}}]), None),
    ];
    for (ops, expected) in cases {
        let request = patch(ops.clone());
        let password = request.password().unwrap();
        assert_eq!(password.as_ref().map(Password::expose), expected, "{ops}");
        // The scan agrees with what applying the operations extracts.
        assert_eq!(applied(ops).password, password);
    }
    let bad = patch(json!([{"op": "replace", "path": "password", "value": 7}]));
    assert!(bad.password().is_err());
}

fn refused(document: &mut Map<String, Value>, ops: Value) -> DomainError {
    patch(ops).apply(document).unwrap_err()
}

#[test]
fn a_replace_with_too_many_values_is_refused_before_it_is_built() {
    let mut document = doc();
    let flood: Vec<Value> = (0..300_000).map(|_| json!({})).collect();
    let mut ops = vec![json!({"op": "replace", "path": "emails", "value": flood})];
    ops.extend(
        (0..300).map(|n| json!({"op": "add", "path": "emails.display", "value": n.to_string()})),
    );
    let err = refused(&mut document, Value::Array(ops));
    assert_eq!(err.to_string(), "'emails' holds more than 100 values");
    assert_eq!(document, doc(), "nothing was applied");
}

#[test]
fn adds_stop_at_100_values_whatever_path_they_take() {
    let mut document = doc();
    let many: Vec<Value> = (0..99)
        .map(|n| json!({"value": format!("u{n}@x.io")}))
        .collect();
    let err = refused(
        &mut document,
        json!([{"op": "add", "path": "emails", "value": many}]),
    );
    assert_eq!(err.to_string(), "'emails' would hold more than 100 values");
    // A filter that matches nothing creates an element each time: the 101st is refused.
    let mut document = doc();
    let filtered: Vec<Value> = (0..99)
        .map(|n| json!({"op": "add", "path": format!("emails[type eq \"t{n}\"].value"), "value": "x@x.io"}))
        .collect();
    let err = refused(&mut document, Value::Array(filtered));
    assert_eq!(err.to_string(), "'emails' would hold more than 100 values");
}

#[test]
fn values_are_bounded_as_each_operation_writes_them() {
    let mut document = doc();
    let err = refused(
        &mut document,
        json!([{"op": "add", "path": "emails.display", "value": "d".repeat(1025)}]),
    );
    assert_eq!(
        err.to_string(),
        "'emails.display' must have at most 1024 characters"
    );
    let err = refused(
        &mut document,
        json!([{"op": "replace", "path": "emails[type eq \"work\"]", "value": {"value": "v".repeat(321)}}]),
    );
    assert_eq!(
        err.to_string(),
        "'emails.value' must have at most 320 characters"
    );
}

#[test]
fn the_bytes_a_patch_copies_are_budgeted() {
    let mut document = doc();
    let full: Vec<Value> = (0..100)
        .map(|n| json!({"value": format!("u{n}@x.io")}))
        .collect();
    patch(json!([{"op": "replace", "path": "emails", "value": full}]))
        .apply(&mut document)
        .unwrap();
    // Each operation writes 1 KB into 100 elements: 100 KB apiece, the budget after ~40.
    let ops: Vec<Value> = (0..1000)
        .map(|n| json!({"op": "replace", "path": "emails.display", "value": format!("{n:04}{}", "d".repeat(1000))}))
        .collect();
    let err = refused(&mut document, Value::Array(ops));
    assert!(err.to_string().contains("writes more than"), "{err}");
}

#[test]
fn unknown_sub_attributes_are_dropped_not_stored() {
    let draft = applied(json!([
        {"op": "replace", "path": "name", "value": {"givenName": "J", "bogus": "x".repeat(100)}},
        {"op": "replace", "path": "emails[type eq \"work\"]", "value": {"display": "Work", "junk": 1}}
    ]));
    assert_eq!(
        draft.document["name"],
        json!({"givenName": "J", "familyName": "Doe"})
    );
    assert!(draft.document["emails"][0].get("junk").is_none());
}
