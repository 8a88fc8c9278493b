//! Rows of the webhook tables.

use super::{parse_json, text_error};
use crate::decode::sql_row;
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::webhooks::{AttemptResult, Delivery, DeliveryStatus, WebhookEndpoint};
use tally_domain::{ApiVersion, CustomerId, OrgId, Timestamp};
use tally_store::{Attempt, StoreError};

sql_row! {
    pub struct EndpointRow {
        id: String,
        org_id: String,
        url: String,
        events: String,
        description: Option<String>,
        is_active: bool,
        api_version: Option<String>,
        secret: String,
        consecutive_failures: i64,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl EndpointRow {
    pub fn into_domain(self) -> Result<WebhookEndpoint, StoreError> {
        Ok(WebhookEndpoint {
            id: self.id,
            org_id: OrgId::new(self.org_id),
            url: self.url,
            events: parse_json(Some(&self.events))?.unwrap_or_default(),
            description: self.description,
            is_active: self.is_active,
            api_version: self.api_version.as_deref().map(ApiVersion::from_pin),
            secret: self.secret,
            consecutive_failures: self.consecutive_failures,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

sql_row! {
    pub struct EventRow {
        id: String,
        org_id: String,
        event_type: String,
        customer_id: Option<String>,
        data: String,
        created_at_ms: i64,
    }
}

impl EventRow {
    pub fn into_domain(self) -> Result<WebhookEvent, StoreError> {
        Ok(WebhookEvent {
            id: WebhookEventId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            event_type: self.event_type,
            customer_id: self.customer_id.map(CustomerId::from_stored),
            data: parse_json(Some(&self.data))?.unwrap_or_default(),
            created_at: Timestamp::from_millis(self.created_at_ms),
        })
    }
}

sql_row! {
    pub struct DeliveryRow {
        id: String,
        org_id: String,
        endpoint_id: String,
        event_id: String,
        event_type: String,
        body_id: String,
        body: String,
        signature: String,
        timestamp_header: String,
        status: String,
        attempts: i64,
        next_attempt_at_ms: i64,
        created_at_ms: i64,
    }
}

impl DeliveryRow {
    pub fn into_domain(self) -> Result<Delivery, StoreError> {
        Ok(Delivery {
            status: DeliveryStatus::parse(&self.status)
                .ok_or_else(|| text_error("delivery status", &self.status))?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: self.event_type,
            body_id: self.body_id,
            body: self.body,
            signature: self.signature,
            timestamp: self.timestamp_header,
            attempts: self.attempts,
            next_attempt_at: Timestamp::from_millis(self.next_attempt_at_ms),
            created_at: Timestamp::from_millis(self.created_at_ms),
        })
    }
}

sql_row! {
    pub struct AttemptRow {
        attempt: i64,
        attempted_at_ms: i64,
        status_code: Option<i64>,
        latency_ms: i64,
        response_body: Option<String>,
        error: Option<String>,
    }
}

impl AttemptRow {
    pub fn into_domain(self) -> Attempt {
        Attempt {
            number: self.attempt,
            attempted_at: Timestamp::from_millis(self.attempted_at_ms),
            result: AttemptResult {
                status_code: self.status_code.and_then(|c| u16::try_from(c).ok()),
                latency_ms: self.latency_ms,
                response_body: self.response_body,
                error: self.error,
            },
        }
    }
}
