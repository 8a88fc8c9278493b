//! The webhook outbox, endpoints, the rendered event bodies, deliveries and their attempts.

use crate::{Attempt, DeliveryLog, Lock, StoreError};
use async_trait::async_trait;
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::webhooks::{Delivery, EventBody, WebhookEndpoint};
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Webhooks {
    /// Records webhook events in the outbox, in order.
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError>;

    /// Takes up to `limit` events of any organization not yet fanned out, oldest first;
    /// concurrent dispatchers skip each other's (SKIP LOCKED on PostgreSQL).
    async fn claim_pending_events(&mut self, limit: u32) -> Result<Vec<WebhookEvent>, StoreError>;

    async fn mark_event_fanned_out(
        &mut self,
        org: &OrgId,
        event: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    async fn insert_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
    ) -> Result<(), StoreError>;

    /// Saves every field of the endpoint (`deleted` soft-deletes it).
    /// `NotFound` when the organization has no such row.
    async fn update_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
        deleted: bool,
    ) -> Result<(), StoreError>;

    /// A non-deleted endpoint of `org`.
    async fn webhook_endpoint(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// Non-deleted webhook endpoints of `org`, newest first.
    async fn webhook_endpoints(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError>;

    /// How many non-deleted endpoints `org` has, active or not.
    async fn count_webhook_endpoints(&mut self, org: &OrgId) -> Result<u64, StoreError>;

    /// Every non-deleted endpoint of `org`, active or not (for fan-out).
    async fn all_webhook_endpoints(
        &mut self,
        org: &OrgId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError>;

    /// Stores an event's rendered body, once for all the deliveries that send it.
    async fn insert_event_body(&mut self, body: &EventBody) -> Result<(), StoreError>;

    /// Inserts a delivery of the body its `body_id` names, which must be a stored body of the
    /// same organization and event (`NotFound` otherwise); the delivery's own `body` is not
    /// written, and reads give back the stored one. A delivery that exists for the same event
    /// and endpoint is left as it is.
    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;

    /// Takes up to `limit` pending deliveries of any organization due at `now`, oldest first,
    /// skipping ones another dispatcher holds.
    async fn claim_due_deliveries(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError>;

    /// How many deliveries of every organization are pending, due or not: the dispatcher's
    /// queue depth, for metrics. Serves all organizations by nature, like the claims.
    async fn count_pending_deliveries(&mut self) -> Result<u64, StoreError>;

    async fn delivery(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Delivery>, StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError>;

    async fn record_attempt(
        &mut self,
        org: &OrgId,
        delivery: &str,
        attempt: &Attempt,
    ) -> Result<(), StoreError>;

    /// An endpoint's deliveries with their attempts, newest first.
    async fn delivery_logs(
        &mut self,
        org: &OrgId,
        endpoint: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryLog>, StoreError>;
}
