//! The renewal sweep of organizations on real time: a deadline that cannot be passed is
//! recorded and retried later, and never holds up another organization's renewals.

use crate::on_both_backends;
use crate::support::{DIRECT, LIVE_KEY, SANDBOX_KEY, TestApp, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};
use tally_app::deadlines::SweepReport;

/// The largest unit price the catalog accepts: 10^10 cents per seat.
const UNIT_PRICE_MAX: i64 = 1_000_000_000_000;

async fn send(app: &TestApp, key: &str, method: Method, path: &str, body: Value) -> Value {
    let mut request = app
        .client
        .request(method, app.url(path))
        .header("x-api-key", key)
        .header("commet-version", DIRECT);
    if !body.is_null() {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    json_with_status(response, 200).await
}

/// A `pro` plan at $99 a month with `editor` seats at `unit_price`, none included, and a
/// subscription of customer `customer` holding `seats` of them; returns (plan, subscription).
async fn subscribed(
    app: &TestApp,
    key: &str,
    customer: &str,
    unit_price: i64,
    seats: i64,
) -> (String, String) {
    send(
        app,
        key,
        Method::POST,
        "/features",
        json!({"name": "Editor seats", "code": "editor", "type": "seats"}),
    )
    .await;
    let plan = send(
        app,
        key,
        Method::POST,
        "/plans",
        json!({"name": "Pro", "code": "pro"}),
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    send(
        app,
        key,
        Method::POST,
        &format!("/plans/{plan}/prices"),
        json!({"billingInterval": "monthly", "price": 9_900}),
    )
    .await;
    send(app, key, Method::POST, &format!("/plans/{plan}/features"), json!({"featureId": "editor", "includedAmount": 0, "overage": {"enabled": true, "unitPrice": unit_price}})).await;
    send(
        app,
        key,
        Method::POST,
        "/customers",
        json!({"email": format!("{customer}@acme.test"), "id": customer}),
    )
    .await;
    let sub = send(
        app,
        key,
        Method::POST,
        "/subscriptions",
        json!({"customerId": customer, "planCode": "pro", "initialSeats": {"editor": seats}}),
    )
    .await;
    (plan, sub["id"].as_str().unwrap().to_owned())
}

async fn period_start(app: &TestApp, key: &str, subscription: &str) -> Value {
    send(
        app,
        key,
        Method::GET,
        &format!("/subscriptions/{subscription}"),
        Value::Null,
    )
    .await["currentPeriod"]["start"]
        .clone()
}

async fn invoice_totals(app: &TestApp, key: &str, subscription: &str) -> Vec<i64> {
    let invoices = send(
        app,
        key,
        Method::GET,
        &format!("/invoices?subscriptionId={subscription}"),
        Value::Null,
    )
    .await;
    let mut totals: Vec<i64> = invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["total"].as_i64().unwrap())
        .collect();
    totals.reverse();
    totals
}

on_both_backends! {
    async fn one_organizations_failing_renewal_does_not_delay_anothers(app: TestApp) {
        // Goal: the earliest deadline fails (organization A's renewal cannot be invoiced) and
        // organization B, due one second later, still renews on schedule; A is recorded, left
        // alone until its retry time, and renews once it can be billed.
        // Method: A (the sandbox) holds a million seats at one cent, then raises the unit price
        // to the largest the catalog accepts; the raise waits for the renewal, whose invoice
        // would be 10^16 cents, above the money bound. B (the live organization) is ordinary.
        let clock = app.clock.clone().expect("a manual clock");
        let (a_plan, a_sub) = subscribed(&app, SANDBOX_KEY, "a", 100, 1_000_000).await;
        send(&app, SANDBOX_KEY, Method::PATCH, &format!("/plans/{a_plan}/features/editor"), json!({"overage": {"enabled": true, "unitPrice": UNIT_PRICE_MAX}})).await;
        clock.advance_millis(1_000);
        let (_, b_sub) = subscribed(&app, LIVE_KEY, "b", 250_000, 2).await;
        let sweep = tally_workers::Renewals::new(app.app.clone());

        clock.advance_millis(31 * 24 * 60 * 60 * 1_000 + 5_000);
        let first = sweep.run_once().await.unwrap();
        let a_after_first = period_start(&app, SANDBOX_KEY, &a_sub).await;
        let b_after_first = period_start(&app, LIVE_KEY, &b_sub).await;
        let again_at_once = sweep.run_once().await.unwrap();
        // The raise is taken back, and the retry time (one minute) passes.
        send(&app, SANDBOX_KEY, Method::PATCH, &format!("/plans/{a_plan}/features/editor"), json!({"overage": {"enabled": true, "unitPrice": 100}})).await;
        clock.advance_millis(61_000);
        let after_retry_time = sweep.run_once().await.unwrap();

        assert_eq!(first, SweepReport { passed: 1, failed: 1, deferred: 0 });
        assert_eq!(a_after_first, "2026-06-01T00:00:00.000Z", "A could not be renewed");
        assert_eq!(b_after_first, "2026-07-01T00:00:01.000Z", "B renewed on schedule");
        assert_eq!(invoice_totals(&app, LIVE_KEY, &b_sub).await, [9_900 + 5_000, 9_900 + 5_000]);
        assert_eq!(again_at_once, SweepReport::default(), "A waits for its retry time");
        assert_eq!(after_retry_time, SweepReport { passed: 1, failed: 0, deferred: 0 });
        assert_eq!(period_start(&app, SANDBOX_KEY, &a_sub).await, "2026-07-01T00:00:00.000Z");
        assert_eq!(invoice_totals(&app, SANDBOX_KEY, &a_sub).await, [9_900 + 1_000_000, 9_900 + 1_000_000]);
    }
}
