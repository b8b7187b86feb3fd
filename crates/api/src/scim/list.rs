//! The query of a SCIM list request: `filter`, `startIndex`, `count` (RFC 7644 §3.4.2).

use serde_json::Value;
use webwork_scim_domain::filter::Filter;
use webwork_scim_domain::sort::SortBy;
use webwork_scim_domain::{DomainError, schema};

pub use super::projection::Projection;

/// The most resources one page holds, advertised as `filter.maxResults`.
pub const MAX_RESULTS: i64 = 1000;
/// The page size when the client gives no `count`.
pub const DEFAULT_COUNT: i64 = 100;

#[derive(Debug, Clone, PartialEq)]
pub struct ListParams {
    pub filter: Option<Filter>,
    /// 1-based, as on the wire.
    pub start_index: i64,
    pub count: i64,
    pub sort: Option<SortBy>,
    /// `cursor` (RFC 9865): present, even empty, for cursor pagination in creation order.
    pub cursor: Option<String>,
    pub projection: Projection,
}

fn pairs(query: &str) -> Result<Vec<(String, String)>, DomainError> {
    serde_urlencoded::from_str(query)
        .map_err(|err| DomainError::invalid_value(format!("malformed query string: {err}")))
}

impl ListParams {
    /// Parses a raw query string. Parameter names are matched case-insensitively; unknown ones
    /// are ignored. Per RFC 7644 a `startIndex` below 1 means 1 and a negative
    /// `count` means 0; a `count` above [`MAX_RESULTS`] is capped.
    pub fn parse(query: &str) -> Result<ListParams, DomainError> {
        ListParams::from_pairs(&pairs(query)?)
    }

    /// The parameters of a `POST …/.search` body (RFC 7644 §3.4.3): the same as a `GET`'s, as
    /// JSON (`attributes` and `excludedAttributes` as arrays, `startIndex` and `count` as
    /// numbers).
    pub fn from_search(body: &Value) -> Result<ListParams, DomainError> {
        let object = body.as_object().ok_or_else(|| {
            DomainError::InvalidSyntax("a SearchRequest must be a JSON object".into())
        })?;
        let field = |name: &str| {
            object
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
        };
        let names_search = field("schemas")
            .and_then(Value::as_array)
            .is_some_and(|list| {
                list.iter()
                    .any(|urn| urn.as_str() == Some(schema::SEARCH_REQUEST))
            });
        if !names_search {
            return Err(DomainError::invalid_value(format!(
                "a search body's 'schemas' must be [\"{}\"]",
                schema::SEARCH_REQUEST
            )));
        }
        let mut pairs = Vec::new();
        for name in ["attributes", "excludedAttributes"] {
            match field(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(list)) => pairs.push((name.to_owned(), list.clone())),
                Some(Value::Array(items)) => {
                    let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                    let names = names.ok_or_else(|| {
                        DomainError::invalid_value(format!(
                            "'{name}' must be an array of attribute names"
                        ))
                    })?;
                    pairs.push((name.to_owned(), names.join(",")));
                }
                Some(_) => {
                    return Err(DomainError::invalid_value(format!(
                        "'{name}' must be an array of attribute names"
                    )));
                }
            }
        }
        for name in ["filter", "sortBy", "sortOrder", "cursor"] {
            match field(name) {
                None | Some(Value::Null) => {}
                Some(Value::String(text)) => pairs.push((name.to_owned(), text.clone())),
                Some(_) => {
                    return Err(DomainError::invalid_value(format!(
                        "'{name}' must be a string"
                    )));
                }
            }
        }
        for name in ["startIndex", "count"] {
            match field(name) {
                None | Some(Value::Null) => {}
                Some(Value::Number(n)) => pairs.push((name.to_owned(), n.to_string())),
                Some(_) => {
                    return Err(DomainError::invalid_value(format!(
                        "'{name}' must be an integer"
                    )));
                }
            }
        }
        ListParams::from_pairs(&pairs)
    }

    fn from_pairs(pairs: &[(String, String)]) -> Result<ListParams, DomainError> {
        let get = |name: &str| {
            pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .map(|(_, value)| value.as_str())
        };
        let integer = |name: &str, default: i64| -> Result<i64, DomainError> {
            match get(name) {
                None => Ok(default),
                Some(raw) => raw.trim().parse::<i64>().map_err(|_| {
                    DomainError::invalid_value(format!("'{name}' must be an integer, not '{raw}'"))
                }),
            }
        };
        let filter = match get("filter") {
            Some(text) if !text.trim().is_empty() => Some(Filter::parse(text)?),
            _ => None,
        };
        let sort = SortBy::parse(get("sortBy"), get("sortOrder"))?;
        let cursor = get("cursor").map(str::to_owned);
        if cursor.is_some() && (sort.is_some() || get("startIndex").is_some()) {
            return Err(DomainError::invalid_value(
                "cursor pages follow creation order: send 'cursor' without 'sortBy' and \
                 'startIndex', or page by 'startIndex'",
            ));
        }
        Ok(ListParams {
            filter,
            start_index: integer("startIndex", 1)?.max(1),
            count: integer("count", DEFAULT_COUNT)?.clamp(0, MAX_RESULTS),
            sort,
            cursor,
            projection: Projection::from_pairs(pairs),
        })
    }

    pub fn offset(&self) -> i64 {
        self.start_index - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_test_credentials_query() {
        let params = ListParams::parse("startIndex=1&count=2").unwrap();
        assert_eq!(
            (params.start_index, params.count, params.filter),
            (1, 2, None)
        );
        assert_eq!(params.projection, Projection::default());
    }

    #[test]
    fn filters_arrive_with_plus_or_percent_encoded_spaces() {
        for query in [
            "filter=userName+eq+%22jane%40acme.com%22&startIndex=1&count=100",
            "filter=userName%20eq%20%22jane%40acme.com%22",
        ] {
            let params = ListParams::parse(query).unwrap();
            assert_eq!(
                params.filter.unwrap(),
                Filter::parse(r#"userName eq "jane@acme.com""#).unwrap()
            );
        }
    }

    #[test]
    fn out_of_range_values_are_clamped_and_garbage_refused() {
        let params = ListParams::parse("startIndex=0&count=-5").unwrap();
        assert_eq!((params.start_index, params.count), (1, 0));
        assert_eq!(ListParams::parse("count=99999").unwrap().count, MAX_RESULTS);
        assert_eq!(ListParams::parse("").unwrap().count, DEFAULT_COUNT);
        assert!(ListParams::parse("count=ten").is_err());
        assert!(ListParams::parse("filter=userName+eq").is_err());
    }
}
