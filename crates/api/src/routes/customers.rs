//! `/customers` (`catalog.md` §2).

use super::{page_reply, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::AppError;
use tally_app::customers::{CreateCustomer, CreateCustomerBatch, UpdateCustomer};
use tally_domain::customer::BATCH_SIZE_MAX;
use tally_domain::{CustomerRef, DomainError};
use tally_wire::requests::{CreateCustomerIn, CustomerBatchIn, UpdateCustomerIn};

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreateCustomerIn>,
) -> Result<Reply, ApiError> {
    let command = CreateCustomer(body.value.into_domain().map_err(AppError::from)?);
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |customer| reply::object(version, tally_wire::customer(version, customer, livemode)),
    )
    .await
}

pub async fn create_batch(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CustomerBatchIn>,
) -> Result<Reply, ApiError> {
    let submitted = body.value.customers;
    if submitted.is_empty() || submitted.len() > BATCH_SIZE_MAX {
        return Err(ApiError::validation(
            "customers",
            format!("customers must hold 1 to {BATCH_SIZE_MAX} items"),
        ));
    }
    let items = submitted.iter().map(parse_batch_item).collect();
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreateCustomerBatch(items),
        move |outcomes| {
            let views: Vec<_> = submitted
                .iter()
                .zip(outcomes)
                .enumerate()
                .map(|(index, (data, outcome))| (index, data, outcome.as_ref()))
                .collect();
            reply::object(
                version,
                tally_wire::customer_batch(version, &views, livemode),
            )
        },
    )
    .await
}

fn parse_batch_item(item: &Value) -> Result<tally_domain::customer::NewCustomer, DomainError> {
    let parsed: CreateCustomerIn = serde_path_to_error::deserialize(item.clone()).map_err(|e| {
        DomainError::field(e.path().to_string(), format!("{}: {}", e.path(), e.inner()))
    })?;
    parsed.into_domain()
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let customer = state.app.customer(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::customer(ctx.version, &customer, ctx.livemode()),
    )
    .into())
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let customers = state
        .app
        .customers(&ctx.caller, query.text("externalId"), &page)
        .await?;
    Ok(page_reply(
        &ctx,
        &customers,
        |c| (c.created_at, c.id.as_str()),
        |c| tally_wire::customer(ctx.version, c, ctx.livemode()),
    ))
}

/// `PUT` (legacy spelling) and `PATCH` (direct spelling) do the same (`wire.md` §3.4).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<UpdateCustomerIn>,
) -> Result<Reply, ApiError> {
    let patch = body.value.into_domain().map_err(AppError::from)?;
    let Some(customer) = CustomerRef::parse(&id) else {
        return Err(AppError::NotFound(tally_app::NotFound::Customer).into());
    };
    let command = UpdateCustomer { customer, patch };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |customer| reply::object(version, tally_wire::customer(version, customer, livemode)),
    )
    .await
}
