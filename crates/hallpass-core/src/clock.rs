//! Time as Better Auth writes it: UTC instants with millisecond precision, serialized as
//! ISO-8601 with milliseconds and `Z` (`2026-11-22T02:02:43.408Z`).
//! See the reference, section 1 ("Dates and keys in JSON") and 6.1 (stored values in SQLite).

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// An instant in UTC, truncated to whole milliseconds so that what is stored, returned and
/// compared is always the same value.
pub type Timestamp = DateTime<Utc>;

/// The current instant, truncated to milliseconds.
pub fn now() -> Timestamp {
    truncate_to_millis(Utc::now())
}

/// Drops everything below the millisecond.
pub fn truncate_to_millis(t: Timestamp) -> Timestamp {
    Utc.timestamp_millis_opt(t.timestamp_millis())
        .single()
        .unwrap_or(t)
}

/// `2026-11-22T02:02:43.408Z`: fixed width, so ISO strings compare in time order.
pub fn to_iso(t: &Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Reads an ISO-8601 date as Better Auth stores it, or any RFC 3339 date.
pub fn parse_iso(s: &str) -> Option<Timestamp> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| truncate_to_millis(d.with_timezone(&Utc)))
}

/// A date given as milliseconds since the epoch (the layout some adapters use in SQLite).
pub fn from_millis(ms: i64) -> Option<Timestamp> {
    Utc.timestamp_millis_opt(ms).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_format_has_milliseconds_and_z() {
        let t = parse_iso("2026-11-22T02:02:43.408Z");
        assert_eq!(
            t.map(|t| to_iso(&t)).as_deref(),
            Some("2026-11-22T02:02:43.408Z")
        );
    }

    #[test]
    fn whole_seconds_still_print_three_digits() {
        let t = from_millis(1_795_312_963_000);
        assert_eq!(
            t.map(|t| to_iso(&t)).as_deref(),
            Some("2026-11-22T02:02:43.000Z")
        );
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let t = parse_iso("2026-11-22T04:02:43.408+02:00");
        assert_eq!(
            t.map(|t| to_iso(&t)).as_deref(),
            Some("2026-11-22T02:02:43.408Z")
        );
    }
}
