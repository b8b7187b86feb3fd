//! `make bench`: the `webwork-scim` binary serving under real HTTP load from wrk (both separate
//! processes), every scenario beside the ceiling measured in the same run (an unauthenticated
//! route of the same server that touches no database), on SQLite by default and PostgreSQL with
//! `TEST_BACKEND=postgres`.
//! Prints requests/s, p50, p99, p99.9, errors and the ratio to the ceiling, writes the run as
//! JSON to `target/bench/scim-<backend>.json`, and with `BENCH_STRICT=1` fails when a target is
//! missed. BENCH_WORKSPACES, BENCH_USERS, BENCH_SECONDS and BENCH_CONNECTIONS size the run;
//! BENCH_ONLY=slug,slug runs only those scenarios (and the ceiling); BENCH_GROWTH=N then grows
//! one more workspace to N users while the server runs, measuring it after each tenfold step.

// A benchmark's fixtures fail it at once, like a test's.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod fairness;
mod filters;
mod fixture;
mod growth;
mod report;
mod scenarios;
mod server;
mod wrk;

use std::time::{Duration, Instant};

use webwork_scim_api::AppState;
use webwork_scim_api::state::AppConfig;
use webwork_scim_persistence::testing::TestDb;
use webwork_scim_persistence::{PoolSettings, Store};

use crate::report::{Run, Targets};
use crate::scenarios::Draw;
use crate::server::Server;
use crate::wrk::Load;

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if !wrk::available() {
        eprintln!("make bench needs wrk on the PATH (Debian: apt-get install wrk)");
        std::process::exit(2);
    }
    actix_web::rt::System::new().block_on(run());
}

async fn run() {
    let workspaces = setting("BENCH_WORKSPACES", 100);
    let users = setting("BENCH_USERS", 1_000);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let load = Load {
        threads: 2,
        connections: setting("BENCH_CONNECTIONS", 32),
        seconds: setting("BENCH_SECONDS", 8) as u64,
    };
    let growth_to = setting("BENCH_GROWTH", 0);
    let db = TestDb::new();
    // The use cases make the workspaces and their tokens; the binary serves them.
    let store = Store::connect(&db.url, &PoolSettings::default()).unwrap();
    let state = AppState::new(store, AppConfig::new("http://bench.local")).unwrap();
    let backend = format!("{:?}", db.store.backend()).to_lowercase();
    println!("backend: {backend}; seeding {workspaces} workspaces × {users} users");
    let (tenants, seeded_per_second) = seed(&db, &state, workspaces, users).await;
    if let Some(settled) = fixture::settle(&db) {
        println!(
            "VACUUM (ANALYZE) after seeding, as autovacuum would: {:.1} s",
            settled.as_secs_f64()
        );
    }
    let seeded_bytes = fixture::database_bytes(&db);
    let server = Server::start(
        &db.url.expose(),
        &wrk::output_dir().join(format!("server-{backend}.log")),
    );
    warm_up(server.address, &tenants).await;
    let hashes_per_second = argon2_rate(cores, Duration::from_secs(3));
    println!(
        "seeded at {seeded_per_second:.0} users/s, {:.0} MB on disk ({:.0} MB per million \
         users); argon2id: {hashes_per_second:.1} hashes/s on \
         {cores} cores; wrk: {} threads, {} connections, {} s per scenario\n",
        seeded_bytes as f64 / 1e6,
        seeded_bytes as f64 / (workspaces * users).max(1) as f64,
        load.threads,
        load.connections,
        load.seconds
    );
    report::print_header();
    let targets = Targets {
        ceiling: 0.0,
        hashes_per_second,
        postgres: backend == "postgres",
    };
    let (rows, fairness) = measure_scenarios(&db, &server, &tenants, load, targets);
    let growth = if growth_to > 0 {
        growth::measure(&db, &state, &server, workspaces, growth_to, load).await
    } else {
        Vec::new()
    };
    let run = Run {
        backend,
        workspaces,
        users_per_workspace: users,
        load,
        http_workers: cores,
        cores,
        argon2_hashes_per_second: hashes_per_second,
        seeded_users_per_second: seeded_per_second,
        seeded_bytes,
        rows,
        fairness,
        growth,
    };
    finish(&run);
}

/// The scenarios, then the fairness check, on a thread of their own: wrk's runs block. Each
/// starts on a settled database ([`fixture::settle`]): the scenarios before it wrote to it.
fn measure_scenarios(
    db: &TestDb,
    server: &Server,
    tenants: &[fixture::Tenant],
    load: Load,
    targets: Targets,
) -> (Vec<report::Row>, Option<fairness::Fairness>) {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                let rows = measure_all(db, server, tenants, load, targets);
                let fairness = (tenants.len() >= 2 && chosen("fairness")).then(|| {
                    fixture::settle(db);
                    fairness::measure(server.address, &tenants[0], &tenants[1], load)
                });
                if let Some(fair) = &fairness {
                    report::print_fairness(fair);
                }
                (rows, fairness)
            })
            .join()
            .unwrap()
    })
}

/// Writes the run's JSON; with BENCH_STRICT=1, exits with 1 when a target was missed.
fn finish(run: &Run) {
    let mut missed: Vec<_> = run
        .rows
        .iter()
        .filter(|row| row.met == Some(false))
        .map(|row| row.slug)
        .collect();
    if run.fairness.as_ref().is_some_and(|fair| !fair.met) {
        missed.push("fairness");
    }
    let file = wrk::output_dir().join(format!("scim-{}.json", run.backend));
    std::fs::write(&file, serde_json::to_string_pretty(run).unwrap()).unwrap();
    println!("\nwritten to {}", file.display());
    if !missed.is_empty() && std::env::var("BENCH_STRICT").is_ok_and(|v| v == "1") {
        eprintln!("targets missed: {missed:?}");
        std::process::exit(1);
    }
}

/// Every chosen scenario (BENCH_ONLY), the ceiling first, each row printed as it is measured.
fn measure_all(
    db: &TestDb,
    server: &Server,
    tenants: &[fixture::Tenant],
    load: Load,
    mut targets: Targets,
) -> Vec<report::Row> {
    let mut rows = Vec::new();
    for scenario in scenarios::all().into_iter().filter(|s| chosen(s.slug)) {
        let mut draw = Draw::new(tenants, lines_for(load), scenario.slug);
        let lines = (scenario.lines)(&mut draw);
        fixture::settle(db);
        let (measured, usage) =
            server.usage_during(|| wrk::run(server.address, scenario.slug, &lines, load));
        if scenario.slug == "ceiling" {
            targets.ceiling = measured.per_second();
        }
        let row = report::row(
            scenario.name,
            scenario.slug,
            measured,
            targets.ceiling,
            targets.per_second(scenario.target),
            usage,
        );
        report::print(&row);
        rows.push(row);
    }
    rows
}

/// `workspaces` workspaces of `users` users each, and the users written per second.
async fn seed(
    db: &TestDb,
    state: &AppState,
    workspaces: usize,
    users: usize,
) -> (Vec<fixture::Tenant>, f64) {
    let seeding = Instant::now();
    let mut tenants = Vec::with_capacity(workspaces);
    for n in 0..workspaces {
        tenants.push(fixture::tenant(db, &state.use_cases, n, users).await);
    }
    let per_second = (workspaces * users) as f64 / seeding.elapsed().as_secs_f64();
    (tenants, per_second)
}

/// Whether BENCH_ONLY (a comma-separated list of slugs; empty: all) names `slug`. The ceiling is
/// always measured.
fn chosen(slug: &str) -> bool {
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    only.is_empty() || slug == "ceiling" || only.split(',').any(|s| s == slug)
}

/// Enough requests per file that a scenario creating users never repeats one within its time.
pub fn lines_for(load: Load) -> usize {
    (load.seconds as usize * 12_000).max(1_000)
}

/// Every token verified once (argon2), so that the scenarios measure the cached path.
async fn warm_up(address: std::net::SocketAddr, tenants: &[fixture::Tenant]) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .finish();
    for tenant in tenants {
        let url = format!("http://{address}{}/Users?count=1", tenant.base());
        let response = client
            .get(url)
            .insert_header(("Authorization", format!("Bearer {}", tenant.token)))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200);
    }
}

/// argon2id hashes/s with the service's parameters, one thread per core, in this run.
fn argon2_rate(threads: usize, over: Duration) -> f64 {
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            std::thread::spawn(move || {
                let mut hashes = 0_u32;
                while started.elapsed() < over {
                    webwork_scim_tenancy::hashing::hash_secret(b"Correct-horse-1").unwrap();
                    hashes += 1;
                }
                hashes
            })
        })
        .collect();
    let hashes: u32 = handles.into_iter().map(|h| h.join().unwrap()).sum();
    f64::from(hashes) / started.elapsed().as_secs_f64()
}
