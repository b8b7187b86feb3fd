//! Normalisation of text used as a unique key.
//!
//! Keys are compared after Unicode canonical caseless matching (NFD, full case folding, NFC), done
//! here rather than by the database's `lower()`, so that PostgreSQL and SQLite agree on which
//! user names collide.

use unicode_normalization::UnicodeNormalization;

/// The form under which `text` is stored in a `*_key` column and compared.
pub fn fold_key(text: &str) -> String {
    let decomposed: String = text.nfd().collect();
    caseless::default_case_fold_str(&decomposed).nfc().collect()
}

/// Escapes `%`, `_` and `\` so that `text` matches itself literally inside a `LIKE` pattern whose
/// escape character is `\`.
pub fn escape_like(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_ignores_case() {
        assert_eq!(fold_key("Jane.Doe@Acme.COM"), "jane.doe@acme.com");
    }

    #[test]
    fn folding_goes_beyond_ascii() {
        assert_eq!(fold_key("STRASSE"), fold_key("straße"));
        assert_eq!(fold_key("ÉMILE"), fold_key("émile"));
        assert_eq!(fold_key("ΣΊΣΥΦΟΣ"), fold_key("σίσυφος"));
    }

    #[test]
    fn composed_and_decomposed_forms_agree() {
        let composed = "\u{00e9}mile";
        let decomposed = "e\u{0301}mile";
        assert_ne!(composed, decomposed);
        assert_eq!(fold_key(composed), fold_key(decomposed));
    }

    #[test]
    fn like_metacharacters_are_escaped() {
        assert_eq!(escape_like(r"a%b_c\d"), r"a\%b\_c\\d");
        assert_eq!(escape_like("plain"), "plain");
    }
}
