//! Payment links and off-session charges, the transactions their attempts leave, and refunds
//! (`payments.md` §7–8). Money moves only through the organization's processor
//! (`processors`): sandbox organizations have the sandbox processor, live ones none yet, so
//! every money-moving call there answers `provider_unsupported`.

use crate::customers::{create_one, lock_customer_ref};
use crate::hosted_tokens::PageSigner;
use crate::invoicing::record_invoice;
use crate::processors::{
    ActionRequest, ChargeOutcome, ChargeRequest, PaymentProcessor, PaymentSource, ProcessedCard,
    ProcessorError, RefundRequest, SandboxProcessor,
};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::{Value, json};
use tally_domain::billing::{ChargeType, Invoice, InvoiceLine, InvoiceStatus, LineType};
use tally_domain::customer::{Metadata, NewCustomer};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::ids::{PaymentId, RefundId, SavedCardId, TransactionId};
use tally_domain::money::Cents;
use tally_domain::page::{Page, PageRequest};
use tally_domain::payments::{
    CardInfo, Decline, LINK_TTL_MS, PAYMENT_CURRENCY, Payment, PaymentKind, PaymentStatus, Refund,
    SavedCard, Transaction, TransactionStatus, check_card,
};
use tally_domain::period::BillingPeriod;
use tally_domain::{Customer, CustomerRef, FieldError, Mode, Organization, Timestamp};
use tally_store::{Lock, Tx};

/// The page kind of payment links.
pub const PAY_PAGE: &str = "pay";
const ONE_TIME_PAYMENT: &str = "one_time_payment";

static SANDBOX: SandboxProcessor = SandboxProcessor;

/// The processor that moves `organization`'s money for `operation` (an SDK method name, shown
/// in the refusal): the sandbox processor for sandbox organizations; none for live ones yet.
pub(crate) fn processor_for(
    organization: &Organization,
    operation: &'static str,
) -> Result<&'static dyn PaymentProcessor, AppError> {
    match organization.mode {
        Mode::Sandbox => Ok(&SANDBOX),
        Mode::Live => Err(AppError::ProviderUnsupported { operation }),
    }
}

fn processor_failed(error: &ProcessorError) -> AppError {
    AppError::Store(tally_store::StoreError::other(error.to_string()))
}

/// A payment with what its views show.
#[derive(Debug, Clone)]
pub struct PaymentView {
    pub payment: Payment,
    /// The page a link is paid on; `None` for charges.
    pub url: Option<String>,
    /// The provider of the processor that handles it.
    pub provider: &'static str,
    /// The transaction that paid it, when one did.
    pub paid_by: Option<TransactionId>,
}

impl PaymentView {
    fn new(payment: Payment, signer: &PageSigner, paid_by: Option<TransactionId>) -> Self {
        let url = (payment.kind == PaymentKind::Link).then(|| {
            signer.url(
                PAY_PAGE,
                &signer.token(
                    PAY_PAGE,
                    &payment.org_id,
                    payment.id.as_str(),
                    payment.created_at,
                    payment.expires_at,
                    payment.id.as_str(),
                ),
            )
        });
        Self {
            payment,
            url,
            provider: SANDBOX.provider(),
            paid_by,
        }
    }
}

/// What a link or charge is asked to take.
#[derive(Debug, Clone)]
pub struct NewPayment {
    /// The customer's id or externalId.
    pub customer: Option<String>,
    pub amount: Cents,
    pub description: String,
    pub metadata: Option<Metadata>,
    pub success_url: Option<String>,
}

async fn customer_at(
    tx: &mut dyn Tx,
    caller: &Caller,
    reference: &str,
) -> Result<Customer, AppError> {
    let not_found = || AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned());
    let reference = CustomerRef::parse(reference).ok_or_else(not_found)?;
    lock_customer_ref(tx, caller.org(), &reference)
        .await?
        .ok_or_else(not_found)
}

/// An event about a payment: on the customer's stream when there is one.
fn payment_event(
    ctx_ids: &dyn crate::IdSource,
    payment: &Payment,
    event_type: &str,
    data: Value,
    at: Timestamp,
) -> WebhookEvent {
    WebhookEvent {
        id: WebhookEventId::from_ulid(ctx_ids.ulid()),
        org_id: payment.org_id.clone(),
        event_type: event_type.to_owned(),
        customer_id: payment.customer_id.clone(),
        data,
        created_at: at,
    }
}

fn link_data(payment: &Payment, customer_ref: Option<&str>) -> Value {
    json!({
        "paymentId": payment.id.as_str(),
        "status": payment.status.as_str(),
        "amount": payment.amount.0,
        "currency": payment.currency,
        "description": payment.description,
        "customerId": customer_ref,
    })
}

pub(crate) fn customer_ref(customer: &Customer) -> String {
    customer
        .external_id
        .clone()
        .unwrap_or_else(|| customer.id.as_str().to_owned())
}

/// `POST /payments`: a link to pay on Tally's page, open for a day of the organization's clock.
pub struct CreatePaymentLink {
    pub payment: NewPayment,
    pub signer: PageSigner,
}

#[async_trait]
impl Command for CreatePaymentLink {
    type Output = PaymentView;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PaymentView, AppError> {
        let new = &self.payment;
        let customer = match &new.customer {
            Some(reference) => Some(customer_at(ctx.tx, ctx.caller, reference).await?),
            None => None,
        };
        processor_for(&ctx.caller.organization, "payments.create")?;
        let payment = Payment {
            id: PaymentId::from_ulid(ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            customer_id: customer.as_ref().map(|c| c.id.clone()),
            kind: PaymentKind::Link,
            status: PaymentStatus::Pending,
            amount: new.amount,
            currency: PAYMENT_CURRENCY.to_owned(),
            description: new.description.clone(),
            metadata: new.metadata.clone(),
            success_url: new.success_url.clone(),
            expires_at: Some(ctx.now.plus_millis(LINK_TTL_MS)),
            invoice_id: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_payment(&payment).await?;
        let data = link_data(&payment, customer.as_ref().map(customer_ref).as_deref());
        let event = payment_event(ctx.ids, &payment, "payment_link.created", data, ctx.now);
        ctx.tx.insert_webhook_events(&[event]).await?;
        Ok(PaymentView::new(payment, &self.signer, None))
    }
}

/// The answer of a charge: a declined one is kept (payment and transaction) and answered
/// `payment_failed` by the API.
#[derive(Debug, Clone)]
pub enum Charged {
    Succeeded(Box<PaymentView>),
    Declined {
        payment: PaymentId,
        transaction: TransactionId,
        decline: Decline,
    },
}

/// `POST /payments/charge`: the customer's default card, off-session.
pub struct ChargeCustomer {
    pub customer: String,
    pub payment: NewPayment,
    pub signer: PageSigner,
}

#[async_trait]
impl Command for ChargeCustomer {
    type Output = Charged;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Charged, AppError> {
        let customer = customer_at(ctx.tx, ctx.caller, &self.customer).await?;
        let processor = processor_for(&ctx.caller.organization, "payments.charge")?;
        let org = ctx.caller.org().clone();
        let charged_now = ctx
            .tx
            .live_subscription(&org, &customer.id, Lock::None)
            .await?
            .is_some_and(|s| s.as_of(ctx.now).status.may_be_charged());
        if !charged_now {
            return Err(AppError::SubscriptionRequired);
        }
        let card = ctx
            .tx
            .default_card(&org, &customer.id)
            .await?
            .ok_or(AppError::NoPaymentMethod)?;
        let new = &self.payment;
        let mut payment = Payment {
            id: PaymentId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: Some(customer.id.clone()),
            kind: PaymentKind::Charge,
            status: PaymentStatus::Processing,
            amount: new.amount,
            currency: PAYMENT_CURRENCY.to_owned(),
            description: new.description.clone(),
            metadata: new.metadata.clone(),
            success_url: None,
            expires_at: None,
            invoice_id: None,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_payment(&payment).await?;
        let transaction_id = TransactionId::from_ulid(ctx.ids.ulid());
        let outcome = processor
            .charge(ChargeRequest {
                idempotency_key: transaction_id.as_str(),
                amount: payment.amount,
                currency: &payment.currency,
                source: PaymentSource::Saved(&card.method_ref),
                off_session: true,
            })
            .await
            .map_err(|e| processor_failed(&e))?;
        let attempt = Attempt {
            id: transaction_id.clone(),
            customer: &customer,
            attempt: None,
        };
        match outcome {
            ChargeOutcome::Succeeded { charge_ref, .. } => {
                let processed = ProcessedCard {
                    method_ref: card.method_ref.clone(),
                    card: card.card.clone(),
                };
                settle(ctx, &mut payment, attempt, charge_ref, &processed, false).await?;
                Ok(Charged::Succeeded(Box::new(PaymentView::new(
                    payment,
                    &self.signer,
                    Some(transaction_id),
                ))))
            }
            ChargeOutcome::Declined {
                charge_ref,
                decline,
                ..
            } => {
                fail(ctx, &mut payment, attempt, Some(charge_ref), &decline).await?;
                Ok(Charged::Declined {
                    payment: payment.id,
                    transaction: transaction_id,
                    decline,
                })
            }
            ChargeOutcome::RequiresAction { charge_ref, .. } => {
                // Off-session charges never wait for the holder.
                let decline = Decline {
                    code: "authentication_required".to_owned(),
                    message: "This payment requires customer authentication.".to_owned(),
                };
                fail(ctx, &mut payment, attempt, Some(charge_ref), &decline).await?;
                Ok(Charged::Declined {
                    payment: payment.id,
                    transaction: transaction_id,
                    decline,
                })
            }
        }
    }
}

/// The attempt being recorded.
struct Attempt<'a> {
    id: TransactionId,
    customer: &'a Customer,
    /// The page's nonce.
    attempt: Option<String>,
}

fn transaction_of(
    ctx: &WriteCtx<'_>,
    payment: &Payment,
    attempt: &Attempt<'_>,
    status: TransactionStatus,
) -> Transaction {
    Transaction {
        id: attempt.id.clone(),
        org_id: payment.org_id.clone(),
        customer_id: Some(attempt.customer.id.clone()),
        payment_id: Some(payment.id.clone()),
        invoice_id: None,
        amount: payment.amount,
        currency: payment.currency.clone(),
        status,
        provider: SANDBOX.provider().to_owned(),
        charge_ref: None,
        method_ref: None,
        customer_email: attempt.customer.email.clone(),
        customer_name: attempt.customer.full_name.clone(),
        reason: ONE_TIME_PAYMENT.to_owned(),
        recovery: None,
        failure: None,
        attempt: attempt.attempt.clone(),
        paid_at: None,
        created_at: ctx.now,
        updated_at: ctx.now,
    }
}

/// A successful charge: the one-time invoice, the transaction, the payment, the card saved
/// (the default when the customer has none), and the events.
async fn settle(
    ctx: &mut WriteCtx<'_>,
    payment: &mut Payment,
    attempt: Attempt<'_>,
    charge_ref: String,
    card: &ProcessedCard,
    keep_card: bool,
) -> Result<Transaction, AppError> {
    let customer = attempt.customer;
    let invoice = Invoice {
        id: format!("inv_{}", ctx.ids.ulid()),
        org_id: payment.org_id.clone(),
        customer_id: customer.id.clone(),
        subscription_id: None,
        number: String::new(),
        status: InvoiceStatus::Paid,
        invoice_type: ONE_TIME_PAYMENT.to_owned(),
        subtotal: payment.amount,
        discount_amount: Cents(0),
        credit_applied: Cents(0),
        period: BillingPeriod {
            start: ctx.now,
            end: ctx.now,
        },
        issue_date: ctx.now,
        plan_name: None,
        currency: payment.currency.clone(),
        memo: None,
        metadata: Metadata::new(),
        lines: vec![InvoiceLine::single(
            LineType::OneTime,
            ChargeType::Standard,
            payment.description.clone(),
            payment.amount,
        )],
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let invoice = record_invoice(ctx.tx, ctx.ids, customer, invoice).await?;
    let existing = ctx
        .tx
        .transaction(&payment.org_id, &attempt.id, Lock::ForUpdate)
        .await?;
    let mut transaction = existing
        .unwrap_or_else(|| transaction_of(ctx, payment, &attempt, TransactionStatus::Pending));
    transaction.status = TransactionStatus::Succeeded;
    transaction.invoice_id = Some(invoice.id.clone());
    transaction.charge_ref = Some(charge_ref);
    transaction.method_ref = Some(card.method_ref.clone());
    transaction.paid_at = Some(ctx.now);
    transaction.updated_at = ctx.now;
    upsert_transaction(ctx.tx, &transaction).await?;
    payment.status = PaymentStatus::Succeeded;
    payment.invoice_id = Some(invoice.id.clone());
    payment.customer_id = Some(customer.id.clone());
    payment.updated_at = ctx.now;
    ctx.tx.update_payment(payment).await?;
    if keep_card {
        let has_default = ctx
            .tx
            .default_card(&payment.org_id, &customer.id)
            .await?
            .is_some();
        save_card(ctx, customer, card, !has_default).await?;
    }
    let reference = customer_ref(customer);
    let context = payment_context(payment);
    let mut events = vec![payment_event(
        ctx.ids,
        payment,
        "payment.received",
        json!({
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "invoiceTotal": invoice.total().0,
            "customerId": reference,
            "subscriptionId": null,
            "paymentTransactionId": transaction.id.as_str(),
            "provider": transaction.provider,
            "grossAmount": payment.amount.0,
            "currency": payment.currency,
            "orgNetAmount": payment.amount.0,
            "customerEmail": customer.email,
            "paidAt": ctx.now.to_rfc3339(),
            "paymentContext": context,
            "paymentMethod": "card",
            "subPaymentMethod": "credit_card",
        }),
        ctx.now,
    )];
    if payment.kind == PaymentKind::Link {
        let mut data = link_data(payment, Some(&reference));
        data["invoiceId"] = json!(invoice.id);
        data["invoiceNumber"] = json!(invoice.number);
        data["paymentTransactionId"] = json!(transaction.id.as_str());
        data["paymentContext"] = context;
        data["paymentMethod"] = json!("card");
        data["subPaymentMethod"] = json!("credit_card");
        events.push(payment_event(
            ctx.ids,
            payment,
            "payment_link.completed",
            data,
            ctx.now,
        ));
    }
    if payment.currency == crate::payouts::PAYOUT_CURRENCY {
        // With no payout hold, the money is available at once (`payments.md` §9).
        events.push(
            crate::payouts::available_event(
                ctx.tx,
                ctx.ids,
                &payment.org_id,
                &payment.currency,
                ctx.now,
            )
            .await?,
        );
    }
    ctx.tx.insert_webhook_events(&events).await?;
    Ok(transaction)
}

/// A transaction made and finished in the same step is inserted; one that waited (3-D Secure)
/// is updated.
async fn upsert_transaction(tx: &mut dyn Tx, transaction: &Transaction) -> Result<(), AppError> {
    match tx
        .transaction(&transaction.org_id, &transaction.id, Lock::None)
        .await?
    {
        Some(_) => tx.update_transaction(transaction).await?,
        None => tx.insert_transaction(transaction).await?,
    }
    Ok(())
}

/// A declined attempt: the failed transaction (never changed again) and the payment failed.
async fn fail(
    ctx: &mut WriteCtx<'_>,
    payment: &mut Payment,
    attempt: Attempt<'_>,
    charge_ref: Option<String>,
    decline: &Decline,
) -> Result<Transaction, AppError> {
    let existing = ctx
        .tx
        .transaction(&payment.org_id, &attempt.id, Lock::ForUpdate)
        .await?;
    let mut transaction = existing
        .unwrap_or_else(|| transaction_of(ctx, payment, &attempt, TransactionStatus::Pending));
    transaction.status = TransactionStatus::Failed;
    transaction.charge_ref = charge_ref.or(transaction.charge_ref);
    transaction.failure = Some(decline.clone());
    transaction.updated_at = ctx.now;
    upsert_transaction(ctx.tx, &transaction).await?;
    payment.status = PaymentStatus::Failed;
    payment.updated_at = ctx.now;
    ctx.tx.update_payment(payment).await?;
    if payment.kind == PaymentKind::Link {
        let mut data = link_data(payment, Some(&customer_ref(attempt.customer)));
        data["failureCode"] = json!(decline.code);
        data["failureMessage"] = json!(decline.message);
        data["paymentContext"] = payment_context(payment);
        data["paymentMethod"] = json!("card");
        data["subPaymentMethod"] = json!("credit_card");
        let event = payment_event(ctx.ids, payment, "payment_link.failed", data, ctx.now);
        ctx.tx.insert_webhook_events(&[event]).await?;
    }
    Ok(transaction)
}

/// `paymentContext` (2026-08-27) of a payment's transactions.
pub fn payment_context(payment: &Payment) -> Value {
    json!({
        "reason": ONE_TIME_PAYMENT,
        "paymentLinkId": (payment.kind == PaymentKind::Link).then(|| payment.id.as_str()),
        "recovery": null,
    })
}

/// `POST /payments/{id}/cancel`.
pub struct CancelPayment {
    pub id: String,
    pub signer: PageSigner,
}

#[async_trait]
impl Command for CancelPayment {
    type Output = PaymentView;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PaymentView, AppError> {
        let org = ctx.caller.org();
        let id = PaymentId::parse(&self.id).ok_or(AppError::NotFound(NotFound::Payment))?;
        let mut payment = ctx
            .tx
            .payment(org, &id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Payment))?;
        if payment.kind == PaymentKind::Charge
            || !(payment.status.is_open() || payment.status == PaymentStatus::Canceled)
        {
            return Err(AppError::PaymentNotCancelable);
        }
        if payment.status != PaymentStatus::Canceled {
            cancel_link(ctx, &mut payment).await?;
        }
        Ok(PaymentView::new(payment, &self.signer, None))
    }
}

async fn cancel_link(ctx: &mut WriteCtx<'_>, payment: &mut Payment) -> Result<(), AppError> {
    close_link(ctx.tx, ctx.ids, payment, ctx.now).await
}

/// A link that can no longer be paid: canceled, its waiting attempt failed with it, and
/// `payment_link.canceled`.
async fn close_link(
    tx: &mut dyn Tx,
    ids: &dyn crate::IdSource,
    payment: &mut Payment,
    at: Timestamp,
) -> Result<(), AppError> {
    for mut waiting in tx
        .payment_transactions(&payment.org_id, &payment.id)
        .await?
        .into_iter()
        .filter(|t| t.status == TransactionStatus::Pending)
    {
        waiting.status = TransactionStatus::Failed;
        waiting.updated_at = at;
        tx.update_transaction(&waiting).await?;
    }
    payment.status = PaymentStatus::Canceled;
    payment.updated_at = at;
    tx.update_payment(payment).await?;
    let customer = match &payment.customer_id {
        Some(id) => tx.customer(&payment.org_id, id, Lock::None).await?,
        None => None,
    };
    let data = link_data(payment, customer.as_ref().map(customer_ref).as_deref());
    let event = payment_event(ids, payment, "payment_link.canceled", data, at);
    tx.insert_webhook_events(&[event]).await?;
    Ok(())
}

/// How many expired links one sweep closes at most.
const LINK_EXPIRIES_PER_SWEEP: u32 = 100;

/// Closes the payment links whose day is over at `now` (`payments.md` §7): of `org` (as its
/// test clock passes), or of every organization on real time. Each is canceled at its own
/// expiry.
pub(crate) async fn expire_links(
    tx: &mut dyn Tx,
    ids: &dyn crate::IdSource,
    org: Option<&tally_domain::OrgId>,
    now: Timestamp,
) -> Result<usize, AppError> {
    let due = tx.expired_links(org, now, LINK_EXPIRIES_PER_SWEEP).await?;
    let count = due.len();
    for mut payment in due {
        let at = payment.expires_at.unwrap_or(now);
        close_link(tx, ids, &mut payment, at).await?;
    }
    Ok(count)
}

impl App {
    /// The scheduler's sweep: payment links of organizations on real time past their expiry.
    pub async fn expire_due_links(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let ids = std::sync::Arc::clone(&self.ids);
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { expire_links(tx, &*ids, None, now).await })
        })
        .await
    }
}

/// `POST /transactions/{id}/refund`: the full amount of a succeeded transaction.
pub struct RefundTransaction(pub String);

#[async_trait]
impl Command for RefundTransaction {
    type Output = (Transaction, Refund);

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(Transaction, Refund), AppError> {
        let org = ctx.caller.org().clone();
        let id = TransactionId::parse(&self.0).ok_or(AppError::NotFound(NotFound::Transaction))?;
        let mut transaction = ctx
            .tx
            .transaction(&org, &id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Transaction))?;
        let processor = processor_for(&ctx.caller.organization, "transactions.refund")?;
        if let Some(refund) = ctx.tx.refund_of(&org, &id).await? {
            return Err(AppError::AlreadyRefunded {
                refund_id: refund.id.as_str().to_owned(),
            });
        }
        if transaction.status != TransactionStatus::Succeeded {
            return Err(AppError::NotRefundable);
        }
        let charge_ref = transaction.charge_ref.clone().unwrap_or_default();
        let refund_id = RefundId::from_ulid(ctx.ids.ulid());
        processor
            .refund(RefundRequest {
                idempotency_key: refund_id.as_str(),
                charge_ref: &charge_ref,
                amount: transaction.amount,
            })
            .await
            .map_err(|e| processor_failed(&e))?;
        let refund = Refund {
            id: refund_id,
            org_id: org.clone(),
            transaction_id: id,
            amount: transaction.amount,
            currency: transaction.currency.clone(),
            charge_ref,
            created_at: ctx.now,
        };
        ctx.tx.insert_refund(&refund).await?;
        transaction.status = TransactionStatus::Refunded;
        transaction.updated_at = ctx.now;
        ctx.tx.update_transaction(&transaction).await?;
        let invoice = match &transaction.invoice_id {
            Some(id) => ctx.tx.invoice(&org, id, Lock::None).await?,
            None => None,
        };
        let customer = match &transaction.customer_id {
            Some(id) => ctx.tx.customer(&org, id, Lock::None).await?,
            None => None,
        };
        let event = WebhookEvent {
            id: WebhookEventId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            event_type: "payment.refunded".to_owned(),
            customer_id: transaction.customer_id.clone(),
            data: json!({
                "paymentTransactionId": transaction.id.as_str(),
                "provider": transaction.provider,
                "paymentLinkId": transaction.payment_id.as_ref().map(PaymentId::as_str),
                "invoiceId": transaction.invoice_id,
                "invoiceNumber": invoice.as_ref().map(|i| i.number.clone()),
                "customerId": customer.as_ref().map(customer_ref),
                "subscriptionId": invoice.as_ref().and_then(|i| i.subscription_id.as_ref().map(|s| s.as_str().to_owned())),
                "refundAmount": refund.amount.0,
                "currency": refund.currency,
            }),
            created_at: ctx.now,
        };
        ctx.tx.insert_webhook_events(&[event]).await?;
        Ok((transaction, refund))
    }
}

// ---------------------------------------------------------------------------------------------
// The pay page

/// What the pay page shows (`payments.md` §4), and its JSON answer.
#[derive(Debug, Clone)]
pub struct PayPage {
    pub payment: Payment,
    pub livemode: bool,
    /// `open`, `requires_action`, `succeeded` or `expired`.
    pub status: &'static str,
    /// The paid invoice: id, number, total.
    pub invoice: Option<(String, String, Cents)>,
    pub card: Option<CardInfo>,
    pub error: Option<Decline>,
}

/// What the holder typed on the page.
#[derive(Debug, Clone, Default)]
pub struct PayForm {
    pub card_number: String,
    pub exp_month: String,
    pub exp_year: String,
    pub cvc: String,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The client's nonce: a repeat replays the first outcome.
    pub attempt: Option<String>,
}

/// Why a page action is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRefusal {
    /// Forged, unknown, or another organization's.
    NotFound,
    /// Expired or no longer payable.
    Gone,
    /// A field of the form (422).
    Form(FieldError),
}

impl App {
    /// The payment a pay-page token names, with the organization's now.
    async fn page_payment(
        &self,
        signer: &PageSigner,
        token: &str,
    ) -> Result<(Organization, Payment, Timestamp), PageRefusal> {
        let claims = signer
            .read(PAY_PAGE, token)
            .map_err(|_| PageRefusal::NotFound)?;
        let id = PaymentId::parse(&claims.subject).ok_or(PageRefusal::NotFound)?;
        let mut db = self.store.read().await.map_err(|_| PageRefusal::NotFound)?;
        let organization = db
            .organization(&claims.org, Lock::None)
            .await
            .ok()
            .flatten()
            .ok_or(PageRefusal::NotFound)?;
        let payment = db
            .payment(&claims.org, &id, Lock::None)
            .await
            .ok()
            .flatten()
            .ok_or(PageRefusal::NotFound)?;
        Ok((
            organization.clone(),
            payment,
            organization.now(self.clock.now()),
        ))
    }

    /// The pay page's state for `token`.
    pub async fn pay_page(&self, token: &str) -> Result<PayPage, AppError> {
        let signer = self.page_signer().await?;
        let (organization, payment, now) = match self.page_payment(&signer, token).await {
            Ok(found) => found,
            Err(refusal) => return Err(AppError::Page(refusal)),
        };
        let mut db = self.store.read().await?;
        let attempts = db
            .payment_transactions(&payment.org_id, &payment.id)
            .await?;
        let invoice = match &payment.invoice_id {
            Some(id) => db.invoice(&payment.org_id, id, Lock::None).await?,
            None => None,
        };
        let last = attempts.last();
        // The card of the latest attempt, as the customer's wallet shows it.
        let card = match last.and_then(|t| t.method_ref.clone().zip(t.customer_id.clone())) {
            Some((method, customer)) => db
                .saved_cards(&payment.org_id, &customer)
                .await?
                .into_iter()
                .rev()
                .find(|c| c.method_ref == method)
                .map(|c| c.card),
            None => None,
        };
        let status = match payment.status {
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::RequiresAction if payment.payable_at(now) => "requires_action",
            _ if payment.payable_at(now) => "open",
            _ => "expired",
        };
        Ok(PayPage {
            livemode: organization.mode == Mode::Live,
            status,
            invoice: invoice.map(|i| (i.id.clone(), i.number.clone(), i.total())),
            card,
            error: last
                .filter(|t| t.status == TransactionStatus::Failed && status == "open")
                .and_then(|t| t.failure.clone()),
            payment,
        })
    }

    /// `action=pay` on the pay page: charges the typed card on-session.
    pub async fn pay_link(&self, token: &str, form: PayForm) -> Result<PayPage, AppError> {
        let signer = self.page_signer().await?;
        let (organization, payment, now) = self
            .page_payment(&signer, token)
            .await
            .map_err(AppError::Page)?;
        if !payment.payable_at(now) || payment.status == PaymentStatus::RequiresAction {
            return if payment.status == PaymentStatus::Succeeded
                || payment.status == PaymentStatus::RequiresAction
            {
                self.pay_page(token).await
            } else {
                Err(AppError::Page(PageRefusal::Gone))
            };
        }
        let entry = check_card(
            &form.card_number,
            &form.exp_month,
            &form.exp_year,
            &form.cvc,
            now,
        )
        .map_err(|e| AppError::Page(PageRefusal::Form(e)))?;
        let command = PayOnPage {
            payment: payment.id.clone(),
            entry,
            form,
        };
        self.page_write(&organization, command).await?;
        self.pay_page(token).await
    }

    /// The sandbox's authentication step: `approve` finishes the charge, anything else fails it.
    pub async fn authenticate_link(&self, token: &str, approve: bool) -> Result<PayPage, AppError> {
        let signer = self.page_signer().await?;
        let (organization, payment, _) = self
            .page_payment(&signer, token)
            .await
            .map_err(AppError::Page)?;
        if payment.status != PaymentStatus::RequiresAction {
            return self.pay_page(token).await;
        }
        let command = Authenticate {
            payment: payment.id.clone(),
            approve,
        };
        self.page_write(&organization, command).await?;
        self.pay_page(token).await
    }

    /// Runs a page's command for `organization` at its clock: pages have no API key, so no key
    /// standing is read and no idempotency record is kept (a page's attempt nonce plays that
    /// part).
    pub(crate) async fn page_write<C: Command + 'static>(
        &self,
        organization: &Organization,
        command: C,
    ) -> Result<C::Output, AppError>
    where
        C::Output: 'static,
    {
        let command = std::sync::Arc::new(command);
        let caller = Caller {
            organization: organization.clone(),
            key_id: crate::auth::PAGE_KEY.clone(),
        };
        let (clock, ids) = (self.clock.clone(), self.ids.clone());
        let billing = self.billing().await?;
        let (enforce_seat_caps, email) = (self.enforce_seat_caps, self.mailer.is_some());
        self.write_retrying(|| {
            let (command, caller, clock, ids, billing) = (
                command.clone(),
                caller.clone(),
                clock.clone(),
                ids.clone(),
                billing.clone(),
            );
            crate::deadlines::job(move |tx| {
                Box::pin(async move {
                    let org = tx
                        .organization(caller.org(), Lock::None)
                        .await?
                        .ok_or(AppError::Page(PageRefusal::NotFound))?;
                    let real_now = clock.now();
                    let mut ctx = WriteCtx {
                        tx,
                        caller: &caller,
                        now: org.now(real_now),
                        real_now,
                        ids: &*ids,
                        billing: &billing,
                        enforce_seat_caps,
                        email,
                    };
                    command.run(&mut ctx).await
                })
            })
        })
        .await
    }
}

/// The payment a page command is about, locked.
async fn lock_page_payment(ctx: &mut WriteCtx<'_>, id: &PaymentId) -> Result<Payment, AppError> {
    let org = ctx.caller.org().clone();
    ctx.tx
        .payment(&org, id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::Page(PageRefusal::NotFound))
}

/// Keeps a card on the customer (only what may be shown, and the processor's handle).
pub(crate) async fn save_card(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    card: &ProcessedCard,
    is_default: bool,
) -> Result<(), AppError> {
    ctx.tx
        .insert_saved_card(&SavedCard {
            id: SavedCardId::from_ulid(ctx.ids.ulid()),
            org_id: customer.org_id.clone(),
            customer_id: customer.id.clone(),
            method_ref: card.method_ref.clone(),
            card: card.card.clone(),
            is_default,
            created_at: ctx.now,
        })
        .await?;
    Ok(())
}

struct PayOnPage {
    payment: PaymentId,
    entry: tally_domain::payments::CardEntry,
    form: PayForm,
}

#[async_trait]
impl Command for PayOnPage {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        let mut payment = lock_page_payment(ctx, &self.payment).await?;
        if let Some(attempt) = &self.form.attempt
            && ctx
                .tx
                .payment_transactions(&org, &payment.id)
                .await?
                .iter()
                .any(|t| t.attempt.as_deref() == Some(attempt))
        {
            // The same attempt again: its outcome stands.
            return Ok(());
        }
        if !payment.payable_at(ctx.now) || payment.status == PaymentStatus::RequiresAction {
            return Ok(());
        }
        let processor = processor_for(&ctx.caller.organization, "payments.create")?;
        let transaction_id = TransactionId::from_ulid(ctx.ids.ulid());
        let outcome = processor
            .charge(ChargeRequest {
                idempotency_key: transaction_id.as_str(),
                amount: payment.amount,
                currency: &payment.currency,
                source: PaymentSource::Typed(&self.entry),
                off_session: false,
            })
            .await;
        let outcome = match outcome {
            Err(ProcessorError::UnknownCard) => {
                return Err(AppError::Page(PageRefusal::Form(FieldError::new(
                    "cardNumber",
                    "Use a sandbox test card.",
                ))));
            }
            other => other.map_err(|e| processor_failed(&e))?,
        };
        let customer = payer(ctx, &payment, &self.form).await?;
        let attempt = Attempt {
            id: transaction_id,
            customer: &customer,
            attempt: self.form.attempt.clone(),
        };
        match outcome {
            ChargeOutcome::Succeeded { charge_ref, card } => {
                settle(ctx, &mut payment, attempt, charge_ref, &card, true).await?;
            }
            ChargeOutcome::RequiresAction { charge_ref, card } => {
                let mut transaction =
                    transaction_of(ctx, &payment, &attempt, TransactionStatus::Pending);
                transaction.charge_ref = Some(charge_ref);
                transaction.method_ref = Some(card.method_ref.clone());
                ctx.tx.insert_transaction(&transaction).await?;
                // What the page shows of the card is kept until the charge finishes.
                save_card(ctx, &customer, &card, false).await?;
                payment.status = PaymentStatus::RequiresAction;
                payment.customer_id = Some(customer.id.clone());
                payment.updated_at = ctx.now;
                ctx.tx.update_payment(&payment).await?;
            }
            ChargeOutcome::Declined {
                charge_ref,
                decline,
                ..
            } => {
                fail(ctx, &mut payment, attempt, Some(charge_ref), &decline).await?;
            }
        }
        Ok(())
    }
}

/// The customer a link is paid for: its own, else the newest one with the typed e-mail, else
/// a new one (`payments.md` §7).
async fn payer(
    ctx: &mut WriteCtx<'_>,
    payment: &Payment,
    form: &PayForm,
) -> Result<Customer, AppError> {
    let org = &payment.org_id;
    if let Some(id) = &payment.customer_id {
        return ctx
            .tx
            .customer(org, id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::Page(PageRefusal::NotFound));
    }
    let email = form
        .email
        .as_deref()
        .map(str::trim)
        .filter(|e| e.contains('@') && e.len() <= 254)
        .ok_or_else(|| {
            AppError::Page(PageRefusal::Form(FieldError::new(
                "email",
                "Enter your e-mail address.",
            )))
        })?;
    if let Some(found) = ctx.tx.newest_customer_by_email(org, email).await? {
        return Ok(found);
    }
    let new = NewCustomer {
        email: email.to_owned(),
        external_id: None,
        full_name: form.name.clone().filter(|n| !n.trim().is_empty()),
        tax_document: None,
        timezone: None,
        metadata: None,
        address: None,
    };
    create_one(ctx, &new).await
}

struct Authenticate {
    payment: PaymentId,
    approve: bool,
}

#[async_trait]
impl Command for Authenticate {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        let mut payment = lock_page_payment(ctx, &self.payment).await?;
        if payment.status != PaymentStatus::RequiresAction {
            return Ok(());
        }
        let Some(waiting) = ctx
            .tx
            .payment_transactions(&org, &payment.id)
            .await?
            .into_iter()
            .rev()
            .find(|t| t.status == TransactionStatus::Pending)
        else {
            return Ok(());
        };
        let processor = processor_for(&ctx.caller.organization, "payments.create")?;
        let (charge_ref, method_ref) = (
            waiting.charge_ref.clone().unwrap_or_default(),
            waiting.method_ref.clone().unwrap_or_default(),
        );
        let outcome = processor
            .complete_action(ActionRequest {
                charge_ref: &charge_ref,
                method_ref: &method_ref,
                approved: self.approve,
            })
            .await
            .map_err(|e| processor_failed(&e))?;
        let customer_id = waiting
            .customer_id
            .clone()
            .ok_or(AppError::Page(PageRefusal::NotFound))?;
        let customer = ctx
            .tx
            .customer(&org, &customer_id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::Page(PageRefusal::NotFound))?;
        let attempt = Attempt {
            id: waiting.id.clone(),
            customer: &customer,
            attempt: waiting.attempt.clone(),
        };
        match outcome {
            ChargeOutcome::Succeeded { charge_ref, .. } => {
                // The card was kept aside when the page asked for authentication; it becomes
                // the default now if the customer has none.
                let card = ctx.tx.default_card(&org, &customer.id).await?;
                let shown = kept_card(ctx.tx, &org, &customer, &method_ref).await?;
                let processed = ProcessedCard {
                    method_ref: method_ref.clone(),
                    card: shown.map(|s| s.card).unwrap_or(CardInfo {
                        brand: String::new(),
                        last4: String::new(),
                        exp_month: 0,
                        exp_year: 0,
                    }),
                };
                if card.is_none() {
                    save_card(ctx, &customer, &processed, true).await?;
                }
                settle(ctx, &mut payment, attempt, charge_ref, &processed, false).await?;
            }
            ChargeOutcome::Declined {
                charge_ref,
                decline,
                ..
            } => {
                fail(ctx, &mut payment, attempt, Some(charge_ref), &decline).await?;
            }
            ChargeOutcome::RequiresAction { .. } => {}
        }
        Ok(())
    }
}

/// The card a page kept aside for `method_ref` (not a default).
pub(crate) async fn kept_card(
    tx: &mut dyn Tx,
    org: &tally_domain::OrgId,
    customer: &Customer,
    method_ref: &str,
) -> Result<Option<SavedCard>, AppError> {
    Ok(tx
        .saved_cards(org, &customer.id)
        .await?
        .into_iter()
        .rev()
        .find(|c| c.method_ref == method_ref))
}

// ---------------------------------------------------------------------------------------------
// Reads

impl App {
    pub async fn payment(&self, caller: &Caller, id: &str) -> Result<PaymentView, AppError> {
        let signer = self.page_signer().await?;
        let (mut db, _) = self.reader(caller).await?;
        let id = PaymentId::parse(id).ok_or(AppError::NotFound(NotFound::Payment))?;
        let payment = db
            .payment(caller.org(), &id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Payment))?;
        let paid_by = paid_by(&mut *db, &payment).await?;
        Ok(PaymentView::new(payment, &signer, paid_by))
    }

    pub async fn payments(
        &self,
        caller: &Caller,
        customer: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<PaymentView>, AppError> {
        let signer = self.page_signer().await?;
        let (mut db, _) = self.reader(caller).await?;
        let customer = match customer {
            Some(reference) => {
                let reference = CustomerRef::parse(reference);
                let found = match reference {
                    Some(CustomerRef::Id(id)) => db.customer(caller.org(), &id, Lock::None).await?,
                    Some(CustomerRef::External(external)) => {
                        db.customer_by_external_id(caller.org(), &external, Lock::None)
                            .await?
                    }
                    None => None,
                };
                match found {
                    Some(customer) => Some(customer.id),
                    // Nobody by that reference has payments.
                    None => return Ok(Page::from_overfetch(Vec::new(), page.limit)),
                }
            }
            None => None,
        };
        let found = db.payments(caller.org(), customer.as_ref(), page).await?;
        let mut views = Vec::with_capacity(found.items.len());
        for payment in found.items.iter().cloned() {
            let paid_by = paid_by(&mut *db, &payment).await?;
            views.push(PaymentView::new(payment, &signer, paid_by));
        }
        Ok(Page {
            items: views,
            has_more: found.has_more,
        })
    }

    pub async fn transaction(&self, caller: &Caller, id: &str) -> Result<Transaction, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let id = TransactionId::parse(id).ok_or(AppError::NotFound(NotFound::Transaction))?;
        db.transaction(caller.org(), &id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Transaction))
    }

    pub async fn transactions(
        &self,
        caller: &Caller,
        status: Option<TransactionStatus>,
        email: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Transaction>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.transactions(caller.org(), status, email, page).await?)
    }
}

async fn paid_by(
    db: &mut dyn tally_store::Db,
    payment: &Payment,
) -> Result<Option<TransactionId>, AppError> {
    if payment.status != PaymentStatus::Succeeded {
        return Ok(None);
    }
    Ok(db
        .payment_transactions(&payment.org_id, &payment.id)
        .await?
        .into_iter()
        .find(|t| {
            matches!(
                t.status,
                TransactionStatus::Succeeded | TransactionStatus::Refunded
            )
        })
        .map(|t| t.id))
}

impl App {
    /// `paymentContext` of a transaction (2026-08-27): why it was charged, and the link it paid.
    pub async fn transaction_context(
        &self,
        caller: &Caller,
        transaction: &Transaction,
    ) -> Result<Value, AppError> {
        let link = match &transaction.payment_id {
            Some(id) => {
                let (mut db, _) = self.reader(caller).await?;
                db.payment(caller.org(), id, Lock::None)
                    .await?
                    .filter(|p| p.kind == PaymentKind::Link)
                    .map(|p| p.id)
            }
            None => None,
        };
        let mut context =
            crate::collection::context_data(&transaction.reason, transaction.recovery);
        context["paymentLinkId"] = json!(link.as_ref().map(PaymentId::as_str));
        Ok(context)
    }
}
