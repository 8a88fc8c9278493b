//! Payments, transactions and refunds (`payments.md` §3), and the pay page's JSON state
//! (`payments.md` §4). Fields marked 2026-08-27 exist only from that version on.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::ApiVersion;
use tally_domain::customer::Metadata;
use tally_domain::payments::{Payment, PaymentKind, Refund, Transaction, TransactionStatus};
use tally_domain::payouts::{Payout, PayoutBankAccount, SANDBOX_BANK};
use utoipa::ToSchema;

fn since_08_27(version: ApiVersion) -> bool {
    version >= ApiVersion::V2026_08_27
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentOut<'a> {
    pub id: &'a str,
    pub customer_id: Option<&'a str>,
    pub kind: &'static str,
    pub status: &'static str,
    pub provider: &'a str,
    pub amount_subtotal: i64,
    pub tax_amount: i64,
    pub amount_total: i64,
    pub currency: &'a str,
    pub description: &'a str,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<&'a Metadata>,
    pub url: Option<&'a str>,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// 2026-08-27.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payment_context: Option<Value>,
    pub object: &'static str,
    pub livemode: bool,
}

/// What a payment's view needs besides the payment.
#[derive(Clone, Copy)]
pub struct PaymentParts<'a> {
    pub payment: &'a Payment,
    pub url: Option<&'a str>,
    pub provider: &'a str,
    /// `paymentContext` once a transaction paid it.
    pub context: Option<&'a Value>,
}

pub fn payment(version: ApiVersion, parts: PaymentParts<'_>, livemode: Livemode) -> Value {
    let p = parts.payment;
    to_value(PaymentOut {
        id: p.id.as_str(),
        customer_id: p.customer_id.as_ref().map(|c| c.as_str()),
        kind: p.kind.as_str(),
        status: p.status.as_str(),
        provider: parts.provider,
        amount_subtotal: p.amount.0,
        tax_amount: 0,
        amount_total: p.amount.0,
        currency: &p.currency,
        description: &p.description,
        metadata: p.metadata.as_ref(),
        url: parts.url,
        expires_at: (p.kind == PaymentKind::Link)
            .then(|| p.expires_at.map(|e| e.to_rfc3339()))
            .flatten(),
        created_at: p.created_at.to_rfc3339(),
        updated_at: p.updated_at.to_rfc3339(),
        payment_context: since_08_27(version)
            .then(|| parts.context.cloned().unwrap_or(Value::Null)),
        object: "payment",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionOut<'a> {
    pub id: &'a str,
    pub invoice_id: Option<&'a str>,
    /// US cents; null for other currencies (Tally has no US figure for them).
    pub gross_amount: Option<i64>,
    pub subtotal: Option<i64>,
    pub tax_amount: i64,
    /// The amount in the charge currency's minor units; null for `usd`.
    pub presentment_amount: Option<i64>,
    pub currency: &'a str,
    pub provider: &'a str,
    /// 2026-08-27.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_method: Option<&'static str>,
    /// 2026-08-27.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_payment_method: Option<&'static str>,
    pub status: &'static str,
    pub customer_email: &'a str,
    pub customer_name: Option<&'a str>,
    pub paid_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Left out of 2026-08-27 list items.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub available_at: Option<Option<String>>,
    /// 2026-08-27.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub payment_context: Option<Value>,
    pub object: &'static str,
    pub livemode: bool,
}

/// A transaction as an object, or as a 2026-07-24+ list item (no `availableAt`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum TransactionShape {
    Object,
    ListItem,
}

pub fn transaction(
    version: ApiVersion,
    t: &Transaction,
    context: &Value,
    shape: TransactionShape,
    livemode: Livemode,
) -> Value {
    let usd = t.currency == "usd";
    let direct_item = shape == TransactionShape::ListItem
        && version.generation() == tally_domain::Generation::Direct;
    let paid = matches!(
        t.status,
        TransactionStatus::Succeeded | TransactionStatus::Refunded | TransactionStatus::Disputed
    );
    let new = since_08_27(version);
    to_value(TransactionOut {
        id: t.id.as_str(),
        invoice_id: t.invoice_id.as_deref(),
        gross_amount: usd.then_some(t.amount.0),
        subtotal: usd.then_some(t.amount.0),
        tax_amount: 0,
        presentment_amount: (!usd).then_some(t.amount.0),
        currency: &t.currency,
        provider: &t.provider,
        payment_method: new.then_some("card"),
        sub_payment_method: new.then_some("credit_card"),
        status: t.status.as_str(),
        customer_email: &t.customer_email,
        customer_name: t.customer_name.as_deref(),
        paid_at: t.paid_at.map(|p| p.to_rfc3339()),
        created_at: t.created_at.to_rfc3339(),
        updated_at: t.updated_at.to_rfc3339(),
        // No payout hold yet: funds are available when paid.
        available_at: (!direct_item).then(|| t.paid_at.filter(|_| paid).map(|p| p.to_rfc3339())),
        payment_context: new.then(|| context.clone()),
        object: "transaction",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RefundOut<'a> {
    pub id: &'a str,
    pub transaction_id: &'a str,
    pub amount: i64,
    pub currency: &'a str,
    pub charge_id: &'a str,
    pub status: &'static str,
    pub reason: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}

/// The legacy answer to a refund: the refunded transaction.
#[derive(Serialize, ToSchema)]
pub struct TransactionRefundOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn refund(version: ApiVersion, refund: &Refund, livemode: Livemode) -> Value {
    match version.generation() {
        tally_domain::Generation::Legacy => to_value(TransactionRefundOut {
            id: refund.transaction_id.as_str(),
            status: "refunded",
            object: object_name(version, "transaction", "refund"),
            livemode: livemode.0,
        }),
        tally_domain::Generation::Direct => to_value(RefundOut {
            id: refund.id.as_str(),
            transaction_id: refund.transaction_id.as_str(),
            amount: refund.amount.0,
            currency: &refund.currency,
            charge_id: &refund.charge_ref,
            status: "succeeded",
            reason: "requested_by_customer",
            object: "refund",
            livemode: livemode.0,
        }),
    }
}

/// The pay page's state (`payments.md` §4), for `Accept: application/json`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PageStateOut<'a> {
    pub kind: &'static str,
    pub status: &'static str,
    pub livemode: bool,
    pub amount: i64,
    pub currency: &'a str,
    pub description: &'a str,
    pub invoice: Option<Value>,
    pub subscription: Option<Value>,
    pub card: Option<Value>,
    pub error: Option<Value>,
    pub redirect_url: Option<&'a str>,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PaymentMethodUpdateOut<'a> {
    pub checkout_url: &'a str,
    pub object: &'static str,
    pub livemode: bool,
}

/// The answer of `updatePaymentMethod`: the page's URL.
pub fn payment_method_update(version: ApiVersion, url: &str, livemode: Livemode) -> Value {
    to_value(PaymentMethodUpdateOut {
        checkout_url: url,
        object: object_name(version, "subscription", "checkout_session"),
        livemode: livemode.0,
    })
}

/// The answer of `createRecoveryLink` (`payments.md` §3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RecoveryLinkOut<'a> {
    pub url: &'a str,
    pub token: &'a str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn recovery_link(version: ApiVersion, url: &str, token: &str, livemode: Livemode) -> Value {
    to_value(RecoveryLinkOut {
        url,
        token,
        object: object_name(version, "subscription", "recovery_link"),
        livemode: livemode.0,
    })
}

/// The legacy answer of `transactions.retry`: the new attempt, `processing` as the legacy
/// type says even when it succeeded at once.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRetryLegacyOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}

/// The direct answer of `transactions.retry`.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TransactionRetryOut<'a> {
    pub original_transaction_id: &'a str,
    pub invoice_id: &'a str,
    pub status: &'static str,
    pub object: &'static str,
    pub livemode: bool,
}

/// A retry that paid the invoice (declines are errors).
pub fn transaction_retry(
    version: ApiVersion,
    original: &str,
    attempt: &str,
    invoice: &str,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        tally_domain::Generation::Legacy => to_value(TransactionRetryLegacyOut {
            id: attempt,
            status: "processing",
            object: "transaction",
            livemode: livemode.0,
        }),
        tally_domain::Generation::Direct => to_value(TransactionRetryOut {
            original_transaction_id: original,
            invoice_id: invoice,
            status: "succeeded",
            object: "transaction_retry",
            livemode: livemode.0,
        }),
    }
}

/// The answer of `createClaimLink` (`payments.md` §10.2).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClaimLinkOut<'a> {
    pub url: &'a str,
    pub expires_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn claim_link(url: &str, expires_at: tally_domain::Timestamp, livemode: Livemode) -> Value {
    to_value(ClaimLinkOut {
        url,
        expires_at: expires_at.to_rfc3339(),
        object: "claim_link",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PortalAccessOut<'a> {
    pub portal_url: &'a str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn portal_access(url: &str, livemode: Livemode) -> Value {
    to_value(PortalAccessOut {
        portal_url: url,
        object: "portal_session",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutBankAccountOut<'a> {
    pub id: &'a str,
    pub provider_external_account_id: Option<&'a str>,
    pub holder_name: &'a str,
    pub last4: &'a str,
    pub bank_name: &'static str,
    pub country: &'static str,
    pub currency: &'static str,
    pub account_type: Option<&'a str>,
    pub is_default: bool,
    pub status: &'static str,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn bank_account(account: &PayoutBankAccount, livemode: Livemode) -> Value {
    to_value(PayoutBankAccountOut {
        id: account.id.as_str(),
        provider_external_account_id: None,
        holder_name: &account.holder_name,
        last4: &account.last4,
        bank_name: SANDBOX_BANK,
        country: "US",
        currency: "usd",
        account_type: account.account_type.as_deref(),
        is_default: account.is_default,
        status: "active",
        created_at: account.created_at.to_rfc3339(),
        object: "payout_bank_account",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub amount: i64,
    pub fee: i64,
    pub net_amount: i64,
    pub currency: &'static str,
    pub description: Option<&'a str>,
    pub provider_transfer_id: &'a str,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn payout(payout: &Payout, livemode: Livemode) -> Value {
    to_value(PayoutOut {
        id: payout.id.as_str(),
        status: payout.status.as_str(),
        amount: payout.amount.0,
        fee: 0,
        net_amount: payout.amount.0,
        currency: "usd",
        description: payout.description.as_deref(),
        provider_transfer_id: &payout.provider_transfer_id,
        created_at: payout.created_at.to_rfc3339(),
        object: "payout",
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PayoutVerificationOut<'a> {
    pub provider_account_id: &'a str,
    pub status: &'static str,
    pub transfers_enabled: bool,
    pub already_exists: bool,
    pub business_type: &'a str,
    pub country: &'a str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn payout_verification(
    provider_account_id: &str,
    business_type: &str,
    country: &str,
    already_exists: bool,
    livemode: Livemode,
) -> Value {
    to_value(PayoutVerificationOut {
        provider_account_id,
        status: "verified",
        transfers_enabled: true,
        already_exists,
        business_type,
        country,
        object: "payout_account",
        livemode: livemode.0,
    })
}
