//! Prometheus metrics at `/metrics` on the metrics listener, scraped after known traffic.
//!
//! The `metrics` recorder is one per process, and this binary's tests run in parallel: series
//! that other tests also feed (seat writes, 404s, 429s) could not be counted exactly here. So
//! these tests run the real binary, a process of its own, and its counts are exactly the
//! test's traffic.

use crate::receiver::{Answer, Receiver};
use crate::support::{Backend, DIRECT, LIVE_KEY, SANDBOX_KEY, json_with_status};
use crate::webhook_restart::{post, start_with};
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Duration;

/// The sandbox key's budget per window, small enough to reach.
const KEY_REQUESTS: usize = 30;
const CUSTOMER: &str = "metrics-customer";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_known_traffic_on_sqlite() {
    count_known_traffic(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_known_traffic_on_postgres() {
    count_known_traffic(Backend::Postgres).await;
}

async fn count_known_traffic(backend: Backend) {
    let (database_url, _guard): (String, Box<dyn std::any::Any + Send>) = match backend {
        Backend::Sqlite => {
            let db = tally_store_sql::testing::fresh_sqlite().await;
            (db.url.clone(), Box::new(db))
        }
        Backend::Postgres => {
            let Some(server) = tally_store_sql::testing::postgres_server_url("metrics") else {
                return;
            };
            let db = tally_store_sql::testing::fresh_postgres(&server).await;
            (db.url.clone(), Box::new(db))
        }
    };
    let receiver = Receiver::start().await;
    // The first delivery fails with a 500 (its retry is a minute away); the others succeed.
    receiver.script(&[Answer::Status(500)]);
    let key_requests = KEY_REQUESTS.to_string();
    let server = start_with(
        &database_url,
        &[
            ("TALLY_METRICS_LISTEN", "127.0.0.1:0"),
            ("TALLY_RATE_LIMIT_REQUESTS", &key_requests),
            ("TALLY_RATE_LIMIT_AUTH_FAILURES", "1"),
        ],
    )
    .await;
    let address = server.address.clone();
    let metrics_url = server
        .metrics_address
        .clone()
        .expect("a metrics listener was asked for");
    let client = reqwest::Client::new();
    let before = scrape(&client, &metrics_url).await;

    // 7 requests: a seat feature on a plan, a customer on it, and a webhook endpoint.
    set_up(&client, &address, &receiver.url).await;
    // 3 seat writes and a replay of the first.
    for key in ["seat-1", "seat-2", "seat-3", "seat-1"] {
        let response = client
            .post(format!("{address}/api/v1/seats"))
            .header("x-api-key", SANDBOX_KEY)
            .header("commet-version", DIRECT)
            .header("idempotency-key", key)
            .json(&json!({"customerId": CUSTOMER, "featureCode": "editor", "count": 1}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{key}");
    }
    // An unknown endpoint; `/metrics` is one on the API's address.
    for (path, key) in [
        ("/api/v1/nothing-here", SANDBOX_KEY),
        ("/metrics", LIVE_KEY),
    ] {
        let response = client
            .get(format!("{address}{path}"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 404, "{path}");
    }
    // The sandbox key's budget: 12 requests so far, then until the first refusal.
    let mut sent = 12;
    loop {
        let response = get_customers(&client, &address, SANDBOX_KEY).await;
        sent += 1;
        if response.status() == 429 {
            break;
        }
        assert_eq!(response.status(), 200);
        assert!(sent <= KEY_REQUESTS, "the key's budget ends");
    }
    // A bad key, then the address's failed-authentication budget (1) refuses the next request.
    let unknown_key = "ck_sandbox_Unknown00000000000000000000000001";
    let unauthorized = get_customers(&client, &address, unknown_key).await;
    let refused_address = get_customers(&client, &address, unknown_key).await;
    assert_eq!(
        (
            unauthorized.status().as_u16(),
            refused_address.status().as_u16()
        ),
        (401, 429)
    );
    // Polls with a deadline: deliveries run on the dispatcher's own schedule.
    let after = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let after = scrape(&client, &metrics_url).await;
            let attempts = |outcome| {
                after.value(
                    "tally_webhook_delivery_attempts_total",
                    &[("outcome", outcome)],
                )
            };
            let delivered =
                attempts("succeeded") == Some(2.0) && attempts("http_error") == Some(1.0);
            if delivered && after.value("tally_webhook_deliveries_pending", &[]) == Some(1.0) {
                return after;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the three deliveries are attempted");

    let seats = [
        ("method", "POST"),
        ("route", "/api/v1/seats"),
        ("status", "200"),
    ];
    let customers = |status| {
        [
            ("method", "GET"),
            ("route", "/api/v1/customers"),
            ("status", status),
        ]
    };
    let unmatched = [("method", "GET"), ("route", "unmatched"), ("status", "404")];
    assert_eq!(before.value("tally_http_requests_total", &seats), None);
    assert_eq!(after.value("tally_http_requests_total", &seats), Some(4.0));
    assert_eq!(
        after.value("tally_http_request_duration_seconds_count", &seats),
        Some(4.0)
    );
    assert_eq!(
        after.value("tally_http_requests_total", &unmatched),
        Some(2.0)
    );
    assert_eq!(
        after.value("tally_http_requests_total", &customers("200")),
        Some((KEY_REQUESTS - 12) as f64)
    );
    assert_eq!(
        after.value("tally_http_requests_total", &customers("429")),
        Some(2.0)
    );
    assert_eq!(
        after.value("tally_http_requests_total", &customers("401")),
        Some(1.0)
    );
    let seat_writes = |outcome| {
        after.value(
            "tally_writes_total",
            &[("operation", "ChangeSeats"), ("outcome", outcome)],
        )
    };
    assert_eq!(seat_writes("applied"), Some(3.0));
    assert_eq!(seat_writes("replayed"), Some(1.0));
    assert_eq!(
        after.value(
            "tally_writes_total",
            &[("operation", "CreateCustomer"), ("outcome", "applied")]
        ),
        Some(1.0)
    );
    assert_eq!(
        after.sum("tally_write_retries_total"),
        0.0,
        "sequential writes never retry"
    );
    for (budget, refused_before, refused_after) in [
        ("key", 0.0, 1.0),
        ("organization", 0.0, 0.0),
        ("auth_failures", 0.0, 1.0),
    ] {
        let refusals =
            |scrape: &Scrape| scrape.value("tally_rate_limited_total", &[("budget", budget)]);
        assert_eq!(
            refusals(&before),
            Some(refused_before),
            "{budget}: registered at zero"
        );
        assert_eq!(refusals(&after), Some(refused_after), "{budget}");
    }
    assert_eq!(
        after.value(
            "tally_webhook_delivery_duration_seconds_count",
            &[("outcome", "succeeded")]
        ),
        Some(2.0)
    );
    let pools: &[&str] = match backend {
        Backend::Sqlite => &["reads"],
        Backend::Postgres => &["reads", "writes"],
    };
    for pool in pools {
        let connections = |state| {
            after.value(
                "tally_db_pool_connections",
                &[("pool", pool), ("state", state)],
            )
        };
        assert!(
            connections("in_use").is_some() && connections("idle").is_some(),
            "{pool}"
        );
        assert!(
            after
                .value("tally_db_pool_connections_max", &[("pool", pool)])
                .is_some_and(|max| max >= 1.0)
        );
    }
    let group_jobs = after.value("tally_sqlite_write_group_jobs_sum", &[]);
    match backend {
        // Every write job went through a group: at least the 7 set-up writes and the 4 seat
        // requests (a replay's job is a write job that finds the key).
        Backend::Sqlite => assert!(
            group_jobs.is_some_and(|jobs| jobs >= 11.0),
            "{group_jobs:?}"
        ),
        Backend::Postgres => assert_eq!(group_jobs, None, "PostgreSQL has no group commit"),
    }
    assert!(
        after
            .text
            .contains("# TYPE tally_http_request_duration_seconds histogram")
    );
    for id in [CUSTOMER, "org_", "cus_", "key_", "sub_", SANDBOX_KEY] {
        assert!(!after.text.contains(id), "no metric carries {id}");
    }
}

/// A scrape of `/metrics`: its text, and the samples by name and labels.
struct Scrape {
    text: String,
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Scrape {
    /// The value of the series `name` with exactly `labels`.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == labels)
            .map(|(_, _, value)| *value)
    }

    /// The sum of every series of `name`.
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|(n, _, _)| n == name)
            .map(|(_, _, v)| v)
            .sum()
    }
}

async fn scrape(client: &reqwest::Client, url: &str) -> Scrape {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(
        response.status(),
        200,
        "/metrics needs no API key on its own listener"
    );
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let text = response.text().await.unwrap();
    let samples = text
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line
                .rsplit_once(' ')
                .expect("a sample is a series and a value");
            let (name, labels) = match series.split_once('{') {
                Some((name, labels)) => (name, labels.trim_end_matches('}')),
                None => (series, ""),
            };
            // Tally's label values hold no commas or quotes.
            let labels = labels
                .split(',')
                .filter(|pair| !pair.is_empty())
                .map(|pair| {
                    let (key, value) = pair.split_once('=').unwrap();
                    (key.to_owned(), value.trim_matches('"').to_owned())
                })
                .collect();
            (name.to_owned(), labels, value.parse().unwrap())
        })
        .collect();
    Scrape { text, samples }
}

async fn get_customers(client: &reqwest::Client, address: &str, key: &str) -> reqwest::Response {
    client
        .get(format!("{address}/api/v1/customers"))
        .header("x-api-key", key)
        .send()
        .await
        .unwrap()
}

/// The seat fixture of the kill test for `CUSTOMER`, and an endpoint for `seats.updated`.
async fn set_up(client: &reqwest::Client, address: &str, receiver: &str) {
    crate::seat_kill::set_up(client, address, &[CUSTOMER]).await;
    let endpoint = post(
        client,
        address,
        "/webhooks",
        json!({"url": receiver, "events": ["seats.updated"]}),
    )
    .await;
    assert!(endpoint["id"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn there_is_no_metrics_listener_unless_one_is_asked_for() {
    let db = tally_store_sql::testing::fresh_sqlite().await;
    let server = start_with(&db.url, &[]).await;

    let response = reqwest::Client::new()
        .get(format!("{}/metrics", server.address))
        .header("x-api-key", SANDBOX_KEY)
        .send()
        .await
        .unwrap();

    assert_eq!(server.metrics_address, None);
    let body = json_with_status(response, 404).await;
    assert_eq!(body["error"]["code"], "not_found");
}
