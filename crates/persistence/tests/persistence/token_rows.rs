//! Tokens: issued, listed, resolved by prefix, revoked, rotated, counted.

use webwork_scim_domain::Plan;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::tokens;

#[test]
fn tokens_are_issued_listed_resolved_and_revoked() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let other = db.workspace("Globex", Plan::Premium, true);
    let token = db
        .store
        .write(ws.id, |tx| {
            tokens::insert(tx, "0123456789ab", "$argon2id$hash", "okta", None)
        })
        .unwrap();
    assert_eq!(token.label, "okta");
    let listed = db.store.read(ws.id, tokens::list).unwrap();
    assert_eq!(listed, vec![token.clone()]);
    assert!(db.store.read(other.id, tokens::list).unwrap().is_empty());

    let stored = db
        .store
        .read(ws.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
        .unwrap()
        .unwrap();
    assert_eq!(stored.id, token.id);
    assert_eq!(stored.secret_hash, "$argon2id$hash");
    assert!(stored.lifetime.revoked_at.is_none());
    // The prefix of workspace A's token means nothing in workspace B.
    assert!(
        db.store
            .read(other.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
            .unwrap()
            .is_none()
    );
    assert!(
        db.store
            .write(other.id, |tx| tokens::revoke(tx, token.id))
            .unwrap()
            .is_none()
    );

    let revoked = db
        .store
        .write(ws.id, |tx| tokens::revoke(tx, token.id))
        .unwrap()
        .unwrap();
    assert!(revoked.revoked_at.is_some());
    let again = db
        .store
        .write(ws.id, |tx| tokens::revoke(tx, token.id))
        .unwrap()
        .unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at);
    let stored = db
        .store
        .read(ws.id, |tx| tokens::find_by_prefix(tx, "0123456789ab"))
        .unwrap()
        .unwrap();
    assert!(stored.lifetime.revoked_at.is_some());
}

#[test]
fn token_rotation_expiry_counts_and_last_use() {
    let db = TestDb::new();
    let ws = db.workspace("Acme", Plan::Premium, true);
    let now = time::OffsetDateTime::now_utc();
    let a = db
        .store
        .write(ws.id, |tx| {
            tokens::insert(tx, "aaaaaaaaaaaa", "h", "a", None)
        })
        .unwrap();
    db.store
        .write(ws.id, |tx| {
            tokens::insert(
                tx,
                "bbbbbbbbbbbb",
                "h",
                "b",
                Some(now - time::Duration::hours(1)),
            )
        })
        .unwrap();
    assert_eq!(
        db.store
            .read(ws.id, |tx| tokens::count_active(tx, now))
            .unwrap(),
        1
    );
    let rotated = db
        .store
        .write(ws.id, |tx| {
            tokens::expire_by(tx, a.id, now + time::Duration::hours(24))
        })
        .unwrap()
        .unwrap();
    assert!(rotated.expires_at.is_some());
    let later = db
        .store
        .write(ws.id, |tx| {
            tokens::expire_by(tx, a.id, now + time::Duration::hours(48))
        })
        .unwrap()
        .unwrap();
    assert_eq!(
        later.expires_at, rotated.expires_at,
        "rotation never extends a token"
    );
    db.store
        .write(ws.id, |tx| tokens::touch_last_used(tx, a.id, now))
        .unwrap();
    let listed = db.store.read(ws.id, tokens::list).unwrap();
    assert!(listed[0].last_used_at.is_some());
    assert_eq!(db.store.write(ws.id, tokens::revoke_all).unwrap(), 2);
    assert_eq!(
        db.store
            .read(ws.id, |tx| tokens::count_active(tx, now))
            .unwrap(),
        0
    );
}
