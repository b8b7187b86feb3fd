//! Plans that stay good while a workspace grows: one new workspace grown from empty to
//! BENCH_GROWTH users by the bulk loader while the server keeps running (no restart, so its
//! connections keep the statements they prepared while the workspace was small), its look-ups,
//! first page and page at the end measured after each tenfold step (on PostgreSQL once the step's
//! load is vacuumed and analysed, as autovacuum does in production), then other filters one
//! request at a time ([`crate::filters`]).

use std::time::Instant;

use serde::Serialize;
use webwork_scim_api::AppState;
use webwork_scim_persistence::testing::TestDb;

use crate::filters;
use crate::fixture::{self, Tenant};
use crate::report::megabytes;
use crate::scenarios::{self, Draw};
use crate::server::Server;
use crate::wrk::{self, Load, Measured};

#[derive(Serialize)]
pub struct Step {
    pub users: usize,
    pub loaded_users_per_second: f64,
    pub lookup: Measured,
    pub first_page: Measured,
    pub last_page: Measured,
    /// The server's highest resident memory sampled during the step's three scenarios.
    pub peak_resident_mb: f64,
    pub database_mb: f64,
    /// How long the step's VACUUM (ANALYZE) took (PostgreSQL; see [`fixture::settle`]).
    pub settled_seconds: Option<f64>,
    pub filters: Vec<filters::Timed>,
}

/// 1,000, 10,000, … up to `to` users, `to` last.
fn sizes(to: usize) -> Vec<usize> {
    let mut sizes: Vec<_> = std::iter::successors(Some(1_000_usize), |n| n.checked_mul(10))
        .take_while(|&n| n < to)
        .collect();
    sizes.push(to);
    sizes
}

/// Grows workspace `n` (a new one) step by step to `to` users and measures it after each step.
pub async fn measure(
    db: &TestDb,
    state: &AppState,
    server: &Server,
    n: usize,
    to: usize,
    load: Load,
) -> Vec<Step> {
    println!("\nGrowth: one workspace grown to {to} users while the server runs");
    println!(
        "{:>9} {:>9} {:>22} {:>22} {:>22} {:>7} {:>8}",
        "users",
        "loaded/s",
        "lookup p50/p99 ms",
        "first page p50/p99",
        "last page p50/p99",
        "RSS MB",
        "DB MB"
    );
    let mut tenant = fixture::tenant(db, &state.use_cases, n, 0).await;
    crate::warm_up(server.address, std::slice::from_ref(&tenant)).await;
    let mut steps = Vec::new();
    for size in sizes(to) {
        let loading = Instant::now();
        // The users of this step are the ones modified after it began.
        let since = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .expect("a time in RFC 3339");
        let before = tenant.users.len();
        fixture::grow(db, &state.use_cases, &mut tenant, size).await;
        let loaded = (size - before) as f64 / loading.elapsed().as_secs_f64();
        let settled = fixture::settle(db);
        let step = std::thread::scope(|scope| {
            scope
                .spawn(|| measure_step(server, &tenant, load, loaded))
                .join()
                .expect("the step's measurements")
        });
        let step = Step {
            database_mb: megabytes(fixture::database_bytes(db)),
            settled_seconds: settled.map(|took| took.as_secs_f64()),
            filters: filters::measure(server.address, &tenant, &since).await,
            ..step
        };
        print(&step);
        filters::print(&step.filters);
        steps.push(step);
    }
    steps
}

fn measure_step(server: &Server, tenant: &Tenant, load: Load, loaded: f64) -> Step {
    let run = |slug: &'static str| {
        let scenario = scenarios::all()
            .into_iter()
            .find(|scenario| scenario.slug == slug)
            .expect("a scenario of that slug");
        let tenants = std::slice::from_ref(tenant);
        let lines = (scenario.lines)(&mut Draw::new(tenants, crate::lines_for(load), slug));
        let (measured, usage) =
            server.usage_during(|| wrk::run(server.address, slug, &lines, load));
        (measured, usage.peak_resident)
    };
    let (lookup, lookup_resident) = run("user_name_eq");
    let (first_page, first_resident) = run("first_page");
    let (last_page, last_resident) = run("last_page");
    Step {
        users: tenant.users.len(),
        loaded_users_per_second: loaded,
        lookup,
        first_page,
        last_page,
        peak_resident_mb: megabytes(lookup_resident.max(first_resident).max(last_resident)),
        database_mb: 0.0,
        settled_seconds: None,
        filters: Vec::new(),
    }
}

fn print(step: &Step) {
    let pair = |m: &Measured| {
        format!(
            "{:.2} / {:.2}{}",
            m.p50_us as f64 / 1000.0,
            m.p99_us as f64 / 1000.0,
            if m.errors() > 0 { " ERR" } else { "" }
        )
    };
    println!(
        "{:>9} {:>9.0} {:>22} {:>22} {:>22} {:>7.0} {:>8.0}",
        step.users,
        step.loaded_users_per_second,
        pair(&step.lookup),
        pair(&step.first_page),
        pair(&step.last_page),
        step.peak_resident_mb,
        step.database_mb
    );
}
