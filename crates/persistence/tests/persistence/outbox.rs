//! The outbox: events claimed in order per aggregate, leased, retried.

use serde_json::json;
use webwork_scim_domain::Plan;
use webwork_scim_persistence::testing::TestDb;

#[test]
fn the_outbox_holds_back_later_events_of_an_aggregate_until_earlier_ones_are_delivered() {
    use webwork_scim_persistence::outbox;
    use webwork_scim_persistence::unscoped::delivery::{self, Retry};
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    for (aggregate, kind) in [
        ("u1", "user.created"),
        ("u1", "user.updated"),
        ("u2", "user.created"),
    ] {
        db.store
            .write(ws.id, |tx| outbox::enqueue(tx, aggregate, kind, &json!({})))
            .unwrap();
    }
    let now = time::OffsetDateTime::now_utc();
    let lease = now + time::Duration::seconds(30);
    let claim = |lease| delivery::claim(&db.store, now, lease, 10);
    let first = claim(lease).unwrap();
    let claimed: Vec<_> = first
        .iter()
        .map(|e| (e.aggregate_id.as_str(), e.event_type.as_str()))
        .collect();
    assert_eq!(
        claimed,
        [("u1", "user.created"), ("u2", "user.created")],
        "u1's second event waits"
    );
    let again = claim(lease).unwrap();
    assert!(again.is_empty(), "leased events are not claimed twice");
    let (u1, u2) = (&first[0], &first[1]);
    let retry = Retry {
        at: now,
        dead_after: time::Duration::days(3),
    };
    delivery::mark_failed(&db.store, u1, "503", retry, now).unwrap();
    assert!(delivery::mark_delivered(&db.store, u2, now).unwrap());
    let second_lease = lease + time::Duration::seconds(1);
    let retried = claim(second_lease).unwrap();
    assert_eq!(retried.len(), 1);
    assert_eq!(
        (retried[0].id.as_str(), retried[0].attempts),
        (u1.id.as_str(), 1)
    );
    // The first claim's lease on u1 is gone: its late outcome cannot overwrite the retry's.
    assert!(!delivery::mark_delivered(&db.store, u1, now).unwrap());
    assert!(delivery::mark_delivered(&db.store, &retried[0], now).unwrap());
    let next = claim(lease).unwrap();
    assert_eq!(next[0].event_type, "user.updated");
    let stats = delivery::stats(&db.store, now).unwrap();
    assert_eq!((stats.pending, stats.dead), (1, 0));
    // Tenant transactions of another workspace see none of these events.
    let other = db.workspace("Globex", Plan::Premium, true);
    assert!(db.store.read(other.id, outbox::list).unwrap().is_empty());
}
