//! `/subscriptions` (`catalog.md` §5).

use super::plans::parse_interval;
use super::{invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::catalog::PlanRef;
use tally_app::subscriptions::{
    CancelSubscription, CreateSubscription, NewSubscriptionRequest, SubscriptionDetail,
    UncancelSubscription,
};
use tally_app::{AppError, NotFound};
use tally_domain::catalog::TRIAL_DAYS_MAX;
use tally_domain::page::PAGE_SIZE_MAX;
use tally_domain::seats::SEATS_MAX;
use tally_domain::subscription::SubscriptionStatus;
use tally_domain::{CustomerRef, FieldError, Timestamp};
use tally_wire::SubscriptionParts;
use tally_wire::requests::{CancelSubscriptionIn, CreateSubscriptionIn};

fn parts(detail: &SubscriptionDetail) -> SubscriptionParts<'_> {
    detail.parts()
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreateSubscriptionIn>,
) -> Result<Reply, ApiError> {
    let request = parse_create(body.value, &ctx)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreateSubscription(request),
        move |detail| {
            reply::object(
                version,
                tally_wire::created_subscription(version, parts(detail), livemode),
            )
        },
    )
    .await
}

fn customer_ref(text: &str) -> Result<CustomerRef, ApiError> {
    CustomerRef::parse(text).ok_or_else(|| {
        ApiError::from(AppError::NotFoundAt(
            NotFound::Customer,
            "customerId".to_owned(),
        ))
    })
}

fn parse_create(body: CreateSubscriptionIn, ctx: &Ctx) -> Result<NewSubscriptionRequest, ApiError> {
    let customer = customer_ref(&required(body.customer_id.clone(), "customerId")?)?;
    let plan = match (&body.plan_id, &body.plan_code) {
        (Some(id), None) => match PlanRef::parse(id) {
            PlanRef::Id(id) => PlanRef::Id(id),
            PlanRef::Code(_) => {
                return Err(AppError::NotFoundAt(NotFound::Plan, "planId".to_owned()).into());
            }
        },
        (None, Some(code)) => PlanRef::Code(code.clone()),
        _ => {
            return Err(ApiError::validation(
                "planId",
                "send exactly one of planId and planCode",
            ));
        }
    };
    let billing_interval = body
        .billing_interval
        .as_deref()
        .map(|text| parse_interval(text, ctx.version))
        .transpose()?;
    let mut problems = Vec::new();
    let mut initial_seats = Vec::new();
    for (key, value) in body.initial_seats.iter().flatten() {
        match value.as_i64().filter(|n| (0..=SEATS_MAX).contains(n)) {
            Some(count) => initial_seats.push((key.clone(), count)),
            None => problems.push(FieldError::new(
                format!("initialSeats.{key}"),
                format!("seat counts must be integers from 0 to {SEATS_MAX}"),
            )),
        }
    }
    if let Some(days) = body.custom_trial_days
        && !(1..=TRIAL_DAYS_MAX).contains(&days)
    {
        problems.push(FieldError::new(
            "customTrialDays",
            format!("customTrialDays must be an integer from 1 to {TRIAL_DAYS_MAX}"),
        ));
    }
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        problems.push(FieldError::new("name", "name must not be empty"));
    }
    let start_date = match body.start_date.as_deref() {
        None => None,
        Some(text) => {
            let parsed = Timestamp::parse_rfc3339(text);
            if parsed.is_none() {
                problems.push(FieldError::new(
                    "startDate",
                    "startDate must be an ISO 8601 date-time",
                ));
            }
            parsed
        }
    };
    let unsupported = [("cardPromotionId", &body.card_promotion_id)];
    for (field, value) in unsupported {
        if value.as_ref().is_some_and(|v| !v.is_null()) {
            problems.push(FieldError::new(field, format!("{field} is not supported")));
        }
    }
    // An offer to start with (`commerce.md` §4.3): a code or an offer id, as text, and at most
    // one way of choosing the trial and terms.
    let text =
        |field: &'static str, value: &Option<Value>, problems: &mut Vec<FieldError>| match value {
            None | Some(Value::Null) => None,
            Some(Value::String(text)) if !text.trim().is_empty() => Some(text.trim().to_owned()),
            Some(_) => {
                problems.push(FieldError::new(
                    field,
                    format!("{field} must be a non-empty string"),
                ));
                None
            }
        };
    let promo_code = text("promoCode", &body.promo_code, &mut problems);
    let offer_id = text("offerId", &body.offer_id, &mut problems);
    let custom = match body.intro_offer.as_ref().filter(|v| !v.is_null()) {
        None => None,
        Some(terms) => match intro_terms(terms, "introOffer") {
            Ok(phase) => Some(phase),
            Err(problem) => {
                problems.push(problem);
                None
            }
        },
    };
    let choices = [
        ("offerId", offer_id.is_some()),
        ("promoCode", promo_code.is_some()),
        (
            "introOffer",
            body.intro_offer.as_ref().is_some_and(|v| !v.is_null()),
        ),
        ("customTrialDays", body.custom_trial_days.is_some()),
        ("skipTrial", body.skip_trial == Some(true)),
    ];
    let chosen: Vec<&str> = choices
        .iter()
        .filter(|(_, set)| *set)
        .map(|(f, _)| *f)
        .collect();
    if chosen.len() > 1 {
        problems.push(FieldError::new(
            chosen[1],
            format!("send at most one of {}", chosen.join(", ")),
        ));
    }
    let terms = match (promo_code, offer_id, custom) {
        (Some(code), _, _) => Some(tally_app::offers::Terms::PromoCode(code)),
        (None, Some(offer), _) => Some(tally_app::offers::Terms::Offer(offer)),
        (None, None, Some(phase)) => Some(tally_app::offers::Terms::Custom(phase)),
        (None, None, None) => None,
    };
    if body.prepaid_periods.is_some_and(|n| n != 1) {
        problems.push(FieldError::new(
            "prepaidPeriods",
            "prepaid periods are not supported",
        ));
    }
    if body.cancel_at_period_end == Some(true) {
        problems.push(FieldError::new(
            "cancelAtPeriodEnd",
            "create the subscription, then cancel it to schedule the end",
        ));
    }
    tally_domain::catalog::problems_or(problems).map_err(invalid)?;
    Ok(NewSubscriptionRequest {
        customer,
        plan,
        billing_interval,
        price_id: body.price_id,
        initial_seats,
        skip_trial: body.skip_trial.unwrap_or(false),
        custom_trial_days: body.custom_trial_days,
        name: body.name.map(|n| n.trim().to_owned()),
        start_date,
        terms,
    })
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let detail = state.app.subscription(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::subscription(ctx.version, parts(&detail), ctx.livemode()),
    )
    .into())
}

pub async fn get_active(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let found = state.app.active_subscription(&ctx.caller, customer).await?;
    let body = match &found {
        Some(detail) => tally_wire::subscription(ctx.version, parts(detail), ctx.livemode()),
        None => Value::Null,
    };
    Ok(reply::object(ctx.version, body).into())
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let status = match query.text("status") {
        None => None,
        Some(text) => Some(SubscriptionStatus::parse(text).ok_or_else(|| {
            ApiError::validation("status", "status is not a subscription status")
        })?),
    };
    let page = query.page_or(PAGE_SIZE_MAX)?;
    let found = state
        .app
        .subscriptions(&ctx.caller, query.text("customerId"), status, &page)
        .await?;
    Ok(page_reply(
        &ctx,
        &found,
        |d| (d.subscription.created_at, d.subscription.id.as_str()),
        |d| tally_wire::subscription_list_item(ctx.version, parts(d), ctx.livemode()),
    ))
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<CancelSubscriptionIn>,
) -> Result<Reply, ApiError> {
    let command = CancelSubscription {
        id,
        reason: body.value.reason,
        immediate: body.value.immediate.unwrap_or(false),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |detail| {
            reply::object(
                version,
                tally_wire::canceled_subscription(version, parts(detail), livemode),
            )
        },
    )
    .await
}

pub async fn uncancel(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<Value>,
) -> Result<Reply, ApiError> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        UncancelSubscription(id),
        move |detail| {
            reply::object(
                version,
                tally_wire::uncanceled_subscription(version, parts(detail), livemode),
            )
        },
    )
    .await
}

/// Legacy intro terms `{discountType, discountValue, durationCycles}` (`commerce.md` §4.3,
/// §4.6): one finite percentage (basis points, below 100 %) or US-cent amount off.
pub(super) fn intro_terms(
    terms: &Value,
    field: &str,
) -> Result<tally_domain::offers::Phase, FieldError> {
    let kind = terms.get("discountType").and_then(Value::as_str);
    let value = terms.get("discountValue").and_then(Value::as_i64);
    let cycles = terms.get("durationCycles").and_then(Value::as_i64);
    match (kind, value, cycles) {
        (Some(kind), Some(value), Some(cycles)) if cycles >= 1 => {
            tally_domain::offers::legacy_phase(kind, value, Some(cycles)).map_err(|error| {
                match error {
                    tally_domain::DomainError::Validation(mut problems) if !problems.is_empty() => {
                        let first = problems.remove(0);
                        FieldError::new(format!("{field}.{}", first.field), first.message)
                    }
                    other => FieldError::new(field, other.to_string()),
                }
            })
        }
        _ => Err(FieldError::new(
            field,
            format!("{field} needs discountType, discountValue and durationCycles (at least 1)"),
        )),
    }
}
