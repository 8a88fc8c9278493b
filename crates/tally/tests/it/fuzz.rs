//! Fuzzing the edge: seeded random requests (paths, methods, headers, bodies) against the real
//! server; every answer is JSON in the documented error shape or a success, never a 5xx.
//! A failure prints the seed; `TALLY_FUZZ_SEED=<seed>` replays it.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, SANDBOX_KEY, TestApp};
use reqwest::Method;

const REQUESTS: usize = 400;
const PATHS: [&str; 24] = [
    "/customers",
    "/customers/batch",
    "/customers/{id}",
    "/features",
    "/features/manage",
    "/features/{id}",
    "/plans",
    "/plans/{id}",
    "/plans/{id}/prices",
    "/plans/{id}/features",
    "/subscriptions",
    "/subscriptions/active",
    "/subscriptions/{id}/cancel",
    "/seats",
    "/seats/remove",
    "/seats/bulk",
    "/seats/balance",
    "/seats/balances",
    "/seats/events",
    "/test-clock",
    "/webhooks",
    "/invoices",
    "/api-keys",
    "/subscriptions/{id}/balance/adjust",
];
const IDS: [&str; 6] = [
    "cus_01JZZZZZZZZZZZZZZZZZZZZZZZ",
    "pro",
    "%00",
    "..%2F..",
    "%E2%82",
    "ftr_nope",
];
const BODIES: [&str; 16] = [
    "",
    "{",
    "[]",
    "null",
    "42",
    "\"text\"",
    "{\"customerId\":null}",
    "{\"count\":1e400}",
    "{\"email\":\"a@b.c\",\"metadata\":{\"k\":[1,{\"x\":null}]}}",
    "{\"customerId\":\"u\",\"featureCode\":\"editor\",\"count\":-9223372036854775808}",
    "{\"customerId\":\"u\",\"seats\":{\"a\":9223372036854775807}}",
    "{\"advanceDays\":9223372036854775807}",
    "{\"name\":\"\\u0000\",\"code\":\"\\ud800\"}",
    "{\"url\":\"http://[::1\",\"events\":[1]}",
    "{\"email\":\"a@b.c\",\"fullName\":\"x\\u0000y\"}",
    "{\"customerId\":\"u\\u0000\",\"featureCode\":\"editor\",\"count\":1}",
];
const METHODS: [Method; 5] = [
    Method::GET,
    Method::POST,
    Method::PUT,
    Method::PATCH,
    Method::DELETE,
];

struct Rng(u64);

impl Rng {
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

on_both_backends! {
    async fn random_requests_never_get_a_server_error(app: TestApp) {
        fuzz(app).await;
    }
}

async fn fuzz(app: TestApp) {
    let seed = std::env::var("TALLY_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    let mut rng = Rng(seed);
    for n in 0..REQUESTS {
        let path = PATHS[rng.pick(PATHS.len())].replace("{id}", IDS[rng.pick(IDS.len())]);
        let query = [
            "",
            "?limit=0",
            "?limit=abc",
            "?customerId=",
            "?cursor=%ff",
            "?status=x&customerId=u",
        ][rng.pick(6)];
        let method = METHODS[rng.pick(METHODS.len())].clone();
        let body = BODIES[rng.pick(BODIES.len())];
        let version = [LEGACY, DIRECT, "junk", "2026-02-30"][rng.pick(4)];
        let key = [SANDBOX_KEY, "ck_sandbox_", ""][rng.pick(3)];
        let idempotency = ["", "k", &"k".repeat(300)][rng.pick(3)].to_owned();
        let mut request = app
            .client
            .request(method.clone(), format!("{}{path}{query}", app.url("")))
            .header("x-api-key", key)
            .header("commet-version", version)
            .header("content-type", "application/json")
            .body(body);
        if !idempotency.is_empty() {
            request = request.header("idempotency-key", idempotency);
        }

        let response = request.send().await.unwrap();

        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        let described =
            format!("seed {seed}, request {n}: {method} {path}{query} {body:?} -> {status} {text}");
        assert!(status < 500, "{described}");
        let json: serde_json::Value =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {described}"));
        if status >= 400 {
            let error = &json["error"];
            for key in ["type", "code", "message", "param", "details", "doc_url"] {
                assert!(error.get(key).is_some(), "missing {key}: {described}");
            }
        }
    }
}
