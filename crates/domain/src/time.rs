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
    pub fn to_rfc3339(self) -> String {
        self.to_datetime()
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
    fn rejects_dates_without_an_offset() {
        assert_eq!(Timestamp::parse_rfc3339("2026-06-23T14:30:00"), None);
        assert_eq!(Timestamp::parse_rfc3339("yesterday"), None);
    }
}
