//! Workspaces: created, found by key, changed, listed, deleted and purged.

use webwork_scim_domain::{EntitlementOverrides, Plan, Workspace, WorkspaceKey};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::workspaces::{self, WorkspaceUpdate};
use webwork_scim_persistence::{Access, Store, StoreError, unscoped};

fn update(store: &Store, ws: &Workspace, update: WorkspaceUpdate) -> Option<Workspace> {
    store
        .tenant_by_key(&ws.key, Access::Write, |tx, _| {
            workspaces::update(tx, update)
        })
        .unwrap()
        .flatten()
}

#[test]
fn workspaces_are_created_found_and_changed_by_key() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let found = unscoped::find_workspace(&db.store, &ws.key)
        .unwrap()
        .unwrap();
    assert_eq!(found, ws);
    let pro = WorkspaceUpdate {
        plan: Some(Plan::Pro),
        ..WorkspaceUpdate::default()
    };
    assert_eq!(update(&db.store, &ws, pro).unwrap().plan, Plan::Pro);
    let off = WorkspaceUpdate {
        sso_enabled: Some(false),
        ..WorkspaceUpdate::default()
    };
    assert!(!update(&db.store, &ws, off).unwrap().sso_enabled);
    let missing = WorkspaceKey::parse("nobody-here").unwrap();
    assert!(
        unscoped::find_workspace(&db.store, &missing)
            .unwrap()
            .is_none()
    );
    let none: Option<()> = db
        .store
        .tenant_by_key(&missing, Access::Read, |_, _| Ok::<_, StoreError>(()))
        .unwrap();
    assert!(none.is_none(), "an unknown key opens no transaction's work");
    assert_eq!(unscoped::count_workspaces(&db.store).unwrap(), 1);
}

#[test]
fn a_taken_key_conflicts() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let name = webwork_scim_domain::WorkspaceName::parse("Other").unwrap();
    let again = db
        .store
        .write(webwork_scim_domain::WorkspaceId::generate(), |tx| {
            workspaces::create(tx, &ws.key, &name, Plan::Free, false)
        });
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
}

#[test]
fn workspace_settings_overrides_and_listing() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Pro, false);
    db.workspace("Globex", Plan::Free, false);
    let until = time::OffsetDateTime::now_utc() + time::Duration::days(14);
    let trial = EntitlementOverrides {
        scim_provisioning: Some(true),
        seats: Some(10),
        ..EntitlementOverrides::default()
    };
    let changes = WorkspaceUpdate {
        seats: Some(Some(50)),
        idp_issuer: Some(Some("https://acme.okta.com".into())),
        overrides: Some((Some(trial.clone()), Some(until))),
        ..WorkspaceUpdate::default()
    };
    let updated = update(&db.store, &ws, changes).unwrap();
    assert_eq!(updated.seats, Some(50));
    assert_eq!(updated.overrides, Some(trial));
    assert_eq!(updated.idp_issuer.as_deref(), Some("https://acme.okta.com"));
    assert!(updated.overrides_expire_at.is_some());
    assert_eq!(updated.plan, Plan::Pro, "untouched columns stay");
    let (total, page) = unscoped::list_workspaces(&db.store, 0, 1).unwrap();
    assert_eq!((total, page.len()), (2, 1));
    let deleted = db
        .store
        .tenant_by_key(&ws.key, Access::Write, |tx, _| workspaces::mark_deleted(tx))
        .unwrap();
    assert_eq!(deleted, Some(true));
    assert!(
        unscoped::find_workspace(&db.store, &ws.key)
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .write(ws.id, workspaces::current)
            .unwrap()
            .is_none(),
        "its own transaction no longer finds it live"
    );
    let (total, _) = unscoped::list_workspaces(&db.store, 0, 10).unwrap();
    assert_eq!(total, 1);
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        unscoped::purge_deleted_workspaces(&db.store, future).unwrap(),
        1
    );
}
