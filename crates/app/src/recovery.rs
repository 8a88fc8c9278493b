//! Recovering a past-due subscription by hand (`payments.md` §6): recovery links and the page
//! they open, `transactions.retry`, and `reactivate` of a past-due subscription. Each is a
//! manual attempt (`collection::attempt_manually`): the customer's default card, at most three
//! a day, the automatic schedule untouched.

use crate::collection::{
    Attempted, ManualAttempt, ManualSource, RECOVER_PAGE, attempt_manually, past_due_invoice,
    recovery_url,
};
use crate::invoice_pages::{InvoicePage, InvoicePageKind};
use crate::payments::{PageRefusal, processor_for};
use crate::subscriptions::lock_subscription;
use crate::{App, AppError, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::ids::TransactionId;
use tally_domain::payments::{CardEntry, Decline, TransactionStatus, check_card};
use tally_domain::subscription::{Subscription, SubscriptionId, SubscriptionStatus};
use tally_domain::{DomainError, Organization, Timestamp};
use tally_store::Lock;

/// A recovery link: the page's URL and its token.
#[derive(Debug, Clone)]
pub struct RecoveryLink {
    pub url: String,
    pub token: String,
}

/// `POST /subscriptions/{id}/recovery-link(s)`: a fresh link to the page that pays the
/// past-due invoice.
pub struct CreateRecoveryLink(pub String);

#[async_trait]
impl Command for CreateRecoveryLink {
    type Output = RecoveryLink;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<RecoveryLink, AppError> {
        let subscription = lock_subscription(ctx.tx, ctx.caller.org(), &self.0).await?;
        processor_for(&ctx.caller.organization, "subscriptions.createRecoveryLink")?;
        if subscription.status != SubscriptionStatus::PastDue {
            return Err(DomainError::NotActive.into());
        }
        let invoice = past_due_invoice(ctx.tx, &subscription).await?;
        let url = recovery_url(&ctx.billing.signer, &invoice, &ctx.ids.base62(12), ctx.now);
        let token = url.rsplit('/').next().unwrap_or_default().to_owned();
        Ok(RecoveryLink { url, token })
    }
}

/// A manual attempt the API answered: paid, or declined (`402 charge_failed`).
#[derive(Debug, Clone)]
pub struct Retried {
    pub subscription: Subscription,
    pub attempt: ManualAttempt,
}

impl Retried {
    /// The attempt's transaction, when a card was charged.
    pub fn transaction_id(&self) -> Option<&TransactionId> {
        match &self.attempt.outcome {
            Attempted::Paid(t, _) => Some(&t.id),
            Attempted::Declined { transaction, .. } => transaction.as_ref().map(|t| &t.id),
        }
    }

    pub fn decline(&self) -> Option<&Decline> {
        match &self.attempt.outcome {
            Attempted::Paid(..) => None,
            Attempted::Declined { decline, .. } => Some(decline),
        }
    }
}

/// A manual attempt at `subscription`'s past-due invoice from the API.
pub(crate) async fn retry_past_due(
    ctx: &mut WriteCtx<'_>,
    mut subscription: Subscription,
) -> Result<Retried, AppError> {
    let attempt = attempt_manually(
        ctx.tx,
        ctx.ids,
        &ctx.caller.organization,
        &ctx.billing.signer,
        &mut subscription,
        ManualSource::Api,
        None,
        ctx.now,
    )
    .await?;
    Ok(Retried {
        subscription,
        attempt,
    })
}

/// `POST /transactions/{id}/retry`: a failed attempt at an invoice still owed by a past-due
/// subscription is tried again (a new transaction; the failed one never changes).
pub struct RetryTransaction(pub String);

#[async_trait]
impl Command for RetryTransaction {
    type Output = (TransactionId, Retried);

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(TransactionId, Retried), AppError> {
        let org = ctx.caller.org().clone();
        let not_found = || AppError::NotFound(NotFound::Transaction);
        let id = TransactionId::parse(&self.0).ok_or_else(not_found)?;
        let original = ctx
            .tx
            .transaction(&org, &id, Lock::None)
            .await?
            .ok_or_else(not_found)?;
        processor_for(&ctx.caller.organization, "transactions.retry")?;
        let invoice_id = match (&original.invoice_id, &original.payment_id, original.status) {
            (Some(invoice), None, TransactionStatus::Failed) => invoice.clone(),
            _ => return Err(AppError::NotRetryable),
        };
        let invoice = ctx
            .tx
            .invoice(&org, &invoice_id, Lock::None)
            .await?
            .ok_or(AppError::NotRetryable)?;
        if invoice.status == InvoiceStatus::Paid {
            return Err(AppError::NoOutstandingInvoice);
        }
        let subscription = match &invoice.subscription_id {
            Some(id) => lock_subscription(ctx.tx, &org, id.as_str()).await?,
            None => return Err(AppError::NotRetryable),
        };
        let owes_it = subscription.status == SubscriptionStatus::PastDue
            && subscription
                .dunning
                .as_ref()
                .is_some_and(|d| d.invoice_id == invoice.id);
        if !owes_it {
            return Err(AppError::NotRetryable);
        }
        Ok((id, retry_past_due(ctx, subscription).await?))
    }
}

// ---------------------------------------------------------------------------------------------
// The recovery page

/// What the customer asked the page to do.
#[derive(Debug, Clone)]
pub enum RecoverAction {
    /// Charge the default card.
    PaySaved,
    /// Save a new card as the default, then charge it.
    Pay(CardEntry),
}

/// A page action: the attempt's nonce makes a repeat replay the first outcome.
struct RecoverOnPage {
    subscription: SubscriptionId,
    invoice: String,
    action: RecoverAction,
    nonce: Option<String>,
}

fn still_owed(subscription: &Subscription, invoice: &Invoice) -> bool {
    subscription.status == SubscriptionStatus::PastDue
        && invoice.status == InvoiceStatus::Outstanding
        && subscription
            .dunning
            .as_ref()
            .is_some_and(|d| d.invoice_id == invoice.id)
}

fn too_many_attempts(resets_at: Timestamp) -> Decline {
    Decline {
        code: "rate_limited".to_owned(),
        message: format!(
            "Too many payment attempts today. Try again after {}.",
            resets_at.to_rfc3339()
        ),
    }
}

#[async_trait]
impl Command for RecoverOnPage {
    type Output = Option<Decline>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Option<Decline>, AppError> {
        let org = ctx.caller.org().clone();
        let gone = || AppError::Page(PageRefusal::Gone);
        let mut subscription = ctx
            .tx
            .subscription(&org, &self.subscription, Lock::ForUpdate)
            .await?
            .ok_or_else(gone)?;
        let invoice = ctx
            .tx
            .invoice(&org, &self.invoice, Lock::None)
            .await?
            .ok_or_else(gone)?;
        if let Some(earlier) =
            crate::collection::repeated_attempt(ctx.tx, &invoice, self.nonce.as_deref()).await?
        {
            return Ok(earlier.failure);
        }
        if !still_owed(&subscription, &invoice) {
            return Err(gone());
        }
        if let RecoverAction::Pay(entry) = &self.action {
            let customer =
                crate::subscriptions::subscription_customer(ctx.tx, &subscription).await?;
            let saved = crate::portal::save_default_card(
                ctx,
                &customer,
                entry,
                ("subscriptions.createRecoveryLink", None),
            )
            .await?;
            if saved.is_some() {
                return Ok(saved);
            }
        }
        let attempt = attempt_manually(
            ctx.tx,
            ctx.ids,
            &ctx.caller.organization,
            &ctx.billing.signer,
            &mut subscription,
            ManualSource::Page,
            self.nonce.clone(),
            ctx.now,
        )
        .await;
        match attempt {
            Ok(ManualAttempt {
                outcome: Attempted::Paid(..),
                ..
            }) => Ok(None),
            Ok(ManualAttempt {
                outcome: Attempted::Declined { decline, .. },
                ..
            }) => Ok(Some(decline)),
            Err(AppError::ManualAttemptsExhausted { resets_at, .. }) => {
                Ok(Some(too_many_attempts(resets_at)))
            }
            Err(other) => Err(other),
        }
    }
}

impl App {
    /// The invoice and subscription a recovery token names, while the invoice is still owed.
    async fn recover_subject(
        &self,
        token: &str,
    ) -> Result<(Organization, Subscription, Invoice, Timestamp), AppError> {
        let (target, mut db) = self.page_target(RECOVER_PAGE, token).await?;
        let claims = &target.claims;
        let not_found = || AppError::Page(PageRefusal::NotFound);
        let invoice = db
            .invoice(&claims.org, &claims.subject, Lock::None)
            .await?
            .ok_or_else(not_found)?;
        let subscription_id = invoice.subscription_id.clone().ok_or_else(not_found)?;
        let subscription = db
            .subscription(&claims.org, &subscription_id, Lock::None)
            .await?
            .ok_or_else(not_found)?;
        Ok((target.organization, subscription, invoice, target.now))
    }

    /// The recovery page for `token`; `410` once the invoice is no longer owed.
    pub async fn recover_page(&self, token: &str) -> Result<InvoicePage, AppError> {
        let (organization, subscription, invoice, _) = self.recover_subject(token).await?;
        if !still_owed(&subscription, &invoice) {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        let subject = (&subscription.id, Some(invoice.id.as_str()));
        self.invoice_page(InvoicePageKind::Recover, organization, subject, None)
            .await
    }

    /// Pays the invoice from the page: the default card, or a new one (saved as the default).
    pub async fn recover_on_page(
        &self,
        token: &str,
        pay_saved: bool,
        (number, exp_month, exp_year, cvc): (&str, &str, &str, &str),
        nonce: Option<String>,
    ) -> Result<InvoicePage, AppError> {
        let (organization, subscription, invoice, now) = self.recover_subject(token).await?;
        let action = match pay_saved {
            true => RecoverAction::PaySaved,
            false => RecoverAction::Pay(
                check_card(number, exp_month, exp_year, cvc, now)
                    .map_err(|e| AppError::Page(PageRefusal::Form(e)))?,
            ),
        };
        let command = RecoverOnPage {
            subscription: subscription.id.clone(),
            invoice: invoice.id.clone(),
            action,
            nonce,
        };
        let error = self.page_write(&organization, command).await?;
        let subject = (&subscription.id, Some(invoice.id.as_str()));
        self.invoice_page(InvoicePageKind::Recover, organization, subject, error)
            .await
    }
}
