//! Recursive-descent parser for filters: `or` binds loosest, then `and`, then `not`.

use super::lexer::{Token, tokenize};
use super::{AttrPath, CompValue, CompareOp, Filter, MAX_DEPTH, MAX_FILTER_LEN, MAX_TERMS};
use crate::DomainError;

pub(super) fn parse_filter(text: &str) -> Result<Filter, DomainError> {
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
        depth: 0,
        in_value_path: false,
        terms: 0,
    };
    if parser.tokens.is_empty() {
        return Err(invalid("the filter is empty"));
    }
    let filter = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(filter),
        Some(token) => Err(invalid(format!("unexpected {}", describe(token)))),
    }
}

/// Parses the filter inside a PATCH path's brackets; nested value paths are not allowed there.
pub(super) fn parse_value_filter(text: &str) -> Result<Filter, DomainError> {
    if text.len() > MAX_FILTER_LEN {
        return Err(invalid(format!(
            "filter longer than {MAX_FILTER_LEN} characters"
        )));
    }
    let mut parser = Parser {
        tokens: tokenize(text)?,
        pos: 0,
        depth: 1,
        in_value_path: true,
        terms: 0,
    };
    let filter = parser.or()?;
    match parser.tokens.get(parser.pos) {
        None => Ok(filter),
        Some(token) => Err(invalid(format!("unexpected {}", describe(token)))),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
    depth: usize,
    in_value_path: bool,
    terms: usize,
}

fn invalid(detail: impl Into<String>) -> DomainError {
    DomainError::InvalidFilter(detail.into())
}

fn describe(token: &Token) -> String {
    match token {
        Token::LParen => "'('".into(),
        Token::RParen => "')'".into(),
        Token::LBracket => "'['".into(),
        Token::RBracket => "']'".into(),
        Token::Str(s) => format!("string \"{s}\""),
        Token::Word(w) => format!("'{w}'"),
    }
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    fn expect(&mut self, expected: Token) -> Result<(), DomainError> {
        match self.next() {
            Some(token) if token == expected => Ok(()),
            Some(token) => Err(invalid(format!(
                "expected {} but found {}",
                describe(&expected),
                describe(&token)
            ))),
            None => Err(invalid(format!(
                "expected {} at the end",
                describe(&expected)
            ))),
        }
    }

    fn enter(&mut self) -> Result<(), DomainError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(invalid(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Filter, DomainError> {
        let mut left = self.and()?;
        while self.peek_keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, DomainError> {
        let mut left = self.not()?;
        while self.peek_keyword("and") {
            self.pos += 1;
            let right = self.not()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Filter, DomainError> {
        if self.peek_keyword("not") && self.tokens.get(self.pos + 1) == Some(&Token::LParen) {
            self.pos += 1;
            let inner = self.group()?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        self.atom()
    }

    fn group(&mut self) -> Result<Filter, DomainError> {
        self.expect(Token::LParen)?;
        self.enter()?;
        let inner = self.or()?;
        self.expect(Token::RParen)?;
        self.depth -= 1;
        Ok(inner)
    }

    fn atom(&mut self) -> Result<Filter, DomainError> {
        match self.peek() {
            Some(Token::LParen) => self.group(),
            Some(Token::Word(_)) => self.attribute_expression(),
            Some(token) => Err(invalid(format!(
                "expected an attribute or '(' but found {}",
                describe(token)
            ))),
            None => Err(invalid("the filter ends where an expression should be")),
        }
    }

    fn attribute_expression(&mut self) -> Result<Filter, DomainError> {
        let Some(Token::Word(word)) = self.next() else {
            return Err(invalid("expected an attribute"));
        };
        let path = AttrPath::parse(&word)
            .map_err(|_| invalid(format!("'{word}' is not an attribute path")))?;
        if self.peek() != Some(&Token::LBracket) {
            return self.comparison(path);
        }
        if self.in_value_path || path.sub.is_some() {
            return Err(invalid(format!(
                "'{word}[' cannot hold a value filter here"
            )));
        }
        self.pos += 1;
        self.enter()?;
        self.in_value_path = true;
        let inner = self.or()?;
        self.in_value_path = false;
        self.expect(Token::RBracket)?;
        self.depth -= 1;
        // `emails[type eq "work"].value eq "x"` (Entra ID) means
        // `emails[type eq "work" and value eq "x"]`.
        let filter = match self.peek() {
            Some(Token::Word(w)) if w.starts_with('.') => {
                let sub = AttrPath::parse(&w[1..])
                    .ok()
                    .filter(|sub| sub.urn.is_none() && sub.sub.is_none())
                    .ok_or_else(|| invalid(format!("'{w}' is not a sub-attribute")))?;
                self.pos += 1;
                let condition = self.comparison(sub)?;
                Filter::And(Box::new(inner), Box::new(condition))
            }
            _ => inner,
        };
        Ok(Filter::ValuePath {
            path,
            filter: Box::new(filter),
        })
    }

    fn comparison(&mut self, path: AttrPath) -> Result<Filter, DomainError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(invalid(format!("more than {MAX_TERMS} comparisons")));
        }
        let op_word = match self.next() {
            Some(Token::Word(w)) => w,
            Some(token) => {
                return Err(invalid(format!(
                    "expected an operator after '{path}' but found {}",
                    describe(&token)
                )));
            }
            None => return Err(invalid(format!("'{path}' needs an operator"))),
        };
        if op_word.eq_ignore_ascii_case("pr") {
            return Ok(Filter::Present(path));
        }
        let op = CompareOp::parse(&op_word)
            .ok_or_else(|| invalid(format!("'{op_word}' is not a comparison operator")))?;
        let value = match self.next() {
            Some(Token::Str(s)) if s.contains('\0') => {
                return Err(invalid("a filter value must not contain NUL characters"));
            }
            Some(Token::Str(s)) => CompValue::String(s),
            Some(Token::Word(w)) => literal(&w)?,
            Some(token) => {
                return Err(invalid(format!(
                    "expected a value after '{op_word}' but found {}",
                    describe(&token)
                )));
            }
            None => return Err(invalid(format!("'{path} {op_word}' needs a value"))),
        };
        Ok(Filter::Compare { path, op, value })
    }
}

fn literal(word: &str) -> Result<CompValue, DomainError> {
    match word.to_ascii_lowercase().as_str() {
        "true" => Ok(CompValue::Bool(true)),
        "false" => Ok(CompValue::Bool(false)),
        "null" => Ok(CompValue::Null),
        _ => serde_json::from_str::<serde_json::Number>(word)
            .map(CompValue::Number)
            .map_err(|_| {
                invalid(format!(
                    "'{word}' is not a value: quote strings, e.g. \"{word}\""
                ))
            }),
    }
}
