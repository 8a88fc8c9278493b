//! `/invoices` (`balance.md` §5.1, `commerce.md` §8): list, get, the status change in both
//! spellings, adjustments, sends and download links; and the signed PDF links themselves,
//! served without an API key.

use super::{EMPTY_BODY, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use tally_app::adjustments::CreateAdjustment;
use tally_app::invoice_sends::SendInvoice;
use tally_app::invoicing::SetInvoiceStatus;
use tally_app::{AppError, NotFound};
use tally_domain::adjustments::Adjustment;
use tally_domain::billing::InvoiceStatus;
use tally_domain::subscription::SubscriptionId;
use tally_store::InvoiceFilter;
use tally_wire::requests::{AdjustmentIn, InvoiceStatusIn};

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

/// `POST /invoices`: a one-off adjustment, or a credit note when the amount is negative.
pub async fn create_adjustment(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<AdjustmentIn>,
) -> Result<Reply, ApiError> {
    let input = &body.value;
    let customer = required(input.customer_id.clone(), "customerId")?;
    let amount = required(input.amount, "amount")?;
    let description = required(input.description.as_deref(), "description")?;
    let adjustment =
        Adjustment::parse(amount, description, input.metadata.clone()).map_err(AppError::from)?;
    let livemode = ctx.livemode();
    let version = ctx.version;
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreateAdjustment {
            customer,
            adjustment,
        },
        move |invoice| reply::object(version, tally_wire::invoices::invoice(invoice, livemode)),
    )
    .await
}

/// `POST /invoices/{id}/send`: records the send (and queues its e-mail when SMTP is set up).
pub async fn send(
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
        SendInvoice { id },
        move |sent| {
            reply::object(
                version,
                tally_wire::invoices::sent_invoice(version, sent.sent_at, livemode),
            )
        },
    )
    .await
}

/// `GET /invoices/{id}/download` (legacy) and `POST /invoices/{id}/download-links` (direct):
/// a fresh signed link, valid for seven days.
pub async fn download_link(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let link = state.app.invoice_download_link(&ctx.caller, &id).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::invoices::invoice_download(
            ctx.version,
            &link.url,
            link.expires_at,
            ctx.livemode(),
        ),
    )
    .into())
}

/// `GET /files/invoices/{id}.pdf?exp=…&sig=…`: the PDF a signed link names.
pub async fn file(
    State(state): State<AppState>,
    ApiPath(file): ApiPath<String>,
    query: ApiQuery,
) -> Result<Response, ApiError> {
    let id = file
        .strip_suffix(".pdf")
        .ok_or_else(|| ApiError::from(AppError::NotFound(NotFound::Invoice)))?;
    let file = state
        .app
        .invoice_file(id, query.text("exp"), query.text("sig"))
        .await?;
    let disposition = HeaderValue::from_str(&format!("inline; filename=\"{}\"", file.filename))
        .map_err(|_| ApiError::internal("an invoice number that cannot be a file name"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/pdf"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        file.pdf,
    )
        .into_response())
}
