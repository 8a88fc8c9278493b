//! Building the webhook events the write paths record (`webhooks.md` §5): each event's
//! version-independent `data`, and the `customer.state_changed` that follows a transition.
//! The events go into the outbox in the same transaction as the change they describe.

use crate::IdSource;
use serde_json::{Value, json};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::subscription::Subscription;
use tally_domain::{Customer, CustomerId, OrgId, Timestamp};

/// Collects a transition's events in order.
pub struct Outbox<'a> {
    ids: &'a dyn IdSource,
    org: OrgId,
    customer: CustomerId,
    /// `customerId` inside `data`: the external id when set (`webhooks.md` §5).
    customer_ref: String,
    at: Timestamp,
    events: Vec<WebhookEvent>,
}

impl<'a> Outbox<'a> {
    pub fn new(ids: &'a dyn IdSource, customer: &Customer, at: Timestamp) -> Self {
        Self {
            ids,
            org: customer.org_id.clone(),
            customer: customer.id.clone(),
            customer_ref: customer
                .external_id
                .clone()
                .unwrap_or_else(|| customer.id.as_str().to_owned()),
            at,
            events: Vec::new(),
        }
    }

    pub fn customer_ref(&self) -> &str {
        &self.customer_ref
    }

    pub fn push(&mut self, event_type: &str, data: Value) {
        self.events.push(WebhookEvent {
            id: WebhookEventId::from_ulid(self.ids.ulid()),
            org_id: self.org.clone(),
            event_type: event_type.to_owned(),
            customer_id: Some(self.customer.clone()),
            data,
            created_at: self.at,
        });
    }

    /// `customer.state_changed`; the state itself is computed at fan-out (`webhooks.md` §5.3).
    pub fn state_changed(&mut self, trigger: &str) {
        let data = json!({ "customerId": self.customer_ref, "trigger": trigger });
        self.push("customer.state_changed", data);
    }

    pub fn into_events(self) -> Vec<WebhookEvent> {
        self.events
    }
}

/// `customer.created` / `customer.updated` data: the customer object without `object`.
pub fn customer_data(customer: &Customer) -> Value {
    json!({
        "id": customer.id.as_str(),
        "externalId": customer.external_id,
        "fullName": customer.full_name,
        "email": customer.email,
        "taxDocument": customer.tax_document,
        "documentType": null,
        "timezone": customer.timezone,
        "metadata": customer.metadata,
        "createdAt": customer.created_at.to_rfc3339(),
        "updatedAt": customer.updated_at.to_rfc3339(),
    })
}

/// The cancellation fields `subscription.updated`, `.cancellation_scheduled` and `.canceled`
/// share.
pub fn cancellation_data(customer_ref: &str, subscription: &Subscription) -> Value {
    let cancellation = subscription.cancellation.as_ref();
    json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": customer_ref,
        "status": subscription.status.as_str(),
        "canceledAt": subscription.canceled_at.or(cancellation.map(|c| c.scheduled_at)).map(Timestamp::to_rfc3339),
        "cancelReason": cancellation.and_then(|c| c.reason.clone()),
        "endDate": subscription.end_date().map(Timestamp::to_rfc3339),
    })
}

/// `trial.started` / `trial.expired` data.
pub fn trial_data(customer_ref: &str, subscription: &Subscription, plan_name: &str) -> Value {
    json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": customer_ref,
        "status": subscription.status.as_str(),
        "planId": subscription.plan_id.as_str(),
        "planName": plan_name,
        "trialEndsAt": subscription.trial_ends_at.map(Timestamp::to_rfc3339),
    })
}
