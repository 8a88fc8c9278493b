//! Usage metering and feature access over HTTP (`usage.md`): the contract's scenarios with
//! exact figures, webhooks as a real receiver gets them, billing in arrears through the test
//! clock, every refusal of the area, and the allowance under concurrent tracks.

use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{Backend, DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const EVENTS: [&str; 9] = [
    "usage.recorded",
    "quota.threshold_reached",
    "quota.exceeded",
    "credits.low",
    "credits.depleted",
    "balance.low",
    "balance.depleted",
    "customer.state_changed",
    "invoice.created",
];

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.request(method, path, version);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `method path` in `version`, which must answer 200; its body (the legacy envelope's `data`).
pub(crate) async fn ok(
    app: &TestApp,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> Value {
    let (status, body) = call(app, method.clone(), path, version, body).await;
    assert_eq!(status, 200, "{method} {path}: {body}");
    if version == LEGACY {
        body["data"].clone()
    } else {
        body
    }
}

pub(crate) async fn freeze(app: &TestApp, at: &str) {
    json_with_status(
        app.post("/test-clock", DIRECT, &json!({"frozenTime": at}))
            .await,
        202,
    )
    .await;
}

/// A usage feature, a plan with (optionally) a monthly price, the feature on it, and
/// `user_42` subscribed; returns the subscription id.
async fn metered_setup(
    app: &TestApp,
    plan: Value,
    price: Option<Value>,
    plan_feature: Value,
    feature: Value,
) -> String {
    ok(
        app,
        Method::POST,
        "/features",
        DIRECT,
        Some(feature.clone()),
    )
    .await;
    let code = plan["code"].as_str().unwrap().to_owned();
    ok(app, Method::POST, "/plans", DIRECT, Some(plan)).await;
    if let Some(price) = price {
        ok(
            app,
            Method::POST,
            &format!("/plans/{code}/prices"),
            DIRECT,
            Some(price),
        )
        .await;
    }
    let mut plan_feature = plan_feature;
    plan_feature["featureId"] = feature["code"].clone();
    ok(
        app,
        Method::POST,
        &format!("/plans/{code}/features"),
        DIRECT,
        Some(plan_feature),
    )
    .await;
    app.create_customer(&json!({"email": "ada@example.com", "id": "user_42"}))
        .await;
    let sub = ok(
        app,
        Method::POST,
        "/subscriptions",
        DIRECT,
        Some(json!({"customerId": "user_42", "planCode": code})),
    )
    .await;
    sub["id"].as_str().unwrap().to_owned()
}

async fn track(app: &TestApp, version: &str, body: Value) -> (u16, Value) {
    call(app, Method::POST, "/usage/events", version, Some(body)).await
}

/// Registers an endpoint for the area's events at `receiver` and sends what the setup
/// announced; returns how many deliveries the receiver has seen.
async fn listen(app: &TestApp, receiver: &Receiver) -> usize {
    let events = json!({"url": receiver.url, "events": EVENTS});
    ok(app, Method::POST, "/webhooks", DIRECT, Some(events)).await;
    let mut seen = 0;
    delivered(app, receiver, &mut seen).await;
    seen
}

/// Sends what is due and returns the (event, data) pairs the receiver got since `seen`.
pub(crate) async fn delivered(
    app: &TestApp,
    receiver: &Receiver,
    seen: &mut usize,
) -> Vec<(String, Value)> {
    tally_workers::Dispatcher::new(app.app.clone(), Duration::from_millis(100))
        .run_once()
        .await
        .unwrap();
    let received = receiver.received();
    let new: Vec<(String, Value)> = received[*seen..]
        .iter()
        .map(|r| {
            let envelope = r.json();
            (
                envelope["event"].as_str().unwrap().to_owned(),
                envelope["data"].clone(),
            )
        })
        .collect();
    *seen = received.len();
    new
}

/// The events' names, sorted: deliveries run concurrently, so the receiver sees them in any
/// order.
pub(crate) fn names(events: &[(String, Value)]) -> Vec<&str> {
    let mut names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    names.sort_unstable();
    names
}

/// The data of the one delivered event named `name`.
pub(crate) fn data<'a>(events: &'a [(String, Value)], name: &str) -> &'a Value {
    let found: Vec<&Value> = events
        .iter()
        .filter(|(n, _)| n == name)
        .map(|(_, d)| d)
        .collect();
    assert_eq!(found.len(), 1, "one {name} in {events:?}");
    found[0]
}

pub(crate) async fn invoices(app: &TestApp, sub: &str) -> Vec<Value> {
    let list = ok(
        app,
        Method::GET,
        &format!("/invoices?subscriptionId={sub}"),
        DIRECT,
        None,
    )
    .await;
    let mut full = Vec::new();
    for item in list["data"].as_array().unwrap() {
        let id = item["id"].as_str().unwrap();
        full.push(ok(app, Method::GET, &format!("/invoices/{id}"), DIRECT, None).await);
    }
    full
}

/// A free plan with 1000 `api_calls` included, `user_42` subscribed; returns the subscription.
async fn hobby_with_1000_calls(app: &TestApp) -> String {
    metered_setup(
        app,
        json!({"name": "Hobby", "code": "hobby", "isFree": true}),
        None,
        json!({"includedAmount": 1000}),
        scale_feature(),
    )
    .await
}

fn scale_feature() -> Value {
    json!({"name": "API calls", "code": "api_calls", "type": "usage", "unitName": "call"})
}

on_both_backends! {
    /// `usage.md` §10 scenario A: metered overage, billed in arrears; the counter resets.
    async fn metered_overage_is_billed_in_arrears_and_usage_resets(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        let sub = metered_setup(
            &app,
            json!({"name": "Scale", "code": "scale"}),
            Some(json!({"billingInterval": "monthly", "price": 9900, "isDefault": true})),
            json!({"includedAmount": 10_000, "overage": {"enabled": true, "unitPrice": 100}}),
            scale_feature(),
        ).await;
        let mut seen = listen(&app, &receiver).await;

        let (status, first) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls", "value": 8500})).await;
        assert_eq!(status, 200, "{first}");
        let after_first = delivered(&app, &receiver, &mut seen).await;
        let (status, _) = track(&app, LEGACY, json!({"customerId": "user_42", "feature": "api_calls", "value": 3500, "timestamp": "2026-09-02T00:00:00.000Z"})).await;
        assert_eq!(status, 200);
        let after_second = delivered(&app, &receiver, &mut seen).await;
        let direct = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", DIRECT, None).await;
        let (_, legacy) = call(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", LEGACY, None).await;

        assert_eq!(first["object"], "usage_event");
        assert_eq!((first["featureCode"].as_str(), first["value"].as_i64(), first["eventId"].clone()), (Some("api_calls"), Some(8500), Value::Null));
        assert_eq!(names(&after_first), ["quota.threshold_reached", "usage.recorded"]);
        let threshold = data(&after_first, "quota.threshold_reached");
        assert_eq!(threshold["currentUsage"], 8500);
        assert_eq!(threshold["includedAmount"], 10_000);
        assert_eq!(threshold["periodStart"], "2026-09-01T00:00:00.000Z");
        assert_eq!(threshold["customerId"], "user_42");
        assert_eq!(names(&after_second), ["quota.exceeded", "usage.recorded"]);
        assert_eq!(data(&after_second, "quota.exceeded")["currentUsage"], 12_000);
        assert_eq!(data(&after_second, "quota.exceeded")["overageEnabled"], true);
        assert_eq!(data(&after_second, "usage.recorded")["value"], 3500);
        assert_eq!(direct, json!({"code":"api_calls","name":"API calls","unitName":"call","allowed":true,"type":"usage","consumption":{"model":"metered","period":{"start":"2026-09-01T00:00:00.000Z","end":"2026-10-01T00:00:00.000Z"},"unitsUsed":12000,"includedUnits":10000,"remainingUnits":0,"unlimited":false,"overage":{"enabled":true,"units":2000,"unitPrice":{"amount":100,"currency":"usd","scale":10000}}},"object":"feature_access","livemode":false}));
        assert_eq!(legacy, json!({"success":true,"data":{"code":"api_calls","name":"API calls","type":"usage","allowed":true,"current":12000,"included":10000,"remaining":0,"overageQuantity":2000,"overageUnitPrice":100,"unlimited":false,"overageEnabled":true,"object":"feature","livemode":false}}));

        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        let invoices = invoices(&app, &sub).await;
        let renewal = &invoices[0];
        let reset = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", DIRECT, None).await;

        assert_eq!(invoices.len(), 2);
        assert_eq!(invoices[1]["total"], 9900, "the opening invoice");
        assert_eq!(renewal["total"], 11_900);
        let lines = renewal["lineItems"].as_array().unwrap();
        assert_eq!(lines[0]["lineType"], "plan_base");
        let overage = &lines[1];
        assert_eq!(
            (overage["lineType"].clone(), overage["chargeType"].clone(), overage["quantity"].clone(), overage["unitAmount"].clone(), overage["amount"].clone()),
            (json!("feature_overage"), json!("standard"), json!(2000), json!(1), json!(2000))
        );
        assert_eq!((overage["includedAmount"].clone(), overage["usedAmount"].clone(), overage["overageAmount"].clone()), (json!(10_000), json!(12_000), json!(2000)));
        assert_eq!(reset["consumption"]["unitsUsed"], 0);
        assert_eq!(reset["consumption"]["period"], json!({"start": "2026-10-01T00:00:00.000Z", "end": "2026-11-01T00:00:00.000Z"}));
    }
}

on_both_backends! {
    /// `usage.md` §10 scenario B: a hard limit on a free plan, the dry run, event dedup.
    async fn a_hard_limit_refuses_the_unit_past_it_and_checks_change_nothing(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        let sub = hobby_with_1000_calls(&app).await;
        let mut seen = listen(&app, &receiver).await;
        let check_body = json!({"customerId": "user_42", "featureCode": "api_calls", "quantity": 20});

        assert_eq!(track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls", "value": 990})).await.0, 200);
        assert_eq!(names(&delivered(&app, &receiver, &mut seen).await), ["quota.threshold_reached", "usage.recorded"]);
        let check = ok(&app, Method::POST, "/usage/check", DIRECT, Some(check_body.clone())).await;
        let again = ok(&app, Method::POST, "/usage/check", DIRECT, Some(check_body.clone())).await;
        let (_, legacy_check) = call(&app, Method::POST, "/usage/check", LEGACY, Some(check_body)).await;
        let after_checks = delivered(&app, &receiver, &mut seen).await;
        let (status, tracked) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls", "value": 10, "eventId": "e-1"})).await;
        let exceeded = delivered(&app, &receiver, &mut seen).await;
        let (dup_status, duplicate) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls", "value": 1, "eventId": "e-1"})).await;
        let (over_status, over) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls", "value": 1})).await;
        let (_, can_use) = call(&app, Method::GET, "/feature-access/api_calls?customerId=user_42&action=canUse", LEGACY, None).await;

        let mut expected = json!({"allowed":false,"subscriptionStatus":"active","featureCode":"api_calls","quantity":20,"reason":"included_limit_reached","consumptionModel":"metered","current":990,"remaining":10,"unlimited":false,"included":1000,"overageEnabled":false,"overageUnitPrice":null,"object":"usage_check","livemode":false});
        assert!(check["message"].as_str().is_some_and(|m| !m.is_empty()), "{check}");
        expected["message"] = check["message"].clone();
        let keys: Vec<&String> = check.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["allowed", "subscriptionStatus", "featureCode", "quantity", "reason", "message", "consumptionModel", "current", "remaining", "unlimited", "included", "overageEnabled", "overageUnitPrice", "object", "livemode"]);
        assert_eq!(check, expected);
        assert_eq!(again, check, "a check changes nothing");
        assert_eq!(legacy_check["data"]["consumptionModel"], "metered");
        assert_eq!(legacy_check["data"]["feature"], "api_calls");
        assert_eq!(legacy_check["data"]["reason"], "included_limit_reached");
        assert!(after_checks.is_empty(), "checks send no webhooks: {after_checks:?}");
        assert_eq!(status, 200, "{tracked}");
        assert_eq!(tracked["eventId"], "e-1");
        assert_eq!(names(&exceeded), ["customer.state_changed", "quota.exceeded", "usage.recorded"]);
        assert_eq!(data(&exceeded, "quota.exceeded")["overageEnabled"], false);
        assert_eq!(data(&exceeded, "customer.state_changed")["trigger"], "quota_exceeded");
        assert_eq!(dup_status, 409);
        let dup = error_of(&duplicate, DIRECT);
        assert_eq!((dup["code"].as_str(), dup["param"].as_str()), (Some("duplicate"), Some("eventId")));
        assert_eq!(dup["details"]["usageEventId"], tracked["id"]);
        assert_eq!(over_status, 400);
        let over = error_of(&over, DIRECT);
        assert_eq!((over["code"].as_str(), over["type"].as_str()), (Some("included_limit_reached"), Some("billing_error")));
        assert_eq!(over["details"], json!({"featureCode":"api_calls","current":1000,"included":1000,"remaining":0,"requested":1}));
        assert_eq!(can_use["data"]["allowed"], false);
        assert_eq!(can_use["data"]["willBeCharged"], false);
        assert_eq!(can_use["data"]["reason"], "included_limit_reached");

        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        let reset = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", DIRECT, None).await;
        let (status, _) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "api_calls"})).await;

        assert!(invoices(&app, &sub).await.is_empty(), "free plans never invoice usage");
        assert_eq!(reset["consumption"]["unitsUsed"], 0);
        assert_eq!(reset["allowed"], true);
        assert_eq!(status, 200, "a new period starts at zero");
    }
}

on_both_backends! {
    /// `usage.md` §10 scenario C: credits, used up.
    async fn tracks_on_a_credits_plan_spend_credits_until_none_are_left(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        let sub = metered_setup(
            &app,
            json!({"name": "Studio", "code": "studio", "consumptionModel": "credits"}),
            Some(json!({"billingInterval": "monthly", "price": 2000, "includedCredits": 1000, "isDefault": true})),
            json!({"includedAmount": 0, "creditsPerUnit": 10}),
            json!({"name": "Images", "code": "image_gen", "type": "usage"}),
        ).await;
        let mut seen = listen(&app, &receiver).await;
        let body = |value: i64| json!({"customerId": "user_42", "featureCode": "image_gen", "value": value});

        let first = ok(&app, Method::POST, "/usage/events", DIRECT, Some(body(95))).await;
        let low = delivered(&app, &receiver, &mut seen).await;
        let check = ok(&app, Method::POST, "/usage/check", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "image_gen", "quantity": 6}))).await;
        let last = ok(&app, Method::POST, "/usage/events", DIRECT, Some(body(5))).await;
        let depleted = delivered(&app, &receiver, &mut seen).await;
        let (status, refused) = track(&app, DIRECT, body(1)).await;
        let access = ok(&app, Method::GET, "/feature-access/image_gen?customerId=user_42", DIRECT, None).await;

        assert_eq!(first["consumption"], json!({"model": "credits", "deducted": 950, "remaining": 50, "blocked": false}));
        assert_eq!(names(&low), ["credits.low", "usage.recorded"]);
        let low = data(&low, "credits.low");
        assert_eq!((low["remainingCredits"].clone(), low["thresholdCredits"].clone(), low["periodCredits"].clone()), (json!(50), json!(100), json!(1000)));
        assert_eq!((check["allowed"].clone(), check["reason"].clone(), check["estimatedCredits"].clone(), check["totalCredits"].clone()), (json!(false), json!("insufficient_credits"), json!(60), json!(50)));
        assert_eq!(last["consumption"], json!({"model": "credits", "deducted": 50, "remaining": 0, "blocked": true}));
        assert_eq!(names(&depleted), ["credits.depleted", "customer.state_changed", "usage.recorded"]);
        assert_eq!(data(&depleted, "customer.state_changed")["trigger"], "credits_depleted");
        assert_eq!(status, 400);
        let refused = error_of(&refused, DIRECT);
        assert_eq!(refused["code"], "insufficient_credits");
        assert_eq!(refused["details"], json!({"featureCode": "image_gen", "requested": 1, "creditsRequired": 10, "creditsAvailable": 0}));
        assert_eq!(access["allowed"], false);
        let consumption = &access["consumption"];
        assert_eq!((consumption["model"].clone(), consumption["unitsUsed"].clone(), consumption["creditsPerUnit"].clone(), consumption["creditsConsumed"].clone(), consumption["availableUnits"].clone()), (json!("credits"), json!(100), json!(10), json!(1000), json!(0)));
        // The state the webhook reports is feature access's, without the object's own keys.
        let mut accessed = access.clone();
        for key in ["object", "livemode", "reason"] {
            accessed.as_object_mut().unwrap().remove(key);
        }
        let state = data(&depleted, "customer.state_changed");
        assert_eq!(state["features"], json!([accessed]));
        assert_eq!((state["consumptionModel"].clone(), state["credits"].clone()), (json!("credits"), json!({"planCredits": 1000, "purchasedCredits": 0, "totalCredits": 0})));

        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        let renewed = invoices(&app, &sub).await;
        let granted = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(renewed[0]["total"], 2000, "credits have no overage line");
        assert!(names(&granted).contains(&"invoice.created"));
        let sub_now = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        assert_eq!(sub_now["credits"]["remaining"], 1000);
    }
}

on_both_backends! {
    /// `usage.md` §10 scenario D: a balance that may go below zero, billed in arrears.
    async fn a_balance_plan_runs_into_deficit_and_bills_it_at_period_end(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        let sub = metered_setup(
            &app,
            json!({"name": "Pay as you go", "code": "payg", "consumptionModel": "balance", "blockOnExhaustion": false}),
            Some(json!({"billingInterval": "monthly", "price": 5000, "includedBalance": 500_000, "isDefault": true})),
            json!({"includedAmount": 0, "overage": {"enabled": false, "unitPrice": 500}}),
            json!({"name": "Image processing", "code": "image_processing", "type": "usage"}),
        ).await;
        let mut seen = listen(&app, &receiver).await;
        let body = |value: i64| json!({"customerId": "user_42", "featureCode": "image_processing", "value": value});

        let first = ok(&app, Method::POST, "/usage/events", DIRECT, Some(body(950))).await;
        let low = delivered(&app, &receiver, &mut seen).await;
        let second = ok(&app, Method::POST, "/usage/events", DIRECT, Some(body(100))).await;
        let depleted = delivered(&app, &receiver, &mut seen).await;
        let access = ok(&app, Method::GET, "/feature-access/image_processing?customerId=user_42", DIRECT, None).await;

        assert_eq!(first["consumption"], json!({"model": "balance", "deducted": 475_000, "remaining": 25_000, "blocked": false}));
        assert_eq!(names(&low), ["balance.low", "usage.recorded"]);
        let low = data(&low, "balance.low");
        assert_eq!((low["currentBalance"].clone(), low["thresholdBalance"].clone()), (json!(25_000), json!(50_000)));
        assert_eq!(second["consumption"]["remaining"], -25_000);
        assert_eq!(names(&depleted), ["balance.depleted", "customer.state_changed", "usage.recorded"]);
        assert_eq!(data(&depleted, "balance.depleted")["currentBalance"], -25_000);
        assert_eq!(access["allowed"], true);
        assert_eq!(access["consumption"]["spent"], json!({"amount": 5250, "currency": "usd"}));
        assert_eq!(access["consumption"]["availableUnits"], 0);

        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        let renewal = &invoices(&app, &sub).await[0];
        let lines: Vec<(Value, Value)> = renewal["lineItems"].as_array().unwrap().iter().map(|l| (l["lineType"].clone(), l["amount"].clone())).collect();
        let after = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;

        assert_eq!(lines, [(json!("plan_base"), json!(5000)), (json!("balance_overage"), json!(250))]);
        assert_eq!(renewal["total"], 5250);
        assert_eq!(after["balance"]["remaining"], 500_000);
    }
}

on_both_backends! {
    async fn a_blocking_balance_refuses_what_it_cannot_pay(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        metered_setup(
            &app,
            json!({"name": "Pay as you go", "code": "payg", "consumptionModel": "balance", "blockOnExhaustion": true}),
            Some(json!({"billingInterval": "monthly", "price": 5000, "includedBalance": 500_000, "isDefault": true})),
            json!({"includedAmount": 0, "overage": {"enabled": false, "unitPrice": 500}}),
            json!({"name": "Image processing", "code": "image_processing", "type": "usage"}),
        ).await;
        let body = |value: i64| json!({"customerId": "user_42", "featureCode": "image_processing", "value": value});

        ok(&app, Method::POST, "/usage/events", DIRECT, Some(body(950))).await;
        let (status, refused) = track(&app, LEGACY, json!({"customerId": "user_42", "feature": "image_processing", "value": 100})).await;
        let check = ok(&app, Method::POST, "/usage/check", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "image_processing", "quantity": 100}))).await;

        assert_eq!(status, 400);
        let refused = error_of(&refused, LEGACY);
        assert_eq!(refused["code"], "insufficient_balance");
        assert_eq!(refused["details"], json!({"featureCode": "image_processing", "requested": 100, "amountRequired": 50_000, "currentBalance": 25_000}));
        assert_eq!((check["allowed"].clone(), check["estimatedAmount"].clone(), check["currentBalance"].clone(), check["blockOnExhaustion"].clone(), check["currency"].clone()), (json!(false), json!(50_000), json!(25_000), json!(true), json!("usd")));
    }
}

on_both_backends! {
    /// Every refusal of the area, each changing nothing.
    async fn bad_usage_requests_get_the_documented_error_and_change_nothing(app: TestApp) {
        // A plan with a disabled usage feature beside the metered one, set up before anyone
        // subscribes (a disabled feature added later never reaches running subscriptions).
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Seats", "code": "seats", "type": "seats"}))).await;
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Other", "code": "other", "type": "usage"}))).await;
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Off", "code": "off", "type": "usage"}))).await;
        ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "Hobby", "code": "hobby", "isFree": true}))).await;
        ok(&app, Method::POST, "/plans/hobby/features", DIRECT, Some(json!({"featureId": "off", "enabled": false}))).await;
        ok(&app, Method::POST, "/features", DIRECT, Some(scale_feature())).await;
        ok(&app, Method::POST, "/plans/hobby/features", DIRECT, Some(json!({"featureId": "api_calls", "includedAmount": 1000}))).await;
        app.create_customer(&json!({"email": "ada@example.com", "id": "user_42"})).await;
        ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_42", "planCode": "hobby"}))).await;
        app.create_customer(&json!({"email": "lone@example.com", "id": "lonely"})).await;
        let base = json!({"customerId": "user_42", "featureCode": "api_calls", "value": 1});
        let with = |key: &str, value: Value| {
            let mut body = base.clone();
            body[key] = value;
            body
        };
        let without = |key: &str| {
            let mut body = base.clone();
            body.as_object_mut().unwrap().remove(key);
            body
        };
        let cases: Vec<(Value, u16, &str, &str)> = vec![
            (with("value", json!(-1)), 400, "validation_error", "value"),
            (with("value", json!(0)), 400, "validation_error", "value"),
            (with("value", json!(1.5)), 400, "validation_error", "value"),
            (with("value", json!(10_000_000_000_i64)), 400, "validation_error", "value"),
            (with("value", json!("3")), 400, "validation_error", "value"),
            (without("customerId"), 400, "validation_error", "customerId"),
            (without("featureCode"), 400, "validation_error", "featureCode"),
            (with("feature", json!("other")), 400, "validation_error", "featureCode"),
            (with("eventId", json!("")), 400, "validation_error", "eventId"),
            (with("timestamp", json!("yesterday")), 400, "validation_error", "timestamp"),
            (with("properties", json!([{"property": "a", "value": 1}])), 400, "validation_error", "properties[0].value"),
            (with("model", json!("gpt")), 400, "validation_error", "value"),
            (with("featureCode", json!("nope")), 404, "feature_not_found", "featureCode"),
            (with("featureCode", json!("seats")), 404, "feature_not_found", "featureCode"),
            (with("featureCode", json!("other")), 400, "feature_not_in_plan", "featureCode"),
            (with("featureCode", json!("off")), 400, "feature_disabled", "featureCode"),
            (with("customerId", json!("nobody")), 404, "customer_not_found", "customerId"),
            (with("customerId", json!("lonely")), 404, "no_active_subscription", "customerId"),
        ];
        let mut problems = Vec::new();
        for (body, status, code, param) in &cases {
            for version in [DIRECT, LEGACY] {
                let (got, answer) = track(&app, version, body.clone()).await;
                let error = error_of(&answer, version);
                if (got, error["code"].as_str(), error["param"].as_str()) != (*status, Some(*code), Some(*param)) {
                    problems.push(format!("{version} {body}: {got} {answer}"));
                }
            }
        }
        let mut ai = base.clone();
        ai.as_object_mut().unwrap().remove("value");
        ai["model"] = json!("gpt");
        ai["inputTokens"] = json!(10);
        ai["outputTokens"] = json!(5);
        let (ai_status, ai_answer) = track(&app, DIRECT, ai).await;
        let (set_status, set_answer) = call(&app, Method::PUT, "/usage", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": -5}))).await;
        let (check_status, check_answer) = call(&app, Method::POST, "/usage/check", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "quantity": 0}))).await;
        let (action_status, action_answer) = call(&app, Method::GET, "/feature-access/api_calls?customerId=user_42&action=spend", DIRECT, None).await;
        let (unknown_status, _) = call(&app, Method::GET, "/feature-access/nope?customerId=user_42", DIRECT, None).await;
        let unchanged = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", DIRECT, None).await;
        let missing = ok(&app, Method::GET, "/feature-access/other?customerId=user_42", LEGACY, None).await;
        let none = ok(&app, Method::GET, "/feature-access?customerId=lonely", DIRECT, None).await;

        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!((ai_status, error_of(&ai_answer, DIRECT)["code"].as_str()), (400, Some("pricing_mode_mismatch")));
        assert_eq!((set_status, error_of(&set_answer, DIRECT)["param"].as_str()), (400, Some("value")));
        assert_eq!((check_status, error_of(&check_answer, DIRECT)["param"].as_str()), (400, Some("quantity")));
        assert_eq!((action_status, error_of(&action_answer, DIRECT)["param"].as_str()), (400, Some("action")));
        assert_eq!(unknown_status, 404);
        assert_eq!(unchanged["consumption"]["unitsUsed"], 0, "no refused request counted");
        assert_eq!((missing["allowed"].clone(), missing["reason"].clone(), missing["current"].clone()), (json!(false), json!("feature_not_in_plan"), json!(0)));
        assert_eq!(none["data"], json!([]));
    }
}

on_both_backends! {
    async fn set_replaces_the_period_count_and_legacy_keys_deduplicate(app: TestApp) {
        hobby_with_1000_calls(&app).await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 40}))).await;

        let direct = ok(&app, Method::PUT, "/usage", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 25, "reason": "recount"}))).await;
        let (_, legacy) = call(&app, Method::PUT, "/usage", LEGACY, Some(json!({"customerId": "user_42", "feature": "api_calls", "value": 30, "idempotencyKey": "set-1"}))).await;
        let (dup_status, dup) = call(&app, Method::PUT, "/usage", LEGACY, Some(json!({"customerId": "user_42", "feature": "api_calls", "value": 31, "idempotencyKey": "set-1"}))).await;
        let access = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", LEGACY, None).await;

        assert_eq!((direct["value"].clone(), direct["previousValue"].clone(), direct["adjustment"].clone(), direct["object"].clone()), (json!(25), json!(40), json!(-15), json!("usage_adjustment")));
        assert_eq!(direct["featureCode"], "api_calls");
        let legacy = &legacy["data"];
        assert_eq!((legacy["feature"].clone(), legacy["previousValue"].clone(), legacy["adjustment"].clone(), legacy["idempotencyKey"].clone(), legacy["object"].clone()), (json!("api_calls"), json!(25), json!(5), json!("set-1"), json!("usage_event")));
        assert_eq!((dup_status, error_of(&dup, LEGACY)["param"].as_str()), (409, Some("idempotencyKey")));
        assert_eq!(access["current"], 30);
    }
}

/// 100 parallel tracks of 1 against 37 remaining units accept exactly 37.
async fn allowance_holds(app: &TestApp, other: &TestApp) {
    metered_setup(
        app,
        json!({"name": "Hobby", "code": "hobby", "isFree": true}),
        None,
        json!({"includedAmount": 100}),
        scale_feature(),
    )
    .await;
    ok(
        app,
        Method::POST,
        "/usage/events",
        DIRECT,
        Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 63})),
    )
    .await;
    let tracks = (0..100).map(|n| {
        let node = if n % 2 == 0 { app } else { other };
        async move {
            track(
                node,
                DIRECT,
                json!({"customerId": "user_42", "featureCode": "api_calls", "value": 1}),
            )
            .await
        }
    });
    let outcomes = futures::future::join_all(tracks).await;
    let accepted = outcomes.iter().filter(|(s, _)| *s == 200).count();
    let refused: Vec<_> = outcomes.iter().filter(|(s, _)| *s != 200).collect();
    let access = ok(
        app,
        Method::GET,
        "/feature-access/api_calls?customerId=user_42",
        DIRECT,
        None,
    )
    .await;

    assert_eq!(accepted, 37);
    assert_eq!(refused.len(), 63);
    assert!(
        refused
            .iter()
            .all(|(s, body)| *s == 400 && body["error"]["code"] == "included_limit_reached"),
        "{refused:?}"
    );
    assert_eq!(access["consumption"]["unitsUsed"], 100);
}

on_both_backends! {
    async fn parallel_tracks_never_pass_the_allowance(app: TestApp) {
        allowance_holds(&app, &app).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_tracks_on_two_nodes_never_pass_the_allowance() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let other = app.another_node().await;
    allowance_holds(&app, &other).await;
}

on_both_backends! {
    /// `usage.md` §10 scenario E: a quota's high-water mark, billed like seats.
    async fn quota_balances_bill_their_peak_like_seats(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Tasks", "code": "tasks", "type": "quota"}))).await;
        ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "Tasks Pro", "code": "tasks_pro"}))).await;
        ok(&app, Method::POST, "/plans/tasks_pro/prices", DIRECT, Some(json!({"billingInterval": "monthly", "price": 2900, "isDefault": true}))).await;
        ok(&app, Method::POST, "/plans/tasks_pro/features", DIRECT, Some(json!({"featureId": "tasks", "includedAmount": 15, "overage": {"enabled": true, "unitPrice": 7500}}))).await;
        app.create_customer(&json!({"email": "ada@example.com", "id": "user_42"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_42", "planCode": "tasks_pro"}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let body = |count: i64| json!({"customerId": "user_42", "featureCode": "tasks", "count": count});

        let set = ok(&app, Method::PUT, "/usage/quota", DIRECT, Some(body(15))).await;
        let (_, legacy_set) = call(&app, Method::PUT, "/usage/quota", LEGACY, Some(body(15))).await;
        freeze(&app, "2026-09-16T00:00:00.000Z").await;
        let added = ok(&app, Method::POST, "/usage/quota", DIRECT, Some(json!({"externalId": "user_42", "featureCode": "tasks", "count": 10}))).await;
        freeze(&app, "2026-09-21T00:00:00.000Z").await;
        let removed = ok(&app, Method::DELETE, "/usage/quota", LEGACY, Some(body(10))).await;
        let (over_status, over) = call(&app, Method::POST, "/usage/quota/remove", DIRECT, Some(body(20))).await;
        let quota = ok(&app, Method::GET, "/usage/quota?customerId=user_42&featureCode=tasks", DIRECT, None).await;
        let all = ok(&app, Method::GET, "/usage/quota/all?customerId=user_42", LEGACY, None).await;
        let access = ok(&app, Method::GET, "/feature-access/tasks?customerId=user_42", DIRECT, None).await;
        let seat_history = ok(&app, Method::GET, "/seats/events?customerId=user_42", DIRECT, None).await;

        assert_eq!((set["previousBalance"].clone(), set["newBalance"].clone(), set["object"].clone()), (json!(0), json!(15), json!("usage_quota_event")));
        assert!(set["id"].as_str().unwrap().starts_with("qev_"), "{set}");
        assert_eq!((legacy_set["data"]["previousBalance"].clone(), legacy_set["data"]["newBalance"].clone(), legacy_set["data"]["object"].clone()), (json!(15), json!(15), json!("usage_quota")));
        assert_eq!((added["previousBalance"].clone(), added["newBalance"].clone()), (json!(15), json!(25)));
        assert_eq!((removed["previousBalance"].clone(), removed["newBalance"].clone(), removed["object"].clone()), (json!(25), json!(15), json!("usage_quota")));
        assert_eq!(over_status, 400);
        let over = error_of(&over, DIRECT);
        assert_eq!((over["code"].as_str(), over["type"].as_str()), (Some("insufficient_balance"), Some("billing_error")));
        assert_eq!(over["details"], json!({"featureCode": "tasks", "current": 15, "requested": 20}));
        assert_eq!(quota, json!({"featureCode":"tasks","current":15,"included":15,"remaining":0,"billedQuantity":25,"unlimited":false,"overageEnabled":true,"asOf":"2026-09-21T00:00:00.000Z","object":"usage_quota","livemode":false}));
        assert_eq!(all, json!([quota]));
        assert_eq!((access["usage"]["unitsUsed"].clone(), access["usage"]["billedUnits"].clone()), (json!(15), json!(25)));
        assert_eq!(seat_history["data"], json!([]), "quota changes are not seat history");

        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        let renewal = &invoices(&app, &sub).await[0];
        let lines: Vec<(Value, Value, Value, Value)> = renewal["lineItems"].as_array().unwrap().iter()
            .map(|l| (l["lineType"].clone(), l["chargeType"].clone(), l["quantity"].clone(), l["amount"].clone()))
            .collect();
        let after = ok(&app, Method::GET, "/usage/quota?customerId=user_42&featureCode=tasks", DIRECT, None).await;

        assert_eq!(lines, [
            (json!("plan_base"), json!("advance"), json!(1), json!(2900)),
            (json!("feature_quota"), json!("true_up"), json!(10), json!(375)),
        ]);
        assert_eq!(renewal["lineItems"][1]["unitAmount"], 75);
        assert_eq!(renewal["total"], 3275);
        assert_eq!(after["billedQuantity"], 15, "the peak starts again at what is held");
    }
}

on_both_backends! {
    async fn a_quota_that_cannot_be_sold_stops_at_its_included_amount(app: TestApp) {
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Tasks", "code": "tasks", "type": "quota"}))).await;
        ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "Free", "code": "free", "isFree": true}))).await;
        ok(&app, Method::POST, "/plans/free/features", DIRECT, Some(json!({"featureId": "tasks", "includedAmount": 3}))).await;
        app.create_customer(&json!({"email": "ada@example.com", "id": "user_42"})).await;
        ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_42", "planCode": "free"}))).await;
        let body = |count: i64| json!({"customerId": "user_42", "featureCode": "tasks", "count": count});

        let added = ok(&app, Method::POST, "/usage/quota", DIRECT, Some(body(3))).await;
        let (status, refused) = call(&app, Method::POST, "/usage/quota", DIRECT, Some(body(1))).await;
        let (both_status, both) = call(&app, Method::POST, "/usage/quota", DIRECT, Some(json!({"customerId": "user_42", "externalId": "user_42", "featureCode": "tasks"}))).await;
        let (neg_status, neg) = call(&app, Method::POST, "/usage/quota", DIRECT, Some(body(0))).await;
        let (wrong_status, wrong) = call(&app, Method::GET, "/usage/quota?customerId=user_42&featureCode=nope", DIRECT, None).await;
        let quota = ok(&app, Method::GET, "/usage/quota?customerId=user_42&featureCode=tasks", DIRECT, None).await;

        let keyed = json!({"customerId": "user_42", "featureCode": "tasks", "count": 1, "idempotencyKey": "q-1"});
        let removed = ok(&app, Method::DELETE, "/usage/quota", LEGACY, Some(keyed.clone())).await;
        let (dup_status, dup) = call(&app, Method::DELETE, "/usage/quota", LEGACY, Some(keyed)).await;
        let dup = error_of(&dup, LEGACY);

        assert_eq!(removed["newBalance"], 2);
        assert_eq!((dup_status, dup["code"].as_str(), dup["param"].as_str()), (409, Some("duplicate"), Some("idempotencyKey")));
        assert_eq!(dup["details"]["usageEventId"], removed["id"]);
        assert_eq!(added["newBalance"], 3);
        assert_eq!(status, 400);
        let refused = error_of(&refused, DIRECT);
        assert_eq!(refused["code"], "included_limit_reached");
        assert_eq!(refused["details"], json!({"featureCode": "tasks", "current": 3, "included": 3, "requested": 4}));
        assert_eq!((both_status, error_of(&both, DIRECT)["param"].as_str()), (400, Some("customerId")));
        assert_eq!((neg_status, error_of(&neg, DIRECT)["param"].as_str()), (400, Some("count")));
        assert_eq!((wrong_status, error_of(&wrong, DIRECT)["code"].as_str()), (404, Some("feature_not_found")));
        assert_eq!((quota["current"].clone(), quota["overageEnabled"].clone(), quota["remaining"].clone()), (json!(3), json!(false), json!(0)));
    }
}

on_both_backends! {
    /// A period end the legacy clock passed but did not process yet: reads show the new
    /// period, and the next write processes the renewal itself before it counts.
    async fn a_write_processes_a_due_renewal_before_it_counts(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let sub = metered_setup(
            &app,
            json!({"name": "Studio", "code": "studio", "consumptionModel": "credits"}),
            Some(json!({"billingInterval": "monthly", "price": 2000, "includedCredits": 1000, "isDefault": true})),
            json!({"includedAmount": 0, "creditsPerUnit": 10}),
            json!({"name": "Images", "code": "image_gen", "type": "usage"}),
        ).await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "image_gen", "value": 90}))).await;
        // The legacy clock moves time without processing what falls due.
        let (status, _) = call(&app, Method::POST, "/test-clock", LEGACY, Some(json!({"frozenTime": "2026-10-05T00:00:00.000Z"}))).await;
        assert_eq!(status, 200);

        let before = ok(&app, Method::GET, "/feature-access/image_gen?customerId=user_42", DIRECT, None).await;
        let check = ok(&app, Method::POST, "/usage/check", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "image_gen", "quantity": 50}))).await;
        let invoices_before = invoices(&app, &sub).await.len();
        let tracked = ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "image_gen", "value": 50}))).await;
        let invoices_after = invoices(&app, &sub).await;
        let (_, billing) = call(&app, Method::POST, "/test-clock/process-billing", LEGACY, Some(json!({}))).await;

        assert_eq!(before["consumption"]["unitsUsed"], 0, "reads show the new period");
        assert_eq!(before["consumption"]["availableUnits"], 100, "with the credits refilled");
        assert_eq!(check["allowed"], true, "{check}");
        assert_eq!(invoices_before, 1, "nothing was processed by the reads");
        assert_eq!(tracked["consumption"], json!({"model": "credits", "deducted": 500, "remaining": 500, "blocked": false}));
        assert_eq!(invoices_after.len(), 2, "the track processed the renewal first");
        assert_eq!(invoices_after[0]["periodStart"], "2026-10-01T00:00:00.000Z");
        assert_eq!(billing["data"]["enqueued"], 0, "process-billing finds nothing left to do");
    }
}

on_both_backends! {
    async fn usage_counts_show_in_subscriptions_and_credits_per_unit_is_positive(app: TestApp) {
        let sub = hobby_with_1000_calls(&app).await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 42}))).await;
        let (zero_status, zero) = call(&app, Method::POST, "/plans/hobby/features", DIRECT, Some(json!({"featureId": "api_calls", "creditsPerUnit": 0}))).await;
        let set = ok(&app, Method::PUT, "/usage", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 50, "eventId": "s-1"}))).await;
        let (dup_status, dup) = call(&app, Method::PUT, "/usage", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 51, "eventId": "s-1"}))).await;
        let direct = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        let legacy = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), LEGACY, None).await;

        assert_eq!((zero_status, error_of(&zero, DIRECT)["param"].as_str()), (400, Some("creditsPerUnit")));
        assert_eq!(set["value"], 50);
        assert_eq!((dup_status, error_of(&dup, DIRECT)["param"].as_str()), (409, Some("eventId")));
        assert_eq!(direct["features"][0]["usage"]["current"], 50);
        assert_eq!(legacy["features"][0]["usage"]["current"], 50);
    }
}

on_both_backends! {
    /// Hot reads may be answered from memory (SQLite): a write is seen by the very next read,
    /// and a revoked key is refused on its next request.
    async fn hot_reads_see_every_acknowledged_write_and_no_revoked_key(app: TestApp) {
        hobby_with_1000_calls(&app).await;
        let created = ok(&app, Method::POST, "/api-keys", DIRECT, Some(json!({"name": "reader"}))).await;
        let (secret, key_id) = (created["apiKey"].as_str().unwrap().to_owned(), created["id"].as_str().unwrap().to_owned());
        let read_with = |secret: String| {
            let app = &app;
            async move {
                let response = app
                    .client
                    .get(app.url("/feature-access/api_calls?customerId=user_42"))
                    .header("x-api-key", secret)
                    .header("commet-version", DIRECT)
                    .send()
                    .await
                    .unwrap();
                let status = response.status().as_u16();
                (status, response.json::<Value>().await.unwrap())
            }
        };

        let mut seen = Vec::new();
        for n in 1..=5 {
            ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": n}))).await;
            let (_, body) = read_with(secret.clone()).await;
            seen.push(body["consumption"]["unitsUsed"].as_i64().unwrap());
        }
        let (before, _) = read_with(secret.clone()).await;
        ok(&app, Method::DELETE, &format!("/api-keys/{key_id}"), DIRECT, None).await;
        let (after, _) = read_with(secret.clone()).await;

        assert_eq!(seen, [1, 3, 6, 10, 15], "every read sees the track before it");
        assert_eq!(before, 200);
        assert_eq!(after, 401, "a revoked key is refused at once");
    }
}

/// On PostgreSQL nodes keep what they read with the database's stamp: a write acknowledged by
/// one node is seen by the next read on another, and a key revoked on one is refused on the
/// other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_on_one_node_is_seen_by_the_next_read_on_another() {
    let Some(app) = TestApp::spawn(Backend::Postgres).await else {
        return;
    };
    let other = app.another_node().await;
    hobby_with_1000_calls(&app).await;
    let created = ok(
        &app,
        Method::POST,
        "/api-keys",
        DIRECT,
        Some(json!({"name": "reader"})),
    )
    .await;
    let (secret, key_id) = (
        created["apiKey"].as_str().unwrap().to_owned(),
        created["id"].as_str().unwrap().to_owned(),
    );
    let used_on_other = |secret: String| {
        let other = &other;
        async move {
            let response = other
                .client
                .get(other.url("/feature-access/api_calls?customerId=user_42"))
                .header("x-api-key", secret)
                .header("commet-version", DIRECT)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            (
                status,
                body["consumption"]["unitsUsed"].as_i64(),
                body["consumption"]["includedUnits"].as_i64(),
            )
        }
    };

    let mut seen = Vec::new();
    for n in 1..=3 {
        // Twice on the other node: the second read may come from what it kept.
        used_on_other(secret.clone()).await;
        ok(
            &app,
            Method::POST,
            "/usage/events",
            DIRECT,
            Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": n})),
        )
        .await;
        seen.push(used_on_other(secret.clone()).await.1);
    }
    ok(
        &app,
        Method::PATCH,
        "/plans/hobby/features/api_calls",
        DIRECT,
        Some(json!({"includedAmount": 2000})),
    )
    .await;
    let after_catalog = used_on_other(secret.clone()).await;
    ok(
        &app,
        Method::DELETE,
        &format!("/api-keys/{key_id}"),
        DIRECT,
        None,
    )
    .await;
    let after_revoke = used_on_other(secret.clone()).await;

    assert_eq!(seen, [Some(1), Some(3), Some(6)]);
    assert_eq!(
        after_catalog.2,
        Some(2000),
        "a catalog change applied at once is seen"
    );
    assert_eq!(after_revoke.0, 401);
}

on_both_backends! {
    async fn a_per_model_feature_takes_no_value_and_knows_no_model(app: TestApp) {
        ok(&app, Method::POST, "/features", DIRECT, Some(json!({"name": "Tokens", "code": "tokens", "type": "usage"}))).await;
        ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "AI", "code": "ai", "isFree": true}))).await;
        ok(&app, Method::POST, "/plans/ai/features", DIRECT, Some(json!({"featureId": "tokens", "includedAmount": 1000, "pricingMode": "ai_model"}))).await;
        app.create_customer(&json!({"email": "ada@example.com", "id": "user_42"})).await;
        ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_42", "planCode": "ai"}))).await;

        let (value_status, by_value) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "tokens", "value": 5})).await;
        let (model_status, by_model) = track(&app, LEGACY, json!({"customerId": "user_42", "feature": "tokens", "model": "gpt-x", "inputTokens": 10, "outputTokens": 5})).await;
        let (odd_status, odd) = track(&app, DIRECT, json!({"customerId": "user_42", "featureCode": "tokens", "model": 7, "inputTokens": 1, "outputTokens": 1})).await;
        let access = ok(&app, Method::GET, "/feature-access/tokens?customerId=user_42", DIRECT, None).await;

        let by_value = error_of(&by_value, DIRECT);
        assert_eq!((value_status, by_value["code"].as_str(), by_value["param"].as_str()), (400, Some("pricing_mode_mismatch"), Some("value")));
        let by_model = error_of(&by_model, LEGACY);
        assert_eq!((model_status, by_model["code"].as_str(), by_model["type"].as_str(), by_model["param"].as_str()), (404, Some("model_not_found"), Some("not_found_error"), Some("model")));
        assert_eq!((odd_status, error_of(&odd, DIRECT)["param"].as_str()), (400, Some("model")));
        assert_eq!(access["consumption"]["unitsUsed"], 0, "nothing was counted");
    }
}

on_both_backends! {
    /// A cancellation that takes effect at once bills the cut-short period's usage.
    async fn an_immediate_cancellation_bills_the_usage_it_cuts_short(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let sub = metered_setup(
            &app,
            json!({"name": "Scale", "code": "scale"}),
            Some(json!({"billingInterval": "monthly", "price": 9900, "isDefault": true})),
            json!({"includedAmount": 10_000, "overage": {"enabled": true, "unitPrice": 100}}),
            scale_feature(),
        ).await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": "user_42", "featureCode": "api_calls", "value": 12_000}))).await;
        freeze(&app, "2026-09-16T00:00:00.000Z").await;
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), DIRECT, Some(json!({"immediate": true}))).await;

        let invoices = invoices(&app, &sub).await;
        let last = &invoices[0];
        let lines: Vec<(Value, Value)> = last["lineItems"].as_array().unwrap().iter().map(|l| (l["lineType"].clone(), l["amount"].clone())).collect();

        assert_eq!(invoices.len(), 2, "the opening invoice and the final one");
        assert_eq!(lines, [(json!("feature_overage"), json!(2000))]);
        assert_eq!((last["periodStart"].clone(), last["periodEnd"].clone()), (json!("2026-09-01T00:00:00.000Z"), json!("2026-09-16T00:00:00.000Z")));
    }
}

on_both_backends! {
    /// Hot reads that arrive together may share one stamp statement (PostgreSQL): each still
    /// gets its own customer's figures, an unknown customer its own 404, and every read sees
    /// the writes acknowledged before it.
    async fn concurrent_hot_reads_each_get_their_own_customer(app: TestApp) {
        hobby_with_1000_calls(&app).await;
        let customers: Vec<String> = (1..=6).map(|n| format!("reader_{n}")).collect();
        for (n, id) in customers.iter().enumerate() {
            app.create_customer(&json!({"email": format!("{id}@example.com"), "id": id})).await;
            ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": id, "planCode": "hobby"}))).await;
            ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": id, "featureCode": "api_calls", "value": n + 1}))).await;
        }
        let wave = |round: usize| {
            let app = &app;
            let customers = &customers;
            futures::future::join_all((0..60).map(move |i| async move {
                // Every seventh read names a customer that does not exist.
                let customer = customers.get(i % 7).map_or("nobody", String::as_str);
                let path = format!("/feature-access/api_calls?customerId={customer}");
                let (status, body) = call(app, Method::GET, &path, DIRECT, None).await;
                (round, customer.to_owned(), status, body["consumption"]["unitsUsed"].as_i64())
            }))
        };
        let first = wave(1).await;
        for (n, id) in customers.iter().enumerate() {
            ok(&app, Method::POST, "/usage/events", DIRECT, Some(json!({"customerId": id, "featureCode": "api_calls", "value": 100 * (n + 1)}))).await;
        }
        let second = wave(2).await;

        for (round, customer, status, used) in first.into_iter().chain(second) {
            match customers.iter().position(|c| *c == customer) {
                Some(n) => {
                    let expected = (n as i64 + 1) * if round == 1 { 1 } else { 101 };
                    assert_eq!((status, used), (200, Some(expected)), "round {round}, {customer}");
                }
                None => assert_eq!(status, 404, "round {round}, {customer}"),
            }
        }
    }
}

/// Advances the clock and returns the run's items as (dueAt, outcome, invoiceId present).
pub(crate) async fn advance(app: &TestApp, at: &str) -> Vec<(String, String, bool)> {
    let run = json_with_status(
        app.post("/test-clock", DIRECT, &json!({"frozenTime": at}))
            .await,
        202,
    )
    .await;
    run["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["dueAt"].as_str().unwrap().to_owned(),
                i["outcome"].as_str().unwrap().to_owned(),
                i["invoiceId"].is_string(),
            )
        })
        .collect()
}

/// (invoiceType, periodStart, periodEnd, total, line types) of each invoice, by period start
/// and then type.
pub(crate) fn invoice_summary(
    invoices: &[Value],
) -> Vec<(String, String, String, i64, Vec<String>)> {
    let mut summary: Vec<_> = invoices
        .iter()
        .map(|i| {
            (
                i["invoiceType"].as_str().unwrap().to_owned(),
                i["periodStart"].as_str().unwrap_or_default().to_owned(),
                i["periodEnd"].as_str().unwrap_or_default().to_owned(),
                i["total"].as_i64().unwrap(),
                i["lineItems"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["lineType"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    summary.sort_by(|a, b| (&a.1, &a.0).cmp(&(&b.1, &b.0)));
    summary
}

pub(crate) fn summary_row(
    invoice_type: &str,
    start: &str,
    end: &str,
    total: i64,
    lines: &[&str],
) -> (String, String, String, i64, Vec<String>) {
    (
        invoice_type.to_owned(),
        format!("{start}T00:00:00.000Z"),
        format!("{end}T00:00:00.000Z"),
        total,
        lines.iter().map(|l| (*l).to_owned()).collect(),
    )
}

on_both_backends! {
    /// `usage.md` §5: on a quarterly plan each month is a usage period of its own. A month
    /// that ends inside the quarter is billed on an `overage` invoice of its own (none when it
    /// owes nothing), shown as a `usage_reset` run item; the quarter's last month goes on the
    /// renewal invoice.
    async fn months_inside_a_quarter_are_billed_on_overage_invoices(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let sub = metered_setup(
            &app,
            json!({"name": "Scale", "code": "scale"}),
            Some(json!({"billingInterval": "quarterly", "price": 30_000, "isDefault": true})),
            json!({"includedAmount": 1000, "overage": {"enabled": true, "unitPrice": 100}}),
            scale_feature(),
        ).await;
        let used = |value: i64| json!({"customerId": "user_42", "featureCode": "api_calls", "value": value});

        ok(&app, Method::POST, "/usage/events", DIRECT, Some(used(1500))).await;
        let october = advance(&app, "2026-10-01T00:00:00.000Z").await;
        let in_october = ok(&app, Method::GET, "/feature-access/api_calls?customerId=user_42", DIRECT, None).await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(used(800))).await;
        let november = advance(&app, "2026-11-01T00:00:00.000Z").await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(used(1200))).await;
        let december = advance(&app, "2026-12-01T00:00:00.000Z").await;
        let subscription = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;

        assert_eq!(october, [("2026-10-01T00:00:00.000Z".to_owned(), "usage_reset".to_owned(), true)]);
        assert_eq!(november, [("2026-11-01T00:00:00.000Z".to_owned(), "usage_reset".to_owned(), false)], "a month that owes nothing issues no invoice");
        assert_eq!(december, [("2026-12-01T00:00:00.000Z".to_owned(), "renewed".to_owned(), true)]);
        assert_eq!(in_october["consumption"]["unitsUsed"], 0, "the new month starts at zero");
        assert_eq!(in_october["consumption"]["period"], json!({"start": "2026-10-01T00:00:00.000Z", "end": "2026-11-01T00:00:00.000Z"}));
        assert_eq!(subscription["currentPeriod"]["start"], "2026-12-01T00:00:00.000Z");
        assert_eq!(invoice_summary(&invoices(&app, &sub).await), [
            summary_row("overage", "2026-09-01", "2026-10-01", 500, &["feature_overage"]),
            summary_row("recurring", "2026-09-01", "2026-12-01", 30_000, &["plan_base"]),
            summary_row("recurring", "2026-12-01", "2027-03-01", 30_200, &["plan_base", "feature_overage"]),
        ]);
    }
}

on_both_backends! {
    /// A one-time price has no billing period, but its usage periods are monthly (`usage.md`
    /// §2.2): each month's overage is an `overage` invoice, and a caught-up clock bills every
    /// month it passes, in order.
    async fn one_time_prices_bill_each_months_overage(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let sub = metered_setup(
            &app,
            json!({"name": "Lifetime", "code": "lifetime"}),
            Some(json!({"billingInterval": "one_time", "price": 50_000, "isDefault": true})),
            json!({"includedAmount": 100, "overage": {"enabled": true, "unitPrice": 250}}),
            scale_feature(),
        ).await;
        let used = |value: i64| json!({"customerId": "user_42", "featureCode": "api_calls", "value": value});

        ok(&app, Method::POST, "/usage/events", DIRECT, Some(used(140))).await;
        let caught_up = advance(&app, "2026-11-15T00:00:00.000Z").await;
        ok(&app, Method::POST, "/usage/events", DIRECT, Some(used(101))).await;
        let december = advance(&app, "2026-12-01T00:00:00.000Z").await;
        let overage: Vec<_> = invoice_summary(&invoices(&app, &sub).await)
            .into_iter()
            .filter(|i| i.0 == "overage")
            .collect();

        assert_eq!(caught_up, [
            ("2026-10-01T00:00:00.000Z".to_owned(), "usage_reset".to_owned(), true),
            ("2026-11-01T00:00:00.000Z".to_owned(), "usage_reset".to_owned(), false),
        ]);
        assert_eq!(december, [("2026-12-01T00:00:00.000Z".to_owned(), "usage_reset".to_owned(), true)]);
        // 40 units × 2.5 cents = 100; 1 unit × 2.5 cents = 2.5, half up to 3.
        assert_eq!(overage, [
            summary_row("overage", "2026-09-01", "2026-10-01", 100, &["feature_overage"]),
            summary_row("overage", "2026-11-01", "2026-12-01", 3, &["feature_overage"]),
        ]);
    }
}
