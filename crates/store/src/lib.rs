//! Tally's storage interface: one `Store` for reads and transactions, one `Tx` for writes.
//!
//! The traits follow transactions, not tables. Backends translate between these calls and SQL;
//! they make no business decisions. The `conformance` feature carries the suite that both
//! backends run (`conformance_suite!`).

mod error;
mod records;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use error::StoreError;
pub use records::{IdempotencyRecord, KeyLookup, StoredResponse};

use async_trait::async_trait;
use tally_domain::api_key::ApiKey;
use tally_domain::page::{Page, PageRequest};
use tally_domain::{ApiKeyId, Customer, CustomerId, Mode, OrgId, Organization, Timestamp};

/// Reads, and the way into a write transaction.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Starts a write transaction. Writers to the same rows queue behind each other: PostgreSQL
    /// takes row locks, SQLite has a single writer.
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError>;

    /// Finds a non-revoked key by the SHA-256 hex of its secret, with its organization.
    async fn key_by_secret_hash(&self, secret_hash: &str) -> Result<Option<KeyLookup>, StoreError>;

    /// Notes that a key was used; skips the write when the stored time is newer than
    /// `unless_after`, so a busy key costs one write a minute rather than one a request.
    async fn touch_api_key(
        &self,
        key: &ApiKeyId,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError>;

    async fn organization_count(&self) -> Result<u64, StoreError>;

    async fn organization(&self, org: &OrgId) -> Result<Option<Organization>, StoreError>;

    /// The first organization created with `mode` (the one the command line manages).
    async fn oldest_organization(&self, mode: Mode) -> Result<Option<Organization>, StoreError>;

    async fn api_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<ApiKey>, StoreError>;

    async fn customer(&self, org: &OrgId, id: &CustomerId) -> Result<Option<Customer>, StoreError>;

    async fn customer_by_external_id(
        &self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError>;

    async fn customers(
        &self,
        org: &OrgId,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError>;

    /// Deletes idempotency records that expired before `now`; returns how many.
    async fn purge_idempotency(&self, now: Timestamp) -> Result<u64, StoreError>;
}

/// One write transaction. Dropping it without `commit` rolls everything back.
#[async_trait]
pub trait Tx: Send {
    /// The record for `key`, expired or not; the caller decides what expiry means.
    async fn idempotency_record(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Claims `key` for this transaction. A concurrent claim of the same key waits for this
    /// transaction to end and then fails with `Conflict` if it committed.
    async fn claim_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Stores the final response on a claimed key.
    async fn complete_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError>;

    async fn delete_idempotency(&mut self, org: &OrgId, key: &str) -> Result<(), StoreError>;

    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError>;

    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError>;

    /// Revokes a live key of `org`; returns false when there was none.
    async fn revoke_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn api_key(&mut self, org: &OrgId, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError>;

    /// Reads a customer for update (row-locked on PostgreSQL).
    async fn lock_customer(
        &mut self,
        org: &OrgId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError>;

    async fn lock_customer_by_external_id(
        &mut self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError>;

    /// Inserts a customer; a taken externalId is `Conflict { constraint: "customers_external_id" }`.
    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;

    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Constraint names backends report in `StoreError::Conflict`, shared so `app` can match them.
pub mod constraints {
    pub const IDEMPOTENCY_KEY: &str = "idempotency_keys_pkey";
    pub const CUSTOMER_EXTERNAL_ID: &str = "customers_external_id";
}
