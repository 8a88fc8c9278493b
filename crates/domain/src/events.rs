//! Webhook events as the write paths record them (the outbox): what happened, to which
//! customer, with its version-independent `data` (`webhooks.md` §5: payloads are identical in
//! every version except `customer.state_changed`, whose state is computed at delivery).

use crate::{CustomerId, OrgId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEventId(String);

impl WebhookEventId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("whev_{ulid}"))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub id: WebhookEventId,
    pub org_id: OrgId,
    /// `seats.updated`, `customer.state_changed`…
    pub event_type: String,
    pub customer_id: Option<CustomerId>,
    pub data: serde_json::Value,
    /// The org clock at the change: the envelope's `timestamp`.
    pub created_at: Timestamp,
}
