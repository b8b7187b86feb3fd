//! A read of one statement. On PostgreSQL it runs outside any transaction, as a function of the
//! database that scopes its own read to the workspace (migration
//! `2026-12-07-000003_one_statement_user_reads`): one round trip where a tenant transaction
//! takes three (`BEGIN` with the scope, the statement, `COMMIT`), each a wait on the socket and,
//! where the database is another machine, on the network. A statement is atomic on its own, so
//! a read of one needs no transaction to see one snapshot. On SQLite, which has no row-level
//! security, the statement runs on its own too (SQLite's implicit transaction), scoped by its
//! workspace filter as in a transaction; that spares the `BEGIN` and `COMMIT` steps.

use diesel::pg::PgConnection;

use crate::TenantTx;

/// What [`crate::Store::read_one`] hands a read of one statement. It is taken by value by the
/// one repository function that reads, so that a second statement cannot follow outside a
/// transaction.
pub struct OneRead<'c>(pub(crate) Way<'c>);

impl std::fmt::Debug for OneRead<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let way = match &self.0 {
            Way::Filtered(_) => "filtered by its workspace",
            Way::SelfScoped { .. } => "self-scoped",
        };
        f.debug_tuple("OneRead").field(&way).finish()
    }
}

pub(crate) enum Way<'c> {
    /// SQLite: the statement runs on its own, built from the scoped queries of a [`TenantTx`]
    /// on a connection outside any explicit transaction.
    Filtered(TenantTx<'c>),
    /// PostgreSQL: a connection outside any transaction, and the workspace id as stored, which
    /// the statement's function sets as its scope.
    SelfScoped {
        pg: &'c mut PgConnection,
        workspace: String,
    },
}
