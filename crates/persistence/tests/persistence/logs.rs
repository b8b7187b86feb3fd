//! The audit log and the provisioning error log.

use webwork_scim_domain::{Actor, AuditAction, AuditEvent, Plan, WorkspaceId};
use webwork_scim_persistence::audit::LogQuery;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{audit, provisioning_errors};

/// The targets of a page of workspace `ws`'s audit log.
fn audit_targets(db: &TestDb, ws: WorkspaceId, query: LogQuery<'_>) -> Vec<String> {
    db.store
        .read(ws, |tx| audit::list(tx, query))
        .unwrap()
        .into_iter()
        .map(|event| event.target_id.unwrap())
        .collect()
}

#[test]
fn the_audit_log_lists_newest_first_with_filters_and_cursors() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    for i in 0..5 {
        let action = if i % 2 == 0 {
            AuditAction::UserCreated
        } else {
            AuditAction::UserUpdated
        };
        let event = AuditEvent::new(action, format!("u{i}")).with_attributes(vec!["title".into()]);
        db.store
            .write(ws.id, |tx| {
                audit::record(tx, &Actor::Operator, Some("req-1"), &event)
            })
            .unwrap();
    }
    let ten = LogQuery {
        limit: 10,
        ..LogQuery::default()
    };
    let all = db.store.read(ws.id, |tx| audit::list(tx, ten)).unwrap();
    assert_eq!(
        audit_targets(&db, ws.id, ten),
        ["u4", "u3", "u2", "u1", "u0"]
    );
    assert_eq!(all[0].attributes, vec!["title"]);
    assert_eq!(
        (all[0].actor.as_str(), all[0].action.as_str()),
        ("cli", "user.created")
    );
    let page2 = LogQuery {
        limit: 2,
        before: Some(&all[1].id),
        ..LogQuery::default()
    };
    assert_eq!(audit_targets(&db, ws.id, page2), ["u2", "u1"]);
    let created = LogQuery {
        action: Some("user.created"),
        ..ten
    };
    assert_eq!(audit_targets(&db, ws.id, created).len(), 3);
    assert!(audit_targets(&db, other.id, ten).is_empty());
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        db.store
            .write(ws.id, |tx| audit::purge_before(tx, future))
            .unwrap(),
        5
    );
}

#[test]
fn failed_requests_are_logged_and_purged() {
    use webwork_scim_persistence::provisioning_errors::FailedRequest;
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let failed = FailedRequest {
        actor: "token:x".into(),
        method: "POST".into(),
        route: "/scim/v2/{workspace}/Users".into(),
        status: 409,
        scim_type: Some("uniqueness".into()),
        detail: "taken".into(),
        request_id: Some("r".into()),
    };
    db.store
        .write(ws.id, |tx| provisioning_errors::record(tx, &failed))
        .unwrap();
    let errors = db
        .store
        .read(ws.id, |tx| {
            provisioning_errors::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].request, failed);
    let future = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
    assert_eq!(
        db.store
            .write(ws.id, |tx| provisioning_errors::purge_before(tx, future))
            .unwrap(),
        1
    );
}
