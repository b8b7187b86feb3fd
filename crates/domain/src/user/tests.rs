use serde_json::json;

use super::*;

fn okta_create_body() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "Jane.Doe@Acme.com",
        "name": {"givenName": "Jane", "familyName": "Doe"},
        "emails": [{"primary": true, "value": "jane.doe@acme.com", "type": "work"}],
        "displayName": "Jane Doe",
        "locale": "en-US",
        "externalId": "00u1abcd",
        "groups": [],
        "password": "t0ps3cret!",
        "active": true
    })
}

#[test]
fn okta_create_body_is_accepted() {
    let draft = UserDraft::from_scim(&okta_create_body()).unwrap();
    assert_eq!(draft.user_name.as_str(), "Jane.Doe@Acme.com");
    assert_eq!(draft.user_name.key(), "jane.doe@acme.com");
    assert_eq!(draft.external_id.as_deref(), Some("00u1abcd"));
    assert_eq!(draft.display_name.as_deref(), Some("Jane Doe"));
    assert!(draft.active);
    assert_eq!(draft.password.as_ref().unwrap().expose(), "t0ps3cret!");
    assert!(!draft.document.contains_key("password"));
    assert!(!draft.document.contains_key("groups"));
    assert_eq!(draft.document["name"]["givenName"], "Jane");
}

#[test]
fn read_only_attributes_echoed_by_a_put_are_ignored() {
    let mut body = okta_create_body();
    body["id"] = json!("forged");
    body["meta"] = json!({"resourceType": "User", "version": "W/\"9\""});
    let draft = UserDraft::from_scim(&body).unwrap();
    assert!(!draft.document.contains_key("id"));
    assert!(!draft.document.contains_key("meta"));
}

#[test]
fn attribute_names_are_stored_under_their_canonical_case() {
    let draft = UserDraft::from_scim(&json!({
        "USERNAME": "kim",
        "Name": {"GIVENNAME": "Kim"},
        "PhoneNumbers": [{"Value": "+1 555", "TYPE": "work"}]
    }))
    .unwrap();
    assert_eq!(draft.user_name.as_str(), "kim");
    assert_eq!(draft.document["name"]["givenName"], "Kim");
    assert_eq!(draft.document["phoneNumbers"][0]["value"], "+1 555");
}

#[test]
fn string_booleans_from_entra_are_booleans() {
    let draft = UserDraft::from_scim(&json!({"userName": "a", "active": "False",
        "emails": [{"value": "a@b.c", "primary": "True"}]}))
    .unwrap();
    assert!(!draft.active);
    assert_eq!(draft.document["active"], json!(false));
    assert_eq!(draft.document["emails"][0]["primary"], json!(true));
    assert!(UserDraft::from_scim(&json!({"userName": "a", "active": "maybe"})).is_err());
}

#[test]
fn enterprise_extension_is_kept() {
    let draft = UserDraft::from_scim(&json!({
        "schemas": [schema::CORE_USER, schema::ENTERPRISE_USER],
        "userName": "a",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "42", "department": "Sales", "manager": {"value": "m1", "displayName": "ro"}
        }
    }))
    .unwrap();
    let ext = &draft.document[schema::ENTERPRISE_USER];
    assert_eq!(ext["employeeNumber"], "42");
    assert_eq!(ext["department"], "Sales");
    assert_eq!(ext["manager"], json!({"value": "m1"}));
}

#[test]
fn a_bare_manager_id_is_its_value_and_other_complex_attributes_stay_objects() {
    let draft = UserDraft::from_scim(&json!({
        "userName": "a",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m2"}
    }))
    .unwrap();
    assert_eq!(
        draft.document[schema::ENTERPRISE_USER]["manager"],
        json!({"value": "m2"})
    );
    // `name` has no `value` to take a bare string as.
    assert!(UserDraft::from_scim(&json!({"userName": "a", "name": "Jane"})).is_err());
}

#[test]
fn missing_or_empty_user_name_is_invalid_value() {
    for body in [
        json!({}),
        json!({"userName": ""}),
        json!({"userName": "  "}),
        json!({"userName": 7}),
    ] {
        let err = UserDraft::from_scim(&body).unwrap_err();
        assert_eq!(err.scim_type(), crate::ScimType::InvalidValue, "{body}");
    }
    let long = "x".repeat(MAX_USER_NAME_CHARS + 1);
    assert!(UserDraft::from_scim(&json!({"userName": long})).is_err());
}

#[test]
fn unknown_schemas_and_wrong_types_are_refused() {
    let err = UserDraft::from_scim(&json!({"schemas": ["urn:example:nope"], "userName": "a"}))
        .unwrap_err();
    assert!(err.to_string().contains("urn:example:nope"));
    assert!(UserDraft::from_scim(&json!({"userName": "a", "name": "Jane"})).is_err());
    assert!(UserDraft::from_scim(&json!({"userName": "a", "emails": [7]})).is_err());
    assert!(UserDraft::from_scim(&json!({"userName": "a", "password": 5})).is_err());
    assert!(UserDraft::from_scim(&json!(["not", "an", "object"])).is_err());
}

#[test]
fn custom_extensions_beside_the_user_schema_are_listed_but_not_stored() {
    let okta = "urn:okta:webwork_1:1.0:user:custom";
    let entra = "urn:ietf:params:scim:schemas:extension:CostCenters:2.0:User";
    let draft = UserDraft::from_scim(&json!({
        "schemas": [schema::CORE_USER, okta, entra],
        "userName": "a",
        okta: {"badgeColour": "blue"},
        entra: {"costCentre": "7"}
    }))
    .unwrap();
    assert!(!draft.document.contains_key(okta));
    assert!(!draft.document.contains_key(entra));
    // Another IETF SCIM schema is a mistake, not an extension.
    let group = UserDraft::from_scim(&json!({
        "schemas": [schema::CORE_USER, "urn:ietf:params:scim:schemas:core:2.0:Group"],
        "userName": "a"
    }));
    assert!(group.unwrap_err().to_string().contains("core:2.0:Group"));
    let not_a_urn =
        UserDraft::from_scim(&json!({"schemas": [schema::CORE_USER, "User"], "userName": "a"}));
    assert!(not_a_urn.is_err());
}

#[test]
fn two_primary_values_are_refused() {
    let err = UserDraft::from_scim(&json!({"userName": "a", "emails": [
        {"value": "a@x.io", "primary": true}, {"value": "b@x.io", "primary": "True"}
    ]}))
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("'emails' may have at most one primary value"),
        "{err}"
    );
}

#[test]
fn legacy_core_urn_is_accepted() {
    assert!(
        UserDraft::from_scim(&json!({"schemas": ["urn:scim:schemas:core:1.0"], "userName": "a"}))
            .is_ok()
    );
}

#[test]
fn active_defaults_to_true_and_nulls_are_dropped() {
    let draft =
        UserDraft::from_scim(&json!({"userName": "a", "title": null, "nickName": "Al"})).unwrap();
    assert!(draft.active);
    assert!(!draft.document.contains_key("title"));
    assert_eq!(draft.document["nickName"], "Al");
}

#[test]
fn passwords_never_show_in_debug_output() {
    let draft = UserDraft::from_scim(&okta_create_body()).unwrap();
    assert!(!format!("{draft:?}").contains("t0ps3cret!"));
    assert!(Password::parse("").is_err());
    assert!(Password::parse(&"p".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
}

#[test]
fn the_primary_email_is_the_one_marked_primary_or_else_the_first() {
    let marked = UserDraft::from_scim(&json!({"userName": "a", "emails": [
        {"value": "home@x.example"}, {"value": "work@x.example", "primary": true}]}))
    .unwrap();
    assert_eq!(marked.primary_email(), Some("work@x.example"));
    let first =
        UserDraft::from_scim(&json!({"userName": "a", "emails": [{"value": "one@x.example"}]}))
            .unwrap();
    assert_eq!(first.primary_email(), Some("one@x.example"));
    assert_eq!(
        UserDraft::from_scim(&json!({"userName": "a"}))
            .unwrap()
            .primary_email(),
        None
    );
}

fn refusal(body: &Value) -> String {
    UserDraft::from_scim(body).unwrap_err().to_string()
}

#[test]
fn every_string_attribute_is_bounded_and_named_when_too_long() {
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (
            json!({"userName": "j", "externalId": long(257)}),
            "'externalId' must have at most 256 characters",
        ),
        (
            json!({"userName": "j", "emails": [{"value": long(321)}]}),
            "'emails.value' must have at most 320 characters",
        ),
        (
            json!({"userName": "j", "name": {"givenName": long(257)}}),
            "'name.givenName' must have at most 256 characters",
        ),
        (
            json!({"userName": "j", "title": long(257)}),
            "'title' must have at most 256 characters",
        ),
        (
            json!({"userName": "j", "addresses": [{"streetAddress": long(1025)}]}),
            "'addresses.streetAddress' must have at most 1024 characters",
        ),
        (
            json!({"userName": "j", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": long(257)}}),
            "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department' must have at most 256 characters",
        ),
        (
            json!({"userName": "j", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": {"value": long(257)}}}),
            "'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value' must have at most 256 characters",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(refusal(&body), expected);
    }
    // At the bound, in characters rather than bytes.
    let at_bound =
        json!({"userName": "j", "externalId": "é".repeat(256), "title": "ü".repeat(256)});
    assert!(UserDraft::from_scim(&at_bound).is_ok());
}

#[test]
fn a_document_over_64_kib_is_refused() {
    let numbers = numbers_of(100, 900);
    let message = refusal(&json!({"userName": "j", "phoneNumbers": numbers}));
    assert!(message.contains("at most 65536 are stored"), "{message}");
    let fits = numbers_of(50, 900);
    assert!(UserDraft::from_scim(&json!({"userName": "j", "phoneNumbers": fits})).is_ok());
}

fn numbers_of(count: usize, len: usize) -> Vec<Value> {
    (0..count)
        .map(|n| json!({"value": format!("{n}{}", "5".repeat(len))}))
        .collect()
}

#[test]
fn keys_that_fold_to_more_than_1_kib_are_refused() {
    // U+FDFA folds to 18 letters: 100 of them stay under 256 characters but fold to 3 kB.
    let ligatures = "\u{fdfa}".repeat(100);
    let message = refusal(&json!({"userName": ligatures}));
    assert!(
        message.starts_with("'userName' is too long once normalised"),
        "{message}"
    );
    let email = format!("{ligatures}@x.io");
    let message = refusal(&json!({"userName": "j", "emails": [{"value": email, "primary": true}]}));
    assert!(
        message.starts_with("'emails.value' is too long once normalised"),
        "{message}"
    );
    // Every email's folded value is a key too (the email filters' index), not only the primary's.
    let others = json!([{"value": "j@x.io", "primary": true}, {"value": email}]);
    let message = refusal(&json!({"userName": "j", "emails": others}));
    assert!(
        message.starts_with("'emails.value' is too long once normalised"),
        "{message}"
    );
}
