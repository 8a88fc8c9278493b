//! Customer credits: grants of money off future invoices, and the invoices that used them.

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::customer_credits::CustomerCredit;
use tally_domain::ids::CustomerCreditId;
use tally_domain::money::Cents;
use tally_domain::{CustomerId, OrgId};

#[async_trait]
pub trait CustomerCredits {
    async fn insert_customer_credit(&mut self, credit: &CustomerCredit) -> Result<(), StoreError>;

    /// The customer's grants, in `currency` or in every currency, oldest first;
    /// `Lock::ForUpdate` for an invoice to use them (expired and used-up ones included: the
    /// caller judges at its own instant).
    async fn customer_credits(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        currency: Option<&str>,
        lock: Lock,
    ) -> Result<Vec<CustomerCredit>, StoreError>;

    /// One grant of the customer.
    async fn customer_credit(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        id: &CustomerCreditId,
        lock: Lock,
    ) -> Result<Option<CustomerCredit>, StoreError>;

    /// Sets what has been revoked of a grant (cumulative).
    async fn revoke_customer_credit(
        &mut self,
        org: &OrgId,
        id: &CustomerCreditId,
        revoked: Cents,
    ) -> Result<(), StoreError>;

    /// Records that `invoice` took `amount` of a grant.
    async fn use_customer_credit(
        &mut self,
        org: &OrgId,
        credit: &CustomerCreditId,
        invoice: &str,
        amount: Cents,
    ) -> Result<(), StoreError>;

    /// Gives back to each grant what `invoice` took of it (a voided invoice).
    async fn reverse_customer_credit_uses(
        &mut self,
        org: &OrgId,
        invoice: &str,
    ) -> Result<(), StoreError>;
}
