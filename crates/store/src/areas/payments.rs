//! Payments, transactions, refunds and saved cards (`payments.md`).

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::ids::{CustomerId, PaymentId, TransactionId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::payments::{Payment, Refund, SavedCard, Transaction, TransactionStatus};

#[async_trait]
pub trait Payments {
    async fn insert_payment(&mut self, payment: &Payment) -> Result<(), StoreError>;

    /// Writes the payment's status, invoice and update time (`NotFound` for another
    /// organization's).
    async fn update_payment(&mut self, payment: &Payment) -> Result<(), StoreError>;

    async fn payment(
        &mut self,
        org: &OrgId,
        id: &PaymentId,
        lock: Lock,
    ) -> Result<Option<Payment>, StoreError>;

    /// Newest first, of one customer when `customer` is given.
    async fn payments(
        &mut self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError>;

    async fn insert_transaction(&mut self, transaction: &Transaction) -> Result<(), StoreError>;

    /// Writes the transaction's status, invoice, payment time and update time.
    async fn update_transaction(&mut self, transaction: &Transaction) -> Result<(), StoreError>;

    async fn transaction(
        &mut self,
        org: &OrgId,
        id: &TransactionId,
        lock: Lock,
    ) -> Result<Option<Transaction>, StoreError>;

    /// Newest first; `email` matches in any case.
    async fn transactions(
        &mut self,
        org: &OrgId,
        status: Option<TransactionStatus>,
        email: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Transaction>, StoreError>;

    /// Payment links still open whose expiry is at or before `now`, soonest first: of `org` (on
    /// its test clock), or of every organization on real time.
    async fn expired_links(
        &mut self,
        org: Option<&OrgId>,
        now: tally_domain::Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError>;

    /// The attempts at one payment, oldest first.
    async fn payment_transactions(
        &mut self,
        org: &OrgId,
        payment: &PaymentId,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// The attempts at one invoice, oldest first.
    async fn invoice_transactions(
        &mut self,
        org: &OrgId,
        invoice: &str,
    ) -> Result<Vec<Transaction>, StoreError>;

    /// When the customer's manual attempts at past-due invoices made after `since` were made
    /// (`payments.md` §6: at most three a day).
    async fn manual_attempts_since(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        since: tally_domain::Timestamp,
    ) -> Result<Vec<tally_domain::Timestamp>, StoreError>;

    async fn insert_refund(&mut self, refund: &Refund) -> Result<(), StoreError>;

    async fn refund_of(
        &mut self,
        org: &OrgId,
        transaction: &TransactionId,
    ) -> Result<Option<Refund>, StoreError>;

    /// Saves a card; when it is the default, the customer's previous default stops being one.
    async fn insert_saved_card(&mut self, card: &SavedCard) -> Result<(), StoreError>;

    /// A customer's saved cards, oldest first.
    async fn saved_cards(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Vec<SavedCard>, StoreError>;

    async fn default_card(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<SavedCard>, StoreError>;
}
