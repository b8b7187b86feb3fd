//! The data under load: workspaces with their tokens made through the use cases, their users
//! and groups written straight to the store by the bulk loader.

use serde_json::json;
use webwork_scim_api::usecases::workspaces::NewWorkspace;
use webwork_scim_api::usecases::{Caller, UseCases};
use webwork_scim_domain::{GroupDraft, PlainText, Plan, UserDraft, UserId, WorkspaceName};
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::workspaces::WorkspaceUpdate;
use webwork_scim_persistence::{StoreError, groups, users};

/// Groups in each workspace, for Group Push.
pub const GROUPS: usize = 8;

/// Users written per transaction while seeding.
const USERS_PER_TRANSACTION: usize = 10_000;

/// A workspace the scenarios address: its key, a token, and what it holds. User `u` of workspace
/// `n` is named by [`user_name`], so only the ids are kept.
pub struct Tenant {
    pub n: usize,
    pub key: String,
    pub token: String,
    pub users: Vec<UserId>,
    pub groups: Vec<String>,
}

impl Tenant {
    pub fn base(&self) -> String {
        format!("/scim/v2/{}", self.key)
    }

    pub fn user_name(&self, u: usize) -> String {
        format!("user{u}@w{}.example", self.n)
    }

    /// What an identity provider keeps of user `u` (Okta's user id, Entra ID's object id).
    pub fn external_id(&self, u: usize) -> String {
        format!("00u{u}w{}", self.n)
    }
}

/// A Premium workspace without a rate limit (nothing gets in the way of measuring the service
/// itself), and a token for it.
pub async fn workspace(use_cases: &UseCases, name: &str) -> (String, String) {
    let operator = Caller::operator();
    let new = NewWorkspace {
        name: WorkspaceName::parse(name).unwrap(),
        plan: Plan::Premium,
        sso_enabled: true,
        seats: None,
    };
    let workspace = use_cases.create_workspace(&operator, new).await.unwrap();
    let key = workspace.key.as_str().to_owned();
    let unlimited = json!({"requests_per_second": 0, "burst": 0});
    let update = WorkspaceUpdate {
        overrides: Some((Some(serde_json::from_value(unlimited).unwrap()), None)),
        ..WorkspaceUpdate::default()
    };
    use_cases
        .update_workspace(&operator, &key, update)
        .await
        .unwrap();
    let label = PlainText::parse("label", "bench", 100).unwrap();
    let token = use_cases
        .issue_token(&operator, &key, label, None)
        .await
        .unwrap();
    (key, token.plaintext)
}

/// A new workspace `n` with `users` users and [`GROUPS`] empty groups.
pub async fn tenant(db: &TestDb, use_cases: &UseCases, n: usize, users: usize) -> Tenant {
    let (key, token) = workspace(use_cases, &format!("Bench {n}")).await;
    let workspace = use_cases.find_workspace(&key).await.unwrap();
    let groups = db
        .store
        .write(workspace.id, |tx| {
            (0..GROUPS)
                .map(|g| {
                    let draft = GroupDraft::from_scim(&json!({"displayName": format!("Team {g}")}))
                        .unwrap();
                    Ok(groups::insert(tx, &draft)?.group.id.to_string())
                })
                .collect::<Result<Vec<_>, StoreError>>()
        })
        .unwrap();
    let mut tenant = Tenant {
        n,
        key,
        token,
        users: Vec::new(),
        groups,
    };
    grow(db, use_cases, &mut tenant, users).await;
    tenant
}

/// Adds users to `tenant` until it holds `users`, with the bulk loader
/// ([`users::insert_many`]), [`USERS_PER_TRANSACTION`] per transaction.
pub async fn grow(db: &TestDb, use_cases: &UseCases, tenant: &mut Tenant, users: usize) {
    let workspace = use_cases.find_workspace(&tenant.key).await.unwrap();
    while tenant.users.len() < users {
        let from = tenant.users.len();
        let to = users.min(from + USERS_PER_TRANSACTION);
        let drafts: Vec<_> = (from..to)
            .map(|u| {
                let user_name = tenant.user_name(u);
                UserDraft::from_scim(&json!({
                    "userName": user_name,
                    "externalId": tenant.external_id(u),
                    "name": {"givenName": "Bench", "familyName": format!("User {u}")},
                    "emails": [{"value": user_name, "primary": true, "type": "work"}],
                }))
                .unwrap()
            })
            .collect();
        let ids = db
            .store
            .write(workspace.id, |tx| users::insert_many(tx, &drafts))
            .unwrap();
        tenant.users.extend(ids);
    }
}

/// On PostgreSQL, what autovacuum does on a production server after a load (the `users`
/// table's settings ask for it after every 20,000 changed rows): statistics for the planner and
/// the visibility map for index-only counts. This machine's server runs with autovacuum off, so
/// the bench runs it after each load; connections keep their prepared statements, which
/// PostgreSQL plans again once the statistics change. Returns how long it took; `None` on
/// SQLite, which has nothing of the kind to run.
pub fn settle(db: &TestDb) -> Option<std::time::Duration> {
    use diesel::connection::SimpleConnection;
    let owner = db.owner_url.as_ref()?;
    let started = std::time::Instant::now();
    owner
        .connect()
        .expect("the bench schema's owner")
        .batch_execute("VACUUM (ANALYZE) users, groups, group_members, workspaces, scim_tokens")
        .expect("vacuum and analyse the bench's tables");
    Some(started.elapsed())
}

/// Bytes the database holds on disk: the SQLite file and its write-ahead log, or on PostgreSQL
/// the tables and indexes of the bench's schema. The SQLite log is copied into the file and
/// emptied first: it holds the load's pages a second time until the checkpoint thread has run.
pub fn database_bytes(db: &TestDb) -> u64 {
    use diesel::RunQueryDsl;
    use webwork_scim_persistence::DatabaseUrl;
    match &db.url {
        DatabaseUrl::Sqlite(path) => {
            #[derive(diesel::QueryableByName)]
            struct Checkpoint {
                #[diesel(sql_type = diesel::sql_types::Integer)]
                busy: i32,
            }
            let mut conn = db.url.connect().expect("a connection to the database");
            // Waits for readers and writers (busy timeout), and tries again while another
            // connection's checkpoint (the server's or the seeding store's checkpoint thread)
            // holds the checkpoint lock: SQLite answers busy at once for that one.
            diesel::connection::SimpleConnection::batch_execute(
                &mut conn,
                "PRAGMA busy_timeout = 10000",
            )
            .expect("a busy timeout for the checkpoint");
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
            let copied = loop {
                let done: Checkpoint = diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
                    .get_result(&mut conn)
                    .expect("the log copied into the database file");
                if done.busy == 0 || std::time::Instant::now() >= deadline {
                    break done.busy == 0;
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            };
            assert!(
                copied,
                "the log could not be copied: the database stayed busy"
            );
            let size = |p: &std::path::Path| std::fs::metadata(p).map_or(0, |m| m.len());
            let mut wal = path.clone().into_os_string();
            wal.push("-wal");
            size(path) + size(std::path::Path::new(&wal))
        }
        DatabaseUrl::Postgres(_) => {
            #[derive(diesel::QueryableByName)]
            struct Bytes {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                bytes: i64,
            }
            let mut conn = db.store.raw_connection().unwrap();
            let bytes: Bytes = diesel::sql_query(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0)::bigint AS bytes \
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                 WHERE n.nspname = current_schema() AND c.relkind = 'r'",
            )
            .get_result(&mut *conn)
            .unwrap();
            u64::try_from(bytes.bytes).unwrap_or_default()
        }
    }
}
