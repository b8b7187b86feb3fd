//! Times as both databases store them: UTC, microsecond precision, no offset.

use time::{OffsetDateTime, PrimitiveDateTime};

/// Now, truncated to microseconds so that PostgreSQL and SQLite read back the same value.
pub fn now() -> PrimitiveDateTime {
    to_db(OffsetDateTime::now_utc())
}

/// `at` in UTC; a time whose UTC form falls outside the representable years saturates to the
/// nearest representable one instead of panicking (callers validate their inputs first).
pub fn to_db(at: OffsetDateTime) -> PrimitiveDateTime {
    let utc = at
        .checked_to_offset(time::UtcOffset::UTC)
        .unwrap_or(if at.year() > 0 {
            PrimitiveDateTime::MAX.assume_utc()
        } else {
            PrimitiveDateTime::MIN.assume_utc()
        });
    let micros = utc.nanosecond() / 1_000 * 1_000;
    let utc = utc.replace_nanosecond(micros).unwrap_or(utc);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

pub fn from_db(at: PrimitiveDateTime) -> OffsetDateTime {
    at.assume_utc()
}
