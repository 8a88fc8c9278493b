//! Client mistakes get the documented error shape in both generations, never a 500.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, error_of, json_with_status};
use reqwest::Method;

on_both_backends! {
    async fn invalid_json_is_invalid_json_in_both_generations(app: TestApp) {
        for version in [LEGACY, DIRECT] {
            let response = app
                .request(Method::POST, "/customers", version)
                .header("content-type", "application/json")
                .body("{\"email\": ")
                .send()
                .await
                .unwrap();

            let body = json_with_status(response, 400).await;
            let error = error_of(&body, version);
            assert_eq!(error["code"], "invalid_json", "{version}");
            assert_eq!(error["type"], "validation_error", "{version}");
        }
    }
}

on_both_backends! {
    async fn unknown_routes_and_methods_are_json_not_found(app: TestApp) {
        let cases = [
            (Method::POST, "/subscriptions/sub_01K00000000000000000000000/prepaid-periods", "a path Tally does not serve"),
            (Method::GET, "/nothing/here/at/all", "a made-up path"),
            (Method::DELETE, "/customers", "a known path with another method"),
        ];
        for version in [LEGACY, DIRECT] {
            for (method, path, description) in &cases {
                let response = app.request(method.clone(), path, version).send().await.unwrap();

                assert!(response.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
                let body = json_with_status(response, 404).await;
                let error = error_of(&body, version);
                assert_eq!(error["code"], "not_found", "{description} ({version})");
                assert_eq!(error["type"], "not_found_error", "{description}");
            }
        }
    }
}

on_both_backends! {
    async fn wrongly_typed_fields_name_their_param(app: TestApp) {
        let cases = [
            (serde_json::json!({"email": 42}), "email", "a number for a string"),
            (serde_json::json!({"email": "a@b.co", "metadata": [1]}), "metadata", "an array for an object"),
            (serde_json::json!([1, 2]), "body", "an array body"),
            (serde_json::json!({"email": "not-an-email"}), "email", "a malformed email"),
            (serde_json::json!({"fullName": "No Email"}), "email", "a missing email"),
            (serde_json::json!({"email": "a@b.co", "timezone": "Mars/Base"}), "timezone", "an unknown timezone"),
            (serde_json::json!({"email": "a@b.co", "id": "cus_x"}), "externalId", "an externalId shaped like our id"),
        ];
        for version in [LEGACY, DIRECT] {
            for (body, param, description) in &cases {
                let response = app.post("/customers", version, body).await;

                let body = json_with_status(response, 400).await;
                let error = error_of(&body, version);
                assert_eq!(error["code"], "validation_error", "{description}");
                assert_eq!(error["param"], *param, "{description}");
                assert_eq!(error["details"][0]["field"], *param, "{description}");
                assert!(error["details"][0]["message"].as_str().is_some_and(|m| !m.is_empty()));
            }
        }
    }
}

on_both_backends! {
    async fn bad_page_parameters_are_validation_errors(app: TestApp) {
        let cases = [
            ("/customers?limit=0", "limit"),
            ("/customers?limit=101", "limit"),
            ("/customers?limit=ten", "limit"),
            ("/customers?cursor=not-ours", "cursor"),
            ("/api-keys?limit=-1", "limit"),
        ];
        for (path, param) in cases {
            let body = json_with_status(app.get(path, DIRECT).await, 400).await;

            let error = error_of(&body, DIRECT);
            assert_eq!(error["code"], "validation_error", "{path}");
            assert_eq!(error["param"], param, "{path}");
        }
    }
}

on_both_backends! {
    async fn health_answers_json_with_a_request_id(app: TestApp) {
        let response = app.client.get(format!("{}/healthz", app.address)).send().await.unwrap();

        let request_id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
        assert!(request_id.starts_with("req_") && request_id.len() == 28, "{request_id}");
        assert!(request_id[4..].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(json_with_status(response, 200).await, serde_json::json!({"status": "ok"}));

        // Another method is an unknown endpoint, in the documented shape (never a bare 405).
        let patched = app.client.patch(format!("{}/healthz", app.address)).send().await.unwrap();
        assert!(patched.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
        let body = json_with_status(patched, 404).await;
        assert_eq!(error_of(&body, DIRECT)["code"], "not_found");
    }
}

on_both_backends! {
    async fn oversized_fields_are_refused_by_name_and_nothing_is_stored(app: TestApp) {
        let big = |bytes: usize| "x".repeat(bytes);
        app.create_customer(&serde_json::json!({"email": "c@example.com", "id": "c1"})).await;
        let cases = [
            ("/customers", serde_json::json!({"email": "m@example.com", "metadata": {"note": big(9 * 1024)}}), "metadata"),
            ("/customers", serde_json::json!({"email": "a@example.com", "address": {"line1": big(3 * 1024)}}), "address"),
            ("/customers/batch", serde_json::json!({"customers": [{"email": "b@example.com", "metadata": {"n": big(9 * 1024)}}]}), "customers.0.metadata"),
            ("/webhooks", serde_json::json!({"url": "https://hooks.example.com/t", "events": ["seats.updated"], "description": big(9 * 1024)}), "description"),
            ("/plans", serde_json::json!({"code": "big", "name": "Big", "metadata": {"n": big(9 * 1024)}}), "metadata"),
            ("/subscriptions/sub_none/balance/adjust", serde_json::json!({"amount": 1, "reason": big(2 * 1024)}), "reason"),
            ("/subscriptions/sub_none/cancel", serde_json::json!({"reason": big(2 * 1024)}), "reason"),
        ];
        for (path, body, field) in &cases {
            let response = app.post(path, DIRECT, body).await;

            let refused = json_with_status(response, 400).await;
            let error = error_of(&refused, DIRECT);
            assert_eq!(error["code"], "validation_error", "{path}");
            assert_eq!(error["param"], *field, "{path}");
        }
        let customers = json_with_status(app.get("/customers", DIRECT).await, 200).await;
        assert_eq!(customers["data"].as_array().unwrap().len(), 1, "only the first customer exists");
        let webhooks = json_with_status(app.get("/webhooks", DIRECT).await, 200).await;
        assert_eq!(webhooks["data"].as_array().unwrap().len(), 0);
    }
}

/// `json` followed by spaces up to `bytes` bytes: a valid body of exactly that size.
fn padded_body(json: &str, bytes: usize) -> String {
    format!("{json}{}", " ".repeat(bytes - json.len()))
}

on_both_backends! {
    async fn a_body_over_the_default_limit_is_413_payload_too_large(app: TestApp) {
        // The default limit admits a body of exactly its size and refuses one byte more, in the
        // documented shape of each generation, naming the limit and not the framework's words.
        let limit = tally_api::BODY_LIMIT_BYTES_DEFAULT;
        let customer = r#"{"email": "padded@example.com"}"#;

        let at_limit = app
            .request(Method::POST, "/customers", DIRECT)
            .header("content-type", "application/json")
            .body(padded_body(customer, limit))
            .send()
            .await
            .unwrap();
        assert_eq!(at_limit.status(), 200, "a body of exactly the limit is read");
        for version in [LEGACY, DIRECT] {
            let over = app
                .request(Method::POST, "/customers", version)
                .header("content-type", "application/json")
                .body(padded_body(customer, limit + 1))
                .send()
                .await
                .unwrap();

            let body = json_with_status(over, 413).await;
            let error = error_of(&body, version);
            assert_eq!(error["code"], "payload_too_large", "{version}");
            assert_eq!(error["type"], "validation_error", "{version}");
            assert_eq!(error["param"], "body", "{version}");
            assert_eq!(
                error["message"],
                format!("The request body is larger than this server's limit of {limit} bytes")
            );
        }
        let customers = json_with_status(app.get("/customers", DIRECT).await, 200).await;
        assert_eq!(customers["data"].as_array().unwrap().len(), 1, "only the body at the limit was stored");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_body_limit_follows_its_setting() {
    let options = crate::support::Options {
        body_limit_bytes: 1024,
        ..Default::default()
    };
    let app = crate::support::TestApp::spawn_with(crate::support::Backend::Sqlite, options)
        .await
        .expect("SQLite is always available");
    let customer = r#"{"email": "small@example.com"}"#;

    let at_limit = app
        .request(Method::POST, "/customers", DIRECT)
        .header("content-type", "application/json")
        .body(padded_body(customer, 1024))
        .send()
        .await
        .unwrap();
    let over = app
        .request(Method::POST, "/customers", LEGACY)
        .header("content-type", "application/json")
        .body(padded_body(customer, 1025))
        .send()
        .await
        .unwrap();

    assert_eq!(at_limit.status(), 200);
    let body = json_with_status(over, 413).await;
    let error = error_of(&body, LEGACY);
    assert_eq!(error["code"], "payload_too_large");
    assert_eq!(
        error["message"],
        "The request body is larger than this server's limit of 1024 bytes"
    );
}
