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

on_both_backends! {
    async fn frozen_time_is_bounded_like_advance_days(app: TestApp) {
        // The clock starts at 2026-06-01 (real time, a manual clock): 3 650 days later is
        // 2036-05-29, the furthest one advance may go by either field.
        let cases = [
            ("9999-12-31T00:00:00.000Z", DIRECT, "the end of time, which once ran 94 488 renewals"),
            ("2036-05-29T00:00:00.001Z", DIRECT, "a millisecond past 3 650 days"),
            ("2036-05-29T00:00:00.001Z", LEGACY, "the legacy advance too"),
        ];
        for (frozen_time, version, description) in cases {
            let body = json_with_status(app.post("/test-clock", version, &json!({"frozenTime": frozen_time})).await, 400).await;
            let error = error_of(&body, version);
            assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some("validation_error"), Some("frozenTime")), "{description}");
            assert!(error["message"].as_str().unwrap().contains("3650 days"), "{description}: {error}");
        }
        let untouched = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        let furthest = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2036-05-29T00:00:00.000Z"})).await, 202).await;

        assert_eq!(untouched["isActive"], false, "refused advances do not move the clock");
        assert_eq!(furthest["targetTime"], "2036-05-29T00:00:00.000Z");
    }
}

on_both_backends! {
    async fn a_deadline_that_fails_is_reported_in_the_run_and_the_others_pass(app: TestApp) {
        // `broken` holds a million seats at one cent; the unit price then rises to the largest
        // the catalog accepts, which its renewal would bill: 10^16 cents, above the money
        // bound. `fine` is on the ordinary plan.
        pro_plan(&app).await;
        let fine = subscribe(&app, "fine").await;
        let broken_plan = json_with_status(app.post("/plans", DIRECT, &json!({"name": "Huge", "code": "huge"})).await, 200).await;
        let broken_plan = broken_plan["id"].as_str().unwrap().to_owned();
        app.post(&format!("/plans/{broken_plan}/prices"), DIRECT, &json!({"billingInterval": "monthly", "price": 100})).await;
        app.post(&format!("/plans/{broken_plan}/features"), DIRECT, &json!({"featureId": "editor", "includedAmount": 0, "overage": {"enabled": true, "unitPrice": 100}})).await;
        app.create_customer(&json!({"email": "broken@acme.test", "id": "broken", "fullName": "Customer broken"})).await;
        let broken = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "broken", "planCode": "huge", "initialSeats": {"editor": 1_000_000}})).await, 200).await;
        let broken = broken["id"].as_str().unwrap().to_owned();
        json_with_status(send(&app, Method::PATCH, &format!("/plans/{broken_plan}/features/editor"), DIRECT, Some(json!({"overage": {"enabled": true, "unitPrice": 1_000_000_000_000_i64}}))).await, 200).await;

        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2026-07-15T00:00:00.000Z"})).await, 202).await;
        let still_broken = json_with_status(app.get(&format!("/subscriptions/{broken}"), DIRECT).await, 200).await;
        let renewed = json_with_status(app.get(&format!("/subscriptions/{fine}"), DIRECT).await, 200).await;
        // The failure waits for its retry time (a minute later), and the next advance retries it.
        let retried = json_with_status(app.post("/test-clock", DIRECT, &json!({"advanceDays": 1})).await, 202).await;

        assert_eq!(run["status"], "failed");
        assert_eq!((run["estimatedDeadlineCount"].clone(), run["completedDeadlineCount"].clone(), run["failedDeadlineCount"].clone()), (json!(2), json!(1), json!(1)));
        let item = |id: &str| run["items"].as_array().unwrap().iter().find(|i| i["subscriptionId"] == id).cloned().unwrap();
        let failed = item(&broken);
        assert_eq!((failed["status"].clone(), failed["outcome"].clone(), failed["invoiceId"].clone()), (json!("failed"), Value::Null, Value::Null));
        assert_eq!(failed["dueAt"], "2026-07-01T00:00:00.000Z");
        assert_eq!(failed["customerName"], "Customer broken");
        assert!(failed["error"].as_str().unwrap().contains("1000000000000000"), "{failed}");
        assert_eq!(item(&fine)["outcome"], "renewed");
        assert_eq!(still_broken["currentPeriod"]["start"], "2026-06-01T00:00:00.000Z");
        assert_eq!(renewed["currentPeriod"]["start"], "2026-07-01T00:00:00.000Z");
        assert_eq!((retried["completedDeadlineCount"].clone(), retried["failedDeadlineCount"].clone()), (json!(0), json!(1)));
    }
}

on_both_backends! {
    async fn a_long_advance_runs_in_batches_and_its_run_stays_small(app: TestApp) {
        // Goal: ten years of monthly renewals of 8 subscriptions (952 deadlines, ten batches) pass in
        // batches of their own transactions: while the advance runs, a read sees renewals
        // already committed with the clock not yet moved (one transaction could never show
        // that), and another organization's write completes. The run keeps every count but
        // lists 100 items.
        // Method: the advance runs on a task; this test polls until it sees that state.
        pro_plan(&app).await;
        let mut subscriptions = Vec::new();
        for n in 0..8 {
            subscriptions.push(subscribe(&app, &format!("c{n}")).await);
        }
        let first = subscriptions[0].clone();
        let advancing = {
            let request = app.request(Method::POST, "/test-clock", DIRECT).json(&json!({"advanceDays": 3_650}));
            tokio::spawn(async move { request.send().await.unwrap() })
        };

        let mut seen_between_batches = None;
        let mut other_organization_served = false;
        // Waiting is the point here: poll (with a deadline) until a batch has committed and
        // the advance is still running.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        while !advancing.is_finished() && std::time::Instant::now() < deadline {
            let sub = json_with_status(app.get(&format!("/subscriptions/{first}"), DIRECT).await, 200).await;
            let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
            let start = sub["currentPeriod"]["start"].as_str().unwrap().to_owned();
            if seen_between_batches.is_none() && start != "2026-06-01T00:00:00.000Z" && clock["isActive"] == false {
                seen_between_batches = Some(start.clone());
                // Batches pass the subscriptions in time order, about a year of them each: before
                // 2033, three batches at least are left for another organization's write.
                if start.as_str() < "2033" {
                    let live = app.client.post(app.url("/customers")).header("x-api-key", LIVE_KEY).header("commet-version", DIRECT)
                        .json(&json!({"email": "live@acme.test", "id": "live"})).send().await.unwrap();
                    assert_eq!(live.status(), 200);
                    other_organization_served = !advancing.is_finished();
                }
            }
            tokio::task::yield_now().await;
        }
        let advanced = json_with_status(advancing.await.unwrap(), 202).await;
        let clock = app.get("/test-clock", DIRECT).await;
        let clock_bytes = clock.bytes().await.unwrap();
        let clock: Value = serde_json::from_slice(&clock_bytes).unwrap();
        let last = json_with_status(app.get(&format!("/subscriptions/{first}"), DIRECT).await, 200).await;

        assert!(seen_between_batches.is_some(), "no batch was seen committed before the clock moved");
        assert!(other_organization_served, "another organization's write waited for the advance: {seen_between_batches:?}");
        assert_eq!(advanced["status"], "completed");
        assert_eq!(advanced["targetTime"], "2036-05-29T00:00:00.000Z");
        // July 2026 to May 2036: 119 renewals of each subscription.
        assert_eq!((advanced["estimatedDeadlineCount"].clone(), advanced["completedDeadlineCount"].clone()), (json!(8 * 119), json!(8 * 119)));
        let items = advanced["items"].as_array().unwrap();
        assert_eq!(items.len(), 100);
        assert_eq!(items[0]["dueAt"], "2026-07-01T00:00:00.000Z");
        assert!(items.windows(2).all(|w| w[0]["dueAt"].as_str() <= w[1]["dueAt"].as_str()), "items in time order");
        assert_eq!(clock["latestRun"], advanced);
        assert!(clock_bytes.len() < 64 * 1024, "GET /test-clock is {} bytes", clock_bytes.len());
        assert_eq!(last["currentPeriod"]["start"], "2036-05-01T00:00:00.000Z");
    }
}

on_both_backends! {
    async fn a_retried_advance_replays_its_run_and_processes_nothing_more(app: TestApp) {
        // The batches run before the transaction that records the key: a retry must find the
        // key answered and process nothing, or it would renew a month further than it says.
        pro_plan(&app).await;
        let id = subscribe(&app, "a").await;
        let advance = |key: &'static str| app.request(Method::POST, "/test-clock", DIRECT).header("idempotency-key", key).json(&json!({"advanceDays": 31})).send();

        let first = advance("month").await.unwrap();
        let first = (first.headers().get("idempotent-replayed").cloned(), first.text().await.unwrap());
        let retried = advance("month").await.unwrap();
        let retried = (retried.headers().get("idempotent-replayed").cloned(), retried.text().await.unwrap());
        let clock = json_with_status(app.get("/test-clock", DIRECT).await, 200).await;
        let sub = json_with_status(app.get(&format!("/subscriptions/{id}"), DIRECT).await, 200).await;

        assert_eq!(first.0, None);
        assert_eq!(retried.0.as_ref().map(|v| v.to_str().unwrap()), Some("true"));
        assert_eq!(retried.1, first.1, "the same bytes");
        assert_eq!(clock["simulatedTime"], "2026-07-02T00:00:00.000Z", "moved once");
        assert_eq!(sub["currentPeriod"]["start"], "2026-07-01T00:00:00.000Z", "renewed once");
    }
}
