//! Pausing and resuming a subscription (`lifecycle.md` §6). An immediate pause keeps the days
//! left in the period and gives them back on resume; a pause at the period end stops before the
//! renewal, and its resume starts a new period that is billed like a renewal.

use crate::period::BillingPeriod;
use crate::subscription::{Subscription, SubscriptionStatus};
use crate::time::MILLIS_PER_DAY;
use crate::{Conflict, DomainError, Timestamp};

/// The longest pause a caller may ask for, in days (ten years).
pub const PAUSE_DAYS_MAX: i64 = 3_650;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseMode {
    Immediate,
    PeriodEnd,
}

impl PauseMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PauseMode::Immediate => "immediate",
            PauseMode::PeriodEnd => "period_end",
        }
    }

    pub fn parse(text: &str) -> Option<PauseMode> {
        [PauseMode::Immediate, PauseMode::PeriodEnd]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub mode: PauseMode,
    /// `false` while it waits for the period end (`scheduled`), `true` once in effect.
    pub in_effect: bool,
    pub requested_at: Timestamp,
    pub effective_at: Timestamp,
    /// `None`: until resumed.
    pub resume_at: Option<Timestamp>,
    /// What an immediate pause keeps to give back: the status and period it interrupted.
    pub status_before: SubscriptionStatus,
    pub period_before: Option<BillingPeriod>,
}

impl Pause {
    pub fn status(&self) -> &'static str {
        if self.in_effect {
            "active"
        } else {
            "scheduled"
        }
    }
}

/// `durationDays`: 1 to 3650, or `None` for a pause until resumed.
pub fn check_duration(days: Option<i64>) -> Result<(), DomainError> {
    match days {
        Some(days) if !(1..=PAUSE_DAYS_MAX).contains(&days) => Err(DomainError::field(
            "durationDays",
            format!("durationDays must be an integer from 1 to {PAUSE_DAYS_MAX}, or null"),
        )),
        _ => Ok(()),
    }
}

fn days_after(at: Timestamp, days: Option<i64>) -> Option<Timestamp> {
    days.map(|d| at.plus_millis(d * MILLIS_PER_DAY))
}

fn invalid(why: &'static str) -> DomainError {
    Conflict::InvalidStatus(why).into()
}

impl Subscription {
    pub fn is_paused(&self) -> bool {
        self.status == SubscriptionStatus::Paused
    }

    /// A pause waiting for the period end.
    pub fn pause_scheduled(&self) -> bool {
        self.pause.as_ref().is_some_and(|p| !p.in_effect)
    }

    /// Pauses now or at the period end (`lifecycle.md` §6): a paid recurring subscription,
    /// active or trialing, with no cancellation or plan change pending.
    pub fn pause(
        &self,
        mode: PauseMode,
        days: Option<i64>,
        now: Timestamp,
    ) -> Result<Subscription, DomainError> {
        if self.pause.is_some() {
            return Err(Conflict::AlreadyScheduled.into());
        }
        let period = match (self.status, self.current_period) {
            (SubscriptionStatus::Active | SubscriptionStatus::Trialing, Some(period))
                if !self.is_free()
                    && self
                        .billing_interval
                        .is_some_and(|interval| interval.is_recurring()) =>
            {
                period
            }
            _ => {
                return Err(invalid(
                    "only an active or trialing paid subscription can pause",
                ));
            }
        };
        if self.cancellation.is_some() {
            return Err(invalid("the subscription is scheduled to cancel"));
        }
        if self.scheduled_change.is_some() {
            return Err(invalid("the subscription has a plan change scheduled"));
        }
        let mut next = self.clone();
        let effective_at = match mode {
            PauseMode::Immediate => now,
            PauseMode::PeriodEnd => period.end,
        };
        next.pause = Some(Pause {
            mode,
            in_effect: mode == PauseMode::Immediate,
            requested_at: now,
            effective_at,
            resume_at: days_after(effective_at, days),
            status_before: self.status,
            period_before: (mode == PauseMode::Immediate).then_some(period),
        });
        if mode == PauseMode::Immediate {
            next.status = SubscriptionStatus::Paused;
            next.current_period = None;
        }
        next.updated_at = now;
        Ok(next)
    }

    /// A new duration, counted from when the pause took (or takes) effect.
    pub fn update_pause(
        &self,
        days: Option<i64>,
        now: Timestamp,
    ) -> Result<Subscription, DomainError> {
        let mut next = self.clone();
        let Some(pause) = next.pause.as_mut() else {
            return Err(invalid("the subscription has no pause to update"));
        };
        let resume_at = days_after(pause.effective_at, days);
        if resume_at.is_some_and(|at| at <= now) {
            return Err(DomainError::field(
                "durationDays",
                "durationDays would end the pause before now",
            ));
        }
        pause.resume_at = resume_at;
        next.updated_at = now;
        Ok(next)
    }

    /// Withdraws a pause that has not taken effect (one in effect is resumed instead).
    pub fn revoke_pause(&self, now: Timestamp) -> Result<Subscription, DomainError> {
        if !self.pause_scheduled() {
            return Err(invalid(
                "only a scheduled pause can be revoked; resume a paused subscription",
            ));
        }
        let mut next = self.clone();
        next.pause = None;
        next.updated_at = now;
        Ok(next)
    }

    /// Where a paused subscription goes back to at `at`. An immediate pause gives back the days
    /// it kept: the interrupted period moves by the paused time. A pause from the period end
    /// starts a new period at `at`, to be billed like a renewal (the second value says so).
    pub(crate) fn resumed(&self, at: Timestamp) -> (Subscription, bool) {
        let mut next = self.clone();
        let Some(pause) = next.pause.take() else {
            return (next, false);
        };
        next.updated_at = at;
        match (pause.mode, pause.period_before) {
            (PauseMode::Immediate, Some(before)) => {
                let shift = at.as_millis() - pause.effective_at.as_millis();
                let period = BillingPeriod {
                    start: before.start.plus_millis(shift),
                    end: before.end.plus_millis(shift),
                };
                next.status = pause.status_before;
                next.current_period = Some(period);
                next.anchor = period.start;
                next.period_index = 0;
                next.trial_ends_at = next.trial_ends_at.map(|end| {
                    if end > pause.effective_at {
                        end.plus_millis(shift)
                    } else {
                        end
                    }
                });
                if next.status == SubscriptionStatus::Trialing {
                    next.anchor = next.trial_ends_at.unwrap_or(period.end);
                }
                (next, false)
            }
            _ => {
                next.status = SubscriptionStatus::Active;
                next.anchor = at;
                next.period_index = 0;
                next.current_period = self.period_starting(at);
                next.usage_reset_at = None;
                next.refill();
                (next, true)
            }
        }
    }

    /// Resumes a paused subscription now (`lifecycle.md` §6); see [`Subscription::resumed`].
    pub fn resume(&self, now: Timestamp) -> Result<(Subscription, bool), DomainError> {
        if !self.is_paused() {
            return Err(invalid("only a paused subscription can be resumed"));
        }
        Ok(self.resumed(now))
    }

    /// A scheduled pause taking effect at the period end: no renewal, the subscription waits.
    pub(crate) fn start_scheduled_pause(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        if let Some(pause) = next.pause.as_mut() {
            pause.in_effect = true;
            pause.status_before = self.status;
        }
        next.status = SubscriptionStatus::Paused;
        next.current_period = None;
        next.usage_reset_at = None;
        next.updated_at = at;
        next
    }

    /// `nextBillingDate` of a paused subscription, or of one whose pause is scheduled: when it
    /// is billed again, if that is known.
    pub(crate) fn billing_after_pause(&self) -> Option<Timestamp> {
        let pause = self.pause.as_ref()?;
        let resume_at = pause.resume_at?;
        match (pause.mode, pause.period_before) {
            (PauseMode::Immediate, Some(before)) => {
                Some(resume_at.plus_millis(before.end.as_millis() - pause.effective_at.as_millis()))
            }
            _ => Some(resume_at),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{PlanId, PriceId};
    use crate::period::BillingInterval;
    use crate::subscription::{DeadlineKind, NewSubscription, SubscriptionId};
    use crate::{CustomerId, OrgId};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn monthly() -> Subscription {
        NewSubscription {
            id: SubscriptionId::from_stored("sub_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            plan_id: PlanId::from_stored("pln_1".into()),
            price_id: Some(PriceId::from_stored("pp_1".into())),
            name: "Pro".into(),
            description: None,
            billing_interval: Some(BillingInterval::Monthly),
            trial_days: 0,
            start_date: at("2026-09-01T00:00:00Z"),
            credits: None,
            balance: None,
            currency: "usd".to_owned(),
        }
        .start(at("2026-09-01T00:00:00Z"))
    }

    #[test]
    fn an_immediate_pause_gives_back_the_days_it_kept() {
        let paused = monthly()
            .pause(PauseMode::Immediate, None, at("2026-09-21T00:00:00Z"))
            .unwrap();
        assert_eq!(
            (paused.status, paused.current_period),
            (SubscriptionStatus::Paused, None)
        );
        assert_eq!(paused.next_deadline(), None, "indefinite: nothing is due");
        let (resumed, billed) = paused.resume(at("2026-09-28T00:00:00Z")).unwrap();
        assert!(!billed);
        let period = resumed.current_period.unwrap();
        assert_eq!(
            (period.start, period.end),
            (at("2026-09-08T00:00:00Z"), at("2026-10-08T00:00:00Z"))
        );
        assert_eq!(resumed.status, SubscriptionStatus::Active);
        assert_eq!(
            resumed.next_deadline(),
            Some((at("2026-10-08T00:00:00Z"), DeadlineKind::Renewal))
        );
    }

    #[test]
    fn a_period_end_pause_stops_the_renewal_and_resumes_into_a_new_period() {
        let scheduled = monthly()
            .pause(PauseMode::PeriodEnd, Some(14), at("2026-09-28T00:00:00Z"))
            .unwrap();
        assert_eq!(scheduled.status, SubscriptionStatus::Active);
        assert_eq!(
            scheduled.next_billing_date(),
            Some(at("2026-10-15T00:00:00Z"))
        );
        assert_eq!(
            scheduled.next_deadline(),
            Some((at("2026-10-01T00:00:00Z"), DeadlineKind::PauseStart))
        );
        let paused = scheduled.pass_deadline(DeadlineKind::PauseStart, at("2026-10-01T00:00:00Z"));
        assert_eq!(
            (paused.status, paused.current_period),
            (SubscriptionStatus::Paused, None)
        );
        assert_eq!(
            paused.next_deadline(),
            Some((at("2026-10-15T00:00:00Z"), DeadlineKind::Resume))
        );
        let resumed = paused.pass_deadline(DeadlineKind::Resume, at("2026-10-15T00:00:00Z"));
        let period = resumed.current_period.unwrap();
        assert_eq!(
            (period.start, period.end),
            (at("2026-10-15T00:00:00Z"), at("2026-11-15T00:00:00Z"))
        );
        assert_eq!(resumed.pause, None);
    }

    #[test]
    fn pauses_are_refused_where_the_contract_says() {
        let sub = monthly();
        let paused = sub
            .pause(PauseMode::PeriodEnd, None, at("2026-09-02T00:00:00Z"))
            .unwrap();
        assert_eq!(
            paused.pause(PauseMode::Immediate, None, at("2026-09-03T00:00:00Z")),
            Err(Conflict::AlreadyScheduled.into())
        );
        assert!(matches!(
            sub.revoke_pause(at("2026-09-03T00:00:00Z")),
            Err(DomainError::Conflict(Conflict::InvalidStatus(_)))
        ));
        assert!(matches!(
            sub.resume(at("2026-09-03T00:00:00Z")),
            Err(DomainError::Conflict(Conflict::InvalidStatus(_)))
        ));
        assert!(
            paused
                .update_pause(Some(1), at("2026-10-05T00:00:00Z"))
                .is_err(),
            "a resume before now"
        );
        assert!(check_duration(Some(0)).is_err() && check_duration(Some(3_651)).is_err());
        assert!(check_duration(None).is_ok() && check_duration(Some(14)).is_ok());
    }
}
