//! Subscriptions: status, billing periods, trials, cancellation and the deadlines that move
//! them (`catalog.md` §5–§6). Pure: the caller supplies "now" and the plan data.

use crate::catalog::{FeatureId, FeatureType, Overage, PlanId, PriceId};
use crate::error::Conflict;
use crate::money::{AmountTooLarge, MONEY_MAX, Rate, bounded};
use crate::period::{BillingInterval, BillingPeriod};
use crate::{CustomerId, DomainError, OrgId, Timestamp};
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(String);

impl SubscriptionId {
    pub const PREFIX: &'static str = "sub_";

    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("{}{ulid}", Self::PREFIX))
    }

    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix(Self::PREFIX)?;
        ulid::Ulid::from_string(rest).ok()?;
        Some(Self(text.to_owned()))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SubscriptionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SubscriptionStatus {
    Draft,
    PendingPayment,
    Trialing,
    Active,
    PastDue,
    Canceled,
    /// Paused (`lifecycle.md` §6): no periods, no billing, nothing may be used.
    Paused,
}

impl SubscriptionStatus {
    /// Whether `payments.charge` may charge the customer of a subscription in this status
    /// (`payments.md` §7).
    pub fn may_be_charged(self) -> bool {
        matches!(
            self,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing | SubscriptionStatus::PastDue
        )
    }

    pub const ALL: [SubscriptionStatus; 7] = [
        SubscriptionStatus::Draft,
        SubscriptionStatus::PendingPayment,
        SubscriptionStatus::Trialing,
        SubscriptionStatus::Active,
        SubscriptionStatus::PastDue,
        SubscriptionStatus::Canceled,
        SubscriptionStatus::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionStatus::Draft => "draft",
            SubscriptionStatus::PendingPayment => "pending_payment",
            SubscriptionStatus::Trialing => "trialing",
            SubscriptionStatus::Active => "active",
            SubscriptionStatus::PastDue => "past_due",
            SubscriptionStatus::Canceled => "canceled",
            SubscriptionStatus::Paused => "paused",
        }
    }

    pub fn parse(text: &str) -> Option<SubscriptionStatus> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Live statuses block a second subscription (`catalog.md` §5.1).
    pub fn is_live(self) -> bool {
        self != SubscriptionStatus::Canceled
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancellation {
    pub scheduled_at: Timestamp,
    pub reason: Option<String>,
    pub effective_at: Timestamp,
}

/// Prepaid credits of a credits plan (whole credits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Credits {
    pub remaining: i64,
    pub included: i64,
    pub purchased: i64,
}

/// Prepaid balance of a balance plan (rate scale).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrepaidBalance {
    pub remaining: Rate,
    pub included: Rate,
}

/// A plan feature as the subscription holds it for the current period (`seats.md` §1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeatureSnapshot {
    pub feature_id: FeatureId,
    pub code: String,
    pub name: String,
    pub feature_type: FeatureType,
    pub unit_name: Option<String>,
    pub enabled: bool,
    pub included_amount: i64,
    pub unlimited: bool,
    pub overage: Overage,
    /// Credits one unit of a usage feature costs on a credits plan (`None` reads as 1).
    pub credits_per_unit: Option<i64>,
    /// `fixed` (units) or `ai_model` (model token counts, `usage.md` §3.2).
    pub pricing_mode: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub plan_id: PlanId,
    /// `None` for free plans.
    pub price_id: Option<PriceId>,
    pub name: String,
    pub description: Option<String>,
    pub status: SubscriptionStatus,
    /// `None` for free plans, whose periods are monthly (`catalog.md` §6).
    pub billing_interval: Option<BillingInterval>,
    pub start_date: Timestamp,
    pub trial_ends_at: Option<Timestamp>,
    /// Where billing periods are counted from: the start, or the trial's end.
    pub anchor: Timestamp,
    pub period_index: u32,
    /// `None` for `one_time` and canceled subscriptions.
    pub current_period: Option<BillingPeriod>,
    pub cancellation: Option<Cancellation>,
    pub canceled_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    pub credits: Option<Credits>,
    pub balance: Option<PrepaidBalance>,
    /// The currency it is billed in, decided at creation (`commerce.md` §2); its overage unit
    /// prices and balance are held in it.
    pub currency: String,
    /// The last usage period end passed inside the current billing period (plans billed less
    /// often than monthly, and one-time prices, `usage.md` §5); `None` since the billing
    /// period began.
    pub usage_reset_at: Option<Timestamp>,
    /// A plan or interval change waiting for the end of the period (`lifecycle.md` §4.4).
    pub scheduled_change: Option<crate::plan_change::ScheduledChange>,
    /// A pause scheduled or in effect (`lifecycle.md` §6).
    pub pause: Option<crate::pause::Pause>,
    /// While `past_due`: the unpaid invoice and its retries (`payments.md` §6).
    pub dunning: Option<crate::dunning::Dunning>,
    /// A trial waiting for its checkout (`pending_payment`): its length in days, which start
    /// when a card is saved (`payments.md` §5).
    pub checkout_trial_days: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What the plan and price say about a new subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubscription {
    pub id: SubscriptionId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub plan_id: PlanId,
    pub price_id: Option<PriceId>,
    pub name: String,
    pub description: Option<String>,
    pub billing_interval: Option<BillingInterval>,
    pub trial_days: i64,
    pub start_date: Timestamp,
    pub credits: Option<Credits>,
    pub balance: Option<PrepaidBalance>,
    pub currency: String,
}

/// The interval periods are counted in: the price's, or monthly for free plans.
fn period_interval(billing_interval: Option<BillingInterval>) -> BillingInterval {
    billing_interval.unwrap_or(BillingInterval::Monthly)
}

impl NewSubscription {
    /// Starts the subscription at `now`: trialing when there are trial days, else active with
    /// the period that contains `now` counted from the start date.
    pub fn start(self, now: Timestamp) -> Subscription {
        let interval = period_interval(self.billing_interval);
        let trial_ends_at = (self.trial_days > 0).then(|| {
            self.start_date
                .plus_millis(self.trial_days * crate::time::MILLIS_PER_DAY)
        });
        let (status, anchor, period_index, current_period) = match trial_ends_at {
            Some(end) => (
                SubscriptionStatus::Trialing,
                end,
                0,
                Some(BillingPeriod {
                    start: self.start_date,
                    end,
                }),
            ),
            None => {
                let found = interval.period_at(self.start_date, now);
                (
                    SubscriptionStatus::Active,
                    self.start_date,
                    found.map_or(0, |(n, _)| n),
                    found.map(|(_, p)| p),
                )
            }
        };
        Subscription {
            id: self.id,
            org_id: self.org_id,
            customer_id: self.customer_id,
            plan_id: self.plan_id,
            price_id: self.price_id,
            name: self.name,
            description: self.description,
            status,
            billing_interval: self.billing_interval,
            start_date: self.start_date,
            trial_ends_at,
            anchor,
            period_index,
            current_period,
            cancellation: None,
            canceled_at: None,
            ended_at: None,
            credits: self.credits,
            balance: self.balance,
            currency: self.currency,
            usage_reset_at: None,
            scheduled_change: None,
            pause: None,
            dunning: None,
            checkout_trial_days: None,
            created_at: now,
            updated_at: now,
        }
    }
}

/// Which ledger an adjustment moves (`balance.md` §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LedgerKind {
    Credits,
    Balance,
}

impl LedgerKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "credits" => Some(LedgerKind::Credits),
            "balance" => Some(LedgerKind::Balance),
            _ => None,
        }
    }
}

impl Subscription {
    /// Statuses in which the ledgers may move (`balance.md` §2).
    pub fn may_adjust(&self) -> bool {
        matches!(
            self.status,
            SubscriptionStatus::Trialing | SubscriptionStatus::Active | SubscriptionStatus::PastDue
        )
    }

    /// Adds a signed amount to the credits or the balance; returns the new subscription and
    /// the ledger's new remaining amount. Never goes below zero, and neither the amount nor the
    /// remaining amount may exceed `MONEY_MAX` (a `validation_error` on `amount`).
    pub fn adjust(
        &self,
        kind: LedgerKind,
        amount: i64,
        now: Timestamp,
    ) -> Result<(Subscription, i64), DomainError> {
        if !self.may_adjust() {
            return Err(DomainError::NotActive);
        }
        if amount.unsigned_abs() > MONEY_MAX.unsigned_abs() {
            return Err(AmountTooLarge.at("amount"));
        }
        let mut next = self.clone();
        next.updated_at = now;
        // Both terms are at most `MONEY_MAX` apart from rows written before the bound existed;
        // the sum is taken wide, so even those cannot wrap.
        let sum = |remaining: i64| {
            bounded(i128::from(remaining) + i128::from(amount)).map_err(|e| e.at("amount"))
        };
        let remaining = match kind {
            LedgerKind::Credits => {
                let credits = next.credits.as_mut().ok_or_else(|| {
                    DomainError::field("type", "this subscription's plan has no credits")
                })?;
                let remaining = sum(credits.remaining)?;
                if remaining < 0 {
                    return Err(DomainError::InsufficientFunds {
                        is_credits: true,
                        remaining: credits.remaining,
                        requested: -amount,
                    });
                }
                credits.remaining = remaining;
                // Removals take plan credits first, then purchased ones.
                credits.purchased = credits.purchased.min(remaining);
                remaining
            }
            LedgerKind::Balance => {
                let balance = next.balance.as_mut().ok_or_else(|| {
                    DomainError::field("type", "this subscription's plan has no balance")
                })?;
                let remaining = sum(balance.remaining.0)?;
                if remaining < 0 {
                    return Err(DomainError::InsufficientFunds {
                        is_credits: false,
                        remaining: balance.remaining.0,
                        requested: -amount,
                    });
                }
                balance.remaining = Rate(remaining);
                remaining
            }
        };
        Ok((next, remaining))
    }
}

/// Something that happens to a subscription at a known instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadlineKind {
    TrialEnd,
    Renewal,
    Cancellation,
    /// A usage period ends inside a longer billing period: its usage is billed and the
    /// ledgers refill, the billing period goes on (`usage.md` §5).
    UsageReset,
    /// A pause scheduled for the period end takes effect instead of the renewal
    /// (`lifecycle.md` §6).
    PauseStart,
    /// A pause with a duration ends.
    Resume,
    /// A past-due invoice is charged again (`payments.md` §6); the outcome is the charge's,
    /// so it is never passed in memory (`as_of`).
    DunningRetry,
    /// A subscription waiting for its checkout ends unpaid (`payments.md` §5).
    CheckoutExpiry,
}

impl DeadlineKind {
    /// The test-clock run item's `outcome` (`catalog.md` §7).
    pub fn outcome(self) -> &'static str {
        match self {
            DeadlineKind::TrialEnd => "trial_ended",
            DeadlineKind::Renewal => "renewed",
            DeadlineKind::Cancellation => "canceled",
            DeadlineKind::UsageReset => "usage_reset",
            DeadlineKind::PauseStart => "paused",
            DeadlineKind::Resume => "resumed",
            DeadlineKind::DunningRetry => "dunning_retry",
            DeadlineKind::CheckoutExpiry => "checkout_expired",
        }
    }
}

/// `cancelReason` of a subscription whose last automatic retry was declined.
pub const DUNNING_EXHAUSTED: &str = "dunning_exhausted";
/// `cancelReason` of a subscription whose checkout was never paid.
pub const CHECKOUT_EXPIRED: &str = "checkout_expired";
/// How long the checkout of a one-time price stays open.
const CHECKOUT_DAYS_ONE_TIME: i64 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Most deadlines `Subscription::as_of` passes in memory (over 80 years of monthly periods).
const AS_OF_DEADLINES_MAX: usize = 1_000;

/// First wait after a deadline fails; each further failure in a row doubles it.
pub const DEADLINE_RETRY_DELAY_FIRST_MS: i64 = 60 * 1_000;
/// Longest wait between two attempts at a failing deadline.
pub const DEADLINE_RETRY_DELAY_MAX_MS: i64 = 60 * 60 * 1_000;
/// The recorded error is cut to this many characters.
pub const DEADLINE_ERROR_CHARS_MAX: usize = 500;

/// A deadline that could not be passed (its invoice would exceed the money bound, say): how
/// many attempts in a row failed, the last error, and the instant (organization time) before
/// which it is not tried again. Until then the deadline is skipped, so one subscription that
/// cannot be billed never holds up the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineFailure {
    pub failures: i64,
    pub last_error: String,
    pub retry_at: Timestamp,
}

impl DeadlineFailure {
    /// The record after one more failed attempt at `at`. Decision: the wait starts at one
    /// minute and doubles up to an hour: a passing fault (a lock, a restart) is retried
    /// soon, and one that needs a person (a catalog change) costs one attempt an hour.
    pub fn after(previous: Option<&DeadlineFailure>, error: &str, at: Timestamp) -> Self {
        let failures = previous.map_or(0, |p| p.failures).saturating_add(1);
        let doublings = u32::try_from(failures - 1).unwrap_or(u32::MAX).min(32);
        let delay = DEADLINE_RETRY_DELAY_FIRST_MS
            .saturating_mul(1_i64 << doublings)
            .min(DEADLINE_RETRY_DELAY_MAX_MS);
        DeadlineFailure {
            failures,
            last_error: error.chars().take(DEADLINE_ERROR_CHARS_MAX).collect(),
            retry_at: at.plus_millis(delay),
        }
    }
}

impl Subscription {
    pub fn is_free(&self) -> bool {
        self.price_id.is_none()
    }

    pub fn cancel_at_period_end(&self) -> bool {
        self.cancellation.is_some() && self.status.is_live()
    }

    /// `nextBillingDate`: the period end of a recurring paid subscription that is not scheduled
    /// to cancel (`catalog.md` §6).
    pub fn next_billing_date(&self) -> Option<Timestamp> {
        if self.is_free()
            || self.cancel_at_period_end()
            || !self.status.is_live()
            || self.status == SubscriptionStatus::PendingPayment
        {
            return None;
        }
        if self.pause.is_some() {
            return self.billing_after_pause();
        }
        self.current_period.map(|p| p.end)
    }

    pub fn billing_day_of_month(&self) -> Option<u32> {
        if self.is_free() {
            return None;
        }
        self.billing_interval?.billing_day_of_month(self.anchor)
    }

    /// `endDate`: when a scheduled or effective cancellation ends the subscription.
    pub fn end_date(&self) -> Option<Timestamp> {
        self.ended_at
            .or_else(|| self.cancellation.as_ref().map(|c| c.effective_at))
    }

    /// The next thing due, if any: a trial end, a renewal, a scheduled cancellation, or the end
    /// of a usage period before any of those.
    pub fn next_deadline(&self) -> Option<(Timestamp, DeadlineKind)> {
        if !self.status.is_live() {
            return None;
        }
        if self.status == SubscriptionStatus::Paused {
            return self
                .pause
                .as_ref()
                .and_then(|p| p.resume_at)
                .map(|at| (at, DeadlineKind::Resume));
        }
        if self.status == SubscriptionStatus::PendingPayment {
            return Some((self.checkout_expires_at(), DeadlineKind::CheckoutExpiry));
        }
        let period_end = self.period_deadline();
        // A retry due at a period's end runs first (`payments.md` §6).
        if let Some(retry) = self.dunning.as_ref().and_then(|d| d.next_retry_at())
            && self.status == SubscriptionStatus::PastDue
            && period_end.is_none_or(|(end, _)| retry <= end)
        {
            return Some((retry, DeadlineKind::DunningRetry));
        }
        match (self.next_usage_reset(), period_end) {
            (Some(reset), Some((end, _))) if reset < end => Some((reset, DeadlineKind::UsageReset)),
            (Some(reset), None) => Some((reset, DeadlineKind::UsageReset)),
            (_, period_end) => period_end,
        }
    }

    /// What ends the current billing period, if anything does.
    fn period_deadline(&self) -> Option<(Timestamp, DeadlineKind)> {
        let period = self.current_period?;
        if self.cancellation.is_some() {
            return Some((period.end, DeadlineKind::Cancellation));
        }
        if self.pause_scheduled() {
            return Some((period.end, DeadlineKind::PauseStart));
        }
        match self.status {
            SubscriptionStatus::Trialing => Some((period.end, DeadlineKind::TrialEnd)),
            _ if self.billing_interval == Some(BillingInterval::OneTime) => None,
            _ => Some((period.end, DeadlineKind::Renewal)),
        }
    }

    /// The end of the usage period running now, where usage periods are shorter than billing
    /// periods: monthly usage periods of quarterly, semiannual and yearly prices, and of a
    /// one-time price, which has no billing period at all (`usage.md` §2.2). Trials grant their
    /// ledgers once and bill no usage, so they have none.
    fn next_usage_reset(&self) -> Option<Timestamp> {
        if self.status != SubscriptionStatus::Active {
            return None;
        }
        match self.billing_interval {
            Some(
                BillingInterval::Quarterly
                | BillingInterval::Semiannual
                | BillingInterval::Yearly
                | BillingInterval::OneTime,
            ) => {}
            _ => return None,
        }
        let since = self
            .usage_reset_at
            .or(self.current_period.map(|p| p.start))
            .unwrap_or(self.anchor);
        BillingInterval::Monthly
            .period_at(self.anchor, since)
            .map(|(_, period)| period.end)
    }

    /// The span of usage not billed yet, up to `until`: from the last usage reset, else from
    /// the billing period's start (the anchor for one-time prices).
    pub fn unbilled_usage(&self, until: Timestamp) -> BillingPeriod {
        let since = self
            .usage_reset_at
            .or(self.current_period.map(|p| p.start))
            .unwrap_or(self.anchor);
        BillingPeriod {
            start: since.min(until),
            end: until,
        }
    }

    /// Processes the deadline due at `at` (which must be `next_deadline`'s instant).
    pub fn pass_deadline(&self, kind: DeadlineKind, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.updated_at = at;
        let interval = period_interval(self.billing_interval);
        match kind {
            DeadlineKind::Cancellation => {
                next.status = SubscriptionStatus::Canceled;
                next.current_period = None;
                next.canceled_at = Some(at);
                next.ended_at = Some(at);
            }
            DeadlineKind::TrialEnd => {
                next.status = SubscriptionStatus::Active;
                let interval = next.take_scheduled_change(at).unwrap_or(interval);
                next.period_index = 0;
                next.current_period = period_from(interval, next.anchor, 0);
                next.usage_reset_at = None;
            }
            DeadlineKind::Renewal => match next.take_scheduled_change(at) {
                // A scheduled change starts its periods at the old period's end.
                Some(interval) => {
                    next.anchor = at;
                    next.period_index = 0;
                    next.current_period = period_from(interval, at, 0);
                    next.usage_reset_at = None;
                    next.refill_ledgers();
                }
                None => {
                    next.period_index = self.period_index + 1;
                    next.current_period = period_from(interval, self.anchor, next.period_index);
                    next.usage_reset_at = None;
                    next.refill_ledgers();
                }
            },
            DeadlineKind::UsageReset => {
                next.usage_reset_at = Some(at);
                next.refill_ledgers();
            }
            DeadlineKind::PauseStart => next = self.start_scheduled_pause(at),
            DeadlineKind::Resume => next = self.resumed(at).0,
            // The charge decides (`Subscription::recovered`, `retry_failed`).
            DeadlineKind::DunningRetry => {}
            DeadlineKind::CheckoutExpiry => {
                next.status = SubscriptionStatus::Canceled;
                next.current_period = None;
                next.canceled_at = Some(at);
                next.ended_at = Some(at);
                next.cancellation = Some(Cancellation {
                    scheduled_at: at,
                    reason: Some(CHECKOUT_EXPIRED.to_owned()),
                    effective_at: at,
                });
            }
        }
        next
    }

    /// Waiting for the checkout of the first invoice: `pending_payment`, its first period (from
    /// creation) kept for when it is paid.
    pub fn await_checkout(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.status = SubscriptionStatus::PendingPayment;
        next.updated_at = at;
        next
    }

    /// When an unpaid checkout ends: the end of the period it would pay, else one interval
    /// after creation (30 days for a one-time price).
    pub fn checkout_expires_at(&self) -> Timestamp {
        let one_time = || self.created_at.plus_millis(CHECKOUT_DAYS_ONE_TIME * DAY_MS);
        if self.billing_interval == Some(BillingInterval::OneTime) {
            return one_time();
        }
        self.current_period
            .or_else(|| period_from(period_interval(self.billing_interval), self.created_at, 0))
            .map_or_else(one_time, |p| p.end)
    }

    /// A trial of `days` that waits for a card: `pending_payment`, with no trial end and no
    /// period until the checkout saves one (`start_trial`).
    pub fn await_trial_checkout(&self, days: i64, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.status = SubscriptionStatus::PendingPayment;
        next.trial_ends_at = None;
        next.current_period = None;
        next.checkout_trial_days = Some(days);
        next.updated_at = at;
        next
    }

    /// The checkout saved a card: the trial, and the subscription's start, begin now.
    pub fn start_trial(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        let days = self.checkout_trial_days.unwrap_or(0);
        let end = at.plus_millis(days * crate::time::MILLIS_PER_DAY);
        next.status = SubscriptionStatus::Trialing;
        next.start_date = at;
        next.trial_ends_at = Some(end);
        next.anchor = end;
        next.period_index = 0;
        next.current_period = Some(BillingPeriod { start: at, end });
        next.checkout_trial_days = None;
        next.updated_at = at;
        next
    }

    /// The checkout was paid: active in the period that began at creation.
    pub fn checkout_paid(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.status = SubscriptionStatus::Active;
        next.updated_at = at;
        next
    }

    /// A declined charge of `invoice_id`, the invoice of the period that just began, at `at`:
    /// `past_due`, its retries counted from now.
    pub fn fall_past_due(&self, invoice_id: String, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.status = SubscriptionStatus::PastDue;
        next.dunning = Some(crate::dunning::Dunning::new(invoice_id, at));
        next.updated_at = at;
        next
    }

    /// The past-due invoice was paid: active again, in the same period, the retries dropped.
    pub fn recovered(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.status = SubscriptionStatus::Active;
        next.dunning = None;
        next.updated_at = at;
        next
    }

    /// An automatic retry was declined: counted, and after the last one the subscription
    /// ends at once (`cancelReason: dunning_exhausted`).
    pub fn retry_failed(&self, at: Timestamp) -> Subscription {
        let mut next = self.clone();
        next.updated_at = at;
        let Some(dunning) = &mut next.dunning else {
            return next;
        };
        dunning.retries += 1;
        if dunning.retries >= crate::dunning::MAX_RETRIES {
            next.status = SubscriptionStatus::Canceled;
            next.current_period = None;
            next.canceled_at = Some(at);
            next.ended_at = Some(at);
            next.cancellation = Some(Cancellation {
                scheduled_at: at,
                reason: Some(DUNNING_EXHAUSTED.to_owned()),
                effective_at: at,
            });
            next.scheduled_change = None;
            next.dunning = None;
        }
        next
    }

    /// The first period of the price's interval (monthly on free plans) starting at `at`.
    pub(crate) fn period_starting(&self, at: Timestamp) -> Option<BillingPeriod> {
        period_from(period_interval(self.billing_interval), at, 0)
    }

    pub(crate) fn refill(&mut self) {
        self.refill_ledgers();
    }

    /// Applies the change scheduled for `at`, if any: the plan, price and interval switch
    /// (`lifecycle.md` §4.4). Returns the interval the new periods are counted in.
    fn take_scheduled_change(&mut self, at: Timestamp) -> Option<BillingInterval> {
        let change = self.scheduled_change.take_if(|c| c.effective_at <= at)?;
        self.plan_id = change.plan_id;
        self.price_id = change.price_id;
        self.billing_interval = change.billing_interval;
        Some(period_interval(self.billing_interval))
    }

    /// Switches to another plan now (`lifecycle.md` §4.3): the cycle restarts at `at` in the
    /// new interval, a trial ends, and any pending change is dropped. The ledgers are the
    /// caller's to set from the new price.
    pub fn switch_plan_now(
        &self,
        plan_id: PlanId,
        price_id: Option<PriceId>,
        billing_interval: Option<BillingInterval>,
        at: Timestamp,
    ) -> Subscription {
        let mut next = self.clone();
        next.plan_id = plan_id;
        next.price_id = price_id;
        next.billing_interval = billing_interval;
        if next.status == SubscriptionStatus::Trialing {
            next.status = SubscriptionStatus::Active;
            next.trial_ends_at = Some(at);
        }
        next.anchor = at;
        next.period_index = 0;
        next.current_period = period_from(period_interval(billing_interval), at, 0);
        next.usage_reset_at = None;
        next.scheduled_change = None;
        next.updated_at = at;
        next
    }

    /// A usage period's reset: unused plan credits expire, purchased ones never do, and the
    /// balance is back at its included amount (`balance.md` §1).
    fn refill_ledgers(&mut self) {
        if let Some(credits) = &mut self.credits {
            credits.remaining = credits.included + credits.purchased;
        }
        if let Some(balance) = &mut self.balance {
            balance.remaining = balance.included;
        }
    }

    /// The subscription as of `now` with every deadline due by then passed, in memory: what a
    /// read presents when the scheduler has not processed a period end yet (`usage.md` §8).
    /// Bounded, so a subscription far behind still answers at once.
    pub fn as_of(&self, now: Timestamp) -> Subscription {
        let mut current = self.clone();
        for _ in 0..AS_OF_DEADLINES_MAX {
            match current.next_deadline() {
                Some((_, DeadlineKind::DunningRetry)) => break,
                Some((at, kind)) if at <= now => current = current.pass_deadline(kind, at),
                _ => break,
            }
        }
        current
    }

    /// Whether a deadline is due at `now`.
    pub fn has_due_deadline(&self, now: Timestamp) -> bool {
        self.next_deadline().is_some_and(|(at, _)| at <= now)
    }

    /// Cancels now (`immediate`, or free plans) or at the end of the current period
    /// (`catalog.md` §5.3). Scheduling again keeps the first schedule.
    pub fn cancel(
        &self,
        now: Timestamp,
        reason: Option<String>,
        immediate: bool,
    ) -> Result<Subscription, DomainError> {
        if !self.status.is_live() {
            return Err(Conflict::SubscriptionAlreadyCanceled.into());
        }
        if self.billing_interval == Some(BillingInterval::OneTime) {
            return Err(Conflict::OneTimeSubscriptionNotCancelable.into());
        }
        if self.pause_scheduled() {
            return Err(Conflict::InvalidStatus(
                "a pause is scheduled; revoke it before canceling",
            )
            .into());
        }
        let mut next = self.clone();
        // A paused subscription has no period to finish: it ends at once, and the kept days
        // go with it.
        next.pause = None;
        // A past-due one ends at once too: its period was never paid (`payments.md` §6).
        let immediate = immediate
            || matches!(
                self.status,
                SubscriptionStatus::PastDue | SubscriptionStatus::PendingPayment
            );
        next.dunning = None;
        match self.current_period {
            Some(period) if !immediate && !self.is_free() => {
                if self.cancellation.is_some() {
                    return Ok(next);
                }
                next.cancellation = Some(Cancellation {
                    scheduled_at: now,
                    reason,
                    effective_at: period.end,
                });
                // A cancellation drops a pending plan change (`lifecycle.md` §4.4).
                next.scheduled_change = None;
            }
            _ => {
                next.status = SubscriptionStatus::Canceled;
                next.current_period = None;
                next.canceled_at = Some(now);
                next.ended_at = Some(now);
                next.cancellation = Some(Cancellation {
                    scheduled_at: now,
                    reason,
                    effective_at: now,
                });
                next.scheduled_change = None;
            }
        }
        next.updated_at = now;
        Ok(next)
    }

    /// Revokes a scheduled cancellation that has not taken effect.
    pub fn uncancel(&self, now: Timestamp) -> Result<Subscription, DomainError> {
        if !self.status.is_live() {
            return Err(Conflict::SubscriptionAlreadyCanceled.into());
        }
        if self.cancellation.is_none() {
            return Err(Conflict::NotScheduledForCancellation.into());
        }
        let mut next = self.clone();
        next.cancellation = None;
        next.updated_at = now;
        Ok(next)
    }
}

impl Subscription {
    /// Brings a canceled paid subscription back (`lifecycle.md` §7): active, with a new period
    /// starting at `now` and fresh ledgers; nothing of its cancellation, pause or pending
    /// change is kept.
    pub fn reactivate(&self, now: Timestamp) -> Result<Subscription, DomainError> {
        if self.status != SubscriptionStatus::Canceled || self.is_free() {
            return Err(Conflict::InvalidStatus(
                "only a canceled subscription of a paid plan can be reactivated",
            )
            .into());
        }
        if self
            .billing_interval
            .is_none_or(|interval| !interval.is_recurring())
        {
            return Err(
                Conflict::InvalidStatus("a one-time subscription cannot be reactivated").into(),
            );
        }
        let mut next = self.clone();
        next.status = SubscriptionStatus::Active;
        next.anchor = now;
        next.period_index = 0;
        next.current_period = self.period_starting(now);
        next.cancellation = None;
        next.canceled_at = None;
        next.ended_at = None;
        next.usage_reset_at = None;
        next.scheduled_change = None;
        next.pause = None;
        next.refill();
        next.updated_at = now;
        Ok(next)
    }
}

fn period_from(interval: BillingInterval, anchor: Timestamp, n: u32) -> Option<BillingPeriod> {
    Some(BillingPeriod {
        start: interval.boundary(anchor, n)?,
        end: interval.boundary(anchor, n + 1)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        Timestamp::parse_rfc3339(text).unwrap()
    }

    fn new_monthly(trial_days: i64, start: &str) -> NewSubscription {
        NewSubscription {
            id: SubscriptionId::from_stored("sub_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            plan_id: PlanId::from_stored("pln_1".into()),
            price_id: Some(PriceId::from_stored("pp_1".into())),
            name: "Pro".into(),
            description: None,
            billing_interval: Some(BillingInterval::Monthly),
            trial_days,
            start_date: at(start),
            credits: None,
            balance: None,
            currency: "usd".to_owned(),
        }
    }

    /// The deadlines `as_of` passes on the way to `until`, with the credits left after each.
    fn deadlines_until(sub: &Subscription, until: &str) -> Vec<(Timestamp, DeadlineKind, i64)> {
        let mut current = sub.clone();
        let mut passed = Vec::new();
        while let Some((due, kind)) = current.next_deadline().filter(|(due, _)| *due <= at(until)) {
            current = current.pass_deadline(kind, due);
            passed.push((due, kind, current.credits.map_or(0, |c| c.remaining)));
        }
        passed
    }

    #[test]
    fn longer_billing_periods_pass_a_usage_reset_at_each_month_end_inside_them() {
        let mut quarterly = new_monthly(0, "2026-01-31T00:00:00Z");
        quarterly.billing_interval = Some(BillingInterval::Quarterly);
        quarterly.credits = Some(Credits {
            remaining: 100,
            included: 100,
            purchased: 5,
        });
        let mut sub = quarterly.start(at("2026-01-31T00:00:00Z"));
        sub.credits = Some(Credits {
            remaining: 40,
            included: 100,
            purchased: 5,
        });

        let passed = deadlines_until(&sub, "2026-07-31T00:00:00Z");

        use DeadlineKind::{Renewal, UsageReset};
        // Month ends clamp to short months, counted from the anchor (`catalog.md` §6).
        assert_eq!(
            passed,
            [
                (at("2026-02-28T00:00:00Z"), UsageReset, 105),
                (at("2026-03-31T00:00:00Z"), UsageReset, 105),
                (at("2026-04-30T00:00:00Z"), Renewal, 105),
                (at("2026-05-31T00:00:00Z"), UsageReset, 105),
                (at("2026-06-30T00:00:00Z"), UsageReset, 105),
                (at("2026-07-31T00:00:00Z"), Renewal, 105),
            ]
        );
        let reset = sub.pass_deadline(UsageReset, at("2026-02-28T00:00:00Z"));
        assert_eq!(
            reset.unbilled_usage(at("2026-03-31T00:00:00Z")),
            BillingPeriod {
                start: at("2026-02-28T00:00:00Z"),
                end: at("2026-03-31T00:00:00Z")
            }
        );
        assert_eq!(
            reset.current_period, sub.current_period,
            "the quarter goes on"
        );
    }

    #[test]
    fn monthly_plans_and_trials_have_no_usage_resets_and_one_time_prices_only_those() {
        let monthly = new_monthly(0, "2026-01-15T00:00:00Z").start(at("2026-01-15T00:00:00Z"));
        let mut yearly_trial = new_monthly(14, "2026-01-15T00:00:00Z");
        yearly_trial.billing_interval = Some(BillingInterval::Yearly);
        let trialing = yearly_trial.start(at("2026-01-15T00:00:00Z"));
        let mut once = new_monthly(0, "2026-01-15T00:00:00Z");
        once.billing_interval = Some(BillingInterval::OneTime);
        let once = once.start(at("2026-01-15T00:00:00Z"));

        let kinds = |sub: &Subscription| {
            deadlines_until(sub, "2026-03-20T00:00:00Z")
                .into_iter()
                .map(|(due, kind, _)| (due, kind))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&monthly),
            [
                (at("2026-02-15T00:00:00Z"), DeadlineKind::Renewal),
                (at("2026-03-15T00:00:00Z"), DeadlineKind::Renewal),
            ]
        );
        // The trial ends on Jan 29; the year's months are counted from there.
        assert_eq!(
            kinds(&trialing),
            [
                (at("2026-01-29T00:00:00Z"), DeadlineKind::TrialEnd),
                (at("2026-02-28T00:00:00Z"), DeadlineKind::UsageReset),
            ]
        );
        assert_eq!(once.current_period, None);
        assert_eq!(
            kinds(&once),
            [
                (at("2026-02-15T00:00:00Z"), DeadlineKind::UsageReset),
                (at("2026-03-15T00:00:00Z"), DeadlineKind::UsageReset),
            ]
        );
    }

    #[test]
    fn a_paid_subscription_starts_active_in_its_first_period() {
        let sub = new_monthly(0, "2026-09-01T00:00:00Z").start(at("2026-09-01T00:00:00Z"));

        assert_eq!(sub.status, SubscriptionStatus::Active);
        let period = sub.current_period.unwrap();
        assert_eq!(period.end, at("2026-10-01T00:00:00Z"));
        assert_eq!(sub.next_billing_date(), Some(period.end));
        assert_eq!(sub.billing_day_of_month(), Some(1));
        assert_eq!(
            sub.next_deadline(),
            Some((period.end, DeadlineKind::Renewal))
        );
    }

    #[test]
    fn renewals_walk_periods_from_the_anchor() {
        let mut sub = new_monthly(0, "2026-01-31T00:00:00Z").start(at("2026-01-31T00:00:00Z"));
        let mut ends = Vec::new();
        for _ in 0..3 {
            let (due, kind) = sub.next_deadline().unwrap();
            sub = sub.pass_deadline(kind, due);
            ends.push(sub.current_period.unwrap().end.to_rfc3339());
        }

        assert_eq!(
            ends,
            [
                "2026-03-31T00:00:00.000Z",
                "2026-04-30T00:00:00.000Z",
                "2026-05-31T00:00:00.000Z"
            ]
        );
        assert_eq!(sub.period_index, 3);
    }

    #[test]
    fn a_trial_ends_into_the_first_paid_period() {
        let sub = new_monthly(14, "2026-09-01T00:00:00Z").start(at("2026-09-01T00:00:00Z"));
        let (due, kind) = sub.next_deadline().unwrap();
        let active = sub.pass_deadline(kind, due);

        assert_eq!(sub.status, SubscriptionStatus::Trialing);
        assert_eq!(
            (due, kind),
            (at("2026-09-15T00:00:00Z"), DeadlineKind::TrialEnd)
        );
        assert_eq!(active.status, SubscriptionStatus::Active);
        assert_eq!(active.current_period.unwrap().start, due);
        assert_eq!(
            active.current_period.unwrap().end,
            at("2026-10-15T00:00:00Z")
        );
        assert_eq!(active.billing_day_of_month(), Some(15));
    }

    #[test]
    fn a_scheduled_cancellation_ends_the_subscription_at_period_end() {
        let sub = new_monthly(0, "2026-09-01T00:00:00Z").start(at("2026-09-01T00:00:00Z"));
        let now = at("2026-09-10T00:00:00Z");

        let scheduled = sub.cancel(now, Some("too pricey".into()), false).unwrap();
        let again = scheduled
            .cancel(at("2026-09-11T00:00:00Z"), None, false)
            .unwrap();
        let (due, kind) = scheduled.next_deadline().unwrap();
        let ended = scheduled.pass_deadline(kind, due);

        assert!(scheduled.cancel_at_period_end());
        assert_eq!(scheduled.next_billing_date(), None);
        assert_eq!(scheduled.end_date(), Some(at("2026-10-01T00:00:00Z")));
        assert_eq!(again, scheduled, "scheduling twice changes nothing");
        assert_eq!(kind, DeadlineKind::Cancellation);
        assert_eq!(ended.status, SubscriptionStatus::Canceled);
        assert_eq!(ended.current_period, None);
        assert_eq!(
            ended.cancel(due, None, true),
            Err(Conflict::SubscriptionAlreadyCanceled.into())
        );
    }

    #[test]
    fn uncancel_needs_a_schedule_and_a_live_subscription() {
        let sub = new_monthly(0, "2026-09-01T00:00:00Z").start(at("2026-09-01T00:00:00Z"));
        let now = at("2026-09-02T00:00:00Z");

        assert_eq!(
            sub.uncancel(now),
            Err(Conflict::NotScheduledForCancellation.into())
        );
        let scheduled = sub.cancel(now, None, false).unwrap();
        let revoked = scheduled.uncancel(now).unwrap();
        assert_eq!(revoked.cancellation, None);
        let canceled = sub.cancel(now, None, true).unwrap();
        assert_eq!(canceled.status, SubscriptionStatus::Canceled);
        assert_eq!(
            canceled.uncancel(now),
            Err(Conflict::SubscriptionAlreadyCanceled.into())
        );
    }
}

#[cfg(test)]
mod ledger_tests {
    use super::*;

    fn with_ledgers() -> Subscription {
        let mut sub = NewSubscription {
            id: SubscriptionId::from_stored("sub_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            plan_id: PlanId::from_stored("pln_1".into()),
            price_id: Some(PriceId::from_stored("pp_1".into())),
            name: "Pro".into(),
            description: None,
            billing_interval: Some(BillingInterval::Monthly),
            trial_days: 0,
            start_date: Timestamp::from_millis(0),
            credits: Some(Credits {
                remaining: 100,
                included: 100,
                purchased: 0,
            }),
            balance: Some(PrepaidBalance {
                remaining: Rate(50_000),
                included: Rate(50_000),
            }),
            currency: "usd".to_owned(),
        }
        .start(Timestamp::from_millis(0));
        sub.updated_at = Timestamp::from_millis(0);
        sub
    }

    #[test]
    fn adjustments_move_the_ledger_and_never_below_zero() {
        let sub = with_ledgers();
        let now = Timestamp::from_millis(5);

        let (granted, credits) = sub.adjust(LedgerKind::Credits, 25, now).unwrap();
        let (spent, balance) = granted.adjust(LedgerKind::Balance, -20_000, now).unwrap();
        let refused = spent.adjust(LedgerKind::Credits, -126, now);

        assert_eq!((credits, balance), (125, 30_000));
        assert_eq!(
            refused,
            Err(DomainError::InsufficientFunds {
                is_credits: true,
                remaining: 125,
                requested: 126
            })
        );
        let canceled = sub.cancel(now, None, true).unwrap();
        assert_eq!(
            canceled.adjust(LedgerKind::Credits, 1, now),
            Err(DomainError::NotActive)
        );
    }

    #[test]
    fn a_ledger_never_passes_the_money_bound() {
        let sub = with_ledgers();
        let now = Timestamp::from_millis(5);
        let field_of = |result: Result<(Subscription, i64), DomainError>| match result {
            Err(DomainError::Validation(problems)) => problems[0].field.clone(),
            other => panic!("expected a validation error, got {other:?}"),
        };

        let (full, at_bound) = sub
            .adjust(LedgerKind::Balance, MONEY_MAX - 50_000, now)
            .unwrap();

        assert_eq!(at_bound, MONEY_MAX);
        assert_eq!(field_of(full.adjust(LedgerKind::Balance, 1, now)), "amount");
        assert_eq!(
            field_of(sub.adjust(LedgerKind::Credits, i64::MAX, now)),
            "amount"
        );
        // The most negative i64 has no positive counterpart; it is refused, not negated.
        assert_eq!(
            field_of(sub.adjust(LedgerKind::Credits, i64::MIN, now)),
            "amount"
        );
    }
}

#[cfg(test)]
mod deadline_failure_tests {
    use super::*;

    #[test]
    fn a_failing_deadline_waits_longer_after_each_failure_up_to_an_hour() {
        let at = Timestamp::from_millis(0);
        let mut failure: Option<DeadlineFailure> = None;
        let mut delays = Vec::new();
        for _ in 0..9 {
            let next = DeadlineFailure::after(failure.as_ref(), &"x".repeat(600), at);
            delays.push(next.retry_at.as_millis() / 60_000);
            failure = Some(next);
        }

        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 60, 60, 60]);
        let failure = failure.unwrap();
        assert_eq!(failure.failures, 9);
        assert_eq!(failure.last_error.chars().count(), DEADLINE_ERROR_CHARS_MAX);
    }
}
