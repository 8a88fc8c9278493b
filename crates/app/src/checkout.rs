//! The checkout of a new subscription (`payments.md` §5): under `billingMode: charge`, a paid
//! subscription whose first invoice could not be charged (no default card, or a decline) waits
//! in `pending_payment` for its customer to pay on the checkout page. Paid there, the card is
//! the customer's default and the subscription is `active` in the period that began at its
//! creation; unpaid for one interval, it ends (`checkout_expired`) and its invoice is void.

use crate::collection::{
    Attempted, FIRST_SUBSCRIPTION_PAYMENT, InvoiceAttempt, InvoiceSource, OnSession,
    charge_with_holder,
};
use crate::hosted_tokens::PageSigner;
use crate::invoice_pages::{InvoicePage, InvoicePageKind};
use crate::invoicing::{announce_activation, invoice_event_data};
use crate::outbox::Outbox;
use crate::payments::{PageRefusal, processor_for};
use crate::subscriptions::{save, subscription_customer};
use crate::{App, AppError, Command, IdSource, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::payments::{CardEntry, Decline, check_card};
use tally_domain::subscription::{Subscription, SubscriptionId, SubscriptionStatus};
use tally_domain::{Customer, Organization, Timestamp};
use tally_store::{Lock, StoreError, Tx};

/// The page kind of checkouts, and the path their pages are served on.
pub const CHECKOUT_PAGE: &str = "checkout";

/// The checkout page of a subscription waiting for it. The token is the same at every read
/// (issued at the subscription's creation, named by its id), so the subscription's
/// `checkoutUrl` never changes; it works until the checkout is paid or ends.
pub fn checkout_url(signer: &PageSigner, subscription: &Subscription) -> Option<String> {
    (subscription.status == SubscriptionStatus::PendingPayment).then(|| {
        let id = subscription.id.as_str();
        let token = signer.token(
            CHECKOUT_PAGE,
            &subscription.org_id,
            id,
            subscription.created_at,
            None,
            id,
        );
        signer.url(CHECKOUT_PAGE, &token)
    })
}

/// The invoice a subscription's checkout pays: the one that opened its first period.
pub(crate) async fn checkout_invoice(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    period_start: Timestamp,
    lock: Lock,
) -> Result<Invoice, AppError> {
    let missing = || AppError::Store(StoreError::other("checkout invoice missing"));
    let id = tx
        .period_opening_invoice(&subscription.org_id, &subscription.id, period_start)
        .await?
        .ok_or_else(missing)?;
    tx.invoice(&subscription.org_id, &id, lock)
        .await?
        .ok_or_else(missing)
}

/// The subscription a checkout page acts on, locked; gone (`410`) once it no longer exists.
async fn lock_page_subscription(
    tx: &mut dyn Tx,
    org: &tally_domain::OrgId,
    id: &SubscriptionId,
) -> Result<Subscription, AppError> {
    tx.subscription(org, id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::Page(PageRefusal::Gone))
}

/// The opening invoice of the period a checkout page pays for; gone (`410`) without a period.
async fn page_invoice(tx: &mut dyn Tx, subscription: &Subscription) -> Result<Invoice, AppError> {
    let period = subscription
        .current_period
        .ok_or(AppError::Page(PageRefusal::Gone))?;
    checkout_invoice(tx, subscription, period.start, Lock::None).await
}

/// The subscription now waits for its checkout: `payment.failed` when a card was declined (its
/// `recoveryUrl` is the checkout), then `checkout.ready`.
pub(crate) fn announce_checkout(
    outbox: &mut Outbox<'_>,
    subscription: &Subscription,
    invoice: &Invoice,
    url: &str,
    declined: Option<(&Decline, &str)>,
) {
    let customer_ref = outbox.customer_ref().to_owned();
    if let Some((decline, reason)) = declined {
        outbox.push(
            "payment.failed",
            json!({
                "invoiceId": invoice.id,
                "invoiceNumber": invoice.number,
                "customerId": customer_ref,
                "subscriptionId": subscription.id.as_str(),
                "provider": tally_domain::payments::SANDBOX_PROVIDER,
                "failureCode": decline.code,
                "failureMessage": decline.message,
                "recoveryUrl": url,
                "paymentContext": crate::collection::context_data(reason, None),
                "paymentMethod": "card",
                "subPaymentMethod": "credit_card",
            }),
        );
    }
    outbox.push(
        "checkout.ready",
        json!({
            "subscriptionId": subscription.id.as_str(),
            "customerId": customer_ref,
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "invoiceTotal": invoice.total().0,
            "invoiceCurrency": invoice.currency,
            "checkoutUrl": url,
        }),
    );
}

/// A checkout that ends unpaid (expired, canceled, replaced): its invoice is void (the
/// customer credits it used given back), with `invoice.voided`.
pub(crate) async fn void_checkout_invoice(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    period_start: Timestamp,
    at: Timestamp,
    outbox: &mut Outbox<'_>,
) -> Result<(), AppError> {
    let before = subscription;
    let mut invoice = checkout_invoice(tx, before, period_start, Lock::ForUpdate).await?;
    if invoice.status != InvoiceStatus::Outstanding {
        return Ok(());
    }
    tx.update_invoice_status(&before.org_id, &invoice.id, InvoiceStatus::Void, at)
        .await?;
    tx.reverse_customer_credit_uses(&before.org_id, &invoice.id)
        .await?;
    invoice.status = InvoiceStatus::Void;
    invoice.updated_at = at;
    let data = invoice_event_data(&invoice, outbox.customer_ref());
    outbox.push("invoice.voided", data);
    Ok(())
}

/// Pays the checkout with a typed card, its holder present; paid, the card becomes the
/// customer's default (`payment_method.attached`) and the subscription is active
/// (`payment.received`, `subscription.activated`, its state change). A decline leaves a failed
/// transaction and the page open, with no event (`payments.md` §5).
struct PayCheckout {
    subscription: SubscriptionId,
    entry: CardEntry,
    nonce: Option<String>,
}

#[async_trait]
impl Command for PayCheckout {
    type Output = Option<Decline>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Option<Decline>, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_page_subscription(ctx.tx, &org, &self.subscription).await?;
        if subscription.checkout_trial_days.is_some() {
            return start_trial(ctx, subscription, &self.entry).await;
        }
        let invoice = page_invoice(ctx.tx, &subscription).await?;
        if let Some(earlier) =
            crate::collection::repeated_attempt(ctx.tx, &invoice, self.nonce.as_deref()).await?
        {
            return Ok(earlier.failure);
        }
        if subscription.status != SubscriptionStatus::PendingPayment
            || invoice.status != InvoiceStatus::Outstanding
        {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        let customer = subscription_customer(ctx.tx, &subscription).await?;
        // A trial's end waits here too; its attempts keep the reason of the first one.
        let reason = crate::collection::first_reason(ctx.tx, &invoice)
            .await?
            .unwrap_or_else(|| FIRST_SUBSCRIPTION_PAYMENT.to_owned());
        let attempt = InvoiceAttempt {
            customer: &customer,
            subscription: &subscription,
            invoice: &invoice,
            reason: &reason,
            recovery: None,
            nonce: self.nonce.clone(),
            at: ctx.now,
        };
        let organization = ctx.caller.organization.clone();
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let outcome = charge_with_holder(
            ctx.tx,
            ctx.ids,
            &organization,
            &attempt,
            Some(InvoiceSource::Typed(&self.entry)),
            &mut outbox,
        )
        .await?;
        match outcome {
            // The page asks the holder to authenticate (`authenticate_checkout`); the card is
            // kept aside meanwhile, to become the default if the charge then succeeds.
            OnSession::RequiresAction(_, card) => {
                crate::payments::save_card(ctx, &customer, &card, false).await?;
                Ok(None)
            }
            OnSession::Done(done) => {
                finish_checkout(ctx, (&customer, subscription, &invoice), done, outbox).await
            }
        }
    }
}

/// After the charge of a checkout: paid, the card becomes the customer's default
/// (`payment_method.attached`) and the subscription active; declined, nothing else changes.
async fn finish_checkout(
    ctx: &mut WriteCtx<'_>,
    (customer, subscription, invoice): (&Customer, Subscription, &Invoice),
    done: Attempted,
    outbox: Outbox<'_>,
) -> Result<Option<Decline>, AppError> {
    let card = match done {
        Attempted::Paid(_, card) => card,
        Attempted::Declined { decline, .. } => return Ok(Some(decline)),
    };
    crate::portal::keep_default_card(ctx, customer, &card, Some(&subscription.id)).await?;
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    let active = subscription.checkout_paid(ctx.now);
    save(ctx.tx, &active).await?;
    let organization = ctx.caller.organization.clone();
    let provider = processor_for(&organization, "subscriptions.create")?.provider();
    announce_activation(
        ctx.tx,
        ctx.ids,
        customer,
        &active,
        invoice,
        ctx.now,
        Some(provider),
    )
    .await?;
    Ok(None)
}

/// The holder's answer to the authentication a checkout's card asked for.
struct AuthenticateCheckout {
    subscription: SubscriptionId,
    approved: bool,
}

#[async_trait]
impl Command for AuthenticateCheckout {
    type Output = Option<Decline>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Option<Decline>, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_page_subscription(ctx.tx, &org, &self.subscription).await?;
        let invoice = page_invoice(ctx.tx, &subscription).await?;
        let waiting = ctx
            .tx
            .invoice_transactions(&org, &invoice.id)
            .await?
            .into_iter()
            .rfind(|t| t.status == tally_domain::payments::TransactionStatus::Pending)
            .ok_or(AppError::Page(PageRefusal::Gone))?;
        let customer = subscription_customer(ctx.tx, &subscription).await?;
        let reason = waiting.reason.clone();
        let attempt = InvoiceAttempt {
            customer: &customer,
            subscription: &subscription,
            invoice: &invoice,
            reason: &reason,
            recovery: None,
            nonce: waiting.attempt.clone(),
            at: ctx.now,
        };
        let organization = ctx.caller.organization.clone();
        let method_ref = waiting.method_ref.clone().unwrap_or_default();
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let done = crate::collection::complete_invoice_action(
            ctx.tx,
            ctx.ids,
            &organization,
            (&attempt, waiting),
            self.approved,
            &mut outbox,
        )
        .await?;
        // The processor names the card by its handle; what may be shown was kept aside.
        let done = match done {
            Attempted::Paid(transaction, mut card) => {
                if let Some(kept) =
                    crate::payments::kept_card(ctx.tx, &org, &customer, &method_ref).await?
                {
                    card.card = kept.card;
                }
                Attempted::Paid(transaction, card)
            }
            declined => declined,
        };
        finish_checkout(ctx, (&customer, subscription, &invoice), done, outbox).await
    }
}

/// A trial's checkout: the card is saved (no charge) as the customer's default
/// (`payment_method.attached`) and the trial begins now (`trial.started`, its state change).
async fn start_trial(
    ctx: &mut WriteCtx<'_>,
    subscription: Subscription,
    entry: &CardEntry,
) -> Result<Option<Decline>, AppError> {
    if subscription.status != SubscriptionStatus::PendingPayment {
        return Err(AppError::Page(PageRefusal::Gone));
    }
    let customer = subscription_customer(ctx.tx, &subscription).await?;
    let refused = crate::portal::save_default_card(
        ctx,
        &customer,
        entry,
        ("subscriptions.create", Some(&subscription.id)),
    )
    .await?;
    if refused.is_some() {
        return Ok(refused);
    }
    let trialing = subscription.start_trial(ctx.now);
    save(ctx.tx, &trialing).await?;
    let plan_name = ctx
        .tx
        .plan_any(&trialing.org_id, &trialing.plan_id)
        .await?
        .map(|p| p.name)
        .unwrap_or_default();
    let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
    let data = crate::outbox::trial_data(outbox.customer_ref(), &trialing, &plan_name);
    outbox.push("trial.started", data);
    outbox.state_changed("trial_started");
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(None)
}

/// Ends a checkout that was never paid (`pending_payment` canceled or replaced): the
/// subscription is canceled now with `reason`, its invoice void; `invoice.voided`,
/// `subscription.canceled`, `customer.state_changed`.
pub(crate) async fn end_checkout(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    pending: &Subscription,
    reason: &str,
    at: Timestamp,
) -> Result<(), AppError> {
    let ended = pending.cancel(at, Some(reason.to_owned()), true)?;
    save(tx, &ended).await?;
    let customer = subscription_customer(tx, pending).await?;
    let mut outbox = Outbox::new(ids, &customer, at);
    if let Some(period) = pending.current_period {
        void_checkout_invoice(tx, pending, period.start, at, &mut outbox).await?;
    }
    let data = crate::outbox::cancellation_data(outbox.customer_ref(), &ended);
    outbox.push("subscription.canceled", data);
    outbox.state_changed("subscription_canceled");
    tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(())
}

impl App {
    async fn checkout_subject(
        &self,
        token: &str,
    ) -> Result<(Organization, Subscription, Timestamp), AppError> {
        let (target, mut db) = self.page_target(CHECKOUT_PAGE, token).await?;
        let not_found = || AppError::Page(PageRefusal::NotFound);
        let id = SubscriptionId::parse(&target.claims.subject).ok_or_else(not_found)?;
        let subscription = db
            .subscription(&target.claims.org, &id, Lock::None)
            .await?
            .ok_or_else(not_found)?;
        Ok((target.organization, subscription, target.now))
    }

    async fn checkout_view(
        &self,
        organization: Organization,
        subscription: &Subscription,
        error: Option<Decline>,
    ) -> Result<InvoicePage, AppError> {
        // A trial's checkout has no invoice (nor, until it starts, a period).
        let invoice = match subscription.current_period {
            Some(period) => Some(
                self.store
                    .read()
                    .await?
                    .period_opening_invoice(&organization.id, &subscription.id, period.start)
                    .await?
                    .ok_or(AppError::Page(PageRefusal::Gone))?,
            ),
            None => None,
        };
        let subject = (&subscription.id, invoice.as_deref());
        self.invoice_page(InvoicePageKind::Checkout, organization, subject, error)
            .await
    }

    /// The checkout page for `token`; `410` once the checkout is paid or has ended.
    pub async fn checkout_page(&self, token: &str) -> Result<InvoicePage, AppError> {
        let (organization, subscription, now) = self.checkout_subject(token).await?;
        if subscription.as_of(now).status != SubscriptionStatus::PendingPayment {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        self.checkout_view(organization, &subscription, None).await
    }

    /// The holder approves or fails the authentication the checkout's card asked for.
    pub async fn authenticate_checkout(
        &self,
        token: &str,
        approved: bool,
    ) -> Result<InvoicePage, AppError> {
        let (organization, subscription, _) = self.checkout_subject(token).await?;
        let command = AuthenticateCheckout {
            subscription: subscription.id.clone(),
            approved,
        };
        let error = self.page_write(&organization, command).await?;
        self.checkout_view(organization, &subscription, error).await
    }

    /// Pays the checkout with a typed card.
    pub async fn pay_checkout(
        &self,
        token: &str,
        (number, exp_month, exp_year, cvc): (&str, &str, &str, &str),
        nonce: Option<String>,
    ) -> Result<InvoicePage, AppError> {
        let (organization, subscription, now) = self.checkout_subject(token).await?;
        if subscription.as_of(now).status != SubscriptionStatus::PendingPayment && nonce.is_none() {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        let entry = check_card(number, exp_month, exp_year, cvc, now)
            .map_err(|e| AppError::Page(PageRefusal::Form(e)))?;
        let command = PayCheckout {
            subscription: subscription.id.clone(),
            entry,
            nonce,
        };
        let error = self.page_write(&organization, command).await?;
        self.checkout_view(organization, &subscription, error).await
    }
}
