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
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::catalog::{Feature, FeatureId, Plan, PlanFeature, PlanId, PlanPrice, PriceId};
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent};
use tally_domain::subscription::{
    FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::test_clock::TestClockRun;
use tally_domain::webhooks::{AttemptResult, Delivery, WebhookEndpoint};
use tally_domain::{ApiKeyId, Customer, CustomerId, Mode, OrgId, Organization, Timestamp};

/// A plan feature with the feature it attaches.
pub type PlanFeatureEntry = (PlanFeature, Feature);

/// Which seat events a history read returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatEventFilter {
    pub feature_code: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One delivery with the log of its attempts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLog {
    pub delivery: Delivery,
    pub attempts: Vec<Attempt>,
}

/// One attempt of a delivery as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub number: i64,
    pub attempted_at: Timestamp,
    pub result: AttemptResult,
}

/// Which invoices a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    pub customer: Option<CustomerId>,
    pub subscription: Option<SubscriptionId>,
    pub status: Option<InvoiceStatus>,
}

/// A deadline found by the renewal sweep: whose, which subscription, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDeadline {
    pub org_id: OrgId,
    pub subscription_id: SubscriptionId,
    pub due_at: Timestamp,
}

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

    /// Every feature of `org`, oldest first.
    async fn features(&self, org: &OrgId) -> Result<Vec<Feature>, StoreError>;

    async fn feature_by_code(&self, org: &OrgId, code: &str)
    -> Result<Option<Feature>, StoreError>;

    /// Non-deleted plans of `org`, oldest first; private ones only when asked.
    async fn plans(&self, org: &OrgId, include_private: bool) -> Result<Vec<Plan>, StoreError>;

    /// A non-deleted plan by id.
    async fn plan(&self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError>;

    /// A non-deleted plan by code.
    async fn plan_by_code(&self, org: &OrgId, code: &str) -> Result<Option<Plan>, StoreError>;

    /// The active (not archived) prices of a plan, oldest first.
    async fn plan_prices(&self, org: &OrgId, plan: &PlanId) -> Result<Vec<PlanPrice>, StoreError>;

    /// A price by id, archived or not (subscriptions keep using archived prices).
    async fn price(&self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError>;

    /// The features attached to a plan, in the order they were attached.
    async fn plan_features(
        &self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError>;

    async fn subscription(
        &self,
        org: &OrgId,
        id: &SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError>;

    /// The customer's live (not canceled) subscription, if any.
    async fn live_subscription(
        &self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<Subscription>, StoreError>;

    async fn subscriptions(
        &self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        status: Option<SubscriptionStatus>,
        page: &PageRequest,
    ) -> Result<Page<Subscription>, StoreError>;

    /// The subscription's feature snapshot, in plan order.
    async fn subscription_features(
        &self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError>;

    /// Seat balances of a subscription, by feature code.
    async fn seat_balances(
        &self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError>;

    /// A customer's seat events, newest first, optionally of one feature and within
    /// `[from, to)`.
    async fn seat_events(
        &self,
        org: &OrgId,
        customer: &CustomerId,
        filter: &SeatEventFilter,
        page: &PageRequest,
    ) -> Result<Page<SeatEvent>, StoreError>;

    async fn latest_test_clock_run(&self, org: &OrgId) -> Result<Option<TestClockRun>, StoreError>;

    /// A plan by id, deleted or not (subscriptions keep showing their plan).
    async fn plan_any(&self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError>;

    /// Non-deleted webhook endpoints of `org`, newest first.
    async fn webhook_endpoints(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError>;

    async fn webhook_endpoint(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// An endpoint's deliveries with their attempts, newest first.
    async fn delivery_logs(
        &self,
        org: &OrgId,
        endpoint: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryLog>, StoreError>;

    /// Invoices of `org`, newest first, without their lines.
    async fn invoices(
        &self,
        org: &OrgId,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError>;

    /// One invoice with its lines.
    async fn invoice(&self, org: &OrgId, id: &str) -> Result<Option<Invoice>, StoreError>;

    /// Deadlines due at or before `until`, earliest first: of `org` only, or (with `None`) of
    /// every organization that runs on real time (no active test clock).
    async fn due_deadlines(
        &self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError>;
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

    /// Reads a customer without locking it, for writes that only describe it (names in
    /// events and runs); taking no lock keeps the lock order customer → subscription one-way.
    async fn customer(
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

    /// Locks the organization row: test-clock moves and processing are serialized per org.
    async fn lock_organization(&mut self, org: &OrgId) -> Result<Option<Organization>, StoreError>;

    async fn set_test_clock(&mut self, org: &OrgId, at: Timestamp) -> Result<(), StoreError>;

    async fn insert_test_clock_run(
        &mut self,
        org: &OrgId,
        run: &TestClockRun,
    ) -> Result<(), StoreError>;

    /// Every feature of `org` (for resolving codes inside a write).
    async fn features(&mut self, org: &OrgId) -> Result<Vec<Feature>, StoreError>;

    async fn lock_feature_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
    ) -> Result<Option<Feature>, StoreError>;

    /// Inserts a feature; a taken code or name is `Conflict` on `features_code` / `features_name`.
    async fn insert_feature(&mut self, feature: &Feature) -> Result<(), StoreError>;

    async fn update_feature(&mut self, feature: &Feature) -> Result<(), StoreError>;

    async fn delete_feature(&mut self, org: &OrgId, id: &FeatureId) -> Result<(), StoreError>;

    /// Whether any non-deleted plan attaches the feature.
    async fn feature_is_attached(
        &mut self,
        org: &OrgId,
        id: &FeatureId,
    ) -> Result<bool, StoreError>;

    /// Inserts a plan; a taken code is `Conflict` on `plans_code`.
    async fn insert_plan(&mut self, plan: &Plan) -> Result<(), StoreError>;

    async fn update_plan(&mut self, plan: &Plan) -> Result<(), StoreError>;

    async fn delete_plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Locks a non-deleted plan by id.
    async fn lock_plan(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError>;

    /// Locks a non-deleted plan by code.
    async fn lock_plan_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
    ) -> Result<Option<Plan>, StoreError>;

    /// The active prices of a plan, oldest first.
    async fn plan_prices(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanPrice>, StoreError>;

    /// Inserts a price; an active price for the same interval is `Conflict` on
    /// `plan_prices_interval`.
    async fn insert_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError>;

    async fn update_price(&mut self, price: &PlanPrice) -> Result<(), StoreError>;

    async fn archive_price(&mut self, id: &PriceId, now: Timestamp) -> Result<(), StoreError>;

    async fn plan_features(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError>;

    /// Inserts a plan feature; an attached feature is `Conflict` on `plan_features_pkey`.
    async fn insert_plan_feature(
        &mut self,
        org: &OrgId,
        plan_feature: &PlanFeature,
    ) -> Result<(), StoreError>;

    async fn update_plan_feature(&mut self, plan_feature: &PlanFeature) -> Result<(), StoreError>;

    async fn delete_plan_feature(
        &mut self,
        plan: &PlanId,
        feature: &FeatureId,
    ) -> Result<(), StoreError>;

    async fn lock_subscription(
        &mut self,
        org: &OrgId,
        id: &SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError>;

    async fn lock_live_subscription(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Live subscriptions on a plan (for catalog changes that apply at once).
    async fn live_subscriptions_of_plan(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<SubscriptionId>, StoreError>;

    /// Inserts a subscription with its next deadline; a second live one for the customer is
    /// `Conflict` on `subscriptions_live_customer`.
    async fn insert_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    async fn update_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    async fn subscription_features(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError>;

    async fn replace_subscription_features(
        &mut self,
        subscription: &SubscriptionId,
        features: &[FeatureSnapshot],
    ) -> Result<(), StoreError>;

    async fn seat_balances(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError>;

    /// Inserts or replaces one balance.
    async fn save_seat_balance(
        &mut self,
        org: &OrgId,
        balance: &SeatBalance,
    ) -> Result<(), StoreError>;

    async fn append_seat_event(&mut self, event: &SeatEvent) -> Result<(), StoreError>;

    /// Records webhook events in the outbox, in order.
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError>;

    /// A plan by id, deleted or not.
    async fn plan_any(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError>;

    /// A price by id, archived or not.
    async fn price(&mut self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError>;

    async fn insert_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
    ) -> Result<(), StoreError>;

    /// Saves every field of the endpoint (`deleted` soft-deletes it).
    async fn update_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
        deleted: bool,
    ) -> Result<(), StoreError>;

    /// Locks a non-deleted endpoint of `org`.
    async fn lock_webhook_endpoint(
        &mut self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// Non-deleted endpoints of `org`, active or not.
    async fn org_webhook_endpoints(
        &mut self,
        org: &OrgId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Takes up to `limit` events not yet fanned out, oldest first; concurrent dispatchers skip
    /// each other's (SKIP LOCKED on PostgreSQL).
    async fn claim_pending_events(&mut self, limit: u32) -> Result<Vec<WebhookEvent>, StoreError>;

    async fn mark_event_fanned_out(
        &mut self,
        event: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Inserts a delivery; one that exists for the same event and endpoint is left as it is.
    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Takes up to `limit` pending deliveries due at `now`, oldest first, skipping ones another
    /// dispatcher holds.
    async fn claim_due_deliveries(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    async fn lock_delivery(&mut self, id: &str) -> Result<Option<Delivery>, StoreError>;

    async fn update_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;

    async fn record_attempt(&mut self, delivery: &str, attempt: &Attempt)
    -> Result<(), StoreError>;

    /// The organization's next invoice number (1, 2, …), taken in this transaction.
    async fn next_invoice_number(&mut self, org: &OrgId) -> Result<i64, StoreError>;

    /// Inserts an invoice with its lines.
    async fn insert_invoice(&mut self, invoice: &Invoice) -> Result<(), StoreError>;

    /// Locks an invoice (with its lines) for a status change.
    async fn lock_invoice(&mut self, org: &OrgId, id: &str) -> Result<Option<Invoice>, StoreError>;

    /// Changes only the status: amounts and lines are immutable once issued.
    async fn update_invoice_status(
        &mut self,
        org: &OrgId,
        id: &str,
        status: InvoiceStatus,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    async fn insert_seat_true_up(
        &mut self,
        org: &OrgId,
        true_up: &SeatTrueUp,
    ) -> Result<(), StoreError>;

    /// True-ups of a subscription not billed yet, oldest first.
    async fn pending_true_ups(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatTrueUp>, StoreError>;

    /// Marks the subscription's pending true-ups as billed on `invoice`.
    async fn mark_true_ups_invoiced(
        &mut self,
        subscription: &SubscriptionId,
        invoice: &str,
    ) -> Result<(), StoreError>;

    /// `Store::due_deadlines` inside the transaction, seeing its own changes.
    async fn due_deadlines(
        &mut self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError>;

    async fn commit(self: Box<Self>) -> Result<(), StoreError>;
}

/// Constraint names backends report in `StoreError::Conflict`, shared so `app` can match them.
pub mod constraints {
    pub const IDEMPOTENCY_KEY: &str = "idempotency_keys_pkey";
    pub const CUSTOMER_EXTERNAL_ID: &str = "customers_external_id";
    pub const FEATURE_CODE: &str = "features_code";
    pub const FEATURE_NAME: &str = "features_name";
    pub const PLAN_CODE: &str = "plans_code";
    pub const PRICE_INTERVAL: &str = "plan_prices_interval";
    pub const PLAN_FEATURE: &str = "plan_features_pkey";
    pub const LIVE_SUBSCRIPTION: &str = "subscriptions_live_customer";
}
