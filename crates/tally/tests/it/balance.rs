//! Balance and credits over HTTP (`balance.md` §2–§3): adjustments and top-ups.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use serde_json::json;

/// A plan of `model` with a monthly price granting 500 credits or $5.00 of balance.
async fn subscribed_to(app: &TestApp, model: &str, customer: &str) -> String {
    let plan = json_with_status(
        app.post(
            "/plans",
            DIRECT,
            &json!({"name": model, "code": model, "consumptionModel": model}),
        )
        .await,
        200,
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "monthly", "price": 1000, "includedCredits": 500, "includedBalance": 50_000})).await;
    app.create_customer(&json!({"email": format!("{customer}@acme.test"), "id": customer}))
        .await;
    let sub = json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": customer, "planCode": model}),
        )
        .await,
        200,
    )
    .await;
    sub["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn balances_move_by_adjustment_and_top_up_and_never_below_zero(app: TestApp) {
        let sub = subscribed_to(&app, "balance", "b").await;
        let adjust = format!("/subscriptions/{sub}/balance/adjust");
        let top_up = format!("/subscriptions/{sub}/balance/topup");

        let spent = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": -20_000, "reason": "usage"})).await, 200).await;
        let too_much = json_with_status(app.post(&adjust, LEGACY, &json!({"amount": -40_000})).await, 400).await;
        let topped = json_with_status(app.post(&top_up, LEGACY, &json!({"amount": 100_000})).await, 200).await;
        let fractional_cent = json_with_status(app.post(&top_up, DIRECT, &json!({"amount": 150})).await, 400).await;
        let wrong_type = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": 5, "type": "credits"})).await, 400).await;
        let zero = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": 0})).await, 400).await;
        let after = json_with_status(app.get(&format!("/subscriptions/{sub}"), DIRECT).await, 200).await;
        let invoices = json_with_status(app.get(&format!("/invoices?subscriptionId={sub}"), DIRECT).await, 200).await;

        assert_eq!(spent, json!({"amount": -20_000, "newBalance": 30_000, "reason": "usage", "object": "balance_transaction", "livemode": false}));
        let error = error_of(&too_much, LEGACY);
        assert_eq!((error["code"].as_str(), error["type"].as_str()), (Some("insufficient_balance"), Some("billing_error")));
        assert_eq!(error["details"], json!({"remaining": 30_000, "requested": 40_000}));
        assert_eq!(topped, json!({"success": true, "data": {"amount": 100_000, "object": "subscription", "livemode": false}}));
        assert_eq!(error_of(&fractional_cent, DIRECT)["param"], "amount");
        assert_eq!(error_of(&wrong_type, DIRECT)["param"], "type");
        assert_eq!(error_of(&zero, DIRECT)["param"], "amount");
        assert_eq!(after["balance"], json!({"remaining": 130_000, "included": 50_000, "currency": "usd"}));
        let types: Vec<_> = invoices["data"].as_array().unwrap().iter().map(|i| (i["invoiceType"].clone(), i["total"].clone())).collect();
        assert_eq!(types, [(json!("balance_topup"), json!(1_000)), (json!("recurring"), json!(1_000))]);
    }
}

on_both_backends! {
    async fn credits_are_adjusted_and_metered_plans_have_no_ledger(app: TestApp) {
        let credits = subscribed_to(&app, "credits", "c").await;
        let metered = subscribed_to(&app, "metered", "m").await;

        let granted = json_with_status(app.post(&format!("/subscriptions/{credits}/balance/adjust"), LEGACY, &json!({"amount": 25})).await, 200).await;
        let overdrawn = json_with_status(app.post(&format!("/subscriptions/{credits}/balance/adjust"), DIRECT, &json!({"amount": -526})).await, 400).await;
        let none = json_with_status(app.post(&format!("/subscriptions/{metered}/balance/adjust"), DIRECT, &json!({"amount": 5})).await, 400).await;
        let no_top_up = json_with_status(app.post(&format!("/subscriptions/{credits}/balance/topup"), DIRECT, &json!({"amount": 10_000})).await, 400).await;
        app.post(&format!("/subscriptions/{credits}/cancel"), DIRECT, &json!({"immediate": true})).await;
        let canceled = json_with_status(app.post(&format!("/subscriptions/{credits}/balance/adjust"), DIRECT, &json!({"amount": 5})).await, 409).await;
        let unknown = json_with_status(app.post("/subscriptions/sub_nope/balance/adjust", DIRECT, &json!({"amount": 5})).await, 404).await;

        assert_eq!(granted["data"], json!({"amount": 25, "newBalance": 525, "reason": null, "object": "subscription", "livemode": false}));
        let error = error_of(&overdrawn, DIRECT);
        assert_eq!(error["code"], "insufficient_credits");
        assert_eq!(error["details"], json!({"remaining": 525, "requested": 526}));
        assert_eq!(error_of(&none, DIRECT)["param"], "type");
        assert_eq!(error_of(&no_top_up, DIRECT)["param"], "amount");
        assert_eq!(error_of(&canceled, DIRECT)["code"], "subscription_not_active");
        assert_eq!(error_of(&unknown, DIRECT)["code"], "subscription_not_found");
    }
}

on_both_backends! {
    async fn ledger_thresholds_and_period_resets_are_announced(app: TestApp) {
        let receiver = crate::receiver::Receiver::start().await;
        let events = ["credits.granted", "credits.low", "credits.depleted", "credits.expired", "balance.low", "balance.depleted", "balance.topped_up"];
        app.post("/webhooks", DIRECT, &json!({"url": receiver.url, "events": events})).await;
        let credits = subscribed_to(&app, "credits", "c").await;
        let balance = subscribed_to(&app, "balance", "b").await;

        // 500 credits: down to 40 (below 10 %), then to 0.
        app.post(&format!("/subscriptions/{credits}/balance/adjust"), DIRECT, &json!({"amount": -460})).await;
        app.post(&format!("/subscriptions/{credits}/balance/adjust"), DIRECT, &json!({"amount": -40})).await;
        app.post(&format!("/subscriptions/{credits}/balance/adjust"), DIRECT, &json!({"amount": 30})).await;
        // $5.00 of balance: down to $0.40, then to 0; then a top-up.
        app.post(&format!("/subscriptions/{balance}/balance/adjust"), DIRECT, &json!({"amount": -46_000})).await;
        app.post(&format!("/subscriptions/{balance}/balance/adjust"), DIRECT, &json!({"amount": -4_000})).await;
        app.post(&format!("/subscriptions/{balance}/balance/topup"), DIRECT, &json!({"amount": 10_000})).await;
        app.post("/test-clock", DIRECT, &json!({"advanceDays": 31})).await;
        tally_workers::Dispatcher::new(app.app.clone(), std::time::Duration::from_millis(100)).run_once().await.unwrap();

        let received: Vec<serde_json::Value> = receiver.received().iter().map(|r| r.json()).collect();
        let find = |event: &str| received.iter().filter(|e| e["event"] == event).map(|e| e["data"].clone()).collect::<Vec<_>>();
        assert_eq!(find("credits.low").len(), 1);
        assert_eq!(find("credits.low")[0]["remainingCredits"], 40);
        assert_eq!(find("credits.low")[0]["thresholdCredits"], 50);
        assert_eq!(find("credits.depleted")[0]["remainingCredits"], 0);
        let granted: Vec<_> = find("credits.granted").iter().map(|d| (d["credits"].clone(), d["reason"].clone())).collect();
        assert_eq!(granted.len(), 2);
        assert!(granted.contains(&(json!(30), json!("manual_adjustment"))));
        assert!(granted.contains(&(json!(500), json!("period_reset"))));
        assert_eq!(find("credits.expired")[0]["expiredCredits"], 30);
        assert_eq!(find("balance.low")[0]["currentBalance"], 4_000);
        assert_eq!(find("balance.depleted")[0]["currentBalance"], 0);
        assert_eq!(find("balance.topped_up")[0]["amount"], 10_000);
        assert!(find("balance.topped_up")[0]["invoiceNumber"].as_str().unwrap().starts_with("INV-"));
        let renewed = json_with_status(app.get(&format!("/subscriptions/{credits}"), DIRECT).await, 200).await;
        assert_eq!(renewed["credits"], json!({"remaining": 500, "included": 500, "purchased": 0}));
    }
}
