//! Workspace scoping by construction: repositories reach tenant tables only through the scoped
//! queries of a transaction (`scope.rs`), and only the reviewed `unscoped` module crosses
//! workspaces. This test reads the crate's sources and fails when a query of a tenant table
//! starts anywhere else.

use std::path::{Path, PathBuf};

const TENANT_TABLES: [&str; 7] = [
    "users",
    "groups",
    "group_members",
    "scim_tokens",
    "audit_events",
    "provisioning_errors",
    "outbox_events",
];

/// Where a tenant table may be named as a query's start.
fn may_start_queries(path: &Path) -> bool {
    let name = path.to_string_lossy();
    name.ends_with("src/scope.rs")
        || name.contains("src/unscoped/")
        || name.ends_with("src/schema.rs")
}

fn sources(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// Whether `line` starts a query of `table` (`users::table.filter(…)`, `insert_into(users::table)`)
/// rather than naming its type (`Condition<users::table>`).
fn starts_query(line: &str, table: &str) -> bool {
    let needle = format!("{table}::table");
    line.match_indices(&needle).any(|(at, _)| {
        let before_ok = at == 0
            || !line[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = line[at + needle.len()..].trim_start();
        before_ok && (after.starts_with('.') || after.starts_with(')') || after.starts_with(','))
    })
}

#[test]
fn only_the_scope_and_the_unscoped_module_start_queries_of_tenant_tables() {
    let mut files = Vec::new();
    sources(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &mut files,
    );
    assert!(files.len() > 10, "the sources were found");
    let mut offences = Vec::new();
    for file in files.iter().filter(|file| !may_start_queries(file)) {
        let text = std::fs::read_to_string(file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            for table in TENANT_TABLES {
                if starts_query(code, table) {
                    offences.push(format!(
                        "{}:{}: {}",
                        file.display(),
                        number + 1,
                        line.trim()
                    ));
                }
            }
            if code.contains(".connection()") && !file.ends_with("testing.rs") {
                offences.push(format!("{}:{}: raw connection", file.display(), number + 1));
            }
        }
    }
    assert!(
        offences.is_empty(),
        "unscoped queries:\n{}",
        offences.join("\n")
    );
}

#[test]
fn the_check_recognises_a_query_start() {
    assert!(starts_query("users::table.filter(x)", "users"));
    assert!(starts_query(
        "diesel::insert_into(group_members::table)",
        "group_members"
    ));
    assert!(!starts_query("Condition<users::table>", "users"));
    assert!(!starts_query("scim_users::table.filter(x)", "users"));
}
