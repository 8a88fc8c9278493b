//! Dunning (`payments.md` §6): what happens after an off-session charge of a subscription
//! invoice is declined. The subscription is `past_due`; automatic retries follow a fixed
//! schedule anchored to the first failure; the fourth declined retry ends the subscription.
//! Customers may also try again themselves (manual attempts), a few times a day.

use crate::Timestamp;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Days after the first failure at which the automatic retries run.
pub const RETRY_AFTER_DAYS: [i64; 4] = [1, 3, 5, 7];

/// Automatic retries in all (`paymentContext.recovery.maxAttempts`).
pub const MAX_RETRIES: u32 = 4;

/// Manual attempts one customer may make in a rolling day of the organization's clock.
pub const MANUAL_ATTEMPTS_MAX: usize = 3;
pub const MANUAL_WINDOW_MS: i64 = DAY_MS;

/// A past-due subscription's unpaid invoice and how far its retries have gone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dunning {
    pub invoice_id: String,
    /// The first declined charge: the retries are counted from it.
    pub failed_at: Timestamp,
    /// Automatic retries made so far (0 to `MAX_RETRIES`).
    pub retries: u32,
}

impl Dunning {
    pub fn new(invoice_id: String, failed_at: Timestamp) -> Self {
        Self {
            invoice_id,
            failed_at,
            retries: 0,
        }
    }

    /// When the next automatic retry runs; `None` once all have run.
    pub fn next_retry_at(&self) -> Option<Timestamp> {
        let days = RETRY_AFTER_DAYS.get(usize::try_from(self.retries).ok()?)?;
        Some(self.failed_at.plus_millis(days * DAY_MS))
    }

    /// The number of the retry that runs next (1-based).
    pub fn next_attempt(&self) -> u32 {
        self.retries + 1
    }

    /// Whether the retry that runs next is the last one.
    pub fn next_is_last(&self) -> bool {
        self.next_attempt() >= MAX_RETRIES
    }
}

/// Why a charge attempt of an outstanding invoice was made (`paymentContext.recovery`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// A customer or the merchant tried again: a recovery page, `transactions.retry`,
    /// `reactivate`, a card saved while past due.
    Manual,
    /// An automatic retry of the schedule, numbered from 1.
    Scheduled { attempt: u32 },
}

impl Recovery {
    /// The stored form: `payment_recovery` or `dunning_retry`, with the attempt.
    pub fn kind(self) -> &'static str {
        match self {
            Recovery::Manual => "payment_recovery",
            Recovery::Scheduled { .. } => "dunning_retry",
        }
    }

    pub fn attempt(self) -> Option<u32> {
        match self {
            Recovery::Manual => None,
            Recovery::Scheduled { attempt } => Some(attempt),
        }
    }

    pub fn from_stored(kind: &str, attempt: Option<i64>) -> Option<Self> {
        match kind {
            "payment_recovery" => Some(Recovery::Manual),
            "dunning_retry" => Some(Recovery::Scheduled {
                attempt: u32::try_from(attempt?).ok()?,
            }),
            _ => None,
        }
    }
}

/// When a customer who made `attempts` manual attempts (their instants, any order) may try
/// again at `now`: `Ok` while fewer than `MANUAL_ATTEMPTS_MAX` fall in the last day, else the
/// instant the oldest of them leaves the window.
pub fn manual_attempt_allowed(attempts: &[Timestamp], now: Timestamp) -> Result<(), Timestamp> {
    let since = now.plus_millis(-MANUAL_WINDOW_MS);
    let mut recent: Vec<Timestamp> = attempts.iter().copied().filter(|a| *a > since).collect();
    if recent.len() < MANUAL_ATTEMPTS_MAX {
        return Ok(());
    }
    recent.sort();
    let oldest_counted = recent[recent.len() - MANUAL_ATTEMPTS_MAX];
    Err(oldest_counted.plus_millis(MANUAL_WINDOW_MS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    #[test]
    fn retries_run_one_three_five_and_seven_days_after_the_failure() {
        let mut dunning = Dunning::new("inv_1".into(), at("2026-10-01T00:00:00Z"));
        let mut seen = Vec::new();
        while let Some(next) = dunning.next_retry_at() {
            seen.push(next.to_rfc3339());
            dunning.retries += 1;
        }
        assert_eq!(
            seen,
            [
                "2026-10-02T00:00:00.000Z",
                "2026-10-04T00:00:00.000Z",
                "2026-10-06T00:00:00.000Z",
                "2026-10-08T00:00:00.000Z"
            ]
        );
        assert_eq!(dunning.retries, MAX_RETRIES);
    }

    #[test]
    fn the_fourth_retry_is_the_last() {
        let mut dunning = Dunning::new("inv_1".into(), at("2026-10-01T00:00:00Z"));
        dunning.retries = 2;
        assert!(!dunning.next_is_last());
        dunning.retries = 3;
        assert!(dunning.next_is_last());
    }

    #[test]
    fn three_manual_attempts_a_day_then_the_oldest_must_leave_the_window() {
        let now = at("2026-10-02T12:00:00Z");
        let two = [at("2026-10-02T01:00:00Z"), at("2026-10-02T02:00:00Z")];
        assert_eq!(manual_attempt_allowed(&two, now), Ok(()));
        let three = [
            at("2026-10-02T03:00:00Z"),
            at("2026-10-02T01:00:00Z"),
            at("2026-10-02T02:00:00Z"),
        ];
        assert_eq!(
            manual_attempt_allowed(&three, now),
            Err(at("2026-10-03T01:00:00Z"))
        );
        // An attempt a day old no longer counts.
        let old = [
            at("2026-10-01T12:00:00Z"),
            at("2026-10-02T01:00:00Z"),
            at("2026-10-02T02:00:00Z"),
        ];
        assert_eq!(manual_attempt_allowed(&old, now), Ok(()));
    }

    #[test]
    fn recoveries_round_trip_through_their_stored_form() {
        for recovery in [Recovery::Manual, Recovery::Scheduled { attempt: 3 }] {
            let attempt = recovery.attempt().map(i64::from);
            assert_eq!(
                Recovery::from_stored(recovery.kind(), attempt),
                Some(recovery)
            );
        }
        assert_eq!(Recovery::from_stored("other", None), None);
    }
}
