//! The `webwork-scim` binary: settings from flags and the environment, logging, then the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use webwork_scim_api::cli::{self, Cli};

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    cli::run(cli)
}
