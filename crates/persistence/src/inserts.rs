//! Inserts into a tenant's tables: each macro sets the rows' `workspace_id` to the
//! transaction's workspace, so that an insert cannot name another workspace. The one insert
//! written as SQL text, PostgreSQL's audit and outbox rows in one statement
//! (`outbox::enqueue_with_audit`), binds the same workspace, and row-level security checks it.

/// Inserts one row of `$table` in the transaction's workspace: the macro sets the row's
/// `workspace_id`, so an insert cannot name another workspace.
macro_rules! insert_row {
    ($tx:expr, $table:ident, $values:expr $(,)?) => {{
        let tx: &mut $crate::scope::TenantTx<'_> = $tx;
        let workspace = $table::workspace_id.eq(tx.workspace_text());
        tx.run_insert(diesel::insert_into($table::table).values((workspace, $values)))
    }};
}
pub(crate) use insert_row;

/// [`insert_row!`] that returns `$returning` of the row as the database stored it, in the same
/// statement.
macro_rules! insert_row_returning {
    ($tx:expr, $table:ident, $values:expr, $returning:expr $(,)?) => {{
        let tx: &mut $crate::scope::TenantTx<'_> = $tx;
        let workspace = $table::workspace_id.eq(tx.workspace_text());
        tx.run_insert_returning(
            diesel::insert_into($table::table)
                .values((workspace, $values))
                .returning($returning),
        )
    }};
}
pub(crate) use insert_row_returning;

/// Inserts rows of `$table` in the transaction's workspace, each with its `workspace_id` set by
/// the macro, in statements of 64, 16, 4 and 1 rows; the rows inserted, or the first error.
/// diesel prepares a multi-row insert of a `Vec` again on every run (its length varies) but keeps
/// one of a fixed-size array in the connection's statement cache: four shapes per table, each
/// prepared once per connection. 64 rows of the widest table (`users`, 14 columns) bind 896
/// values, far below either backend's limit (32,766 on SQLite, 65,535 on PostgreSQL), and a
/// chunk of them stays small on the stack of the thread that builds it.
macro_rules! insert_rows {
    ($tx:expr, $table:ident, $rows:expr $(,)?) => {{
        let tx: &mut $crate::scope::TenantTx<'_> = $tx;
        let workspace = tx.workspace_text();
        let mut rows: Vec<_> = $rows
            .into_iter()
            .map(|values| ($table::workspace_id.eq(workspace.clone()), values))
            .collect();
        // A closure, so that a failed statement ends the macro's value, not its caller.
        (|| {
            let mut inserted = 0;
            $crate::inserts::insert_rows_of!(tx, $table, rows, inserted, 64);
            $crate::inserts::insert_rows_of!(tx, $table, rows, inserted, 16);
            $crate::inserts::insert_rows_of!(tx, $table, rows, inserted, 4);
            $crate::inserts::insert_rows_of!(tx, $table, rows, inserted, 1);
            Ok::<usize, $crate::StoreError>(inserted)
        })()
    }};
}
pub(crate) use insert_rows;

/// The statements of [`insert_rows!`] that insert `$n` of `$rows` each, while `$n` are left.
macro_rules! insert_rows_of {
    ($tx:ident, $table:ident, $rows:ident, $inserted:ident, $n:literal) => {
        while $rows.len() >= $n {
            let chunk: [_; $n] = $rows
                .drain(..$n)
                .collect::<Vec<_>>()
                .try_into()
                // Never short: `$n` rows were left and drained.
                .map_err(|_| {
                    diesel::result::Error::QueryBuilderError("a short chunk of rows".into())
                })?;
            let insert = diesel::insert_into($table::table).values(chunk);
            $inserted += $tx.run_backend_specific(|db| {
                $crate::scope::on_backend!(db, |conn| insert.execute(conn))
            })?;
        }
    };
}
pub(crate) use insert_rows_of;
