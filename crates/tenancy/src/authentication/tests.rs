//! The authentication's rules, against a directory of a few tokens held in memory (this crate
//! knows no database; the API's tests run the same rules against the real stores).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

use webwork_scim_domain::{Plan, WorkspaceName};

use super::*;
use crate::token::IssuedToken;

#[derive(Default)]
struct Directory {
    entries: HashMap<(String, String), Resolved>,
    lookups: AtomicUsize,
}

impl CredentialDirectory for Arc<Directory> {
    async fn resolve(
        &self,
        key: WorkspaceKey,
        prefix: TokenPrefix,
    ) -> Result<Option<Resolved>, LookupError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        let entry = (key.as_str().to_owned(), prefix.as_str().to_owned());
        Ok(self.entries.get(&entry).cloned())
    }
}

struct Fixture {
    auth: Authenticator<Arc<Directory>>,
    directory: Arc<Directory>,
    key: String,
    token: IssuedToken,
}

fn workspace(plan: Plan, sso_enabled: bool) -> Workspace {
    let name = WorkspaceName::parse("Acme").unwrap();
    Workspace {
        id: WorkspaceId::generate(),
        key: WorkspaceKey::from_name_and_suffix(&name, "a1b2").unwrap(),
        name: "Acme".into(),
        plan,
        sso_enabled,
        sso_enforced: false,
        idp_issuer: None,
        seats: None,
        overrides: None,
        overrides_expire_at: None,
        created_at: OffsetDateTime::now_utc(),
    }
}

fn settings() -> AuthSettings {
    AuthSettings {
        token_ttl: Duration::from_secs(60),
        tenant_ttl: Duration::from_secs(5),
        failures_per_prefix: 3,
        failure_window: Duration::from_secs(60),
        capacity: 1000,
    }
}

fn fixture(workspace: Workspace, lifetime: TokenLifetime) -> Fixture {
    let token = IssuedToken::generate().unwrap();
    let record = TokenRecord {
        id: TokenId::generate(),
        workspace_id: workspace.id,
        secret_hash: token.secret_hash.clone(),
        lifetime,
    };
    let key = workspace.key.as_str().to_owned();
    let mut directory = Directory::default();
    directory.entries.insert(
        (key.clone(), token.prefix.as_str().to_owned()),
        Resolved {
            workspace,
            token: record,
        },
    );
    let directory = Arc::new(directory);
    let auth =
        Authenticator::new(directory.clone(), Arc::new(HashPool::new(2)), settings()).unwrap();
    Fixture {
        auth,
        directory,
        key,
        token,
    }
}

fn premium() -> Fixture {
    fixture(workspace(Plan::Premium, true), TokenLifetime::default())
}

impl Fixture {
    /// The same directory behind an authenticator whose tenant entries live `ttl`.
    fn with_tenant_ttl(self, ttl: Duration) -> Fixture {
        let auth = Authenticator::new(
            self.directory.clone(),
            Arc::new(HashPool::new(1)),
            AuthSettings {
                tenant_ttl: ttl,
                ..settings()
            },
        )
        .unwrap();
        Fixture { auth, ..self }
    }
}

fn forged(token: &IssuedToken, fill: char) -> String {
    format!("wwscim_{}_{}", token.prefix, fill.to_string().repeat(64))
}

#[tokio::test(flavor = "current_thread")]
async fn a_valid_token_is_admitted_and_then_served_from_the_cache() {
    let f = premium();
    let first = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(first.verification, Verification::Argon2);
    assert_eq!(
        first.tenant.token_id,
        f.directory.entries.values().next().unwrap().token.id
    );
    let second = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(second.verification, Verification::Cached);
    assert_eq!(f.auth.argon2_runs(), 1);
    assert_eq!(
        f.directory.lookups.load(Ordering::SeqCst),
        1,
        "the tenant cache served"
    );
}

#[tokio::test(flavor = "current_thread")]
async fn unknown_keys_prefixes_and_shapes_cost_no_argon2_and_count_nothing() {
    let f = premium();
    let unknown_prefix = format!("wwscim_{}_{}", "0".repeat(12), "a".repeat(64));
    for _ in 0..10 {
        let refused = f.auth.admit(&f.key, Ok(&unknown_prefix)).await.unwrap_err();
        assert_eq!(refused, AuthRefusal::Unauthorized(AuthFailure::Unknown));
    }
    let wrong_key = f.auth.admit("nobody-1234", Ok(&f.token.plaintext)).await;
    assert_eq!(
        wrong_key.unwrap_err(),
        AuthRefusal::Unauthorized(AuthFailure::Unknown)
    );
    let malformed = f.auth.admit(&f.key, Ok("Basic abc")).await;
    assert_eq!(
        malformed.unwrap_err(),
        AuthRefusal::Unauthorized(AuthFailure::Malformed)
    );
    assert_eq!(f.auth.argon2_runs(), 0);
    assert!(f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.is_ok());
}

#[tokio::test(flavor = "current_thread")]
async fn wrong_secrets_are_throttled_but_the_right_one_always_passes() {
    let f = premium();
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    for fill in ['0', '1', '2'] {
        let refused = f.auth.admit(&f.key, Ok(&forged(&f.token, fill))).await;
        assert_eq!(
            refused.unwrap_err(),
            AuthRefusal::Unauthorized(AuthFailure::WrongSecret)
        );
    }
    let throttled = f.auth.admit(&f.key, Ok(&forged(&f.token, '3'))).await;
    assert!(matches!(throttled, Err(AuthRefusal::Throttled(_))));
    let runs = f.auth.argon2_runs();
    assert!(f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.is_ok());
    // With the verified secret forgotten (its time-to-live over, say), the right secret is still
    // recognised: it passes the throttle and argon2 confirms it.
    f.auth.verified.expire_all();
    let again = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(again.verification, Verification::Argon2);
    assert_eq!(f.auth.argon2_runs(), runs + 1);
}

#[tokio::test(flavor = "current_thread")]
async fn requests_with_the_same_secret_share_one_argon2_run() {
    let f = premium();
    let admissions = (0..8).map(|_| f.auth.admit(&f.key, Ok(&f.token.plaintext)));
    for admitted in join_all(admissions).await {
        admitted.unwrap();
    }
    assert_eq!(f.auth.argon2_runs(), 1);
    assert_eq!(f.directory.lookups.load(Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_burst_of_wrong_secrets_runs_argon2_no_more_often_than_the_throttle_allows() {
    let f = premium();
    let forgeries: Vec<String> = (0..40)
        .map(|n| format!("wwscim_{}_{:064x}", f.token.prefix, n))
        .collect();
    let attempts = forgeries
        .iter()
        .map(|forged| f.auth.admit(&f.key, Ok(forged)));
    let outcomes = join_all(attempts).await;
    let wrong = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AuthRefusal::Unauthorized(AuthFailure::WrongSecret))))
        .count();
    let throttled = outcomes
        .iter()
        .filter(|o| matches!(o, Err(AuthRefusal::Throttled(_))))
        .count();
    assert_eq!((wrong, throttled), (3, 37));
    assert_eq!(f.auth.argon2_runs(), 3);
    // The right secret was never seen here, so it too waits for the window; once seen, it
    // passes whatever the throttle says.
    assert!(matches!(
        f.auth.admit(&f.key, Ok(&f.token.plaintext)).await,
        Err(AuthRefusal::Throttled(_))
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn revoked_and_expired_tokens_are_refused_even_when_verified() {
    let now = OffsetDateTime::now_utc();
    for (lifetime, failure) in [
        (
            TokenLifetime {
                revoked_at: Some(now),
                expires_at: None,
            },
            AuthFailure::Revoked,
        ),
        (
            TokenLifetime {
                revoked_at: None,
                expires_at: Some(now),
            },
            AuthFailure::Expired,
        ),
    ] {
        let f = fixture(workspace(Plan::Premium, true), lifetime);
        let refused = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await;
        assert_eq!(refused.unwrap_err(), AuthRefusal::Unauthorized(failure));
        assert_eq!(f.auth.argon2_runs(), 0);
    }
}

#[tokio::test(flavor = "current_thread")]
async fn the_plan_then_single_sign_on_must_allow_provisioning() {
    let pro = fixture(workspace(Plan::Pro, true), TokenLifetime::default());
    match pro.auth.admit(&pro.key, Ok(&pro.token.plaintext)).await {
        Err(AuthRefusal::Forbidden { reason, .. }) => {
            assert_eq!(reason, ScimRefusal::PlanLacksProvisioning(Plan::Pro));
        }
        other => panic!("{other:?}"),
    }
    let off = fixture(workspace(Plan::Premium, false), TokenLifetime::default());
    match off.auth.admit(&off.key, Ok(&off.token.plaintext)).await {
        Err(AuthRefusal::Forbidden { reason, tenant }) => {
            assert_eq!(reason, ScimRefusal::SsoOff);
            assert_eq!(tenant.workspace_key.as_str(), off.key);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "current_thread")]
async fn forgetting_a_token_or_workspace_reads_it_again() {
    let f = premium();
    let admitted = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    f.auth.forget_token(admitted.tenant.token_id);
    let again = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(again.verification, Verification::Argon2);
    f.auth.forget_workspace(&admitted.tenant.workspace_key);
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(f.directory.lookups.load(Ordering::SeqCst), 3);
}

/// Polls the futures together so that they are in flight at once.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<_> = futures.map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut all = true;
        for (slot, future) in done.iter_mut().zip(pending.iter_mut()) {
            if let Some(running) = future {
                match running.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => {
                        *slot = Some(value);
                        *future = None;
                    }
                    std::task::Poll::Pending => all = false,
                }
            }
        }
        if all {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    })
    .await;
    done.into_iter().flatten().collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_busy_workspace_is_read_again_in_the_background_and_never_served_older_than_the_ttl() {
    let ttl = Duration::from_millis(400);
    let f = premium().with_tenant_ttl(ttl);
    let lookups = || f.directory.lookups.load(Ordering::SeqCst);
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(lookups(), 1);
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(lookups(), 1, "a fresh entry is served");
    tokio::time::sleep(ttl / 2 + Duration::from_millis(20)).await;
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(
        lookups(),
        1,
        "a half-old entry is served without waiting for a read"
    );
    tokio::time::sleep(Duration::from_millis(20)).await;
    assert_eq!(lookups(), 2, "and read again in the background");
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(lookups(), 2, "the entry read again is fresh");
    tokio::time::sleep(ttl + Duration::from_millis(50)).await;
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(lookups(), 3, "an expired entry is read before it is used");
}

#[tokio::test(flavor = "current_thread")]
async fn a_token_forgotten_while_it_is_read_again_stays_forgotten() {
    let ttl = Duration::from_millis(400);
    let f = premium().with_tenant_ttl(ttl);
    let admitted = f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    tokio::time::sleep(ttl / 2 + Duration::from_millis(20)).await;
    // The background read starts here, and the token is revoked before it ends.
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    f.auth.forget_token(admitted.tenant.token_id);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let lookups = f.directory.lookups.load(Ordering::SeqCst);
    f.auth.admit(&f.key, Ok(&f.token.plaintext)).await.unwrap();
    assert_eq!(
        f.directory.lookups.load(Ordering::SeqCst),
        lookups + 1,
        "the read that predates the revocation was not kept"
    );
}
