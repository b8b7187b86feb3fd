use std::thread;

use super::*;
use crate::token::IssuedToken;

fn record_for(issued: &IssuedToken) -> TokenRecord {
    TokenRecord {
        id: TokenId::generate(),
        workspace_id: WorkspaceId::generate(),
        secret_hash: issued.secret_hash.clone(),
        revoked_at: None,
        expires_at: None,
    }
}

fn presented(issued: &IssuedToken) -> PresentedToken {
    PresentedToken::parse(&issued.plaintext).unwrap()
}

#[test]
fn argon2_runs_once_then_the_cache_serves() {
    let verifier = TokenVerifier::new(Duration::from_secs(60), 100).unwrap();
    let issued = IssuedToken::generate().unwrap();
    let record = record_for(&issued);
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        verifier.precheck(&record, &presented(&issued), now),
        Ok(Verdict::NeedsHash)
    );
    verifier.verify_slow(&record, &presented(&issued)).unwrap();
    assert_eq!(
        verifier.precheck(&record, &presented(&issued), now),
        Ok(Verdict::Cached)
    );
    assert_eq!(verifier.argon2_runs(), 1);
}

#[test]
fn a_wrong_secret_with_a_known_prefix_is_never_served_from_the_cache() {
    let verifier = TokenVerifier::new(Duration::from_secs(60), 100).unwrap();
    let issued = IssuedToken::generate().unwrap();
    let record = record_for(&issued);
    verifier.verify_slow(&record, &presented(&issued)).unwrap();
    let forged = format!("wwscim_{}_{}", issued.prefix, "0".repeat(64));
    let forged = PresentedToken::parse(&forged).unwrap();
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        verifier.precheck(&record, &forged, now),
        Ok(Verdict::NeedsHash)
    );
    assert_eq!(
        verifier.verify_slow(&record, &forged),
        Err(AuthFailure::WrongSecret)
    );
}

#[test]
fn revoked_and_expired_tokens_fail_even_when_cached() {
    let verifier = TokenVerifier::new(Duration::from_secs(60), 100).unwrap();
    let issued = IssuedToken::generate().unwrap();
    let mut record = record_for(&issued);
    verifier.verify_slow(&record, &presented(&issued)).unwrap();
    let now = OffsetDateTime::now_utc();
    record.expires_at = Some(now - time::Duration::seconds(1));
    assert_eq!(
        verifier.precheck(&record, &presented(&issued), now),
        Err(AuthFailure::Expired)
    );
    record.expires_at = None;
    record.revoked_at = Some(now);
    assert_eq!(
        verifier.precheck(&record, &presented(&issued), now),
        Err(AuthFailure::Revoked)
    );
    assert_eq!(verifier.cached_len(), 0);
}

#[test]
fn entries_expire_after_the_time_to_live() {
    let verifier = TokenVerifier::new(Duration::from_millis(50), 100).unwrap();
    let issued = IssuedToken::generate().unwrap();
    let record = record_for(&issued);
    verifier.verify_slow(&record, &presented(&issued)).unwrap();
    thread::sleep(Duration::from_millis(80));
    let now = OffsetDateTime::now_utc();
    assert_eq!(
        verifier.precheck(&record, &presented(&issued), now),
        Ok(Verdict::NeedsHash)
    );
}

#[test]
fn the_cache_stays_within_its_capacity() {
    let verifier = TokenVerifier::new(Duration::from_secs(60), 2).unwrap();
    let issued = IssuedToken::generate().unwrap();
    for _ in 0..5 {
        verifier
            .verify_slow(&record_for(&issued), &presented(&issued))
            .unwrap();
    }
    assert!(verifier.cached_len() <= 2);
}

#[test]
fn concurrent_first_requests_share_one_verification() {
    let verifier = Arc::new(TokenVerifier::new(Duration::from_secs(60), 100).unwrap());
    let issued = IssuedToken::generate().unwrap();
    let record = record_for(&issued);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let verifier = Arc::clone(&verifier);
            let record = record.clone();
            let token = presented(&issued);
            thread::spawn(move || verifier.verify_slow(&record, &token))
        })
        .collect();
    for handle in threads {
        handle.join().unwrap().unwrap();
    }
    assert_eq!(verifier.argon2_runs(), 1);
    assert!(verifier.in_flight.lock().unwrap().is_empty());
}
