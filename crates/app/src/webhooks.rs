//! Webhooks (`webhooks.md`): endpoint management, the fan-out of outbox events into signed
//! deliveries, and the bookkeeping of each delivery attempt. Sending is the transport's job
//! (HTTP lives in the workers crate); this module decides what is sent, to whom, and what
//! happens after.

use crate::hosted_tokens::PageSigner;
use crate::subscriptions::SubscriptionDetail;
use crate::{App, AppError, Caller, Command, WriteCtx};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::collections::BTreeMap;
use std::collections::btree_map::Entry;
use tally_domain::page::{Page, PageRequest};
use tally_domain::webhook_targets::check_target;
use tally_domain::webhooks::{
    AttemptResult, CONSECUTIVE_FAILURES_MAX, Delivery, DeliveryStatus, EventBody,
    SECRET_RANDOM_CHARS, TEST_EVENT, WebhookEndpoint, check_endpoint_count, check_events,
    check_url,
};
use tally_domain::{ApiVersion, DomainError, Mode, OrgId, Organization, Timestamp};
use tally_store::{Attempt, Db, DeliveryLog, Lock, Tx};
use tally_wire::webhooks::{EnvelopeOut, StateParts};

/// Events taken per fan-out round.
pub const FAN_OUT_BATCH: u32 = 100;
/// How long a claimed delivery stays reserved for the dispatcher that took it, unless the
/// server sets it from its send timeout; past this, a crashed dispatcher's deliveries are taken
/// again (at-least-once).
pub const DELIVERY_LEASE_MS_DEFAULT: i64 = 30_000;

/// Sends one signed webhook request and reports what happened. Injected (the workers crate has
/// the HTTP one), like the clock.
#[async_trait]
pub trait WebhookTransport: Send + Sync + 'static {
    async fn send(&self, url: &str, delivery: &Delivery) -> AttemptResult;
}

/// Lowercase hex HMAC-SHA256 of the exact body, keyed with the whole secret string
/// (`webhooks.md` §4: no base64 decoding, no prefix, no timestamp).
pub fn signature(secret: &str, body: &str) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// A new endpoint, validated.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    /// `false` creates the endpoint switched off: it receives nothing until it is enabled.
    pub is_active: bool,
    pub api_version: Option<ApiVersion>,
}

/// The endpoint with its secret, shown once. `secret` is `None` in the answer an idempotency
/// key keeps for replays (`Command::without_secrets`).
#[derive(Debug, Clone)]
pub struct CreatedEndpoint {
    pub endpoint: WebhookEndpoint,
    pub secret: Option<String>,
}

pub struct CreateEndpoint(pub NewEndpoint);

#[async_trait]
impl Command for CreateEndpoint {
    type Output = CreatedEndpoint;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CreatedEndpoint, AppError> {
        // The organization's row lock makes concurrent creations count one after the other.
        ctx.tx
            .organization(ctx.caller.org(), Lock::ForUpdate)
            .await?
            .ok_or(AppError::Unauthorized)?;
        check_endpoint_count(ctx.tx.count_webhook_endpoints(ctx.caller.org()).await?)?;
        let secret = format!("whsec_{}", ctx.ids.base62(SECRET_RANDOM_CHARS));
        let endpoint = WebhookEndpoint {
            id: format!("whe_{}", ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            url: self.0.url.clone(),
            events: self.0.events.clone(),
            description: self.0.description.clone(),
            is_active: self.0.is_active,
            api_version: self.0.api_version,
            secret: secret.clone(),
            consecutive_failures: 0,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_webhook_endpoint(&endpoint).await?;
        Ok(CreatedEndpoint {
            endpoint,
            secret: Some(secret),
        })
    }

    fn without_secrets(created: &CreatedEndpoint) -> Option<CreatedEndpoint> {
        Some(CreatedEndpoint {
            endpoint: created.endpoint.clone(),
            secret: None,
        })
    }
}

/// Endpoint fields an update may change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct EndpointPatch {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    pub description: Option<Option<String>>,
    pub is_active: Option<bool>,
    pub api_version: Option<Option<ApiVersion>>,
}

pub struct UpdateEndpoint {
    pub id: String,
    pub patch: EndpointPatch,
}

#[async_trait]
impl Command for UpdateEndpoint {
    type Output = WebhookEndpoint;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<WebhookEndpoint, AppError> {
        let mut endpoint = lock_endpoint(ctx.tx, ctx.caller.org(), &self.id).await?;
        let patch = &self.patch;
        if let Some(url) = &patch.url {
            endpoint.url.clone_from(url);
        }
        if let Some(events) = &patch.events {
            endpoint.events.clone_from(events);
        }
        if let Some(description) = &patch.description {
            endpoint.description.clone_from(description);
        }
        if let Some(is_active) = patch.is_active {
            // Re-enabling starts the failure count afresh.
            if is_active && !endpoint.is_active {
                endpoint.consecutive_failures = 0;
            }
            endpoint.is_active = is_active;
        }
        if let Some(version) = patch.api_version {
            endpoint.api_version = version;
        }
        endpoint.updated_at = ctx.now;
        ctx.tx.update_webhook_endpoint(&endpoint, false).await?;
        Ok(endpoint)
    }
}

pub struct DeleteEndpoint(pub String);

#[async_trait]
impl Command for DeleteEndpoint {
    type Output = String;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<String, AppError> {
        let mut endpoint = lock_endpoint(ctx.tx, ctx.caller.org(), &self.0).await?;
        endpoint.updated_at = ctx.now;
        endpoint.is_active = false;
        ctx.tx.update_webhook_endpoint(&endpoint, true).await?;
        Ok(endpoint.id)
    }
}

/// A non-deleted endpoint of `org`, read without a lock.
async fn find_endpoint(
    db: &mut dyn Db,
    org: &OrgId,
    id: &str,
) -> Result<WebhookEndpoint, AppError> {
    db.webhook_endpoint(org, id, Lock::None)
        .await?
        .ok_or(AppError::NotFound(crate::NotFound::Webhook))
}

async fn lock_endpoint(
    tx: &mut dyn Tx,
    org: &OrgId,
    id: &str,
) -> Result<WebhookEndpoint, AppError> {
    tx.webhook_endpoint(org, id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound(crate::NotFound::Webhook))
}

/// What a test send reports (`webhooks.md` §1).
#[derive(Debug, Clone)]
pub struct TestSend {
    pub success: bool,
    pub delivery_id: String,
    pub delivered_at: Timestamp,
}

/// Sends a delivery again, now (`dashboard.md` §3): the dispatcher's next pass makes the
/// attempt, signed as before (the signature covers the body alone).
pub struct ResendDelivery {
    pub id: String,
}

#[async_trait]
impl Command for ResendDelivery {
    type Output = Delivery;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Delivery, AppError> {
        let current = ctx
            .tx
            .delivery(ctx.caller.org(), &self.id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(crate::NotFound::Webhook))?;
        // Real time: deliveries are sent and retried on it (`webhooks.md` §6).
        let next = current.resent(ctx.real_now);
        ctx.tx.update_delivery(&next).await?;
        Ok(next)
    }
}

impl App {
    /// Checks an endpoint URL for this caller: shape (`check_url`), not this server itself, and
    /// no address deliveries may not reach written in it (`check_target`; names are checked
    /// when a delivery resolves them).
    pub fn check_endpoint_url(&self, caller: &Caller, url: &str) -> Result<(), AppError> {
        check_url(url, caller.organization.mode)?;
        if self.is_own_api(url) {
            return Err(
                DomainError::field("url", "url points at this Tally server's own API").into(),
            );
        }
        check_target(url, &self.webhook_networks)?;
        Ok(())
    }

    pub fn check_endpoint_events(&self, events: &[String]) -> Result<(), AppError> {
        Ok(check_events(events)?)
    }

    pub async fn webhook_endpoints(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, AppError> {
        Ok(self
            .reader(caller)
            .await?
            .0
            .webhook_endpoints(caller.org(), page)
            .await?)
    }

    pub async fn webhook_endpoint(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<WebhookEndpoint, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        find_endpoint(&mut *db, caller.org(), id).await
    }

    /// A Tally extension: an endpoint's deliveries and their attempts, newest first.
    pub async fn webhook_deliveries(
        &self,
        caller: &Caller,
        id: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryLog>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let endpoint = find_endpoint(&mut *db, caller.org(), id).await?;
        Ok(db.delivery_logs(caller.org(), &endpoint.id, page).await?)
    }

    /// Sends a signed `webhook.test` once, synchronously, never retried (`webhooks.md` §1).
    pub async fn test_webhook(&self, caller: &Caller, id: &str) -> Result<TestSend, AppError> {
        let (mut db, now) = self.reader(caller).await?;
        let endpoint = find_endpoint(&mut *db, caller.org(), id).await?;
        drop(db);
        let organization = &caller.organization;
        let version = endpoint.api_version.unwrap_or(organization.api_version);
        let event_id = format!("whev_{}", self.ids.ulid());
        let data = serde_json::json!({ "webhookId": endpoint.id });
        let header = EventHeader {
            organization,
            id: &event_id,
            event_type: TEST_EVENT,
            timestamp: now,
        };
        // Sent once and never retried, so neither the body nor the delivery is stored.
        let body = header.body(version, &data, self.ids.ulid(), self.clock.now());
        let delivery = header.delivery(&endpoint, &body, self.ids.ulid(), self.clock.now());
        let result = self.send(&endpoint.url, &delivery).await;
        Ok(TestSend {
            success: result.is_success(),
            delivery_id: delivery.id,
            delivered_at: self.clock.now(),
        })
    }

    async fn send(&self, url: &str, delivery: &Delivery) -> AttemptResult {
        match &self.transport {
            Some(transport) => transport.send(url, delivery).await,
            None => AttemptResult {
                status_code: None,
                latency_ms: 0,
                response_body: None,
                error: Some("webhook delivery is not configured in this process".to_owned()),
            },
        }
    }

    /// Fans outbox events out into one delivery per subscribed endpoint, rendered in the
    /// endpoint's version (each version's body stored once) and signed with the endpoint's
    /// secret; returns how many events were fanned out.
    pub async fn fan_out_events(&self) -> Result<usize, AppError> {
        let app = self.clone();
        // Read before the job: minting the secret the first time is a write of its own.
        let signer = self.page_signer().await?;
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { app.fan_out_in(tx, &signer).await })
        })
        .await
    }

    /// `fan_out_events` inside its write job.
    async fn fan_out_in(&self, tx: &mut dyn Tx, signer: &PageSigner) -> Result<usize, AppError> {
        let real_now = self.clock.now();
        let events = tx.claim_pending_events(FAN_OUT_BATCH).await?;
        let mut organizations: BTreeMap<String, (Organization, Vec<WebhookEndpoint>)> =
            BTreeMap::new();
        for event in &events {
            if !organizations.contains_key(event.org_id.as_str()) {
                let Some(organization) = tx.organization(&event.org_id, Lock::None).await? else {
                    tx.mark_event_fanned_out(&event.org_id, event.id.as_str(), real_now)
                        .await?;
                    continue;
                };
                let endpoints = tx.all_webhook_endpoints(&event.org_id).await?;
                organizations.insert(event.org_id.as_str().to_owned(), (organization, endpoints));
            }
            let (organization, endpoints) = &organizations[event.org_id.as_str()];
            // An endpoint receives what happened after it was created, not the backlog before it.
            let receivers = endpoints
                .iter()
                .filter(|e| e.wants(&event.event_type) && e.created_at <= event.created_at);
            let header = EventHeader {
                organization,
                id: event.id.as_str(),
                event_type: &event.event_type,
                timestamp: event.created_at,
            };
            // One stored body per version, shared by every endpoint that receives that version.
            let mut bodies: BTreeMap<ApiVersion, EventBody> = BTreeMap::new();
            for endpoint in receivers {
                let version = endpoint.api_version.unwrap_or(organization.api_version);
                let body = match bodies.entry(version) {
                    Entry::Occupied(stored) => stored.into_mut(),
                    Entry::Vacant(slot) => {
                        let data = if event.event_type == "customer.state_changed" {
                            self.customer_state(tx, organization, event, version, signer)
                                .await?
                        } else {
                            event.data.clone()
                        };
                        let body = header.body(version, &data, self.ids.ulid(), real_now);
                        tx.insert_event_body(&body).await?;
                        slot.insert(body)
                    }
                };
                let delivery = header.delivery(endpoint, body, self.ids.ulid(), real_now);
                tx.insert_delivery(&delivery).await?;
            }
            tx.mark_event_fanned_out(&event.org_id, event.id.as_str(), real_now)
                .await?;
        }
        Ok(events.len())
    }

    /// The state `customer.state_changed` reports, as of the fan-out (`webhooks.md` §5.3).
    async fn customer_state(
        &self,
        tx: &mut dyn Tx,
        organization: &Organization,
        event: &tally_domain::events::WebhookEvent,
        version: ApiVersion,
        signer: &PageSigner,
    ) -> Result<serde_json::Value, AppError> {
        let customer_ref = event.data["customerId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let trigger = event.data["trigger"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let subscription = match &event.customer_id {
            Some(customer) => {
                tx.live_subscription(&organization.id, customer, Lock::ForUpdate)
                    .await?
            }
            None => None,
        };
        let now = organization.now(self.clock.now());
        let (detail, features): (Option<SubscriptionDetail>, _) = match subscription {
            Some(subscription) => {
                let customer = subscription.customer_id.as_str().to_owned();
                let detail = crate::subscriptions::detail_in(tx, subscription, now, signer).await?;
                let features =
                    crate::usage::features_as_accessed(tx, &organization.id, &customer, now)
                        .await?;
                (Some(detail), features)
            }
            None => (None, Vec::new()),
        };
        let parts = detail.as_ref().map(SubscriptionDetail::parts);
        Ok(tally_wire::webhooks::customer_state(
            version,
            &StateParts {
                customer_id: &customer_ref,
                trigger: &trigger,
                subscription: parts,
                features: features.iter().map(|f| f.wire_parts(false, None)).collect(),
            },
        ))
    }

    /// Reserves up to `limit` due deliveries for this dispatcher, for the lease, and returns
    /// them with their endpoint URLs.
    pub async fn claim_due_deliveries(
        &self,
        limit: u32,
    ) -> Result<Vec<(Delivery, String)>, AppError> {
        let now = self.clock.now();
        let lease_ms = self.delivery_lease_ms;
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                let due = tx.claim_due_deliveries(now, limit).await?;
                let mut claimed = Vec::with_capacity(due.len());
                for mut delivery in due {
                    let Some(endpoint) = tx
                        .webhook_endpoint(&delivery.org_id, &delivery.endpoint_id, Lock::ForUpdate)
                        .await?
                    else {
                        // The endpoint was deleted: the delivery ends here.
                        delivery.status = DeliveryStatus::Failed;
                        tx.update_delivery(&delivery).await?;
                        continue;
                    };
                    delivery.next_attempt_at = now.plus_millis(lease_ms);
                    tx.update_delivery(&delivery).await?;
                    claimed.push((delivery, endpoint.url));
                }
                Ok::<_, AppError>(claimed)
            })
        })
        .await
    }

    /// How many deliveries, of every organization, are waiting to be sent or retried.
    pub async fn pending_delivery_count(&self) -> Result<u64, AppError> {
        Ok(self.store.read().await?.count_pending_deliveries().await?)
    }

    /// Sends one claimed delivery and records the attempt.
    pub async fn attempt_delivery(
        &self,
        delivery: &Delivery,
        url: &str,
    ) -> Result<AttemptResult, AppError> {
        let result = if !self.is_own_api(url) {
            self.send(url, delivery).await
        } else {
            AttemptResult {
                status_code: None,
                latency_ms: 0,
                response_body: None,
                error: Some("refused: the url points at this Tally server's own API".to_owned()),
            }
        };
        self.record_attempt(delivery, &result).await?;
        Ok(result)
    }

    /// True when `url` names this server's own listening port on a local address, so that a
    /// mistyped endpoint cannot make Tally call its own API.
    fn is_own_api(&self, url: &str) -> bool {
        self.own_port
            .is_some_and(|port| tally_domain::webhook_targets::is_local_port(url, port))
    }

    async fn record_attempt(
        &self,
        sent: &Delivery,
        result: &AttemptResult,
    ) -> Result<(), AppError> {
        let now = self.clock.now();
        let (org, id, attempts) = (sent.org_id.clone(), sent.id.clone(), sent.attempts);
        let result = result.clone();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                let Some(current) = tx.delivery(&org, &id, Lock::ForUpdate).await? else {
                    return Ok(());
                };
                if current.status != DeliveryStatus::Pending || current.attempts != attempts {
                    // Another dispatcher recorded this attempt already (our lease ran out).
                    return Ok(());
                }
                let next = current.after_attempt(&result, now);
                tx.record_attempt(
                    &org,
                    &current.id,
                    &Attempt {
                        number: next.attempts,
                        attempted_at: now,
                        result: AttemptResult {
                            response_body: result
                                .response_body
                                .as_deref()
                                .map(tally_domain::webhooks::truncated),
                            ..result.clone()
                        },
                    },
                )
                .await?;
                tx.update_delivery(&next).await?;
                if next.status != DeliveryStatus::Pending
                    && let Some(mut endpoint) = tx
                        .webhook_endpoint(&current.org_id, &current.endpoint_id, Lock::ForUpdate)
                        .await?
                {
                    if next.status == DeliveryStatus::Succeeded {
                        endpoint.consecutive_failures = 0;
                    } else {
                        endpoint.consecutive_failures += 1;
                        if endpoint.consecutive_failures >= CONSECUTIVE_FAILURES_MAX {
                            endpoint.is_active = false;
                            tracing::warn!(endpoint = %endpoint.id, "webhook endpoint disabled after consecutive failed events");
                        }
                    }
                    tx.update_webhook_endpoint(&endpoint, false).await?;
                }
                Ok::<_, AppError>(())
            })
        })
        .await
    }
}

/// What every rendering of one event shares, whatever the version and the endpoint.
struct EventHeader<'a> {
    organization: &'a Organization,
    id: &'a str,
    event_type: &'a str,
    /// The envelope's `timestamp`, on the organization's clock.
    timestamp: Timestamp,
}

impl EventHeader<'_> {
    /// The event's envelope in `version` with `data` shaped for it: the bytes every delivery
    /// of the event in that version sends.
    fn body(
        &self,
        version: ApiVersion,
        data: &serde_json::Value,
        body_ulid: ulid::Ulid,
        real_now: Timestamp,
    ) -> EventBody {
        let body = tally_wire::webhooks::envelope(&EnvelopeOut {
            id: self.id,
            event: self.event_type,
            timestamp: self.timestamp.to_rfc3339(),
            organization_id: self.organization.id.as_str(),
            mode: match self.organization.mode {
                Mode::Live => "live",
                Mode::Sandbox => "sandbox",
            },
            api_version: version.as_str(),
            data,
        });
        EventBody {
            id: format!("whb_{body_ulid}"),
            org_id: self.organization.id.clone(),
            event_id: self.id.to_owned(),
            body,
            created_at: real_now,
        }
    }

    /// `body` signed for `endpoint`: its delivery, due at once.
    fn delivery(
        &self,
        endpoint: &WebhookEndpoint,
        body: &EventBody,
        delivery_ulid: ulid::Ulid,
        real_now: Timestamp,
    ) -> Delivery {
        Delivery {
            id: format!("whd_{delivery_ulid}"),
            org_id: self.organization.id.clone(),
            endpoint_id: endpoint.id.clone(),
            event_id: self.id.to_owned(),
            event_type: self.event_type.to_owned(),
            body_id: body.id.clone(),
            signature: signature(&endpoint.secret, &body.body),
            body: body.body.clone(),
            timestamp: self.timestamp.to_rfc3339(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: real_now,
            created_at: real_now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_lowercase_hex_hmac_sha256_of_the_body() {
        // The contract's worked example (examples.md scenario 3).
        let body = r#"{"id":"whev_01K3EVT1","event":"seats.updated","timestamp":"2026-09-16T00:00:00.000Z","organizationId":"8f14e45f-ceea-4e7a-9c3d-1c2b3a4d5e6f","mode":"sandbox","apiVersion":"2026-07-11","data":{"customerId":"user_123","subscriptionId":"sub_01K3SUB1","featureCode":"editor","previousSeats":6,"currentSeats":7}}"#;

        assert_eq!(
            signature("whsec_test_secret", body),
            "bf85151b3ebb8329908b1dcd771f29ab5d824fd1e9e141dd1bd9d62d73654dd5"
        );
    }
}
