//! Offers, promo codes, offers placed on subscriptions and the legacy `discount`
//! (`commerce.md` §4).

use crate::{Livemode, to_value};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tally_domain::offers::{
    CurrencyAmount, Offer, OfferApplication, Phase, PlacedPhase, PromoCode, legacy_terms,
};
use tally_domain::period::BillingInterval;
use tally_domain::{ApiVersion, Generation, Timestamp};
use utoipa::ToSchema;

fn time(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_rfc3339)
}

/// A phase as offers show it: every phase but a trial carries `durationInterval`.
fn phase(phase: &Phase) -> Value {
    let list = |amounts: &[CurrencyAmount]| {
        amounts
            .iter()
            .map(|a| json!({"currency": a.currency, "amount": a.amount}))
            .collect::<Vec<_>>()
    };
    let interval = phase.interval().map(BillingInterval::as_str);
    match phase {
        Phase::FreeTrial { days } => json!({"type": "free_trial", "durationDays": days}),
        Phase::Percentage {
            cycles,
            basis_points,
        } => {
            json!({"type": "percentage", "durationCycles": cycles, "durationInterval": interval, "percentage": basis_points})
        }
        Phase::AmountOff { cycles, amounts } => {
            json!({"type": "amount_off", "durationCycles": cycles, "durationInterval": interval, "amounts": list(amounts)})
        }
        Phase::FixedPrice { cycles, prices, .. } => {
            json!({"type": "fixed_price", "durationCycles": cycles, "durationInterval": interval, "prices": list(prices)})
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfferOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    #[schema(value_type = Vec<Object>)]
    pub phases: Vec<Value>,
    #[schema(value_type = Object)]
    pub metadata: &'a Map<String, Value>,
    pub starts_at: Option<String>,
    pub ends_at: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn offer(offer: &Offer, livemode: Livemode) -> Value {
    to_value(OfferOut {
        id: &offer.id,
        name: &offer.name,
        phases: offer.phases.iter().map(phase).collect(),
        metadata: &offer.metadata,
        starts_at: time(offer.starts_at),
        ends_at: time(offer.ends_at),
        active: offer.active,
        created_at: offer.created_at.to_rfc3339(),
        updated_at: offer.updated_at.to_rfc3339(),
        object: "offer",
        livemode: livemode.0,
    })
}

/// A deleted offer: `{deleted: true}`, without its id.
#[derive(Serialize, ToSchema)]
pub struct DeletedOfferOut {
    pub deleted: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn deleted_offer(livemode: Livemode) -> Value {
    to_value(DeletedOfferOut {
        deleted: true,
        object: "offer",
        livemode: livemode.0,
    })
}

/// A promo code: direct versions name the offer, legacy ones show its first phase's terms.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PromoCodeOut<'a> {
    pub id: &'a str,
    pub code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offer_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_type: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount_value: Option<i64>,
    /// Legacy only (null there means for ever).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>)]
    pub duration_cycles: Option<Option<i64>>,
    pub billing_interval: Option<&'static str>,
    pub max_redemptions: Option<i64>,
    pub expires_at: Option<String>,
    pub is_active: bool,
    pub redemption_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn promo_code(
    version: ApiVersion,
    code: &PromoCode,
    offer: &Offer,
    livemode: Livemode,
) -> Value {
    let legacy = version.generation() == Generation::Legacy;
    let terms = legacy.then(|| legacy_terms(offer)).flatten();
    to_value(PromoCodeOut {
        id: &code.id,
        code: &code.code,
        offer_id: (!legacy).then_some(code.offer_id.as_str()),
        discount_type: terms.map(|t| t.0),
        discount_value: terms.map(|t| t.1),
        duration_cycles: terms.map(|t| t.2),
        billing_interval: code.billing_interval.map(BillingInterval::as_str),
        max_redemptions: code.max_redemptions,
        expires_at: time(code.expires_at),
        is_active: code.active,
        redemption_count: code.redemption_count,
        created_at: code.created_at.to_rfc3339(),
        updated_at: code.updated_at.to_rfc3339(),
        object: "promo_code",
        livemode: livemode.0,
    })
}

/// A placed phase: every phase carries `durationInterval`; amounts are the one in the
/// application's currency.
fn placed(placed: &PlacedPhase, currency: &str) -> Value {
    let mut value = phase(&placed.phase);
    let in_currency = |list: &[CurrencyAmount]| {
        list.iter()
            .find(|a| a.currency == currency)
            .map_or(0, |a| a.amount)
    };
    let object = value.as_object_mut().expect("a phase is an object");
    match &placed.phase {
        Phase::FreeTrial { .. } => {
            object.insert("durationInterval".into(), Value::Null);
        }
        Phase::AmountOff { amounts, .. } => {
            object.remove("amounts");
            object.insert("amount".into(), in_currency(amounts).into());
        }
        Phase::FixedPrice { prices, .. } => {
            object.remove("prices");
            object.insert("price".into(), in_currency(prices).into());
        }
        Phase::Percentage { .. } => {}
    }
    object.insert("startsAt".into(), placed.starts_at.to_rfc3339().into());
    object.insert("endsAt".into(), time(placed.ends_at).into());
    value
}

/// An offer placed on a subscription (`SubscriptionOfferApplication`).
pub fn application(application: &OfferApplication, now: Timestamp) -> Value {
    let first = application.first_period;
    json!({
        "id": application.id,
        "name": application.name,
        "appliesTo": application.price_id.as_ref().map(|id| json!({"type": "plan_price", "id": id})),
        "offerId": application.offer_id,
        "source": application.source.as_str(),
        "status": application.status(now),
        "currency": application.currency,
        "subtotal": first.map(|f| f.0.0),
        "discountAmount": first.map(|f| f.1.0),
        "total": first.map(|f| f.2.0),
        "phases": application.phases.iter().map(|p| placed(p, &application.currency)).collect::<Vec<_>>(),
        "quotedAt": application.applied_at.to_rfc3339(),
        "expiresAt": time(application.expires_at),
        "appliedAt": application.applied_at.to_rfc3339(),
    })
}

/// The legacy (and 2026-07-24) `discount`: the discount running now, else the next one.
#[derive(Serialize, ToSchema, Clone)]
#[serde(rename_all = "camelCase")]
pub struct DiscountOut {
    #[serde(rename = "type")]
    pub discount_type: &'static str,
    pub value: i64,
    pub name: String,
    pub ends_at: Option<String>,
}

/// The discount of `offers` at `now`, against base price `base` (cents).
pub fn discount(
    offers: &[OfferApplication],
    base: Option<i64>,
    now: Timestamp,
) -> Option<DiscountOut> {
    offers.iter().rev().find_map(|application| {
        let placed = application.current_or_next(now)?;
        let (discount_type, value) = match &placed.phase {
            Phase::Percentage { basis_points, .. } => ("percentage", *basis_points),
            other => (
                "amount",
                other
                    .discount(
                        tally_domain::money::Cents(base.unwrap_or(0)),
                        &application.currency,
                    )
                    .map_or(0, |d| d.0),
            ),
        };
        Some(DiscountOut {
            discount_type,
            value,
            name: application.discount_name().to_owned(),
            ends_at: time(placed.ends_at),
        })
    })
}
