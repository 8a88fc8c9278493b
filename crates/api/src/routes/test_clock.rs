//! `/test-clock` (`catalog.md` §7): sandbox only; the version decides whether an advance also
//! processes billing.

use super::write;
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::test_clock::{AdvanceClock, ProcessBilling};
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
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |advanced| match &advanced.run {
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
        },
    )
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
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        ProcessBilling,
        move |counts| {
            reply::object(
                version,
                tally_wire::test_clock_billing(
                    counts.customers_found,
                    counts.enqueued,
                    counts.failed,
                ),
            )
        },
    )
    .await
}
