//! Splits a filter into tokens: brackets, quoted strings and bare words.

use crate::DomainError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Token {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Str(String),
    Word(String),
}

pub(super) fn tokenize(text: &str) -> Result<Vec<Token>, DomainError> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::LParen,
                    ')' => Token::RParen,
                    '[' => Token::LBracket,
                    _ => Token::RBracket,
                });
            }
            '"' => {
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    match (escaped, c) {
                        (true, _) => escaped = false,
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        _ => {}
                    }
                }
                let end = end.ok_or_else(|| {
                    DomainError::InvalidFilter("a quoted string is not closed".into())
                })?;
                let literal = &text[start..=end];
                let value: String = serde_json::from_str(literal).map_err(|_| {
                    DomainError::InvalidFilter(format!("{literal} is not a valid JSON string"))
                })?;
                tokens.push(Token::Str(value));
            }
            _ => {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | '"') {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_owned()));
            }
        }
    }
    Ok(tokens)
}
