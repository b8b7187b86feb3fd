//! `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5 and §3.9): which attributes a
//! response carries. Names may be qualified by their schema's URN and may name a sub-attribute
//! (`name.givenName`, `emails.value`, `urn:…:enterprise:2.0:User:manager`): `attributes` then
//! keeps only that sub-attribute of its parent (of each element, for a multi-valued one), and
//! `excludedAttributes` removes just it. `id` and `schemas` are always returned.

use serde_json::Value;
use webwork_scim_domain::DomainError;
use webwork_scim_domain::schema::{CORE_GROUP, CORE_USER};

/// One named attribute: the key the resource holds it under (a core attribute's name or an
/// extension's URN) and, when named, its sub-attribute.
#[derive(Debug, Clone, PartialEq)]
struct Name {
    top: String,
    sub: Option<String>,
}

impl Name {
    fn parse(raw: &str) -> Option<Name> {
        let raw = raw.trim();
        let unqualified = [CORE_USER, CORE_GROUP]
            .iter()
            .find_map(|urn| {
                raw.get(..urn.len())
                    .filter(|head| head.eq_ignore_ascii_case(urn))
                    .and_then(|_| raw[urn.len()..].strip_prefix(':'))
            })
            .unwrap_or(raw);
        let (top, rest) = if unqualified
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
        {
            // `urn:…:User:manager.value`: the extension object, then its attribute.
            match unqualified.rsplit_once(':') {
                Some((urn, attribute)) => (urn, Some(attribute)),
                None => (unqualified, None),
            }
        } else {
            match unqualified.split_once('.') {
                Some((top, sub)) => (top, Some(sub)),
                None => (unqualified, None),
            }
        };
        // Only two levels are told apart: `manager.value` in an extension selects `manager`.
        let sub = rest
            .map(|sub| sub.split('.').next().unwrap_or_default().to_owned())
            .filter(|sub| !sub.is_empty());
        (!top.is_empty()).then(|| Name {
            top: top.to_owned(),
            sub,
        })
    }

    fn is(&self, top: &str) -> bool {
        self.top.eq_ignore_ascii_case(top)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    attributes: Option<Vec<Name>>,
    excluded: Vec<Name>,
}

impl Projection {
    /// Reads `attributes` and `excludedAttributes` from a raw query string.
    pub fn parse(query: &str) -> Result<Projection, DomainError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query)
            .map_err(|err| DomainError::invalid_value(format!("malformed query string: {err}")))?;
        Ok(Projection::from_pairs(&pairs))
    }

    pub fn from_pairs(pairs: &[(String, String)]) -> Projection {
        let names = |param: &str| -> Option<Vec<Name>> {
            let (_, raw) = pairs
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(param))?;
            Some(raw.split(',').filter_map(Name::parse).collect())
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

    /// Whether any part of the top-level attribute `name` is returned.
    pub fn returns(&self, name: &str) -> bool {
        if matches!(name, "id" | "schemas") {
            return true;
        }
        match &self.attributes {
            Some(wanted) => wanted.iter().any(|n| n.is(name)),
            None => !self.excluded.iter().any(|n| n.is(name) && n.sub.is_none()),
        }
    }

    /// Drops what this projection does not return from `resource`.
    pub fn apply(&self, resource: &mut Value) {
        let Some(object) = resource.as_object_mut() else {
            return;
        };
        if let Some(wanted) = &self.attributes {
            object.retain(|key, _| self.returns(key));
            for (key, value) in object.iter_mut() {
                let named: Vec<&Name> = wanted.iter().filter(|n| n.is(key)).collect();
                if named.iter().all(|n| n.sub.is_some()) && !named.is_empty() {
                    let subs: Vec<&str> = named.iter().filter_map(|n| n.sub.as_deref()).collect();
                    each_object(value, |element| {
                        element.retain(|k, _| subs.iter().any(|s| s.eq_ignore_ascii_case(k)));
                    });
                }
            }
        }
        for name in &self.excluded {
            match &name.sub {
                None => object
                    .retain(|key, _| !name.is(key) || matches!(key.as_str(), "id" | "schemas")),
                Some(sub) => {
                    for (_, value) in object.iter_mut().filter(|(key, _)| name.is(key)) {
                        each_object(value, |element| {
                            element.retain(|k, _| !k.eq_ignore_ascii_case(sub));
                        });
                    }
                }
            }
        }
    }
}

/// Runs `change` on `value` when it is an object, or on each object element of an array.
fn each_object(value: &mut Value, mut change: impl FnMut(&mut serde_json::Map<String, Value>)) {
    match value {
        Value::Object(object) => change(object),
        Value::Array(elements) => elements
            .iter_mut()
            .filter_map(Value::as_object_mut)
            .for_each(change),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn jane() -> Value {
        json!({
            "schemas": [CORE_USER, ENTERPRISE], "id": "1", "userName": "jane",
            "name": {"givenName": "Jane", "familyName": "Doe"},
            "emails": [{"value": "j@a.io", "type": "work"}, {"value": "j@b.io", "type": "home"}],
            ENTERPRISE: {"department": "Sales", "manager": {"value": "m1"}},
            "meta": {"version": "W/\"1\""}
        })
    }

    fn projected(query: &str) -> Value {
        let mut resource = jane();
        Projection::parse(query).unwrap().apply(&mut resource);
        resource
    }

    #[test]
    fn attributes_keep_only_the_named_sub_attributes() {
        assert_eq!(
            projected("attributes=name.givenName,emails.value"),
            json!({"schemas": [CORE_USER, ENTERPRISE], "id": "1",
                   "name": {"givenName": "Jane"},
                   "emails": [{"value": "j@a.io"}, {"value": "j@b.io"}]})
        );
        let qualified = format!("attributes={CORE_USER}:name.familyName,{ENTERPRISE}:department");
        assert_eq!(
            projected(&qualified),
            json!({"schemas": [CORE_USER, ENTERPRISE], "id": "1",
                   "name": {"familyName": "Doe"}, ENTERPRISE: {"department": "Sales"}})
        );
        // A whole attribute and one of its sub-attributes: the whole one.
        assert_eq!(
            projected("attributes=name,name.givenName")["name"],
            jane()["name"]
        );
    }

    #[test]
    fn excluded_attributes_remove_just_what_they_name() {
        let out = projected(&format!(
            "excludedAttributes=emails.type,{ENTERPRISE}:manager,meta"
        ));
        assert_eq!(
            out["emails"],
            json!([{"value": "j@a.io"}, {"value": "j@b.io"}])
        );
        assert_eq!(out[ENTERPRISE], json!({"department": "Sales"}));
        assert!(out.get("meta").is_none());
        assert_eq!(out["name"], jane()["name"]);
        let never = projected("excludedAttributes=id,schemas");
        assert_eq!(
            (&never["id"], &never["schemas"]),
            (&jane()["id"], &jane()["schemas"])
        );
    }

    #[test]
    fn members_are_loaded_unless_excluded_whole() {
        let whole = Projection::parse("excludedAttributes=members").unwrap();
        assert!(!whole.returns("members") && whole.returns("displayName"));
        let qualified =
            Projection::parse(&format!("excludedAttributes={CORE_GROUP}:members")).unwrap();
        assert!(!qualified.returns("members"));
        let sub = Projection::parse("excludedAttributes=members.display").unwrap();
        assert!(sub.returns("members"));
        let only = Projection::parse("attributes=displayName").unwrap();
        assert!(!only.returns("members") && only.returns("id"));
        assert!(Projection::parse("").unwrap().returns("members"));
    }
}
