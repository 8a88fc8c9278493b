//! Customers.

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::page::{Page, PageRequest};
use tally_domain::{Customer, CustomerId, OrgId};

#[async_trait]
pub trait Customers {
    async fn customer(
        &mut self,
        org: &OrgId,
        id: &CustomerId,
        lock: Lock,
    ) -> Result<Option<Customer>, StoreError>;

    async fn customer_by_external_id(
        &mut self,
        org: &OrgId,
        external_id: &str,
        lock: Lock,
    ) -> Result<Option<Customer>, StoreError>;

    /// The newest customer with `email`, in any case.
    async fn newest_customer_by_email(
        &mut self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<Customer>, StoreError>;

    /// Customers of `org`, newest first, optionally the one with `external_id`.
    async fn customers(
        &mut self,
        org: &OrgId,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError>;

    /// The customers of `org` whose id, externalId or e-mail is exactly `text`, newest first,
    /// at most `limit` (the dashboard's search; each match is an index lookup).
    async fn search_customers(
        &mut self,
        org: &OrgId,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Customer>, StoreError>;

    /// Inserts a customer; a taken externalId is `Conflict { constraint: "customers_external_id" }`.
    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;

    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;
}
