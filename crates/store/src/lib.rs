//! Tally's storage interface, split by area: one small trait per area (organizations and keys,
//! customers, catalog, subscriptions, seats, usage, invoices, webhooks, idempotency, test clock), each
//! implemented once in `tally-store-sql` for both SQLite and PostgreSQL.
//!
//! Reads go through [`Store::read`], a connection outside any write transaction. Every change
//! goes through [`write`]: a job that runs in one transaction, to completion, whether or not the
//! caller is still waiting for it, and is answered only once its commit is durable.
//!
//! The traits follow transactions, not tables, and every query is scoped by organization except
//! the few that by nature serve all of them (key lookup by secret, the renewal sweep, the
//! webhook dispatcher, the idempotency purge), which say so. The `conformance` feature carries
//! the suite every backend runs (`conformance_suite!`).

mod areas;
mod error;
mod records;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use areas::{
    Addons, Catalog, Claims, CreditPacks, CustomerCredits, Customers, Dashboard, Idempotency,
    IdempotencyScope, InvoiceSends, Invoices, Markets, Offers, Organizations, Payments,
    PayoutVerification, Payouts, PlanGrants, PlanGroups, Portal, Seats, ServerSecrets,
    SubscriptionPricing, Subscriptions, TestClock, Usage, Webhooks,
};
pub use error::StoreError;
pub use records::{
    Attempt, DeliveryLog, DueDeadline, HotStamp, IdempotencyRecord, InvoiceFilter, KeyLookup,
    KeyStanding, PlanFeatureEntry, PlanVisibility, SeatEventFilter, StampAsk, StoredResponse,
};

use async_trait::async_trait;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use tally_domain::{ApiKeyId, OrgId};

/// Whether a read inside a write transaction locks the rows it returns.
///
/// On PostgreSQL `ForUpdate` takes row locks, so concurrent writers of the same rows queue; on
/// SQLite every write transaction already holds the database's single write lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lock {
    None,
    ForUpdate,
}

/// A database connection with every area's queries: a read connection from [`Store::read`], or
/// the transaction a write job runs in.
pub trait Db:
    Organizations
    + Customers
    + CustomerCredits
    + CreditPacks
    + Catalog
    + Addons
    + PlanGroups
    + Subscriptions
    + Seats
    + Usage
    + Invoices
    + InvoiceSends
    + Markets
    + Offers
    + Payments
    + Payouts
    + Portal
    + Claims
    + Dashboard
    + PlanGrants
    + ServerSecrets
    + Webhooks
    + Idempotency
    + TestClock
    + Send
{
}

impl<T> Db for T where
    T: Organizations
        + Customers
        + CustomerCredits
        + CreditPacks
        + Catalog
        + Addons
        + PlanGroups
        + Subscriptions
        + Seats
        + Usage
        + Invoices
        + InvoiceSends
        + Markets
        + Offers
        + Payments
        + Payouts
        + Portal
        + Claims
        + Dashboard
        + PlanGrants
        + ServerSecrets
        + Webhooks
        + Idempotency
        + TestClock
        + Send
{
}

/// The transaction a write job runs in: every area, plus savepoints so that part of the job can
/// be undone (a refused command) while the rest commits (the refusal stored under its key).
#[async_trait]
pub trait Tx: Db {
    async fn savepoint(&mut self, name: &'static str) -> Result<(), StoreError>;
    async fn release_savepoint(&mut self, name: &'static str) -> Result<(), StoreError>;
    /// Undoes everything since the savepoint, which stays open.
    async fn rollback_to_savepoint(&mut self, name: &'static str) -> Result<(), StoreError>;
}

/// A boxed future that may borrow the transaction for `'t`.
pub type TxFuture<'t, T> = Pin<Box<dyn Future<Output = T> + Send + 't>>;

/// How a write job ends: keep its writes, or undo all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobEnd {
    Commit,
    Rollback,
}

/// One write transaction's work. It owns everything it needs (`'static`), so the store can run it
/// on a task of its own: a caller that goes away never leaves it half done.
pub type Job = Box<dyn for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, JobEnd> + Send>;

/// `ask`'s stamp, read on `db` in a statement of its own.
pub async fn stamp_alone(db: &mut dyn Db, ask: StampAsk) -> Result<HotStamp, StoreError> {
    let mut stamps = db.hot_stamps(&[ask]).await?;
    stamps
        .pop()
        .ok_or_else(|| StoreError::other("no stamp for the ask"))
}

/// Reads, and the way in for write jobs.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// A connection for reads outside any write transaction.
    async fn read(&self) -> Result<Box<dyn Db>, StoreError>;

    /// Runs `job` in a write transaction and returns once its writes are durable (the job asked
    /// to commit) or undone (it asked to roll back). The job runs to its end even if this
    /// future is dropped. `Err`: the transaction did not commit and none of the job's writes
    /// were kept; `Retry` means running a new job may succeed.
    async fn submit(&self, job: Job) -> Result<(), StoreError>;

    /// `submit` for a job made with the API key `key` of `org`, which reads
    /// `key_standing(org, key)` first. A store may read it together with the start of the
    /// transaction (PostgreSQL sends both in one round trip); the job's call then answers
    /// from that read. Either way the standing is read inside the job's transaction.
    async fn submit_for(&self, org: &OrgId, key: &ApiKeyId, job: Job) -> Result<(), StoreError> {
        let _ = (org, key);
        self.submit(job).await
    }

    /// The stamp for `ask` (`Usage::hot_stamps`), read by a statement sent after this call
    /// began, so it sees every write acknowledged before. A store may read concurrent asks in
    /// one statement.
    async fn hot_stamp(&self, ask: StampAsk) -> Result<HotStamp, StoreError> {
        stamp_alone(&mut *self.read().await?, ask).await
    }

    /// Whether every write to this database goes through this process (an embedded engine):
    /// then a view of it kept in memory and dropped on each write is never stale. `false` for a
    /// database other processes or nodes may write.
    fn single_writer_process(&self) -> bool {
        false
    }
}

/// Runs `work` as one write job: its writes are kept when it returns `Ok` and undone when it
/// returns `Err`. The result comes back after the commit that holds it is durable; a store
/// failure (the commit itself, a busy database) comes back as `E::from(StoreError)`.
pub async fn write<T, E, F>(store: &dyn Store, work: F) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, E>> + Send + 'static,
{
    let (job, outcome) = job_of(work);
    store.submit(job).await?;
    outcome.take()
}

/// `write` for work done with the API key `key` of `org` (see [`Store::submit_for`]); `work`
/// starts by reading `key_standing(org, key)`.
pub async fn write_for<T, E, F>(
    store: &dyn Store,
    org: &OrgId,
    key: &ApiKeyId,
    work: F,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<StoreError> + Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, E>> + Send + 'static,
{
    let (job, outcome) = job_of(work);
    store.submit_for(org, key, job).await?;
    outcome.take()
}

/// Where a job leaves its work's result for the caller that submitted it.
struct Outcome<T, E>(Arc<Mutex<Option<Result<T, E>>>>);

impl<T, E: From<StoreError>> Outcome<T, E> {
    fn take(self) -> Result<T, E> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .unwrap_or_else(|| {
                Err(StoreError::other("the write job ended without an outcome").into())
            })
    }
}

/// The job that runs `work`, committing when it returns `Ok`.
fn job_of<T, E, F>(work: F) -> (Job, Outcome<T, E>)
where
    T: Send + 'static,
    E: Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, E>> + Send + 'static,
{
    let slot: Arc<Mutex<Option<Result<T, E>>>> = Arc::new(Mutex::new(None));
    let filled = slot.clone();
    let job: Job = Box::new(move |tx| {
        Box::pin(async move {
            let outcome = work(tx).await;
            let end = if outcome.is_ok() {
                JobEnd::Commit
            } else {
                JobEnd::Rollback
            };
            *filled.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
            end
        })
    });
    (job, Outcome(slot))
}

/// Constraint names reported in `StoreError::Conflict`, shared so `app` can match them.
pub mod constraints {
    pub const CUSTOMER_EXTERNAL_ID: &str = "customers_external_id";
    pub const FEATURE_CODE: &str = "features_code";
    pub const FEATURE_NAME: &str = "features_name";
    pub const PLAN_CODE: &str = "plans_code";
    pub const ADDON_SLUG: &str = "addons_slug";
    pub const CREDIT_PACK_NAME: &str = "credit_packs_name";
    /// A promo code is unique per organization in any case.
    pub const PROMO_CODE: &str = "promo_codes_code";
    /// A country belongs to at most one market of an organization.
    pub const MARKET_COUNTRY: &str = "market_countries_pkey";
    pub const ADDON_FEATURE: &str = "addons_feature";
    pub const ACTIVE_ADDON: &str = "subscription_addons_active";
    pub const PRICE_INTERVAL: &str = "plan_prices_interval";
    pub const PLAN_FEATURE: &str = "plan_features_pkey";
    pub const LIVE_SUBSCRIPTION: &str = "subscriptions_live_customer";
    pub const USAGE_EVENT_KEY: &str = "usage_events_key";
    pub const QUOTA_EVENT_KEY: &str = "quota_event_keys_pkey";
}
