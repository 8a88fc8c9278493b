//! `/markets` and regional pricing (`commerce.md` §7).

use super::{EMPTY_BODY, invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::markets::{
    CreateMarket, DeleteMarket, DeletePriceOverrides, SetPlanRegionalPricing, SetPriceOverrides,
    UpdateMarket,
};
use tally_domain::markets::ExchangeRate;
use tally_wire::markets as view;
use tally_wire::requests::{MarketIn, PriceOverridesIn, RegionalPriceIn, RegionalPricingIn};

fn market_fields(body: &MarketIn) -> Result<(String, Vec<String>), ApiError> {
    let name = required(body.name.clone(), "name")?;
    let countries = required(body.country_codes.clone(), "countryCodes")?;
    Ok((name, countries))
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let markets = state.app.markets(&ctx.caller, &page).await?;
    Ok(page_reply(
        &ctx,
        &markets,
        |m| (m.created_at, m.id.as_str()),
        |m| view::market(m, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let market = state.app.market(&ctx.caller, &id).await?;
    Ok(reply::object(ctx.version, view::market(&market, ctx.livemode())).into())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<MarketIn>,
) -> Result<Reply, ApiError> {
    let (name, countries) = market_fields(&body.value)?;
    let command = CreateMarket {
        name,
        countries,
        metadata: body.value.metadata.clone(),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |market| reply::object(version, view::market(market, livemode)),
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<MarketIn>,
) -> Result<Reply, ApiError> {
    let (name, countries) = market_fields(&body.value)?;
    let command = UpdateMarket {
        id,
        name,
        countries,
        metadata: body.value.metadata.clone(),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |market| reply::object(version, view::market(market, livemode)),
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    let answer = id.clone();
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        DeleteMarket { id },
        move |()| {
            reply::object(
                version,
                tally_wire::deleted(version, &answer, "market", livemode),
            )
        },
    )
    .await
}

/// One manual price entry: what it is keyed by (a price id, or a currency), its amount and
/// its included balance.
type Entry = (String, i64, Option<i64>);

/// The manual price entries of `list` (the body's `field`), keyed by `key` (`priceId` or
/// `currency`); every field but `includedBalance` is required.
fn entries(list: &[RegionalPriceIn], field: &str, key: &str) -> Result<Vec<Entry>, ApiError> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let missing = |f: &str| {
                ApiError::validation(format!("{field}.{i}.{f}"), format!("{f} is required"))
            };
            let keyed = if key == "priceId" {
                e.price_id.clone()
            } else {
                e.currency.clone()
            };
            Ok((
                keyed.ok_or_else(|| missing(key))?,
                e.price.ok_or_else(|| missing("price"))?,
                e.included_balance,
            ))
        })
        .collect()
}

/// `PUT /plans/{id}/regional`.
pub async fn set_plan_regional(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(plan): ApiPath<String>,
    body: ApiJson<RegionalPricingIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    if input.intro_offers.as_ref().is_some_and(|v| !v.is_null()) {
        return Err(ApiError::validation(
            "introOffers",
            "currency-specific offer terms live in offers (POST /offers)",
        ));
    }
    let currency = required(input.currency.clone(), "currency")?;
    let rate =
        ExchangeRate::parse(required(input.exchange_rate, "exchangeRate")?).map_err(invalid)?;
    let prices = entries(
        input.prices.as_deref().unwrap_or_default(),
        "prices",
        "priceId",
    )?;
    let features = input
        .features
        .as_deref()
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let id = f.feature_id.clone().ok_or_else(|| {
                ApiError::validation(format!("features.{i}.featureId"), "featureId is required")
            })?;
            Ok((id, f.overage_unit_price))
        })
        .collect::<Result<Vec<_>, ApiError>>()?;
    let command = SetPlanRegionalPricing {
        plan,
        currency,
        rate,
        prices,
        features,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |r| {
        reply::object(
            version,
            view::regional_result(
                version,
                (r.plan_id.as_str(), &r.currency, r.rate),
                (r.prices_configured, r.features_configured),
                livemode,
            ),
        )
    })
    .await
}

/// `PUT /plans/{id}/prices/{priceId}/regional`.
pub async fn set_price_overrides(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((plan, price)): ApiPath<(String, String)>,
    body: ApiJson<PriceOverridesIn>,
) -> Result<Reply, ApiError> {
    let list = required(body.value.overrides.as_ref(), "overrides")?;
    let overrides = entries(list, "overrides", "currency")?;
    let command = SetPriceOverrides {
        plan,
        price,
        overrides,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |(price, all)| {
            reply::object(
                version,
                view::price_overrides(version, price.as_str(), all, livemode),
            )
        },
    )
    .await
}

/// `DELETE /plans/{id}/prices/{priceId}/regional`.
pub async fn delete_price_overrides(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((plan, price)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    let command = DeletePriceOverrides { plan, price };
    write(&state, &ctx, &key, EMPTY_BODY, command, move |()| {
        reply::object(version, view::deleted_overrides(version, livemode))
    })
    .await
}
