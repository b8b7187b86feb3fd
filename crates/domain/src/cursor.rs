//! Cursors of cursor-based pagination (RFC 9865): where the next or previous page of a listing
//! in creation order begins. A cursor names its workspace and a resource id, so that a page
//! begins just after (or before) that resource however many were created or deleted
//! meanwhile; it is opaque to clients and refused in any other workspace.

use crate::{DomainError, WorkspaceId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub workspace: WorkspaceId,
    /// The page ends just before `id` (a `previousCursor`), rather than beginning just after it.
    pub backward: bool,
    pub id: String,
}

const VERSION: &str = "c1";

fn invalid() -> DomainError {
    DomainError::InvalidCursor(
        "the cursor is not one this service gave for this workspace: send an empty cursor for \
         the first page, then nextCursor or previousCursor as given"
            .into(),
    )
}

impl Cursor {
    /// The cursor as clients see it: hex of `c1|<workspace>|<f or b>|<id>`.
    pub fn encode(&self) -> String {
        let direction = if self.backward { "b" } else { "f" };
        let text = format!("{VERSION}|{}|{direction}|{}", self.workspace, self.id);
        text.bytes().map(|b| format!("{b:02x}")).collect()
    }

    /// Reads a cursor given to `workspace`.
    pub fn decode(raw: &str, workspace: WorkspaceId) -> Result<Cursor, DomainError> {
        if raw.len() % 2 != 0 || raw.len() > 512 {
            return Err(invalid());
        }
        let bytes: Vec<u8> = (0..raw.len())
            .step_by(2)
            .map(|at| {
                raw.get(at..at + 2)
                    .and_then(|pair| u8::from_str_radix(pair, 16).ok())
            })
            .collect::<Option<_>>()
            .ok_or_else(invalid)?;
        let text = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = text.split('|');
        let (Some(VERSION), Some(owner), Some(direction), Some(id), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(invalid());
        };
        if owner != workspace.to_string() || id.is_empty() {
            return Err(invalid());
        }
        let backward = match direction {
            "f" => false,
            "b" => true,
            _ => return Err(invalid()),
        };
        Ok(Cursor {
            workspace,
            backward,
            id: id.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_stay_in_their_workspace() {
        let (acme, globex) = (WorkspaceId::generate(), WorkspaceId::generate());
        let cursor = Cursor {
            workspace: acme,
            backward: true,
            id: "0190-abc".into(),
        };
        let raw = cursor.encode();
        assert_eq!(Cursor::decode(&raw, acme).unwrap(), cursor);
        for bad in [raw.as_str(), "zz", "abc", "", "6331"] {
            let err = Cursor::decode(bad, globex).unwrap_err();
            assert_eq!(err.scim_type(), crate::ScimType::InvalidCursor, "{bad}");
        }
    }
}
