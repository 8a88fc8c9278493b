//! Plan grants (`commerce.md` §6).

use crate::{Livemode, to_value};
use serde::Serialize;
use serde_json::{Value, json};
use tally_domain::Timestamp;
use tally_domain::plan_grants::PlanGrant;
use utoipa::ToSchema;

fn time(at: Option<Timestamp>) -> Option<String> {
    at.map(Timestamp::to_rfc3339)
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanGrantOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub subscription_id: &'a str,
    pub base_plan_id: &'a str,
    pub plan_id: &'a str,
    pub plan_release_id: &'a str,
    pub status: &'static str,
    pub duration: &'a str,
    pub duration_cycles: Option<i64>,
    pub starts_at: String,
    pub expires_at: Option<String>,
    pub reason: &'a str,
    pub source: &'static str,
    pub revoked_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[schema(value_type = Vec<Object>)]
    pub events: Vec<Value>,
    pub object: &'static str,
    pub livemode: bool,
}

/// A grant as of `now` (a grant past its expiry reads as expired).
pub fn plan_grant(grant: &PlanGrant, now: Timestamp, livemode: Livemode) -> Value {
    to_value(PlanGrantOut {
        id: &grant.id,
        customer_id: grant.customer_id.as_str(),
        subscription_id: &grant.subscription_id,
        base_plan_id: &grant.base_plan_id,
        plan_id: &grant.plan_id,
        plan_release_id: &grant.plan_release_id,
        status: grant.status_at(now).as_str(),
        duration: &grant.duration,
        duration_cycles: grant.duration_cycles,
        starts_at: grant.starts_at.to_rfc3339(),
        expires_at: time(grant.expires_at),
        reason: &grant.reason,
        source: "api",
        revoked_at: time(grant.revoked_at),
        created_at: grant.created_at.to_rfc3339(),
        updated_at: grant.updated_at.to_rfc3339(),
        events: grant
            .events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "type": e.event_type, "reason": e.reason, "source": e.source,
                    "previousExpiresAt": time(e.previous_expires_at), "expiresAt": time(e.expires_at),
                    "duration": e.duration, "durationCycles": e.duration_cycles,
                    "requestedExpiresAt": time(e.requested_expires_at), "createdAt": e.created_at.to_rfc3339(),
                })
            })
            .collect(),
        object: "plan_grant",
        livemode: livemode.0,
    })
}
