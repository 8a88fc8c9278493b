//! Webhook endpoints and deliveries (`webhooks.md`): validation, the retry ladder, and the
//! state of one delivery. Signing and HTTP live in the app and the workers.

use crate::{ApiVersion, DomainError, FieldError, Mode, OrgId, Timestamp};

/// Event names an endpoint may subscribe to: the catalogue of the official SDKs' webhook event
/// type (`webhooks.md` §1), including events Tally never emits, which are accepted and simply
/// never arrive, plus Tally's own `invoice.sent` (`commerce.md` §8.3), which the SDKs' handlers
/// ignore.
pub const EVENT_NAMES: [&str; 67] = [
    "addon.activated",
    "addon.deactivated",
    "balance.depleted",
    "balance.low",
    "balance.topped_up",
    "checkout.ready",
    "credits.depleted",
    "credits.expired",
    "credits.granted",
    "credits.low",
    "credits.purchased",
    "customer.created",
    "customer.state_changed",
    "customer.updated",
    "invoice.created",
    "invoice.overdue",
    "invoice.sent",
    "invoice.upcoming",
    "invoice.voided",
    "payment.dispute_resolved",
    "payment.disputed",
    "payment.failed",
    "payment.received",
    "payment.recovered",
    "payment.refunded",
    "payment.retry_failed",
    "payment_link.canceled",
    "payment_link.completed",
    "payment_link.created",
    "payment_link.failed",
    "payment_method.attached",
    "payment_method.updated",
    "payout.available",
    "payout.created",
    "payout.failed",
    "payout.paid",
    "plan_grant.created",
    "plan_grant.expired",
    "plan_grant.revoked",
    "plan_grant.updated",
    "quota.exceeded",
    "quota.threshold_reached",
    "seats.limit_reached",
    "seats.updated",
    "subscription.activated",
    "subscription.canceled",
    "subscription.cancellation_revoked",
    "subscription.cancellation_scheduled",
    "subscription.created",
    "subscription.past_due",
    "subscription.pause_revoked",
    "subscription.pause_scheduled",
    "subscription.pause_updated",
    "subscription.paused",
    "subscription.plan_change_revoked",
    "subscription.plan_change_scheduled",
    "subscription.plan_changed",
    "subscription.reactivated",
    "subscription.resume_failed",
    "subscription.resumed",
    "subscription.updated",
    "trial.checkout_ready",
    "trial.converted",
    "trial.expired",
    "trial.started",
    "trial.will_end",
    "usage.recorded",
];

/// The event a test send carries; outside the SDK unions, so SDK handlers ignore it.
pub const TEST_EVENT: &str = "webhook.test";
/// Delays before each retry, in seconds (`webhooks.md` §6): 8 attempts over about 4 hours.
pub const RETRY_DELAYS_SECS: [i64; 7] = [60, 300, 900, 1_800, 3_600, 3_600, 3_600];
/// A receiver has this long to answer with a 2xx.
pub const DELIVERY_TIMEOUT_MS: u64 = 10_000;
/// Endpoints whose last this many events ended failed are switched off (`webhooks.md` §6).
pub const CONSECUTIVE_FAILURES_MAX: i64 = 3;
/// How much of a receiver's answer the delivery log keeps.
pub const RESPONSE_BODY_CHARS_MAX: usize = 1_024;
/// How much of a receiver's answer is read at all: a UTF-8 character takes at most 4 bytes, so
/// these bytes always hold the characters kept. The rest is never read, whatever its size.
pub const RESPONSE_BODY_BYTES_MAX: usize = RESPONSE_BODY_CHARS_MAX * 4;
pub const URL_CHARS_MAX: usize = 2_048;
/// Decision: at most this many endpoints (active or not, deleted ones aside) per organization,
/// and so per mode. Every event is signed and stored once per endpoint, so the count multiplies
/// the cost of every write; 50 is far above what a receiver setup needs.
pub const ENDPOINTS_PER_ORGANIZATION_MAX: u64 = 50;
/// Random base62 characters after `whsec_` (`webhooks.md` §1).
pub const SECRET_RANDOM_CHARS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    pub id: String,
    pub org_id: OrgId,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub is_active: bool,
    /// `None`: the organization's pin at delivery time.
    pub api_version: Option<ApiVersion>,
    pub secret: String,
    pub consecutive_failures: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl WebhookEndpoint {
    pub fn wants(&self, event: &str) -> bool {
        self.is_active && self.events.iter().any(|e| e == event)
    }
}

/// Checks an endpoint URL: absolute, `https://` (or `http://` in sandbox, `webhooks.md` §1),
/// with a host. Returns the problem for the `url` field.
pub fn check_url(url: &str, mode: Mode) -> Result<(), DomainError> {
    let problem = |message: &str| DomainError::field("url", message);
    if url.len() > URL_CHARS_MAX {
        return Err(problem("url is too long"));
    }
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| problem("url must be an absolute https:// URL"))?;
    match (scheme, mode) {
        ("https", _) | ("http", Mode::Sandbox) => {}
        ("http", Mode::Live) => return Err(problem("live endpoints must use https://")),
        _ => return Err(problem("url must be an absolute https:// URL")),
    }
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || host.contains('@') || host.chars().any(char::is_whitespace) {
        return Err(problem("url must name a host (and no credentials)"));
    }
    Ok(())
}

/// Checks that an organization with `existing` endpoints may add one more.
pub fn check_endpoint_count(existing: u64) -> Result<(), DomainError> {
    if existing < ENDPOINTS_PER_ORGANIZATION_MAX {
        Ok(())
    } else {
        Err(DomainError::field(
            "url",
            format!(
                "an organization may have at most {ENDPOINTS_PER_ORGANIZATION_MAX} webhook endpoints; delete one to add another"
            ),
        ))
    }
}

/// Checks a list of event names.
pub fn check_events(events: &[String]) -> Result<(), DomainError> {
    if events.is_empty() {
        return Err(DomainError::field(
            "events",
            "events must name at least one event",
        ));
    }
    let unknown: Vec<FieldError> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| !EVENT_NAMES.contains(&e.as_str()))
        .map(|(i, e)| FieldError::new(format!("events.{i}"), format!("{e} is not a webhook event")))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(unknown))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One event rendered in one API version: the bytes that every delivery of the event in that
/// version sends (`webhooks.md` §2: the body depends on the version, never on the endpoint).
/// Stored once, however many endpoints receive it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventBody {
    /// `whb_…`
    pub id: String,
    pub org_id: OrgId,
    pub event_id: String,
    pub body: String,
    pub created_at: Timestamp,
}

/// One event rendered for one endpoint: the exact bytes and signature every attempt sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub org_id: OrgId,
    pub endpoint_id: String,
    pub event_id: String,
    pub event_type: String,
    /// The stored `EventBody` these bytes are, shared with the event's other deliveries in the
    /// same version.
    pub body_id: String,
    pub body: String,
    pub signature: String,
    /// The envelope's `timestamp`, repeated in `X-Commet-Timestamp`.
    pub timestamp: String,
    pub status: DeliveryStatus,
    pub attempts: i64,
    /// Real time (`webhooks.md` §6: retries use real time even under a test clock).
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
}

/// What one attempt observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptResult {
    pub status_code: Option<u16>,
    pub latency_ms: i64,
    pub response_body: Option<String>,
    pub error: Option<String>,
}

impl AttemptResult {
    /// Any 2xx; redirects are not followed, so a 3xx is a failure (`webhooks.md` §6).
    pub fn is_success(&self) -> bool {
        self.status_code.is_some_and(|s| (200..300).contains(&s))
    }
}

impl Delivery {
    /// The delivery after an attempt at `now`: done, scheduled again, or failed for good.
    pub fn after_attempt(&self, result: &AttemptResult, now: Timestamp) -> Delivery {
        let mut next = self.clone();
        next.attempts += 1;
        if result.is_success() {
            next.status = DeliveryStatus::Succeeded;
            return next;
        }
        let retry = usize::try_from(self.attempts)
            .ok()
            .and_then(|n| RETRY_DELAYS_SECS.get(n));
        match retry {
            Some(delay_secs) => next.next_attempt_at = now.plus_millis(delay_secs * 1_000),
            None => next.status = DeliveryStatus::Failed,
        }
        next
    }

    /// The delivery sent again at `now` by an operator (the dashboard's resend): due at once,
    /// whatever its status. Its attempts so far count, so a delivery whose retries had run out
    /// gets this one attempt, and one still retrying keeps its place on the ladder.
    pub fn resent(&self, now: Timestamp) -> Delivery {
        Delivery {
            status: DeliveryStatus::Pending,
            next_attempt_at: now,
            ..self.clone()
        }
    }
}

/// Keeps at most `RESPONSE_BODY_CHARS_MAX` characters of a receiver's answer.
pub fn truncated(body: &str) -> String {
    body.chars().take(RESPONSE_BODY_CHARS_MAX).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_and_https_in_live() {
        assert!(check_url("https://example.com/hooks", Mode::Live).is_ok());
        assert!(check_url("http://127.0.0.1:9000/hooks", Mode::Sandbox).is_ok());
        assert!(check_url("http://example.com/hooks", Mode::Live).is_err());
        assert!(check_url("ftp://example.com", Mode::Sandbox).is_err());
        assert!(check_url("example.com/hooks", Mode::Sandbox).is_err());
        assert!(check_url("https://user:pw@example.com", Mode::Live).is_err());
        assert!(check_url("https:///path", Mode::Live).is_err());
    }

    #[test]
    fn an_organization_may_hold_up_to_the_endpoint_cap() {
        assert!(check_endpoint_count(0).is_ok());
        assert!(check_endpoint_count(ENDPOINTS_PER_ORGANIZATION_MAX - 1).is_ok());
        assert!(check_endpoint_count(ENDPOINTS_PER_ORGANIZATION_MAX).is_err());
    }

    #[test]
    fn events_must_be_known() {
        assert!(check_events(&["seats.updated".into()]).is_ok());
        assert!(check_events(&[]).is_err());
        let Err(DomainError::Validation(problems)) =
            check_events(&["seats.updated".into(), "seats.exploded".into()])
        else {
            panic!("expected a validation error");
        };
        assert_eq!(problems[0].field, "events.1");
    }

    #[test]
    fn failures_walk_the_retry_ladder_then_fail() {
        let mut delivery = Delivery {
            id: "whd_1".into(),
            org_id: OrgId::new("org"),
            endpoint_id: "whe_1".into(),
            event_id: "whev_1".into(),
            event_type: "seats.updated".into(),
            body_id: "whb_1".into(),
            body: "{}".into(),
            signature: "00".into(),
            timestamp: "t".into(),
            status: DeliveryStatus::Pending,
            attempts: 0,
            next_attempt_at: Timestamp::from_millis(0),
            created_at: Timestamp::from_millis(0),
        };
        let failure = AttemptResult {
            status_code: Some(500),
            latency_ms: 3,
            response_body: None,
            error: None,
        };
        let mut delays = Vec::new();
        let mut now = Timestamp::from_millis(0);
        while delivery.status == DeliveryStatus::Pending {
            let next = delivery.after_attempt(&failure, now);
            if next.status == DeliveryStatus::Pending {
                delays.push((next.next_attempt_at.as_millis() - now.as_millis()) / 1_000);
                now = next.next_attempt_at;
            }
            delivery = next;
        }

        assert_eq!(delays, RETRY_DELAYS_SECS);
        assert_eq!(delivery.attempts, 8);
        assert_eq!(delivery.status, DeliveryStatus::Failed);
    }
}
