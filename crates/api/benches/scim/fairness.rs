//! One workspace importing at full speed must not starve another: the second workspace's
//! `filter userName eq` p99 with the first one busy, against its p99 alone. Beside it, the same
//! for `GET /healthz`, which shares nothing with the import but the cores and the HTTP workers:
//! the part of the growth that no isolation between workspaces can remove.

use std::net::SocketAddr;

use serde::Serialize;

use crate::fixture::Tenant;
use crate::scenarios::{create, healthz, lookup};
use crate::wrk::{self, Line, Load, Measured};

/// How much the quiet workspace's p99 may grow.
pub const AT_MOST: f64 = 3.0;

#[derive(Serialize)]
pub struct Fairness {
    pub quiet_alone: Measured,
    pub quiet_beside_import: Measured,
    pub import: Measured,
    pub p99_ratio: f64,
    pub healthz_alone: Measured,
    pub healthz_beside_import: Measured,
    pub healthz_p99_ratio: f64,
    pub met: bool,
}

/// `quiet`'s look-ups alone, then beside `busy`'s creations on most of the connections.
pub fn measure(address: SocketAddr, busy: &Tenant, quiet: &Tenant, load: Load) -> Fairness {
    let lookups: Vec<_> = (0..quiet.users.len())
        .map(|user| lookup(quiet, &quiet.user_name(user)))
        .collect();
    let creations = |prefix: &str| -> Vec<_> {
        (0..load.seconds as usize * 12_000)
            .map(|n| create(busy, &format!("{prefix}{n}@import.example"), None))
            .collect()
    };
    let quiet_load = Load {
        connections: 2,
        ..load
    };
    let busy_load = Load {
        connections: load.connections,
        ..load
    };
    let beside_import = |slug: &'static str, quiet: &[Line], prefix: &str| {
        let creations = creations(prefix);
        let alone = wrk::run(address, slug, quiet, quiet_load);
        std::thread::scope(|scope| {
            let import =
                scope.spawn(|| wrk::run(address, "fairness_import", &creations, busy_load));
            let beside = wrk::run(address, slug, quiet, quiet_load);
            (alone, beside, import.join().expect("the import's wrk"))
        })
    };
    let (healthz_alone, healthz_beside_import, _) =
        beside_import("fairness_healthz", &[healthz()], "floor");
    let (quiet_alone, quiet_beside_import, import) =
        beside_import("fairness_lookups", &lookups, "fair");
    let ratio =
        |alone: &Measured, beside: &Measured| beside.p99_us as f64 / alone.p99_us.max(1) as f64;
    let p99_ratio = ratio(&quiet_alone, &quiet_beside_import);
    Fairness {
        met: p99_ratio <= AT_MOST && quiet_beside_import.errors() == 0,
        healthz_p99_ratio: ratio(&healthz_alone, &healthz_beside_import),
        quiet_alone,
        quiet_beside_import,
        import,
        p99_ratio,
        healthz_alone,
        healthz_beside_import,
    }
}
