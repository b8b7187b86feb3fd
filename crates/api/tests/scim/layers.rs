//! The shape of the code, checked on its sources: the application layer knows no HTTP, the HTTP
//! layer reaches the store only through it, and no source file grows past about 500 lines.

use std::path::{Path, PathBuf};

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

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `(file, line number, line)` of every code line (comments left out) under `dir`.
fn code_lines(dir: &Path) -> Vec<(PathBuf, usize, String)> {
    let mut files = Vec::new();
    sources(dir, &mut files);
    assert!(!files.is_empty(), "sources under {}", dir.display());
    let mut lines = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default().to_owned();
            lines.push((file.clone(), number + 1, code));
        }
    }
    lines
}

fn offences(lines: &[(PathBuf, usize, String)], words: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter(|(_, _, code)| words.iter().any(|word| code.contains(word)))
        .map(|(file, number, code)| format!("{}:{number}: {}", file.display(), code.trim()))
        .collect()
}

#[test]
fn the_application_layer_knows_no_http() {
    let lines = code_lines(&crate_dir().join("src/usecases"));
    let found = offences(
        &lines,
        &["actix", "awc", "HttpResponse", "HttpRequest", "StatusCode"],
    );
    assert!(
        found.is_empty(),
        "HTTP in the use cases:\n{}",
        found.join("\n")
    );
}

/// The names a line takes from the persistence crate: the last segment of each path, and the
/// names inside a `{…}` group.
fn persistence_names(code: &str) -> Vec<String> {
    let Some((_, rest)) = code.split_once("webwork_scim_persistence::") else {
        return Vec::new();
    };
    let rest = rest.trim_end_matches(';');
    // A `{…}` group lists names; a plain path names one thing, up to where it ends.
    let (names, taken) = match rest.strip_prefix('{') {
        Some(group) => (group, usize::MAX),
        None => (rest, 1),
    };
    names
        .split([',', '{', '}', ' ', '(', ')', '&', '>', '<'])
        .filter(|part| !part.is_empty())
        .take(taken)
        .filter_map(|part| part.rsplit("::").next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn handlers_reach_the_store_only_through_the_use_cases() {
    let lines: Vec<_> = code_lines(&crate_dir().join("src"))
        .into_iter()
        .filter(|(file, _, _)| !file.to_string_lossy().contains("src/usecases"))
        .collect();
    let mut found = offences(&lines, &["run_blocking", "tenant_by_key", ".tenant("]);
    for (file, number, code) in &lines {
        // Only types may come from the store (the records a handler renders); the one function is
        // the migration the `migrate` command and the embedded database run at start.
        let functions: Vec<String> = persistence_names(code)
            .into_iter()
            .filter(|name| !name.starts_with(char::is_uppercase) && name != "migrations")
            .collect();
        if !functions.is_empty() {
            found.push(format!("{}:{number}: {functions:?}", file.display()));
        }
    }
    assert!(
        found.is_empty(),
        "the store reached outside the use cases:\n{}",
        found.join("\n")
    );
}

#[test]
fn no_source_file_grows_past_about_500_lines() {
    let root = crate_dir().join("..");
    let mut files = Vec::new();
    sources(&root, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter(|file| !file.components().any(|part| part.as_os_str() == "target"))
        .filter_map(|file| {
            let lines = std::fs::read_to_string(file).unwrap().lines().count();
            (lines > 500).then(|| format!("{}: {lines} lines", file.display()))
        })
        .collect();
    assert!(long.is_empty(), "files to split:\n{}", long.join("\n"));
}

#[test]
fn the_checks_recognise_what_they_look_for() {
    let lines = vec![(
        PathBuf::from("src/x.rs"),
        3,
        "let user = users::find(tx, id)?;".to_owned(),
    )];
    assert_eq!(offences(&lines, &["users::"]).len(), 1);
    assert!(offences(&lines, &["actix"]).is_empty());
    assert_eq!(
        persistence_names("use webwork_scim_persistence::{Store, users};"),
        ["Store", "users"]
    );
    assert_eq!(
        persistence_names("fn f(t: &webwork_scim_persistence::tokens::TokenSummary) {"),
        ["TokenSummary"]
    );
}
