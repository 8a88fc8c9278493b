//! `/credit-packs` and `POST /subscriptions/{id}/credits` (`commerce.md` §3).

use super::{delete_answer, invalid, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::credit_packs::{
    CreateCreditPack, DeleteCreditPack, NewCreditPack, PurchaseCredits, UpdateCreditPack,
};
use tally_domain::catalog::problems_or;
use tally_domain::credit_packs::{CreditPack, check_pack_fields};
use tally_domain::money::Cents;
use tally_wire::credit_packs::{self as view, PackShape};
use tally_wire::requests::{CreditPackIn, PurchaseCreditsIn};

/// The packs on sale, in one page (the SDKs send no cursor).
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> Result<Reply, ApiError> {
    let packs = state.app.credit_packs(&ctx.caller).await?;
    let items = packs
        .iter()
        .map(|p| view::pack(ctx.version, p, PackShape::ListItem, ctx.livemode()))
        .collect();
    Ok(reply::array(ctx.version, items).into())
}

fn pack_reply(ctx: &Ctx) -> impl Fn(&CreditPack) -> tally_store::StoredResponse + use<> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    move |pack| {
        reply::object(
            version,
            view::pack(version, pack, PackShape::Object, livemode),
        )
    }
}

fn check(input: &CreditPackIn) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    check_pack_fields(
        input.name.as_deref(),
        input.description.as_ref().and_then(|d| d.as_deref()),
        input.credits,
        input.price,
        &mut problems,
    );
    problems_or(problems).map_err(invalid)
}

/// `POST /credit-packs/manage` (legacy) and `POST /credit-packs` (direct).
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreditPackIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let name = required(input.name.clone(), "name")?;
    let credits = required(input.credits, "credits")?;
    let price = required(input.price, "price")?;
    check(input)?;
    let command = CreateCreditPack(NewCreditPack {
        name,
        description: input.description.clone().flatten(),
        credits,
        price: Cents(price),
        is_active: input.is_active.unwrap_or(true),
    });
    let render = pack_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

/// `PUT` (legacy) and `PATCH` (direct): only the fields sent change.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<CreditPackIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let nothing = input.name.is_none()
        && input.description.is_none()
        && input.credits.is_none()
        && input.price.is_none()
        && input.is_active.is_none();
    if nothing {
        return Err(ApiError::validation(
            "name",
            "send at least one of name, description, credits, price, isActive",
        ));
    }
    check(input)?;
    let command = UpdateCreditPack {
        id,
        name: input.name.clone(),
        description: input.description.clone(),
        credits: input.credits,
        price: input.price.map(Cents),
        is_active: input.is_active,
    };
    let render = pack_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    delete_answer(&state, &ctx, &key, DeleteCreditPack(id), "credit_pack").await
}

pub async fn purchase(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(subscription): ApiPath<String>,
    body: ApiJson<PurchaseCreditsIn>,
) -> Result<Reply, ApiError> {
    let pack = required(body.value.credit_pack_id.clone(), "creditPackId")?;
    let command = PurchaseCredits { subscription, pack };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |credits| reply::object(version, view::credit_grant(version, *credits, livemode)),
    )
    .await
}
