use serde_json::json;

use super::*;

fn patch(body: Value) -> Vec<GroupChange> {
    GroupChange::from_patch(&PatchRequest::parse(body).unwrap()).unwrap()
}

fn patch_err(body: Value) -> DomainError {
    GroupChange::from_patch(&PatchRequest::parse(body).unwrap()).unwrap_err()
}

fn ops(operations: Value) -> Value {
    json!({"schemas": [schema::PATCH_OP], "Operations": operations})
}

#[test]
fn entra_create_with_its_extra_schema_and_external_id() {
    let member = UserId::generate();
    let draft = GroupDraft::from_scim(&json!({
        "schemas": [schema::CORE_GROUP, schema::ENTRA_GROUP, schema::LEGACY_CORE],
        "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
        "displayName": "  Sales ",
        "members": [{"value": member.to_string(), "$ref": null}, {"value": member.to_string()}],
        "id": "ignored", "meta": {"resourceType": "Group"}
    }))
    .unwrap();
    assert_eq!(draft.display_name.as_str(), "Sales");
    assert_eq!(draft.display_name.key(), "sales");
    assert_eq!(
        draft.external_id.as_deref(),
        Some("8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159")
    );
    assert_eq!(draft.members, Some(vec![member]), "duplicates collapse");
}

#[test]
fn bodies_without_a_name_with_unknown_schemas_or_bad_members_are_refused() {
    for body in [
        json!({"members": []}),
        json!({"displayName": ""}),
        json!({"displayName": 7}),
        json!({"displayName": "x", "schemas": [schema::CORE_USER]}),
        json!({"displayName": "x", "members": [{"value": "not-an-id"}]}),
        json!({"displayName": "x", "members": [{"display": "no value"}]}),
        json!({"displayName": "x", "members": [{"value": UserId::generate().to_string(), "type": "Group"}]}),
        json!({"displayName": "x", "externalId": 5}),
        json!(["not", "an", "object"]),
    ] {
        assert!(GroupDraft::from_scim(&body).is_err(), "{body}");
    }
    let absent = GroupDraft::from_scim(&json!({"displayName": "x"})).unwrap();
    assert_eq!(
        absent.members, None,
        "no members key keeps the stored ones on PUT"
    );
}

#[test]
fn okta_rename_ignores_the_echoed_id() {
    let changes = patch(ops(json!([
        {"op": "replace", "value": {"id": "abc", "displayName": "Sales EMEA"}}
    ])));
    assert_eq!(
        changes,
        vec![GroupChange::DisplayName(
            GroupName::parse("Sales EMEA").unwrap()
        )]
    );
}

#[test]
fn member_types_other_than_group_are_ignored_and_group_is_refused() {
    let (one, two, three) = (UserId::generate(), UserId::generate(), UserId::generate());
    let changes = patch(ops(json!([{"op": "add", "path": "members", "value": [
        {"value": one.to_string()},
        {"value": two.to_string(), "type": "user"},
        {"value": three.to_string(), "type": "Person"}
    ]}])));
    assert_eq!(
        changes,
        vec![GroupChange::AddMembers(vec![one, two, three])]
    );
    let nested = patch_err(ops(json!([{"op": "add", "path": "members", "value": [
        {"value": one.to_string(), "type": "Group"}
    ]}])));
    assert!(
        nested
            .to_string()
            .contains("nested groups are not supported"),
        "{nested}"
    );
}

#[test]
fn okta_membership_push_removes_by_filter_and_adds_by_value() {
    let (gone, new) = (UserId::generate(), UserId::generate());
    let changes = patch(ops(json!([
        {"op": "remove", "path": format!("members[value eq \"{gone}\"]")},
        {"op": "add", "path": "members", "value": [{"value": new.to_string(), "display": "jane@acme.com"}]}
    ])));
    assert_eq!(
        changes,
        vec![
            GroupChange::RemoveMembers(vec![gone]),
            GroupChange::AddMembers(vec![new])
        ]
    );
}

#[test]
fn entra_remove_with_a_value_removes_only_the_listed_members() {
    let listed = UserId::generate();
    let changes = patch(ops(json!([
        {"op": "Remove", "path": "members", "value": [{"value": listed.to_string()}, {"value": "not-ours"}]}
    ])));
    assert_eq!(changes, vec![GroupChange::RemoveMembers(vec![listed])]);
    let everything = patch(ops(json!([{"op": "remove", "path": "members"}])));
    assert_eq!(everything, vec![GroupChange::RemoveAllMembers]);
    let no_one = patch(ops(
        json!([{"op": "remove", "path": "members", "value": []}]),
    ));
    assert_eq!(
        no_one,
        vec![GroupChange::RemoveMembers(vec![])],
        "[] removes no one"
    );
}

#[test]
fn full_pushes_replace_members_and_external_ids_come_and_go() {
    let member = UserId::generate();
    let changes = patch(ops(json!([
        {"op": "replace", "path": "members", "value": [{"value": member.to_string()}]},
        {"op": "Replace", "path": "externalId", "value": "ext-1"},
        {"op": "remove", "path": "externalId"},
        {"op": "replace", "value": {"members": []}}
    ])));
    assert_eq!(
        changes,
        vec![
            GroupChange::ReplaceMembers(vec![member]),
            GroupChange::ExternalId(Some("ext-1".into())),
            GroupChange::ExternalId(None),
            GroupChange::ReplaceMembers(vec![]),
        ]
    );
}

#[test]
fn member_filters_other_than_value_eq_and_bad_paths_are_refused() {
    let err = patch_err(ops(
        json!([{"op": "remove", "path": "members[display eq \"x\"]"}]),
    ));
    assert_eq!(err.scim_type(), crate::ScimType::InvalidFilter);
    for operations in [
        json!([{"op": "remove", "path": "displayName"}]),
        json!([{"op": "add", "path": "members", "value": [{"value": "garbage"}]}]),
        json!([{"op": "replace", "path": "members[value eq \"x\"]", "value": []}]),
        json!([{"op": "replace", "path": "nickName", "value": "x"}]),
        json!([{"op": "replace", "path": schema::ENTERPRISE_USER, "value": {}}]),
    ] {
        assert!(
            GroupChange::from_patch(&PatchRequest::parse(ops(operations.clone())).unwrap())
                .is_err(),
            "{operations}"
        );
    }
}

#[test]
fn a_request_may_not_name_more_than_the_cap_of_members() {
    let many: Vec<Value> = (0..=MAX_MEMBERS_PER_REQUEST)
        .map(|_| json!({"value": UserId::generate().to_string()}))
        .collect();
    let err = patch_err(ops(
        json!([{"op": "add", "path": "members", "value": many}]),
    ));
    assert!(err.to_string().contains("at most"), "{err}");
}
