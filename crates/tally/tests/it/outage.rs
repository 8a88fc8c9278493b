//! A database that goes away is a temporary condition: while PostgreSQL is unreachable every
//! request gets `503` with `Retry-After` in the documented error shape (never `500`, which is
//! kept for bugs), and the server serves again once it is back.

use crate::support::{Backend, DIRECT, TestApp, error_of};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Mutex;

const WRITERS: usize = 8;

/// What one request got: its status, its `Retry-After`, and the code of an error.
#[derive(Debug, Clone)]
struct Answer {
    status: u16,
    retry_after: Option<String>,
    code: Option<String>,
}

async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body: Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    let code =
        (status >= 400).then(|| error_of(&body, DIRECT)["code"].as_str().unwrap().to_owned());
    Answer {
        status,
        retry_after,
        code,
    }
}

type Answers = Mutex<Vec<(usize, bool, Answer)>>;

/// Waits until each client has an answer from `from` on that `matches` (whether the request
/// started after the cut-off, and the answer). Polls with a deadline: the clients run on their
/// own, and the outage passes in real time.
async fn wait_for_every_client(
    answers: &Answers,
    from: usize,
    what: &str,
    matches: fn(bool, &Answer) -> bool,
) {
    let every_client = async {
        loop {
            {
                let answers = answers.lock().await;
                let clients = (0..=WRITERS)
                    .filter(|c| {
                        answers[from..]
                            .iter()
                            .any(|a| a.0 == *c && matches(a.1, &a.2))
                    })
                    .count();
                if clients > WRITERS {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(60), every_client)
        .await
        .unwrap_or_else(|_| panic!("not every client {what}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_postgres_is_unreachable_requests_get_503_with_retry_after_then_it_recovers() {
    // Goal: the outage a PostgreSQL restart causes, without restarting the server other tests
    // share. Method: 8 writers and a reader run against the server; the test database then
    // refuses connections and its open ones are ended mid-transaction; once every writer has
    // seen the outage the database is let back in, and each writer must succeed again.
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let app = Arc::new(app);
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Answers::default());
    let is_cut_off = Arc::new(AtomicBool::new(false));
    let mut clients = tokio::task::JoinSet::new();
    for client in 0..=WRITERS {
        let (app, stop, answers, is_cut_off) = (
            app.clone(),
            stop.clone(),
            answers.clone(),
            is_cut_off.clone(),
        );
        clients.spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let after_cut_off = is_cut_off.load(Ordering::Relaxed);
                // The last client reads (authentication and a list); the others write.
                let response = if client == WRITERS {
                    app.get("/customers?limit=1", DIRECT).await
                } else {
                    let email = format!("w{client}-{n}@example.com");
                    app.post("/customers", DIRECT, &json!({"email": email}))
                        .await
                };
                let answer = answer(response).await;
                answers.lock().await.push((client, after_cut_off, answer));
            }
        });
    }
    wait_for_every_client(&answers, 0, "gets going", |_, a| a.status == 200).await;
    app.database
        .as_ref()
        .expect("the first node owns the database")
        .cut_off()
        .await;
    is_cut_off.store(true, Ordering::Relaxed);
    wait_for_every_client(&answers, 0, "sees the outage", |after_cut_off, a| {
        after_cut_off && a.status != 200
    })
    .await;
    let reopened_at = answers.lock().await.len();
    app.database
        .as_ref()
        .expect("the first node owns the database")
        .reopen()
        .await;
    wait_for_every_client(
        &answers,
        reopened_at,
        "succeeds again once the database is back",
        |_, a| a.status == 200,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    while let Some(client) = clients.join_next().await {
        client.unwrap();
    }

    let answers = answers.lock().await;
    let unexpected: Vec<_> = answers
        .iter()
        .filter(|a| a.2.status != 200 && a.2.status != 503)
        .collect();
    assert!(unexpected.is_empty(), "only 200 or 503: {unexpected:?}");
    for (client, _, refused) in answers.iter().filter(|a| a.2.status == 503) {
        assert!(
            matches!(
                refused.code.as_deref(),
                Some("service_unavailable" | "idempotency_unavailable")
            ),
            "client {client}: {refused:?}"
        );
        let retry_after: u64 = refused
            .retry_after
            .as_deref()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("client {client}: no whole-second Retry-After: {refused:?}"));
        assert!(retry_after >= 1, "{refused:?}");
    }
}
