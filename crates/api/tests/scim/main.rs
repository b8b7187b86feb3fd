//! The SCIM API through real HTTP (an actix test server on a socket), on SQLite by default and
//! on PostgreSQL with `TEST_BACKEND=postgres`. Each test has its own database.

mod cli;
mod errors;
mod okta_flow;
mod support;
mod tenancy;
