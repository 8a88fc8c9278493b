//! `/test-clock` (`catalog.md` §7): sandbox only; the version decides whether an advance also
//! processes billing.

use super::render;
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::test_clock::{AdvanceClock, Advanced, BillingCounts};
use tally_app::{AppError, Written};
use tally_domain::{Generation, Timestamp};
use tally_wire::ClockParts;
use tally_wire::requests::AdvanceClockIn;

/// Direct versions answer an advance with `202 Accepted` and the run (`wire.md` §3.3).
const ADVANCE_ACCEPTED_STATUS: u16 = 202;

pub async fn get(State(state): State<AppState>, ctx: Ctx) -> Result<Reply, ApiError> {
    let clock = state.app.test_clock(&ctx.caller).await?;
    let parts = ClockParts {
        simulated_time: clock.simulated_time,
        now: clock.now,
        latest_run: clock.latest_run.as_ref(),
    };
    Ok(reply::object(ctx.version, tally_wire::test_clock(ctx.version, parts)).into())
}

pub async fn advance(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<AdvanceClockIn>,
) -> Result<Reply, ApiError> {
    let frozen_time = match body.value.frozen_time.as_deref() {
        None => None,
        Some(text) => Some(Timestamp::parse_rfc3339(text).ok_or_else(|| {
            ApiError::validation("frozenTime", "frozenTime must be an ISO 8601 date-time")
        })?),
    };
    let is_legacy = ctx.version.generation() == Generation::Legacy;
    let command = AdvanceClock {
        advance_days: body.value.advance_days,
        frozen_time,
        // Decision (`catalog.md` §7): legacy callers move time only and call process-billing.
        process: !is_legacy,
    };
    let version = ctx.version;
    let render = render(&state, &ctx, move |advanced: &Advanced| {
        match &advanced.run {
            Some(run) if !is_legacy => reply::object_with_status(
                version,
                tally_wire::test_clock_run(run),
                ADVANCE_ACCEPTED_STATUS,
            ),
            _ => {
                let parts = ClockParts {
                    simulated_time: advanced.clock.simulated_time,
                    now: advanced.clock.now,
                    latest_run: advanced.clock.latest_run.as_ref(),
                };
                reply::object(version, tally_wire::test_clock(version, parts))
            }
        }
    });
    let idempotency = key.for_body(&body.canonical);
    run_to_the_end(&state, &ctx, move |app, caller| async move {
        app.advance_test_clock(&caller, idempotency.as_ref(), command, render)
            .await
    })
    .await
}

pub async fn process_billing(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<Value>,
) -> Result<Reply, ApiError> {
    if ctx.version.generation() == Generation::Direct {
        return Err(ApiError::new(
            ErrorCode::EndpointDeprecated,
            "POST /test-clock now processes billing; process-billing is gone from this API version",
        ));
    }
    let version = ctx.version;
    let render = render(&state, &ctx, move |counts: &BillingCounts| {
        reply::object(
            version,
            tally_wire::test_clock_billing([
                counts.customers_found,
                counts.enqueued,
                counts.failed,
                counts.dunning_retried,
                counts.dunning_failed,
            ]),
        )
    });
    let idempotency = key.for_body(&body.canonical);
    run_to_the_end(&state, &ctx, move |app, caller| async move {
        app.process_test_clock_billing(&caller, idempotency.as_ref(), render)
            .await
    })
    .await
}

/// Runs an operation that takes several transactions on a task of its own, so that a client
/// that goes away does not stop it between two of them: like a single write job, it runs to
/// its end, and a retry with the same key replays its answer.
async fn run_to_the_end<F, Fut>(
    state: &AppState,
    ctx: &Ctx,
    operation: F,
) -> Result<Reply, ApiError>
where
    F: FnOnce(tally_app::App, tally_app::Caller) -> Fut,
    Fut: Future<Output = Result<Written, AppError>> + Send + 'static,
{
    let task = tokio::spawn(operation(state.app.clone(), ctx.caller.clone()));
    let written = task.await.map_err(ApiError::internal)??;
    Ok(Reply(written))
}
