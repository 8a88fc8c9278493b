//! Usage metering (`usage.md`): metered features counted per usage period, what one more unit
//! costs under each consumption model, the limits a track must respect, and the threshold
//! crossings that raise webhooks. Pure: callers pass the counter, the ledgers and "now".

use crate::catalog::{ConsumptionModel, Plan};
use crate::money::{AmountTooLarge, Rate, bounded};
use crate::period::{BillingInterval, BillingPeriod};
use crate::subscription::{FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus};
use crate::{CustomerId, DomainError, OrgId, Timestamp};

/// Largest `value` one track may add, and the largest `quantity` a check may ask about
/// (`usage.md` §3.1).
pub const TRACK_VALUE_MAX: i64 = 1_000_000_000;
/// Largest value `PUT /usage` may set a counter to.
pub const SET_VALUE_MAX: i64 = 1_000_000_000_000;
/// Length bounds of an event key (`eventId`, legacy `idempotencyKey`).
pub const EVENT_KEY_CHARS_MAX: usize = 255;
/// Most properties one event may carry, and their bounds.
pub const PROPERTIES_MAX: usize = 50;
pub const PROPERTY_NAME_CHARS_MAX: usize = 100;
pub const PROPERTY_VALUE_CHARS_MAX: usize = 500;
/// Longest `reason` of a set.
pub const REASON_CHARS_MAX: usize = 500;

crate::ids::prefixed_id!(
    /// A recorded usage event or adjustment, `evt_…`.
    UsageEventId,
    "evt_"
);

impl UsageEventId {
    /// The `evp_…` id of the event's `n`th property in legacy answers: the event's ULID
    /// counted on, so every property has a well-formed id of its own without storing one.
    pub fn property_id(&self, n: usize) -> String {
        let ulid = self
            .as_str()
            .strip_prefix(Self::PREFIX)
            .and_then(|text| ulid::Ulid::from_string(text).ok())
            .unwrap_or_default();
        let next = (0..=n).try_fold(ulid, |u, _| u.increment()).unwrap_or(ulid);
        format!("evp_{next}")
    }
}

/// One name/value pair attached to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageProperty {
    pub property: String,
    pub value: String,
}

/// What an event did to its counter: a tracked amount, or a set (an adjustment from
/// `previous` to the new value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageEventKind {
    Track,
    Set { previous: i64 },
}

/// What a track took from the credits or balance ledger (`usage.md` §3.2 `consumption`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumption {
    pub model: ConsumptionModel,
    /// Credits, or the balance's rate-scale amount.
    pub deducted: i64,
    /// Credits left, or the balance (which may be negative).
    pub remaining: i64,
    /// One more unit would now be refused.
    pub blocked: bool,
}

/// A stored usage event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    pub id: UsageEventId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub subscription_id: SubscriptionId,
    pub feature_code: String,
    pub kind: UsageEventKind,
    /// Tracked units, or the value a set wrote.
    pub value: i64,
    /// `eventId` (legacy `idempotencyKey`): unique in the organization, forever.
    pub event_key: Option<String>,
    pub reason: Option<String>,
    pub properties: Vec<UsageProperty>,
    pub consumption: Option<Consumption>,
    /// The client's timestamp when it sent one, else the arrival time.
    pub ts: Timestamp,
    pub created_at: Timestamp,
    /// The usage period the event counted toward.
    pub period_start: Timestamp,
}

/// A feature's counter in one usage period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageCounter {
    pub subscription_id: SubscriptionId,
    pub feature_code: String,
    pub period: BillingPeriod,
    pub used: i64,
    /// Rate-scale amount taken from the balance by tracks this period (`spent`).
    pub spent: i64,
    /// `quota.threshold_reached` and `quota.exceeded` fire once per period.
    pub threshold_fired: bool,
    pub exceeded_fired: bool,
    pub updated_at: Timestamp,
}

impl UsageCounter {
    /// A period's counter before anything was tracked in it.
    pub fn empty(subscription: &SubscriptionId, code: &str, period: BillingPeriod) -> Self {
        UsageCounter {
            subscription_id: subscription.clone(),
            feature_code: code.to_owned(),
            period,
            used: 0,
            spent: 0,
            threshold_fired: false,
            exceeded_fired: false,
            updated_at: period.start,
        }
    }
}

/// The usage period containing `at` (`usage.md` §2.2): the billing period on weekly plans,
/// otherwise calendar months from the anchor; during a trial, months from the start cut at the
/// trial's end. `None` for a subscription that has ended.
pub fn usage_period(subscription: &Subscription, at: Timestamp) -> Option<BillingPeriod> {
    if !subscription.status.is_live() {
        return None;
    }
    if let Some(trial_end) = subscription.trial_ends_at.filter(|end| at < *end) {
        let (_, period) = BillingInterval::Monthly.period_at(subscription.start_date, at)?;
        return Some(BillingPeriod {
            start: period.start,
            end: period.end.min(trial_end),
        });
    }
    let interval = match subscription.billing_interval {
        Some(BillingInterval::Weekly) => BillingInterval::Weekly,
        _ => BillingInterval::Monthly,
    };
    interval
        .period_at(subscription.anchor, at)
        .map(|(_, period)| period)
}

/// Whether units past the included amount are sold rather than refused (`usage.md` §2.4
/// `overageBillable`): overage on, not unlimited, a paid plan, not in a trial.
pub fn overage_billable(
    feature: &FeatureSnapshot,
    plan: &Plan,
    subscription: &Subscription,
) -> bool {
    feature.overage.enabled
        && !feature.unlimited
        && !plan.is_free
        && !subscription.is_free()
        && subscription.status != SubscriptionStatus::Trialing
}

/// Whether a balance plan refuses a track the balance cannot pay for (`usage.md` §2.3 `blocks`).
pub fn balance_blocks(plan: &Plan, subscription: &Subscription) -> bool {
    plan.block_on_exhaustion == Some(true)
        || plan.is_free
        || subscription.status == SubscriptionStatus::Trialing
}

/// Everything one feature's usage decisions read.
#[derive(Debug, Clone, Copy)]
pub struct Meter<'a> {
    pub feature: &'a FeatureSnapshot,
    pub model: ConsumptionModel,
    pub used: i64,
    pub overage_billable: bool,
    /// Credits per unit on credits plans (null reads as 1).
    pub credits_per_unit: i64,
    /// Credits left (plan first, then purchased) on credits plans.
    pub credits_total: i64,
    /// The balance (rate scale) on balance plans; may be negative.
    pub balance: i64,
    pub balance_blocks: bool,
}

/// Why one more unit (or `quantity` units) would be refused (`usage.md` §2.4 `reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    IncludedLimitReached,
    InsufficientCredits,
    InsufficientBalance,
}

impl Denial {
    pub fn as_str(self) -> &'static str {
        match self {
            Denial::IncludedLimitReached => "included_limit_reached",
            Denial::InsufficientCredits => "insufficient_credits",
            Denial::InsufficientBalance => "insufficient_balance",
        }
    }
}

/// The outcome of `quantity` more units, before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    pub denial: Option<Denial>,
    /// Credits or rate-scale amount the units would take from the ledger.
    pub cost: i64,
}

impl Meter<'_> {
    /// The balance plan's price of one unit: the plan feature's overage unit price, rate scale
    /// (`usage.md` §2.3; null is free).
    pub fn unit_price(&self) -> i64 {
        self.feature.overage.unit_price.map_or(0, |r| r.0.max(0))
    }

    /// Units still included: `max(0, included − used)`.
    pub fn remaining(&self) -> i64 {
        (self.feature.included_amount - self.used).max(0)
    }

    /// What `quantity` more units would cost and whether they would be refused.
    pub fn judge(&self, quantity: i64) -> Result<Verdict, AmountTooLarge> {
        let wide = |a: i64, b: i64| bounded(i128::from(a) * i128::from(b));
        Ok(match self.model {
            ConsumptionModel::Metered => {
                let after = i128::from(self.used) + i128::from(quantity);
                let over = after > i128::from(self.feature.included_amount);
                let refused = over && !self.feature.unlimited && !self.overage_billable;
                Verdict {
                    denial: refused.then_some(Denial::IncludedLimitReached),
                    cost: 0,
                }
            }
            ConsumptionModel::Credits => {
                let cost = wide(quantity, self.credits_per_unit)?;
                Verdict {
                    denial: (cost > self.credits_total).then_some(Denial::InsufficientCredits),
                    cost,
                }
            }
            ConsumptionModel::Balance => {
                let cost = wide(quantity, self.unit_price())?;
                let refused = self.balance_blocks && i128::from(cost) > i128::from(self.balance);
                Verdict {
                    denial: refused.then_some(Denial::InsufficientBalance),
                    cost,
                }
            }
        })
    }

    /// The refusal a track of `quantity` gets, with the figures its `details` carry.
    pub fn refusal(&self, denial: Denial, quantity: i64, cost: i64) -> DomainError {
        let code = self.feature.code.clone();
        match denial {
            Denial::IncludedLimitReached => DomainError::UsageLimitReached {
                feature_code: code,
                current: self.used,
                included: self.feature.included_amount,
                remaining: self.remaining(),
                requested: quantity,
            },
            Denial::InsufficientCredits => DomainError::UsageUnaffordable {
                feature_code: code,
                is_credits: true,
                requested: quantity,
                required: cost,
                available: self.credits_total,
            },
            Denial::InsufficientBalance => DomainError::UsageUnaffordable {
                feature_code: code,
                is_credits: false,
                requested: quantity,
                required: cost,
                available: self.balance,
            },
        }
    }

    /// How many more units the ledger pays for (`availableUnits`); `None` where that is not
    /// a number (a free unit price).
    pub fn available_units(&self) -> Option<i64> {
        match self.model {
            ConsumptionModel::Metered => None,
            ConsumptionModel::Credits => {
                Some(self.credits_total.max(0) / self.credits_per_unit.max(1))
            }
            ConsumptionModel::Balance => {
                let price = self.unit_price();
                (price > 0).then(|| self.balance.max(0) / price)
            }
        }
    }

    /// Whether one more unit would be accepted (`usage.md` §2.4 `allowed`).
    pub fn allows_one_more(&self) -> bool {
        self.feature.enabled && self.judge(1).is_ok_and(|v| v.denial.is_none())
    }

    /// Whether one more unit would be charged beyond the plan (`canUse` `willBeCharged`).
    pub fn one_more_is_charged(&self) -> bool {
        match self.model {
            ConsumptionModel::Metered => {
                self.overage_billable && self.used.saturating_add(1) > self.feature.included_amount
            }
            ConsumptionModel::Credits => false,
            ConsumptionModel::Balance => !self.balance_blocks && self.balance < self.unit_price(),
        }
    }
}

/// The webhooks a metered counter's move from `previous` to `new` raises this period
/// (`usage.md` §7): `quota.threshold_reached` at 80 % of the included amount, `quota.exceeded`
/// past it (at it, for a hard limit), each at most once per period; a move that crosses both
/// raises only the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Crossings {
    pub threshold: bool,
    pub exceeded: bool,
}

pub fn crossings(counter: &UsageCounter, previous: i64, new: i64, meter: &Meter<'_>) -> Crossings {
    let included = meter.feature.included_amount;
    if meter.model != ConsumptionModel::Metered || meter.feature.unlimited || included <= 0 {
        return Crossings::default();
    }
    let exceeded = !counter.exceeded_fired
        && if meter.overage_billable {
            previous <= included && new > included
        } else {
            previous < included && new >= included
        };
    let eighty = 8 * i128::from(included);
    let threshold = !exceeded
        && !counter.threshold_fired
        && 10 * i128::from(previous) < eighty
        && eighty <= 10 * i128::from(new);
    Crossings {
        threshold,
        exceeded,
    }
}

/// Units billed in arrears for a metered period (`usage.md` §5): `max(0, used − included)`
/// when overage is billable, else none.
pub fn overage_units(used: i64, feature: &FeatureSnapshot, billable: bool) -> i64 {
    if billable && !feature.unlimited {
        (used - feature.included_amount).max(0)
    } else {
        0
    }
}

/// The amount of a balance track, in rate units, for the `spent` figure.
pub fn spent_after(spent: i64, cost: i64) -> Result<i64, AmountTooLarge> {
    bounded(i128::from(spent) + i128::from(cost))
}

/// A balance after a deduction; may go below zero when the plan does not block.
pub fn balance_after(balance: Rate, cost: i64) -> Result<Rate, AmountTooLarge> {
    bounded(i128::from(balance.0) - i128::from(cost)).map(Rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FeatureId, FeatureType, Overage};

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn calls(included: i64, overage: bool) -> FeatureSnapshot {
        FeatureSnapshot {
            feature_id: FeatureId::from_stored("ftr_1".into()),
            code: "api_calls".into(),
            name: "API calls".into(),
            feature_type: FeatureType::Usage,
            unit_name: Some("call".into()),
            enabled: true,
            included_amount: included,
            unlimited: false,
            overage: Overage {
                enabled: overage,
                unit_price: overage.then_some(Rate(100)),
            },
            credits_per_unit: None,
            pricing_mode: "fixed".to_owned(),
        }
    }

    fn meter(feature: &FeatureSnapshot, used: i64, billable: bool) -> Meter<'_> {
        Meter {
            feature,
            model: ConsumptionModel::Metered,
            used,
            overage_billable: billable,
            credits_per_unit: 1,
            credits_total: 0,
            balance: 0,
            balance_blocks: false,
        }
    }

    #[test]
    fn a_hard_limit_refuses_the_unit_past_it_and_overage_accepts_it() {
        let hard = calls(1000, false);
        let soft = calls(1000, true);

        assert_eq!(meter(&hard, 990, false).judge(10).unwrap().denial, None);
        assert_eq!(
            meter(&hard, 1000, false).judge(1).unwrap().denial,
            Some(Denial::IncludedLimitReached)
        );
        assert_eq!(meter(&soft, 1000, true).judge(1).unwrap().denial, None);
        assert!(meter(&soft, 1000, true).one_more_is_charged());
        assert!(!meter(&hard, 999, false).one_more_is_charged());
    }

    #[test]
    fn credits_and_balance_cost_units_and_refuse_what_they_cannot_pay() {
        let feature = calls(0, false);
        let credits = Meter {
            model: ConsumptionModel::Credits,
            credits_per_unit: 10,
            credits_total: 50,
            ..meter(&feature, 95, false)
        };
        let verdict = credits.judge(6).unwrap();
        assert_eq!(
            (verdict.cost, verdict.denial),
            (60, Some(Denial::InsufficientCredits))
        );
        assert_eq!(credits.available_units(), Some(5));

        let priced = FeatureSnapshot {
            overage: Overage {
                enabled: false,
                unit_price: Some(Rate(500)),
            },
            ..calls(0, false)
        };
        let balance = Meter {
            model: ConsumptionModel::Balance,
            balance: 25_000,
            balance_blocks: true,
            ..meter(&priced, 950, false)
        };
        assert_eq!(
            balance.judge(100).unwrap(),
            Verdict {
                denial: Some(Denial::InsufficientBalance),
                cost: 50_000
            }
        );
        let open = Meter {
            balance_blocks: false,
            ..balance
        };
        assert_eq!(open.judge(100).unwrap().denial, None);
        assert!(
            !open.one_more_is_charged(),
            "the balance still pays for a unit"
        );
    }

    #[test]
    fn thresholds_fire_once_and_exceeding_wins_over_the_threshold() {
        let soft = calls(10_000, true);
        let empty = UsageCounter::empty(
            &SubscriptionId::from_stored("sub_1".into()),
            "api_calls",
            BillingPeriod {
                start: at("2026-09-01T00:00:00Z"),
                end: at("2026-10-01T00:00:00Z"),
            },
        );
        let m = meter(&soft, 0, true);

        assert_eq!(
            crossings(&empty, 0, 8_500, &m),
            Crossings {
                threshold: true,
                exceeded: false
            }
        );
        assert_eq!(
            crossings(&empty, 0, 12_000, &m),
            Crossings {
                threshold: false,
                exceeded: true
            }
        );
        let fired = UsageCounter {
            threshold_fired: true,
            ..empty.clone()
        };
        assert_eq!(crossings(&fired, 8_500, 9_000, &m), Crossings::default());
        // A hard limit counts reaching it as exceeding it.
        let hard = calls(1000, false);
        assert!(crossings(&empty, 990, 1000, &meter(&hard, 990, false)).exceeded);
    }

    #[test]
    fn usage_periods_are_months_from_the_anchor_and_cut_at_a_trial_end() {
        use crate::subscription::NewSubscription;
        let new = |interval, trial_days| NewSubscription {
            id: SubscriptionId::from_stored("sub_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            plan_id: crate::catalog::PlanId::from_stored("pln_1".into()),
            price_id: Some(crate::catalog::PriceId::from_stored("pp_1".into())),
            name: "Scale".into(),
            description: None,
            billing_interval: Some(interval),
            trial_days,
            start_date: at("2026-09-01T00:00:00Z"),
            credits: None,
            balance: None,
            currency: "usd".to_owned(),
        };
        let quarterly = new(BillingInterval::Quarterly, 0).start(at("2026-09-01T00:00:00Z"));
        let trial = new(BillingInterval::Monthly, 14).start(at("2026-09-01T00:00:00Z"));

        assert_eq!(
            usage_period(&quarterly, at("2026-10-15T00:00:00Z")),
            Some(BillingPeriod {
                start: at("2026-10-01T00:00:00Z"),
                end: at("2026-11-01T00:00:00Z"),
            })
        );
        assert_eq!(
            usage_period(&trial, at("2026-09-03T00:00:00Z")).map(|p| p.end),
            Some(at("2026-09-15T00:00:00Z"))
        );
    }

    #[test]
    fn overage_units_are_the_excess_only_when_billable() {
        let soft = calls(10_000, true);
        assert_eq!(overage_units(12_000, &soft, true), 2_000);
        assert_eq!(overage_units(12_000, &soft, false), 0);
        assert_eq!(overage_units(9_000, &soft, true), 0);
    }
}
