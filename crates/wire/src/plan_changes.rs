//! Plan change answers (`lifecycle.md` §2): **PlanChange** and **PreviewChange**. Direct
//! versions carry `outcome`, which the Python SDK picks its class by; legacy ones leave it out
//! and name every answer `subscription`.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::catalog::{Plan, PlanPrice};
use tally_domain::money::Cents;
use tally_domain::plan_change::{ChangeAmounts, ScheduledChange};
use tally_domain::subscription::Subscription;
use tally_domain::{ApiVersion, Generation, Timestamp};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ChangedPlanOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub price: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChangeBillingOut {
    pub credit: i64,
    pub credits_applied: i64,
    pub charge: i64,
    pub tax_amount: i64,
    pub net_amount: i64,
    pub total_charged: i64,
    pub remaining_credit_balance: i64,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatLimitWarningOut<'a> {
    pub feature_code: &'a str,
    pub feature_name: &'a str,
    pub current_seats: i64,
    pub included: i64,
    pub new_plan_name: &'a str,
    pub effective_date: String,
}

/// A change that took effect, or one scheduled for the renewal; keys that do not apply are
/// left out, as Commet does.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanChangeOut<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<&'static str>,
    pub id: &'a str,
    pub scheduled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scheduled_for: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub change_type: Option<String>,
    pub customer_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_plan: Option<ChangedPlanOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_plan: Option<ChangedPlanOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_interval: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing: Option<ChangeBillingOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub invoice_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_plan_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_plan_name: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new_billing_interval: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat_limit_warning: Option<SeatLimitWarningOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

/// The figures of a change that would take effect now.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreviewChangeOut<'a> {
    pub currency: &'a str,
    pub current_plan_credit: i64,
    pub new_plan_charge: i64,
    pub estimated_total: i64,
    pub effective_date: String,
    pub days_remaining: i64,
    pub total_days: i64,
    pub is_upgrade: bool,
    pub object: &'static str,
    pub livemode: bool,
}

fn outcome(version: ApiVersion, outcome: &'static str) -> Option<&'static str> {
    (version.generation() == Generation::Direct).then_some(outcome)
}

/// An immediate change that took effect.
#[derive(Clone, Copy)]
pub struct Completed<'a> {
    pub subscription: &'a Subscription,
    pub previous_plan: &'a Plan,
    pub plan: &'a Plan,
    pub price: Option<&'a PlanPrice>,
    pub amounts: ChangeAmounts,
    /// Customer credits that paid part of the change.
    pub credits_applied: Cents,
    /// The customer's credits afterwards.
    pub remaining_credit_balance: Cents,
    pub invoice_id: Option<&'a str>,
}

pub fn completed(version: ApiVersion, change: Completed<'_>, livemode: Livemode) -> Value {
    let amounts = change.amounts;
    to_value(PlanChangeOut {
        outcome: outcome(version, "completed"),
        id: change.subscription.id.as_str(),
        scheduled: false,
        scheduled_for: None,
        change_type: None,
        customer_id: change.subscription.customer_id.as_str(),
        previous_plan: Some(ChangedPlanOut {
            id: change.previous_plan.id.as_str(),
            name: &change.previous_plan.name,
            price: None,
        }),
        current_plan: Some(ChangedPlanOut {
            id: change.plan.id.as_str(),
            name: &change.plan.name,
            price: Some(change.price.map_or(0, |p| p.price.0)),
        }),
        // Left out for a free target: both SDKs type it as a string that may be absent.
        billing_interval: change.price.map(|p| p.billing_interval.as_str()),
        billing: Some(ChangeBillingOut {
            credit: amounts.credit.0,
            credits_applied: change.credits_applied.0,
            charge: amounts.charge.0,
            tax_amount: 0,
            net_amount: amounts.net.0,
            total_charged: amounts.net.0 - change.credits_applied.0,
            remaining_credit_balance: change.remaining_credit_balance.0,
        }),
        invoice_id: change.invoice_id,
        new_plan_id: None,
        new_plan_name: None,
        new_billing_interval: None,
        seat_limit_warning: None,
        object: object_name(version, "subscription", "plan_change"),
        livemode: livemode.0,
    })
}

/// A change scheduled for the renewal, with the seats the target plan cannot sell.
#[derive(Clone, Copy)]
pub struct Scheduled<'a> {
    pub subscription: &'a Subscription,
    pub change: &'a ScheduledChange,
    pub plan: &'a Plan,
    /// Feature code and name, seats held, seats included.
    pub warning: Option<(&'a str, &'a str, i64, i64)>,
}

pub fn scheduled(version: ApiVersion, change: Scheduled<'_>, livemode: Livemode) -> Value {
    let s = change.subscription;
    let target = change.change;
    let plan_changes = target.plan_id != s.plan_id;
    to_value(PlanChangeOut {
        outcome: outcome(version, "scheduled"),
        id: s.id.as_str(),
        scheduled: true,
        scheduled_for: Some(target.effective_at.to_rfc3339()),
        change_type: Some(format!("subscription.{}", target.change_type.as_str())),
        customer_id: s.customer_id.as_str(),
        previous_plan: None,
        current_plan: None,
        billing_interval: None,
        billing: None,
        invoice_id: None,
        new_plan_id: plan_changes.then(|| target.plan_id.as_str()),
        new_plan_name: plan_changes.then_some(change.plan.name.as_str()),
        new_billing_interval: target
            .billing_interval
            .filter(|i| Some(*i) != s.billing_interval)
            .map(|i| i.as_str()),
        seat_limit_warning: change.warning.map(|(code, name, current, included)| {
            SeatLimitWarningOut {
                feature_code: code,
                feature_name: name,
                current_seats: current,
                included,
                new_plan_name: &change.plan.name,
                effective_date: target.effective_at.to_rfc3339(),
            }
        }),
        object: object_name(version, "subscription", "plan_change"),
        livemode: livemode.0,
    })
}

/// `estimatedTotal` is what the customer would pay: the net amount less the customer credits
/// that would cover part of it.
pub fn preview(
    version: ApiVersion,
    currency: &str,
    amounts: ChangeAmounts,
    credits_applied: Cents,
    effective_at: Timestamp,
    livemode: Livemode,
) -> Value {
    to_value(PreviewChangeOut {
        currency,
        current_plan_credit: amounts.credit.0,
        new_plan_charge: amounts.charge.0,
        estimated_total: amounts.net.0 - credits_applied.0,
        effective_date: effective_at.to_rfc3339(),
        days_remaining: amounts.days_left,
        total_days: amounts.period_days,
        is_upgrade: true,
        object: object_name(version, "subscription", "plan_change_preview"),
        livemode: livemode.0,
    })
}
