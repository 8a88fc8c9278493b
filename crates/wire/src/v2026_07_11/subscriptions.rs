//! Subscriptions and the test clock in 2026-07-11.

use crate::Livemode;
use crate::parts::{ClockParts, SubscriptionParts};
use serde::Serialize;
use tally_domain::Timestamp;
use tally_domain::catalog::FeatureType;
use tally_domain::payments::SANDBOX_PROVIDER;
use tally_domain::plan_change::ChangeType;
use tally_domain::subscription::{FeatureSnapshot, Subscription};
use tally_domain::test_clock::TestClockRun;
use utoipa::ToSchema;

fn time(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_rfc3339)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PeriodOut {
    pub start: String,
    pub end: String,
    pub days_remaining: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CancellationOut<'a> {
    pub scheduled_at: String,
    pub reason: Option<&'a str>,
    pub effective_at: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanRefOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_price: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditsOut {
    pub remaining: i64,
    pub included: i64,
    pub purchased: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceOut {
    pub remaining: i64,
    pub included: i64,
    pub currency: String,
}

/// Seat, usage and quota usage of one feature (`catalog.md` §5.4).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageOut {
    pub current: i64,
    pub included: i64,
    pub overage_quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_unit_price: Option<i64>,
    /// Direct generation only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
}

impl UsageOut {
    pub fn new(feature: &FeatureSnapshot, current: i64, with_unlimited: bool) -> Self {
        let overage_quantity = if feature.unlimited {
            0
        } else {
            (current - feature.included_amount).max(0)
        };
        Self {
            current,
            included: feature.included_amount,
            overage_quantity,
            overage_unit_price: feature
                .overage
                .enabled
                .then_some(feature.overage.unit_price.map(|r| r.0))
                .flatten(),
            unlimited: with_unlimited.then_some(feature.unlimited),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureUsageOut<'a> {
    pub code: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub feature_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<UsageOut>,
    /// Direct versions, while a plan grant runs: the base plan's own access
    /// (`commerce.md` §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub base_access: Option<serde_json::Value>,
}

impl<'a> FeatureUsageOut<'a> {
    /// One entry per enabled feature; boolean ones carry `enabled`, the others `usage`;
    /// `with_base_access` adds what the base plan gives when a plan grant runs.
    pub fn list(
        parts: &SubscriptionParts<'a>,
        with_unlimited: bool,
        with_base_access: bool,
    ) -> Vec<Self> {
        let base = parts.grant.filter(|_| with_base_access).map(|g| &g.base);
        parts
            .features
            .iter()
            .filter(|f| f.enabled)
            .map(|f| {
                let is_boolean = f.feature_type == FeatureType::Boolean;
                let current = parts.seats.get(&f.code).copied().unwrap_or(0);
                Self {
                    code: &f.code,
                    name: &f.name,
                    feature_type: f.feature_type.as_str(),
                    enabled: is_boolean.then_some(true),
                    usage: (!is_boolean).then(|| UsageOut::new(f, current, with_unlimited)),
                    base_access: base.map(|base| {
                        let own = base.iter().find(|b| b.feature_id == f.feature_id);
                        if is_boolean {
                            serde_json::json!({"enabled": own.is_some_and(|b| b.enabled)})
                        } else {
                            serde_json::json!({
                                "included": own.filter(|b| b.enabled).map_or(0, |b| b.included_amount),
                                "unlimited": own.is_some_and(|b| b.enabled && b.unlimited),
                            })
                        }
                    }),
                }
            })
            .collect()
    }
}

/// The fields every subscription shape shares, in the order the contract shows them.
pub struct Core<'a> {
    pub parts: SubscriptionParts<'a>,
}

impl<'a> Core<'a> {
    pub fn subscription(&self) -> &'a Subscription {
        self.parts.subscription
    }

    pub fn current_period(&self) -> Option<PeriodOut> {
        self.subscription().current_period.map(|p| PeriodOut {
            start: p.start.to_rfc3339(),
            end: p.end.to_rfc3339(),
            days_remaining: p.days_remaining(self.parts.now),
        })
    }

    pub fn cancellation(&self) -> Option<CancellationOut<'a>> {
        self.subscription()
            .cancellation
            .as_ref()
            .map(|c| CancellationOut {
                scheduled_at: c.scheduled_at.to_rfc3339(),
                reason: c.reason.as_deref(),
                effective_at: c.effective_at.to_rfc3339(),
            })
    }

    /// `scheduledPlanChange` (`lifecycle.md` §2): the plan fields for a plan change, the
    /// interval for an interval change, null for what stays the same.
    pub fn scheduled_plan_change(&self) -> Option<ScheduledPlanChangeOut<'a>> {
        let s = self.subscription();
        let change = s.scheduled_change.as_ref()?;
        let plan_changes = change.change_type == ChangeType::PlanDowngrade;
        Some(ScheduledPlanChangeOut {
            change_type: change.change_type.as_str(),
            new_plan_id: plan_changes.then(|| change.plan_id.as_str()),
            new_plan_name: self
                .parts
                .scheduled_plan
                .filter(|_| plan_changes)
                .map(|p| p.name.as_str()),
            new_billing_interval: change
                .billing_interval
                .filter(|i| Some(*i) != s.billing_interval)
                .map(|i| i.as_str()),
            scheduled_for: change.effective_at.to_rfc3339(),
        })
    }

    pub fn plan(&self, with_base_price: bool) -> PlanRefOut<'a> {
        PlanRefOut {
            id: self.parts.plan.id.as_str(),
            name: &self.parts.plan.name,
            base_price: with_base_price.then(|| self.parts.price.map_or(0, |p| p.price.0)),
        }
    }

    pub fn credits(&self) -> Option<CreditsOut> {
        self.subscription().credits.map(|c| CreditsOut {
            remaining: c.remaining,
            included: c.included,
            purchased: c.purchased,
        })
    }

    pub fn balance(&self) -> Option<BalanceOut> {
        self.subscription().balance.map(|b| BalanceOut {
            remaining: b.remaining.0,
            included: b.included.0,
            currency: self.subscription().currency.clone(),
        })
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledPlanChangeOut<'a> {
    pub change_type: &'static str,
    pub new_plan_id: Option<&'a str>,
    pub new_plan_name: Option<&'a str>,
    pub new_billing_interval: Option<&'static str>,
    pub scheduled_for: String,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub plan: PlanRefOut<'a>,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub status: &'static str,
    pub billing_interval: Option<&'static str>,
    pub consumption_model: &'static str,
    pub trial_ends_at: Option<String>,
    pub current_period: Option<PeriodOut>,
    pub features: Vec<FeatureUsageOut<'a>>,
    pub credits: Option<CreditsOut>,
    pub balance: Option<BalanceOut>,
    pub cancellation: Option<CancellationOut<'a>>,
    pub cancel_at_period_end: bool,
    pub scheduled_plan_change: Option<ScheduledPlanChangeOut<'a>>,
    pub discount: Option<crate::offers::DiscountOut>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_day_of_month: Option<u32>,
    pub next_billing_date: Option<String>,
    /// The checkout page while the subscription is `pending_payment`, else null.
    pub checkout_url: Option<&'a str>,
    /// `"commet"` with a checkout page, else null.
    pub checkout_provider: Option<&'static str>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> SubscriptionOut<'a> {
    pub fn new(parts: SubscriptionParts<'a>, livemode: Livemode) -> Self {
        let core = Core { parts };
        let s = parts.subscription;
        Self {
            id: s.id.as_str(),
            customer_id: s.customer_id.as_str(),
            plan: core.plan(true),
            name: &s.name,
            description: s.description.as_deref(),
            status: s.status.as_str(),
            billing_interval: s.billing_interval.map(|i| i.as_str()),
            consumption_model: parts.plan.consumption().as_str(),
            trial_ends_at: time(s.trial_ends_at),
            current_period: core.current_period(),
            features: FeatureUsageOut::list(&parts, false, false),
            credits: core.credits(),
            balance: core.balance(),
            cancellation: core.cancellation(),
            cancel_at_period_end: s.cancel_at_period_end(),
            scheduled_plan_change: core.scheduled_plan_change(),
            discount: crate::offers::discount(
                parts.offers,
                parts.price.map(|p| p.price.0),
                parts.now,
            ),
            start_date: s.start_date.to_rfc3339(),
            end_date: time(s.end_date()),
            billing_day_of_month: s.billing_day_of_month(),
            next_billing_date: time(s.next_billing_date()),
            checkout_url: parts.checkout_url,
            checkout_provider: parts.checkout_url.map(|_| SANDBOX_PROVIDER),
            created_at: s.created_at.to_rfc3339(),
            updated_at: s.updated_at.to_rfc3339(),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

/// The legacy answer to `cancel` (`catalog.md` §5.4).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CanceledSubscriptionOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub status: &'static str,
    pub canceled_at: Option<String>,
    pub cancel_reason: Option<&'a str>,
    pub scheduled_cancellation_date: Option<String>,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> CanceledSubscriptionOut<'a> {
    pub fn new(s: &'a Subscription, livemode: Livemode) -> Self {
        let cancellation = s.cancellation.as_ref();
        Self {
            id: s.id.as_str(),
            customer_id: s.customer_id.as_str(),
            status: s.status.as_str(),
            // When the cancellation was asked for; the end is `scheduledCancellationDate`.
            canceled_at: time(s.canceled_at.or(cancellation.map(|c| c.scheduled_at))),
            cancel_reason: cancellation.and_then(|c| c.reason.as_deref()),
            scheduled_cancellation_date: time(cancellation.map(|c| c.effective_at)),
            updated_at: s.updated_at.to_rfc3339(),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

/// The legacy answer to `uncancel`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UncanceledSubscriptionOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub status: &'static str,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> UncanceledSubscriptionOut<'a> {
    pub fn new(s: &'a Subscription, livemode: Livemode) -> Self {
        Self {
            id: s.id.as_str(),
            customer_id: s.customer_id.as_str(),
            status: s.status.as_str(),
            updated_at: s.updated_at.to_rfc3339(),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockOut {
    pub simulated_time: Option<String>,
    pub is_active: bool,
    pub now: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl TestClockOut {
    pub fn new(clock: ClockParts<'_>) -> Self {
        Self {
            simulated_time: time(clock.simulated_time),
            is_active: clock.simulated_time.is_some(),
            now: clock.now.to_rfc3339(),
            object: "test_clock",
            livemode: false,
        }
    }
}

/// The legacy answer to `process-billing` (`catalog.md` §7).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockBillingOut {
    pub customers_found: usize,
    pub enqueued: usize,
    pub failed: usize,
    pub dunning_retried: usize,
    pub dunning_failed: usize,
    pub object: &'static str,
    pub livemode: bool,
}

impl TestClockBillingOut {
    pub fn new(customers_found: usize, enqueued: usize, failed: usize) -> Self {
        Self {
            customers_found,
            enqueued,
            failed,
            dunning_retried: 0,
            dunning_failed: 0,
            object: "test_clock",
            livemode: false,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RunItemOut<'a> {
    pub kind: &'static str,
    pub status: &'static str,
    pub due_at: String,
    pub subscription_id: &'a str,
    pub customer_name: Option<&'a str>,
    pub invoice_number: Option<&'a str>,
    pub invoice_id: Option<&'a str>,
    pub outcome: Option<&'a str>,
    pub detail: Option<&'a str>,
    pub error: Option<&'a str>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockRunOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub started_at_time: String,
    pub target_time: String,
    pub estimated_deadline_count: usize,
    pub completed_deadline_count: usize,
    pub failed_deadline_count: usize,
    pub error: Option<&'a str>,
    pub items: Vec<RunItemOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> TestClockRunOut<'a> {
    pub fn new(run: &'a TestClockRun) -> Self {
        Self {
            id: run.id.as_str(),
            status: run.status(),
            started_at_time: run.started_at_time.to_rfc3339(),
            target_time: run.target_time.to_rfc3339(),
            // The counts cover every deadline; `items` lists at most `RUN_ITEMS_MAX` of them.
            estimated_deadline_count: run.deadline_count(),
            completed_deadline_count: run.completed_count,
            failed_deadline_count: run.failed_count,
            error: None,
            items: run
                .items
                .iter()
                .map(|item| RunItemOut {
                    kind: item.kind.as_str(),
                    status: if item.error.is_some() {
                        "failed"
                    } else {
                        "completed"
                    },
                    due_at: item.due_at.to_rfc3339(),
                    subscription_id: item.subscription_id.as_str(),
                    customer_name: item.customer_name.as_deref(),
                    invoice_number: item.invoice_number.as_deref(),
                    invoice_id: item.invoice_id.as_deref(),
                    outcome: item.outcome.as_deref(),
                    detail: None,
                    error: item.error.as_deref(),
                })
                .collect(),
            object: "test_clock_run",
            livemode: false,
        }
    }
}

/// The legacy answer to a reactivation (`lifecycle.md` §7).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReactivatedOut<'a> {
    pub id: &'a str,
    pub retry_initiated: bool,
    pub object: &'static str,
    pub livemode: bool,
}
