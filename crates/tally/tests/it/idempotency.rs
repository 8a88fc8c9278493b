//! `Idempotency-Key` (`wire.md` §6): same request replays, another request is refused, and two
//! identical requests at once apply once.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, SANDBOX_KEY, TestApp, error_of, json_with_status};
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

/// Sends `body` to `path` with `api_key` and the idempotency key `key`; the status, whether it
/// was replayed, and the body text.
async fn send_as(
    app: &TestApp,
    api_key: &str,
    path: &str,
    key: &str,
    body: &Value,
) -> (u16, bool, String) {
    let response = app
        .client
        .post(app.url(path))
        .header("x-api-key", api_key)
        .header("commet-version", DIRECT)
        .header("idempotency-key", key)
        .json(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let replayed = response.headers().contains_key("idempotent-replayed");
    (status, replayed, response.text().await.unwrap())
}

on_both_backends! {
    async fn a_replayed_key_creation_never_shows_the_secret_again(app: TestApp) {
        // Goal: a new key's secret is shown once, to the request that made it; the answer a
        // retry replays names the same key without its secret. Method: create a key with an
        // Idempotency-Key, send the same request again, and read what was kept for replays.
        let body = json!({"name": "deploy bot"});

        let first = send_as(&app, SANDBOX_KEY, "/api-keys", "new-key", &body).await;
        let replay = send_as(&app, SANDBOX_KEY, "/api-keys", "new-key", &body).await;

        assert_eq!((first.0, first.1), (200, false), "{}", first.2);
        let created: Value = serde_json::from_str(&first.2).unwrap();
        let secret = created["apiKey"].as_str().unwrap();
        assert!(secret.starts_with("ck_sandbox_"), "{created}");
        assert_eq!((replay.0, replay.1), (200, true), "{}", replay.2);
        assert!(!replay.2.contains(secret), "the replay carries the secret: {}", replay.2);
        let replayed: Value = serde_json::from_str(&replay.2).unwrap();
        let mut expected = created.clone();
        expected["apiKey"] = Value::Null;
        assert_eq!(replayed, expected, "the same key, its secret left out");
        assert_eq!(key_count(&app).await, 2, "the seeded key and one new key");
    }
}

on_both_backends! {
    async fn a_replayed_webhook_endpoint_creation_never_shows_the_signing_secret_again(app: TestApp) {
        let receiver = crate::receiver::Receiver::start().await;
        let body = json!({"url": receiver.url, "events": ["customer.created"]});

        let first = send_as(&app, SANDBOX_KEY, "/webhooks", "new-endpoint", &body).await;
        let replay = send_as(&app, SANDBOX_KEY, "/webhooks", "new-endpoint", &body).await;

        assert_eq!((first.0, first.1), (200, false), "{}", first.2);
        let created: Value = serde_json::from_str(&first.2).unwrap();
        let secret = created["secretKey"].as_str().unwrap();
        assert!(secret.starts_with("whsec_"), "{created}");
        assert_eq!((replay.0, replay.1), (200, true), "{}", replay.2);
        assert!(!replay.2.contains(secret), "the replay carries the secret: {}", replay.2);
        let replayed: Value = serde_json::from_str(&replay.2).unwrap();
        let mut expected = created.clone();
        expected.as_object_mut().unwrap().remove("secretKey");
        assert_eq!(replayed, expected, "the same endpoint, as reading it shows it");
    }
}

on_both_backends! {
    async fn another_key_of_the_organization_never_sees_a_keys_idempotent_answers(app: TestApp) {
        // Goal: an idempotency key belongs to the API key that sent it. Another key of the
        // same organization that sends the same Idempotency-Key and body gets a request of
        // its own (decision: each API key has its own key space), never the first key's
        // answer. Method: key A creates key B with an Idempotency-Key; B sends that very
        // request; then B reuses the key for another body (its own key space is still empty
        // for it, so that is fine too) while A gets a mismatch.
        let body = json!({"name": "second service"});
        let first = send_as(&app, SANDBOX_KEY, "/api-keys", "shared", &body).await;
        let created: Value = serde_json::from_str(&first.2).unwrap();
        let second_key = created["apiKey"].as_str().unwrap().to_owned();

        let by_second = send_as(&app, &second_key, "/api-keys", "shared", &body).await;
        let replay_by_second = send_as(&app, &second_key, "/api-keys", "shared", &body).await;
        let mismatch_by_first =
            send_as(&app, SANDBOX_KEY, "/api-keys", "shared", &json!({"name": "other"})).await;

        assert_eq!((first.0, first.1), (200, false));
        assert_eq!((by_second.0, by_second.1), (200, false), "{}", by_second.2);
        assert!(!by_second.2.contains(&second_key), "{}", by_second.2);
        let made_by_second: Value = serde_json::from_str(&by_second.2).unwrap();
        assert_ne!(made_by_second["id"], created["id"], "a key of its own");
        assert!(made_by_second["apiKey"].as_str().is_some_and(|s| s.starts_with("ck_sandbox_")));
        assert_eq!((replay_by_second.0, replay_by_second.1), (200, true));
        let replayed: Value = serde_json::from_str(&replay_by_second.2).unwrap();
        assert_eq!(replayed["id"], made_by_second["id"], "its own answer, not the first key's");
        assert_eq!(mismatch_by_first.0, 409, "{}", mismatch_by_first.2);
        assert_eq!(key_count(&app).await, 3);
    }
}

async fn key_count(app: &TestApp) -> usize {
    let list = json_with_status(app.get("/api-keys?limit=100", DIRECT).await, 200).await;
    list["data"].as_array().unwrap().len()
}
