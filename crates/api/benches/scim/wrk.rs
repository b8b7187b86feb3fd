//! Load from wrk, a separate process: each scenario's requests written to a file that the
//! script in `request.lua` replays, the measurements read back from the JSON line it prints.

use std::fmt::Write as _;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

/// One request of a scenario.
pub struct Line {
    pub method: &'static str,
    pub path: String,
    pub token: Option<String>,
    pub body: Option<String>,
}

impl Line {
    pub fn get(path: String, token: &str) -> Line {
        Line {
            method: "GET",
            path,
            token: Some(token.to_owned()),
            body: None,
        }
    }

    pub fn with_body(method: &'static str, path: String, token: &str, body: String) -> Line {
        Line {
            method,
            path,
            token: Some(token.to_owned()),
            body: Some(body),
        }
    }
}

/// How hard wrk pushes.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Load {
    pub threads: usize,
    pub connections: usize,
    pub seconds: u64,
}

/// What wrk measured: latencies in microseconds.
#[derive(Clone, Copy, Serialize, serde::Deserialize)]
pub struct Measured {
    pub requests: u64,
    pub duration_us: u64,
    pub connect: u64,
    pub read: u64,
    pub write: u64,
    pub status: u64,
    pub timeout: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub p999_us: u64,
    pub max_us: u64,
}

impl Measured {
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / (self.duration_us.max(1) as f64 / 1e6)
    }

    /// Answers that were no success (wrk counts every status of 400 and above) and requests
    /// that failed on the wire.
    pub fn errors(&self) -> u64 {
        self.connect + self.read + self.write + self.status + self.timeout
    }
}

/// Where the scenarios' files and results go.
pub fn output_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench");
    std::fs::create_dir_all(&dir).expect("target/bench can be created");
    dir.canonicalize().unwrap_or(dir)
}

/// Whether wrk is on the PATH.
pub fn available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .output()
        .is_ok_and(|out| !out.stdout.is_empty() || !out.stderr.is_empty())
}

/// Replays `lines` against `address` under `load` and returns what wrk measured.
pub fn run(address: SocketAddr, name: &str, lines: &[Line], load: Load) -> Measured {
    let dir = output_dir();
    let script = dir.join("request.lua");
    std::fs::write(&script, include_str!("request.lua")).expect("script written");
    let file = dir.join(format!("{name}.requests"));
    write_lines(&file, lines);
    let output = Command::new("wrk")
        .arg(format!("-t{}", load.threads))
        .arg(format!("-c{}", load.connections))
        .arg(format!("-d{}s", load.seconds))
        .args(["--timeout", "10s", "-s"])
        .arg(&script)
        .arg(format!("http://{address}"))
        .arg("--")
        .arg(&file)
        .arg(load.threads.to_string())
        .output()
        .expect("wrk runs");
    let _ = std::fs::remove_file(&file);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let json = stdout
        .lines()
        .find_map(|line| line.strip_prefix("BENCH "))
        .unwrap_or_else(|| {
            panic!(
                "wrk printed no result for {name}:\n{stdout}\n{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    serde_json::from_str(json).expect("wrk's result is the JSON the script prints")
}

fn write_lines(file: &Path, lines: &[Line]) {
    let mut text = String::with_capacity(lines.len() * 128);
    for line in lines {
        let _ = writeln!(
            text,
            "{}\t{}\t{}\t{}",
            line.method,
            line.path,
            line.token.as_deref().unwrap_or(""),
            line.body.as_deref().unwrap_or("")
        );
    }
    std::fs::File::create(file)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .expect("requests written");
}
