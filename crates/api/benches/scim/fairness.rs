//! One workspace importing at full speed must not starve another: the second workspace's
//! `filter userName eq` p99 with the first one busy, against its p99 alone.

use std::net::SocketAddr;

use serde::Serialize;

use crate::fixture::Tenant;
use crate::scenarios::{create, lookup};
use crate::wrk::{self, Load, Measured};

/// How much the quiet workspace's p99 may grow.
pub const AT_MOST: f64 = 3.0;

#[derive(Serialize)]
pub struct Fairness {
    pub quiet_alone: Measured,
    pub quiet_beside_import: Measured,
    pub import: Measured,
    pub p99_ratio: f64,
    pub met: bool,
}

/// `quiet`'s look-ups alone, then beside `busy`'s creations on most of the connections.
pub fn measure(address: SocketAddr, busy: &Tenant, quiet: &Tenant, load: Load) -> Fairness {
    let lookups: Vec<_> = (0..quiet.users.len())
        .map(|user| lookup(quiet, &quiet.user_name(user)))
        .collect();
    let creations: Vec<_> = (0..load.seconds as usize * 12_000)
        .map(|n| create(busy, &format!("fair{n}@import.example"), None))
        .collect();
    let quiet_load = Load {
        connections: 2,
        ..load
    };
    let busy_load = Load {
        connections: load.connections,
        ..load
    };
    let quiet_alone = wrk::run(address, "fairness_alone", &lookups, quiet_load);
    let (quiet_beside_import, import) = std::thread::scope(|scope| {
        let import = scope.spawn(|| wrk::run(address, "fairness_import", &creations, busy_load));
        let quiet = wrk::run(address, "fairness_quiet", &lookups, quiet_load);
        (quiet, import.join().expect("the import's wrk"))
    });
    let p99_ratio = quiet_beside_import.p99_us as f64 / quiet_alone.p99_us.max(1) as f64;
    Fairness {
        met: p99_ratio <= AT_MOST && quiet_beside_import.errors() == 0,
        quiet_alone,
        quiet_beside_import,
        import,
        p99_ratio,
    }
}
