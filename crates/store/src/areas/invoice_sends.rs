//! Sends of invoices and the e-mails they owe (`commerce.md` §8.3).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::Timestamp;
use tally_domain::invoice_sends::InvoiceSend;

#[async_trait]
pub trait InvoiceSends {
    async fn insert_invoice_send(&mut self, send: &InvoiceSend) -> Result<(), StoreError>;

    /// Up to `limit` queued sends, of every organization, whose next attempt is due at `now`,
    /// locked for the caller's transaction (skipping those another mailer holds), soonest
    /// first.
    async fn due_invoice_sends(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<InvoiceSend>, StoreError>;

    /// Stores the delivery state, attempts, next attempt and last error of `send`.
    async fn update_invoice_send(&mut self, send: &InvoiceSend) -> Result<(), StoreError>;

    /// Every send of one invoice, oldest first.
    async fn invoice_sends(
        &mut self,
        org: &tally_domain::OrgId,
        invoice: &str,
    ) -> Result<Vec<InvoiceSend>, StoreError>;
}
