//! The SCIM API through real HTTP (an actix test server on a socket), on SQLite by default and
//! on PostgreSQL with `TEST_BACKEND=postgres`. Each test has its own database.

// Test fixtures fail the test at once, hence unwrap and expect outside `#[test]` functions too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod admin_api;
mod admin_tokens;
mod admin_workspaces;
mod announced;
mod bulk;
mod cli;
mod concurrency;
mod cursors;
mod deprovisioning;
mod discovery;
mod erasure;
mod errors;
mod etags;
mod groups;
mod housekeeping;
mod internal;
mod isolation;
mod layers;
mod lifecycle;
mod limits;
mod okta_flow;
mod operations;
mod outages;
mod private_postgres;
mod process;
mod projection;
mod receiver;
mod retries;
mod rfc_patch;
mod search;
mod seat_locks;
mod statements;
mod storage_full;
mod support;
mod tenancy;
mod webhook_tls;
