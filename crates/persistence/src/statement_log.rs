//! What a pool's connections ran and what they kept prepared, for proving that the statements
//! of a request are prepared once per connection and reused. Off unless a caller asks for it:
//! recording formats every statement's text.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};

use diesel::connection::{Instrumentation, InstrumentationEvent};

#[derive(Debug, Default)]
struct Seen {
    ran: Vec<String>,
    cached: HashSet<String>,
}

/// Shared by a pool's connections.
#[derive(Debug, Default, Clone)]
pub struct StatementLog(Arc<Mutex<Seen>>);

impl StatementLog {
    /// Forgets what ran so far (what is cached stays cached).
    pub fn clear_runs(&self) {
        self.lock().ran.clear();
    }

    /// The statements that ran since [`StatementLog::clear_runs`] without being in a
    /// connection's statement cache; transaction control excluded.
    pub fn prepared_anew(&self) -> Vec<String> {
        let seen = self.lock();
        seen.ran
            .iter()
            .filter(|sql| !seen.cached.contains(*sql) && !is_transaction_control(sql))
            .cloned()
            .collect()
    }

    /// How many statements ran since [`StatementLog::clear_runs`], transaction control
    /// excluded.
    pub fn runs(&self) -> usize {
        self.ran().len()
    }

    /// The statements that ran since [`StatementLog::clear_runs`], in order, transaction
    /// control excluded.
    pub fn ran(&self) -> Vec<String> {
        self.lock()
            .ran
            .iter()
            .filter(|sql| !is_transaction_control(sql))
            .cloned()
            .collect()
    }

    /// Every statement that ran since [`StatementLog::clear_runs`], in order, transaction
    /// control included: one round trip each.
    pub fn ran_with_control(&self) -> Vec<String> {
        self.lock().ran.clone()
    }

    /// The statements of transaction control (`BEGIN`, `COMMIT`, savepoints) that ran since
    /// [`StatementLog::clear_runs`] without being in a connection's statement cache (not the
    /// checkpoint thread's `PRAGMA`, which runs on its own schedule). SQLite's
    /// connections prepare theirs once; PostgreSQL's are simple queries that carry the
    /// workspace's scope in the same round trip.
    pub fn control_prepared_anew(&self) -> Vec<String> {
        let seen = self.lock();
        seen.ran
            .iter()
            .filter(|sql| {
                !seen.cached.contains(*sql)
                    && is_transaction_control(sql)
                    && !sql.trim_start().to_ascii_uppercase().starts_with("PRAGMA")
            })
            .cloned()
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn instrumentation(&self) -> Recorder {
        Recorder(self.clone())
    }
}

fn is_transaction_control(sql: &str) -> bool {
    let head = sql.trim_start().to_ascii_uppercase();
    [
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "RELEASE",
        "PRAGMA",
    ]
    .iter()
    .any(|word| head.starts_with(word))
}

pub(crate) struct Recorder(StatementLog);

impl Instrumentation for Recorder {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                let text = query.to_string();
                let sql = text.split(" -- binds:").next().unwrap_or_default();
                self.0.lock().ran.push(sql.to_owned());
            }
            InstrumentationEvent::CacheQuery { sql, .. } => {
                self.0.lock().cached.insert(sql.to_owned());
            }
            _ => {}
        }
    }
}
