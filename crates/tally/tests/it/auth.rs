//! Who may call: the key decides the organization and livemode; anything else is 401.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, LIVE_KEY, SANDBOX_KEY, TestApp, error_of, json_with_status};
use serde_json::json;

on_both_backends! {
    async fn missing_unknown_and_malformed_keys_are_unauthorized_in_both_generations(app: TestApp) {
        let keys = [
            None,
            Some("ck_sandbox_UnknownKey00000000000000000000000"),
            Some("not-a-key"),
            Some(""),
        ];
        for version in [LEGACY, DIRECT] {
            for key in keys {
                let mut request = app
                    .client
                    .get(app.url("/customers"))
                    .header("commet-version", version);
                if let Some(key) = key {
                    request = request.header("x-api-key", key);
                }

                let response = request.send().await.unwrap();

                assert_eq!(response.headers()["commet-version"], version);
                let body = json_with_status(response, 401).await;
                let error = error_of(&body, version);
                assert_eq!(error["code"], "unauthorized", "{key:?}");
                assert_eq!(error["type"], "authentication_error");
            }
        }
    }
}

on_both_backends! {
    async fn the_key_decides_livemode_and_organizations_never_mix(app: TestApp) {
        let sandbox_customer = app.create_customer(&json!({"email": "s@example.com", "id": "same"})).await;
        let live = app
            .client
            .post(app.url("/customers"))
            .header("x-api-key", LIVE_KEY)
            .json(&json!({"email": "l@example.com", "id": "same"}))
            .send()
            .await
            .unwrap();
        let live_customer = json_with_status(live, 200).await;

        let from_live = app
            .client
            .get(app.url(&format!("/customers/{}", sandbox_customer["id"].as_str().unwrap())))
            .header("x-api-key", LIVE_KEY)
            .send()
            .await
            .unwrap();
        let live_list = app
            .client
            .get(app.url("/customers"))
            .header("x-api-key", LIVE_KEY)
            .send()
            .await
            .unwrap();

        assert_eq!(sandbox_customer["livemode"], false);
        assert_eq!(live_customer["livemode"], true);
        assert_ne!(live_customer["id"], sandbox_customer["id"]);
        let error = error_of(&json_with_status(from_live, 404).await, DIRECT);
        assert_eq!(error["code"], "customer_not_found");
        let listed = json_with_status(live_list, 200).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1);
        assert_eq!(listed["data"][0]["id"], live_customer["id"]);
    }
}

on_both_backends! {
    async fn a_deleted_or_expired_key_stops_working(app: TestApp) {
        let created = json_with_status(
            app.post("/api-keys", DIRECT, &json!({"name": "short-lived", "expiresInDays": 1})).await,
            200,
        )
        .await;
        let doomed = json_with_status(
            app.post("/api-keys", DIRECT, &json!({"name": "doomed"})).await,
            200,
        )
        .await;
        let with_key = |key: &str| {
            app.client
                .get(app.url("/customers"))
                .header("x-api-key", key.to_owned())
                .send()
        };
        let short_lived = created["apiKey"].as_str().unwrap().to_owned();
        let doomed_key = doomed["apiKey"].as_str().unwrap().to_owned();

        let before = with_key(&short_lived).await.unwrap().status();
        let deleted = app
            .request(reqwest::Method::DELETE, &format!("/api-keys/{}", doomed["id"].as_str().unwrap()), DIRECT)
            .send()
            .await
            .unwrap();
        let after_delete = with_key(&doomed_key).await.unwrap().status();
        app.clock.as_ref().unwrap().advance_millis(24 * 60 * 60 * 1000);
        let after_expiry = with_key(&short_lived).await.unwrap().status();
        let seeded_still_works = with_key(SANDBOX_KEY).await.unwrap().status();

        assert_eq!(before, 200);
        let deleted = json_with_status(deleted, 200).await;
        assert_eq!(deleted, json!({"id": doomed["id"], "deleted": true, "object": "api_key", "livemode": false}));
        assert_eq!(after_delete, 401);
        assert_eq!(after_expiry, 401);
        assert_eq!(seeded_still_works, 200);
    }
}

on_both_backends! {
    async fn a_key_revoked_on_one_node_is_refused_at_once_by_another_that_knew_it(app: TestApp) {
        let other_node = app.another_node().await;
        let created = json_with_status(
            app.post("/api-keys", DIRECT, &json!({"name": "revoked elsewhere"})).await,
            200,
        )
        .await;
        let key = created["apiKey"].as_str().unwrap().to_owned();
        let read = |node: &TestApp| {
            node.client
                .get(node.url("/customers"))
                .header("x-api-key", key.clone())
                .send()
        };
        let write = |node: &TestApp, n: u32| {
            node.client
                .post(node.url("/customers"))
                .header("x-api-key", key.clone())
                .json(&json!({"email": format!("c{n}@example.com"), "externalId": format!("c{n}")}))
                .send()
        };
        // Both nodes serve the key, so both have it in memory.
        let known = [
            read(&app).await.unwrap().status(),
            read(&other_node).await.unwrap().status(),
            write(&other_node, 1).await.unwrap().status(),
        ];
        let revoked = app
            .request(reqwest::Method::DELETE, &format!("/api-keys/{}", created["id"].as_str().unwrap()), DIRECT)
            .send()
            .await
            .unwrap()
            .status();
        let after = [
            read(&other_node).await.unwrap().status(),
            write(&other_node, 2).await.unwrap().status(),
            read(&app).await.unwrap().status(),
        ];
        let customers = json_with_status(app.get("/customers", DIRECT).await, 200).await;

        assert_eq!(known, [200, 200, 200]);
        assert_eq!(revoked, 200);
        assert_eq!(after, [401, 401, 401]);
        let external_ids: Vec<&str> = customers["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["externalId"].as_str().unwrap())
            .collect();
        assert_eq!(external_ids, ["c1"], "the refused write left nothing");
    }
}

on_both_backends! {
    async fn api_keys_are_listed_without_secrets_and_created_keys_match_their_mode(app: TestApp) {
        let created = json_with_status(app.post("/api-keys", LEGACY, &json!({"name": "ci"})).await, 200).await;
        let listed = json_with_status(app.get("/api-keys?limit=100", LEGACY).await, 200).await;

        let data = &created["data"];
        let secret = data["apiKey"].as_str().unwrap();
        assert_eq!(created["success"], true);
        assert!(secret.starts_with("ck_sandbox_") && secret.len() == "ck_sandbox_".len() + 32);
        assert_eq!(data["prefix"], secret[..15]);
        assert_eq!(data["object"], "api_key");
        assert_eq!(data["livemode"], false);
        assert_eq!(data["expiresAt"], "2027-06-01T00:00:00.000Z", "365 days after the clock's start");
        let keys = listed["data"].as_array().unwrap();
        assert_eq!(keys.len(), 2, "the seeded key and the new one: {listed}");
        assert_eq!(keys[0]["id"], data["id"], "newest first");
        assert!(keys.iter().all(|k| k.get("apiKey").is_none()));
        assert_eq!(listed["hasMore"], false);
    }
}

on_both_backends! {
    async fn a_refused_request_with_a_body_keeps_its_connection_usable(app: TestApp) {
        // Goal: a 401 answered before the body is read must not close the connection under a
        // client that reuses it (the Python SDK saw "server disconnected" on its next request).
        // Method: two requests on one raw TCP connection, the first refused at the edge.
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let host = app.address.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&host).await.unwrap();
        let body = r#"{"customerId":"c","featureCode":"editor","count":1}"#;
        let refused_head = format!(
            "POST /api/v1/seats HTTP/1.1\r\nhost: {host}\r\nx-api-key: ck_sandbox_UnknownKey00000000000000000000000\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let allowed = format!("GET /healthz HTTP/1.1\r\nhost: {host}\r\n\r\n");

        // The body follows the head in a second packet, as HTTP clients often send it: the
        // edge can refuse the key before the body arrives.
        socket.write_all(refused_head.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        socket.write_all(body.as_bytes()).await.unwrap();
        let first = read_response(&mut socket).await;
        socket.write_all(allowed.as_bytes()).await.unwrap();
        let second = read_response(&mut socket).await;

        assert!(first.starts_with("HTTP/1.1 401"), "{first}");
        assert!(second.starts_with("HTTP/1.1 200"), "the connection was closed: {second:?}");

        async fn read_response(socket: &mut tokio::net::TcpStream) -> String {
            // One response: headers, then exactly content-length bytes.
            let mut buffer = Vec::new();
            let mut chunk = [0_u8; 4096];
            loop {
                let text = String::from_utf8_lossy(&buffer).to_string();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse::<usize>().unwrap()))
                        .unwrap_or(0);
                    if buffer.len() >= end + 4 + length {
                        return text;
                    }
                }
                let read = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut chunk))
                    .await
                    .expect("the server answers in time")
                    .unwrap();
                if read == 0 {
                    return text;
                }
                buffer.extend_from_slice(&chunk[..read]);
            }
        }
    }
}

on_both_backends! {
    async fn key_expiry_runs_on_real_time_whatever_the_sandbox_test_clock(app: TestApp) {
        // Goal: a key's lifetime is real time, like the credential it is; a sandbox's test
        // clock (ten years ahead here) neither stretches nor shortens it. Method: move the
        // test clock, create a one-day key, then let one real day pass (the server's clock).
        json_with_status(app.post("/test-clock", LEGACY, &json!({"advanceDays": 3650})).await, 200).await;
        let created = json_with_status(
            app.post("/api-keys", DIRECT, &json!({"name": "one day", "expiresInDays": 1})).await,
            200,
        )
        .await;
        let secret = created["apiKey"].as_str().unwrap().to_owned();
        let with_key = || {
            app.client
                .get(app.url("/customers"))
                .header("x-api-key", secret.clone())
                .send()
        };

        let before = with_key().await.unwrap().status();
        app.clock.as_ref().unwrap().advance_millis(24 * 60 * 60 * 1000);
        let after_a_real_day = with_key().await.unwrap().status();

        assert_eq!(created["expiresAt"], "2026-06-02T00:00:00.000Z", "a real day after creation");
        assert_eq!(created["createdAt"], "2026-06-01T00:00:00.000Z");
        assert_eq!(before, 200);
        assert_eq!(after_a_real_day, 401);
    }
}
