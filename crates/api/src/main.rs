//! The `webwork-scim` binary: settings from flags and the environment, logging, then the command.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use webwork_scim_api::cli::{self, Cli};
use webwork_scim_api::config::LogFormat;

// Requests allocate and free many small buffers on several threads at once: mimalloc's
// thread-local free lists serve them without the contention and consolidation passes of the
// system allocator (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.common.log_format {
        // One JSON object per line, the request's span fields (request_id, method) included.
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .init(),
        LogFormat::Text => logs.init(),
    }
    cli::run(cli)
}
