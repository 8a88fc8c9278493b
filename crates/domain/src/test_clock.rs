//! The sandbox test clock: how far it may move, and the record of one advance (`catalog.md` §7).

use crate::subscription::SubscriptionId;
use crate::time::MILLIS_PER_DAY;
use crate::{DomainError, Timestamp};
use std::collections::BTreeSet;

pub const ADVANCE_DAYS_MIN: i64 = 1;
/// The furthest one advance may move the clock, by `advanceDays` or `frozenTime` alike: ten
/// years, which bounds the deadlines one advance has to pass (120 monthly renewals of a
/// subscription).
pub const ADVANCE_DAYS_MAX: i64 = 3_650;
/// Run items kept and shown per run (`items`); the counts always cover every deadline.
/// Decision: 100, enough to see what a typical advance did, while a run over years of
/// renewals stays a few tens of kilobytes on every `GET /test-clock`.
pub const RUN_ITEMS_MAX: usize = 100;

/// The instant the clock moves to: exactly one of `advanceDays` or `frozenTime`, forward only
/// and at most `ADVANCE_DAYS_MAX` days past the clock's current time.
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
            let furthest = current.plus_millis(ADVANCE_DAYS_MAX * MILLIS_PER_DAY);
            if target <= current {
                Err(DomainError::field(
                    "frozenTime",
                    format!(
                        "frozenTime must be after the clock's current time {current}; the clock only moves forward"
                    ),
                ))
            } else if target > furthest {
                Err(DomainError::field(
                    "frozenTime",
                    format!(
                        "frozenTime may be at most {ADVANCE_DAYS_MAX} days after the clock's current time {current}, that is {furthest} at the latest"
                    ),
                ))
            } else {
                Ok(target)
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
    pub kind: RunItemKind,
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

/// What a run item passed: a billing deadline, or a retry of a past-due invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RunItemKind {
    #[default]
    BillingCycle,
    DunningRetry,
}

impl RunItemKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunItemKind::BillingCycle => "billing_cycle",
            RunItemKind::DunningRetry => "dunning_retry",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [RunItemKind::BillingCycle, RunItemKind::DunningRetry]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// The record of one clock advance with the deadlines it processed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClockRun {
    pub id: TestClockRunId,
    pub started_at_time: Timestamp,
    pub target_time: Timestamp,
    /// At most `RUN_ITEMS_MAX` of the processed deadlines (failed ones first, then the
    /// earliest), in time order.
    pub items: Vec<RunItem>,
    /// Every deadline passed, and every one that failed, whether listed in `items` or not.
    pub completed_count: usize,
    pub failed_count: usize,
    pub created_at: Timestamp,
}

impl TestClockRun {
    pub fn deadline_count(&self) -> usize {
        self.completed_count + self.failed_count
    }

    /// `completed`, or `failed` when any deadline failed.
    pub fn status(&self) -> &'static str {
        if self.failed_count > 0 {
            "failed"
        } else {
            "completed"
        }
    }
}

/// The deadlines a run processed so far, over the transactions it takes: every one counted,
/// at most `RUN_ITEMS_MAX` kept, so a run over years of renewals stays small.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunTally {
    completed: usize,
    failed: usize,
    /// Retries of past-due invoices run, and those declined (the legacy `dunningRetried`,
    /// `dunningFailed`).
    dunning_retried: usize,
    dunning_failed: usize,
    items: Vec<RunItem>,
    subscriptions: BTreeSet<SubscriptionId>,
}

/// `outcome` of a retry that paid the invoice.
pub const RECOVERED: &str = "recovered";

impl RunTally {
    pub fn record(&mut self, item: RunItem) {
        if item.kind == RunItemKind::DunningRetry && item.error.is_none() {
            self.dunning_retried += 1;
            if item.outcome.as_deref() != Some(RECOVERED) {
                self.dunning_failed += 1;
            }
        }
        if item.error.is_some() {
            self.failed += 1;
        } else {
            self.completed += 1;
        }
        self.subscriptions.insert(item.subscription_id.clone());
        self.items.push(item);
        if self.items.len() > RUN_ITEMS_MAX {
            // Failures are what a caller most needs to see; then the earliest deadlines.
            self.items.sort_by(|a, b| {
                (a.error.is_none(), a.due_at, &a.subscription_id).cmp(&(
                    b.error.is_none(),
                    b.due_at,
                    &b.subscription_id,
                ))
            });
            self.items.truncate(RUN_ITEMS_MAX);
        }
    }

    pub fn extend(&mut self, items: impl IntoIterator<Item = RunItem>) {
        for item in items {
            self.record(item);
        }
    }

    pub fn deadline_count(&self) -> usize {
        self.completed + self.failed
    }

    pub fn failed_count(&self) -> usize {
        self.failed
    }

    /// Billing deadlines processed, retries left out (the legacy `enqueued`).
    pub fn billing_count(&self) -> usize {
        self.deadline_count() - self.dunning_retried
    }

    pub fn dunning_retried(&self) -> usize {
        self.dunning_retried
    }

    pub fn dunning_failed(&self) -> usize {
        self.dunning_failed
    }

    /// How many subscriptions had a deadline processed (the legacy `customersFound`).
    pub fn subscription_count(&self) -> usize {
        self.subscriptions.len()
    }

    /// The run's record, its items in time order.
    pub fn into_run(
        self,
        id: TestClockRunId,
        started_at_time: Timestamp,
        target_time: Timestamp,
        created_at: Timestamp,
    ) -> TestClockRun {
        let mut items = self.items;
        items.sort_by(|a, b| (a.due_at, &a.subscription_id).cmp(&(b.due_at, &b.subscription_id)));
        TestClockRun {
            id,
            started_at_time,
            target_time,
            items,
            completed_count: self.completed,
            failed_count: self.failed,
            created_at,
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
        let ten_years = now.plus_millis(ADVANCE_DAYS_MAX * MILLIS_PER_DAY);
        assert_eq!(advance_target(None, Some(ten_years), now), Ok(ten_years));
        let refusals = [
            (Some(0), None, "advanceDays", "zero days"),
            (Some(3_651), None, "advanceDays", "too many days"),
            (None, Some(now), "frozenTime", "not after now"),
            (
                None,
                Some(ten_years.plus_millis(1)),
                "frozenTime",
                "past the bound",
            ),
            (
                None,
                Timestamp::parse_rfc3339("9999-12-31T00:00:00Z"),
                "frozenTime",
                "the end of time",
            ),
            (Some(1), Some(later), "advanceDays", "both"),
            (None, None, "advanceDays", "neither"),
        ];
        for (days, frozen, field, description) in refusals {
            match advance_target(days, frozen, now) {
                Err(DomainError::Validation(problems)) => {
                    assert_eq!(problems[0].field, field, "{description}");
                }
                other => panic!("{description}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_tally_counts_every_deadline_and_keeps_failures_then_the_earliest() {
        let item = |n: i64, failed: bool| RunItem {
            kind: RunItemKind::BillingCycle,
            due_at: Timestamp::from_millis(n),
            subscription_id: SubscriptionId::from_stored(format!("sub_{:03}", n % 7)),
            customer_name: None,
            outcome: (!failed).then(|| "renewed".to_owned()),
            error: failed.then(|| "no".to_owned()),
            invoice_number: None,
            invoice_id: None,
        };
        let mut tally = RunTally::default();
        for n in (0..1_000).rev() {
            tally.record(item(n, n == 900));
        }

        let run = tally.clone().into_run(
            TestClockRunId::from_stored("tcr_1".into()),
            Timestamp::from_millis(0),
            Timestamp::from_millis(1_000),
            Timestamp::from_millis(0),
        );

        assert_eq!((run.completed_count, run.failed_count), (999, 1));
        assert_eq!(run.deadline_count(), 1_000);
        assert_eq!(run.status(), "failed");
        assert_eq!(tally.subscription_count(), 7);
        let kept: Vec<i64> = run.items.iter().map(|i| i.due_at.as_millis()).collect();
        let mut expected: Vec<i64> = (0..99).collect();
        expected.push(900);
        assert_eq!(kept, expected);
    }
}
