//! `/subscriptions/{id}/pause` and `/resume` (`lifecycle.md` §6), 2026-08-27 and later only;
//! and `/reactivate` (`lifecycle.md` §7), every version.

use super::{EMPTY_BODY, invalid, required, write};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::pauses::{PauseSubscription, ResumeSubscription, RevokePause, UpdatePause};
use tally_app::subscriptions::{ReactivateSubscription, Reactivation};
use tally_domain::ApiVersion;
use tally_domain::pause::{PauseMode, check_duration};
use tally_wire::requests::{PauseIn, ReactivateIn, UpdatePauseIn};

/// Pausing came with 2026-08-27: earlier versions have no such endpoint.
fn available(ctx: &Ctx) -> Result<(), ApiError> {
    if ctx.version >= ApiVersion::V2026_08_27 {
        Ok(())
    } else {
        Err(ApiError::new(
            ErrorCode::EndpointNotAvailable,
            format!(
                "Pause and resume are not part of API version {}; use 2026-08-27 or later",
                ctx.version.as_str()
            ),
        ))
    }
}

/// `durationDays`: the key must be sent; null means until resumed.
fn duration(days: Option<Option<i64>>) -> Result<Option<i64>, ApiError> {
    let days = days.ok_or_else(|| {
        ApiError::validation(
            "durationDays",
            "durationDays is required (null: until resumed)",
        )
    })?;
    check_duration(days).map_err(invalid)?;
    Ok(days)
}

pub(super) fn subscription_reply(
    ctx: &Ctx,
) -> impl Fn(&tally_app::subscriptions::SubscriptionDetail) -> tally_store::StoredResponse + use<> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    move |detail| {
        reply::object(
            version,
            tally_wire::subscription(version, detail.parts(), livemode),
        )
    }
}

pub async fn pause(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<PauseIn>,
) -> Result<Reply, ApiError> {
    available(&ctx)?;
    let mode_text = required(body.value.mode.clone(), "mode")?;
    let mode = PauseMode::parse(&mode_text)
        .ok_or_else(|| ApiError::validation("mode", "mode must be immediate or period_end"))?;
    let command = PauseSubscription {
        id,
        mode,
        duration_days: duration(body.value.duration_days)?,
    };
    let render = subscription_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<UpdatePauseIn>,
) -> Result<Reply, ApiError> {
    available(&ctx)?;
    let command = UpdatePause {
        id,
        duration_days: duration(body.value.duration_days)?,
    };
    let render = subscription_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    available(&ctx)?;
    let render = subscription_reply(&ctx);
    write(&state, &ctx, &key, EMPTY_BODY, RevokePause(id), render).await
}

pub async fn resume(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    available(&ctx)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        ResumeSubscription(id),
        move |resumed| {
            reply::object(
                version,
                tally_wire::v2026_08_27::subscription_resume(
                    resumed.subscription.id.as_str(),
                    resumed.invoice.as_ref().map(|i| i.id.as_str()),
                    livemode,
                ),
            )
        },
    )
    .await
}

/// `POST /subscriptions/{id}/reactivate` (`lifecycle.md` §7), every version.
pub async fn reactivate(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ReactivateIn>,
) -> Result<Reply, ApiError> {
    if body.value.offer_id.is_some() {
        return Err(ApiError::validation(
            "offerId",
            "an offer enters a subscription at creation or through PUT /subscriptions/{id}/offer; reactivate without one, then apply it",
        ));
    }
    let (version, livemode) = (ctx.version, ctx.livemode());
    let doc_url_base = state.doc_url_base.clone();
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        ReactivateSubscription(id),
        move |done| {
            let (subscription, invoice) = match done {
                Reactivation::Reactivated(done) => (&done.subscription, &done.invoice),
                // A past-due subscription's invoice was tried again (`payments.md` §6).
                Reactivation::Retried(retried) => {
                    if let Some(refusal) =
                        super::recovery::charge_failed(version, &doc_url_base, retried)
                    {
                        return refusal;
                    }
                    (&retried.subscription, &retried.attempt.invoice)
                }
            };
            reply::object(
                version,
                tally_wire::reactivated(version, subscription.id.as_str(), &invoice.id, livemode),
            )
        },
    )
    .await
}
