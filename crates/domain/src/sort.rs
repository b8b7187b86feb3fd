//! `sortBy` and `sortOrder` (RFC 7644 §3.4.2.3): the attribute a listing is ordered by, and the
//! direction. Which attributes can be sorted by is the store's to say (it knows its columns);
//! this is only the request.

use crate::DomainError;
use crate::filter::AttrPath;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortBy {
    pub path: AttrPath,
    pub descending: bool,
}

impl SortBy {
    /// The sort a request asks for: none without `sortBy` (`sortOrder` alone is ignored, as the
    /// RFC allows), else the path in `sort_by` in `sort_order` (`ascending` by default).
    pub fn parse(
        sort_by: Option<&str>,
        sort_order: Option<&str>,
    ) -> Result<Option<SortBy>, DomainError> {
        let Some(sort_by) = sort_by.map(str::trim).filter(|s| !s.is_empty()) else {
            return Ok(None);
        };
        let path = AttrPath::parse(sort_by).map_err(|_| {
            DomainError::invalid_value(format!("'sortBy' names no attribute: '{sort_by}'"))
        })?;
        let descending = match sort_order.map(str::trim) {
            None | Some("") => false,
            Some(order) if order.eq_ignore_ascii_case("ascending") => false,
            Some(order) if order.eq_ignore_ascii_case("descending") => true,
            Some(other) => {
                return Err(DomainError::invalid_value(format!(
                    "'sortOrder' is ascending or descending, not '{other}'"
                )));
            }
        };
        Ok(Some(SortBy { path, descending }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_and_order_are_read_and_checked() {
        assert_eq!(SortBy::parse(None, Some("descending")).unwrap(), None);
        let sort = SortBy::parse(Some("name.familyName"), Some("Descending"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                sort.path.name.as_str(),
                sort.path.sub.as_deref(),
                sort.descending
            ),
            ("name", Some("familyName"), true)
        );
        let default = SortBy::parse(Some("userName"), None).unwrap().unwrap();
        assert!(!default.descending);
        assert!(SortBy::parse(Some("userName"), Some("sideways")).is_err());
        assert!(SortBy::parse(Some("user name"), None).is_err());
    }
}
