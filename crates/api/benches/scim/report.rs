//! The table on the terminal, the JSON under `target/bench/`, and the targets checked.

use serde::Serialize;

use crate::fairness::{self, Fairness};
use crate::growth::Step;
use crate::scenarios::Target;
use crate::server::Usage;
use crate::wrk::{Load, Measured};

#[derive(Serialize)]
pub struct Row {
    pub scenario: &'static str,
    pub slug: &'static str,
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub errors: u64,
    /// Requests/s over the ceiling's requests/s in the same run.
    pub ratio: f64,
    /// What the target asks of this scenario's requests/s, and whether it was met.
    pub target_per_second: Option<f64>,
    pub met: Option<bool>,
    /// The server's highest resident memory sampled during the scenario.
    pub peak_resident_mb: f64,
    /// The server process's CPU time (all threads, user and system) per answered request: what
    /// a request costs, steadier between runs on a shared machine than requests/s. PostgreSQL's
    /// own processes are not counted.
    pub server_cpu_us_per_request: f64,
    pub raw: Measured,
}

#[derive(Serialize)]
pub struct Run {
    pub backend: String,
    pub workspaces: usize,
    pub users_per_workspace: usize,
    pub load: Load,
    pub http_workers: usize,
    pub cores: usize,
    pub argon2_hashes_per_second: f64,
    pub seeded_users_per_second: f64,
    /// The database's size on disk after seeding.
    pub seeded_bytes: u64,
    pub rows: Vec<Row>,
    pub fairness: Option<Fairness>,
    /// A workspace grown while the server runs (BENCH_GROWTH), step by step.
    pub growth: Vec<Step>,
}

/// Share of each SQLite ratio PostgreSQL is held to: it runs on the same two cores.
const POSTGRES_SHARE: f64 = 0.5;

pub struct Targets {
    pub ceiling: f64,
    pub hashes_per_second: f64,
    pub postgres: bool,
}

impl Targets {
    /// The requests/s a target asks for.
    pub fn per_second(&self, target: Target) -> Option<f64> {
        let share = if self.postgres { POSTGRES_SHARE } else { 1.0 };
        match target {
            Target::Ceiling(ratio) => Some(ratio * share * self.ceiling),
            Target::Hashing(ratio) => Some(ratio * self.hashes_per_second),
            Target::None => None,
        }
    }
}

pub fn row(
    scenario: &'static str,
    slug: &'static str,
    measured: Measured,
    ceiling: f64,
    target_per_second: Option<f64>,
    usage: Usage,
) -> Row {
    let per_second = measured.per_second();
    Row {
        scenario,
        slug,
        requests_per_second: per_second,
        p50_ms: measured.p50_us as f64 / 1000.0,
        p99_ms: measured.p99_us as f64 / 1000.0,
        p999_ms: measured.p999_us as f64 / 1000.0,
        errors: measured.errors(),
        ratio: per_second / ceiling.max(1.0),
        target_per_second,
        met: target_per_second.map(|at_least| per_second >= at_least && measured.errors() == 0),
        peak_resident_mb: megabytes(usage.peak_resident),
        server_cpu_us_per_request: usage.cpu_seconds * 1e6 / measured.requests.max(1) as f64,
        raw: measured,
    }
}

pub fn print_header() {
    println!(
        "{:<42} {:>9} {:>8} {:>8} {:>9} {:>6} {:>7} {:>7} {:>7} {:>15}",
        "scenario",
        "req/s",
        "p50 ms",
        "p99 ms",
        "p99.9 ms",
        "errors",
        "ratio",
        "CPU µs",
        "RSS MB",
        "target"
    );
}

pub fn print(row: &Row) {
    let target = match (row.target_per_second, row.met) {
        (Some(at_least), Some(met)) => {
            format!("≥{at_least:.0} {}", if met { "ok" } else { "MISSED" })
        }
        _ => String::new(),
    };
    println!(
        "{:<42} {:>9.0} {:>8.2} {:>8.2} {:>9.2} {:>6} {:>7.3} {:>7.0} {:>7.0} {:>15}",
        row.scenario,
        row.requests_per_second,
        row.p50_ms,
        row.p99_ms,
        row.p999_ms,
        row.errors,
        row.ratio,
        row.server_cpu_us_per_request,
        row.peak_resident_mb,
        target
    );
}

pub fn print_fairness(fair: &Fairness) {
    let ms = |us: u64| us as f64 / 1000.0;
    println!(
        "\nFairness: a workspace's lookups (2 connections) p99 {:.2} ms alone, {:.2} ms while \
         another imports at {:.0} req/s: {:.2}× (target ≤{:.0}×) {}",
        ms(fair.quiet_alone.p99_us),
        ms(fair.quiet_beside_import.p99_us),
        fair.import.per_second(),
        fair.p99_ratio,
        fairness::AT_MOST,
        if fair.met { "ok" } else { "MISSED" }
    );
    println!(
        "  GET /healthz on the same connections, which shares only the cores and the HTTP \
         workers with the import: p99 {:.2} ms alone, {:.2} ms beside it: {:.2}×",
        ms(fair.healthz_alone.p99_us),
        ms(fair.healthz_beside_import.p99_us),
        fair.healthz_p99_ratio,
    );
}

pub fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}
