//! `/invoices` (`balance.md` §5.1): list, get, and the status change in both spellings.

use super::{page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::invoicing::SetInvoiceStatus;
use tally_app::{AppError, NotFound};
use tally_domain::billing::InvoiceStatus;
use tally_domain::subscription::SubscriptionId;
use tally_store::InvoiceFilter;
use tally_wire::requests::InvoiceStatusIn;

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = match query.text("customerId") {
        Some(reference) => Some(
            state
                .app
                .customer_for_param(&ctx.caller, reference)
                .await?
                .id,
        ),
        None => None,
    };
    let subscription = match query.text("subscriptionId") {
        Some(text) => Some(SubscriptionId::parse(text).ok_or_else(|| {
            ApiError::from(AppError::NotFoundAt(
                NotFound::Subscription,
                "subscriptionId".to_owned(),
            ))
        })?),
        None => None,
    };
    let status = match query.text("status") {
        Some(text) => Some(
            InvoiceStatus::parse(text)
                .ok_or_else(|| ApiError::validation("status", "status is not an invoice status"))?,
        ),
        None => None,
    };
    let page = query.page()?;
    let filter = InvoiceFilter {
        customer,
        subscription,
        status,
    };
    let invoices = state.app.invoices(&ctx.caller, &filter, &page).await?;
    Ok(page_reply(
        &ctx,
        &invoices,
        |i| (i.created_at, i.id.as_str()),
        |i| tally_wire::invoices::invoice_list_item(ctx.version, i, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let invoice = state.app.invoice(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::invoices::invoice(&invoice, ctx.livemode()),
    )
    .into())
}

/// `PUT /invoices/{id}/status` (legacy) and `PATCH /invoices/{id}/status` (direct).
pub async fn set_status(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<InvoiceStatusIn>,
) -> Result<Reply, ApiError> {
    let text = required(body.value.status.clone(), "status")?;
    let status = InvoiceStatus::parse(&text)
        .filter(|s| matches!(s, InvoiceStatus::Paid | InvoiceStatus::Void))
        .ok_or_else(|| ApiError::validation("status", "status must be paid or void"))?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        SetInvoiceStatus { id, status },
        move |invoice| {
            reply::object(
                version,
                tally_wire::invoices::invoice_status(version, invoice, livemode),
            )
        },
    )
    .await
}
