//! The audit log and the provisioning error log.

use webwork_scim_domain::Plan;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{audit, provisioning_errors};

#[test]
fn audit_and_error_logs_list_newest_first_with_filters() {
    use webwork_scim_domain::{Actor, AuditAction, AuditEvent};
    use webwork_scim_persistence::audit::LogQuery;
    use webwork_scim_persistence::provisioning_errors::FailedRequest;
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    for i in 0..5 {
        let event = AuditEvent::new(
            if i % 2 == 0 {
                AuditAction::UserCreated
            } else {
                AuditAction::UserUpdated
            },
            format!("u{i}"),
        )
        .with_attributes(vec!["title".into()]);
        db.store
            .write(ws.id, |tx| {
                audit::record(tx, &Actor::Operator, Some("req-1"), &event)
            })
            .unwrap();
    }
    let all = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    let targets: Vec<_> = all.iter().map(|e| e.target_id.clone().unwrap()).collect();
    assert_eq!(targets, vec!["u4", "u3", "u2", "u1", "u0"]);
    assert_eq!(all[0].attributes, vec!["title"]);
    assert_eq!(all[0].actor, "cli");
    let page2 = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 2,
                    before: Some(&all[1].id),
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(
        page2
            .iter()
            .map(|e| e.target_id.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["u2", "u1"]
    );
    let created = db
        .store
        .read(ws.id, |tx| {
            audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    action: Some("user.created"),
                    ..LogQuery::default()
                },
            )
        })
        .unwrap();
    assert_eq!(created.len(), 3);
    assert!(
        db.store
            .read(other.id, |tx| audit::list(
                tx,
                LogQuery {
                    limit: 10,
                    ..LogQuery::default()
                }
            ))
            .unwrap()
            .is_empty()
    );

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
            .write(ws.id, |tx| audit::purge_before(tx, future))
            .unwrap(),
        5
    );
    assert_eq!(
        db.store
            .write(ws.id, |tx| provisioning_errors::purge_before(tx, future))
            .unwrap(),
        1
    );
}
