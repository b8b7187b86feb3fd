//! The HTTP face of webwork-scim and its application layer: SCIM 2.0 under
//! `/scim/v2/{workspace key}`, the admin API, the internal API, their errors and extractors, the
//! use cases that wire tenancy and persistence together ([`usecases`], which knows no HTTP),
//! settings, and the command line.
//!
//! A handler extracts, calls one use case, renders.

pub mod admin_api;
pub mod app;
pub mod bearer;
pub mod cli;
pub mod config;
pub mod error;
pub mod internal_api;
pub mod metrics;
pub mod request_log;
pub mod scim;
pub mod server;
pub mod state;
pub mod usecases;
pub mod webhook_tls;
pub mod webhooks;

pub use app::configure;
pub use error::ApiError;
pub use state::AppState;
