//! Webhooks over HTTP (`webhooks.md`): endpoints, signed deliveries to a real receiver,
//! retries after a 500 and after a timeout with the same event and bytes, the delivery log.

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::receiver::{Answer, Receiver};
use crate::support::{
    Backend, DIRECT, LEGACY, LIVE_KEY, Options, TestApp, error_of, json_with_status,
};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{Value, json};
use sha2::Sha256;
use std::time::Duration;

const SEAT_EVENTS: [&str; 3] = [
    "seats.updated",
    "seats.limit_reached",
    "customer.state_changed",
];

fn hmac_hex(secret: &str, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

async fn dispatch(app: &TestApp) -> tally_workers::DispatchReport {
    tally_workers::Dispatcher::new(app.app.clone(), Duration::from_millis(100))
        .run_once()
        .await
        .unwrap()
}

/// Plan `pro` (editor: 5 included), customer `user_123` on it with 4 seats.
async fn subscribed(app: &TestApp) {
    pro_plan(app).await;
    app.create_customer(&json!({"email": "owner@acme.test", "id": "user_123"}))
        .await;
    json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 4}}),
        )
        .await,
        200,
    )
    .await;
}

async fn endpoint(app: &TestApp, url: &str, version: &str) -> Value {
    let created = json_with_status(
        app.post(
            "/webhooks",
            version,
            &json!({"url": url, "events": SEAT_EVENTS}),
        )
        .await,
        200,
    )
    .await;
    if version == LEGACY {
        created["data"].clone()
    } else {
        created
    }
}

on_both_backends! {
    async fn seat_changes_reach_the_receiver_signed_in_each_endpoints_version(app: TestApp) {
        subscribed(&app).await;
        // Endpoints receive what happens from their creation on: the setup's events come first.
        app.clock.as_ref().unwrap().advance_millis(1_000);
        let receiver = Receiver::start().await;
        let legacy = endpoint(&app, &receiver.url, LEGACY).await;
        let direct = endpoint(&app, &receiver.url, DIRECT).await;
        app.clock.as_ref().unwrap().advance_millis(1_000);

        app.post("/seats", DIRECT, &json!({"customerId": "user_123", "featureCode": "editor", "count": 1})).await;
        let report = dispatch(&app).await;
        let again = dispatch(&app).await;

        // Six setup events (customer, subscription, first invoice, activation, two state
        // changes) came before the endpoints; three seat events after.
        assert_eq!(report.events_fanned_out, 9);
        assert_eq!((report.attempts, report.succeeded), (6, 6), "three events to two endpoints");
        assert_eq!(again.attempts, 0, "nothing is sent twice");
        let received = receiver.received();
        assert_eq!(received.len(), 6);
        for delivery in &received {
            let envelope = delivery.json();
            let secret = if envelope["apiVersion"] == LEGACY { &legacy["secretKey"] } else { &direct["secretKey"] };
            assert_eq!(delivery.header("x-commet-signature"), hmac_hex(secret.as_str().unwrap(), &delivery.body));
            assert_eq!(delivery.header("x-commet-event"), envelope["event"]);
            assert_eq!(delivery.header("x-commet-event-id"), envelope["id"]);
            assert_eq!(delivery.header("x-commet-timestamp"), envelope["timestamp"]);
            assert_eq!(delivery.header("content-type"), "application/json");
            assert!(delivery.header("user-agent").starts_with("Tally-Webhooks/"));
            let keys: Vec<_> = envelope.as_object().unwrap().keys().cloned().collect();
            assert_eq!(keys, ["id", "event", "timestamp", "organizationId", "mode", "apiVersion", "data"]);
            assert_eq!(envelope["timestamp"], "2026-06-01T00:00:02.000Z");
            assert_eq!(envelope["mode"], "sandbox");
        }
        let by_event = |event: &str, version: &str| {
            received.iter().map(|r| r.json()).find(|e| e["event"] == event && e["apiVersion"] == version).unwrap()
        };
        let updated = by_event("seats.updated", DIRECT);
        assert_eq!(updated["data"], json!({"customerId": "user_123", "subscriptionId": updated["data"]["subscriptionId"], "featureCode": "editor", "previousSeats": 4, "currentSeats": 5}));
        assert_eq!(updated["id"], by_event("seats.updated", LEGACY)["id"], "one event id for every endpoint");
        assert_eq!(by_event("seats.limit_reached", LEGACY)["data"]["includedSeats"], 5);
        let legacy_state = by_event("customer.state_changed", LEGACY)["data"].clone();
        let direct_state = by_event("customer.state_changed", DIRECT)["data"].clone();
        assert_eq!(legacy_state["trigger"], "seats_updated");
        assert_eq!(legacy_state["seats"], json!([{"code": "editor", "current": 5, "included": 5, "remaining": 0, "unlimited": false}]));
        assert_eq!(legacy_state["features"][0], json!({"code": "editor", "name": "Editor seats", "type": "seats", "allowed": true, "enabled": null,
            "current": 5, "included": 5, "remaining": 0, "overageQuantity": 0, "overageUnitPrice": 250000, "unlimited": false, "overageEnabled": true, "billedQuantity": null}));
        assert_eq!(direct_state["features"][0]["usage"], json!({"period": {"start": "2026-06-01T00:00:00.000Z", "end": "2026-07-01T00:00:00.000Z"},
            "unitsUsed": 5, "includedUnits": 5, "unlimited": false, "overage": {"enabled": true, "units": 0, "unitPrice": {"amount": 250000, "currency": "usd", "scale": 10000}}, "remainingUnits": 0}));
    }
}

on_both_backends! {
    async fn a_failed_delivery_is_retried_with_the_same_event_and_bytes(app: TestApp) {
        subscribed(&app).await;
        let receiver = Receiver::start().await;
        let hook = json_with_status(app.post("/webhooks", DIRECT, &json!({"url": receiver.url, "events": ["seats.updated"]})).await, 200).await;
        receiver.script(&[Answer::Status(500)]);

        app.post("/seats", DIRECT, &json!({"customerId": "user_123", "featureCode": "editor", "count": 2})).await;
        let first = dispatch(&app).await;
        let too_early = dispatch(&app).await;
        app.clock.as_ref().unwrap().advance_millis(60_000);
        let retry = dispatch(&app).await;
        let log = json_with_status(app.get(&format!("/webhooks/{}/deliveries", hook["id"].as_str().unwrap()), DIRECT).await, 200).await;

        assert_eq!((first.attempts, first.succeeded), (1, 0));
        assert_eq!(too_early.attempts, 0, "the first retry waits a minute");
        assert_eq!((retry.attempts, retry.succeeded), (1, 1));
        let received = receiver.received();
        assert_eq!(received.len(), 2);
        assert_eq!(received[0].body, received[1].body, "same bytes");
        assert_eq!(received[0].header("x-commet-signature"), received[1].header("x-commet-signature"));
        assert_eq!(received[0].header("x-commet-event-id"), received[1].header("x-commet-event-id"));
        let delivery = &log["data"][0];
        assert_eq!(delivery["status"], "succeeded");
        assert_eq!(delivery["attemptCount"], 2);
        let codes: Vec<_> = delivery["attempts"].as_array().unwrap().iter().map(|a| a["statusCode"].clone()).collect();
        assert_eq!(codes, [json!(500), json!(200)]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_times_out_gets_the_same_event_again() {
    let options = Options {
        webhook_timeout_ms: 300,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    subscribed(&app).await;
    let receiver = Receiver::start().await;
    let hook = json_with_status(
        app.post(
            "/webhooks",
            DIRECT,
            &json!({"url": receiver.url, "events": ["seats.updated"]}),
        )
        .await,
        200,
    )
    .await;
    receiver.script(&[Answer::SleepMs(2_000)]);

    app.post(
        "/seats",
        DIRECT,
        &json!({"customerId": "user_123", "featureCode": "editor", "count": 1}),
    )
    .await;
    let timed_out = dispatch(&app).await;
    app.clock.as_ref().unwrap().advance_millis(60_000);
    let retried = dispatch(&app).await;
    let log = json_with_status(
        app.get(
            &format!("/webhooks/{}/deliveries", hook["id"].as_str().unwrap()),
            DIRECT,
        )
        .await,
        200,
    )
    .await;

    assert_eq!((timed_out.attempts, timed_out.succeeded), (1, 0));
    assert_eq!((retried.attempts, retried.succeeded), (1, 1));
    let received = receiver.received();
    assert_eq!(received.len(), 2);
    assert_eq!(
        received[0].header("x-commet-event-id"),
        received[1].header("x-commet-event-id")
    );
    assert_eq!(received[0].body, received[1].body);
    let first_attempt = &log["data"][0]["attempts"][0];
    assert_eq!(first_attempt["statusCode"], Value::Null);
    assert!(
        first_attempt["error"]
            .as_str()
            .unwrap()
            .contains("timed out"),
        "{first_attempt}"
    );
}

on_both_backends! {
    async fn endpoints_are_managed_in_both_generations_and_bad_ones_refused(app: TestApp) {
        let receiver = Receiver::start().await;

        let created = json_with_status(app.post("/webhooks", LEGACY, &json!({"url": receiver.url, "events": ["seats.updated"], "description": "ops"})).await, 200).await;
        let hook = created["data"].clone();
        let id = hook["id"].as_str().unwrap().to_owned();
        let listed = json_with_status(app.get("/webhooks", DIRECT).await, 200).await;
        let updated = json_with_status(send(&app, Method::PATCH, &format!("/webhooks/{id}"), DIRECT, Some(json!({"isActive": false, "description": null}))).await, 200).await;
        let tested = json_with_status(app.post(&format!("/webhooks/{id}/test"), DIRECT, &json!({})).await, 200).await;
        let deleted = json_with_status(send(&app, Method::DELETE, &format!("/webhooks/{id}"), LEGACY, None).await, 200).await;
        let gone = json_with_status(app.get(&format!("/webhooks/{id}"), DIRECT).await, 404).await;

        assert!(id.starts_with("whe_"));
        let secret = hook["secretKey"].as_str().unwrap();
        assert!(secret.starts_with("whsec_") && secret.len() == 6 + 32);
        assert_eq!(hook["apiVersion"], LEGACY, "pinned to the creating request's version");
        assert_eq!((hook["object"].clone(), hook["isActive"].clone(), hook["description"].clone()), (json!("webhook"), json!(true), json!("ops")));
        assert!(listed["data"][0].get("secretKey").is_none());
        assert_eq!((updated["isActive"].clone(), updated["description"].clone()), (json!(false), Value::Null));
        assert_eq!(tested["success"], true);
        assert!(tested["deliveryId"].as_str().unwrap().starts_with("whd_"));
        assert_eq!(tested["object"], "webhook_delivery");
        let test_delivery = &receiver.received()[0];
        assert_eq!(test_delivery.json()["event"], "webhook.test");
        assert_eq!(test_delivery.json()["data"], json!({"webhookId": id}));
        assert_eq!(test_delivery.header("x-commet-signature"), hmac_hex(secret, &test_delivery.body));
        assert_eq!(deleted["data"], json!({"id": id, "deleted": true, "object": "webhook", "livemode": false}));
        assert_eq!(error_of(&gone, DIRECT)["code"], "webhook_not_found");

        let own = format!("{}/hooks", app.address);
        let own_port = app.address.rsplit(':').next().unwrap();
        let cases = [
            (json!({"url": "not a url", "events": ["seats.updated"]}), "url", "not a URL"),
            (json!({"url": "ftp://example.com", "events": ["seats.updated"]}), "url", "not http(s)"),
            (json!({"url": own, "events": ["seats.updated"]}), "url", "this server's own API"),
            // Loopback is allowed in these tests; this server's own port never is.
            (json!({"url": format!("http://0x7f000001:{own_port}/hooks"), "events": ["seats.updated"]}), "url", "this server's own API, hexadecimal"),
            (json!({"url": format!("http://[::ffff:127.0.0.1]:{own_port}/hooks"), "events": ["seats.updated"]}), "url", "this server's own API, IPv4-mapped"),
            (json!({"url": receiver.url, "events": []}), "events", "no events"),
            (json!({"url": receiver.url, "events": ["seats.exploded"]}), "events.0", "an unknown event"),
            (json!({"url": receiver.url, "events": ["seats.updated"], "apiVersion": "2025-01-01"}), "apiVersion", "an unknown version"),
            (json!({"events": ["seats.updated"]}), "url", "no url"),
        ];
        for (body, param, description) in cases {
            let error = error_of(&json_with_status(app.post("/webhooks", DIRECT, &body).await, 400).await, DIRECT);
            assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some("validation_error"), Some(param)), "{description}");
        }
        let live_http = app.client.post(app.url("/webhooks")).header("x-api-key", LIVE_KEY)
            .json(&json!({"url": receiver.url, "events": ["seats.updated"]})).send().await.unwrap();
        assert_eq!(error_of(&json_with_status(live_http, 400).await, DIRECT)["param"], "url", "live endpoints need https");
    }
}

on_both_backends! {
    async fn customer_and_subscription_transitions_are_delivered_in_order(app: TestApp) {
        pro_plan(&app).await;
        let receiver = Receiver::start().await;
        let events = ["customer.created", "customer.updated", "subscription.created", "subscription.updated",
            "subscription.cancellation_scheduled", "subscription.cancellation_revoked", "subscription.canceled", "customer.state_changed"];
        app.post("/webhooks", DIRECT, &json!({"url": receiver.url, "events": events})).await;

        let customer = app.create_customer(&json!({"email": "t@acme.test", "id": "t1"})).await;
        send(&app, Method::PATCH, "/customers/t1", DIRECT, Some(json!({"fullName": "T One"}))).await;
        let sub = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "t1", "planCode": "pro"})).await, 200).await;
        let id = sub["id"].as_str().unwrap().to_owned();
        app.post(&format!("/subscriptions/{id}/cancel"), DIRECT, &json!({"reason": "moving"})).await;
        app.post(&format!("/subscriptions/{id}/uncancel"), DIRECT, &json!({})).await;
        app.post(&format!("/subscriptions/{id}/cancel"), DIRECT, &json!({})).await;
        app.post("/test-clock", DIRECT, &json!({"advanceDays": 31})).await;
        dispatch(&app).await;

        let received: Vec<Value> = receiver.received().iter().map(|r| r.json()).collect();
        // Delivery order is not guaranteed (`webhooks.md` §6): compare what arrived, sorted.
        let mut names: Vec<String> = received.iter().map(|e| match e["data"]["trigger"].as_str() {
            Some(trigger) => format!("state:{trigger}"),
            None => e["event"].as_str().unwrap().to_owned(),
        }).collect();
        names.sort();
        let mut expected = vec![
            "customer.created", "customer.updated", "subscription.created", "state:subscription_created",
            "state:subscription_activated",
            "subscription.updated", "subscription.cancellation_scheduled", "state:cancellation_scheduled",
            "subscription.cancellation_revoked", "state:cancellation_revoked",
            "subscription.updated", "subscription.cancellation_scheduled", "state:cancellation_scheduled",
            "subscription.canceled", "state:subscription_canceled",
        ];
        expected.sort_unstable();
        assert_eq!(names, expected);
        let created = received.iter().find(|e| e["event"] == "customer.created").unwrap();
        assert_eq!(created["data"]["id"], customer["id"]);
        assert_eq!(created["data"]["externalId"], "t1");
        let canceled = received.iter().find(|e| e["event"] == "subscription.canceled").unwrap();
        assert_eq!(canceled["data"]["status"], "canceled");
        assert_eq!(canceled["data"]["endDate"], "2026-07-01T00:00:00.000Z");
        assert_eq!(canceled["timestamp"], "2026-07-01T00:00:00.000Z", "emitted at the period end on the test clock");
        let final_state = received.iter().find(|e| e["data"]["trigger"] == "subscription_canceled").unwrap();
        assert_eq!(final_state["data"]["status"], "none");
        // Two schedules (with and without a reason); arrival order is not guaranteed.
        let mut scheduled: Vec<_> = received.iter().filter(|e| e["event"] == "subscription.cancellation_scheduled").collect();
        scheduled.sort_by_key(|e| e["data"]["cancelReason"].is_null());
        assert_eq!(scheduled[0]["data"]["cancelReason"], "moving");
        assert_eq!(scheduled[1]["data"]["cancelReason"], Value::Null);
        assert!(scheduled.iter().all(|e| e["data"]["effectiveAt"] == "2026-07-01T00:00:00.000Z"));
    }
}

on_both_backends! {
    async fn an_endpoint_created_inactive_receives_nothing_in_either_generation(app: TestApp) {
        subscribed(&app).await;
        let receiver = Receiver::start().await;
        let body = json!({"url": receiver.url, "events": ["seats.updated"], "isActive": false});

        let legacy = json_with_status(app.post("/webhooks", LEGACY, &body).await, 200).await["data"].clone();
        let direct = json_with_status(app.post("/webhooks", DIRECT, &body).await, 200).await;
        app.post("/seats", DIRECT, &json!({"customerId": "user_123", "featureCode": "editor", "count": 1})).await;
        let report = dispatch(&app).await;
        let read_back = json_with_status(app.get(&format!("/webhooks/{}", legacy["id"].as_str().unwrap()), DIRECT).await, 200).await;

        assert_eq!((legacy["isActive"].clone(), direct["isActive"].clone()), (json!(false), json!(false)));
        assert_eq!(read_back["isActive"], false);
        assert_eq!(report.attempts, 0, "an inactive endpoint gets no delivery");
        assert!(receiver.received().is_empty());
    }
}

on_both_backends! {
    async fn an_endless_answer_is_read_only_as_far_as_the_log_keeps_it(app: TestApp) {
        // Goal: the dispatcher reads no more of an answer than it keeps. Method: the receiver
        // streams `x` for ever; reading it whole would run into the send timeout and keep
        // nothing, while reading the kept prefix ends at once with that prefix recorded.
        subscribed(&app).await;
        let receiver = Receiver::start().await;
        let hook = json_with_status(app.post("/webhooks", DIRECT, &json!({"url": receiver.url, "events": ["seats.updated"]})).await, 200).await;
        receiver.script(&[Answer::EndlessBody]);

        app.post("/seats", DIRECT, &json!({"customerId": "user_123", "featureCode": "editor", "count": 1})).await;
        let report = dispatch(&app).await;
        let log = json_with_status(app.get(&format!("/webhooks/{}/deliveries", hook["id"].as_str().unwrap()), DIRECT).await, 200).await;

        assert_eq!((report.attempts, report.succeeded), (1, 1));
        let attempt = &log["data"][0]["attempts"][0];
        assert_eq!(attempt["error"], Value::Null, "{attempt}");
        let kept = attempt["responseBody"].as_str().map(|b| (b.len(), b.bytes().all(|c| c == b'x')));
        assert_eq!(kept, Some((tally_domain::webhooks::RESPONSE_BODY_CHARS_MAX, true)));
    }
}

on_both_backends! {
    async fn an_organization_holds_at_most_the_endpoint_cap(app: TestApp) {
        let cap = tally_domain::webhooks::ENDPOINTS_PER_ORGANIZATION_MAX;
        let body = json!({"url": "https://hooks.example.com/tally", "events": ["seats.updated"], "isActive": false});
        let mut ids = Vec::new();
        for _ in 0..cap {
            let created = json_with_status(app.post("/webhooks", DIRECT, &body).await, 200).await;
            ids.push(created["id"].as_str().unwrap().to_owned());
        }

        let one_more = app.post("/webhooks", LEGACY, &body).await;
        let live = app.client.post(app.url("/webhooks")).header("x-api-key", LIVE_KEY).json(&body).send().await.unwrap();
        json_with_status(send(&app, Method::DELETE, &format!("/webhooks/{}", ids[0]), DIRECT, None).await, 200).await;
        let after_a_delete = app.post("/webhooks", DIRECT, &body).await;

        let error = error_of(&json_with_status(one_more, 400).await, LEGACY);
        assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some("validation_error"), Some("url")));
        assert!(error["message"].as_str().unwrap().contains(&format!("at most {cap}")), "{error}");
        json_with_status(live, 200).await;
        json_with_status(after_a_delete, 200).await;
    }
}
