//! The persistence layer against a real database: SQLite by default, PostgreSQL with
//! `TEST_BACKEND=postgres` (each test in a schema of its own, reached as a role that row-level
//! security binds). Each test has its own database.

// Test fixtures fail the test at once, hence unwrap and expect outside `#[test]` functions too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod backends;
mod deep_pages;
mod filter_agreement;
mod filters;
mod group_listing;
mod groups;
mod logs;
mod one_reads;
mod outbox;
mod rekeying;
mod scoping;
mod security;
mod seeks;
mod sorting;
mod sqlite_writer;
mod support;
mod token_rows;
mod users;
mod workspace_rows;
