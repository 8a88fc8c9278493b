//! Recovering past-due subscriptions (`payments.md` §6): recovery links,
//! `transactions.retry`, and the answer `reactivate` gives for a past-due subscription; and
//! claim links (§10.2), the other link a platform hands out.

use super::{EMPTY_BODY, write};
use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiPath, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::json;
use tally_app::recovery::{CreateRecoveryLink, Retried, RetryTransaction};
use tally_domain::ApiVersion;
use tally_store::StoredResponse;
use tally_wire::payments as view;

/// A manual attempt the processor declined: `402 charge_failed`, naming the attempt and the
/// recovery page to send the customer to.
pub(super) fn charge_failed(
    version: ApiVersion,
    doc_url_base: &str,
    retried: &Retried,
) -> Option<StoredResponse> {
    let decline = retried.decline()?;
    let error = ApiError {
        details: Some(json!({
            "invoiceId": retried.attempt.invoice.id,
            "transactionId": retried.transaction_id().map(|t| t.as_str()),
            "failureCode": decline.code,
            "failureMessage": decline.message,
            "recoveryUrl": retried.attempt.recovery_url,
        })),
        ..ApiError::new(ErrorCode::ChargeFailed, decline.message.clone())
    };
    Some(StoredResponse {
        status: error.status().as_u16(),
        body: error.body(version, doc_url_base).to_string(),
    })
}

/// `POST /subscriptions/{id}/recovery-link` (Node) and `/recovery-links` (Python).
pub async fn create_link(
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
        CreateRecoveryLink(id),
        move |link| {
            reply::object(
                version,
                view::recovery_link(version, &link.url, &link.token, livemode),
            )
        },
    )
    .await
}

/// `POST /transactions/{id}/retry`.
pub async fn retry(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    let doc_url_base = state.doc_url_base.clone();
    write(
        &state,
        &ctx,
        &key,
        EMPTY_BODY,
        RetryTransaction(id),
        move |(original, retried)| {
            charge_failed(version, &doc_url_base, retried).unwrap_or_else(|| {
                let attempt = retried
                    .transaction_id()
                    .map(|t| t.as_str())
                    .unwrap_or_default();
                reply::object(
                    version,
                    view::transaction_retry(
                        version,
                        original.as_str(),
                        attempt,
                        &retried.attempt.invoice.id,
                        livemode,
                    ),
                )
            })
        },
    )
    .await
}

/// `POST /claim-link` (`payments.md` §10.2): a fresh link to claim a pair provisioned
/// headless.
pub async fn claim_link(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
) -> Result<Reply, ApiError> {
    let signer = state.app.page_signer().await?;
    let command = tally_app::claims::CreateClaimLink { signer };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, EMPTY_BODY, command, move |link| {
        reply::object(
            version,
            view::claim_link(&link.url, link.expires_at, livemode),
        )
    })
    .await
}
