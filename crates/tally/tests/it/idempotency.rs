//! `Idempotency-Key` (`wire.md` §6): same request replays, another request is refused, and two
//! identical requests at once apply once.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

async fn send(
    app: &TestApp,
    version: &str,
    key: &str,
    body: &Value,
) -> (u16, Option<String>, String) {
    let response = app
        .request(Method::POST, "/customers", version)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, replayed, response.text().await.unwrap())
}

async fn customer_count(app: &TestApp) -> usize {
    let list = json_with_status(app.get("/customers?limit=100", DIRECT).await, 200).await;
    list["data"].as_array().unwrap().len()
}

on_both_backends! {
    async fn a_retried_write_replays_the_first_response_byte_for_byte(app: TestApp) {
        for (n, version) in [LEGACY, DIRECT].into_iter().enumerate() {
            let key = format!("retry-{version}");
            let body = json!({"email": format!("r{n}@example.com")});

            let first = send(&app, version, &key, &body).await;
            app.clock.as_ref().unwrap().advance_millis(5_000);
            let second = send(&app, version, &key, &body).await;

            assert_eq!((first.0, first.1.as_deref()), (200, None));
            assert_eq!((second.0, second.1.as_deref()), (200, Some("true")));
            assert_eq!(second.2, first.2, "replayed bytes differ");
        }
        // No externalId, so without the key each request would have made a new customer.
        assert_eq!(customer_count(&app).await, 2);
    }
}

on_both_backends! {
    async fn a_reused_key_with_another_body_or_path_is_rejected(app: TestApp) {
        for version in [LEGACY, DIRECT] {
            let key = format!("reuse-{version}");
            send(&app, version, &key, &json!({"email": "first@example.com"})).await;

            let other_body = send(&app, version, &key, &json!({"email": "second@example.com"})).await;
            let other_path = app
                .request(Method::POST, "/api-keys", version)
                .header("idempotency-key", &key)
                .json(&json!({"name": "valid for this path"}))
                .send()
                .await
                .unwrap();

            assert_eq!(other_body.0, 409);
            let error = error_of(&serde_json::from_str(&other_body.2).unwrap(), version);
            assert_eq!(error["code"], "idempotency_key_mismatch");
            assert_eq!(error["type"], "conflict_error");
            let error = error_of(&json_with_status(other_path, 409).await, version);
            assert_eq!(error["code"], "idempotency_key_mismatch");
        }
        assert_eq!(customer_count(&app).await, 2);
    }
}

on_both_backends! {
    async fn a_refusal_is_replayed_too(app: TestApp) {
        let unknown = "/customers/cus_01JZZZZZZZZZZZZZZZZZZZZZZZ";
        let attempt = || {
            app.request(Method::PATCH, unknown, DIRECT)
                .header("idempotency-key", "refused")
                .json(&json!({"fullName": "Nobody"}))
                .send()
        };

        let first = attempt().await.unwrap();
        let second = attempt().await.unwrap();

        assert_eq!(second.headers()["idempotent-replayed"], "true");
        let first = json_with_status(first, 404).await;
        let second = json_with_status(second, 404).await;
        assert_eq!(error_of(&first, DIRECT)["code"], "customer_not_found");
        assert_eq!(first, second);
    }
}

on_both_backends! {
    async fn two_identical_requests_at_once_apply_once_and_answer_identically(app: TestApp) {
        // Goal: the race the SDKs' own retries can create. Method: fire the same keyed request
        // from many tasks at once, then count customers and compare bodies.
        let body = json!({"email": "race@example.com", "fullName": "Race"});
        let requests = (0..8).map(|_| send(&app, DIRECT, "race", &body));

        let answers = futures::future::join_all(requests).await;

        let fresh = answers.iter().filter(|a| a.1.is_none()).count();
        assert_eq!(fresh, 1, "exactly one request did the work: {answers:?}");
        for answer in &answers {
            assert_eq!(answer.0, 200, "{answer:?}");
            assert_eq!(answer.2, answers[0].2);
        }
        assert_eq!(customer_count(&app).await, 1);
    }
}
