//! Crash safety of seat writes: the real binary is killed (SIGKILL) while 16 clients write seats
//! with idempotency keys, then started again on the same database. On SQLite the writes were
//! being committed in groups, several requests to one fsync.
//!
//! What must hold afterwards: every acknowledged write is there (its key replays), the seat
//! ledger adds up to the balance, and sending every key again (acknowledged or cut off by the
//! kill) applies each exactly once.

use crate::support::{Backend, DIRECT, SANDBOX_KEY, json_with_status};
use crate::webhook_restart::{post, start};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

const WRITERS: usize = 16;
/// Acknowledged writes to wait for before the kill, so that it lands mid-run.
const ACKNOWLEDGED_BEFORE_KILL: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_write_loses_no_acknowledged_seat_on_sqlite() {
    survive_a_kill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_write_loses_no_acknowledged_seat_on_postgres() {
    survive_a_kill(Backend::Postgres).await;
}

/// The longest the whole test may take; a hang fails it with this test's name instead of
/// holding the suite until CI's own limit.
const TEST_DEADLINE: Duration = Duration::from_secs(300);
/// The longest one request may take (the SDKs' own timeout).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

async fn survive_a_kill(backend: Backend) {
    tokio::time::timeout(TEST_DEADLINE, kill_and_check(backend))
        .await
        .expect("the kill test finishes within its deadline");
}

async fn kill_and_check(backend: Backend) {
    let (database_url, _guard): (String, Box<dyn std::any::Any + Send>) = match backend {
        Backend::Sqlite => {
            let db = tally_store_sql::testing::fresh_sqlite().await;
            (db.url.clone(), Box::new(db))
        }
        Backend::Postgres => {
            let Some(server) = tally_store_sql::testing::postgres_server_url("seat kill") else {
                return;
            };
            let db = tally_store_sql::testing::fresh_postgres(&server).await;
            (db.url.clone(), Box::new(db))
        }
    };
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .unwrap();
    let mut server = start(&database_url).await;
    set_up(&client, &server.address, &["kill"]).await;

    // 16 writers, each with its own keys, until told to stop; the kill comes mid-run.
    let stop = Arc::new(AtomicBool::new(false));
    let acknowledged_count = Arc::new(AtomicUsize::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..WRITERS {
        let (client, address) = (client.clone(), server.address.clone());
        let (stop, acknowledged_count) = (stop.clone(), acknowledged_count.clone());
        writers.spawn(async move {
            let mut sent = Vec::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("w{writer}-{n}");
                n += 1;
                let acknowledged = add_seat(&client, &address, "kill", &key)
                    .await
                    .is_ok_and(|response| response.status() == 200);
                if acknowledged {
                    acknowledged_count.fetch_add(1, Ordering::Relaxed);
                }
                sent.push((key, acknowledged));
            }
            sent
        });
    }
    // Polls with a deadline: the writers run on their own.
    tokio::time::timeout(Duration::from_secs(60), async {
        while acknowledged_count.load(Ordering::Relaxed) < ACKNOWLEDGED_BEFORE_KILL {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the writers get going");
    // The writers are told to stop first and the kill follows at once, so that it cuts the
    // requests they have in flight and none is started against the dead address afterwards
    // (where a later listener may have taken the port).
    stop.store(true, Ordering::Relaxed);
    server.child.kill().await.unwrap();
    let mut sent = Vec::new();
    while let Some(writer) = writers.join_next().await {
        sent.extend(writer.unwrap());
    }
    let restarted = start(&database_url).await;
    let address = restarted.address.clone();

    let after_restart = seats(&client, &address, "kill").await;
    let ledger_after_restart = ledger(&client, &address, "kill").await;
    let mut replays_of_acknowledged = 0;
    for (key, acknowledged) in &sent {
        let again = add_seat(&client, &address, "kill", key).await.unwrap();
        let replayed = again
            .headers()
            .get("idempotent-replayed")
            .is_some_and(|v| v == "true");
        assert_eq!(again.status(), 200, "key {key}");
        if *acknowledged {
            assert!(replayed, "acknowledged write {key} was lost in the kill");
            replays_of_acknowledged += 1;
        }
    }
    let after_replays = seats(&client, &address, "kill").await;
    let ledger_after_replays = ledger(&client, &address, "kill").await;
    drop(restarted);

    let acknowledged = sent.iter().filter(|(_, ok)| *ok).count();
    assert!(
        sent.len() > acknowledged,
        "the kill came mid-run: some writes were in flight"
    );
    assert_eq!(replays_of_acknowledged, acknowledged);
    assert!(after_restart >= acknowledged as i64);
    assert_eq!(
        ledger_after_restart, after_restart,
        "the ledger adds up to the balance"
    );
    assert_eq!(
        after_replays,
        sent.len() as i64,
        "each key applied exactly once"
    );
    assert_eq!(ledger_after_replays, after_replays);
}

/// A seats feature (`editor`) in a plan, and each of `customers` subscribed to it.
pub async fn set_up(client: &reqwest::Client, address: &str, customers: &[&str]) {
    post(
        client,
        address,
        "/features",
        json!({"name": "Editor seats", "code": "editor", "type": "seats"}),
    )
    .await;
    let plan = post(
        client,
        address,
        "/plans",
        json!({"name": "Pro", "code": "pro"}),
    )
    .await;
    let plan = plan["id"].as_str().unwrap();
    post(
        client,
        address,
        &format!("/plans/{plan}/prices"),
        json!({"billingInterval": "monthly", "price": 100}),
    )
    .await;
    post(
        client,
        address,
        &format!("/plans/{plan}/features"),
        json!({"featureId": "editor", "includedAmount": 100000}),
    )
    .await;
    for customer in customers {
        post(
            client,
            address,
            "/customers",
            json!({"email": format!("{customer}@example.com"), "id": customer}),
        )
        .await;
        post(
            client,
            address,
            "/subscriptions",
            json!({"customerId": customer, "planCode": "pro"}),
        )
        .await;
    }
}

/// Adds one seat to `customer`'s subscription, under the idempotency key `key`.
pub async fn add_seat(
    client: &reqwest::Client,
    address: &str,
    customer: &str,
    key: &str,
) -> reqwest::Result<reqwest::Response> {
    client
        .post(format!("{address}/api/v1/seats"))
        .header("x-api-key", SANDBOX_KEY)
        .header("commet-version", DIRECT)
        .header("idempotency-key", key)
        .json(&json!({"customerId": customer, "featureCode": "editor", "count": 1}))
        .send()
        .await
}

/// `customer`'s count of editor seats.
pub async fn seats(client: &reqwest::Client, address: &str, customer: &str) -> i64 {
    let balance = get(
        client,
        &format!("{address}/api/v1/seats/balance?customerId={customer}&featureCode=editor"),
    )
    .await;
    balance["current"].as_i64().unwrap()
}

/// The sum of every seat event's change of `customer`, read page by page from the seat history.
pub async fn ledger(client: &reqwest::Client, address: &str, customer: &str) -> i64 {
    let mut sum = 0;
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{address}/api/v1/seats/events?customerId={customer}&limit=100");
        if let Some(cursor) = &cursor {
            url.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(client, &url).await;
        for event in page["data"].as_array().unwrap() {
            sum +=
                event["newBalance"].as_i64().unwrap() - event["previousBalance"].as_i64().unwrap();
        }
        match page["nextCursor"].as_str() {
            Some(next) if page["hasMore"] == Value::Bool(true) => {
                assert_ne!(
                    cursor.as_deref(),
                    Some(next),
                    "the history's cursor moves on"
                );
                cursor = Some(next.to_owned());
            }
            _ => return sum,
        }
    }
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    let response = client
        .get(url)
        .header("x-api-key", SANDBOX_KEY)
        .header("commet-version", DIRECT)
        .send()
        .await
        .unwrap();
    json_with_status(response, 200).await
}
