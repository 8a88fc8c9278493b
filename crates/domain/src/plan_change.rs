//! Plan changes (`lifecycle.md` §4): which changes happen at once and which wait for the
//! renewal, and what an immediate one costs. The unused part of the old base price is credited;
//! extra seats already paid for never are.

use crate::billing::{days_left, period_days};
use crate::catalog::{Plan, PlanId, PriceId};
use crate::money::{AmountTooLarge, Cents};
use crate::period::{BillingInterval, BillingPeriod};
use crate::subscription::{Subscription, SubscriptionStatus};
use crate::{Conflict, DomainError, Timestamp};

/// What a scheduled change does (`scheduledPlanChange.changeType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    PlanDowngrade,
    IntervalChange,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::PlanDowngrade => "plan_downgrade",
            ChangeType::IntervalChange => "interval_change",
        }
    }

    pub fn parse(text: &str) -> Option<ChangeType> {
        [ChangeType::PlanDowngrade, ChangeType::IntervalChange]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// A change waiting for the end of the period (or trial).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledChange {
    pub change_type: ChangeType,
    /// The plan after the change (the current one for an interval change).
    pub plan_id: PlanId,
    /// `None` when the target is a free plan.
    pub price_id: Option<PriceId>,
    pub billing_interval: Option<BillingInterval>,
    pub requested_at: Timestamp,
    pub effective_at: Timestamp,
}

impl ScheduledChange {
    /// The same change as `other`, whenever each was asked for.
    pub fn same_target(&self, other: &ScheduledChange) -> bool {
        self.change_type == other.change_type
            && self.plan_id == other.plan_id
            && self.price_id == other.price_id
            && self.billing_interval == other.billing_interval
            && self.effective_at == other.effective_at
    }
}

/// When a change takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    Immediate,
    Scheduled,
}

/// The order of billing intervals by length: a longer one is an upgrade.
fn interval_rank(interval: BillingInterval) -> u8 {
    match interval {
        BillingInterval::Weekly => 0,
        BillingInterval::Monthly => 1,
        BillingInterval::Quarterly => 2,
        BillingInterval::Semiannual => 3,
        BillingInterval::Yearly => 4,
        BillingInterval::OneTime => 5,
    }
}

/// Immediate or at renewal (`lifecycle.md` §4.2). Free plans have no interval (`None`).
/// A longer interval wins over the order; a higher `sortOrder` at the same interval is an
/// upgrade; paid → free always waits.
pub fn timing(
    current: &Plan,
    current_interval: Option<BillingInterval>,
    target: &Plan,
    target_interval: Option<BillingInterval>,
) -> Timing {
    match (current_interval, target_interval) {
        (None, _) => Timing::Immediate,
        (Some(_), None) => Timing::Scheduled,
        (Some(from), Some(to)) if from != to => {
            if interval_rank(to) > interval_rank(from) {
                Timing::Immediate
            } else {
                Timing::Scheduled
            }
        }
        (Some(_), Some(_)) => {
            if target.sort_order > current.sort_order {
                Timing::Immediate
            } else {
                Timing::Scheduled
            }
        }
    }
}

/// Whether a subscription may change plan now; the refusal says why (`lifecycle.md` §4.1).
pub fn check_changeable(subscription: &Subscription) -> Result<(), DomainError> {
    match subscription.status {
        SubscriptionStatus::Active | SubscriptionStatus::Trialing => {}
        SubscriptionStatus::Paused => {
            return Err(
                Conflict::InvalidStatus("the subscription is paused; resume it first").into(),
            );
        }
        _ => return Err(DomainError::NotActive),
    }
    if subscription.pause_scheduled() {
        return Err(Conflict::InvalidStatus("a pause is scheduled; revoke it first").into());
    }
    if subscription.cancellation.is_some() {
        return Err(Conflict::InvalidStatus(
            "the subscription is scheduled to cancel; revoke the cancellation first",
        )
        .into());
    }
    if subscription.billing_interval == Some(BillingInterval::OneTime) {
        return Err(Conflict::InvalidStatus("a one-time subscription cannot change plan").into());
    }
    Ok(())
}

/// The figures of an immediate change (`lifecycle.md` §4.3), in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChangeAmounts {
    /// The unused part of the base price paid for the current period.
    pub credit: Cents,
    /// The new period in advance: base price, extra seats, add-ons.
    pub charge: Cents,
    /// `charge − credit`, never below 0.
    pub net: Cents,
    /// What the credit exceeds the charge by.
    pub excess: Cents,
    /// Whole days left in the current period (`d`).
    pub days_left: i64,
    /// Whole days in the current period (`P`).
    pub period_days: i64,
}

/// `credit = round_half_up(paidBase × d / P)`: only the base price paid for the period, never
/// extra seats; `charge` is what the new period costs in advance. Without a current period
/// (nothing was paid for one) the credit is 0.
pub fn immediate_amounts(
    paid_base: Cents,
    period: Option<BillingPeriod>,
    at: Timestamp,
    charge: Cents,
) -> Result<ChangeAmounts, AmountTooLarge> {
    let (days, total) = match period {
        Some(period) => {
            let total = period_days(&period);
            (days_left(&period, at).clamp(0, total), total)
        }
        None => (0, 1),
    };
    let numerator = i128::from(paid_base.0.max(0)) * i128::from(days);
    let credit = (2 * numerator + i128::from(total)) / (2 * i128::from(total));
    let credit = Cents(i64::try_from(credit).map_err(|_| AmountTooLarge)?);
    if charge.0 < 0 {
        return Err(AmountTooLarge);
    }
    Ok(ChangeAmounts {
        credit,
        charge,
        net: Cents((charge.0 - credit.0).max(0)),
        excess: Cents((credit.0 - charge.0).max(0)),
        days_left: days,
        period_days: total,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OrgId;
    use crate::catalog::PlanGroupId;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn period(start: &str, end: &str) -> Option<BillingPeriod> {
        Some(BillingPeriod {
            start: at(start),
            end: at(end),
        })
    }

    fn plan(sort_order: i64) -> Plan {
        Plan {
            id: PlanId::from_stored(format!("pln_{sort_order}")),
            org_id: OrgId::new("org"),
            code: format!("p{sort_order}"),
            name: format!("P{sort_order}"),
            description: None,
            consumption_model: None,
            is_public: true,
            is_free: false,
            block_on_exhaustion: None,
            metadata: None,
            group: Some(PlanGroupId::from_stored("plg_1".into())),
            sort_order,
            created_at: at("2026-01-01T00:00:00Z"),
            updated_at: at("2026-01-01T00:00:00Z"),
        }
    }

    #[test]
    fn the_knowledge_base_examples_come_out_to_the_cent() {
        let sep = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let mid = at("2026-09-16T00:00:00Z");
        // Starter 2900 → Pro 9900.
        let a = immediate_amounts(Cents(2_900), sep, mid, Cents(9_900)).unwrap();
        assert_eq!(
            (a.credit, a.net, a.days_left, a.period_days),
            (Cents(1_450), Cents(8_450), 15, 30)
        );
        // Pro 9900 → Business 29900 with 8 seats (none extra on Business): $249.50.
        let b = immediate_amounts(Cents(9_900), sep, mid, Cents(29_900)).unwrap();
        assert_eq!(
            (b.credit, b.charge, b.net),
            (Cents(4_950), Cents(29_900), Cents(24_950))
        );
        // Pro paid at half price: what was paid is credited.
        let c = immediate_amounts(Cents(4_950), sep, mid, Cents(29_900)).unwrap();
        assert_eq!((c.credit, c.net), (Cents(2_475), Cents(27_425)));
        // 12 seats: two extra on Business at $20, in advance.
        let d = immediate_amounts(Cents(9_900), sep, mid, Cents(29_900 + 2 * 2_000)).unwrap();
        assert_eq!(d.net, Cents(28_950));
        // Quarterly 30000 → 60000 on Feb 15 of Jan 1 – Apr 1.
        let q = period("2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z");
        let e =
            immediate_amounts(Cents(30_000), q, at("2026-02-15T00:00:00Z"), Cents(60_000)).unwrap();
        assert_eq!(
            (e.credit, e.net, e.days_left, e.period_days),
            (Cents(15_000), Cents(45_000), 45, 90)
        );
    }

    #[test]
    fn a_credit_larger_than_the_charge_is_excess_and_nothing_is_owed() {
        let sep = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let a = immediate_amounts(
            Cents(29_900),
            sep,
            at("2026-09-01T00:00:00Z"),
            Cents(19_900),
        )
        .unwrap();
        assert_eq!(
            (a.credit, a.net, a.excess),
            (Cents(29_900), Cents(0), Cents(10_000))
        );
        // No period paid for (a trial, a free plan): no credit.
        let t = immediate_amounts(Cents(0), sep, at("2026-09-10T00:00:00Z"), Cents(9_900)).unwrap();
        assert_eq!((t.credit, t.net), (Cents(0), Cents(9_900)));
    }

    #[test]
    fn the_interval_decides_before_the_order_and_free_targets_wait() {
        use BillingInterval::{Monthly, Quarterly, Weekly, Yearly};
        let (low, high) = (plan(0), plan(1));
        assert_eq!(
            timing(&low, Some(Monthly), &high, Some(Monthly)),
            Timing::Immediate
        );
        assert_eq!(
            timing(&high, Some(Monthly), &low, Some(Monthly)),
            Timing::Scheduled
        );
        assert_eq!(
            timing(&low, Some(Monthly), &plan(0), Some(Monthly)),
            Timing::Scheduled
        );
        assert_eq!(
            timing(&high, Some(Monthly), &low, Some(Yearly)),
            Timing::Immediate
        );
        assert_eq!(
            timing(&low, Some(Quarterly), &high, Some(Weekly)),
            Timing::Scheduled
        );
        assert_eq!(timing(&low, Some(Monthly), &high, None), Timing::Scheduled);
        assert_eq!(timing(&high, None, &low, Some(Monthly)), Timing::Immediate);
        assert_eq!(timing(&high, None, &low, None), Timing::Immediate);
    }
}
