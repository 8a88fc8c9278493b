//! Features, plans, prices and plan features in 2026-07-11.

use crate::Livemode;
use crate::parts::PlanParts;
use serde::Serialize;
use tally_domain::catalog::{Feature, FeatureType, Overage, Plan, PlanFeature, PlanPrice};
use tally_domain::customer::Metadata;
use tally_domain::markets::PlanRegional;
use tally_domain::offers::Offer;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeatureOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub code: &'a str,
    #[serde(rename = "type")]
    pub feature_type: &'static str,
    pub description: Option<&'a str>,
    pub unit_name: Option<&'a str>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> FeatureOut<'a> {
    pub fn new(feature: &'a Feature, livemode: Livemode) -> Self {
        Self {
            id: feature.id.as_str(),
            name: &feature.name,
            code: &feature.code,
            feature_type: feature.feature_type.as_str(),
            description: feature.description.as_deref(),
            unit_name: feature.unit_name.as_deref(),
            created_at: feature.created_at.to_rfc3339(),
            updated_at: feature.updated_at.to_rfc3339(),
            object: "feature",
            livemode: livemode.0,
        }
    }
}

/// `overage` inside a plan's feature entry; `model` names the only pricing Tally has.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntryOverageOut {
    pub enabled: bool,
    pub model: Option<&'static str>,
    pub unit_price: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanFeatureEntryOut<'a> {
    pub code: &'a str,
    pub name: &'a str,
    #[serde(rename = "type")]
    pub feature_type: &'static str,
    pub unit_name: Option<&'a str>,
    pub enabled: bool,
    /// `null` for boolean features (`catalog.md` §4.1).
    pub included_amount: Option<i64>,
    pub unlimited: bool,
    pub overage: Option<EntryOverageOut>,
    #[schema(value_type = Vec<Object>)]
    pub regional_prices: Vec<serde_json::Value>,
}

impl<'a> PlanFeatureEntryOut<'a> {
    pub fn new(pf: &PlanFeature, feature: &'a Feature, regional: &PlanRegional) -> Self {
        let is_boolean = feature.feature_type == FeatureType::Boolean;
        Self {
            code: &feature.code,
            name: &feature.name,
            feature_type: feature.feature_type.as_str(),
            unit_name: feature.unit_name.as_deref(),
            enabled: pf.enabled,
            included_amount: (!is_boolean).then_some(pf.included_amount),
            unlimited: pf.unlimited,
            overage: (!is_boolean).then(|| EntryOverageOut {
                enabled: pf.overage.enabled,
                model: pf.overage.enabled.then_some("per_unit"),
                unit_price: pf.overage.unit_price.map(|r| r.0),
            }),
            regional_prices: crate::markets::feature_regional_prices(
                &regional.feature_regional_of(feature.id.as_str(), pf.overage.unit_price),
            ),
        }
    }
}

/// A price's legacy `introOffer`: the attached offer's terms when the legacy shape can show
/// them, else null (`commerce.md` §4.6).
pub fn intro_offer_view(offer: Option<&Offer>) -> Option<serde_json::Value> {
    let (kind, value, cycles) = offer.and_then(tally_domain::offers::legacy_terms)?;
    Some(serde_json::json!({
        "enabled": true,
        "discountType": kind,
        "discountValue": value,
        "durationCycles": cycles,
    }))
}

/// A price inside a legacy plan: no `id` (`catalog.md` §4.1).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanPriceEntryOut {
    pub billing_interval: &'static str,
    pub price: i64,
    pub is_default: bool,
    pub trial_days: i64,
    pub included_balance: Option<i64>,
    pub included_credits: Option<i64>,
    #[schema(value_type = Option<Object>)]
    pub intro_offer: Option<serde_json::Value>,
    #[schema(value_type = Vec<Object>)]
    pub regional_prices: Vec<serde_json::Value>,
}

impl PlanPriceEntryOut {
    pub fn new(price: &PlanPrice, regional: &PlanRegional, intro: Option<&Offer>) -> Self {
        Self {
            billing_interval: price.billing_interval.as_str(),
            price: price.price.0,
            is_default: price.is_default,
            trial_days: price.trial_days,
            included_balance: price.included_balance.map(|r| r.0),
            included_credits: price.included_credits,
            intro_offer: intro_offer_view(intro),
            regional_prices: crate::markets::regional_prices(&regional.regional_prices_of(price)),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanOut<'a, P: Serialize> {
    pub id: &'a str,
    pub name: &'a str,
    pub code: &'a str,
    pub description: Option<&'a str>,
    pub consumption_model: Option<&'static str>,
    pub is_public: bool,
    pub is_default: bool,
    pub is_free: bool,
    pub block_on_exhaustion: Option<bool>,
    pub sort_order: i64,
    pub plan_group_id: Option<&'a str>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<&'a Metadata>,
    pub created_at: String,
    pub updated_at: String,
    pub features: Vec<PlanFeatureEntryOut<'a>>,
    pub prices: Vec<P>,
    #[schema(value_type = Vec<Object>)]
    pub exchange_rates: Vec<serde_json::Value>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> PlanOut<'a, PlanPriceEntryOut> {
    pub fn new(parts: PlanParts<'a>, livemode: Livemode) -> Self {
        Self::with_prices(parts, livemode, PlanPriceEntryOut::new)
    }
}

impl<'a, P: Serialize> PlanOut<'a, P> {
    /// Shared with later versions, which change only the price entries.
    pub fn with_prices(
        parts: PlanParts<'a>,
        livemode: Livemode,
        price_entry: impl Fn(&'a PlanPrice, &'a PlanRegional, Option<&'a Offer>) -> P,
    ) -> Self {
        let plan: &'a Plan = parts.plan;
        Self {
            id: plan.id.as_str(),
            name: &plan.name,
            code: &plan.code,
            description: plan.description.as_deref(),
            consumption_model: plan.consumption_model.map(|m| m.as_str()),
            is_public: plan.is_public,
            is_default: false,
            is_free: plan.is_free,
            block_on_exhaustion: plan.block_on_exhaustion,
            sort_order: plan.sort_order,
            plan_group_id: plan.group.as_ref().map(|g| g.as_str()),
            metadata: plan.metadata.as_ref(),
            created_at: plan.created_at.to_rfc3339(),
            updated_at: plan.updated_at.to_rfc3339(),
            features: parts
                .features
                .iter()
                .map(|(pf, feature)| PlanFeatureEntryOut::new(pf, feature, parts.regional))
                .collect(),
            prices: parts
                .prices
                .iter()
                .map(|price| {
                    let intro = parts
                        .intro_offers
                        .iter()
                        .find(|(id, _)| id == price.id.as_str())
                        .map(|(_, offer)| offer);
                    price_entry(price, parts.regional, intro)
                })
                .collect(),
            exchange_rates: crate::markets::exchange_rates(parts.regional),
            object: "plan",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OverageOut {
    pub enabled: bool,
    pub unit_price: Option<i64>,
}

impl OverageOut {
    pub fn new(overage: &Overage) -> Self {
        Self {
            enabled: overage.enabled,
            unit_price: overage.unit_price.map(|r| r.0),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanFeatureOut<'a> {
    pub plan_id: &'a str,
    pub feature_id: &'a str,
    pub enabled: bool,
    pub included_amount: i64,
    pub unlimited: bool,
    pub overage: OverageOut,
    pub credits_per_unit: Option<i64>,
    pub pricing_mode: &'a str,
    pub margin: Option<i64>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> PlanFeatureOut<'a> {
    pub fn new(pf: &'a PlanFeature, livemode: Livemode) -> Self {
        Self::with_object(pf, livemode, "plan")
    }

    pub fn with_object(pf: &'a PlanFeature, livemode: Livemode, object: &'static str) -> Self {
        Self {
            plan_id: pf.plan_id.as_str(),
            feature_id: pf.feature_id.as_str(),
            enabled: pf.enabled,
            included_amount: pf.included_amount,
            unlimited: pf.unlimited,
            overage: OverageOut::new(&pf.overage),
            credits_per_unit: pf.credits_per_unit,
            pricing_mode: &pf.pricing_mode,
            margin: pf.margin,
            object,
            livemode: livemode.0,
        }
    }
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
    #[schema(value_type = Option<Object>)]
    pub intro_offer: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> PlanPriceOut<'a> {
    pub fn new(price: &'a PlanPrice, intro: Option<&Offer>, livemode: Livemode) -> Self {
        Self {
            id: price.id.as_str(),
            plan_id: price.plan_id.as_str(),
            billing_interval: price.billing_interval.as_str(),
            price: price.price.0,
            is_default: price.is_default,
            trial_days: price.trial_days,
            included_balance: price.included_balance.map(|r| r.0),
            included_credits: price.included_credits,
            intro_offer: intro_offer_view(intro),
            created_at: price.created_at.to_rfc3339(),
            updated_at: price.updated_at.to_rfc3339(),
            object: "plan",
            livemode: livemode.0,
        }
    }
}

/// The legacy answer to `PUT /plans/{id}/visibility`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanVisibilityOut<'a> {
    pub id: &'a str,
    pub is_public: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn plan_visibility(plan: &Plan, livemode: Livemode) -> PlanVisibilityOut<'_> {
    PlanVisibilityOut {
        id: plan.id.as_str(),
        is_public: plan.is_public,
        object: "plan",
        livemode: livemode.0,
    }
}

/// The legacy answer to `PUT /plans/{id}/prices/{priceId}/default`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultPriceOut<'a> {
    pub id: &'a str,
    pub is_default: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn default_price(price: &PlanPrice, livemode: Livemode) -> DefaultPriceOut<'_> {
    DefaultPriceOut {
        id: price.id.as_str(),
        is_default: true,
        object: "plan",
        livemode: livemode.0,
    }
}

/// `{id, removed: true, object, livemode}` for a detached plan feature.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemovedPlanFeatureOut<'a> {
    pub id: &'a str,
    pub removed: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn removed_plan_feature<'a>(
    feature_id: &'a str,
    object: &'static str,
    livemode: Livemode,
) -> RemovedPlanFeatureOut<'a> {
    RemovedPlanFeatureOut {
        id: feature_id,
        removed: true,
        object,
        livemode: livemode.0,
    }
}
