//! What one PATCH may cost: every value it writes is checked against the schema's bounds as it is
//! written, and the bytes it copies into the document are counted against a budget, so that the
//! work of a request follows the size of the stored resource, never what its operations could
//! build (a value written into every element of an attribute, hundreds of times over).

use serde_json::Value;

use crate::DomainError;
use crate::schema::AttributeDef;

/// The most bytes one PATCH may copy into a document: many times a full User document (64 KiB),
/// far below what would keep a thread busy for long.
pub const MAX_WRITTEN_BYTES: usize = 4 * 1024 * 1024;

/// The bytes a PATCH has written so far.
#[derive(Debug, Default)]
pub(super) struct Budget {
    written: usize,
}

impl Budget {
    /// Checks `value` for `def` (under `parent`) as a PUT would, then charges `copies` of it.
    pub(super) fn write(
        &mut self,
        parent: &str,
        def: &'static AttributeDef,
        value: &Value,
        copies: usize,
    ) -> Result<(), DomainError> {
        crate::user::check_value(parent, def, value)?;
        self.charge(json_size(value).saturating_mul(copies))
    }

    /// Charges `bytes` written without a schema check (an element the filter describes).
    pub(super) fn charge(&mut self, bytes: usize) -> Result<(), DomainError> {
        self.written = self.written.saturating_add(bytes);
        if self.written > MAX_WRITTEN_BYTES {
            return Err(DomainError::InvalidValue(format!(
                "this PATCH writes more than {MAX_WRITTEN_BYTES} bytes into the resource; send \
                 fewer or smaller operations"
            )));
        }
        Ok(())
    }
}

/// About how many bytes `value` takes as JSON, without serialising it.
pub(super) fn json_size(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 20,
        Value::String(text) => text.len() + 2,
        Value::Array(items) => items.iter().map(json_size).sum::<usize>() + items.len() + 2,
        Value::Object(fields) => {
            fields
                .iter()
                .map(|(key, value)| key.len() + 3 + json_size(value))
                .sum::<usize>()
                + 2
        }
    }
}
