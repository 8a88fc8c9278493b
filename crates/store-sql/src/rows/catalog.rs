//! Rows of the catalog tables: features, plans, prices, plan features, subscriptions and their
//! feature snapshots, seat balances and test-clock runs.

use super::{parse_json, text_error};
use crate::decode::{DecodeRow, RowRef, sql_row};
use serde::{Deserialize, Serialize};
use tally_domain::catalog::{
    ConsumptionModel, Feature, FeatureId, FeatureType, Overage, Plan, PlanFeature, PlanGroupId,
    PlanId, PlanPrice, PriceId,
};
use tally_domain::dunning::Dunning;
use tally_domain::money::{Cents, Rate};
use tally_domain::pause::{Pause, PauseMode};
use tally_domain::period::{BillingInterval, BillingPeriod};
use tally_domain::plan_change::{ChangeType, ScheduledChange};
use tally_domain::plan_groups::PlanGroup;
use tally_domain::subscription::{
    Cancellation, Credits, FeatureSnapshot, PrepaidBalance, Subscription, SubscriptionId,
    SubscriptionStatus,
};
use tally_domain::test_clock::{RunItem, RunItemKind, RunTally, TestClockRun, TestClockRunId};
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::StoreError;

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn interval(text: &str) -> Result<BillingInterval, StoreError> {
    BillingInterval::parse(text).ok_or_else(|| text_error("billing interval", text))
}

fn feature_type(text: &str) -> Result<FeatureType, StoreError> {
    FeatureType::parse(text).ok_or_else(|| text_error("feature type", text))
}

sql_row! {
    pub struct FeatureRow {
        id: String,
        org_id: String,
        code: String,
        name: String,
        feature_type: String = "type",
        description: Option<String>,
        unit_name: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl FeatureRow {
    pub fn into_domain(self) -> Result<Feature, StoreError> {
        Ok(Feature {
            id: FeatureId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            code: self.code,
            name: self.name,
            feature_type: feature_type(&self.feature_type)?,
            description: self.description,
            unit_name: self.unit_name,
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

sql_row! {
    pub struct PlanRow {
        id: String,
        org_id: String,
        code: String,
        name: String,
        description: Option<String>,
        consumption_model: Option<String>,
        is_public: bool,
        is_free: bool,
        block_on_exhaustion: Option<bool>,
        metadata: Option<String>,
        plan_group_id: Option<String>,
        sort_order: i64,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PlanRow {
    pub fn into_domain(self) -> Result<Plan, StoreError> {
        let consumption_model = self
            .consumption_model
            .map(|m| ConsumptionModel::parse(&m).ok_or_else(|| text_error("consumption model", &m)))
            .transpose()?;
        Ok(Plan {
            id: PlanId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            code: self.code,
            name: self.name,
            description: self.description,
            consumption_model,
            is_public: self.is_public,
            is_free: self.is_free,
            block_on_exhaustion: self.block_on_exhaustion,
            metadata: parse_json(self.metadata.as_deref())?,
            group: self.plan_group_id.map(PlanGroupId::from_stored),
            sort_order: self.sort_order,
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

sql_row! {
    pub struct PlanGroupRow {
        id: String,
        org_id: String,
        name: String,
        description: Option<String>,
        is_public: bool,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PlanGroupRow {
    pub fn into_domain(self) -> PlanGroup {
        PlanGroup {
            id: PlanGroupId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            name: self.name,
            description: self.description,
            is_public: self.is_public,
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        }
    }
}

sql_row! {
    pub struct PriceRow {
        id: String,
        plan_id: String,
        billing_interval: String,
        price_cents: i64,
        is_default: bool,
        trial_days: i64,
        included_balance: Option<i64>,
        included_credits: Option<i64>,
        metadata: String,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PriceRow {
    pub fn into_domain(self) -> Result<PlanPrice, StoreError> {
        Ok(PlanPrice {
            id: PriceId::from_stored(self.id),
            plan_id: PlanId::from_stored(self.plan_id),
            billing_interval: interval(&self.billing_interval)?,
            price: Cents(self.price_cents),
            is_default: self.is_default,
            trial_days: self.trial_days,
            included_balance: self.included_balance.map(Rate),
            included_credits: self.included_credits,
            metadata: parse_json(Some(&self.metadata))?.unwrap_or_default(),
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

/// A plan feature joined with its feature.
pub struct PlanFeatureRow {
    plan_id: String,
    enabled: bool,
    included_amount: i64,
    unlimited: bool,
    overage_enabled: bool,
    overage_unit_price: Option<i64>,
    credits_per_unit: Option<i64>,
    pricing_mode: String,
    margin: Option<i64>,
    pf_created_at_ms: i64,
    feature: FeatureRow,
}

impl DecodeRow for PlanFeatureRow {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(Self {
            plan_id: row.get("plan_id")?,
            enabled: row.get("enabled")?,
            included_amount: row.get("included_amount")?,
            unlimited: row.get("unlimited")?,
            overage_enabled: row.get("overage_enabled")?,
            overage_unit_price: row.get("overage_unit_price")?,
            credits_per_unit: row.get("credits_per_unit")?,
            pricing_mode: row.get("pricing_mode")?,
            margin: row.get("margin")?,
            pf_created_at_ms: row.get("pf_created_at_ms")?,
            feature: FeatureRow::decode(row)?,
        })
    }
}

impl PlanFeatureRow {
    pub fn into_domain(self) -> Result<(PlanFeature, Feature), StoreError> {
        let feature = self.feature.into_domain()?;
        Ok((
            PlanFeature {
                plan_id: PlanId::from_stored(self.plan_id),
                feature_id: feature.id.clone(),
                enabled: self.enabled,
                included_amount: self.included_amount,
                unlimited: self.unlimited,
                overage: Overage {
                    enabled: self.overage_enabled,
                    unit_price: self.overage_unit_price.map(Rate),
                },
                credits_per_unit: self.credits_per_unit,
                pricing_mode: self.pricing_mode,
                margin: self.margin,
                created_at: ts(self.pf_created_at_ms),
            },
            feature,
        ))
    }
}

sql_row! {
    pub struct SubscriptionRow {
        id: String,
        org_id: String,
        customer_id: String,
        plan_id: String,
        price_id: Option<String>,
        name: String,
        description: Option<String>,
        status: String,
        billing_interval: Option<String>,
        start_date_ms: i64,
        trial_ends_at_ms: Option<i64>,
        anchor_ms: i64,
        period_index: i64,
        period_start_ms: Option<i64>,
        period_end_ms: Option<i64>,
        cancel_scheduled_at_ms: Option<i64>,
        cancel_reason: Option<String>,
        cancel_effective_at_ms: Option<i64>,
        canceled_at_ms: Option<i64>,
        ended_at_ms: Option<i64>,
        credits_remaining: Option<i64>,
        credits_included: Option<i64>,
        credits_purchased: Option<i64>,
        balance_remaining: Option<i64>,
        balance_included: Option<i64>,
        usage_reset_at_ms: Option<i64>,
        change_type: Option<String>,
        change_plan_id: Option<String>,
        change_price_id: Option<String>,
        change_interval: Option<String>,
        change_requested_at_ms: Option<i64>,
        change_at_ms: Option<i64>,
        pause_mode: Option<String>,
        pause_in_effect: Option<bool>,
        pause_requested_at_ms: Option<i64>,
        pause_effective_at_ms: Option<i64>,
        pause_resume_at_ms: Option<i64>,
        pause_status_before: Option<String>,
        pause_period_start_ms: Option<i64>,
        pause_period_end_ms: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
        currency: String,
        dunning_invoice_id: Option<String>,
        dunning_failed_at_ms: Option<i64>,
        dunning_retries: Option<i64>,
        checkout_trial_days: Option<i64>,
    }
}

impl SubscriptionRow {
    pub fn into_domain(self) -> Result<Subscription, StoreError> {
        let status = SubscriptionStatus::parse(&self.status)
            .ok_or_else(|| text_error("subscription status", &self.status))?;
        let billing_interval = self.billing_interval.as_deref().map(interval).transpose()?;
        let current_period = match (self.period_start_ms, self.period_end_ms) {
            (Some(start), Some(end)) => Some(BillingPeriod {
                start: ts(start),
                end: ts(end),
            }),
            _ => None,
        };
        let cancellation = match (self.cancel_scheduled_at_ms, self.cancel_effective_at_ms) {
            (Some(scheduled), Some(effective)) => Some(Cancellation {
                scheduled_at: ts(scheduled),
                reason: self.cancel_reason,
                effective_at: ts(effective),
            }),
            _ => None,
        };
        let credits = match (
            self.credits_remaining,
            self.credits_included,
            self.credits_purchased,
        ) {
            (Some(remaining), Some(included), Some(purchased)) => Some(Credits {
                remaining,
                included,
                purchased,
            }),
            _ => None,
        };
        let balance = match (self.balance_remaining, self.balance_included) {
            (Some(remaining), Some(included)) => Some(PrepaidBalance {
                remaining: Rate(remaining),
                included: Rate(included),
            }),
            _ => None,
        };
        let scheduled_change = match (
            self.change_type,
            self.change_plan_id,
            self.change_requested_at_ms,
            self.change_at_ms,
        ) {
            (Some(kind), Some(plan_id), Some(requested), Some(effective)) => {
                Some(ScheduledChange {
                    change_type: ChangeType::parse(&kind)
                        .ok_or_else(|| text_error("plan change type", &kind))?,
                    plan_id: PlanId::from_stored(plan_id),
                    price_id: self.change_price_id.map(PriceId::from_stored),
                    billing_interval: self.change_interval.as_deref().map(interval).transpose()?,
                    requested_at: ts(requested),
                    effective_at: ts(effective),
                })
            }
            _ => None,
        };
        let pause = match (
            self.pause_mode,
            self.pause_in_effect,
            self.pause_requested_at_ms,
            self.pause_effective_at_ms,
            self.pause_status_before,
        ) {
            (Some(mode), Some(in_effect), Some(requested), Some(effective), Some(before)) => {
                Some(Pause {
                    mode: PauseMode::parse(&mode).ok_or_else(|| text_error("pause mode", &mode))?,
                    in_effect,
                    requested_at: ts(requested),
                    effective_at: ts(effective),
                    resume_at: self.pause_resume_at_ms.map(ts),
                    status_before: SubscriptionStatus::parse(&before)
                        .ok_or_else(|| text_error("subscription status", &before))?,
                    period_before: match (self.pause_period_start_ms, self.pause_period_end_ms) {
                        (Some(start), Some(end)) => Some(BillingPeriod {
                            start: ts(start),
                            end: ts(end),
                        }),
                        _ => None,
                    },
                })
            }
            _ => None,
        };
        Ok(Subscription {
            id: SubscriptionId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            plan_id: PlanId::from_stored(self.plan_id),
            price_id: self.price_id.map(PriceId::from_stored),
            name: self.name,
            description: self.description,
            status,
            billing_interval,
            start_date: ts(self.start_date_ms),
            trial_ends_at: self.trial_ends_at_ms.map(ts),
            anchor: ts(self.anchor_ms),
            period_index: u32::try_from(self.period_index)
                .map_err(|_| text_error("period index", &self.period_index.to_string()))?,
            current_period,
            cancellation,
            canceled_at: self.canceled_at_ms.map(ts),
            ended_at: self.ended_at_ms.map(ts),
            credits,
            balance,
            currency: self.currency,
            usage_reset_at: self.usage_reset_at_ms.map(ts),
            scheduled_change,
            pause,
            dunning: match (
                self.dunning_invoice_id,
                self.dunning_failed_at_ms,
                self.dunning_retries,
            ) {
                (Some(invoice_id), Some(failed_at), Some(retries)) => Some(Dunning {
                    invoice_id,
                    failed_at: ts(failed_at),
                    retries: u32::try_from(retries)
                        .map_err(|_| text_error("dunning retries", &retries.to_string()))?,
                }),
                _ => None,
            },
            checkout_trial_days: self.checkout_trial_days,
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

sql_row! {
    pub struct SnapshotRow {
        feature_id: String,
        code: String,
        name: String,
        feature_type: String = "type",
        unit_name: Option<String>,
        enabled: bool,
        included_amount: i64,
        unlimited: bool,
        overage_enabled: bool,
        overage_unit_price: Option<i64>,
        credits_per_unit: Option<i64>,
        pricing_mode: String,
    }
}

impl SnapshotRow {
    pub fn into_domain(self) -> Result<FeatureSnapshot, StoreError> {
        Ok(FeatureSnapshot {
            feature_id: FeatureId::from_stored(self.feature_id),
            code: self.code,
            name: self.name,
            feature_type: feature_type(&self.feature_type)?,
            unit_name: self.unit_name,
            enabled: self.enabled,
            included_amount: self.included_amount,
            unlimited: self.unlimited,
            overage: Overage {
                enabled: self.overage_enabled,
                unit_price: self.overage_unit_price.map(Rate),
            },
            credits_per_unit: self.credits_per_unit,
            pricing_mode: self.pricing_mode,
        })
    }
}

/// Storage form of a test-clock run's items (not a wire format). Runs stored before the
/// counts were kept have none: every deadline was then listed in `items`.
#[derive(Serialize, Deserialize)]
struct StoredRun {
    started_at_ms: i64,
    target_ms: i64,
    items: Vec<StoredRunItem>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    completed_count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    failed_count: Option<usize>,
}

#[derive(Serialize, Deserialize)]
struct StoredRunItem {
    /// Absent from items stored before dunning retries were listed: billing deadlines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kind: Option<String>,
    due_at_ms: i64,
    subscription_id: String,
    customer_name: Option<String>,
    outcome: Option<String>,
    error: Option<String>,
    invoice_number: Option<String>,
    invoice_id: Option<String>,
}

pub fn run_body(run: &TestClockRun) -> String {
    let stored = StoredRun {
        started_at_ms: run.started_at_time.as_millis(),
        target_ms: run.target_time.as_millis(),
        items: run
            .items
            .iter()
            .map(|i| StoredRunItem {
                kind: Some(i.kind.as_str().to_owned()),
                due_at_ms: i.due_at.as_millis(),
                subscription_id: i.subscription_id.as_str().to_owned(),
                customer_name: i.customer_name.clone(),
                outcome: i.outcome.clone(),
                error: i.error.clone(),
                invoice_number: i.invoice_number.clone(),
                invoice_id: i.invoice_id.clone(),
            })
            .collect(),
        completed_count: Some(run.completed_count),
        failed_count: Some(run.failed_count),
    };
    serde_json::to_string(&stored).expect("runs always serialize")
}

sql_row! {
    pub struct RunRow {
        id: String,
        body: String,
        created_at_ms: i64,
    }
}

impl RunRow {
    pub fn into_domain(self) -> Result<TestClockRun, StoreError> {
        let stored: StoredRun =
            serde_json::from_str(&self.body).map_err(|e| StoreError::Other(Box::new(e)))?;
        let items: Vec<RunItem> = stored
            .items
            .into_iter()
            .map(|i| RunItem {
                kind: i
                    .kind
                    .as_deref()
                    .and_then(RunItemKind::parse)
                    .unwrap_or_default(),
                due_at: ts(i.due_at_ms),
                subscription_id: SubscriptionId::from_stored(i.subscription_id),
                customer_name: i.customer_name,
                outcome: i.outcome,
                error: i.error,
                invoice_number: i.invoice_number,
                invoice_id: i.invoice_id,
            })
            .collect();
        let run_id = TestClockRunId::from_stored(self.id);
        let (started, target, created) = (
            ts(stored.started_at_ms),
            ts(stored.target_ms),
            ts(self.created_at_ms),
        );
        Ok(match (stored.completed_count, stored.failed_count) {
            (Some(completed_count), Some(failed_count)) => TestClockRun {
                id: run_id,
                started_at_time: started,
                target_time: target,
                items,
                completed_count,
                failed_count,
                created_at: created,
            },
            // An older run listed every deadline: count them, and keep what a run keeps now.
            _ => {
                let mut tally = RunTally::default();
                tally.extend(items);
                tally.into_run(run_id, started, target, created)
            }
        })
    }
}

sql_row! {
    /// A due deadline found by the renewal sweep.
    pub struct DueRow {
        pub org_id: String,
        pub id: String,
        pub next_deadline_ms: i64,
    }
}

sql_row! {
    /// The failure recorded against a subscription's deadline (`deadline_failures` is 0 when
    /// there is none).
    pub struct DeadlineFailureRow {
        deadline_failures: i64,
        deadline_error: Option<String>,
        deadline_retry_at_ms: Option<i64>,
    }
}

impl DeadlineFailureRow {
    pub fn into_domain(self) -> Option<tally_domain::subscription::DeadlineFailure> {
        let retry_at = self.deadline_retry_at_ms?;
        (self.deadline_failures > 0).then(|| tally_domain::subscription::DeadlineFailure {
            failures: self.deadline_failures,
            last_error: self.deadline_error.unwrap_or_default(),
            retry_at: ts(retry_at),
        })
    }
}

sql_row! {
    pub struct SeatBalanceRow {
        subscription_id: String,
        feature_code: String,
        current: i64,
        paid_extra: i64,
        peak: i64,
        updated_at_ms: i64,
    }
}

impl SeatBalanceRow {
    pub fn into_domain(self) -> tally_domain::seats::SeatBalance {
        tally_domain::seats::SeatBalance {
            subscription_id: SubscriptionId::from_stored(self.subscription_id),
            feature_code: self.feature_code,
            current: self.current,
            paid_extra: self.paid_extra,
            peak: self.peak,
            updated_at: ts(self.updated_at_ms),
        }
    }
}

sql_row! {
    pub struct SeatEventRow {
        id: String,
        org_id: String,
        customer_id: String,
        subscription_id: String,
        feature_code: String,
        previous_balance: i64,
        new_balance: i64,
        ts_ms: i64,
    }
}

impl SeatEventRow {
    pub fn into_domain(self) -> tally_domain::seats::SeatEvent {
        tally_domain::seats::SeatEvent {
            id: tally_domain::seats::SeatEventId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            subscription_id: SubscriptionId::from_stored(self.subscription_id),
            feature_code: self.feature_code,
            previous_balance: self.previous_balance,
            new_balance: self.new_balance,
            ts: ts(self.ts_ms),
        }
    }
}

sql_row! {
    pub struct InvoiceRow {
        id: String,
        org_id: String,
        customer_id: String,
        subscription_id: Option<String>,
        invoice_number: String,
        status: String,
        invoice_type: String,
        subtotal: i64,
        credit_applied: i64,
        discount_amount: i64,
        period_start_ms: i64,
        period_end_ms: i64,
        issue_date_ms: i64,
        plan_name: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
        currency: String,
        memo: Option<String>,
        metadata: String,
    }
}

impl InvoiceRow {
    pub fn into_domain(self) -> Result<tally_domain::billing::Invoice, StoreError> {
        Ok(tally_domain::billing::Invoice {
            status: tally_domain::billing::InvoiceStatus::parse(&self.status)
                .ok_or_else(|| text_error("invoice status", &self.status))?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            subscription_id: self.subscription_id.map(SubscriptionId::from_stored),
            number: self.invoice_number,
            invoice_type: self.invoice_type,
            subtotal: Cents(self.subtotal),
            credit_applied: Cents(self.credit_applied),
            discount_amount: Cents(self.discount_amount),
            period: BillingPeriod {
                start: ts(self.period_start_ms),
                end: ts(self.period_end_ms),
            },
            issue_date: ts(self.issue_date_ms),
            plan_name: self.plan_name,
            metadata: match serde_json::from_str(&self.metadata) {
                Ok(serde_json::Value::Object(map)) => map,
                _ => return Err(text_error("invoice metadata", &self.metadata)),
            },
            currency: self.currency,
            memo: self.memo,
            lines: Vec::new(),
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

sql_row! {
    pub struct InvoiceLineRow {
        line_type: String,
        charge_type: String,
        feature_name: Option<String>,
        description: String,
        quantity: i64,
        unit_amount: i64,
        amount: i64,
        included_amount: Option<i64>,
        used_amount: Option<i64>,
        overage_amount: Option<i64>,
        seat_event_id: Option<String>,
        discount_type: Option<String>,
        discount_value: Option<i64>,
        discount_name: Option<String>,
    }
}

impl InvoiceLineRow {
    pub fn into_domain(self) -> Result<tally_domain::billing::InvoiceLine, StoreError> {
        use tally_domain::billing::{ChargeType, LineType};
        Ok(tally_domain::billing::InvoiceLine {
            line_type: LineType::parse(&self.line_type)
                .ok_or_else(|| text_error("line type", &self.line_type))?,
            charge_type: ChargeType::parse(&self.charge_type)
                .ok_or_else(|| text_error("charge type", &self.charge_type))?,
            feature_name: self.feature_name,
            description: self.description,
            quantity: self.quantity,
            unit_amount: Cents(self.unit_amount),
            amount: Cents(self.amount),
            included_amount: self.included_amount,
            used_amount: self.used_amount,
            overage_amount: self.overage_amount,
            seat_event_id: self.seat_event_id,
            discount: match (self.discount_type, self.discount_value, self.discount_name) {
                (Some(kind), Some(value), Some(name)) => {
                    Some(tally_domain::billing::LineDiscount {
                        discount_type: tally_domain::billing::LineDiscount::parse_type(&kind)
                            .ok_or_else(|| text_error("discount type", &kind))?,
                        value,
                        name,
                    })
                }
                _ => None,
            },
        })
    }
}

sql_row! {
    pub struct TrueUpRow {
        seat_event_id: String,
        subscription_id: String,
        feature_code: String,
        feature_name: String,
        units: i64,
        unit_price: i64,
        days_left: i64,
        period_days: i64,
        amount: i64,
        created_at_ms: i64,
    }
}

impl TrueUpRow {
    pub fn into_domain(self) -> tally_domain::billing::SeatTrueUp {
        tally_domain::billing::SeatTrueUp {
            seat_event_id: self.seat_event_id,
            subscription_id: SubscriptionId::from_stored(self.subscription_id),
            feature_code: self.feature_code,
            feature_name: self.feature_name,
            units: self.units,
            unit_price: Rate(self.unit_price),
            days_left: self.days_left,
            period_days: self.period_days,
            amount: Cents(self.amount),
            created_at: ts(self.created_at_ms),
        }
    }
}
