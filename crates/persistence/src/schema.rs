//! The tables, in SQL types both backends share.

diesel::table! {
    workspaces (id) {
        id -> Text,
        key -> Text,
        name -> Text,
        plan -> Text,
        sso_enabled -> Bool,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        seats -> Nullable<Integer>,
        overrides -> Nullable<Text>,
        overrides_expire_at -> Nullable<Timestamp>,
        idp_issuer -> Nullable<Text>,
        deleted_at -> Nullable<Timestamp>,
        sso_enforced -> Bool,
        live_users -> BigInt,
        live_users_stamp -> BigInt,
    }
}

diesel::table! {
    scim_tokens (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        prefix -> Text,
        secret_hash -> Text,
        label -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        replaced_by -> Nullable<Text>,
    }
}

diesel::table! {
    users (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        user_name -> Text,
        user_name_key -> Text,
        external_id -> Nullable<Text>,
        active -> Bool,
        display_name -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        document -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        app_roles -> Text,
        session_version -> BigInt,
        email_key -> Nullable<Text>,
        folded_document -> Nullable<Text>,
        folded_version -> Nullable<BigInt>,
    }
}

diesel::table! {
    groups (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        display_name -> Text,
        display_name_key -> Text,
        external_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    group_members (workspace_id, group_id, user_id) {
        workspace_id -> Text,
        group_id -> Text,
        user_id -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_events (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        aggregate_id -> Text,
        event_type -> Text,
        payload -> Text,
        created_at -> Timestamp,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        dead_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    audit_events (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        action -> Text,
        target_id -> Nullable<Text>,
        attributes -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    provisioning_errors (workspace_id, id) {
        workspace_id -> Text,
        id -> Text,
        at -> Timestamp,
        actor -> Text,
        method -> Text,
        route -> Text,
        status -> Integer,
        scim_type -> Nullable<Text>,
        detail -> Text,
        request_id -> Nullable<Text>,
    }
}

diesel::joinable!(scim_tokens -> workspaces (workspace_id));
diesel::joinable!(users -> workspaces (workspace_id));
diesel::table! {
    key_folding (version) {
        version -> Integer,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    workspaces,
    scim_tokens,
    users,
    audit_events,
    provisioning_errors,
    outbox_events,
    groups,
    group_members
);
