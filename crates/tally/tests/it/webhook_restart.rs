//! Crash safety of webhook delivery: the real binary is killed (SIGKILL) while deliveries are in
//! flight and started again on the same database; every event still reaches the receiver, with
//! its id unchanged (at-least-once: an interrupted send may arrive twice, never zero times).

use crate::receiver::{Answer, Receiver};
use crate::support::{Backend, DIRECT, LIVE_KEY, SANDBOX_KEY, json_with_status};
use serde_json::json;
use std::collections::BTreeSet;
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

const SEAT_CHANGES: usize = 20;

pub struct Running {
    pub address: String,
    /// Where `/metrics` is served, when `TALLY_METRICS_LISTEN` was given.
    pub metrics_address: Option<String>,
    pub child: tokio::process::Child,
}

/// Starts `tally serve` on a free port against `database_url` and waits for its banner.
pub async fn start(database_url: &str) -> Running {
    start_with(database_url, &[]).await
}

/// `start` with more environment variables (later ones win).
pub async fn start_with(database_url: &str, env: &[(&str, &str)]) -> Running {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("DATABASE_URL", database_url)
        .env("TALLY_SEED_SANDBOX_KEY", SANDBOX_KEY)
        .env("TALLY_SEED_LIVE_KEY", LIVE_KEY)
        .env("TALLY_WEBHOOK_POLL_MS", "50")
        .env("TALLY_WEBHOOK_TIMEOUT_MS", "2000")
        // The receiver listens on 127.0.0.1, which webhooks may not reach by default.
        .env(
            "TALLY_WEBHOOK_ALLOW_NETWORKS",
            crate::support::LOOPBACK_NETWORKS,
        )
        // Out of the way of the seat-kill test's 16 writers.
        .env("TALLY_RATE_LIMIT_REQUESTS", "1000000")
        .env("RUST_LOG", "error")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Bounded wait: the banner follows the bind (and the metrics banner comes before it).
    let (address, metrics_address) = tokio::time::timeout(Duration::from_secs(60), async {
        let mut metrics_address = None;
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(address) = line.strip_prefix("Tally metrics on ") {
                metrics_address = Some(address.to_owned());
            }
            if let Some(address) = line.strip_prefix("Tally listening on ") {
                return (address.to_owned(), metrics_address);
            }
        }
        panic!("tally serve exited before listening");
    })
    .await
    .expect("tally serve starts");
    Running {
        address,
        metrics_address,
        child,
    }
}

pub async fn post(
    client: &reqwest::Client,
    address: &str,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    let response = client
        .post(format!("{address}/api/v1{path}"))
        .header("x-api-key", SANDBOX_KEY)
        .header("commet-version", DIRECT)
        .json(&body)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}

async fn survive_a_kill(backend: Backend) {
    let (database_url, _guard): (String, Box<dyn std::any::Any + Send>) = match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().unwrap();
            (
                format!("sqlite://{}", dir.path().join("tally.db").display()),
                Box::new(dir),
            )
        }
        Backend::Postgres => {
            let Some(server) = tally_store_sql::testing::postgres_server_url("webhook restart")
            else {
                return;
            };
            let db = tally_store_sql::testing::fresh_postgres(&server).await;
            (db.url.clone(), Box::new(db))
        }
    };
    let receiver = Receiver::start().await;
    receiver.script(&[Answer::SleepMs(300); 12]);
    let client = reqwest::Client::new();
    let mut server = start(&database_url).await;
    let address = server.address.clone();
    post(
        &client,
        &address,
        "/features",
        json!({"name": "Editor seats", "code": "editor", "type": "seats"}),
    )
    .await;
    let plan = post(
        &client,
        &address,
        "/plans",
        json!({"name": "Pro", "code": "pro"}),
    )
    .await;
    let plan = plan["id"].as_str().unwrap();
    post(
        &client,
        &address,
        &format!("/plans/{plan}/prices"),
        json!({"billingInterval": "monthly", "price": 100}),
    )
    .await;
    post(
        &client,
        &address,
        &format!("/plans/{plan}/features"),
        json!({"featureId": "editor", "includedAmount": 1000}),
    )
    .await;
    post(
        &client,
        &address,
        "/customers",
        json!({"email": "k@example.com", "id": "kill"}),
    )
    .await;
    post(
        &client,
        &address,
        "/subscriptions",
        json!({"customerId": "kill", "planCode": "pro"}),
    )
    .await;
    post(
        &client,
        &address,
        "/webhooks",
        json!({"url": receiver.url, "events": ["seats.updated"]}),
    )
    .await;
    let mut expected = BTreeSet::new();
    for n in 1..=SEAT_CHANGES {
        let event = post(
            &client,
            &address,
            "/seats",
            json!({"customerId": "kill", "featureCode": "editor", "count": 1}),
        )
        .await;
        assert_eq!(event["newBalance"], n);
        expected.insert(n);
    }

    // Polls with a deadline: delivery runs on the dispatcher's own schedule.
    tokio::time::timeout(Duration::from_secs(30), async {
        while receiver.received().is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("a first delivery starts");
    server.child.kill().await.unwrap();
    let delivered_before_kill = receiver.received().len();
    let restarted = start(&database_url).await;

    let delivered = tokio::time::timeout(Duration::from_secs(90), async {
        loop {
            let seats: BTreeSet<usize> = receiver
                .received()
                .iter()
                .map(|r| r.json()["data"]["currentSeats"].as_u64().unwrap() as usize)
                .collect();
            if seats == expected {
                return receiver.received();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("every event is delivered after the restart");
    drop(restarted);

    assert!(
        delivered_before_kill < SEAT_CHANGES,
        "the kill came mid-delivery ({delivered_before_kill} delivered before it)"
    );
    let mut ids_by_seats = std::collections::BTreeMap::new();
    for request in &delivered {
        let envelope = request.json();
        let id = envelope["id"].as_str().unwrap().to_owned();
        let previous = ids_by_seats.insert(
            envelope["data"]["currentSeats"].as_u64().unwrap(),
            id.clone(),
        );
        if let Some(previous) = previous {
            assert_eq!(previous, id, "a re-sent event keeps its id");
        }
    }
    assert_eq!(ids_by_seats.len(), SEAT_CHANGES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_delivery_loses_no_event_on_sqlite() {
    survive_a_kill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_delivery_loses_no_event_on_postgres() {
    survive_a_kill(Backend::Postgres).await;
}
