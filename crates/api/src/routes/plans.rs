//! `/plans` with their prices and features (`catalog.md` §4), both path spellings.

use super::{EMPTY_BODY, catalog_page_reply, delete_answer, invalid, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::catalog::{
    AddPlanFeature, AddPrice, CreatePlan, DeletePlan, DeletePrice, FeatureRef, NewPlan, NewPrice,
    PlanDetail, PlanFeatureFields, PlanPatch, PlanRef, PricePatch, RemovePlanFeature,
    SetDefaultPrice, UpdatePlan, UpdatePlanFeature, UpdatePrice,
};
use tally_domain::catalog::{
    AMOUNT_MAX, ConsumptionModel, INCLUDED_AMOUNT_MAX, TRIAL_DAYS_MAX, check_description,
    check_name, check_plan_code, problems_or,
};
use tally_domain::money::{Cents, Rate};
use tally_domain::offers::Phase;
use tally_domain::page::PAGE_SIZE_MAX;
use tally_domain::period::BillingInterval;
use tally_domain::{ApiVersion, FieldError};
use tally_wire::requests::{
    CreatePlanIn, MarketPriceIn, PlanFeatureIn, PriceIn, UpdatePlanIn, VisibilityIn,
};
use tally_wire::{PlanParts, object_name};

pub(crate) fn parts(detail: &PlanDetail) -> PlanParts<'_> {
    PlanParts {
        plan: &detail.plan,
        prices: &detail.prices,
        features: &detail.features,
        regional: &detail.regional,
        intro_offers: &detail.intro_offers,
    }
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let include_private = match query.text("includePrivate") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(ApiError::validation(
                "includePrivate",
                "includePrivate must be true or false",
            ));
        }
    };
    // Pages like every list; the SDKs send no `limit` or `cursor`, so the default page is the
    // largest, and one that holds every plan keeps the unpaginated shape.
    let page = query.page_or(PAGE_SIZE_MAX)?;
    let plans = state.app.plans(&ctx.caller, include_private, &page).await?;
    Ok(catalog_page_reply(
        &ctx,
        &plans,
        |p| (p.plan.created_at, p.plan.id.as_str()),
        |p| tally_wire::plan(ctx.version, parts(p), ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let plan = state.app.plan(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::plan(ctx.version, parts(&plan), ctx.livemode()),
    )
    .into())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreatePlanIn>,
) -> Result<Reply, ApiError> {
    let command = CreatePlan(parse_new_plan(body.value)?);
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |plan| {
        reply::object(version, tally_wire::plan(version, parts(plan), livemode))
    })
    .await
}

fn parse_new_plan(body: CreatePlanIn) -> Result<NewPlan, ApiError> {
    let name = required(body.name, "name")?;
    let code = required(body.code, "code")?;
    let mut problems = Vec::new();
    check_name(&name, "name", &mut problems);
    if check_plan_code(&code).is_err() {
        problems.push(FieldError::new(
            "code",
            "code must be 1 to 64 lowercase letters, digits, '_' or '-'",
        ));
    }
    check_description(body.description.as_deref(), &mut problems);
    let consumption_model = match body.consumption_model.as_deref() {
        None => None,
        Some(text) => {
            let parsed = ConsumptionModel::parse(text);
            if parsed.is_none() {
                problems.push(FieldError::new(
                    "consumptionModel",
                    "consumptionModel must be metered, credits or balance",
                ));
            }
            parsed
        }
    };
    problems_or(problems).map_err(invalid)?;
    Ok(NewPlan {
        name,
        code,
        description: body.description,
        consumption_model,
        is_public: body.is_public.unwrap_or(true),
        is_free: body.is_free.unwrap_or(false),
        block_on_exhaustion: body.block_on_exhaustion,
        metadata: body.metadata,
        group: body.plan_group_id,
    })
}

/// `PUT /plans/{id}/manage` (legacy) and `PATCH /plans/{id}` (direct).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<UpdatePlanIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    let mut problems = Vec::new();
    if let Some(name) = &input.name {
        check_name(name, "name", &mut problems);
    }
    check_description(
        input.description.as_ref().and_then(|d| d.as_deref()),
        &mut problems,
    );
    problems_or(problems).map_err(invalid)?;
    let command = UpdatePlan {
        plan: PlanRef::parse(&id),
        patch: PlanPatch {
            name: input.name,
            description: input.description,
            metadata: input.metadata,
            is_public: input.is_public,
        },
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |plan| {
        reply::object(version, tally_wire::plan(version, parts(plan), livemode))
    })
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    delete_answer(&state, &ctx, &key, DeletePlan(PlanRef::parse(&id)), "plan").await
}

pub async fn set_visibility(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<VisibilityIn>,
) -> Result<Reply, ApiError> {
    let is_public = required(body.value.is_public, "isPublic")?;
    let command = UpdatePlan {
        plan: PlanRef::parse(&id),
        patch: PlanPatch {
            is_public: Some(is_public),
            ..PlanPatch::default()
        },
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |plan| {
        reply::object(
            version,
            tally_wire::plan_visibility(version, parts(plan), livemode),
        )
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Prices

pub async fn add_price(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<PriceIn>,
) -> Result<Reply, ApiError> {
    let price = parse_new_price(body.value, ctx.version)?;
    let command = AddPrice {
        plan: PlanRef::parse(&id),
        price,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |(price, markets, intro)| {
            reply::object(
                version,
                tally_wire::plan_price(version, price, (markets, intro.as_ref()), livemode),
            )
        },
    )
    .await
}

/// `billingInterval`, with `semiannual` only from 2026-08-27 on (`wire.md` §3.5).
pub fn parse_interval(text: &str, version: ApiVersion) -> Result<BillingInterval, ApiError> {
    BillingInterval::parse(text)
        .filter(|i| *i != BillingInterval::Semiannual || version >= ApiVersion::V2026_08_27)
        .ok_or_else(|| {
            let allowed = if version >= ApiVersion::V2026_08_27 {
                "weekly, monthly, quarterly, semiannual, yearly, one_time"
            } else {
                "weekly, monthly, quarterly, yearly, one_time"
            };
            ApiError::validation(
                "billingInterval",
                format!("billingInterval must be one of {allowed}"),
            )
        })
}

fn amount(value: i64, field: &str, max: i64, problems: &mut Vec<FieldError>) {
    if !(0..=max).contains(&value) {
        problems.push(FieldError::new(
            field,
            format!("{field} must be an integer from 0 to {max}"),
        ));
    }
}

/// A price's legacy `introOffer` (`commerce.md` §4.6): absent or null leaves it; `enabled:
/// false` detaches it; `enabled: true` with its terms makes or replaces it.
fn intro_change(body: &PriceIn) -> Result<Option<Option<Phase>>, ApiError> {
    let Some(terms) = body.intro_offer.as_ref().filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    match terms.get("enabled") {
        Some(Value::Bool(false)) => Ok(Some(None)),
        Some(Value::Bool(true)) => super::subscriptions::intro_terms(terms, "introOffer")
            .map(|phase| Some(Some(phase)))
            .map_err(|problem| invalid(tally_domain::DomainError::Validation(vec![problem]))),
        _ => Err(ApiError::validation(
            "introOffer.enabled",
            "introOffer.enabled must be true or false",
        )),
    }
}

/// The Tier-4 price fields: refused when they ask for something (`catalog.md` §4.2).
fn check_unsupported_price_fields(body: &PriceIn, problems: &mut Vec<FieldError>) {
    if body.inherits_from_price_id.is_some() {
        problems.push(FieldError::new(
            "inheritsFromPriceId",
            "price inheritance is not supported",
        ));
    }
}

fn check_price_amounts(body: &PriceIn, problems: &mut Vec<FieldError>) {
    if let Some(price) = body.price {
        amount(price, "price", AMOUNT_MAX, problems);
    }
    if let Some(days) = body.trial_days {
        amount(days, "trialDays", TRIAL_DAYS_MAX, problems);
    }
    if let Some(Some(balance)) = body.included_balance {
        amount(balance, "includedBalance", AMOUNT_MAX, problems);
    }
    if let Some(Some(credits)) = body.included_credits {
        amount(credits, "includedCredits", AMOUNT_MAX, problems);
    }
}

fn parse_new_price(body: PriceIn, version: ApiVersion) -> Result<NewPrice, ApiError> {
    let interval = parse_interval(
        &required(body.billing_interval.clone(), "billingInterval")?,
        version,
    )?;
    let price = required(body.price, "price")?;
    let mut problems = Vec::new();
    check_price_amounts(&body, &mut problems);
    check_unsupported_price_fields(&body, &mut problems);
    problems_or(problems).map_err(invalid)?;
    Ok(NewPrice {
        billing_interval: interval,
        price: Cents(price),
        trial_days: body.trial_days.unwrap_or(0),
        is_default: body.is_default,
        included_balance: body.included_balance.flatten().map(Rate),
        included_credits: body.included_credits.flatten(),
        market_prices: body
            .market_prices
            .as_deref()
            .map(MarketPriceIn::all)
            .transpose()
            .map_err(invalid)?
            .unwrap_or_default(),
        intro: intro_change(&body)?.flatten(),
        metadata: body.metadata.unwrap_or_default(),
    })
}

/// `PUT …/prices/{priceId}` (legacy) and `PATCH …/prices/{priceId}` (direct).
pub async fn update_price(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, price_id)): ApiPath<(String, String)>,
    body: ApiJson<PriceIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    let mut problems = Vec::new();
    check_price_amounts(&input, &mut problems);
    check_unsupported_price_fields(&input, &mut problems);
    problems_or(problems).map_err(invalid)?;
    let intro = intro_change(&input)?;
    let command = UpdatePrice {
        plan: PlanRef::parse(&id),
        price: price_id,
        patch: PricePatch {
            price: input.price.map(Cents),
            is_default: input.is_default,
            trial_days: input.trial_days,
            included_balance: input.included_balance.map(|b| b.map(Rate)),
            included_credits: input.included_credits,
            metadata: input.metadata,
            market_prices: input
                .market_prices
                .as_deref()
                .map(MarketPriceIn::all)
                .transpose()
                .map_err(invalid)?,
            intro,
        },
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |(price, markets, intro)| {
            reply::object(
                version,
                tally_wire::plan_price(version, price, (markets, intro.as_ref()), livemode),
            )
        },
    )
    .await
}

pub async fn delete_price(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, price_id)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = DeletePrice {
        plan: PlanRef::parse(&id),
        price: price_id,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, EMPTY_BODY, command, move |price| {
        let object = object_name(version, "plan", "plan_price");
        reply::object(
            version,
            tally_wire::deleted(version, price.as_str(), object, livemode),
        )
    })
    .await
}

pub async fn set_default_price(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, price_id)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = SetDefaultPrice {
        plan: PlanRef::parse(&id),
        price: price_id,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        command,
        move |(price, markets, intro)| {
            reply::object(
                version,
                tally_wire::default_price(version, price, (markets, intro.as_ref()), livemode),
            )
        },
    )
    .await
}

// ---------------------------------------------------------------------------------------------
// Plan features

fn parse_plan_feature(body: &PlanFeatureIn) -> Result<PlanFeatureFields, ApiError> {
    let mut problems = Vec::new();
    if let Some(included) = body.included_amount {
        amount(
            included,
            "includedAmount",
            INCLUDED_AMOUNT_MAX,
            &mut problems,
        );
    }
    if let Some(Some(price)) = body.overage.as_ref().and_then(|o| o.unit_price) {
        amount(price, "overage.unitPrice", AMOUNT_MAX, &mut problems);
    }
    // Decision: a unit costs at least one credit; 0 would make credits plans free by accident
    // (`usage.md` §2.3).
    if let Some(Some(credits)) = body.credits_per_unit
        && !(1..=INCLUDED_AMOUNT_MAX).contains(&credits)
    {
        problems.push(FieldError::new(
            "creditsPerUnit",
            format!("creditsPerUnit must be an integer from 1 to {INCLUDED_AMOUNT_MAX}"),
        ));
    }
    if let Some(mode) = body.pricing_mode.as_deref()
        && mode != "fixed"
        && mode != "ai_model"
    {
        problems.push(FieldError::new(
            "pricingMode",
            "pricingMode must be fixed or ai_model",
        ));
    }
    problems_or(problems).map_err(invalid)?;
    Ok(PlanFeatureFields {
        enabled: body.enabled,
        included_amount: body.included_amount,
        unlimited: body.unlimited,
        overage_enabled: body.overage.as_ref().and_then(|o| o.enabled),
        overage_unit_price: body
            .overage
            .as_ref()
            .and_then(|o| o.unit_price)
            .map(|p| p.map(Rate)),
        credits_per_unit: body.credits_per_unit,
        pricing_mode: body.pricing_mode.clone(),
        margin: body.margin,
    })
}

pub async fn add_feature(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<PlanFeatureIn>,
) -> Result<Reply, ApiError> {
    let feature = required(body.value.feature_id.clone(), "featureId")?;
    let command = AddPlanFeature {
        plan: PlanRef::parse(&id),
        feature: FeatureRef::parse(&feature),
        fields: parse_plan_feature(&body.value)?,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |pf| {
        reply::object(version, tally_wire::plan_feature(version, pf, livemode))
    })
    .await
}

/// `PUT …/features/{featureId}` (legacy) and `PATCH …/features/{featureId}` (direct).
pub async fn update_feature(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, feature)): ApiPath<(String, String)>,
    body: ApiJson<PlanFeatureIn>,
) -> Result<Reply, ApiError> {
    let command = UpdatePlanFeature {
        plan: PlanRef::parse(&id),
        feature: FeatureRef::parse(&feature),
        fields: parse_plan_feature(&body.value)?,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |pf| {
        reply::object(version, tally_wire::plan_feature(version, pf, livemode))
    })
    .await
}

pub async fn remove_feature(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, feature)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = RemovePlanFeature {
        plan: PlanRef::parse(&id),
        feature: FeatureRef::parse(&feature),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, EMPTY_BODY, command, move |feature_id| {
        reply::object(
            version,
            tally_wire::removed_plan_feature(version, feature_id.as_str(), livemode),
        )
    })
    .await
}
