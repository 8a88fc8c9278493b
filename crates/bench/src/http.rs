//! The HTTP operations measured, sent as the SDKs send them, and the checks that the writes
//! all landed: `POST /seats` with a fresh `Idempotency-Key` per request, `GET
//! /seats/balance`, and a sum over `GET /seats/balances` afterwards; `POST /usage/events` the
//! same way, `GET /feature-access/{code}`, and a sum of the customers' `unitsUsed` afterwards.

use crate::fixture::{
    BenchCustomer, FEATURE_CODE, INITIAL_SEATS, RunningServer, USAGE_FEATURE_CODE, authorized,
};
use crate::load::{self, LoadShape, Measured};
use anyhow::{Context, bail};
use reqwest::{Method, RequestBuilder};
use serde_json::json;
use std::sync::Arc;
use tally_app::{IdSource, RandomIds};

/// What a check found: a sum read back after a write phase, next to what its successful
/// writes imply.
#[derive(Debug, Clone, Copy)]
pub struct SumCheck {
    pub expected: i64,
    pub found: i64,
}

impl SumCheck {
    pub fn matches(&self) -> bool {
        self.expected == self.found
    }
}

/// `POST /seats {"customerId", "featureCode", "count": 1}`, customers in turn. Anything but
/// 200 is an error.
pub async fn seat_writes(
    server: &RunningServer,
    customers: &[BenchCustomer],
    shape: LoadShape,
) -> Measured {
    // Keys are unique across runs too, as SDK-generated ones are.
    let run = RandomIds.uuid();
    let customers: Arc<Vec<String>> =
        Arc::new(customers.iter().map(|c| c.external_id.clone()).collect());
    let client = server.client.clone();
    let url = format!("{}/api/v1/seats", server.address);
    load::run(shape, move |n| {
        let customer = &customers[index(n, customers.len())];
        let request = authorized(client.post(&url))
            .header("idempotency-key", format!("{run}-{n}"))
            .json(&json!({"customerId": customer, "featureCode": FEATURE_CODE, "count": 1}));
        send_expecting_ok(request)
    })
    .await
}

/// `GET /seats/balance?customerId=…&featureCode=…`, customers in turn.
pub async fn balance_reads(
    server: &RunningServer,
    customers: &[BenchCustomer],
    shape: LoadShape,
) -> Measured {
    let urls: Arc<Vec<String>> = Arc::new(
        customers
            .iter()
            .map(|c| {
                format!(
                    "{}/api/v1/seats/balance?customerId={}&featureCode={FEATURE_CODE}",
                    server.address, c.external_id
                )
            })
            .collect(),
    );
    let client = server.client.clone();
    load::run(shape, move |n| {
        let request = authorized(client.get(&urls[index(n, urls.len())]));
        send_expecting_ok(request)
    })
    .await
}

/// Sums every customer's `editor` balance from `GET /seats/balances` and compares it with
/// the initial seats plus one per successful add.
pub async fn balance_check(
    server: &RunningServer,
    customers: &[BenchCustomer],
    successful_adds: u64,
) -> anyhow::Result<SumCheck> {
    let mut found = 0i64;
    for customer in customers {
        let response = server
            .request(
                Method::GET,
                &format!("/seats/balances?customerId={}", customer.external_id),
            )
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if status != 200 {
            bail!("GET /seats/balances answered {status}: {text}");
        }
        let body: serde_json::Value = serde_json::from_str(&text)?;
        found += body["balances"][FEATURE_CODE]["current"]
            .as_i64()
            .with_context(|| format!("no {FEATURE_CODE} balance in {text}"))?;
    }
    Ok(SumCheck {
        expected: expected_total(customers.len(), successful_adds),
        found,
    })
}

/// `POST /usage/events {"customerId", "featureCode", "value": 1}`, customers in turn, each
/// with a fresh `Idempotency-Key` (and no `eventId`, as most callers send). Anything but 200 is
/// an error.
pub async fn usage_tracks(
    server: &RunningServer,
    customers: &[BenchCustomer],
    shape: LoadShape,
) -> Measured {
    let run = RandomIds.uuid();
    let customers: Arc<Vec<String>> =
        Arc::new(customers.iter().map(|c| c.external_id.clone()).collect());
    let client = server.client.clone();
    let url = format!("{}/api/v1/usage/events", server.address);
    load::run(shape, move |n| {
        let customer = &customers[index(n, customers.len())];
        let request = authorized(client.post(&url))
            .header("idempotency-key", format!("{run}-track-{n}"))
            .json(&json!({"customerId": customer, "featureCode": USAGE_FEATURE_CODE, "value": 1}));
        send_expecting_ok(request)
    })
    .await
}

/// `GET /feature-access/{code}?customerId=…` for the usage feature, customers in turn.
pub async fn feature_access_reads(
    server: &RunningServer,
    customers: &[BenchCustomer],
    shape: LoadShape,
) -> Measured {
    let urls: Arc<Vec<String>> = Arc::new(
        customers
            .iter()
            .map(|c| feature_access_url(server, c))
            .collect(),
    );
    let client = server.client.clone();
    load::run(shape, move |n| {
        let request = authorized(client.get(&urls[index(n, urls.len())]));
        send_expecting_ok(request)
    })
    .await
}

/// Sums every customer's `consumption.unitsUsed` of the usage feature from `GET
/// /feature-access/{code}` and compares it with the successful tracks (one unit each; the
/// fixture starts every counter at zero).
pub async fn usage_check(
    server: &RunningServer,
    customers: &[BenchCustomer],
    successful_tracks: u64,
) -> anyhow::Result<SumCheck> {
    let mut found = 0i64;
    for customer in customers {
        let response = authorized(server.client.get(feature_access_url(server, customer)))
            .send()
            .await?;
        let status = response.status();
        let text = response.text().await?;
        if status != 200 {
            bail!("GET /feature-access/{USAGE_FEATURE_CODE} answered {status}: {text}");
        }
        let body: serde_json::Value = serde_json::from_str(&text)?;
        found += body["consumption"]["unitsUsed"]
            .as_i64()
            .with_context(|| format!("no consumption.unitsUsed in {text}"))?;
    }
    Ok(SumCheck {
        expected: i64::try_from(successful_tracks).unwrap_or(i64::MAX),
        found,
    })
}

fn feature_access_url(server: &RunningServer, customer: &BenchCustomer) -> String {
    format!(
        "{}/api/v1/feature-access/{USAGE_FEATURE_CODE}?customerId={}",
        server.address, customer.external_id
    )
}

/// Initial seats of every customer plus one per successful add.
pub fn expected_total(customers: usize, successful_adds: u64) -> i64 {
    let customers = i64::try_from(customers).unwrap_or(i64::MAX);
    let adds = i64::try_from(successful_adds).unwrap_or(i64::MAX);
    customers * INITIAL_SEATS + adds
}

/// Request `n` goes to customer `n mod N`, so concurrent requests spread over the customers.
pub fn index(n: u64, len: usize) -> usize {
    usize::try_from(n % len.max(1) as u64).unwrap_or(0)
}

/// Sends, reads the whole body (a request is done when its answer is), and wants a 200.
pub async fn send_expecting_ok(request: RequestBuilder) -> Result<(), String> {
    let response = request
        .send()
        .await
        .map_err(|e| format!("transport: {e}"))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| format!("reading the body: {e}"))?;
    if status == 200 {
        Ok(())
    } else {
        Err(format!("{status}: {}", String::from_utf8_lossy(&body)))
    }
}
