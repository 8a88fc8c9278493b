//! Adjustment invoices (`commerce.md` §8.2): one-off invoices for a charge or a credit note,
//! outside any subscription.

use crate::customers::lock_customer_ref;
use crate::invoicing::{CURRENCY, record_invoice};
use crate::{AppError, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::CustomerRef;
use tally_domain::adjustments::{ADJUSTMENT, Adjustment};
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::period::BillingPeriod;

pub struct CreateAdjustment {
    /// The customer's id or externalId.
    pub customer: String,
    pub adjustment: Adjustment,
}

#[async_trait]
impl Command for CreateAdjustment {
    type Output = Invoice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Invoice, AppError> {
        let not_found = || AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned());
        let reference = CustomerRef::parse(&self.customer).ok_or_else(not_found)?;
        let customer = lock_customer_ref(ctx.tx, ctx.caller.org(), &reference)
            .await?
            .ok_or_else(not_found)?;
        let adjustment = &self.adjustment;
        // A charge is issued like any invoice (outstanding when the organization collects by
        // hand); a credit note is settled as it is issued.
        let status = if adjustment.amount.0 > 0 {
            ctx.billing.invoice_status
        } else {
            InvoiceStatus::Paid
        };
        let lines = vec![adjustment.line()];
        let invoice = Invoice {
            id: format!("inv_{}", ctx.ids.ulid()),
            org_id: customer.org_id.clone(),
            customer_id: customer.id.clone(),
            subscription_id: None,
            number: String::new(),
            status,
            invoice_type: ADJUSTMENT.to_owned(),
            subtotal: adjustment.amount,
            discount_amount: tally_domain::money::Cents(0),
            credit_applied: tally_domain::money::Cents(0),
            period: BillingPeriod {
                start: ctx.now,
                end: ctx.now,
            },
            issue_date: ctx.now,
            plan_name: None,
            currency: CURRENCY.to_owned(),
            memo: Some(adjustment.description.clone()),
            metadata: adjustment.metadata.clone(),
            lines,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        record_invoice(ctx.tx, ctx.ids, &customer, invoice).await
    }
}
