//! Invoices with their lines, and the seat true-ups they bill.

use crate::{InvoiceFilter, Lock, StoreError};
use async_trait::async_trait;
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Invoices {
    /// The organization's next invoice number (1, 2, …), taken in this transaction.
    async fn next_invoice_number(&mut self, org: &OrgId) -> Result<i64, StoreError>;

    /// Inserts an invoice with its lines.
    async fn insert_invoice(&mut self, invoice: &Invoice) -> Result<(), StoreError>;

    /// The id of the latest invoice (not void) that opened the billing period starting at
    /// `period_start`: the one whose base price a plan change credits (`lifecycle.md` §4.3).
    async fn period_opening_invoice(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        period_start: Timestamp,
    ) -> Result<Option<String>, StoreError>;

    /// One invoice with its lines; `Lock::ForUpdate` for a status change.
    async fn invoice(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Invoice>, StoreError>;

    /// The organization an invoice belongs to, found by id alone: for a signed download link,
    /// whose signature then says whether the organization's invoice may be read.
    async fn invoice_org(&mut self, id: &str) -> Result<Option<OrgId>, StoreError>;

    /// Invoices of `org`, newest first, without their lines.
    async fn invoices(
        &mut self,
        org: &OrgId,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError>;

    /// Changes only the status: amounts and lines are immutable once issued.
    /// `NotFound` when the organization has no such row.
    async fn update_invoice_status(
        &mut self,
        org: &OrgId,
        id: &str,
        status: InvoiceStatus,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Records a true-up of a subscription of `org` (`NotFound` otherwise).
    async fn insert_seat_true_up(
        &mut self,
        org: &OrgId,
        true_up: &SeatTrueUp,
    ) -> Result<(), StoreError>;

    /// True-ups of a subscription not billed yet, oldest first.
    async fn pending_true_ups(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatTrueUp>, StoreError>;

    /// Marks the subscription's pending true-ups as billed on `invoice`.
    async fn mark_true_ups_invoiced(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        invoice: &str,
    ) -> Result<(), StoreError>;
}
