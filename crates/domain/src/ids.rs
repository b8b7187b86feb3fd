//! Identifier newtypes, so that no bare `Uuid` crosses a crate boundary and ids of different
//! aggregates cannot be swapped.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUIDv7) id, so that rows sort by creation.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            /// Accepts only the hyphenated form we hand out.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::try_parse(s).map(Self)
            }
        }
    };
}

id_type!(
    /// A workspace (one WebWork customer, one IdP connection).
    WorkspaceId
);
id_type!(
    /// A SCIM user, unique within its workspace.
    UserId
);
id_type!(
    /// A SCIM group, unique within its workspace.
    GroupId
);
id_type!(
    /// A SCIM API token.
    TokenId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = UserId::generate();
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
    }

    #[test]
    fn generated_ids_sort_by_creation() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert!(a.to_string() < b.to_string());
    }

    #[test]
    fn garbage_is_not_an_id() {
        assert!("not-a-uuid".parse::<UserId>().is_err());
        assert!("".parse::<WorkspaceId>().is_err());
    }
}
