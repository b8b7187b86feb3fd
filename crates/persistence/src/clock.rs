//! Times as both databases store them: UTC, microsecond precision, no offset.

use time::{OffsetDateTime, PrimitiveDateTime};

/// Now, truncated to microseconds so that PostgreSQL and SQLite read back the same value.
pub fn now() -> PrimitiveDateTime {
    to_db(OffsetDateTime::now_utc())
}

pub fn to_db(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at.to_offset(time::UtcOffset::UTC);
    let micros = utc.nanosecond() / 1_000 * 1_000;
    let utc = utc.replace_nanosecond(micros).unwrap_or(utc);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

pub fn from_db(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_utc()
}
