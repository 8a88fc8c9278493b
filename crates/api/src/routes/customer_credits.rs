//! `/customers/{id}/credits` (`commerce.md` §5): grant, list and revoke customer credits.

use super::{EMPTY_BODY, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::customer_credits::{CreateCustomerCredit, NewCustomerCredit, RevokeCustomerCredit};
use tally_domain::Timestamp;
use tally_domain::customer_credits::parse_currency;
use tally_wire::customer_credits as view;
use tally_wire::requests::CustomerCreditIn;

/// Every grant of the customer, newest first, in one page (the SDK sends no cursor).
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(customer): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (credits, now) = state.app.customer_credits(&ctx.caller, &customer).await?;
    let items = credits
        .iter()
        .map(|c| view::customer_credit(c, now, ctx.livemode()))
        .collect();
    Ok(reply::array(ctx.version, items).into())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(customer): ApiPath<String>,
    body: ApiJson<CustomerCreditIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let amount = required(input.amount, "amount")?;
    let currency = required(input.currency.as_deref(), "currency")?;
    let currency = parse_currency(currency)
        .ok_or_else(|| ApiError::validation("currency", "currency is not one Commet prices in"))?;
    let reason = required(input.reason.clone(), "reason")?;
    let expires_at = match input.expires_at.as_deref() {
        Some(text) => Some(Timestamp::parse_rfc3339(text).ok_or_else(|| {
            ApiError::validation("expiresAt", "expiresAt must be an ISO 8601 date-time")
        })?),
        None => None,
    };
    let command = CreateCustomerCredit {
        customer,
        credit: NewCustomerCredit {
            amount,
            currency,
            reason,
            expires_at,
        },
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |credit| {
            reply::object(
                version,
                view::customer_credit(credit, credit.created_at, livemode),
            )
        },
    )
    .await
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((customer, credit)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = RevokeCustomerCredit { customer, credit };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        command,
        move |(credit, at)| reply::object(version, view::revocation(credit, *at, livemode)),
    )
    .await
}
