//! A PostgreSQL server of a test's own, on a free port, that can be stopped and started: an
//! outage of the real thing.

use std::net::TcpListener;

use webwork_scim_persistence::DatabaseUrl;

/// A PostgreSQL server of the test's own, on a free port, that can be stopped and started.
pub struct PrivateServer {
    bin: std::path::PathBuf,
    dir: std::path::PathBuf,
    port: u16,
}

impl PrivateServer {
    /// `None` when this machine has no PostgreSQL server binaries.
    pub fn start() -> Option<PrivateServer> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|entry| entry.path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .max()?;
        let dir =
            std::env::temp_dir().join(format!("webwork-scim-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = PrivateServer { bin, dir, port };
        if PrivateServer::as_root() {
            // initdb and the server refuse to run as root.
            let owned = std::process::Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&server.dir)
                .status()
                .unwrap();
            assert!(owned.success());
        }
        let data = server.dir.join("db");
        server.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
            ],
        );
        server.up();
        Some(server)
    }

    fn as_root() -> bool {
        std::process::Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
    }

    /// PostgreSQL's `tool`, run as the `postgres` user when the tests run as root.
    fn command(&self, tool: &str) -> std::process::Command {
        let program = self.bin.join(tool);
        if PrivateServer::as_root() {
            let mut command = std::process::Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&program);
            command
        } else {
            std::process::Command::new(&program)
        }
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let output = self.command(tool).args(args).output().unwrap();
        assert!(
            output.status.success(),
            "{tool} {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn pg_ctl(&self, action: &str) {
        let data = self.dir.join("db");
        let log = self.dir.join("log");
        let options = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {}",
            self.port,
            self.dir.display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-w",
                "-m",
                "fast",
                "-o",
                &options,
                action,
            ],
        );
    }

    pub fn up(&self) {
        self.pg_ctl("start");
    }

    pub fn down(&self) {
        self.pg_ctl("stop");
    }

    pub fn url(&self) -> DatabaseUrl {
        DatabaseUrl::Postgres(format!(
            "postgres://postgres@127.0.0.1:{}/postgres?sslmode=disable",
            self.port
        ))
    }
}

impl Drop for PrivateServer {
    fn drop(&mut self) {
        let data = self.dir.join("db");
        self.command("pg_ctl")
            .args([
                "-D",
                data.to_str().unwrap_or_default(),
                "-m",
                "immediate",
                "stop",
            ])
            .output()
            .ok();
        std::fs::remove_dir_all(&self.dir).ok();
    }
}
