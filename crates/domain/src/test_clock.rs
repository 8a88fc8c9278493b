//! The sandbox test clock: how far it may move, and the record of one advance (`catalog.md` §7).

use crate::subscription::SubscriptionId;
use crate::time::MILLIS_PER_DAY;
use crate::{DomainError, Timestamp};

pub const ADVANCE_DAYS_MIN: i64 = 1;
pub const ADVANCE_DAYS_MAX: i64 = 3_650;

/// The instant the clock moves to: exactly one of `advanceDays` or `frozenTime`, forward only.
pub fn advance_target(
    advance_days: Option<i64>,
    frozen_time: Option<Timestamp>,
    current: Timestamp,
) -> Result<Timestamp, DomainError> {
    match (advance_days, frozen_time) {
        (Some(days), None) => {
            if (ADVANCE_DAYS_MIN..=ADVANCE_DAYS_MAX).contains(&days) {
                Ok(current.plus_millis(days * MILLIS_PER_DAY))
            } else {
                Err(DomainError::field(
                    "advanceDays",
                    format!(
                        "advanceDays must be an integer from {ADVANCE_DAYS_MIN} to {ADVANCE_DAYS_MAX}"
                    ),
                ))
            }
        }
        (None, Some(target)) => {
            if target > current {
                Ok(target)
            } else {
                Err(DomainError::field(
                    "frozenTime",
                    format!(
                        "frozenTime must be after the clock's current time {current}; the clock only moves forward"
                    ),
                ))
            }
        }
        (Some(_), Some(_)) => Err(DomainError::field(
            "advanceDays",
            "send either advanceDays or frozenTime, not both",
        )),
        (None, None) => Err(DomainError::field(
            "advanceDays",
            "send advanceDays (1 to 3650) or frozenTime (a date-time after the clock's time)",
        )),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClockRunId(String);

impl TestClockRunId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("tcr_{ulid}"))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One processed deadline of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunItem {
    pub due_at: Timestamp,
    pub subscription_id: SubscriptionId,
    pub customer_name: Option<String>,
    /// `renewed`, `canceled` or `trial_ended`; `None` when the item failed.
    pub outcome: Option<String>,
    pub error: Option<String>,
    /// The invoice the deadline issued, if any.
    pub invoice_number: Option<String>,
    pub invoice_id: Option<String>,
}

/// The record of one clock advance with the deadlines it processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClockRun {
    pub id: TestClockRunId,
    pub started_at_time: Timestamp,
    pub target_time: Timestamp,
    pub items: Vec<RunItem>,
    pub created_at: Timestamp,
}

impl TestClockRun {
    pub fn failed_count(&self) -> usize {
        self.items.iter().filter(|i| i.error.is_some()).count()
    }

    pub fn completed_count(&self) -> usize {
        self.items.len() - self.failed_count()
    }

    /// `completed`, or `failed` when any deadline failed.
    pub fn status(&self) -> &'static str {
        if self.failed_count() > 0 {
            "failed"
        } else {
            "completed"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_moves_forward_by_days_or_to_a_later_instant() {
        let now = Timestamp::parse_rfc3339("2026-09-01T00:00:00Z").unwrap();
        let later = Timestamp::parse_rfc3339("2026-10-01T00:00:00Z").unwrap();

        assert_eq!(
            advance_target(Some(15), None, now).unwrap().to_rfc3339(),
            "2026-09-16T00:00:00.000Z"
        );
        assert_eq!(advance_target(None, Some(later), now).unwrap(), later);
        let refusals = [
            (Some(0), None, "zero days"),
            (Some(3_651), None, "too many days"),
            (None, Some(now), "not after now"),
            (Some(1), Some(later), "both"),
            (None, None, "neither"),
        ];
        for (days, frozen, description) in refusals {
            assert!(advance_target(days, frozen, now).is_err(), "{description}");
        }
    }
}
