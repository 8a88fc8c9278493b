//! `/customers/{id}/plan-grants` (`commerce.md` §6): grant, list, change and revoke.

use super::{required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::plan_grants::{CreatePlanGrant, DurationInput, RevokePlanGrant, UpdatePlanGrant};
use tally_domain::Timestamp;
use tally_wire::plan_grants as view;
use tally_wire::requests::{PlanGrantIn, RevokeGrantIn};

fn duration(body: &PlanGrantIn) -> Result<DurationInput, ApiError> {
    let expires_at = match body.expires_at.as_deref() {
        Some(text) => Some(Timestamp::parse_rfc3339(text).ok_or_else(|| {
            ApiError::validation("expiresAt", "expiresAt must be an ISO 8601 date-time")
        })?),
        None => None,
    };
    Ok(DurationInput {
        name: required(body.duration.clone(), "duration")?,
        cycles: body.duration_cycles,
        expires_at,
    })
}

/// Every grant of the customer, newest first, in one page.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(customer): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (grants, now) = state.app.plan_grants(&ctx.caller, &customer).await?;
    let items = grants
        .iter()
        .map(|g| view::plan_grant(g, now, ctx.livemode()))
        .collect();
    Ok(reply::array(ctx.version, items).into())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(customer): ApiPath<String>,
    body: ApiJson<PlanGrantIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let command = CreatePlanGrant {
        customer,
        subscription: required(input.subscription_id.clone(), "subscriptionId")?,
        plan: required(input.plan_id.clone(), "planId")?,
        reason: required(input.reason.clone(), "reason")?,
        duration: duration(input)?,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |grant| {
        reply::object(version, view::plan_grant(grant, grant.updated_at, livemode))
    })
    .await
}

pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((customer, grant)): ApiPath<(String, String)>,
    body: ApiJson<PlanGrantIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let command = UpdatePlanGrant {
        customer,
        grant,
        reason: required(input.reason.clone(), "reason")?,
        duration: duration(input)?,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |grant| {
        reply::object(version, view::plan_grant(grant, grant.updated_at, livemode))
    })
    .await
}

pub async fn revoke(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((customer, grant)): ApiPath<(String, String)>,
    body: ApiJson<RevokeGrantIn>,
) -> Result<Reply, ApiError> {
    let command = RevokePlanGrant {
        customer,
        grant,
        reason: required(body.value.reason.clone(), "reason")?,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |grant| {
        reply::object(version, view::plan_grant(grant, grant.updated_at, livemode))
    })
    .await
}
