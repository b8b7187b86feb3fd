use super::*;

#[test]
fn keys_refuse_underscores_and_upper_case() {
    assert!(WorkspaceKey::parse("acme-1234").is_ok());
    assert!(WorkspaceKey::parse("acme_1234").is_err());
    assert!(WorkspaceKey::parse("Acme-1234").is_err());
    assert!(WorkspaceKey::parse("-acme").is_err());
    assert!(WorkspaceKey::parse("ab").is_err());
    assert!(WorkspaceKey::parse(&"a".repeat(64)).is_err());
}

#[test]
fn keys_are_derived_from_names() {
    let name = WorkspaceName::parse("  Acme Corp_ (EU) ").unwrap();
    let key = WorkspaceKey::from_name_and_suffix(&name, "x7k2").unwrap();
    assert_eq!(key.as_str(), "acme-corp-eu-x7k2");
    let odd = WorkspaceName::parse("Ñ…").unwrap();
    assert_eq!(
        WorkspaceKey::from_name_and_suffix(&odd, "x7k2")
            .unwrap()
            .as_str(),
        "ws-x7k2"
    );
}

#[test]
fn names_are_trimmed_and_bounded() {
    assert_eq!(WorkspaceName::parse(" Acme ").unwrap().as_str(), "Acme");
    assert!(WorkspaceName::parse("   ").is_err());
    assert!(WorkspaceName::parse(&"x".repeat(201)).is_err());
    assert!(WorkspaceName::parse("a\nb").is_err());
}

#[test]
fn overrides_replace_only_the_fields_they_name() {
    let base = Entitlements {
        requests_per_second: 10,
        burst: 100,
        max_active_tokens: 2,
        ..Entitlements::default()
    };
    let trial = EntitlementOverrides {
        scim_provisioning: Some(true),
        seats: Some(25),
        ..EntitlementOverrides::default()
    };
    let effective = trial.apply(base);
    assert!(effective.allows(Entitlement::ScimProvisioning));
    assert!(!effective.allows(Entitlement::Sso));
    assert_eq!(
        (effective.requests_per_second, effective.seats),
        (10, Some(25))
    );
    assert!(serde_json::from_str::<EntitlementOverrides>(r#"{"seatz": 1}"#).is_err());
    let whole: EntitlementOverrides =
        serde_json::from_str(r#"{"seats": 25.0, "burst": 7}"#).unwrap();
    assert_eq!((whole.seats, whole.burst), (Some(25), Some(7)));
    for bad in [
        r#"{"seats": 2.5}"#,
        r#"{"seats": -1}"#,
        r#"{"seats": 1e12}"#,
        r#"{"seats": "3"}"#,
    ] {
        assert!(
            serde_json::from_str::<EntitlementOverrides>(bad).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn overrides_stop_applying_when_they_expire() {
    let now = time::OffsetDateTime::now_utc();
    let mut workspace = Workspace {
        id: WorkspaceId::generate(),
        key: WorkspaceKey::parse("acme-1234").unwrap(),
        name: "Acme".into(),
        plan: Plan::Pro,
        sso_enabled: true,
        sso_enforced: false,
        idp_issuer: None,
        seats: None,
        overrides: Some(EntitlementOverrides::default()),
        overrides_expire_at: Some(now + time::Duration::days(1)),
        created_at: now,
    };
    assert!(workspace.active_overrides(now).is_some());
    workspace.overrides_expire_at = Some(now - time::Duration::seconds(1));
    assert!(workspace.active_overrides(now).is_none());
    workspace.overrides_expire_at = None;
    assert!(workspace.active_overrides(now).is_some());
}

fn workspace(plan: Plan, sso_enabled: bool, sso_enforced: bool) -> Workspace {
    Workspace {
        id: WorkspaceId::generate(),
        key: WorkspaceKey::parse("acme-1234").unwrap(),
        name: "Acme".into(),
        plan,
        sso_enabled,
        sso_enforced,
        idp_issuer: None,
        seats: None,
        overrides: None,
        overrides_expire_at: None,
        created_at: time::OffsetDateTime::now_utc(),
    }
}

#[test]
fn seats_admit_active_users_up_to_their_number() {
    let unlimited = Entitlements::default();
    assert!(unlimited.admit_active_user(1_000_000).is_ok());
    let three = Entitlements {
        seats: Some(3),
        ..Entitlements::default()
    };
    assert!(three.admit_active_user(2).is_ok());
    assert_eq!(
        three.admit_active_user(3),
        Err(Refusal::SeatLimit { used: 3, seats: 3 })
    );
    let two_tokens = Entitlements {
        max_active_tokens: 2,
        ..Entitlements::default()
    };
    assert!(two_tokens.admit_token(1).is_ok());
    assert_eq!(
        two_tokens.admit_token(2),
        Err(Refusal::TokenLimit { active: 2, max: 2 })
    );
}

#[test]
fn provisioning_needs_the_plan_first_then_single_sign_on() {
    let premium = Entitlements {
        scim_provisioning: true,
        sso: true,
        ..Entitlements::default()
    };
    assert_eq!(premium.scim_refusal(Plan::Premium, true), None);
    assert_eq!(
        premium.scim_refusal(Plan::Premium, false),
        Some(ScimRefusal::SsoOff)
    );
    let pro = Entitlements::default();
    assert_eq!(
        pro.scim_refusal(Plan::Pro, false),
        Some(ScimRefusal::PlanLacksProvisioning(Plan::Pro))
    );
    assert!(
        ScimRefusal::PlanLacksProvisioning(Plan::Pro)
            .to_string()
            .contains("Premium plan; this workspace is on pro")
    );
}

#[test]
fn single_sign_on_needs_its_entitlement_and_enforcement_needs_it_on() {
    let with_sso = Entitlements {
        sso: true,
        ..Entitlements::default()
    };
    let without = Entitlements::default();
    let off = workspace(Plan::Pro, false, false);
    assert_eq!(
        off.sso_after(Some(true), None, Plan::Pro, &without),
        Err(Refusal::SsoNotIncluded(Plan::Pro))
    );
    let on = off
        .sso_after(Some(true), Some(true), Plan::Premium, &with_sso)
        .unwrap();
    assert_eq!(
        on,
        SsoState {
            enabled: true,
            enforced: true
        }
    );
    let enforced = workspace(Plan::Premium, true, true);
    assert_eq!(
        enforced.sso_after(Some(false), None, Plan::Premium, &with_sso),
        Ok(SsoState {
            enabled: false,
            enforced: false
        }),
        "turning SSO off ends its enforcement"
    );
    assert_eq!(
        enforced.sso_after(Some(false), Some(true), Plan::Premium, &with_sso),
        Err(Refusal::EnforcementNeedsSso)
    );
    let downgraded = workspace(Plan::Pro, true, false);
    assert!(
        downgraded
            .sso_after(None, Some(true), Plan::Pro, &without)
            .is_ok(),
        "a workspace that has SSO on keeps it while it is on"
    );
}

#[test]
fn plans_parse_case_insensitively_and_order_by_price() {
    assert_eq!("Premium".parse::<Plan>().unwrap(), Plan::Premium);
    assert!("gold".parse::<Plan>().is_err());
    assert!(Plan::Pro < Plan::Premium && Plan::Premium < Plan::Enterprise);
    for plan in Plan::ALL {
        assert_eq!(plan.as_str().parse::<Plan>().unwrap(), plan);
    }
}
