//! Instants as integer milliseconds since the Unix epoch, and their wire spelling.
//!
//! Milliseconds are what the contract shows (`2026-06-23T14:30:00.000Z`), and an integer keeps
//! both storage backends exact and identical.

use chrono::{DateTime, SecondsFormat, Utc};
use std::fmt;

/// One instant, in UTC milliseconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

pub const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;
/// `0000-01-01T00:00:00.000Z` and `9999-12-31T23:59:59.999Z`: the instants RFC 3339 can write.
const RFC3339_MILLIS_MIN: i64 = -62_167_219_200_000;
const RFC3339_MILLIS_MAX: i64 = 253_402_300_799_999;

impl Timestamp {
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Parses an ISO 8601 / RFC 3339 date-time with an offset (`Z` or `+hh:mm`).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text)
            .ok()
            .map(|instant| Self(instant.timestamp_millis()))
    }

    /// The contract's spelling: UTC, milliseconds, `Z` suffix.
    ///
    /// Decision: RFC 3339 has four-digit years, so an instant outside years 0000 to 9999 (a
    /// test clock far ahead, plus a period or a trial) is written as the nearest one inside
    /// (`9999-12-31T23:59:59.999Z`): clients get a date they can parse, never `+10000-…`.
    pub fn to_rfc3339(self) -> String {
        Self(self.0.clamp(RFC3339_MILLIS_MIN, RFC3339_MILLIS_MAX))
            .to_datetime()
            .to_rfc3339_opts(SecondsFormat::Millis, true)
    }

    /// `Sep 16`: for invoice line descriptions.
    pub fn month_day(self) -> String {
        self.to_datetime().format("%b %-d").to_string()
    }

    /// `Nov 1, 2026`: for invoice line descriptions.
    pub fn month_day_year(self) -> String {
        self.to_datetime().format("%b %-d, %Y").to_string()
    }

    pub fn plus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_add(millis))
    }

    fn to_datetime(self) -> DateTime<Utc> {
        // Decision: instants outside chrono's range (about ±262,000 years) cannot come from a
        // clock or from `parse_rfc3339`, so clamping to the epoch only guards against corrupt rows.
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_utc_with_milliseconds_and_z() {
        let instant = Timestamp::parse_rfc3339("2026-06-23T16:30:00.5+02:00").unwrap();

        assert_eq!(instant.to_rfc3339(), "2026-06-23T14:30:00.500Z");
    }

    #[test]
    fn instants_past_four_digit_years_render_as_the_nearest_valid_date_time() {
        let last = Timestamp::parse_rfc3339("9999-12-31T23:59:59.999Z").unwrap();
        let first = Timestamp::parse_rfc3339("0000-01-01T00:00:00Z").unwrap();
        let cases = [
            (last, "9999-12-31T23:59:59.999Z", "the last instant"),
            (
                last.plus_millis(1),
                "9999-12-31T23:59:59.999Z",
                "one past it",
            ),
            (
                last.plus_millis(365 * MILLIS_PER_DAY),
                "9999-12-31T23:59:59.999Z",
                "a year past it",
            ),
            (
                Timestamp::from_millis(i64::MAX),
                "9999-12-31T23:59:59.999Z",
                "the largest",
            ),
            (first, "0000-01-01T00:00:00.000Z", "the first instant"),
            (
                first.plus_millis(-1),
                "0000-01-01T00:00:00.000Z",
                "one before it",
            ),
            (
                Timestamp::from_millis(i64::MIN),
                "0000-01-01T00:00:00.000Z",
                "the smallest",
            ),
        ];
        for (instant, written, case) in cases {
            let text = instant.to_rfc3339();

            assert_eq!(text, written, "{case}");
            assert!(Timestamp::parse_rfc3339(&text).is_some(), "{case}");
        }
    }

    #[test]
    fn rejects_dates_without_an_offset() {
        assert_eq!(Timestamp::parse_rfc3339("2026-06-23T14:30:00"), None);
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
