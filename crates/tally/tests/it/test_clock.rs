//! The sandbox test clock over HTTP (`catalog.md` §7, examples.md scenarios 1 and 5).

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, LIVE_KEY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

async fn subscribe(app: &TestApp, external_id: &str) -> String {
    app.create_customer(&json!({"email": format!("{external_id}@acme.test"), "id": external_id, "fullName": format!("Customer {external_id}")})).await;
    let created = json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": external_id, "planCode": "pro"}),
        )
        .await,
        200,
    )
    .await;
    created["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_direct_advance_processes_renewals_and_cancellations_in_order(app: TestApp) {
        pro_plan(&app).await;
        let renewing = subscribe(&app, "a").await;
        let leaving = subscribe(&app, "b").await;
        app.post(&format!("/subscriptions/{leaving}/cancel"), DIRECT, &json!({})).await;

        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2026-08-15T00:00:00.000Z"})).await, 202).await;
        let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        let renewed = json_with_status(app.get(&format!("/subscriptions/{renewing}"), DIRECT).await, 200).await;
        let canceled = json_with_status(app.get(&format!("/subscriptions/{leaving}"), DIRECT).await, 200).await;

        assert!(run["id"].as_str().unwrap().starts_with("tcr_"));
        assert_eq!(run["status"], "completed");
        assert_eq!(run["startedAtTime"], "2026-06-01T00:00:00.000Z");
        assert_eq!(run["targetTime"], "2026-08-15T00:00:00.000Z");
        assert_eq!((run["estimatedDeadlineCount"].clone(), run["completedDeadlineCount"].clone(), run["failedDeadlineCount"].clone()), (json!(3), json!(3), json!(0)));
        let items: Vec<_> = run["items"].as_array().unwrap().iter()
            .map(|i| (i["dueAt"].as_str().unwrap().to_owned(), i["subscriptionId"].as_str().unwrap().to_owned(), i["outcome"].as_str().unwrap().to_owned()))
            .collect();
        let mut expected = vec![
            ("2026-07-01T00:00:00.000Z".to_owned(), renewing.clone(), "renewed".to_owned()),
            ("2026-07-01T00:00:00.000Z".to_owned(), leaving.clone(), "canceled".to_owned()),
            ("2026-08-01T00:00:00.000Z".to_owned(), renewing.clone(), "renewed".to_owned()),
        ];
        expected[..2].sort_by(|x, y| x.1.cmp(&y.1));
        assert_eq!(items, expected);
        assert_eq!(run["items"][0]["kind"], "billing_cycle");
        // Renewals issue the new period's invoice; the cancellation owes nothing more. The two
        // opening invoices took INV-000001 and INV-000002.
        for item in run["items"].as_array().unwrap() {
            let expected = match (item["outcome"].as_str().unwrap(), item["dueAt"].as_str().unwrap()) {
                ("renewed", "2026-07-01T00:00:00.000Z") => json!("INV-000003"),
                ("renewed", _) => json!("INV-000004"),
                _ => Value::Null,
            };
            assert_eq!(item["invoiceNumber"], expected, "{item}");
            assert_eq!(item["invoiceId"].is_string(), expected.is_string());
        }
        assert_eq!(clock["simulatedTime"], "2026-08-15T00:00:00.000Z");
        assert_eq!(clock["isActive"], true);
        assert_eq!(clock["latestRun"], run);
        assert_eq!(renewed["currentPeriod"], json!({"start": "2026-08-01T00:00:00.000Z", "end": "2026-09-01T00:00:00.000Z", "daysRemaining": 17}));
        assert_eq!(renewed["updatedAt"], "2026-08-01T00:00:00.000Z");
        assert_eq!(canceled["status"], "canceled");
        assert_eq!(canceled["endDate"], "2026-07-01T00:00:00.000Z");
    }
}

on_both_backends! {
    async fn a_legacy_advance_moves_time_only_until_process_billing(app: TestApp) {
        pro_plan(&app).await;
        let id = subscribe(&app, "a").await;

        let moved = json_with_status(app.post("/test-clock", LEGACY, &json!({"advanceDays": 45})).await, 200).await;
        let before = json_with_status(app.get(&format!("/subscriptions/{id}"), LEGACY).await, 200).await;
        let counts = json_with_status(send(&app, Method::POST, "/test-clock/process-billing", LEGACY, Some(json!({}))).await, 200).await;
        let after = json_with_status(app.get(&format!("/subscriptions/{id}"), LEGACY).await, 200).await;
        let nothing_left = json_with_status(send(&app, Method::POST, "/test-clock/process-billing", LEGACY, None).await, 200).await;

        assert_eq!(moved, json!({"success": true, "data": {"simulatedTime": "2026-07-16T00:00:00.000Z", "isActive": true, "now": "2026-07-16T00:00:00.000Z", "object": "test_clock", "livemode": false}}));
        assert_eq!(before["data"]["currentPeriod"]["end"], "2026-07-01T00:00:00.000Z");
        assert_eq!(before["data"]["currentPeriod"]["daysRemaining"], 0);
        assert_eq!(counts, json!({"success": true, "data": {"customersFound": 1, "enqueued": 1, "failed": 0, "dunningRetried": 0, "dunningFailed": 0, "object": "test_clock", "livemode": false}}));
        assert_eq!(after["data"]["currentPeriod"]["start"], "2026-07-01T00:00:00.000Z");
        assert_eq!(after["data"]["currentPeriod"]["end"], "2026-08-01T00:00:00.000Z");
        assert_eq!(nothing_left["data"]["enqueued"], 0);
    }
}

on_both_backends! {
    async fn a_trial_ends_into_an_active_subscription(app: TestApp) {
        let plan = pro_plan(&app).await;
        app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "yearly", "price": 99000, "trialDays": 14})).await;
        app.create_customer(&json!({"email": "t@acme.test", "id": "t"})).await;
        let created = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "t", "planCode": "pro", "billingInterval": "yearly"})).await, 200).await;

        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"advanceDays": 20})).await, 202).await;
        let after = json_with_status(app.get(&format!("/subscriptions/{}", created["id"].as_str().unwrap()), DIRECT).await, 200).await;

        assert_eq!(run["items"][0]["outcome"], "trial_ended");
        assert_eq!(run["items"][0]["dueAt"], "2026-06-15T00:00:00.000Z");
        assert_eq!(after["status"], "active");
        assert_eq!(after["currentPeriod"]["start"], "2026-06-15T00:00:00.000Z");
        assert_eq!(after["currentPeriod"]["end"], "2027-06-15T00:00:00.000Z");
    }
}

on_both_backends! {
    async fn the_clock_is_sandbox_only_forward_only_and_versioned(app: TestApp) {
        let live = app.client.get(app.url("/test-clock")).header("x-api-key", LIVE_KEY).send().await.unwrap();
        let live_advance = app.client.post(app.url("/test-clock")).header("x-api-key", LIVE_KEY).json(&json!({"advanceDays": 1})).send().await.unwrap();
        let fresh = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        let cases = [
            (json!({}), "advanceDays", "an empty body"),
            (json!({"advanceDays": 0}), "advanceDays", "zero days"),
            (json!({"advanceDays": 1.5}), "advanceDays", "a fraction of a day"),
            (json!({"frozenTime": "2026-05-01T00:00:00Z"}), "frozenTime", "the past"),
            (json!({"frozenTime": "tomorrow"}), "frozenTime", "not a date"),
            (json!({"advanceDays": 1, "frozenTime": "2027-01-01T00:00:00Z"}), "advanceDays", "both"),
        ];
        for (body, param, description) in cases {
            let error = error_of(&json_with_status(app.post("/test-clock", DIRECT, &body).await, 400).await, DIRECT);
            assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some("validation_error"), Some(param)), "{description}");
        }
        let deprecated = json_with_status(send(&app, Method::POST, "/test-clock/process-billing", DIRECT, None).await, 410).await;

        assert_eq!(error_of(&json_with_status(live, 403).await, DIRECT)["code"], "sandbox_only");
        assert_eq!(error_of(&json_with_status(live_advance, 403).await, DIRECT)["code"], "sandbox_only");
        assert_eq!(fresh, json!({"simulatedTime": null, "isActive": false, "now": "2026-06-01T00:00:00.000Z", "latestRun": null, "object": "test_clock", "livemode": false}));
        assert_eq!(error_of(&deprecated, DIRECT)["code"], "endpoint_deprecated");
    }
}
