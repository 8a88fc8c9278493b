//! Billing intervals and calendar arithmetic for billing periods (`catalog.md` §6).
//!
//! Period *n* (0-based) of an anchor runs from `boundary(n)` to `boundary(n + 1)`. Boundaries are
//! always computed from the anchor, never from the previous boundary, so month-end clamping does
//! not drift: Jan 31 → Feb 28 → Mar 31.

use crate::Timestamp;
use crate::time::MILLIS_PER_DAY;
use chrono::{DateTime, Months, Utc};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BillingInterval {
    Weekly,
    Monthly,
    Quarterly,
    /// Only from API version 2026-08-27 on (`catalog.md` §4.1).
    Semiannual,
    Yearly,
    OneTime,
}

impl BillingInterval {
    pub const ALL: [BillingInterval; 6] = [
        BillingInterval::Weekly,
        BillingInterval::Monthly,
        BillingInterval::Quarterly,
        BillingInterval::Semiannual,
        BillingInterval::Yearly,
        BillingInterval::OneTime,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BillingInterval::Weekly => "weekly",
            BillingInterval::Monthly => "monthly",
            BillingInterval::Quarterly => "quarterly",
            BillingInterval::Semiannual => "semiannual",
            BillingInterval::Yearly => "yearly",
            BillingInterval::OneTime => "one_time",
        }
    }

    pub fn parse(text: &str) -> Option<BillingInterval> {
        Self::ALL.into_iter().find(|i| i.as_str() == text)
    }

    /// Calendar months per period for month-based intervals.
    fn months(self) -> Option<u32> {
        match self {
            BillingInterval::Monthly => Some(1),
            BillingInterval::Quarterly => Some(3),
            BillingInterval::Semiannual => Some(6),
            BillingInterval::Yearly => Some(12),
            BillingInterval::Weekly | BillingInterval::OneTime => None,
        }
    }

    pub fn is_recurring(self) -> bool {
        self != BillingInterval::OneTime
    }

    /// The start of period `n` after `anchor` (period 0 starts at the anchor); `None` for
    /// `one_time`, which has no periods, or past the calendar's end.
    pub fn boundary(self, anchor: Timestamp, n: u32) -> Option<Timestamp> {
        if self == BillingInterval::Weekly {
            return Some(anchor.plus_millis(i64::from(n) * 7 * MILLIS_PER_DAY));
        }
        let months = self.months()?.checked_mul(n)?;
        let start = DateTime::<Utc>::from_timestamp_millis(anchor.as_millis())?;
        // chrono clamps the day to the target month's last day: Jan 31 + 1 month = Feb 28/29.
        let end = start.checked_add_months(Months::new(months))?;
        Some(Timestamp::from_millis(end.timestamp_millis()))
    }

    /// The period of `anchor` that contains `now` (start ≤ now < end), with its index; `now`
    /// before the anchor gives period 0.
    pub fn period_at(self, anchor: Timestamp, now: Timestamp) -> Option<(u32, BillingPeriod)> {
        let mut n = self.estimated_index(anchor, now);
        loop {
            let start = self.boundary(anchor, n)?;
            let end = self.boundary(anchor, n + 1)?;
            if now < start && n > 0 {
                n -= 1;
            } else if now >= end {
                n += 1;
            } else {
                return Some((n, BillingPeriod { start, end }));
            }
        }
    }

    /// A close guess of the index, so `period_at` takes a step or two rather than one per period.
    fn estimated_index(self, anchor: Timestamp, now: Timestamp) -> u32 {
        let elapsed_days = (now.as_millis() - anchor.as_millis()).max(0) / MILLIS_PER_DAY;
        let days_per_period = match self {
            BillingInterval::Weekly => 7,
            other => i64::from(other.months().unwrap_or(1)) * 28,
        };
        u32::try_from(elapsed_days / days_per_period).unwrap_or(u32::MAX / 24)
    }

    /// Day of month billing happens on (month-based intervals only, `catalog.md` §6).
    pub fn billing_day_of_month(self, anchor: Timestamp) -> Option<u32> {
        use chrono::Datelike;
        self.months()?;
        DateTime::<Utc>::from_timestamp_millis(anchor.as_millis()).map(|d| d.day())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingPeriod {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl BillingPeriod {
    /// Whole days left, rounded up, never negative (`catalog.md` §6).
    pub fn days_remaining(&self, now: Timestamp) -> i64 {
        let left = (self.end.as_millis() - now.as_millis()).max(0);
        (left + MILLIS_PER_DAY - 1) / MILLIS_PER_DAY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn month_ends_clamp_without_drifting() {
        let anchor = at("2026-01-31T10:00:00Z");
        let ends: Vec<_> = (1..=3)
            .map(|n| {
                BillingInterval::Monthly
                    .boundary(anchor, n)
                    .unwrap()
                    .to_rfc3339()
            })
            .collect();

        assert_eq!(
            ends,
            [
                "2026-02-28T10:00:00.000Z",
                "2026-03-31T10:00:00.000Z",
                "2026-04-30T10:00:00.000Z"
            ]
        );
    }

    #[test]
    fn each_interval_has_its_length() {
        let anchor = at("2026-09-01T00:00:00Z");
        let cases = [
            (BillingInterval::Weekly, "2026-09-08T00:00:00.000Z"),
            (BillingInterval::Monthly, "2026-10-01T00:00:00.000Z"),
            (BillingInterval::Quarterly, "2026-12-01T00:00:00.000Z"),
            (BillingInterval::Semiannual, "2027-03-01T00:00:00.000Z"),
            (BillingInterval::Yearly, "2027-09-01T00:00:00.000Z"),
        ];
        for (interval, end) in cases {
            assert_eq!(
                interval.boundary(anchor, 1).unwrap().to_rfc3339(),
                end,
                "{interval:?}"
            );
        }
        assert_eq!(BillingInterval::OneTime.boundary(anchor, 1), None);
    }

    #[test]
    fn the_period_at_an_instant_contains_it() {
        let anchor = at("2026-01-31T00:00:00Z");

        let (n, period) = BillingInterval::Monthly
            .period_at(anchor, at("2026-03-30T12:00:00Z"))
            .unwrap();
        let (m, exact) = BillingInterval::Monthly
            .period_at(anchor, at("2026-03-31T00:00:00Z"))
            .unwrap();

        assert_eq!(n, 1);
        assert_eq!(period.start.to_rfc3339(), "2026-02-28T00:00:00.000Z");
        assert_eq!(period.end.to_rfc3339(), "2026-03-31T00:00:00.000Z");
        assert_eq!(m, 2, "a boundary belongs to the period it starts");
        assert_eq!(exact.start, period.end);
    }

    #[test]
    fn days_remaining_rounds_up_and_stops_at_zero() {
        let period = BillingPeriod {
            start: at("2026-09-01T00:00:00Z"),
            end: at("2026-10-01T00:00:00Z"),
        };

        assert_eq!(period.days_remaining(at("2026-09-01T00:00:00Z")), 30);
        assert_eq!(period.days_remaining(at("2026-09-30T23:00:00Z")), 1);
        assert_eq!(period.days_remaining(at("2026-10-02T00:00:00Z")), 0);
    }

    #[test]
    fn billing_day_follows_the_anchor_for_month_based_intervals_only() {
        let anchor = at("2026-01-31T00:00:00Z");

        assert_eq!(
            BillingInterval::Monthly.billing_day_of_month(anchor),
            Some(31)
        );
        assert_eq!(BillingInterval::Weekly.billing_day_of_month(anchor), None);
        assert_eq!(BillingInterval::OneTime.billing_day_of_month(anchor), None);
    }
}
