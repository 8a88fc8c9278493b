//! Model test: a seeded random sequence of seat operations runs against the real server and a
//! tiny in-memory model; after every step the balances must agree. A failure prints the seed;
//! `TALLY_MODEL_SEED=<seed> cargo test seat_model` replays the same sequence.

use crate::catalog::send;
use crate::support::{Backend, DIRECT, LEGACY, TestApp, json_with_status};
use reqwest::Method;
use serde_json::json;
use std::collections::BTreeMap;

const STEPS: usize = 60;
const CODES: [&str; 2] = ["editor", "viewer"];

/// A small deterministic generator (64-bit LCG), so a seed replays exactly.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

async fn run_model(backend: Backend) {
    let seed = std::env::var("TALLY_MODEL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for code in CODES {
        app.post(
            "/features",
            DIRECT,
            &json!({"name": code, "code": code, "type": "seats"}),
        )
        .await;
    }
    let plan = json_with_status(
        app.post("/plans", DIRECT, &json!({"name": "Pro", "code": "pro"}))
            .await,
        200,
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    app.post(
        &format!("/plans/{plan}/prices"),
        DIRECT,
        &json!({"billingInterval": "monthly", "price": 1000}),
    )
    .await;
    for code in CODES {
        app.post(&format!("/plans/{plan}/features"), DIRECT, &json!({"featureId": code, "includedAmount": 3, "overage": {"enabled": true, "unitPrice": 100}})).await;
    }
    app.create_customer(&json!({"email": "m@example.com", "id": "model"}))
        .await;
    json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": "model", "planCode": "pro"}),
        )
        .await,
        200,
    )
    .await;

    let mut rng = Rng(seed);
    let mut model: BTreeMap<&str, i64> = CODES.iter().map(|c| (*c, 0)).collect();
    for step in 0..STEPS {
        let code = CODES[rng.below(2) as usize];
        let count = rng.below(6) as i64;
        let version = if rng.below(2) == 0 { LEGACY } else { DIRECT };
        let body = json!({"customerId": "model", "featureCode": code, "count": count});
        let (response, expected) = match rng.below(4) {
            0 => (
                app.post("/seats", version, &body).await,
                (count >= 1).then(|| model[code] + count),
            ),
            1 => (
                app.post("/seats/remove", version, &body).await,
                (count >= 1 && count <= model[code]).then(|| model[code] - count),
            ),
            2 => (
                send(&app, Method::PUT, "/seats", version, Some(body)).await,
                Some(count),
            ),
            _ => (
                send(
                    &app,
                    Method::PUT,
                    "/seats/bulk",
                    version,
                    Some(json!({"customerId": "model", "seats": {code: count}})),
                )
                .await,
                Some(count),
            ),
        };
        let status = response.status().as_u16();
        match expected {
            Some(balance) => {
                assert_eq!(
                    status,
                    200,
                    "seed {seed}, step {step}: {}",
                    response.text().await.unwrap()
                );
                model.insert(code, balance);
            }
            None => assert_eq!(
                status, 400,
                "seed {seed}, step {step}: the model refuses this change"
            ),
        }
        let served = json_with_status(
            app.get("/seats/balances?customerId=model", DIRECT).await,
            200,
        )
        .await;
        for code in CODES {
            assert_eq!(
                served["balances"][code]["current"], model[code],
                "seed {seed}, step {step}, {code}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_seat_operations_agree_with_the_model_on_sqlite() {
    run_model(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_seat_operations_agree_with_the_model_on_postgres() {
    run_model(Backend::Postgres).await;
}
