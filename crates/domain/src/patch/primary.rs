//! At most one `primary: true` per multi-valued attribute (RFC 7643 §2.4). An operation that
//! marks an element primary demotes the element that was primary before it, as identity
//! providers expect when they add a new primary email; one that marks two is refused.

use serde_json::{Map, Value};

use crate::DomainError;
use crate::user::is_primary;

/// For each multi-valued attribute at the top of the document, the indices of the elements
/// marked primary.
pub(super) type Primaries = Vec<(String, Vec<usize>)>;

pub(super) fn primaries(doc: &Map<String, Value>) -> Primaries {
    doc.iter()
        .filter_map(|(name, value)| {
            let marked: Vec<usize> = value
                .as_array()?
                .iter()
                .enumerate()
                .filter(|(_, element)| is_primary(element))
                .map(|(i, _)| i)
                .collect();
            (!marked.is_empty()).then(|| (name.clone(), marked))
        })
        .collect()
}

/// After an operation: where more than one element is primary, those that were primary
/// `before` it lose the mark. An attribute the operation left with two new primaries is a 400;
/// one that held two before (and got no new one) keeps its last.
pub(super) fn demote_earlier(
    doc: &mut Map<String, Value>,
    before: &Primaries,
) -> Result<(), DomainError> {
    for (name, now) in primaries(doc) {
        if now.len() < 2 {
            continue;
        }
        let earlier: &[usize] = before
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[], |(_, marked)| marked);
        let fresh: Vec<usize> = now
            .iter()
            .copied()
            .filter(|i| !earlier.contains(i))
            .collect();
        let keep = match fresh.as_slice() {
            [one] => *one,
            [] => now[now.len() - 1],
            _ => {
                return Err(DomainError::InvalidValue(format!(
                    "'{name}' may have at most one primary value"
                )));
            }
        };
        if let Some(Value::Array(elements)) = doc.get_mut(&name) {
            for i in now.into_iter().filter(|i| *i != keep) {
                if let Some(Value::Object(element)) = elements.get_mut(i) {
                    element.retain(|k, _| !k.eq_ignore_ascii_case("primary"));
                    element.insert("primary".into(), Value::Bool(false));
                }
            }
        }
    }
    Ok(())
}
