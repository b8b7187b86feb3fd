//! The service under load: the `webwork-scim` binary itself, started with `serve` on the bench's
//! database in a process of its own, so that what is measured (its requests and its resident
//! memory) is the service's alone.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    pub address: SocketAddr,
}

impl Server {
    /// `webwork-scim serve` on `database_url` with its defaults (pool size, one HTTP worker per
    /// core, JSON request log) unless the environment sets them, its log written to `log`;
    /// returns once it accepts connections.
    pub fn start(database_url: &str, log: &Path) -> Server {
        let address = free_port();
        let log = std::fs::File::create(log).expect("the server's log file");
        // The service's own settings and its allocator's may be passed on (DB_POOL_SIZE=4, say).
        let passed = std::env::vars_os().filter(|(name, _)| {
            let name = name.to_string_lossy();
            [
                "DB_",
                "HTTP_",
                "RUST_LOG",
                "MIMALLOC_",
                "SQLITE_",
                "TENANT_CACHE_",
            ]
            .iter()
            .any(|prefix| name.starts_with(prefix))
        });
        let child = Command::new(env!("CARGO_BIN_EXE_webwork-scim"))
            .arg("serve")
            .env_clear()
            .envs(passed)
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("DATABASE_URL", database_url)
            .env("BIND_ADDR", address.to_string())
            .env("PUBLIC_BASE_URL", "http://bench.local")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("the log file twice"))
            .stderr(log)
            .spawn()
            .expect("the webwork-scim binary starts");
        let mut server = Server { child, address };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&mut self) {
        let started = Instant::now();
        while TcpStream::connect(self.address).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("webwork-scim serve exited with {status}; see its log in target/bench/");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "webwork-scim serve did not listen within a minute"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's own resident memory now, in bytes (Linux: RssAnon of /proc/<pid>/status).
    /// The database file's pages, which SQLite reads through a memory map, are the kernel's page
    /// cache (as they are when read by system calls): VmRSS would count each of them once per
    /// connection's map of the file, and so would RssShmem where the file lies on a tmpfs.
    pub fn resident_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let kib = |field: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
                .unwrap_or(0)
        };
        kib("RssAnon:") * 1024
    }

    /// CPU time the server's process has used so far, user and system (Linux: utime and stime of
    /// /proc/<pid>/stat, in clock ticks of `CLK_TCK`).
    pub fn cpu_seconds(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // The command name, in parentheses, may hold spaces: fields are counted after it.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map_or("", |(_, rest)| rest)
            .split_whitespace()
            .collect();
        let ticks = |n: usize| {
            fields
                .get(n)
                .and_then(|f| f.parse::<u64>().ok())
                .unwrap_or(0)
        };
        // utime and stime, fields 14 and 15 of the line, are the 12th and 13th after the name.
        (ticks(11) + ticks(12)) as f64 / clock_ticks_per_second()
    }

    /// Runs `work` while sampling the server's resident memory every 50 ms; returns what `work`
    /// returned, the highest sample and the CPU time the server used meanwhile.
    pub fn usage_during<T>(&self, work: impl FnOnce() -> T) -> (T, Usage) {
        let done = AtomicBool::new(false);
        let cpu_before = self.cpu_seconds();
        std::thread::scope(|scope| {
            let sampler = scope.spawn(|| {
                let mut peak = self.resident_bytes();
                while !done.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(50));
                    peak = peak.max(self.resident_bytes());
                }
                peak
            });
            let value = work();
            let cpu_seconds = self.cpu_seconds() - cpu_before;
            done.store(true, Ordering::Relaxed);
            let peak_resident = sampler.join().expect("the memory sampler");
            (
                value,
                Usage {
                    peak_resident,
                    cpu_seconds,
                },
            )
        })
    }
}

/// What the server's process used while a scenario ran.
#[derive(Debug, Clone, Copy)]
pub struct Usage {
    /// The highest resident memory sampled, in bytes.
    pub peak_resident: u64,
    /// User and system CPU time of all its threads.
    pub cpu_seconds: f64,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The kernel's `CLK_TCK`, the unit of /proc's CPU times.
fn clock_ticks_per_second() -> f64 {
    static TICKS: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        std::process::Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8(out.stdout).ok())
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(100.0)
    })
}

/// A loopback port no one listens on now.
fn free_port() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
}
