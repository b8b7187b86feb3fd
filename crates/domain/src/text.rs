//! Text a tenant gives us: bounded plain text ([`PlainText`]), and the normalisation of text
//! used as a unique key.
//!
//! Keys are compared after Unicode compatibility caseless matching (Unicode 3.13, D146: full case
//! folding and compatibility decomposition, twice, then composition), done here rather than by
//! the database's `lower()`, so that PostgreSQL and SQLite agree on which user names collide and
//! so that look-alikes such as a full-width `ｆ` and `f`, or `ﬁ` and `fi`, are one key.

use std::fmt;

use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

use crate::DomainError;

/// Text that is stored and shown as given: at most a bounded number of characters, none of them
/// a control character (NUL included, which databases refuse). Names, labels, issuers, roles and
/// look-up values are all this one type; each field only names its bound.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PlainText(String);

impl PlainText {
    /// `raw` as it is, when it has at most `max` characters and no control character; the
    /// error names `field`.
    pub fn parse(field: &str, raw: &str, max: usize) -> Result<PlainText, DomainError> {
        if raw.chars().count() > max || raw.chars().any(char::is_control) {
            return Err(DomainError::invalid_value(format!(
                "'{field}' must have at most {max} printable characters"
            )));
        }
        Ok(PlainText(raw.to_owned()))
    }

    /// `raw` without surrounding white space, which must leave 1 to `max` characters and no
    /// control character.
    pub fn parse_trimmed(field: &str, raw: &str, max: usize) -> Result<PlainText, DomainError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(DomainError::invalid_value(format!(
                "'{field}' must have 1 to {max} printable characters"
            )));
        }
        PlainText::parse(field, trimmed, max).map_err(|_| {
            DomainError::invalid_value(format!(
                "'{field}' must have 1 to {max} printable characters"
            ))
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for PlainText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which [`fold_key`] the stored `*_key` columns hold; a stored key of an older folding is
/// recomputed when the database is migrated.
pub const KEY_FOLDING_VERSION: i32 = 2;

/// The most bytes of a folded key: folding can expand text (one ligature becomes up to 18
/// letters), and PostgreSQL refuses an index row over about 2.7 kB.
pub const MAX_KEY_BYTES: usize = 1024;

/// [`fold_key`] of `text`, refused when the key outgrows [`MAX_KEY_BYTES`]; the error names
/// `field`.
pub fn bounded_key(field: &str, text: &str) -> Result<String, DomainError> {
    let key = fold_key(text);
    if key.len() > MAX_KEY_BYTES {
        return Err(DomainError::invalid_value(format!(
            "'{field}' is too long once normalised for comparison ({} bytes; at most \
             {MAX_KEY_BYTES})",
            key.len()
        )));
    }
    Ok(key)
}

/// The form under which `text` is stored in a `*_key` column and compared:
/// NFKC(toCasefold(NFKD(toCasefold(NFD(text))))). On ASCII text every step but case folding
/// leaves it as it is, and case folding lowers `A`–`Z`: the usual `userName`, an email, takes
/// one lowering instead of five passes (3 % of a look-up's CPU).
pub fn fold_key(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_lowercase();
    }
    fold_unicode(text)
}

fn fold_unicode(text: &str) -> String {
    let decomposed: String = text.nfd().collect();
    let folded: String = caseless::default_case_fold_str(&decomposed)
        .nfkd()
        .collect();
    caseless::default_case_fold_str(&folded).nfkc().collect()
}

/// The first invisible formatting character of `text` (Unicode category Cf: zero-width spaces
/// and joiners, direction marks, soft hyphens, …), which would make two keys look alike.
pub fn format_character(text: &str) -> Option<char> {
    text.chars()
        .find(|c| c.general_category() == GeneralCategory::Format)
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

/// The least string above every string that begins with `prefix`, in code-point order (which is
/// UTF-8's byte order): with `prefix` itself as the lower bound, the range an ordered index seeks
/// for `sw`. `None` where no string is above them all (an empty prefix, or one of `char::MAX`
/// only).
pub fn prefix_end(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        // The next scalar value: surrogates are not chars, so `from_u32` skips past them.
        let next = (u32::from(last) + 1..=u32::from(char::MAX)).find_map(char::from_u32);
        if let Some(next) = next {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    #[test]
    fn ascii_folds_as_the_unicode_steps_fold_it() {
        let every_char: String = (0..128u8).map(char::from).collect();
        assert_eq!(fold_key(&every_char), fold_unicode(&every_char));
        let address = "Jane.Doe+SCIM_2@Acme-Corp.Example";
        assert_eq!(fold_key(address), fold_unicode(address));
        assert_eq!(fold_key("Jane.Doe@Acme.Example"), "jane.doe@acme.example");
        // Non-ASCII text still takes the full steps: the Kelvin sign folds to `k`.
        assert_eq!(fold_key("\u{212A}ELVIN"), "kelvin");
    }

    use super::*;

    #[test]
    fn plain_text_is_bounded_and_printable() {
        assert_eq!(
            PlainText::parse("label", "Okta", 10).unwrap().as_str(),
            "Okta"
        );
        assert_eq!(PlainText::parse("label", "", 10).unwrap().as_str(), "");
        assert!(PlainText::parse("label", &"é".repeat(11), 10).is_err());
        assert!(PlainText::parse("label", &"é".repeat(10), 10).is_ok());
        for bad in ["a\nb", "a\0b", "\u{7f}"] {
            let err = PlainText::parse("label", bad, 10).unwrap_err();
            assert_eq!(
                err.to_string(),
                "'label' must have at most 10 printable characters"
            );
        }
        assert_eq!(
            PlainText::parse_trimmed("name", "  Acme ", 10)
                .unwrap()
                .as_str(),
            "Acme"
        );
        let empty = PlainText::parse_trimmed("name", "   ", 10).unwrap_err();
        assert_eq!(
            empty.to_string(),
            "'name' must have 1 to 10 printable characters"
        );
    }

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
    fn look_alikes_share_a_key() {
        let plain = fold_key("finance@x.io");
        assert_eq!(fold_key("\u{ff46}inance@x.io"), plain, "full-width f");
        assert_eq!(fold_key("\u{fb01}nance@x.io"), plain, "the fi ligature");
        assert_eq!(
            fold_key("ＦＩＮＡＮＣＥ@X.IO"),
            plain,
            "full-width capitals"
        );
        assert_eq!(fold_key("\u{2460}"), "1", "a circled digit");
        // U+0345 decomposes out of a precomposed letter and folds only on the second pass.
        assert_eq!(fold_key("\u{1fb3}"), fold_key("\u{03b1}\u{03b9}"));
        assert_ne!(fold_key("finance@x.io"), fold_key("flnance@x.io"));
    }

    #[test]
    fn folding_is_idempotent() {
        for text in [
            "Jane.Doe@Acme.COM",
            "\u{ff46}inance",
            "ǅemal",
            "\u{1fb3}",
            "Straße",
        ] {
            assert_eq!(fold_key(&fold_key(text)), fold_key(text), "{text}");
        }
    }

    #[test]
    fn format_characters_are_found() {
        assert_eq!(format_character("fi\u{200b}nance@x.io"), Some('\u{200b}'));
        assert_eq!(format_character("a\u{200d}b"), Some('\u{200d}'));
        assert_eq!(
            format_character("a\u{00ad}b"),
            Some('\u{00ad}'),
            "soft hyphen"
        );
        assert_eq!(
            format_character("a\u{202e}b"),
            Some('\u{202e}'),
            "right-to-left override"
        );
        assert_eq!(format_character("émile.ﬁnance@x.io"), None);
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

    #[test]
    fn a_prefix_ends_below_its_next_string_and_above_every_string_it_begins() {
        use super::prefix_end;
        assert_eq!(prefix_end("user7777").as_deref(), Some("user7778"));
        assert_eq!(prefix_end("az").as_deref(), Some("a{"));
        assert_eq!(prefix_end("a\u{d7ff}").as_deref(), Some("a\u{e000}"));
        assert_eq!(prefix_end("a\u{10ffff}").as_deref(), Some("b"));
        assert_eq!(prefix_end(""), None);
        assert_eq!(prefix_end("\u{10ffff}\u{10ffff}"), None);
        for (prefix, inside) in [
            ("user7777", "user7777@w0.example"),
            ("user7777", "user7777\u{10ffff}"),
            ("jos\u{e9}", "jos\u{e9}\u{301}"),
            ("a\u{10ffff}", "a\u{10ffff}\u{10ffff}z"),
        ] {
            let end = prefix_end(prefix).unwrap();
            assert!(
                prefix <= inside && inside < end.as_str(),
                "{inside} in [{prefix}, {end})"
            );
            assert!(
                inside.as_bytes() < end.as_bytes(),
                "bytes order as chars do"
            );
        }
        assert!("user7778" >= prefix_end("user7777").unwrap().as_str());
    }
}
