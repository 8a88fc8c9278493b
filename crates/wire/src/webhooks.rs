//! Webhook payloads (`webhooks.md` §2, §5.3): the delivery envelope, the endpoint objects of
//! the management API, and the `customer.state_changed` state per generation.

use crate::parts::SubscriptionParts;
use crate::usage::AccessParts;
use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::{Value, json};
use tally_domain::catalog::FeatureType;
use tally_domain::subscription::FeatureSnapshot;
use tally_domain::webhooks::{AttemptResult, Delivery, DeliveryStatus, WebhookEndpoint};
use tally_domain::{ApiVersion, Timestamp};
use utoipa::ToSchema;

/// The envelope, serialized once: these exact bytes are signed and sent on every attempt.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EnvelopeOut<'a> {
    pub id: &'a str,
    pub event: &'a str,
    pub timestamp: String,
    pub organization_id: &'a str,
    pub mode: &'a str,
    pub api_version: &'a str,
    pub data: &'a Value,
}

pub fn envelope(envelope: &EnvelopeOut<'_>) -> String {
    serde_json::to_string(envelope).expect("envelopes always serialize")
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EndpointOut<'a> {
    pub id: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub description: Option<&'a str>,
    pub is_active: bool,
    pub api_version: Option<&'static str>,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_key: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

/// An endpoint; `secret` only in the creation answer (`webhooks.md` §1).
pub fn endpoint(endpoint: &WebhookEndpoint, secret: Option<&str>, livemode: Livemode) -> Value {
    to_value(EndpointOut {
        id: &endpoint.id,
        url: &endpoint.url,
        events: &endpoint.events,
        description: endpoint.description.as_deref(),
        is_active: endpoint.is_active,
        api_version: endpoint.api_version.map(ApiVersion::as_str),
        created_at: endpoint.created_at.to_rfc3339(),
        secret_key: secret,
        object: "webhook",
        livemode: livemode.0,
    })
}

/// The answer to a test send.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TestSendOut<'a> {
    pub success: bool,
    pub delivery_id: &'a str,
    pub delivered_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

/// The answer to a test send: `object` is `webhook` in legacy, `webhook_delivery` in direct.
pub fn test_send(
    version: ApiVersion,
    success: bool,
    delivery_id: &str,
    delivered_at: Timestamp,
    livemode: Livemode,
) -> Value {
    to_value(TestSendOut {
        success,
        delivery_id,
        delivered_at: delivered_at.to_rfc3339(),
        object: object_name(version, "webhook", "webhook_delivery"),
        livemode: livemode.0,
    })
}

/// One attempt in the delivery log (a Tally extension, the same in every version).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttemptOut<'a> {
    pub attempt: i64,
    pub attempted_at: String,
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response_body: Option<&'a str>,
    pub error: Option<&'a str>,
}

impl<'a> AttemptOut<'a> {
    pub fn new(number: i64, attempted_at: Timestamp, result: &'a AttemptResult) -> Self {
        Self {
            attempt: number,
            attempted_at: attempted_at.to_rfc3339(),
            status_code: result.status_code,
            latency_ms: result.latency_ms,
            response_body: result.response_body.as_deref(),
            error: result.error.as_deref(),
        }
    }
}

/// A delivery with its attempts, oldest first.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryOut<'a> {
    pub id: &'a str,
    pub webhook_id: &'a str,
    pub event_id: &'a str,
    pub event: &'a str,
    pub status: &'static str,
    pub attempt_count: i64,
    /// Only while another attempt is due.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub attempts: Vec<AttemptOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn delivery<'a>(
    delivery: &'a Delivery,
    attempts: impl Iterator<Item = AttemptOut<'a>>,
    livemode: Livemode,
) -> Value {
    to_value(DeliveryOut {
        id: &delivery.id,
        webhook_id: &delivery.endpoint_id,
        event_id: &delivery.event_id,
        event: &delivery.event_type,
        status: delivery.status.as_str(),
        attempt_count: delivery.attempts,
        next_attempt_at: (delivery.status == DeliveryStatus::Pending)
            .then(|| delivery.next_attempt_at.to_rfc3339()),
        created_at: delivery.created_at.to_rfc3339(),
        attempts: attempts.collect(),
        object: "webhook_delivery",
        livemode: livemode.0,
    })
}

/// What `customer.state_changed` describes: the customer, why, and the live subscription.
pub struct StateParts<'a> {
    pub customer_id: &'a str,
    pub trigger: &'a str,
    pub subscription: Option<SubscriptionParts<'a>>,
    /// The subscription's enabled features as feature access shows them, by code.
    pub features: Vec<AccessParts<'a>>,
}

/// `customer.state_changed` data, computed when the event is fanned out (`webhooks.md` §5.3).
pub fn customer_state(version: ApiVersion, state: &StateParts<'_>) -> Value {
    let Some(parts) = &state.subscription else {
        return json!({
            "customerId": state.customer_id, "trigger": state.trigger, "status": "none",
            "subscriptionId": null, "plan": null, "billingInterval": null, "consumptionModel": null,
            "features": [], "seats": [], "credits": null, "balance": null,
        });
    };
    let s = parts.subscription;
    let enabled: Vec<&FeatureSnapshot> = parts.features.iter().filter(|f| f.enabled).collect();
    let current = |f: &FeatureSnapshot| parts.seats.get(&f.code).copied().unwrap_or(0);
    let features: Vec<Value> = state
        .features
        .iter()
        .map(|access| crate::usage::state_feature(version.generation(), access, parts.now))
        .collect();
    let seats: Vec<Value> = enabled
        .iter()
        .filter(|f| f.feature_type == FeatureType::Seats)
        .map(|f| {
            json!({"code": f.code, "current": current(f), "included": f.included_amount,
                   "remaining": remaining(f, current(f)), "unlimited": f.unlimited})
        })
        .collect();
    json!({
        "customerId": state.customer_id,
        "trigger": state.trigger,
        "status": s.status.as_str(),
        "subscriptionId": s.id.as_str(),
        "plan": {"id": parts.plan.id.as_str(), "name": parts.plan.name},
        "billingInterval": s.billing_interval.map(|i| i.as_str()),
        "consumptionModel": parts.plan.consumption().as_str(),
        "features": features,
        "seats": seats,
        "credits": s.credits.map(|c| json!({"planCredits": c.included, "purchasedCredits": c.purchased, "totalCredits": c.remaining})),
        "balance": s.balance.map(|b| json!({"currentBalance": b.remaining.0})),
    })
}

fn remaining(f: &FeatureSnapshot, current: i64) -> Option<i64> {
    (!f.unlimited).then(|| (f.included_amount - current).max(0))
}
