//! Markets, market and regional prices (`commerce.md` §7).

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::{Map, Value, json};
use tally_domain::ApiVersion;
use tally_domain::markets::{
    ExchangeRate, Market, MarketPrice, PlanRegional, RegionalOverage, RegionalPrice,
};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub country_codes: &'a [String],
    #[schema(value_type = Object)]
    pub metadata: &'a Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn market(market: &Market, livemode: Livemode) -> Value {
    to_value(MarketOut {
        id: &market.id,
        name: &market.name,
        country_codes: &market.country_codes,
        metadata: &market.metadata,
        created_at: market.created_at.to_rfc3339(),
        updated_at: market.updated_at.to_rfc3339(),
        object: "market",
        livemode: livemode.0,
    })
}

/// `Plan.exchangeRates`.
pub fn exchange_rates(regional: &PlanRegional) -> Vec<Value> {
    regional
        .rates
        .iter()
        .map(|(currency, rate)| json!({"currency": currency, "exchangeRate": rate.as_number()}))
        .collect()
}

/// `prices[].regionalPrices`.
pub fn regional_prices(entries: &[RegionalPrice]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            json!({
                "currency": e.currency,
                "price": e.price.0,
                "includedBalance": e.included_balance.map(|b| b.0),
                "autoSynced": e.auto_synced,
            })
        })
        .collect()
}

/// `marketPrices`, with the market as `marketGroupId`.
pub fn market_prices(entries: &[MarketPrice]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| json!({"marketGroupId": e.market_id, "currency": e.currency, "price": e.price.0}))
        .collect()
}

/// `features[].regionalPrices`.
pub fn feature_regional_prices(entries: &[RegionalOverage]) -> Vec<Value> {
    entries
        .iter()
        .map(|e| {
            json!({
                "currency": e.currency,
                "overageUnitPrice": e.overage_unit_price.map(|u| u.0),
                "autoSynced": e.auto_synced,
            })
        })
        .collect()
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionalResultOut<'a> {
    pub plan_id: &'a str,
    pub currency: &'a str,
    #[schema(value_type = f64)]
    pub exchange_rate: Value,
    pub prices_configured: usize,
    pub features_configured: usize,
    pub object: &'static str,
    pub livemode: bool,
}

/// The answer to `PUT /plans/{id}/regional`: `object` `plan` (legacy) or
/// `plan_regional_pricing`.
pub fn regional_result(
    version: ApiVersion,
    (plan_id, currency, rate): (&str, &str, ExchangeRate),
    (prices, features): (usize, usize),
    livemode: Livemode,
) -> Value {
    to_value(RegionalResultOut {
        plan_id,
        currency,
        exchange_rate: rate.as_number(),
        prices_configured: prices,
        features_configured: features,
        object: object_name(version, "plan", "plan_regional_pricing"),
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PriceOverridesOut<'a> {
    pub price_id: &'a str,
    #[schema(value_type = Vec<Object>)]
    pub overrides: Vec<Value>,
    pub object: &'static str,
    pub livemode: bool,
}

/// A price's manual entries; `includedBalance` only where set.
pub fn price_overrides(
    version: ApiVersion,
    price_id: &str,
    entries: &[RegionalPrice],
    livemode: Livemode,
) -> Value {
    let overrides = entries
        .iter()
        .map(|e| {
            let mut entry = json!({"currency": e.currency, "price": e.price.0});
            if let Some(balance) = e.included_balance {
                entry["includedBalance"] = balance.0.into();
            }
            entry
        })
        .collect();
    to_value(PriceOverridesOut {
        price_id,
        overrides,
        object: object_name(version, "plan", "plan_regional_pricing"),
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
pub struct DeletedOverridesOut {
    pub deleted: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn deleted_overrides(version: ApiVersion, livemode: Livemode) -> Value {
    to_value(DeletedOverridesOut {
        deleted: true,
        object: object_name(version, "plan", "plan_regional_pricing"),
        livemode: livemode.0,
    })
}
