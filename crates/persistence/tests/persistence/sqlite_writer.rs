//! SQLite's writer thread: changes queued together commit together, each in its own savepoint;
//! none is answered before its commit, a failed one leaves nothing, a failed commit fails them all.

use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;
use webwork_scim_domain::{DomainError, Plan, WorkspaceId};
use webwork_scim_persistence::testing::{TestDb, pool_settings};
use webwork_scim_persistence::{PoolSettings, Store, StoreError, TenantTx, users};

use crate::support::*;

/// A SQLite database with a workspace; `None` on PostgreSQL, which has no writer thread.
fn sqlite_workspace() -> Option<(TestDb, WorkspaceId)> {
    let db = TestDb::new();
    if !db.store.has_writer_thread() {
        return None;
    }
    let ws = db.workspace("Acme", Plan::Premium, true).id;
    Some((db, ws))
}

/// `f` queued for the writer thread as a change of `ws`, in a task of its own.
fn change<R, F>(
    store: &Store,
    ws: WorkspaceId,
    f: F,
) -> tokio::task::JoinHandle<Result<R, StoreError>>
where
    F: FnOnce(&mut TenantTx<'_>) -> Result<R, StoreError> + Send + 'static,
    R: Send + 'static,
{
    let store = store.clone();
    tokio::spawn(async move { store.write_queued(ws, f).await })
}

/// A change that creates `user_name` in `ws`, on the writer thread.
fn create(
    store: &Store,
    ws: WorkspaceId,
    user_name: &str,
) -> tokio::task::JoinHandle<Result<(), StoreError>> {
    let user = draft(json!({ "userName": user_name }));
    change(store, ws, move |tx| {
        users::insert(tx, &user, None).map(drop)
    })
}

/// Holds `store`'s write turn on a pooled connection until the returned sender is dropped, so
/// that the changes queued meanwhile reach the writer thread together.
async fn hold_the_write_turn(store: &Store, ws: WorkspaceId) -> mpsc::Sender<()> {
    let (release, released) = mpsc::channel::<()>();
    let (held, holding) = tokio::sync::oneshot::channel();
    let store = store.clone();
    std::thread::spawn(move || {
        store.write(ws, move |_tx| {
            let _ = held.send(());
            let _ = released.recv();
            Ok::<_, StoreError>(())
        })
    });
    holding.await.expect("the turn is held");
    release
}

/// Waits until `n` spawned changes wait in the writer's queue (the thread is held up behind
/// [`hold_the_write_turn`]), so that they run in one transaction, in the order they were
/// awaited here.
async fn queued(store: &Store, n: usize) {
    let started = std::time::Instant::now();
    while store.queued_changes() < n {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{n} changes never queued"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // A change is counted just before it is handed to the thread's channel.
    tokio::time::sleep(Duration::from_millis(20)).await;
}

fn user_names(db: &TestDb, ws: WorkspaceId) -> Vec<String> {
    let mut names: Vec<String> = db
        .store
        .read(ws, |tx| users::list(tx, all(None)))
        .unwrap()
        .users
        .into_iter()
        .map(|user| user.user_name)
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_change_is_undone_alone_and_the_others_of_its_transaction_commit() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let held = hold_the_write_turn(&db.store, ws).await;
    let ann = create(&db.store, ws, "ann");
    queued(&db.store, 1).await;
    let refused = change(&db.store, ws, |tx| {
        users::insert(tx, &draft(json!({"userName": "refused"})), None)?;
        Err::<(), _>(StoreError::Domain(DomainError::invalid_value("no")))
    });
    queued(&db.store, 2).await;
    let taken = create(&db.store, ws, "ANN");
    queued(&db.store, 3).await;
    let bob = create(&db.store, ws, "bob");
    queued(&db.store, 4).await;
    drop(held);

    ann.await.unwrap().expect("ann is created");
    assert!(matches!(refused.await.unwrap(), Err(StoreError::Domain(_))));
    assert!(matches!(taken.await.unwrap(), Err(StoreError::Conflict)));
    bob.await.unwrap().expect("bob is created");
    assert_eq!(user_names(&db, ws), ["ann", "bob"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_that_fails_fails_every_change_of_its_transaction_and_writes_none() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let held = hold_the_write_turn(&db.store, ws).await;
    let ann = create(&db.store, ws, "ann");
    // A user of a workspace that does not exist, its foreign key checked only at the commit.
    let dangling = change(&db.store, WorkspaceId::generate(), |tx| {
        tx.run_sql("PRAGMA defer_foreign_keys = ON")?;
        users::insert(tx, &draft(json!({"userName": "nobody"})), None).map(drop)
    });
    queued(&db.store, 2).await;
    drop(held);

    let ann = ann.await.unwrap();
    assert!(
        matches!(ann, Err(StoreError::RolledBack(_))),
        "ann shared the failed commit: {ann:?}"
    );
    assert!(dangling.await.unwrap().is_err());
    assert!(user_names(&db, ws).is_empty());
    // The writer goes on with the next transaction.
    create(&db.store, ws, "ann").await.unwrap().unwrap();
    assert_eq!(user_names(&db, ws), ["ann"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_change_panics_its_caller_and_the_others_commit() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let held = hold_the_write_turn(&db.store, ws).await;
    let panicking = change(&db.store, ws, move |tx| {
        users::insert(tx, &draft(json!({"userName": "half-done"})), None)?;
        if tx.workspace() == ws {
            panic!("a bug in a use case");
        }
        Ok::<(), StoreError>(())
    });
    let ann = create(&db.store, ws, "ann");
    queued(&db.store, 2).await;
    drop(held);

    assert!(panicking.await.unwrap_err().is_panic());
    ann.await.unwrap().expect("ann is created");
    assert_eq!(user_names(&db, ws), ["ann"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_that_waited_past_the_checkout_timeout_is_refused_as_busy_without_running() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let impatient = Store::connect(
        &db.url,
        &PoolSettings {
            connection_timeout: Duration::from_millis(100),
            ..pool_settings()
        },
    )
    .unwrap();
    let slow = change(&impatient, ws, |tx| {
        std::thread::sleep(Duration::from_millis(400));
        users::insert(tx, &draft(json!({"userName": "slow"})), None).map(drop)
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let late = create(&impatient, ws, "late").await.unwrap();
    assert!(matches!(late, Err(StoreError::PoolExhausted)), "{late:?}");
    slow.await.unwrap().expect("the slow change commits");
    assert_eq!(user_names(&db, ws), ["slow"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_changes_all_land_once() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let changes: Vec<_> = (0..200)
        .map(|n| create(&db.store, ws, &format!("user{n:03}")))
        .collect();
    for change in changes {
        change.await.unwrap().unwrap();
    }
    let names = user_names(&db, ws);
    assert_eq!(names.len(), 100, "a page of the 200");
    let total = db.store.read(ws, users::count_live).unwrap();
    assert_eq!(total, 200);
}

fn file_size(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map_or(0, |meta| meta.len())
}

/// The SQLite database's file and its write-ahead log.
fn sqlite_files(db: &TestDb) -> (std::path::PathBuf, std::path::PathBuf) {
    let webwork_scim_persistence::DatabaseUrl::Sqlite(path) = &db.url else {
        panic!("a SQLite database");
    };
    let mut wal = path.clone().into_os_string();
    wal.push("-wal");
    (path.clone(), wal.into())
}

/// How many times SQLite has started the log again from its beginning: the checkpoint sequence
/// number its header holds (bytes 12..16, big-endian), which each start increments.
fn log_starts(wal: &std::path::Path) -> u32 {
    use std::io::Read;
    let mut header = [0_u8; 16];
    match std::fs::File::open(wal).and_then(|mut file| file.read_exact(&mut header)) {
        Ok(()) => u32::from_be_bytes([header[12], header[13], header[14], header[15]]),
        Err(_) => 0,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_is_copied_into_the_database_beside_the_writer_and_started_again() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let (database, wal) = sqlite_files(&db);
    let before = file_size(&database);
    let starts_before = log_starts(&wal);
    // One change per commit: each appends the pages it changed to the log, many thousands in
    // all, which the writer itself never copies. At least two seconds of them, so that rounds
    // of copies (a quarter of a second apart at least) come while the writer writes.
    let started = std::time::Instant::now();
    let mut written = 0_u64;
    while written < 6_000 || started.elapsed() < Duration::from_secs(2) {
        create(&db.store, ws, &format!("user{written:05}"))
            .await
            .unwrap()
            .unwrap();
        written += 1;
    }
    let starts = log_starts(&wal).saturating_sub(starts_before);
    let mut grown = file_size(&database);
    for _ in 0..100 {
        if grown > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        grown = file_size(&database);
    }
    assert!(grown > before, "the database file took the log's pages");
    // While the writer went on writing (seconds of commits), the log was copied entirely and
    // started again round after round: a log copied only passively, as the writer appends to
    // it, is never copied entirely, never started again, and holds every page (74 MB here).
    // How many rounds fit depends on how soon the checkpoint thread gets a core, hence only a
    // loose bound on the log's size.
    assert!(starts >= 5, "the log was started again {starts} times");
    let log = file_size(&wal);
    let pages_written = written * 3 * 4096;
    assert!(
        log < pages_written * 3 / 4,
        "the log is {log} bytes after {pages_written} bytes of pages"
    );
}

#[test]
fn the_log_of_pooled_writes_is_copied_without_any_change_on_the_writer_thread() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let (database, _) = sqlite_files(&db);
    let before = file_size(&database);
    for n in 0..300 {
        db.store
            .write(ws, |tx| {
                users::insert(
                    tx,
                    &draft(json!({ "userName": format!("pooled{n}") })),
                    None,
                )
            })
            .unwrap();
    }
    let mut grown = file_size(&database);
    for _ in 0..60 {
        if grown > before {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        grown = file_size(&database);
    }
    assert!(
        grown > before,
        "the checkpoint thread copied the pooled writes' pages"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_database_refuses_the_change_that_needs_room_and_the_writer_goes_on() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    create(&db.store, ws, "ann").await.unwrap().unwrap();
    // The writer's connection may use no more pages than the database holds now (SQLite keeps
    // the limit at the current size at least): a change that needs more fails as on a full
    // disk.
    change(&db.store, ws, |tx| {
        use diesel::connection::SimpleConnection;
        Ok(tx.connection().batch_execute("PRAGMA max_page_count = 1")?)
    })
    .await
    .unwrap()
    .unwrap();
    let mut stored = vec!["ann".to_owned()];
    let refused = loop {
        let name = format!("big{:04}", stored.len());
        assert!(stored.len() < 2_000, "the database never filled up");
        let emails: Vec<_> = (0..20)
            .map(|n| json!({ "value": format!("{name}.{n}.{}@acme.com", "x".repeat(150)) }))
            .collect();
        let user = draft(json!({ "userName": name, "title": "x".repeat(250), "emails": emails }));
        match change(&db.store, ws, move |tx| users::insert(tx, &user, None))
            .await
            .unwrap()
        {
            Ok(_) => stored.push(name),
            Err(err) => break (name, err),
        }
    };
    assert!(
        matches!(&refused.1, StoreError::Full(cause) if cause.contains("full")),
        "{} was refused with: {:?}",
        refused.0,
        refused.1
    );
    // Room again (the limit back to SQLite's default, or a new connection without it): the
    // writer serves the next changes, and the refused one left nothing.
    let lifted = change(&db.store, ws, |tx| {
        use diesel::connection::SimpleConnection;
        Ok(tx
            .connection()
            .batch_execute("PRAGMA max_page_count = 4294967294")?)
    })
    .await
    .unwrap();
    assert!(lifted.is_ok(), "{lifted:?}");
    create(&db.store, ws, "bob").await.unwrap().unwrap();
    stored.push("bob".to_owned());
    stored.sort();
    assert_eq!(user_names(&db, ws), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_log_file_is_cut_back_to_its_limit_once_a_burst_is_over() {
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let limit = 256 * 1024;
    let store = Store::connect(
        &db.url,
        &PoolSettings {
            sqlite: webwork_scim_persistence::db::SqliteSettings {
                wal_limit_bytes: limit,
                ..webwork_scim_persistence::db::SqliteSettings::default()
            },
            ..pool_settings()
        },
    )
    .unwrap();
    let (_, wal) = sqlite_files(&db);
    for n in 0..2_000 {
        create(&store, ws, &format!("burst{n:04}"))
            .await
            .unwrap()
            .unwrap();
    }
    let grown = file_size(&wal);
    assert!(
        grown > limit,
        "the burst grew the log to {grown} bytes only"
    );
    // Once the checkpoint thread has copied the log (at least once a second), the next commit
    // starts it again and cuts the file back.
    let started = std::time::Instant::now();
    let mut size = grown;
    while size > limit && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(300)).await;
        create(
            &store,
            ws,
            &format!("after{}", started.elapsed().as_millis()),
        )
        .await
        .unwrap()
        .unwrap();
        size = file_size(&wal);
    }
    assert!(size <= limit, "the log file stayed at {size} bytes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_writer_reads_by_system_calls_while_pooled_connections_read_through_the_map() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct MmapSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        mmap_size: i64,
    }
    let Some((db, ws)) = sqlite_workspace() else {
        return;
    };
    let mmap_size = |tx: &mut TenantTx<'_>| -> Result<i64, StoreError> {
        let read: MmapSize = diesel::sql_query("PRAGMA mmap_size").get_result(tx.connection())?;
        Ok(read.mmap_size)
    };
    let writer = change(&db.store, ws, mmap_size).await.unwrap().unwrap();
    assert_eq!(writer, 0, "the writer thread's connection maps nothing");
    let pooled = db.store.read(ws, mmap_size).unwrap();
    assert_eq!(
        u64::try_from(pooled).unwrap(),
        webwork_scim_persistence::SqliteSettings::default().mmap_bytes
    );
}
