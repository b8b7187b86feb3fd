//! SQLite's checkpoints, taken beside the writer thread instead of by it.
//!
//! In WAL mode every commit appends pages to the write-ahead log, and a checkpoint copies them
//! back into the database file and syncs both files. SQLite runs one inside the commit that
//! pushes the log past 1,000 pages: the writer, and every change waiting for it, stops for the
//! copy and two fsyncs. The store's connections turn that off; this thread copies the log after
//! the writer's commits (and at least every second, for the pool's own writes) on a connection
//! of its own, which a checkpoint in `PASSIVE` mode lets run while the writer goes on. It
//! copies at most four times a second: a page written by many commits in between is copied and
//! synced once.
//!
//! A log that keeps growing while it is copied never becomes copied entirely, and SQLite only
//! starts the log again from its beginning once it has been. So when the log holds more than
//! [`RESTART_FRAMES`] pages after a pass, the thread takes the writers' turn and copies the few
//! pages written meanwhile: the next commit then starts the log again instead of appending to it.
//! (A reader that holds an older snapshot keeps its pages from being copied; the log then grows
//! until that reader ends. The file is cut back to `SqliteSettings::wal_limit_bytes` when the
//! log starts again.)

use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use diesel::sql_types::Integer;
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

use crate::writer_queue::WriterQueue;

/// Log pages beyond which the thread waits for the writers' turn to copy the rest.
pub(crate) const RESTART_FRAMES: i32 = 1_000;

/// The least time between two rounds of passes. Each round copies every page written since
/// the last once, however often it was written, and syncs the database file: at 25 ms, the
/// copies and syncs of random PATCHes took a fifth of the server's CPU.
const PAUSE: Duration = Duration::from_millis(250);

/// Passes a round makes, at most, after its first, while the writer keeps writing.
const CATCH_UP_PASSES: usize = 3;

/// Pages written during a pass below which a round stops catching up.
const CAUGHT_UP_FRAMES: i32 = 100;

/// What `PRAGMA wal_checkpoint` reports.
#[derive(Debug, QueryableByName)]
struct Pass {
    /// 1 when the checkpoint could not run at all.
    #[diesel(sql_type = Integer)]
    busy: i32,
    /// Pages in the log.
    #[diesel(sql_type = Integer)]
    log: i32,
}

fn pass(conn: &mut SqliteConnection) -> Option<Pass> {
    match diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Pass>(conn) {
        Ok(pass) => Some(pass),
        Err(err) => {
            tracing::warn!(error = %err, "a SQLite checkpoint failed");
            None
        }
    }
}

/// Runs until the writer thread is gone: a pass after the writer's commits (told by `commits`),
/// and the rest of the log in the writers' turn when it has grown long.
pub(crate) fn serve(
    commits: Receiver<()>,
    mut conn: SqliteConnection,
    writers: &WriterQueue,
    patience: Duration,
) {
    loop {
        match commits.recv_timeout(Duration::from_secs(1)) {
            Ok(()) | Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => return,
        }
        while commits.try_recv().is_ok() {}
        let Some(mut last) = pass(&mut conn) else {
            std::thread::sleep(PAUSE);
            continue;
        };
        // A pass copies the log as it was when the pass began, and the writer went on: the
        // next passes copy what it wrote meanwhile, each less than the one before, so that the
        // pass in the writers' turn below holds them up briefly.
        for _ in 0..CATCH_UP_PASSES {
            if last.busy != 0 || last.log <= RESTART_FRAMES {
                break;
            }
            let Some(next) = pass(&mut conn) else { break };
            let written = next.log - last.log;
            last = next;
            if written <= CAUGHT_UP_FRAMES {
                break;
            }
        }
        // A pass reports the log as it was when the pass began: a commit may have added to it
        // since, and the writer starts the log again only if nothing is left to copy when its
        // next transaction begins. Between the writers' transactions, the last pass copies the
        // rest (unless a reader still holds an older snapshot).
        if last.busy == 0
            && last.log > RESTART_FRAMES
            && let Ok(_turn) = writers.wait_turn(patience)
        {
            pass(&mut conn);
        }
        std::thread::sleep(PAUSE);
    }
}
