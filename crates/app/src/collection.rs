//! Collecting subscription invoices and dunning (`payments.md` §5–6). Under `billingMode:
//! charge`, a renewal's or trial end's invoice is issued `outstanding` and charged at once to
//! the customer's default card, with nobody present. A decline makes the subscription
//! `past_due`; the retries of the schedule (`tally_domain::dunning`) are deadlines like
//! renewals, and manual attempts (a recovery page, `transactions.retry`, `reactivate`, a card
//! saved while past due) may pay the invoice in between. Paid, the subscription is `active`
//! again in the same period; the last retry declined ends it.
//!
//! Every attempt is a transaction row; what it changes and the events it sends are written in
//! the same database transaction as the attempt (the sandbox processor answers at once).

use crate::hosted_tokens::PageSigner;
use crate::outbox::{Outbox, cancellation_data};
use crate::payments::PageRefusal;
use crate::payments::processor_for;
use crate::processors::{
    ActionRequest, ChargeOutcome, ChargeRequest, PaymentSource, ProcessedCard, ProcessorError,
};
use crate::subscriptions::save;
use crate::{App, AppError, IdSource, WriteCtx};
use serde_json::{Value, json};
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::dunning::{MANUAL_ATTEMPTS_MAX, MAX_RETRIES, Recovery, manual_attempt_allowed};
use tally_domain::ids::TransactionId;
use tally_domain::payments::{
    CardEntry, Decline, SavedCard, Transaction, TransactionStatus, authentication_failed,
};
use tally_domain::subscription::{Subscription, SubscriptionStatus};
use tally_domain::test_clock::RECOVERED;
use tally_domain::{Customer, FieldError, Mode, Organization, Timestamp};
use tally_store::{Lock, StoreError, Tx};

/// The page kind of recovery links, and the path their pages are served on.
pub const RECOVER_PAGE: &str = "recover";

/// `paymentContext.reason` of renewals and trial ends.
pub const RECURRING_BILLING: &str = "recurring_billing";
pub const TRIAL_CONVERSION: &str = "trial_conversion";

/// How new invoices are issued and whether subscription invoices are collected.
#[derive(Clone)]
pub struct Billing {
    /// The status invoices are issued in when nothing collects them (`autoPay`).
    pub invoice_status: InvoiceStatus,
    /// `billingMode: charge` (else `invoice_only`).
    pub charge: bool,
    /// Signs the recovery links that failures name.
    pub signer: PageSigner,
}

impl Billing {
    /// Whether `organization`'s subscription invoices are collected: the server runs in
    /// charge mode and the organization has a processor (live ones have none yet).
    pub fn collects(&self, organization: &Organization) -> bool {
        self.charge && has_processor(organization)
    }

    /// The status a subscription invoice is issued in for `organization`: `outstanding` until
    /// its charge where invoices are collected, else as `autoPay` says.
    pub fn issue_status(&self, organization: &Organization) -> InvoiceStatus {
        match self.collects(organization) {
            true => InvoiceStatus::Outstanding,
            false => self.invoice_status,
        }
    }
}

/// Whether money can move for `organization` (`payments.md` §2.3).
fn has_processor(organization: &Organization) -> bool {
    organization.mode == Mode::Sandbox
}

impl App {
    pub(crate) async fn billing(&self) -> Result<Billing, AppError> {
        Ok(Billing {
            invoice_status: self.invoice_status,
            charge: self.charge_mode,
            signer: self.page_signer().await?,
        })
    }
}

/// The recovery page of `invoice`: it works while the invoice is the unpaid one of a past-due
/// subscription, without expiry (`payments.md` §4). Each issue is a fresh token.
pub fn recovery_url(signer: &PageSigner, invoice: &Invoice, nonce: &str, at: Timestamp) -> String {
    recovery_url_of(signer, (&invoice.org_id, &invoice.id), nonce, at)
}

/// `recovery_url` for the invoice `id` of `org`.
pub fn recovery_url_of(
    signer: &PageSigner,
    (org, id): (&tally_domain::OrgId, &str),
    nonce: &str,
    at: Timestamp,
) -> String {
    let token = signer.token(RECOVER_PAGE, org, id, at, None, nonce);
    signer.url(RECOVER_PAGE, &token)
}

/// One charge attempt at a subscription invoice.
pub(crate) struct InvoiceAttempt<'a> {
    pub customer: &'a Customer,
    pub subscription: &'a Subscription,
    pub invoice: &'a Invoice,
    /// `paymentContext.reason`.
    pub reason: &'a str,
    pub recovery: Option<Recovery>,
    /// A page's attempt nonce.
    pub nonce: Option<String>,
    pub at: Timestamp,
}

/// What pays an invoice: a saved card, charged without its holder, or a card typed into a
/// page by its holder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum InvoiceSource<'a> {
    Saved(&'a SavedCard),
    Typed(&'a CardEntry),
}

/// What an attempt came to. A decline without a card to charge has no transaction.
#[derive(Debug, Clone)]
pub enum Attempted {
    /// Paid, with the card as the processor keeps it (for a typed card, to save).
    Paid(Transaction, ProcessedCard),
    Declined {
        transaction: Option<Transaction>,
        decline: Decline,
    },
}

fn no_card() -> Decline {
    Decline {
        code: "no_payment_method".to_owned(),
        message: "The customer has no saved card.".to_owned(),
    }
}

/// What an attempt with a card typed into a page came to: done, or waiting for its holder to
/// authenticate (the transaction `pending`, finished by `complete_invoice_action`).
#[derive(Debug, Clone)]
pub(crate) enum OnSession {
    Done(Attempted),
    /// With the card as the processor keeps it, for the page to keep aside meanwhile.
    RequiresAction(Transaction, ProcessedCard),
}

/// Charges `source` (`None`: no card, declined with `no_payment_method`) for the invoice's
/// total, and records the attempt. Paid: the invoice is `paid` and `payment.received` (and
/// `payout.available`) go into `outbox`. What a decline changes is the caller's. A saved card
/// is charged without its holder, so a card that asks for authentication is declined.
pub(crate) async fn charge_invoice(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    attempt: &InvoiceAttempt<'_>,
    source: Option<InvoiceSource<'_>>,
    outbox: &mut Outbox<'_>,
) -> Result<Attempted, AppError> {
    match charge_with_holder(tx, ids, organization, attempt, source, outbox).await? {
        OnSession::Done(attempted) => Ok(attempted),
        // Only a typed card waits for its holder, and whoever types one asks for
        // `charge_with_holder`: nothing waits here.
        OnSession::RequiresAction(transaction, _) => Ok(Attempted::Declined {
            transaction: Some(transaction),
            decline: authentication_failed(),
        }),
    }
}

/// `charge_invoice` where the card's holder is on the page: a typed card that asks for
/// authentication waits for it.
pub(crate) async fn charge_with_holder(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    attempt: &InvoiceAttempt<'_>,
    source: Option<InvoiceSource<'_>>,
    outbox: &mut Outbox<'_>,
) -> Result<OnSession, AppError> {
    let Some(source) = source else {
        return Ok(OnSession::Done(Attempted::Declined {
            transaction: None,
            decline: no_card(),
        }));
    };
    let processor = processor_for(organization, "subscriptions.collect")?;
    let id = TransactionId::from_ulid(ids.ulid());
    let amount = attempt.invoice.total();
    let (source, off_session, saved) = match source {
        InvoiceSource::Saved(card) => (PaymentSource::Saved(&card.method_ref), true, Some(card)),
        InvoiceSource::Typed(entry) => (PaymentSource::Typed(entry), false, None),
    };
    let outcome = processor
        .charge(ChargeRequest {
            idempotency_key: id.as_str(),
            amount,
            currency: &attempt.invoice.currency,
            source,
            off_session,
        })
        .await
        .map_err(|e| match e {
            ProcessorError::UnknownCard => AppError::Page(PageRefusal::Form(FieldError::new(
                "cardNumber",
                "Use a sandbox test card.",
            ))),
            other => AppError::Store(StoreError::other(other.to_string())),
        })?;
    let mut transaction = Transaction {
        id,
        org_id: attempt.invoice.org_id.clone(),
        customer_id: Some(attempt.customer.id.clone()),
        payment_id: None,
        invoice_id: Some(attempt.invoice.id.clone()),
        amount,
        currency: attempt.invoice.currency.clone(),
        status: TransactionStatus::Failed,
        provider: processor.provider().to_owned(),
        charge_ref: None,
        method_ref: saved.map(|c| c.method_ref.clone()),
        customer_email: attempt.customer.email.clone(),
        customer_name: attempt.customer.full_name.clone(),
        reason: attempt.reason.to_owned(),
        recovery: attempt.recovery,
        failure: None,
        attempt: attempt.nonce.clone(),
        paid_at: None,
        created_at: attempt.at,
        updated_at: attempt.at,
    };
    let decline = match outcome {
        ChargeOutcome::Succeeded { charge_ref, card } => {
            transaction.charge_ref = Some(charge_ref);
            tx.insert_transaction(&transaction).await?;
            let paid = record_paid(tx, ids, attempt, transaction, card, outbox).await?;
            return Ok(OnSession::Done(paid));
        }
        ChargeOutcome::Declined {
            charge_ref,
            decline,
            card,
        } => {
            transaction.charge_ref = Some(charge_ref);
            transaction.method_ref = transaction.method_ref.or(card.map(|c| c.method_ref));
            decline
        }
        // The holder of a typed card authenticates on the page; nobody is there to
        // authenticate an off-session charge.
        ChargeOutcome::RequiresAction { charge_ref, card } => {
            transaction.charge_ref = Some(charge_ref);
            transaction.method_ref = transaction.method_ref.or(Some(card.method_ref.clone()));
            if !off_session {
                transaction.status = TransactionStatus::Pending;
                tx.insert_transaction(&transaction).await?;
                return Ok(OnSession::RequiresAction(transaction, card));
            }
            Decline {
                code: "authentication_required".to_owned(),
                message: "This payment requires customer authentication.".to_owned(),
            }
        }
    };
    transaction.failure = Some(decline.clone());
    tx.insert_transaction(&transaction).await?;
    Ok(OnSession::Done(Attempted::Declined {
        transaction: Some(transaction),
        decline,
    }))
}

/// A charge that succeeded, recorded (`transaction`, already stored, becomes `succeeded`): the
/// invoice is `paid`, `payment.received` goes into `outbox` and `payout.available` is sent.
async fn record_paid(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    attempt: &InvoiceAttempt<'_>,
    mut transaction: Transaction,
    card: ProcessedCard,
    outbox: &mut Outbox<'_>,
) -> Result<Attempted, AppError> {
    transaction.status = TransactionStatus::Succeeded;
    transaction.method_ref = Some(card.method_ref.clone());
    transaction.paid_at = Some(attempt.at);
    transaction.updated_at = attempt.at;
    tx.update_transaction(&transaction).await?;
    tx.update_invoice_status(
        &attempt.invoice.org_id,
        &attempt.invoice.id,
        InvoiceStatus::Paid,
        attempt.at,
    )
    .await?;
    outbox.push(
        "payment.received",
        received_data(attempt, &transaction, outbox.customer_ref()),
    );
    if transaction.currency == crate::payouts::PAYOUT_CURRENCY {
        let available = crate::payouts::available_event(
            tx,
            ids,
            &attempt.invoice.org_id,
            &transaction.currency,
            attempt.at,
        )
        .await?;
        tx.insert_webhook_events(&[available]).await?;
    }
    Ok(Attempted::Paid(transaction, card))
}

/// The holder's authentication of a `pending` attempt at an invoice finishes it: approved, as a
/// charge that succeeded; failed, as a decline (`authentication_failed`).
pub(crate) async fn complete_invoice_action(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    (attempt, mut pending): (&InvoiceAttempt<'_>, Transaction),
    approved: bool,
    outbox: &mut Outbox<'_>,
) -> Result<Attempted, AppError> {
    let processor = processor_for(organization, "subscriptions.collect")?;
    let (Some(charge_ref), Some(method_ref)) =
        (pending.charge_ref.clone(), pending.method_ref.clone())
    else {
        return Err(AppError::Store(StoreError::other(
            "a pending attempt without its charge",
        )));
    };
    let outcome = processor
        .complete_action(ActionRequest {
            charge_ref: &charge_ref,
            method_ref: &method_ref,
            approved,
        })
        .await
        .map_err(|e| AppError::Store(StoreError::other(e.to_string())))?;
    let decline = match outcome {
        ChargeOutcome::Succeeded { card, .. } => {
            return record_paid(tx, ids, attempt, pending, card, outbox).await;
        }
        ChargeOutcome::Declined { decline, .. } => decline,
        ChargeOutcome::RequiresAction { .. } => authentication_failed(),
    };
    pending.status = TransactionStatus::Failed;
    pending.failure = Some(decline.clone());
    pending.updated_at = attempt.at;
    tx.update_transaction(&pending).await?;
    Ok(Attempted::Declined {
        transaction: Some(pending),
        decline,
    })
}

/// `paymentContext.reason` of a subscription's first invoice.
pub const FIRST_SUBSCRIPTION_PAYMENT: &str = "first_subscription_payment";

/// How a new subscription's first invoice went.
#[derive(Debug, Clone)]
pub(crate) enum FirstCharge {
    /// Charged (or nothing to charge): the provider that charged it, if any.
    Paid(Option<&'static str>),
    /// No default card (`None`) or a decline: the customer pays on the checkout page.
    Checkout(Option<Decline>),
}

/// What charging an invoice at once, in the request's transaction, came to.
enum ChargedNow {
    /// Nothing to charge (a total of zero): `paid` as issued.
    Free,
    Paid,
    NoCard,
    Declined(Decline),
}

/// Charges `invoice` at once to the customer's default card, with `reason`: paid, the invoice is
/// `paid` with `payment.received`; a total of zero is `paid` with no charge. A decline changes
/// nothing more than the failed attempt.
async fn charge_now(
    ctx: &mut WriteCtx<'_>,
    (customer, subscription): (&Customer, &Subscription),
    invoice: &Invoice,
    reason: &str,
) -> Result<ChargedNow, AppError> {
    if invoice.total().0 == 0 {
        ctx.tx
            .update_invoice_status(&invoice.org_id, &invoice.id, InvoiceStatus::Paid, ctx.now)
            .await?;
        return Ok(ChargedNow::Free);
    }
    let Some(card) = ctx.tx.default_card(&invoice.org_id, &customer.id).await? else {
        return Ok(ChargedNow::NoCard);
    };
    let attempt = InvoiceAttempt {
        customer,
        subscription,
        invoice,
        reason,
        recovery: None,
        nonce: None,
        at: ctx.now,
    };
    let mut outbox = Outbox::new(ctx.ids, customer, ctx.now);
    let organization = ctx.caller.organization.clone();
    let source = Some(InvoiceSource::Saved(&card));
    let outcome = charge_invoice(
        ctx.tx,
        ctx.ids,
        &organization,
        &attempt,
        source,
        &mut outbox,
    )
    .await?;
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(match outcome {
        Attempted::Paid(..) => ChargedNow::Paid,
        Attempted::Declined { decline, .. } => ChargedNow::Declined(decline),
    })
}

/// Collects a new subscription's first invoice with the customer's default card.
pub(crate) async fn collect_first_invoice(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    subscription: &Subscription,
    invoice: &Invoice,
) -> Result<FirstCharge, AppError> {
    let charged = (customer, subscription);
    Ok(
        match charge_now(ctx, charged, invoice, FIRST_SUBSCRIPTION_PAYMENT).await? {
            ChargedNow::Free => FirstCharge::Paid(None),
            ChargedNow::Paid => FirstCharge::Paid(Some(
                processor_for(&ctx.caller.organization, "subscriptions.create")?.provider(),
            )),
            ChargedNow::NoCard => FirstCharge::Checkout(None),
            ChargedNow::Declined(decline) => FirstCharge::Checkout(Some(decline)),
        },
    )
}

/// The rule of one-off charged operations (`payments.md` §5: a plan change, an add-on, a
/// resume, a reactivation, a top-up, a credit purchase). Where invoices are collected, the
/// operation's invoice, issued `outstanding`, is charged at once to the customer's default card;
/// without one the operation is refused (`422 no_payment_method`), and a decline refuses it too
/// (`402 charge_failed`). A refusal undoes the whole operation, its invoice included, since it is
/// one transaction. Paid: `payment.received` (and `payout.available`). Elsewhere nothing happens.
pub(crate) async fn settle_at_once(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    subscription: &Subscription,
    invoice: &Invoice,
    reason: &str,
) -> Result<(), AppError> {
    if !ctx.billing.collects(&ctx.caller.organization) {
        return Ok(());
    }
    match charge_now(ctx, (customer, subscription), invoice, reason).await? {
        ChargedNow::Free | ChargedNow::Paid => Ok(()),
        ChargedNow::NoCard => Err(AppError::NoPaymentMethod),
        ChargedNow::Declined(decline) => Err(AppError::ChargeDeclined(decline)),
    }
}

/// `paymentContext` of an attempt at a subscription invoice.
pub fn context_data(reason: &str, recovery: Option<Recovery>) -> Value {
    json!({
        "reason": reason,
        "paymentLinkId": null,
        "recovery": recovery.map(|r| match r {
            Recovery::Manual => json!({"type": r.kind()}),
            Recovery::Scheduled { attempt } => {
                json!({"type": r.kind(), "attempt": attempt, "maxAttempts": MAX_RETRIES})
            }
        }),
    })
}

/// `grossAmount`: US cents, so only for usd (`payments.md` §3).
fn gross_amount(transaction: &Transaction) -> Option<i64> {
    (transaction.currency == crate::payouts::PAYOUT_CURRENCY).then_some(transaction.amount.0)
}

fn received_data(
    attempt: &InvoiceAttempt<'_>,
    transaction: &Transaction,
    customer_ref: &str,
) -> Value {
    json!({
        "invoiceId": attempt.invoice.id,
        "invoiceNumber": attempt.invoice.number,
        "invoiceTotal": attempt.invoice.total().0,
        "customerId": customer_ref,
        "subscriptionId": attempt.subscription.id.as_str(),
        "paymentTransactionId": transaction.id.as_str(),
        "provider": transaction.provider,
        "grossAmount": gross_amount(transaction),
        "currency": transaction.currency,
        "orgNetAmount": gross_amount(transaction),
        "customerEmail": attempt.customer.email,
        "paidAt": attempt.at.to_rfc3339(),
        "paymentContext": context_data(attempt.reason, attempt.recovery),
        "paymentMethod": "card",
        "subPaymentMethod": "credit_card",
    })
}

/// `payment.failed`, naming the recovery page.
fn failed_data(
    attempt: &InvoiceAttempt<'_>,
    decline: &Decline,
    recovery_url: &str,
    customer_ref: &str,
) -> Value {
    json!({
        "invoiceId": attempt.invoice.id,
        "invoiceNumber": attempt.invoice.number,
        "customerId": customer_ref,
        "subscriptionId": attempt.subscription.id.as_str(),
        "provider": tally_domain::payments::SANDBOX_PROVIDER,
        "failureCode": decline.code,
        "failureMessage": decline.message,
        "recoveryUrl": recovery_url,
        "paymentContext": context_data(attempt.reason, attempt.recovery),
        "paymentMethod": "card",
        "subPaymentMethod": "credit_card",
    })
}

/// Collects an invoice a deadline just issued `outstanding`. A total of zero is `paid` with no
/// charge. Paid: nothing else changes. Declined: a period's opening invoice (`dunning`: a
/// renewal, a trial end) makes the subscription `past_due` with its retries scheduled, and
/// `subscription.past_due`, `payment.failed`, `customer.state_changed` follow; any other
/// (a final true-up) stays `outstanding`, charged once.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn collect_deadline_invoice(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    signer: &PageSigner,
    customer: &Customer,
    subscription: &mut Subscription,
    invoice: &Invoice,
    (reason, dunning): (&str, bool),
    outbox: &mut Outbox<'_>,
) -> Result<(), AppError> {
    let at = invoice.issue_date;
    if invoice.total().0 == 0 {
        tx.update_invoice_status(&organization.id, &invoice.id, InvoiceStatus::Paid, at)
            .await?;
        return Ok(());
    }
    let card = tx.default_card(&organization.id, &customer.id).await?;
    let attempt = InvoiceAttempt {
        customer,
        subscription,
        invoice,
        reason,
        recovery: None,
        nonce: None,
        at,
    };
    let decline = match charge_invoice(
        tx,
        ids,
        organization,
        &attempt,
        card.as_ref().map(InvoiceSource::Saved),
        outbox,
    )
    .await?
    {
        Attempted::Paid(..) => return Ok(()),
        Attempted::Declined { decline, .. } => decline,
    };
    if !dunning {
        return Ok(());
    }
    // A trial's end that no card could pay off-session waits for a checkout instead
    // (`payments.md` §5).
    if reason == TRIAL_CONVERSION
        && matches!(
            decline.code.as_str(),
            "no_payment_method" | "authentication_required"
        )
    {
        *subscription = subscription.await_checkout(at);
        save(tx, subscription).await?;
        let url = crate::checkout::checkout_url(signer, subscription).unwrap_or_default();
        crate::checkout::announce_checkout(
            outbox,
            subscription,
            invoice,
            &url,
            Some((&decline, reason)),
        );
        return Ok(());
    }
    let url = recovery_url(signer, invoice, &ids.base62(12), at);
    let failed = failed_data(&attempt, &decline, &url, outbox.customer_ref());
    *subscription = subscription.fall_past_due(invoice.id.clone(), at);
    save(tx, subscription).await?;
    outbox.push(
        "subscription.past_due",
        json!({
            "subscriptionId": subscription.id.as_str(),
            "customerId": outbox.customer_ref(),
            "status": subscription.status.as_str(),
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
        }),
    );
    outbox.push("payment.failed", failed);
    outbox.state_changed("past_due");
    Ok(())
}

/// The unpaid invoice of a past-due subscription.
pub(crate) async fn past_due_invoice(
    tx: &mut dyn Tx,
    subscription: &Subscription,
) -> Result<Invoice, AppError> {
    let id = subscription
        .dunning
        .as_ref()
        .map(|d| d.invoice_id.clone())
        .ok_or_else(|| AppError::Store(StoreError::other("past due without an invoice")))?;
    tx.invoice(&subscription.org_id, &id, Lock::ForUpdate)
        .await?
        .ok_or_else(|| AppError::Store(StoreError::other("past-due invoice missing")))
}

/// The attempt at `invoice` a page's `nonce` named before, if it did: a repeat answers that
/// attempt's outcome instead of charging again.
pub(crate) async fn repeated_attempt(
    tx: &mut dyn Tx,
    invoice: &Invoice,
    nonce: Option<&str>,
) -> Result<Option<Transaction>, AppError> {
    let Some(nonce) = nonce else {
        return Ok(None);
    };
    Ok(tx
        .invoice_transactions(&invoice.org_id, &invoice.id)
        .await?
        .into_iter()
        .find(|t| t.attempt.as_deref() == Some(nonce)))
}

/// The reason the invoice's first attempt was made for, which every later attempt keeps;
/// `None` before any attempt.
pub(crate) async fn first_reason(
    tx: &mut dyn Tx,
    invoice: &Invoice,
) -> Result<Option<String>, AppError> {
    Ok(tx
        .invoice_transactions(&invoice.org_id, &invoice.id)
        .await?
        .into_iter()
        .next()
        .map(|t| t.reason))
}

/// `first_reason`, or a renewal's when no attempt was made (no card at the time).
async fn reason_of(tx: &mut dyn Tx, invoice: &Invoice) -> Result<String, AppError> {
    Ok(first_reason(tx, invoice)
        .await?
        .unwrap_or_else(|| RECURRING_BILLING.to_owned()))
}

/// The past-due invoice was paid: the subscription is active again in its period, the
/// retries are dropped; `payment.recovered` and `customer.state_changed` follow.
async fn recover(
    tx: &mut dyn Tx,
    subscription: &mut Subscription,
    invoice: &Invoice,
    at: Timestamp,
    outbox: &mut Outbox<'_>,
) -> Result<(), AppError> {
    *subscription = subscription.recovered(at);
    save(tx, subscription).await?;
    outbox.push(
        "payment.recovered",
        json!({
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "invoiceTotal": invoice.total().0,
            "customerId": outbox.customer_ref(),
            "subscriptionId": subscription.id.as_str(),
            "provider": tally_domain::payments::SANDBOX_PROVIDER,
            "paymentMethod": "card",
            "subPaymentMethod": "credit_card",
        }),
    );
    outbox.state_changed("subscription_activated");
    Ok(())
}

/// One retry of the schedule, at its instant: `recovered`, `failed` or `exhausted` (the run
/// item's outcome). The last one declined marks the invoice `uncollectible` and ends the
/// subscription now.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_retry(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    signer: &PageSigner,
    customer: &Customer,
    subscription: &mut Subscription,
    at: Timestamp,
    outbox: &mut Outbox<'_>,
) -> Result<(&'static str, Invoice), AppError> {
    let invoice = past_due_invoice(tx, subscription).await?;
    let Some(dunning) = subscription.dunning.clone() else {
        return Ok(("failed", invoice));
    };
    let card = tx.default_card(&organization.id, &customer.id).await?;
    let reason = reason_of(tx, &invoice).await?;
    let attempt = InvoiceAttempt {
        customer,
        subscription,
        invoice: &invoice,
        reason: &reason,
        recovery: Some(Recovery::Scheduled {
            attempt: dunning.next_attempt(),
        }),
        nonce: None,
        at,
    };
    // Retries run wherever money can move, whatever the billing mode is now: a subscription
    // that fell past due is seen through.
    let outcome = match has_processor(organization) {
        true => {
            charge_invoice(
                tx,
                ids,
                organization,
                &attempt,
                card.as_ref().map(InvoiceSource::Saved),
                outbox,
            )
            .await?
        }
        false => Attempted::Declined {
            transaction: None,
            decline: no_card(),
        },
    };
    let decline = match outcome {
        Attempted::Paid(..) => {
            recover(tx, subscription, &invoice, at, outbox).await?;
            return Ok((RECOVERED, invoice));
        }
        Attempted::Declined { decline, .. } => decline,
    };
    if !dunning.next_is_last() {
        let url = recovery_url(signer, &invoice, &ids.base62(12), at);
        let failed = failed_data(&attempt, &decline, &url, outbox.customer_ref());
        *subscription = subscription.retry_failed(at);
        save(tx, subscription).await?;
        outbox.push("payment.failed", failed);
        return Ok(("failed", invoice));
    }
    tx.update_invoice_status(
        &organization.id,
        &invoice.id,
        InvoiceStatus::Uncollectible,
        at,
    )
    .await?;
    *subscription = subscription.retry_failed(at);
    save(tx, subscription).await?;
    crate::addons::end_all_activations(tx, subscription, at).await?;
    crate::offers::end_applications(tx, subscription, at).await?;
    crate::plan_grants::end_with_subscription(tx, ids, subscription, at).await?;
    outbox.push(
        "payment.retry_failed",
        json!({
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "customerId": outbox.customer_ref(),
            "subscriptionId": subscription.id.as_str(),
            "provider": tally_domain::payments::SANDBOX_PROVIDER,
            "reason": decline.code,
        }),
    );
    let canceled = cancellation_data(outbox.customer_ref(), subscription);
    outbox.push("subscription.canceled", canceled);
    outbox.state_changed("subscription_canceled");
    Ok(("exhausted", invoice))
}

/// Where a manual attempt comes from: the API answers declines and announces them
/// (`payment.failed`); a page shows them and sends nothing (`payments.md` §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManualSource {
    Api,
    Page,
}

/// What a manual attempt came to.
#[derive(Debug, Clone)]
pub struct ManualAttempt {
    pub invoice: Invoice,
    pub outcome: Attempted,
    /// The recovery page named in the answer and `payment.failed`.
    pub recovery_url: String,
}

/// A manual attempt at a past-due subscription's invoice with the customer's default card,
/// at most `MANUAL_ATTEMPTS_MAX` a day per customer. Paid: recovered. Declined: the
/// subscription stays past due and its schedule is untouched.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn attempt_manually(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    signer: &PageSigner,
    subscription: &mut Subscription,
    source: ManualSource,
    nonce: Option<String>,
    at: Timestamp,
) -> Result<ManualAttempt, AppError> {
    let customer = crate::subscriptions::subscription_customer(tx, subscription).await?;
    let invoice = past_due_invoice(tx, subscription).await?;
    let url = recovery_url(signer, &invoice, &ids.base62(12), at);
    let since = at.plus_millis(-tally_domain::dunning::MANUAL_WINDOW_MS);
    let earlier = tx
        .manual_attempts_since(&organization.id, &customer.id, since)
        .await?;
    if let Err(resets_at) = manual_attempt_allowed(&earlier, at) {
        return Err(AppError::ManualAttemptsExhausted {
            limit: MANUAL_ATTEMPTS_MAX,
            resets_at,
        });
    }
    let card = tx.default_card(&organization.id, &customer.id).await?;
    if card.is_none() && source == ManualSource::Api {
        return Err(AppError::NoPaymentMethodFor {
            recovery_url: url.clone(),
        });
    }
    let mut outbox = Outbox::new(ids, &customer, at);
    let reason = reason_of(tx, &invoice).await?;
    let attempt = InvoiceAttempt {
        customer: &customer,
        subscription,
        invoice: &invoice,
        reason: &reason,
        recovery: Some(Recovery::Manual),
        nonce,
        at,
    };
    let outcome = charge_invoice(
        tx,
        ids,
        organization,
        &attempt,
        card.as_ref().map(InvoiceSource::Saved),
        &mut outbox,
    )
    .await?;
    match &outcome {
        Attempted::Paid(..) => recover(tx, subscription, &invoice, at, &mut outbox).await?,
        Attempted::Declined { decline, .. } if source == ManualSource::Api => {
            let failed = failed_data(&attempt, decline, &url, outbox.customer_ref());
            outbox.push("payment.failed", failed);
        }
        Attempted::Declined { .. } => {}
    }
    tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(ManualAttempt {
        invoice,
        outcome,
        recovery_url: url,
    })
}

/// After a card was saved as the customer's default: a past-due subscription's invoice is
/// tried once with it at once (`payments.md` §6), unless the day's manual attempts are used
/// up (the card stays saved; the schedule goes on).
pub(crate) async fn retry_after_card_saved(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    organization: &Organization,
    signer: &PageSigner,
    customer: &Customer,
    at: Timestamp,
) -> Result<Option<ManualAttempt>, AppError> {
    let Some(mut subscription) = tx
        .live_subscription(&organization.id, &customer.id, Lock::ForUpdate)
        .await?
    else {
        return Ok(None);
    };
    if subscription.status != SubscriptionStatus::PastDue || subscription.dunning.is_none() {
        return Ok(None);
    }
    match attempt_manually(
        tx,
        ids,
        organization,
        signer,
        &mut subscription,
        ManualSource::Page,
        None,
        at,
    )
    .await
    {
        Ok(attempt) => Ok(Some(attempt)),
        Err(AppError::ManualAttemptsExhausted { .. }) => Ok(None),
        Err(other) => Err(other),
    }
}
