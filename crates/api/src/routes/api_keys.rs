//! `/api-keys` (`catalog.md` §1).

use super::{EMPTY_BODY, page_reply, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::api_keys::{CreateApiKey, DeleteApiKey};
use tally_app::{AppError, NotFound};
use tally_domain::ApiKeyId;
use tally_wire::requests::CreateApiKeyIn;

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let keys = state.app.api_keys(&ctx.caller, &page).await?;
    Ok(page_reply(
        &ctx,
        &keys,
        |k| (k.created_at, k.id.as_str()),
        |k| tally_wire::api_key(ctx.version, k, ctx.livemode()),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreateApiKeyIn>,
) -> Result<Reply, ApiError> {
    let command = CreateApiKey(body.value.into_domain().map_err(AppError::from)?);
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
                tally_wire::created_api_key(
                    version,
                    &created.key,
                    created.secret.as_deref(),
                    livemode,
                ),
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
    let Some(id) = ApiKeyId::parse(&id) else {
        return Err(AppError::NotFound(NotFound::ApiKey).into());
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        DeleteApiKey(id),
        move |deleted| {
            reply::object(
                version,
                tally_wire::deleted(version, deleted.as_str(), "api_key", livemode),
            )
        },
    )
    .await
}
