//! The HTTP face of webwork-scim: SCIM 2.0 under `/scim/v2/{workspace key}`, its errors, the
//! authentication extractor, the use cases that wire tenancy and persistence together, settings,
//! and the command line.
//!
//! This is the only crate that knows HTTP. A handler extracts, calls one use case, renders.

pub mod admin;
pub mod admin_api;
pub mod app;
pub mod bearer;
pub mod blocking;
pub mod cli;
pub mod config;
pub mod error;
pub mod internal_api;
pub mod lifecycle;
pub mod metrics;
pub mod provisioning;
pub mod request_log;
pub mod retention;
pub mod scim;
pub mod server;
pub mod state;
pub mod webhooks;

pub use app::configure;
pub use error::ApiError;
pub use state::AppState;
