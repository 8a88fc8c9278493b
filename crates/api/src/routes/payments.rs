//! `/payments` and `/transactions` (`payments.md` §7–8).

use super::{EMPTY_BODY, invalid, page_reply, required, write};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::{Value, json};
use tally_app::payments::{
    CancelPayment, ChargeCustomer, Charged, CreatePaymentLink, NewPayment, PaymentView,
    RefundTransaction,
};
use tally_domain::catalog::problems_or;
use tally_domain::money::Cents;
use tally_domain::payments::{
    Payment, TransactionStatus, check_payment_fields, check_payment_metadata, check_redirect_url,
};
use tally_domain::{ApiVersion, Generation};
use tally_store::StoredResponse;
use tally_wire::Livemode;
use tally_wire::payments::{self as view, PaymentParts, TransactionShape};
use tally_wire::requests::PaymentIn;

fn payment_value(version: ApiVersion, found: &PaymentView, livemode: Livemode) -> Value {
    let context = found
        .paid_by
        .as_ref()
        .map(|_| tally_app::payments::payment_context(&found.payment));
    view::payment(
        version,
        PaymentParts {
            payment: &found.payment,
            url: found.url.as_deref(),
            provider: found.provider,
            context: context.as_ref(),
        },
        livemode,
    )
}

/// The fields of a link or a charge, checked; `customer` is required for charges.
fn new_payment(input: &PaymentIn, charge: bool) -> Result<NewPayment, ApiError> {
    let amount = required(input.amount, "amount")?;
    let currency = required(input.currency.clone(), "currency")?;
    let description = required(input.description.clone(), "description")?;
    if charge {
        required(input.customer_id.clone(), "customerId")?;
    }
    let mut problems = Vec::new();
    check_payment_fields(
        Some(amount),
        Some(&currency),
        Some(&description),
        &mut problems,
    );
    if let Some(metadata) = &input.metadata {
        check_payment_metadata(metadata, &mut problems);
    }
    if let Some(url) = &input.success_url {
        check_redirect_url(url, "successUrl", &mut problems);
    }
    problems_or(problems).map_err(invalid)?;
    Ok(NewPayment {
        customer: input.customer_id.clone(),
        amount: Cents(amount),
        description: description.trim().to_owned(),
        metadata: input.metadata.clone(),
        success_url: input.success_url.clone(),
    })
}

/// `POST /payments`: a payment link.
pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<PaymentIn>,
) -> Result<Reply, ApiError> {
    let payment = new_payment(&body.value, false)?;
    let signer = state.app.page_signer().await?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        CreatePaymentLink { payment, signer },
        move |found| reply::object(version, payment_value(version, found, livemode)),
    )
    .await
}

/// `POST /payments/charge`: the customer's default card, off-session. A decline is kept and
/// answered `402 payment_failed`.
pub async fn charge(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<PaymentIn>,
) -> Result<Reply, ApiError> {
    let payment = new_payment(&body.value, true)?;
    let customer = payment.customer.clone().unwrap_or_default();
    let signer = state.app.page_signer().await?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    let doc_url_base = state.doc_url_base.clone();
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        ChargeCustomer {
            customer,
            payment,
            signer,
        },
        move |charged| match charged {
            Charged::Succeeded(found) => {
                reply::object(version, payment_value(version, found, livemode))
            }
            Charged::Declined {
                payment,
                transaction,
                decline,
            } => {
                let error = ApiError {
                    details: Some(json!({
                        "paymentId": payment.as_str(),
                        "transactionId": transaction.as_str(),
                        "failureCode": decline.code,
                        "failureMessage": decline.message,
                    })),
                    ..ApiError::new(ErrorCode::PaymentFailed, decline.message.clone())
                };
                StoredResponse {
                    status: error.status().as_u16(),
                    body: error.body(version, &doc_url_base).to_string(),
                }
            }
        },
    )
    .await
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let found = state.app.payment(&ctx.caller, &id).await?;
    let value = payment_value(ctx.version, &found, ctx.livemode());
    Ok(reply::object(ctx.version, value).into())
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let found = state
        .app
        .payments(&ctx.caller, query.text("customerId"), &page)
        .await?;
    Ok(page_reply(&ctx, &found, position, |p| {
        payment_value(ctx.version, p, ctx.livemode())
    }))
}

fn position(found: &PaymentView) -> (tally_domain::Timestamp, &str) {
    let payment: &Payment = &found.payment;
    (payment.created_at, payment.id.as_str())
}

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let signer = state.app.page_signer().await?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        CancelPayment { id, signer },
        move |found| reply::object(version, payment_value(version, found, livemode)),
    )
    .await
}

pub async fn get_transaction(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let found = state.app.transaction(&ctx.caller, &id).await?;
    let context = state.app.transaction_context(&ctx.caller, &found).await?;
    let value = view::transaction(
        ctx.version,
        &found,
        &context,
        TransactionShape::Object,
        ctx.livemode(),
    );
    Ok(reply::object(ctx.version, value).into())
}

pub async fn list_transactions(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let status = match query.text("status") {
        None => None,
        Some(text) => Some(TransactionStatus::parse(text).ok_or_else(|| {
            ApiError::validation(
                "status",
                "status must be pending, succeeded, failed, refunded or disputed",
            )
        })?),
    };
    let page = query.page()?;
    let found = state
        .app
        .transactions(&ctx.caller, status, query.text("customerEmail"), &page)
        .await?;
    let mut contexts = Vec::with_capacity(found.items.len());
    for t in &found.items {
        contexts.push(state.app.transaction_context(&ctx.caller, t).await?);
    }
    let shape = match ctx.version.generation() {
        Generation::Legacy => TransactionShape::Object,
        Generation::Direct => TransactionShape::ListItem,
    };
    let reply = page_reply(
        &ctx,
        &found,
        |t| (t.created_at, t.id.as_str()),
        |t| {
            let index = found
                .items
                .iter()
                .position(|other| other.id == t.id)
                .unwrap_or(0);
            view::transaction(ctx.version, t, &contexts[index], shape, ctx.livemode())
        },
    );
    Ok(reply)
}

pub async fn refund(
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
        RefundTransaction(id),
        move |(_, refund)| reply::object(version, view::refund(version, refund, livemode)),
    )
    .await
}

/// `POST /portal/request-access` and `POST /portal/sessions`: a portal link for the customer
/// named by `customerId`, or the newest one with `email`.
pub async fn portal_access(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<tally_wire::requests::PortalAccessIn>,
) -> Result<Reply, ApiError> {
    use tally_app::portal::{OpenPortal, PortalCustomer};
    let input = &body.value;
    let customer = match (&input.customer_id, &input.email) {
        (Some(id), None) => PortalCustomer::Reference(id.clone()),
        (None, Some(email)) => PortalCustomer::Email(email.trim().to_owned()),
        _ => {
            return Err(ApiError::validation(
                "customerId",
                "send exactly one of customerId and email",
            ));
        }
    };
    if let Some(url) = &input.return_url {
        let mut problems = Vec::new();
        check_redirect_url(url, "returnUrl", &mut problems);
        problems_or(problems).map_err(invalid)?;
    }
    let signer = state.app.page_signer().await?;
    let command = OpenPortal {
        customer,
        return_url: input.return_url.clone(),
        signer,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |url| {
        reply::object(version, view::portal_access(url, livemode))
    })
    .await
}

/// `POST /subscriptions/{id}/payment-method/update`: a page where the customer saves a new
/// default card.
pub async fn payment_method_update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<tally_wire::requests::PaymentMethodUpdateIn>,
) -> Result<Reply, ApiError> {
    if let Some(url) = &body.value.success_url {
        let mut problems = Vec::new();
        check_redirect_url(url, "successUrl", &mut problems);
        problems_or(problems).map_err(invalid)?;
    }
    let signer = state.app.page_signer().await?;
    let command = tally_app::card_updates::StartCardUpdate {
        subscription: id,
        success_url: body.value.success_url.clone(),
        signer,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |url| {
        reply::object(version, view::payment_method_update(version, url, livemode))
    })
    .await
}
