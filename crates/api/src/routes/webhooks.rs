//! `/webhooks` (`webhooks.md` §1): endpoint management, the test send, and the delivery log
//! (a Tally extension).

use super::{EMPTY_BODY, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::webhooks::{
    CreateEndpoint, DeleteEndpoint, EndpointPatch, NewEndpoint, UpdateEndpoint,
};
use tally_domain::ApiVersion;
use tally_store::DeliveryLog;
use tally_wire::requests::WebhookIn;
use tally_wire::webhooks::AttemptOut;

fn pin(text: Option<&str>) -> Result<Option<ApiVersion>, ApiError> {
    text.map(|v| {
        tally_domain::ApiVersion::ALL
            .into_iter()
            .find(|known| known.as_str() == v)
            .ok_or_else(|| {
                ApiError::validation(
                    "apiVersion",
                    "apiVersion must be a version Tally implements",
                )
            })
    })
    .transpose()
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<WebhookIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    let url = required(input.url, "url")?;
    let events = required(input.events, "events")?;
    state.app.check_endpoint_url(&ctx.caller, &url)?;
    state.app.check_endpoint_events(&events)?;
    // Decision (`webhooks.md` §1): no apiVersion pins the endpoint to the creating request's.
    let api_version = match input.api_version {
        None => Some(ctx.version),
        Some(text) => pin(text.as_deref())?,
    };
    let command = CreateEndpoint(NewEndpoint {
        url,
        events,
        description: input.description.flatten(),
        // Decision: `isActive` is honoured at creation as at update; absent means active.
        is_active: input.is_active.unwrap_or(true),
        api_version,
    });
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |created| {
            reply::object(
                version,
                tally_wire::webhooks::endpoint(
                    &created.endpoint,
                    created.secret.as_deref(),
                    livemode,
                ),
            )
        },
    )
    .await
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let endpoints = state.app.webhook_endpoints(&ctx.caller, &page).await?;
    Ok(page_reply(
        &ctx,
        &endpoints,
        |e| (e.created_at, e.id.as_str()),
        |e| tally_wire::webhooks::endpoint(e, None, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let endpoint = state.app.webhook_endpoint(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::webhooks::endpoint(&endpoint, None, ctx.livemode()),
    )
    .into())
}

/// `PUT /webhooks/{id}` (legacy) and `PATCH /webhooks/{id}` (direct).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<WebhookIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    if let Some(url) = &input.url {
        state.app.check_endpoint_url(&ctx.caller, url)?;
    }
    if let Some(events) = &input.events {
        state.app.check_endpoint_events(events)?;
    }
    let api_version = match input.api_version {
        None => None,
        Some(text) => Some(pin(text.as_deref())?),
    };
    let command = UpdateEndpoint {
        id,
        patch: EndpointPatch {
            url: input.url,
            events: input.events,
            description: input.description,
            is_active: input.is_active,
            api_version,
        },
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |endpoint| {
            reply::object(
                version,
                tally_wire::webhooks::endpoint(endpoint, None, livemode),
            )
        },
    )
    .await
}

pub async fn delete(
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
        DeleteEndpoint(id),
        move |id| {
            reply::object(
                version,
                tally_wire::deleted(version, id, "webhook", livemode),
            )
        },
    )
    .await
}

/// A synchronous, never retried `webhook.test` delivery.
pub async fn test(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let sent = state.app.test_webhook(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::webhooks::test_send(
            ctx.version,
            sent.success,
            &sent.delivery_id,
            sent.delivered_at,
            ctx.livemode(),
        ),
    )
    .into())
}

/// `GET /webhooks/{id}/deliveries` (Tally extension): deliveries, newest first, with attempts.
pub async fn deliveries(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let logs = state
        .app
        .webhook_deliveries(&ctx.caller, &id, &page)
        .await?;
    Ok(page_reply(
        &ctx,
        &logs,
        |l| (l.delivery.created_at, l.delivery.id.as_str()),
        |l| delivery_view(l, ctx.livemode()),
    ))
}

fn delivery_view(log: &DeliveryLog, livemode: tally_wire::Livemode) -> serde_json::Value {
    let attempts = log
        .attempts
        .iter()
        .map(|a| AttemptOut::new(a.number, a.attempted_at, &a.result));
    tally_wire::webhooks::delivery(&log.delivery, attempts, livemode)
}
