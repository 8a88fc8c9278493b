//! Webhook delivery: fan outbox events out into signed deliveries, then send what is due, over
//! HTTP, and record every attempt. All state is in the database, so a restart resumes where
//! the last process stopped; a delivery whose attempt was cut short is sent again when its
//! lease ends (at-least-once, same event id and bytes).

use crate::target_guard::{GuardedResolver, check_literal, refusal_in};
use async_trait::async_trait;
use futures::StreamExt;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_app::webhooks::WebhookTransport;
use tally_app::{App, AppError};
use tally_domain::webhook_targets::AllowedNetworks;
use tally_domain::webhooks::{AttemptResult, Delivery, RESPONSE_BODY_BYTES_MAX, truncated};
use tokio::sync::watch;
use tracing::info;

/// Deliveries sent at once by one dispatcher.
pub const SENDS_IN_FLIGHT_MAX: usize = 8;
/// Fan-out and send rounds per pass, so one pass cannot run unbounded behind a flood.
const FAN_OUT_ROUNDS_MAX: usize = 20;
const SEND_ROUNDS_MAX: usize = 50;
pub const USER_AGENT: &str = concat!("Tally-Webhooks/", env!("CARGO_PKG_VERSION"));

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    pub events_fanned_out: usize,
    pub attempts: usize,
    pub succeeded: usize,
    /// Deliveries still pending after the pass (due later, or left for the next pass).
    pub pending: u64,
}

pub struct Dispatcher {
    app: App,
    poll: Duration,
}

impl Dispatcher {
    pub fn new(app: App, poll: Duration) -> Self {
        Self { app, poll }
    }

    /// One pass: fan out pending events, then send every delivery that is due.
    pub async fn run_once(&self) -> Result<DispatchReport, AppError> {
        let mut report = DispatchReport::default();
        for _ in 0..FAN_OUT_ROUNDS_MAX {
            let fanned = self.app.fan_out_events().await?;
            report.events_fanned_out += fanned;
            if fanned == 0 {
                break;
            }
        }
        // Claim only what is sent at once, so a lease never has to cover a queue of sends.
        for _ in 0..SEND_ROUNDS_MAX {
            let claimed = self
                .app
                .claim_due_deliveries(SENDS_IN_FLIGHT_MAX as u32)
                .await?;
            if claimed.is_empty() {
                break;
            }
            let results: Vec<Result<AttemptResult, AppError>> =
                futures::stream::iter(claimed)
                    .map(|(delivery, url)| async move {
                        self.app.attempt_delivery(&delivery, &url).await
                    })
                    .buffer_unordered(SENDS_IN_FLIGHT_MAX)
                    .collect()
                    .await;
            for result in results {
                let result = result?;
                record_attempt(&result);
                report.attempts += 1;
                report.succeeded += usize::from(result.is_success());
            }
        }
        report.pending = self.app.pending_delivery_count().await?;
        metrics::gauge!("tally_webhook_deliveries_pending").set(report.pending as f64);
        Ok(report)
    }

    pub async fn run(self, stop: watch::Receiver<bool>) {
        crate::repeat(
            self.poll,
            stop,
            "webhook dispatch",
            || self.run_once(),
            |report| {
                if report.attempts > 0 {
                    info!(?report, "webhooks dispatched");
                }
            },
        )
        .await;
    }
}

/// Counts one delivery attempt by outcome, and its latency: `succeeded` (a 2xx answer),
/// `http_error` (any other status) or `failed` (no answer: refused address, connection error,
/// timeout).
fn record_attempt(result: &AttemptResult) {
    let outcome = match result.status_code {
        _ if result.is_success() => "succeeded",
        Some(_) => "http_error",
        None => "failed",
    };
    metrics::counter!("tally_webhook_delivery_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("tally_webhook_delivery_duration_seconds", "outcome" => outcome).record(
        Duration::from_millis(u64::try_from(result.latency_ms).unwrap_or(0)),
    );
}

/// Sends deliveries with reqwest: a time budget (10 s by default), no redirects
/// (`webhooks.md` §6), and only to addresses the network policy allows (`target_guard`).
pub struct HttpTransport {
    client: reqwest::Client,
    timeout: Duration,
    allowed: AllowedNetworks,
}

impl HttpTransport {
    /// `allowed`: the ranges besides public addresses that sends may reach; `pinned`: names
    /// resolved to fixed addresses instead of through DNS (tests), under the same policy.
    pub fn new(
        timeout: Duration,
        allowed: AllowedNetworks,
        pinned: &[(String, IpAddr)],
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // Decision: no proxy, not even one named by HTTP_PROXY: the policy can only judge
            // the addresses this process connects to, and a proxy would connect for it.
            .no_proxy()
            .dns_resolver(Arc::new(GuardedResolver::new(allowed.clone(), pinned)))
            .user_agent(USER_AGENT)
            .build()?;
        Ok(Self {
            client,
            timeout,
            allowed,
        })
    }
}

#[async_trait]
impl WebhookTransport for HttpTransport {
    async fn send(&self, url: &str, delivery: &Delivery) -> AttemptResult {
        // An address in the URL is connected to without resolving, so it is checked here.
        if let Err(refused) = check_literal(url, &self.allowed) {
            return AttemptResult {
                status_code: None,
                latency_ms: 0,
                response_body: None,
                error: Some(refused.to_string()),
            };
        }
        let started = Instant::now();
        let sent = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("x-commet-signature", &delivery.signature)
            .header("x-commet-event", &delivery.event_type)
            .header("x-commet-timestamp", &delivery.timestamp)
            .header("x-commet-event-id", &delivery.event_id)
            .body(delivery.body.clone())
            .send()
            .await;
        let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
        match sent {
            Ok(response) => {
                let status = response.status().as_u16();
                AttemptResult {
                    status_code: Some(status),
                    latency_ms,
                    response_body: body_prefix(response).await,
                    error: None,
                }
            }
            Err(error) => AttemptResult {
                status_code: None,
                latency_ms,
                response_body: None,
                error: Some(if let Some(refused) = refusal_in(&error) {
                    refused.to_string()
                } else if error.is_timeout() {
                    format!("timed out after {} ms", self.timeout.as_millis())
                } else {
                    format!("request failed: {error}")
                }),
            },
        }
    }
}

/// The start of a receiver's answer, as the delivery log keeps it. Reads at most
/// `RESPONSE_BODY_BYTES_MAX` bytes, chunk by chunk, and drops the rest unread (which closes the
/// connection): a receiver that answers gigabytes, or never stops, costs a few kilobytes. A
/// body that breaks off keeps what arrived; `None` when nothing did.
async fn body_prefix(mut response: reqwest::Response) -> Option<String> {
    let mut kept: Vec<u8> = Vec::new();
    while kept.len() < RESPONSE_BODY_BYTES_MAX {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = RESPONSE_BODY_BYTES_MAX - kept.len();
                kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) => break,
            Err(_) if kept.is_empty() => return None,
            Err(_) => break,
        }
    }
    Some(truncated(&String::from_utf8_lossy(&kept)))
}
