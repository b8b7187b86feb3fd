//! The query of a SCIM list request: `filter`, `startIndex`, `count` (RFC 7644 §3.4.2).

use webwork_scim_domain::DomainError;
use webwork_scim_domain::filter::Filter;

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
    pub projection: Projection,
}

/// `attributes` and `excludedAttributes` (RFC 7644 §3.9): which top-level attributes a response
/// carries. `id` and `schemas` are always returned; a sub-attribute (`name.givenName`) selects
/// or excludes its whole parent attribute.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    attributes: Option<Vec<String>>,
    excluded: Vec<String>,
}

impl Projection {
    /// Reads `attributes` and `excludedAttributes` from a raw query string.
    pub fn parse(query: &str) -> Result<Projection, DomainError> {
        let pairs = pairs(query)?;
        Ok(Projection::from_pairs(&pairs))
    }

    fn from_pairs(pairs: &[(String, String)]) -> Projection {
        let names = |param: &str| -> Option<Vec<String>> {
            let (_, raw) = pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(param))?;
            Some(
                raw.split(',')
                    .map(top_level)
                    .filter(|name| !name.is_empty())
                    .collect(),
            )
        };
        Projection {
            attributes: names("attributes").filter(|names| !names.is_empty()),
            excluded: names("excludedAttributes").unwrap_or_default(),
        }
    }

    /// Whether the request named attributes to return or to leave out.
    pub fn is_requested(&self) -> bool {
        self.attributes.is_some() || !self.excluded.is_empty()
    }

    /// Whether the top-level attribute `name` is returned.
    pub fn returns(&self, name: &str) -> bool {
        if matches!(name, "id" | "schemas") {
            return true;
        }
        let listed = |names: &[String]| names.iter().any(|n| n.eq_ignore_ascii_case(name));
        match &self.attributes {
            Some(wanted) => listed(wanted),
            None => !listed(&self.excluded),
        }
    }

    /// Drops the attributes of `resource` this projection does not return.
    pub fn apply(&self, resource: &mut serde_json::Value) {
        if self.attributes.is_none() && self.excluded.is_empty() {
            return;
        }
        if let Some(object) = resource.as_object_mut() {
            object.retain(|key, _| self.returns(key));
        }
    }
}

/// `members.value` → `members`; `urn:…:core:2.0:User:name.givenName` → `name`. An extension's
/// attribute stays under its URN, which is how the resource holds it.
fn top_level(raw: &str) -> String {
    let raw = raw.trim();
    let core = [
        webwork_scim_domain::schema::CORE_USER,
        webwork_scim_domain::schema::CORE_GROUP,
    ];
    let unqualified = core
        .iter()
        .find_map(|urn| {
            raw.get(..urn.len())
                .filter(|head| head.eq_ignore_ascii_case(urn))
                .and_then(|_| raw[urn.len()..].strip_prefix(':'))
        })
        .unwrap_or(raw);
    if unqualified
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        // `urn:…:User:manager`: the extension object it lives in.
        return unqualified
            .rsplit_once(':')
            .map_or(unqualified, |(urn, _)| urn)
            .to_owned();
    }
    unqualified.split('.').next().unwrap_or_default().to_owned()
}

fn pairs(query: &str) -> Result<Vec<(String, String)>, DomainError> {
    serde_urlencoded::from_str(query)
        .map_err(|err| DomainError::invalid_value(format!("malformed query string: {err}")))
}

impl ListParams {
    /// Parses a raw query string. Parameter names are matched case-insensitively; unknown ones
    /// (`sortBy`, `attributes`, …) are ignored. Per RFC 7644 a `startIndex` below 1 means 1 and
    /// a negative `count` means 0; a `count` above [`MAX_RESULTS`] is capped.
    pub fn parse(query: &str) -> Result<ListParams, DomainError> {
        let pairs = pairs(query)?;
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
        Ok(ListParams {
            filter,
            start_index: integer("startIndex", 1)?.max(1),
            count: integer("count", DEFAULT_COUNT)?.clamp(0, MAX_RESULTS),
            projection: Projection::from_pairs(&pairs),
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
    fn projections_select_or_exclude_top_level_attributes() {
        let excluded = ListParams::parse("excludedAttributes=members")
            .unwrap()
            .projection;
        assert!(!excluded.returns("members") && excluded.returns("displayName"));
        let qualified = Projection::parse(
            "excludedAttributes=urn:ietf:params:scim:schemas:core:2.0:Group:members.value",
        )
        .unwrap();
        assert!(!qualified.returns("members"));
        let only = Projection::parse("attributes=userName,name.givenName").unwrap();
        assert!(only.returns("userName") && only.returns("name") && only.returns("id"));
        assert!(!only.returns("emails"));
        let mut resource =
            serde_json::json!({"id": "1", "schemas": [], "userName": "x", "emails": []});
        only.apply(&mut resource);
        assert_eq!(
            resource,
            serde_json::json!({"id": "1", "schemas": [], "userName": "x"})
        );
        let extension = Projection::parse(
            "excludedAttributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
        )
        .unwrap();
        assert!(!extension.returns("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"));
        assert!(Projection::parse("").unwrap().returns("members"));
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
