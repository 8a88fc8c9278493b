//! `/offers`, `/promo-codes` and `/subscriptions/{id}/offer` (`commerce.md` §4).

use super::pauses::subscription_reply;
use super::{EMPTY_BODY, invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::offers::{
    ApplyOffer, CodeTerms, CreateOffer, CreatePromoCode, DeleteOffer, NewPromoCode, PromoCodePatch,
    RemoveOffer, UpdateOffer, UpdatePromoCode, legacy_code_terms,
};
use tally_domain::offers::{OfferFields, parse_phases};
use tally_domain::period::BillingInterval;
use tally_domain::{Generation, Timestamp};
use tally_wire::offers as view;
use tally_wire::requests::{ApplyOfferIn, OfferIn, PromoCodeIn, PromoCodePatchIn};

fn instant(text: Option<&str>, field: &'static str) -> Result<Option<Timestamp>, ApiError> {
    text.map(|t| {
        Timestamp::parse_rfc3339(t).ok_or_else(|| {
            ApiError::validation(field, format!("{field} must be an ISO 8601 date-time"))
        })
    })
    .transpose()
}

fn interval(text: Option<&str>) -> Result<Option<BillingInterval>, ApiError> {
    text.map(|t| {
        BillingInterval::parse(t).ok_or_else(|| {
            ApiError::validation(
                "billingInterval",
                "billingInterval is not a billing interval",
            )
        })
    })
    .transpose()
}

fn offer_fields(body: &OfferIn) -> Result<OfferFields, ApiError> {
    let name = required(body.name.clone(), "name")?;
    let phases = body
        .phases
        .as_ref()
        .ok_or_else(|| ApiError::validation("phases", "phases is required"))?;
    let fields: Vec<_> = phases.iter().map(|p| p.fields()).collect();
    Ok(OfferFields {
        name,
        phases: parse_phases(&fields).map_err(invalid)?,
        metadata: body.metadata.clone(),
        starts_at: instant(body.starts_at.as_deref(), "startsAt")?,
        ends_at: instant(body.ends_at.as_deref(), "endsAt")?,
        active: body.active,
    })
}

pub async fn list_offers(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let active = match query.text("active") {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(_) => {
            return Err(ApiError::validation(
                "active",
                "active must be true or false",
            ));
        }
    };
    let page = query.page()?;
    let offers = state.app.offers(&ctx.caller, active, &page).await?;
    Ok(page_reply(
        &ctx,
        &offers,
        |o| (o.created_at, o.id.as_str()),
        |o| view::offer(o, ctx.livemode()),
    ))
}

pub async fn get_offer(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let offer = state.app.offer(&ctx.caller, &id).await?;
    Ok(reply::object(ctx.version, view::offer(&offer, ctx.livemode())).into())
}

pub async fn create_offer(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<OfferIn>,
) -> Result<Reply, ApiError> {
    let fields = offer_fields(&body.value)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreateOffer(fields),
        move |offer| reply::object(version, view::offer(offer, livemode)),
    )
    .await
}

pub async fn update_offer(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<OfferIn>,
) -> Result<Reply, ApiError> {
    let fields = offer_fields(&body.value)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    let command = UpdateOffer { id, fields };
    write(&state, &ctx, &key, &body.canonical, command, move |offer| {
        reply::object(version, view::offer(offer, livemode))
    })
    .await
}

pub async fn delete_offer(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        DeleteOffer { id },
        move |()| reply::object(version, view::deleted_offer(livemode)),
    )
    .await
}

pub async fn list_codes(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let legacy = ctx.version.generation() == Generation::Legacy;
    let codes = state.app.promo_codes(&ctx.caller, &page, legacy).await?;
    Ok(page_reply(
        &ctx,
        &codes,
        |(c, _)| (c.created_at, c.id.as_str()),
        |(c, o)| view::promo_code(ctx.version, c, o, ctx.livemode()),
    ))
}

pub async fn get_code(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let legacy = ctx.version.generation() == Generation::Legacy;
    let (code, offer) = state.app.promo_code(&ctx.caller, &id, legacy).await?;
    Ok(reply::object(
        ctx.version,
        view::promo_code(ctx.version, &code, &offer, ctx.livemode()),
    )
    .into())
}

pub async fn create_code(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<PromoCodeIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let code = required(input.code.clone(), "code")?;
    let legacy_style = input.discount_type.is_some() || input.discount_value.is_some();
    let terms = match (&input.offer_id, legacy_style) {
        (Some(_), true) => {
            return Err(ApiError::validation(
                "offerId",
                "send offerId or discountType/discountValue, not both",
            ));
        }
        (Some(offer), false) => CodeTerms::Offer(offer.clone()),
        (None, true) => {
            let kind = required(input.discount_type.as_deref(), "discountType")?;
            let value = required(input.discount_value, "discountValue")?;
            legacy_code_terms(kind, value, input.duration_cycles).map_err(invalid)?
        }
        (None, false) => {
            let field = match ctx.version.generation() {
                Generation::Legacy => "discountType",
                Generation::Direct => "offerId",
            };
            return Err(ApiError::validation(field, format!("{field} is required")));
        }
    };
    let new = NewPromoCode {
        code,
        terms,
        billing_interval: interval(input.billing_interval.as_deref())?,
        max_redemptions: input.max_redemptions,
        expires_at: instant(input.expires_at.as_deref(), "expiresAt")?,
        plan_ids: input.plan_ids.clone().unwrap_or_default(),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreatePromoCode(new),
        move |(code, offer)| {
            reply::object(version, view::promo_code(version, code, offer, livemode))
        },
    )
    .await
}

pub async fn update_code(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<PromoCodePatchIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let patch = PromoCodePatch {
        billing_interval: match &input.billing_interval {
            None => None,
            Some(text) => Some(interval(text.as_deref())?),
        },
        max_redemptions: input.max_redemptions,
        expires_at: match &input.expires_at {
            None => None,
            Some(text) => Some(instant(text.as_deref(), "expiresAt")?),
        },
        active: input.active,
        plan_ids: input.plan_ids.clone(),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    let command = UpdatePromoCode { id, patch };
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |(code, offer)| {
            reply::object(version, view::promo_code(version, code, offer, livemode))
        },
    )
    .await
}

pub async fn apply(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(subscription): ApiPath<String>,
    body: ApiJson<ApplyOfferIn>,
) -> Result<Reply, ApiError> {
    let offer = required(body.value.offer_id.clone(), "offerId")?;
    let expires_at = instant(body.value.expires_at.as_deref(), "expiresAt")?;
    let command = ApplyOffer {
        subscription,
        offer,
        expires_at,
    };
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        subscription_reply(&ctx),
    )
    .await
}

pub async fn remove(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(subscription): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let command = RemoveOffer { subscription };
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        command,
        subscription_reply(&ctx),
    )
    .await
}
