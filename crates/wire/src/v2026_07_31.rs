//! API version 2026-07-31 (also serves 2026-07-24): the direct generation. It reuses the
//! 2026-07-11 views and changes what `wire.md` §3.5 lists: object names (`customer_batch`,
//! `plan_feature`, `plan_price`), price entries with ids, direct subscription shapes with
//! `offerApplications` and `priceId`, and the test clock's `latestRun`. Frozen.

use crate::parts::{ClockParts, PlanParts, SubscriptionParts};
use crate::v2026_07_11::{
    BalanceEntryOut, BalanceOut, CancellationOut, Core, CreditsOut, FeatureUsageOut, PeriodOut,
    PlanRefOut, ScheduledPlanChangeOut, TestClockRunOut,
};
use crate::{BatchItemView, Livemode};
use serde::Serialize;
use std::collections::BTreeMap;
use tally_domain::Timestamp;
use tally_domain::catalog::{PlanFeature, PlanPrice};
use tally_domain::customer::Metadata;
use tally_domain::payments::SANDBOX_PROVIDER;
use utoipa::ToSchema;

pub use crate::v2026_07_11::{
    ApiKeyOut, CreatedApiKeyOut, CustomerBatchOut, CustomerOut, DeletedOut, FeatureOut,
    PlanFeatureOut, PlanOut, TestClockBillingOut, removed_plan_feature,
};

/// The 2026-07-11 batch view under its new `object` name.
pub fn customer_batch_out<'a>(
    items: &'a [BatchItemView<'a>],
    livemode: Livemode,
) -> CustomerBatchOut<'a> {
    CustomerBatchOut::with_object(items, livemode, "customer_batch")
}

pub fn plan_feature_out(pf: &PlanFeature, livemode: Livemode) -> PlanFeatureOut<'_> {
    PlanFeatureOut::with_object(pf, livemode, "plan_feature")
}

/// A price inside a direct plan: with its id and the direct-only empty fields.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanPriceEntryOut<'a> {
    pub id: &'a str,
    pub billing_interval: &'static str,
    pub price: i64,
    pub is_default: bool,
    pub trial_days: i64,
    pub included_balance: Option<i64>,
    pub included_credits: Option<i64>,
    /// The attached introductory offer (`commerce.md` §4.6).
    pub offer_id: Option<&'a str>,
    #[schema(value_type = crate::schema::Null)]
    pub inherits_from_price_id: Option<()>,
    #[schema(value_type = Object)]
    pub metadata: &'a Metadata,
    #[schema(value_type = Vec<Object>)]
    pub market_prices: Vec<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub regional_prices: Vec<serde_json::Value>,
}

impl<'a> PlanPriceEntryOut<'a> {
    pub fn new(
        price: &'a PlanPrice,
        regional: &tally_domain::markets::PlanRegional,
        intro: Option<&'a tally_domain::offers::Offer>,
    ) -> Self {
        Self {
            id: price.id.as_str(),
            billing_interval: price.billing_interval.as_str(),
            price: price.price.0,
            is_default: price.is_default,
            trial_days: price.trial_days,
            included_balance: price.included_balance.map(|r| r.0),
            included_credits: price.included_credits,
            offer_id: intro.map(|o| o.id.as_str()),
            inherits_from_price_id: None,
            metadata: &price.metadata,
            market_prices: crate::markets::market_prices(
                &regional.market_prices_of(price.id.as_str()),
            ),
            regional_prices: crate::markets::regional_prices(&regional.regional_prices_of(price)),
        }
    }
}

pub fn plan_out(parts: PlanParts<'_>, livemode: Livemode) -> PlanOut<'_, PlanPriceEntryOut<'_>> {
    PlanOut::with_prices(parts, livemode, PlanPriceEntryOut::new)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanPriceOut<'a> {
    pub id: &'a str,
    pub plan_id: &'a str,
    pub billing_interval: &'static str,
    pub price: i64,
    pub is_default: bool,
    pub trial_days: i64,
    pub included_balance: Option<i64>,
    pub included_credits: Option<i64>,
    /// The attached introductory offer (`commerce.md` §4.6).
    pub offer_id: Option<&'a str>,
    #[schema(value_type = crate::schema::Null)]
    pub inherits_from_price_id: Option<()>,
    #[schema(value_type = Object)]
    pub metadata: &'a Metadata,
    #[schema(value_type = Vec<Object>)]
    pub market_prices: Vec<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> PlanPriceOut<'a> {
    pub fn new(
        price: &'a PlanPrice,
        (market_prices, intro): (
            &[tally_domain::markets::MarketPrice],
            Option<&'a tally_domain::offers::Offer>,
        ),
        livemode: Livemode,
    ) -> Self {
        Self {
            id: price.id.as_str(),
            plan_id: price.plan_id.as_str(),
            billing_interval: price.billing_interval.as_str(),
            price: price.price.0,
            is_default: price.is_default,
            trial_days: price.trial_days,
            included_balance: price.included_balance.map(|r| r.0),
            included_credits: price.included_credits,
            offer_id: intro.map(|o| o.id.as_str()),
            inherits_from_price_id: None,
            metadata: &price.metadata,
            market_prices: crate::markets::market_prices(market_prices),
            created_at: price.created_at.to_rfc3339(),
            updated_at: price.updated_at.to_rfc3339(),
            object: "plan_price",
            livemode: livemode.0,
        }
    }
}

/// Fields that later versions add to every direct subscription shape; absent keys are skipped.
#[derive(Serialize, ToSchema, Default, Clone, Copy)]
pub struct Extras {
    /// 2026-07-24 only: `discount` (`commerce.md` §4.4), written by `CoreOut`.
    #[serde(skip)]
    pub discount: bool,
    /// 2026-08-27 on: every shape carries `pause` (`lifecycle.md` §2), written by `CoreOut`.
    #[serde(skip)]
    pub pause: bool,
}

fn time(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_rfc3339)
}

/// Everything but the shape-specific tail, shared by the three direct subscription shapes.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CoreOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub plan: PlanRefOut<'a>,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub status: &'static str,
    pub billing_interval: Option<&'static str>,
    pub trial_ends_at: Option<String>,
    pub current_period: Option<PeriodOut>,
    pub cancellation: Option<CancellationOut<'a>>,
    pub cancel_at_period_end: bool,
    pub scheduled_plan_change: Option<ScheduledPlanChangeOut<'a>>,
    pub start_date: String,
    pub end_date: Option<String>,
    pub billing_day_of_month: Option<u32>,
    pub next_billing_date: Option<String>,
    /// The checkout page while the subscription is `pending_payment`, else null.
    pub checkout_url: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
    #[schema(value_type = Vec<Object>)]
    pub offer_applications: Vec<serde_json::Value>,
    /// 2026-08-27 on: the pause, or null; absent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pause: Option<Option<PauseOut>>,
    /// 2026-07-24 only: the discount running now, else the next one, or null.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<Option<crate::offers::DiscountOut>>,
    #[serde(flatten)]
    pub extras: Extras,
}

/// A pause scheduled or in effect (`lifecycle.md` §2).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PauseOut {
    pub status: &'static str,
    pub mode: &'static str,
    pub requested_at: String,
    pub effective_at: String,
    pub resume_at: Option<String>,
}

impl<'a> CoreOut<'a> {
    fn new(parts: SubscriptionParts<'a>, with_base_price: bool, extras: Extras) -> Self {
        let core = Core { parts };
        let s = parts.subscription;
        Self {
            id: s.id.as_str(),
            customer_id: s.customer_id.as_str(),
            plan: core.plan(with_base_price),
            name: &s.name,
            description: s.description.as_deref(),
            status: s.status.as_str(),
            billing_interval: s.billing_interval.map(|i| i.as_str()),
            trial_ends_at: time(s.trial_ends_at),
            current_period: core.current_period(),
            cancellation: core.cancellation(),
            cancel_at_period_end: s.cancel_at_period_end(),
            scheduled_plan_change: core.scheduled_plan_change(),
            start_date: s.start_date.to_rfc3339(),
            end_date: time(s.end_date()),
            billing_day_of_month: s.billing_day_of_month(),
            next_billing_date: time(s.next_billing_date()),
            checkout_url: parts.checkout_url,
            created_at: s.created_at.to_rfc3339(),
            updated_at: s.updated_at.to_rfc3339(),
            offer_applications: parts
                .offers
                .iter()
                .map(|a| crate::offers::application(a, parts.now))
                .collect(),
            discount: extras.discount.then(|| {
                crate::offers::discount(parts.offers, parts.price.map(|p| p.price.0), parts.now)
            }),
            pause: extras.pause.then(|| {
                s.pause.as_ref().map(|p| PauseOut {
                    status: p.status(),
                    mode: p.mode.as_str(),
                    requested_at: p.requested_at.to_rfc3339(),
                    effective_at: p.effective_at.to_rfc3339(),
                    resume_at: time(p.resume_at),
                })
            }),
            extras,
        }
    }
}

/// The full direct subscription (get, get active, cancel, uncancel).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionOut<'a> {
    #[serde(flatten)]
    pub core: CoreOut<'a>,
    pub consumption_model: &'static str,
    pub features: Vec<FeatureUsageOut<'a>>,
    pub credits: Option<CreditsOut>,
    pub balance: Option<BalanceOut>,
    pub price_id: Option<&'a str>,
    /// While a plan grant runs: `{id, plan: {id, name}, expiresAt}` (`commerce.md` §6).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub plan_grant: Option<serde_json::Value>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> SubscriptionOut<'a> {
    pub fn new(parts: SubscriptionParts<'a>, livemode: Livemode, extras: Extras) -> Self {
        let core = Core { parts };
        Self {
            core: CoreOut::new(parts, true, extras),
            consumption_model: parts.plan.consumption().as_str(),
            features: FeatureUsageOut::list(&parts, true, true),
            credits: core.credits(),
            balance: core.balance(),
            price_id: parts.subscription.price_id.as_ref().map(|p| p.as_str()),
            plan_grant: parts.grant.map(|g| {
                serde_json::json!({
                    "id": g.grant.id,
                    "plan": {"id": g.grant.plan_id, "name": g.target_plan_name},
                    "expiresAt": g.grant.expires_at.map(Timestamp::to_rfc3339),
                })
            }),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

/// The direct answer to create (`CreatedSubscription`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedSubscriptionOut<'a> {
    #[serde(flatten)]
    pub core: CoreOut<'a>,
    /// `"commet"` with a checkout page, else null.
    pub checkout_provider: Option<&'static str>,
    pub price_id: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> CreatedSubscriptionOut<'a> {
    pub fn new(parts: SubscriptionParts<'a>, livemode: Livemode, extras: Extras) -> Self {
        Self {
            core: CoreOut::new(parts, false, extras),
            checkout_provider: parts.checkout_url.map(|_| SANDBOX_PROVIDER),
            price_id: parts.subscription.price_id.as_ref().map(|p| p.as_str()),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

/// A direct list item (`SubscriptionSummary`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionSummaryOut<'a> {
    #[serde(flatten)]
    pub core: CoreOut<'a>,
    pub price_id: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> SubscriptionSummaryOut<'a> {
    pub fn new(parts: SubscriptionParts<'a>, livemode: Livemode, extras: Extras) -> Self {
        Self {
            core: CoreOut::new(parts, false, extras),
            price_id: parts.subscription.price_id.as_ref().map(|p| p.as_str()),
            object: "subscription",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestClockOut<'a> {
    pub simulated_time: Option<String>,
    pub is_active: bool,
    pub now: String,
    pub latest_run: Option<TestClockRunOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> TestClockOut<'a> {
    pub fn new(clock: ClockParts<'a>) -> Self {
        Self {
            simulated_time: time(clock.simulated_time),
            is_active: clock.simulated_time.is_some(),
            now: clock.now.to_rfc3339(),
            latest_run: clock.latest_run.map(TestClockRunOut::new),
            object: "test_clock",
            livemode: false,
        }
    }
}

/// `{balances: {code: {current, asOf}}, object: "seat_balance_collection", livemode}`.
#[derive(Serialize, ToSchema)]
pub struct SeatBalancesOut<'a> {
    pub balances: BTreeMap<&'a str, BalanceEntryOut>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn seat_balances(
    balances: &[(String, i64, Timestamp)],
    livemode: Livemode,
) -> SeatBalancesOut<'_> {
    SeatBalancesOut {
        balances: crate::v2026_07_11::balance_map(balances),
        object: "seat_balance_collection",
        livemode: livemode.0,
    }
}
