//! `/subscriptions/{id}/balance/*` (`balance.md` §2–§3): adjust credits or balance, top up.

use super::{required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::balance::{AdjustLedger, TopUpBalance, is_whole_cents};
use tally_domain::subscription::LedgerKind;
use tally_wire::requests::{AdjustBalanceIn, TopUpIn};

pub async fn adjust(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<AdjustBalanceIn>,
) -> Result<Reply, ApiError> {
    let amount = required(body.value.amount, "amount")?;
    if amount == 0 {
        return Err(ApiError::validation("amount", "amount must not be 0"));
    }
    let kind = match body.value.kind.as_deref() {
        None => None,
        Some(text) => Some(
            LedgerKind::parse(text)
                .ok_or_else(|| ApiError::validation("type", "type must be credits or balance"))?,
        ),
    };
    let command = AdjustLedger {
        subscription: id,
        amount,
        kind,
        reason: body.value.reason.clone(),
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |adjusted| {
            reply::object(
                version,
                tally_wire::balance::adjustment(
                    version,
                    adjusted.amount,
                    adjusted.new_balance,
                    adjusted.reason.as_deref(),
                    livemode,
                ),
            )
        },
    )
    .await
}

pub async fn top_up(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<TopUpIn>,
) -> Result<Reply, ApiError> {
    let amount = required(body.value.amount, "amount")?;
    if !is_whole_cents(amount) {
        return Err(ApiError::validation(
            "amount",
            "amount must be a positive multiple of 100 (whole cents on the 10000 = 1.00 scale)",
        ));
    }
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        TopUpBalance {
            subscription: id,
            amount,
        },
        move |amount| {
            reply::object(
                version,
                tally_wire::balance::top_up(version, *amount, livemode),
            )
        },
    )
    .await
}
