//! `/addons`, `/active-addons` and `/subscriptions/{id}/addons` (`lifecycle.md` §5).

use super::{EMPTY_BODY, delete_answer, invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::addons::{
    ActivateAddon, CreateAddon, DeactivateAddon, DeleteAddon, NewAddon, UpdateAddon,
};
use tally_app::catalog::FeatureRef;
use tally_domain::FieldError;
use tally_domain::addons::{AddonEntry, AddonModel, AddonTerms, check_addon_fields};
use tally_domain::catalog::{check_description, problems_or};
use tally_domain::money::{Cents, Rate};
use tally_wire::addons as view;
use tally_wire::requests::{ActivateAddonIn, CreateAddonIn, UpdateAddonIn};

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let addons = state.app.addons(&ctx.caller, &page).await?;
    Ok(page_reply(
        &ctx,
        &addons,
        |(a, _)| (a.created_at, a.id.as_str()),
        |(a, f)| view::addon(a, f, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (addon, feature) = state.app.addon(&ctx.caller, &id).await?;
    Ok(reply::object(ctx.version, view::addon(&addon, &feature, ctx.livemode())).into())
}

fn addon_reply(ctx: &Ctx) -> impl Fn(&AddonEntry) -> tally_store::StoredResponse + use<> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    move |(addon, feature)| reply::object(version, view::addon(addon, feature, livemode))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreateAddonIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let name = required(input.name.clone(), "name")?;
    let base_price = required(input.base_price, "basePrice")?;
    let feature = required(input.feature_id.clone(), "featureId")?;
    let model_text = required(input.consumption_model.clone(), "consumptionModel")?;
    let mut problems = Vec::new();
    check_addon_fields(Some(&name), Some(base_price), &mut problems);
    check_description(input.description.as_deref(), &mut problems);
    let model = AddonModel::parse(&model_text);
    if model.is_none() {
        problems.push(FieldError::new(
            "consumptionModel",
            "consumptionModel must be one of boolean, metered, credits, balance",
        ));
    }
    problems_or(problems).map_err(invalid)?;
    let terms = AddonTerms {
        model: model.expect("checked above"),
        included_units: input.included_units,
        overage_rate: input.overage_rate.map(Rate),
        credit_cost: input.credit_cost,
    };
    terms.check().map_err(invalid)?;
    let command = CreateAddon(NewAddon {
        name,
        description: input.description.clone(),
        base_price: Cents(base_price),
        feature: FeatureRef::parse(&feature),
        terms,
    });
    let render = addon_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

/// `PUT` (legacy) and `PATCH` (direct): only the fields sent change.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<UpdateAddonIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let mut problems = Vec::new();
    check_addon_fields(input.name.as_deref(), input.base_price, &mut problems);
    check_description(
        input.description.as_ref().and_then(|d| d.as_deref()),
        &mut problems,
    );
    problems_or(problems).map_err(invalid)?;
    let command = UpdateAddon {
        id,
        name: input.name.clone(),
        description: input.description.clone(),
        base_price: input.base_price.map(Cents),
        included_units: input.included_units,
        overage_rate: input.overage_rate.map(|r| r.map(Rate)),
    };
    let render = addon_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    delete_answer(&state, &ctx, &key, DeleteAddon(id), "addon").await
}

/// `GET /active-addons?customerId=`: never paginated.
pub async fn list_active(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = query
        .text("customerId")
        .ok_or_else(|| ApiError::validation("customerId", "customerId is required"))?;
    let active = state.app.active_addons(&ctx.caller, customer).await?;
    let items = active
        .iter()
        .map(|a| {
            view::active_addon(
                ctx.version,
                &a.addon,
                &a.feature,
                a.activated_at,
                ctx.livemode(),
            )
        })
        .collect();
    Ok(reply::array(ctx.version, items).into())
}

pub async fn activate(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(subscription): ApiPath<String>,
    body: ApiJson<ActivateAddonIn>,
) -> Result<Reply, ApiError> {
    let addon = required(body.value.addon_id.clone(), "addonId")?;
    let command = ActivateAddon {
        subscription,
        addon,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |done| {
        reply::object(
            version,
            view::activated(version, &done.addon, done.prorated_charge.0, livemode),
        )
    })
    .await
}

pub async fn deactivate(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((subscription, addon)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = DeactivateAddon {
        subscription,
        addon,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, EMPTY_BODY, command, move |(id, at)| {
        reply::object(
            version,
            view::deactivated(version, id.as_str(), *at, livemode),
        )
    })
    .await
}
