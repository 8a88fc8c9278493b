//! What the pages that pay a subscription invoice show (the checkout, `checkout`, and the
//! recovery page, `recovery`; `payments.md` §5–6): the invoice, the subscription and its plan,
//! the customer's default card, and how the last action went.

use crate::payments::PageRefusal;
use crate::{App, AppError};
use tally_domain::Organization;
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::payments::{CardInfo, Decline};
use tally_domain::subscription::{Subscription, SubscriptionId};
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
    pub invoice: Invoice,
    /// The default card.
    pub card: Option<CardInfo>,
    /// The invoice is paid.
    pub paid: bool,
    pub error: Option<Decline>,
}

impl App {
    /// The page as it stands, read after the page's action (if any) committed.
    pub(crate) async fn invoice_page(
        &self,
        kind: InvoicePageKind,
        organization: Organization,
        (subscription, invoice): (&SubscriptionId, &str),
        error: Option<Decline>,
    ) -> Result<InvoicePage, AppError> {
        let mut db = self.store.read().await?;
        let org = &organization.id;
        let gone = || AppError::Page(PageRefusal::Gone);
        let subscription = db
            .subscription(org, subscription, Lock::None)
            .await?
            .ok_or_else(gone)?;
        let invoice = db
            .invoice(org, invoice, Lock::None)
            .await?
            .ok_or_else(gone)?;
        let plan_name = db
            .plan_any(org, &subscription.plan_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let card = db
            .default_card(org, &subscription.customer_id)
            .await?
            .map(|c| c.card);
        Ok(InvoicePage {
            kind,
            paid: invoice.status == InvoiceStatus::Paid,
            organization,
            subscription,
            plan_name,
            invoice,
            card,
            error,
        })
    }
}
