//! What the pages that pay a subscription invoice show (the checkout, `checkout`, and the
//! recovery page, `recovery`; `payments.md` §5–6): the invoice, the subscription and its plan,
//! the customer's default card, and how the last action went.

use crate::payments::PageRefusal;
use crate::{App, AppError};
use tally_domain::Organization;
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::payments::{CardInfo, Decline};
use tally_domain::subscription::{Subscription, SubscriptionId, SubscriptionStatus};
use tally_store::Lock;

/// Which page pays the invoice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoicePageKind {
    Checkout,
    Recover,
}

impl InvoicePageKind {
    /// The page's `kind` in its JSON state, also its token kind and path.
    pub fn as_str(self) -> &'static str {
        match self {
            InvoicePageKind::Checkout => crate::checkout::CHECKOUT_PAGE,
            InvoicePageKind::Recover => crate::collection::RECOVER_PAGE,
        }
    }
}

#[derive(Debug, Clone)]
pub struct InvoicePage {
    pub kind: InvoicePageKind,
    pub organization: Organization,
    pub subscription: Subscription,
    pub plan_name: String,
    /// The invoice to pay; `None` for a trial's checkout, which saves a card and charges nothing.
    pub invoice: Option<Invoice>,
    /// A trial's checkout: its length in days.
    pub trial_days: Option<i64>,
    /// The default card.
    pub card: Option<CardInfo>,
    /// The page's work is done: the invoice paid, or the trial started.
    pub done: bool,
    /// A typed card waits for its holder's authentication.
    pub requires_action: bool,
    pub error: Option<Decline>,
}

impl App {
    /// The page as it stands, read after the page's action (if any) committed.
    pub(crate) async fn invoice_page(
        &self,
        kind: InvoicePageKind,
        organization: Organization,
        (subscription, invoice): (&SubscriptionId, Option<&str>),
        error: Option<Decline>,
    ) -> Result<InvoicePage, AppError> {
        let mut db = self.store.read().await?;
        let org = &organization.id;
        let gone = || AppError::Page(PageRefusal::Gone);
        let subscription = db
            .subscription(org, subscription, Lock::None)
            .await?
            .ok_or_else(gone)?;
        let invoice = match invoice {
            Some(id) => Some(db.invoice(org, id, Lock::None).await?.ok_or_else(gone)?),
            None => None,
        };
        let plan_name = db
            .plan_any(org, &subscription.plan_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let card = db
            .default_card(org, &subscription.customer_id)
            .await?
            .map(|c| c.card);
        let requires_action = match &invoice {
            Some(invoice) => db
                .invoice_transactions(org, &invoice.id)
                .await?
                .iter()
                .any(|t| t.status == tally_domain::payments::TransactionStatus::Pending),
            None => false,
        };
        let done = match &invoice {
            Some(invoice) => invoice.status == InvoiceStatus::Paid,
            None => subscription.status == SubscriptionStatus::Trialing,
        };
        Ok(InvoicePage {
            kind,
            done,
            requires_action,
            trial_days: subscription.checkout_trial_days,
            organization,
            subscription,
            plan_name,
            invoice,
            card,
            error,
        })
    }
}
