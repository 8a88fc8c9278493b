//! Clients that go away mid-write: an HTTP client that times out drops its connection while
//! the server is inside the seat write's transaction. The write must either complete or leave
//! nothing behind, and the store must keep taking writes afterwards (it once stopped every
//! later write on SQLite until a restart).

use crate::on_both_backends;
use crate::seats::subscribed;
use crate::support::{DIRECT, TestApp, json_with_status};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// Bursts of cut requests; each is followed by a write that must succeed.
const ROUNDS: usize = 12;
const WORKERS: usize = 16;
const REQUESTS_PER_WORKER: u64 = 8;

on_both_backends! {
    async fn writes_cut_off_mid_flight_never_stall_the_store_or_lose_an_acknowledged_write(app: TestApp) {
        // Method: in each round, 16 workers send seat adds with idempotency keys and give up on
        // each after a few milliseconds, so many connections close while their write is in
        // flight; then one write with no deadline must succeed. At the end every key is sent
        // again: an acknowledged one replays, a cut one either replays (it had committed) or
        // applies now, so the balance must be exactly the initial seats plus one per key.
        subscribed(&app).await;
        let mut keys: Vec<String> = Vec::new();
        let mut acknowledged: Vec<String> = Vec::new();
        let mut cut = 0_usize;

        for round in 0..ROUNDS {
            let mut workers = tokio::task::JoinSet::new();
            for worker in 0..WORKERS {
                let app_request = add_request(&app);
                workers.spawn(async move {
                    let mut sent = Vec::new();
                    for n in 0..REQUESTS_PER_WORKER {
                        let key = format!("cut-{round}-{worker}-{n}");
                        // 1–4 ms: short enough to cut most writes mid-transaction.
                        let patience = Duration::from_millis(1 + (n + worker as u64) % 4);
                        let answer = tokio::time::timeout(patience, app_request(&key)).await;
                        let ok = matches!(answer, Ok(Ok(ref response)) if response.status() == 200);
                        sent.push((key, ok, answer.is_err()));
                    }
                    sent
                });
            }
            while let Some(sent) = workers.join_next().await {
                for (key, ok, timed_out) in sent.unwrap() {
                    if ok {
                        acknowledged.push(key.clone());
                    }
                    cut += usize::from(timed_out);
                    keys.push(key);
                }
            }
            let key = format!("after-{round}");
            let after = tokio::time::timeout(Duration::from_secs(10), add_request(&app)(&key))
                .await
                .expect("a write after the cut answers in time")
                .unwrap();
            assert_eq!(after.status(), 200, "round {round}: {}", after.text().await.unwrap());
            acknowledged.push(key.clone());
            keys.push(key);
        }

        let mut replayed = 0;
        for key in &keys {
            let again = add_request(&app)(key).await.unwrap();
            let was_replayed = again.headers().get("idempotent-replayed").is_some_and(|v| v == "true");
            assert_eq!(again.status(), 200, "key {key}");
            if acknowledged.contains(key) {
                assert!(was_replayed, "acknowledged write {key} was not stored");
            }
            replayed += usize::from(was_replayed);
        }
        let balance = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=editor", DIRECT).await, 200).await;

        assert!(cut > ROUNDS, "the test cut too few requests to mean anything: {cut}");
        assert!(replayed >= acknowledged.len());
        assert_eq!(balance["current"], json!(6 + keys.len()), "one seat per key, no more, no less");
    }
}

/// A function that sends one seat add with `key`, as an SDK would.
fn add_request(
    app: &TestApp,
) -> impl Fn(&str) -> futures::future::BoxFuture<'static, reqwest::Result<reqwest::Response>>
+ Send
+ 'static {
    let builder = app.request(Method::POST, "/seats", DIRECT);
    let template = builder
        .json(&json!({"customerId": "user_123", "featureCode": "editor", "count": 1}))
        .build()
        .expect("a valid request");
    let client = app.client.clone();
    move |key: &str| {
        let mut request = template.try_clone().expect("a JSON body clones");
        request.headers_mut().insert(
            "idempotency-key",
            key.parse().expect("keys are header-safe"),
        );
        Box::pin(client.execute(request))
    }
}
