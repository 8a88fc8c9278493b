//! Usage events, adjustments, checks and feature access (`usage.md` §4), per generation. The
//! direct shapes are unions the SDKs tell apart by one field (`consumptionModel`, `type`); here
//! they are one struct each whose other fields are skipped when they do not apply.

use crate::{Livemode, to_value};
use serde::Serialize;
use serde_json::{Value, json};
use tally_domain::catalog::{ConsumptionModel, FeatureType};
use tally_domain::period::BillingPeriod;
use tally_domain::seats::SeatEvent;
use tally_domain::usage::{Consumption, UsageEvent, UsageEventKind};
use tally_domain::{Generation, Timestamp};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct PropertyOut<'a> {
    pub property: &'a str,
    pub value: &'a str,
}

/// A legacy property: with an id of its own and its event's id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyPropertyOut<'a> {
    pub id: String,
    pub usage_event_id: &'a str,
    pub property: &'a str,
    pub value: &'a str,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsumptionOut {
    pub model: &'static str,
    pub deducted: i64,
    pub remaining: i64,
    pub blocked: bool,
}

impl ConsumptionOut {
    fn new(c: &Consumption) -> Self {
        Self {
            model: c.model.as_str(),
            deducted: c.deducted,
            remaining: c.remaining,
            blocked: c.blocked,
        }
    }
}

/// The direct `UsageEvent`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageEventOut<'a> {
    pub id: &'a str,
    pub feature_code: &'a str,
    pub value: i64,
    pub customer_id: &'a str,
    pub event_id: Option<&'a str>,
    pub ts: String,
    pub created_at: String,
    pub properties: Vec<PropertyOut<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption: Option<ConsumptionOut>,
    pub object: &'static str,
    pub livemode: bool,
}

/// The legacy `UsageEvent` (`value` and `consumption` are kept as extra keys).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUsageEventOut<'a> {
    pub id: &'a str,
    pub organization_id: &'a str,
    pub customer_id: &'a str,
    pub feature: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<&'a str>,
    pub ts: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub properties: Option<Vec<LegacyPropertyOut<'a>>>,
    pub created_at: String,
    pub value: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption: Option<ConsumptionOut>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn usage_event(generation: Generation, event: &UsageEvent, livemode: Livemode) -> Value {
    let consumption = event.consumption.as_ref().map(ConsumptionOut::new);
    match generation {
        Generation::Direct => to_value(UsageEventOut {
            id: event.id.as_str(),
            feature_code: &event.feature_code,
            value: event.value,
            customer_id: event.customer_id.as_str(),
            event_id: event.event_key.as_deref(),
            ts: event.ts.to_rfc3339(),
            created_at: event.created_at.to_rfc3339(),
            properties: event
                .properties
                .iter()
                .map(|p| PropertyOut {
                    property: &p.property,
                    value: &p.value,
                })
                .collect(),
            consumption,
            object: "usage_event",
            livemode: livemode.0,
        }),
        Generation::Legacy => to_value(LegacyUsageEventOut {
            id: event.id.as_str(),
            organization_id: event.org_id.as_str(),
            customer_id: event.customer_id.as_str(),
            feature: &event.feature_code,
            idempotency_key: event.event_key.as_deref(),
            ts: event.ts.to_rfc3339(),
            properties: (!event.properties.is_empty()).then(|| {
                event
                    .properties
                    .iter()
                    .enumerate()
                    .map(|(n, p)| LegacyPropertyOut {
                        id: event.id.property_id(n),
                        usage_event_id: event.id.as_str(),
                        property: &p.property,
                        value: &p.value,
                        created_at: event.created_at.to_rfc3339(),
                    })
                    .collect()
            }),
            created_at: event.created_at.to_rfc3339(),
            value: event.value,
            consumption,
            object: "usage_event",
            livemode: livemode.0,
        }),
    }
}

/// `UsageAdjustment`: the direct spelling names the feature `featureCode`, the legacy one
/// `feature` and echoes the `idempotencyKey`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageAdjustmentOut<'a> {
    pub id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<&'a str>,
    pub value: i64,
    pub previous_value: i64,
    pub adjustment: i64,
    pub customer_id: &'a str,
    /// Legacy only (`null` when none was sent).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub idempotency_key: Option<Option<&'a str>>,
    pub reason: Option<&'a str>,
    pub ts: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature_code: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn usage_adjustment(generation: Generation, event: &UsageEvent, livemode: Livemode) -> Value {
    let previous = match event.kind {
        UsageEventKind::Set { previous } => previous,
        UsageEventKind::Track => 0,
    };
    let legacy = generation == Generation::Legacy;
    to_value(UsageAdjustmentOut {
        id: event.id.as_str(),
        feature: legacy.then_some(event.feature_code.as_str()),
        value: event.value,
        previous_value: previous,
        adjustment: event.value - previous,
        customer_id: event.customer_id.as_str(),
        idempotency_key: legacy.then_some(event.event_key.as_deref()),
        reason: event.reason.as_deref(),
        ts: event.ts.to_rfc3339(),
        created_at: event.created_at.to_rfc3339(),
        feature_code: (!legacy).then_some(event.feature_code.as_str()),
        object: if legacy {
            "usage_event"
        } else {
            "usage_adjustment"
        },
        livemode: livemode.0,
    })
}

/// The figures of a check, per consumption model (`usage.md` §3.3).
#[derive(Debug, Clone, Copy)]
pub enum CheckFigures {
    Metered {
        current: i64,
        remaining: i64,
        unlimited: bool,
        included: i64,
        overage_enabled: bool,
        overage_unit_price: Option<i64>,
    },
    Credits {
        credits_per_unit: i64,
        estimated_credits: i64,
        plan_credits: i64,
        purchased_credits: i64,
        total_credits: i64,
    },
    Balance {
        unit_price: i64,
        estimated_amount: i64,
        current_balance: i64,
        block_on_exhaustion: bool,
    },
}

/// A check's verdict as the views need it.
#[derive(Debug, Clone, Copy)]
pub struct CheckParts<'a> {
    pub allowed: bool,
    pub subscription_status: &'static str,
    pub feature_code: &'a str,
    pub quantity: i64,
    pub reason: Option<&'static str>,
    pub message: Option<&'a str>,
    pub model: ConsumptionModel,
    pub figures: CheckFigures,
    /// The subscription's currency.
    pub currency: &'a str,
}

/// The model's fields of a check; the other models' are skipped.
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct CheckFiguresOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_enabled: Option<bool>,
    /// Present (possibly null) on metered checks.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub overage_unit_price: Option<Option<i64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_credits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_credits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purchased_credits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_credits: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub estimated_amount: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_balance: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_on_exhaustion: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

impl CheckFiguresOut {
    fn new(figures: CheckFigures, currency: &str) -> Self {
        match figures {
            CheckFigures::Metered {
                current,
                remaining,
                unlimited,
                included,
                overage_enabled,
                overage_unit_price,
            } => Self {
                current: Some(current),
                remaining: Some(remaining),
                unlimited: Some(unlimited),
                included: Some(included),
                overage_enabled: Some(overage_enabled),
                overage_unit_price: Some(overage_unit_price),
                ..Self::default()
            },
            CheckFigures::Credits {
                credits_per_unit,
                estimated_credits,
                plan_credits,
                purchased_credits,
                total_credits,
            } => Self {
                credits_per_unit: Some(credits_per_unit),
                estimated_credits: Some(estimated_credits),
                plan_credits: Some(plan_credits),
                purchased_credits: Some(purchased_credits),
                total_credits: Some(total_credits),
                ..Self::default()
            },
            CheckFigures::Balance {
                unit_price,
                estimated_amount,
                current_balance,
                block_on_exhaustion,
            } => Self {
                unit_price: Some(unit_price),
                estimated_amount: Some(estimated_amount),
                current_balance: Some(current_balance),
                block_on_exhaustion: Some(block_on_exhaustion),
                currency: Some(currency.to_owned()),
                ..Self::default()
            },
        }
    }
}

/// The direct `UsageCheck`, a union on `consumptionModel`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UsageCheckOut<'a> {
    pub allowed: bool,
    pub subscription_status: &'static str,
    pub feature_code: &'a str,
    pub quantity: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    pub consumption_model: &'static str,
    #[serde(flatten)]
    pub figures: CheckFiguresOut,
    pub object: &'static str,
    pub livemode: bool,
}

/// The legacy flat `UsageCheckResult`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyUsageCheckOut<'a> {
    pub allowed: bool,
    pub consumption_model: &'static str,
    pub feature: &'a str,
    pub quantity: i64,
    #[serde(flatten)]
    pub figures: CheckFiguresOut,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn usage_check(generation: Generation, check: &CheckParts<'_>, livemode: Livemode) -> Value {
    let figures = CheckFiguresOut::new(check.figures, check.currency);
    match generation {
        Generation::Direct => to_value(UsageCheckOut {
            allowed: check.allowed,
            subscription_status: check.subscription_status,
            feature_code: check.feature_code,
            quantity: check.quantity,
            reason: check.reason,
            message: check.message,
            consumption_model: check.model.as_str(),
            figures,
            object: "usage_check",
            livemode: livemode.0,
        }),
        Generation::Legacy => to_value(LegacyUsageCheckOut {
            allowed: check.allowed,
            consumption_model: check.model.as_str(),
            feature: check.feature_code,
            quantity: check.quantity,
            figures,
            reason: check.reason,
            message: check.message,
            object: "usage_check",
            livemode: livemode.0,
        }),
    }
}

/// One feature's access, as the app computed it (`usage.md` §4).
#[derive(Debug, Clone)]
pub struct AccessParts<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit_name: Option<&'a str>,
    pub feature_type: FeatureType,
    pub allowed: bool,
    pub reason: Option<&'static str>,
    /// `Some` for `canUse` answers.
    pub will_be_charged: Option<bool>,
    /// Lookups (`get`) add `reason` when refused; list items do not.
    pub is_lookup: bool,
    pub figures: AccessFigures,
    /// The base plan's own access while a plan grant runs (`commerce.md` §6).
    pub base_access: Option<BaseAccess>,
    /// The subscription's currency, that unit prices and amounts are in.
    pub currency: &'a str,
}

/// What the base plan alone gives of a feature, while a plan grant runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaseAccess {
    Enabled(bool),
    Units { included: i64, unlimited: bool },
}

#[derive(Debug, Clone, Copy)]
pub enum AccessFigures {
    Boolean {
        enabled: bool,
    },
    Counted {
        period: Option<BillingPeriod>,
        used: i64,
        included: i64,
        remaining: Option<i64>,
        over_units: i64,
        unlimited: bool,
        overage_enabled: bool,
        unit_price: Option<i64>,
        billed: Option<i64>,
        metered: bool,
    },
    Credits {
        period: Option<BillingPeriod>,
        used: i64,
        credits_per_unit: i64,
        credits_consumed: i64,
        available_units: i64,
    },
    Balance {
        period: Option<BillingPeriod>,
        used: i64,
        /// Cents.
        spent_cents: i64,
        available_units: Option<i64>,
        unit_price: Option<i64>,
        blocks: bool,
    },
}

#[derive(Serialize, ToSchema)]
pub struct PeriodRangeOut {
    pub start: String,
    pub end: String,
}

fn period_range(period: Option<BillingPeriod>, fallback: Timestamp) -> PeriodRangeOut {
    let p = period.unwrap_or(BillingPeriod {
        start: fallback,
        end: fallback,
    });
    PeriodRangeOut {
        start: p.start.to_rfc3339(),
        end: p.end.to_rfc3339(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct MoneyOut {
    pub amount: i64,
    pub currency: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scale: Option<i64>,
}

fn rate(amount: i64, currency: &str) -> MoneyOut {
    MoneyOut {
        amount,
        currency: currency.to_owned(),
        scale: Some(10_000),
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverageOut {
    pub enabled: bool,
    pub units: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<MoneyOut>,
}

/// `usage` (seats, quota) or `consumption` (usage features) of a direct feature access.
#[derive(Serialize, ToSchema, Default)]
#[serde(rename_all = "camelCase")]
pub struct AccessUsageOut {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<PeriodRangeOut>,
    pub units_used: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage: Option<OverageOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_per_unit: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credits_consumed: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spent: Option<MoneyOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_units: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_price: Option<MoneyOut>,
}

/// The direct `FeatureAccess` (a union on `type`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureAccessOut<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub unit_name: Option<&'a str>,
    pub allowed: bool,
    #[serde(rename = "type")]
    pub feature_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consumption: Option<AccessUsageOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<AccessUsageOut>,
    /// `canUse` answers (Tally serves `action=canUse` in every version).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_be_charged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    /// While a plan grant runs: `{enabled}` or `{includedUnits, unlimited}` of the base plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub base_access: Option<Value>,
    pub object: &'static str,
    pub livemode: bool,
}

/// The legacy flat `FeatureAccess` / `FeatureLookup`: keys that do not apply are omitted.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegacyFeatureAccessOut<'a> {
    pub code: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub feature_type: &'static str,
    pub allowed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub included: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remaining: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_quantity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_unit_price: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unlimited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overage_enabled: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billed_quantity: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub will_be_charged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn feature_access(
    generation: Generation,
    access: &AccessParts<'_>,
    now: Timestamp,
    livemode: Livemode,
) -> Value {
    let reason = (access.is_lookup && !access.allowed)
        .then_some(access.reason)
        .flatten();
    match generation {
        Generation::Legacy => to_value(legacy_access(access, reason, livemode)),
        Generation::Direct => to_value(direct_access(access, reason, now, livemode)),
    }
}

/// A feature as `customer.state_changed` lists it (`webhooks.md` §5.3): the feature access
/// values without the object's own keys. 2026-07-11 lists every flat field, null where it does
/// not apply.
pub fn state_feature(generation: Generation, access: &AccessParts<'_>, now: Timestamp) -> Value {
    let mut item = match generation {
        Generation::Legacy => to_value(legacy_access(access, None, Livemode(false))),
        Generation::Direct => to_value(direct_access(access, None, now, Livemode(false))),
    };
    if let Some(fields) = item.as_object_mut() {
        for key in ["object", "livemode", "reason", "willBeCharged"] {
            fields.remove(key);
        }
        if generation == Generation::Legacy {
            for key in [
                "enabled",
                "current",
                "included",
                "remaining",
                "overageQuantity",
                "overageUnitPrice",
                "unlimited",
                "overageEnabled",
                "billedQuantity",
            ] {
                fields.entry(key).or_insert(Value::Null);
            }
        }
    }
    item
}

fn legacy_access<'a>(
    access: &AccessParts<'a>,
    reason: Option<&'static str>,
    livemode: Livemode,
) -> LegacyFeatureAccessOut<'a> {
    let mut out = LegacyFeatureAccessOut {
        code: access.code,
        name: access.name,
        feature_type: access.feature_type.as_str(),
        allowed: access.allowed,
        enabled: None,
        current: None,
        included: None,
        remaining: None,
        overage_quantity: None,
        overage_unit_price: None,
        unlimited: None,
        overage_enabled: None,
        billed_quantity: None,
        will_be_charged: access.will_be_charged,
        reason,
        object: "feature",
        livemode: livemode.0,
    };
    match access.figures {
        AccessFigures::Boolean { enabled } => out.enabled = Some(enabled),
        AccessFigures::Counted {
            used,
            included,
            remaining,
            over_units,
            unlimited,
            overage_enabled,
            unit_price,
            billed,
            ..
        } => {
            out.current = Some(used);
            out.included = Some(included);
            out.remaining = remaining;
            out.overage_quantity = Some(over_units);
            out.overage_unit_price = unit_price;
            out.unlimited = Some(unlimited);
            out.overage_enabled = Some(overage_enabled);
            out.billed_quantity = billed;
        }
        AccessFigures::Credits {
            used,
            available_units,
            ..
        } => {
            out.current = Some(used);
            out.remaining = Some(available_units);
            out.unlimited = Some(false);
            out.overage_enabled = Some(false);
        }
        AccessFigures::Balance {
            used,
            available_units,
            blocks,
            ..
        } => {
            out.current = Some(used);
            out.remaining = available_units;
            out.unlimited = Some(false);
            out.overage_enabled = Some(!blocks);
        }
    }
    out
}

fn direct_access<'a>(
    access: &AccessParts<'a>,
    reason: Option<&'static str>,
    now: Timestamp,
    livemode: Livemode,
) -> FeatureAccessOut<'a> {
    let mut out = FeatureAccessOut {
        code: access.code,
        name: access.name,
        unit_name: access.unit_name,
        allowed: access.allowed,
        feature_type: access.feature_type.as_str(),
        enabled: None,
        consumption: None,
        usage: None,
        will_be_charged: access.will_be_charged,
        reason,
        base_access: access.base_access.map(|base| match base {
            BaseAccess::Enabled(enabled) => json!({ "enabled": enabled }),
            BaseAccess::Units {
                included,
                unlimited,
            } => json!({ "includedUnits": included, "unlimited": unlimited }),
        }),
        object: "feature_access",
        livemode: livemode.0,
    };
    match access.figures {
        AccessFigures::Boolean { enabled } => out.enabled = Some(enabled),
        AccessFigures::Counted {
            period,
            used,
            included,
            remaining,
            over_units,
            unlimited,
            overage_enabled,
            unit_price,
            billed,
            metered,
        } => {
            let usage = AccessUsageOut {
                model: metered.then_some("metered"),
                period: Some(period_range(period, now)),
                units_used: used,
                included_units: Some(included),
                remaining_units: remaining,
                unlimited: Some(unlimited),
                overage: Some(OverageOut {
                    enabled: overage_enabled,
                    units: over_units,
                    unit_price: unit_price.map(|u| rate(u, access.currency)),
                }),
                billed_units: billed,
                ..AccessUsageOut::default()
            };
            if metered {
                out.consumption = Some(usage);
            } else {
                out.usage = Some(usage);
            }
        }
        AccessFigures::Credits {
            period,
            used,
            credits_per_unit,
            credits_consumed,
            available_units,
        } => {
            out.consumption = Some(AccessUsageOut {
                model: Some("credits"),
                period: Some(period_range(period, now)),
                units_used: used,
                credits_per_unit: Some(credits_per_unit),
                credits_consumed: Some(credits_consumed),
                available_units: Some(available_units),
                ..AccessUsageOut::default()
            });
        }
        AccessFigures::Balance {
            period,
            used,
            spent_cents,
            available_units,
            unit_price,
            ..
        } => {
            out.consumption = Some(AccessUsageOut {
                model: Some("balance"),
                period: Some(period_range(period, now)),
                units_used: used,
                spent: Some(MoneyOut {
                    amount: spent_cents,
                    currency: access.currency.to_owned(),
                    scale: None,
                }),
                available_units,
                unit_price: unit_price.map(|u| rate(u, access.currency)),
                ..AccessUsageOut::default()
            });
        }
    }
    out
}

/// `UsageQuotaEvent`: one change of a quota balance.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaEventOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub feature_code: &'a str,
    pub previous_balance: i64,
    pub new_balance: i64,
    pub ts: String,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

/// The event's `object` is `usage_quota` in legacy, `usage_quota_event` in direct.
pub fn quota_event(generation: Generation, event: &SeatEvent, livemode: Livemode) -> Value {
    to_value(QuotaEventOut {
        id: event.id.as_str(),
        customer_id: event.customer_id.as_str(),
        feature_code: &event.feature_code,
        previous_balance: event.previous_balance,
        new_balance: event.new_balance,
        ts: event.ts.to_rfc3339(),
        created_at: event.ts.to_rfc3339(),
        object: match generation {
            Generation::Legacy => "usage_quota",
            Generation::Direct => "usage_quota_event",
        },
        livemode: livemode.0,
    })
}

/// One quota as the reads show it.
#[derive(Debug, Clone, Copy)]
pub struct QuotaParts<'a> {
    pub feature_code: &'a str,
    pub current: i64,
    pub included: i64,
    pub remaining: Option<i64>,
    pub billed: i64,
    pub unlimited: bool,
    pub overage_enabled: bool,
    pub as_of: Option<Timestamp>,
}

/// `UsageQuota`, the same in every version.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct QuotaOut<'a> {
    pub feature_code: &'a str,
    pub current: i64,
    pub included: i64,
    pub remaining: Option<i64>,
    pub billed_quantity: i64,
    pub unlimited: bool,
    pub overage_enabled: bool,
    pub as_of: Option<String>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn quota(parts: &QuotaParts<'_>, livemode: Livemode) -> Value {
    to_value(QuotaOut {
        feature_code: parts.feature_code,
        current: parts.current,
        included: parts.included,
        remaining: parts.remaining,
        billed_quantity: parts.billed,
        unlimited: parts.unlimited,
        overage_enabled: parts.overage_enabled,
        as_of: parts.as_of.map(Timestamp::to_rfc3339),
        object: "usage_quota",
        livemode: livemode.0,
    })
}
