//! Plan changes over HTTP (`lifecycle.md` §4): the contract's acceptance scenarios to the cent
//! through renewals moved by the test clock, the webhooks a receiver gets, customer credits
//! left by a change, and every refusal of the area changing nothing.

use crate::catalog::send;
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{
    advance, data, delivered, freeze, invoice_summary, invoices, names, summary_row,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

/// The catalog of the acceptance scenarios: seats feature `editor`; `pro` 9900 (5 included,
/// $25 extra), `business` 29900 (10 included, $20 extra), `team` 19900 (10 included, no
/// extra seats) in one group by that order; `solo` 1900 in none. Returns the plan ids.
pub(crate) async fn standard_catalog(app: &TestApp) -> [String; 4] {
    ok(
        app,
        Method::POST,
        "/features",
        Some(json!({"name": "Editors", "code": "editor", "type": "seats"})),
    )
    .await;
    let group = ok(
        app,
        Method::POST,
        "/plan-groups",
        Some(json!({"name": "Standard"})),
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for (code, name, price, included, overage) in [
        ("pro", "Pro", 9_900, 5, Some(250_000)),
        ("business", "Business", 29_900, 10, Some(200_000)),
        ("team", "Team", 19_900, 10, None),
        ("solo", "Solo", 1_900, 1, Some(100_000)),
    ] {
        let plan = ok(
            app,
            Method::POST,
            "/plans",
            Some(json!({"name": name, "code": code})),
        )
        .await;
        let id = plan["id"].as_str().unwrap().to_owned();
        ok(
            app,
            Method::POST,
            &format!("/plans/{id}/prices"),
            Some(json!({"billingInterval": "monthly", "price": price})),
        )
        .await;
        let overage = match overage {
            Some(unit_price) => json!({"enabled": true, "unitPrice": unit_price}),
            None => json!({"enabled": false}),
        };
        ok(
            app,
            Method::POST,
            &format!("/plans/{id}/features"),
            Some(json!({"featureId": "editor", "includedAmount": included, "overage": overage})),
        )
        .await;
        if code != "solo" {
            ok(
                app,
                Method::POST,
                &format!("/plan-groups/{group}/plans"),
                Some(json!({"planId": id})),
            )
            .await;
        }
        ids.push(id);
    }
    ids.try_into().unwrap()
}

async fn subscribe(app: &TestApp, customer: &str, plan: &str, editors: i64) -> String {
    app.create_customer(&json!({"email": format!("{customer}@acme.test"), "id": customer}))
        .await;
    let body = json!({"customerId": customer, "planId": plan, "initialSeats": {"editor": editors}});
    let sub = ok(app, Method::POST, "/subscriptions", Some(body)).await;
    sub["id"].as_str().unwrap().to_owned()
}

const EVENTS: [&str; 6] = [
    "invoice.created",
    "subscription.plan_changed",
    "subscription.plan_change_scheduled",
    "subscription.plan_change_revoked",
    "customer.state_changed",
    "trial.converted",
];

async fn listen(app: &TestApp, receiver: &Receiver) -> usize {
    ok(
        app,
        Method::POST,
        "/webhooks",
        Some(json!({"url": receiver.url, "events": EVENTS})),
    )
    .await;
    let mut seen = 0;
    delivered(app, receiver, &mut seen).await;
    seen
}

fn error_code(body: &Value, version: &str) -> (String, Value) {
    let error = error_of(body, version);
    (
        error["code"].as_str().unwrap().to_owned(),
        error["param"].clone(),
    )
}

on_both_backends! {
    /// Scenarios 1 and 2: Pro → Business on day 15 of 30 with 8 seats costs $249.50 and
    /// restarts the cycle; a downgrade back to Pro waits for the renewal, which bills Pro's
    /// base and 3 extra seats; the next renewal bills the same.
    async fn an_upgrade_costs_249_50_and_a_downgrade_waits_for_the_renewal(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, business, _, _] = standard_catalog(&app).await;
        let receiver = Receiver::start().await;
        let mut seen = listen(&app, &receiver).await;
        let sub = subscribe(&app, "user_123", &pro, 8).await;
        assert_eq!(invoices(&app, &sub).await[0]["total"], json!(17_400));
        delivered(&app, &receiver, &mut seen).await;

        freeze(&app, "2026-09-16T00:00:00.000Z").await;
        let preview = ok(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), Some(json!({"planId": business}))).await;
        assert_eq!(preview, json!({
            "currency": "usd", "currentPlanCredit": 4_950, "newPlanCharge": 29_900, "estimatedTotal": 24_950,
            "effectiveDate": "2026-09-16T00:00:00.000Z", "daysRemaining": 15, "totalDays": 30, "isUpgrade": true,
            "object": "plan_change_preview", "livemode": false,
        }));
        let legacy = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), LEGACY, Some(json!({"planId": "business"}))).await, 200).await;
        assert_eq!((&legacy["data"]["estimatedTotal"], &legacy["data"]["object"]), (&json!(24_950), &json!("subscription")));

        let changed = ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": business}))).await;
        let customer = changed["customerId"].as_str().unwrap().to_owned();
        let invoice_id = changed["invoiceId"].as_str().unwrap().to_owned();
        assert_eq!(changed, json!({
            "outcome": "completed", "id": sub, "scheduled": false, "customerId": customer,
            "previousPlan": {"id": pro, "name": "Pro"},
            "currentPlan": {"id": business, "name": "Business", "price": 29_900},
            "billingInterval": "monthly",
            "billing": {"credit": 4_950, "creditsApplied": 0, "charge": 29_900, "taxAmount": 0, "netAmount": 24_950, "totalCharged": 24_950, "remainingCreditBalance": 0},
            "invoiceId": invoice_id, "object": "plan_change", "livemode": false,
        }));
        let invoice = ok(&app, Method::GET, &format!("/invoices/{invoice_id}"), None).await;
        assert_eq!(
            (&invoice["invoiceType"], &invoice["subtotal"], &invoice["creditApplied"], &invoice["total"], &invoice["periodStart"], &invoice["periodEnd"], &invoice["planName"]),
            (&json!("plan_change"), &json!(29_900), &json!(4_950), &json!(24_950), &json!("2026-09-16T00:00:00.000Z"), &json!("2026-10-16T00:00:00.000Z"), &json!("Business"))
        );
        let lines: Vec<_> = invoice["lineItems"].as_array().unwrap().iter().map(|l| (l["lineType"].clone(), l["chargeType"].clone(), l["amount"].clone(), l["description"].clone())).collect();
        assert_eq!(lines[1], (json!("credit"), json!("standard"), json!(-4_950), json!("Unused time on Pro, 15/30 days")));
        assert_eq!((&lines[0].0, &lines[0].2, lines.len()), (&json!("plan_base"), &json!(29_900), 2));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(
            (&shown["plan"]["id"], &shown["currentPeriod"]["start"], &shown["currentPeriod"]["end"], &shown["currentPeriod"]["daysRemaining"], &shown["billingDayOfMonth"]),
            (&json!(business), &json!("2026-09-16T00:00:00.000Z"), &json!("2026-10-16T00:00:00.000Z"), &json!(30), &json!(16))
        );
        let editor = &shown["features"][0]["usage"];
        assert_eq!((&editor["current"], &editor["included"], &editor["overageQuantity"]), (&json!(8), &json!(10), &json!(0)));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "invoice.created", "subscription.plan_changed"]);
        let changed_event = data(&events, "subscription.plan_changed");
        assert_eq!((&changed_event["credit"], &changed_event["charge"], &changed_event["totalCharged"], &changed_event["customerId"]), (&json!(4_950), &json!(29_900), &json!(24_950), &json!("user_123")));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("plan_change"));

        // Scenario 2: four days later, back to Pro waits for the renewal.
        freeze(&app, "2026-09-20T00:00:00.000Z").await;
        let refused = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), DIRECT, Some(json!({"planId": pro}))).await, 400).await;
        assert_eq!(error_code(&refused, DIRECT).0, "plan_change_scheduled");
        assert_eq!(error_of(&refused, DIRECT)["details"], json!({"changeType": "plan_downgrade", "scheduledFor": "2026-10-16T00:00:00.000Z"}));
        let scheduled = ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": pro}))).await;
        assert_eq!(scheduled, json!({
            "outcome": "scheduled", "id": sub, "scheduled": true, "scheduledFor": "2026-10-16T00:00:00.000Z",
            "changeType": "subscription.plan_downgrade", "customerId": customer, "newPlanId": pro, "newPlanName": "Pro",
            "object": "plan_change", "livemode": false,
        }));
        let again = ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": "pro"}))).await;
        assert_eq!(again, scheduled);
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(shown["scheduledPlanChange"], json!({"changeType": "plan_downgrade", "newPlanId": pro, "newPlanName": "Pro", "newBillingInterval": null, "scheduledFor": "2026-10-16T00:00:00.000Z"}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["subscription.plan_change_scheduled"], "asking again sends nothing");
        let event = data(&events, "subscription.plan_change_scheduled");
        assert_eq!((&event["scheduledPlan"], &event["effectiveAt"]), (&json!({"id": pro, "name": "Pro"}), &json!("2026-10-16T00:00:00.000Z")));
        assert_eq!(invoices(&app, &sub).await.len(), 2, "nothing billed before the renewal");

        // The renewal runs the change, then the next one renews Pro.
        let items = advance(&app, "2026-11-16T00:00:00.000Z").await;
        let outcomes: Vec<_> = items.iter().map(|(at, outcome, _)| (at.as_str(), outcome.as_str())).collect();
        assert_eq!(outcomes, [("2026-10-16T00:00:00.000Z", "plan_changed"), ("2026-11-16T00:00:00.000Z", "renewed")]);
        assert_eq!(invoice_summary(&invoices(&app, &sub).await), [
            summary_row("recurring", "2026-09-01", "2026-10-01", 17_400, &["plan_base", "feature_seats"]),
            summary_row("plan_change", "2026-09-16", "2026-10-16", 24_950, &["plan_base", "credit"]),
            summary_row("recurring", "2026-10-16", "2026-11-16", 17_400, &["plan_base", "feature_seats"]),
            summary_row("recurring", "2026-11-16", "2026-12-16", 17_400, &["plan_base", "feature_seats"]),
        ]);
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["plan"]["id"], &shown["scheduledPlanChange"]), (&json!(pro), &Value::Null));
        let events = delivered(&app, &receiver, &mut seen).await;
        let changed_event = events.iter().find(|(n, _)| n == "subscription.plan_changed").map(|(_, d)| d).unwrap();
        assert_eq!((&changed_event["credit"], &changed_event["charge"], &changed_event["totalCharged"], &changed_event["currentPlan"]["id"]), (&json!(0), &json!(17_400), &json!(17_400), &json!(pro)));
    }
}

on_both_backends! {
    /// Scenario 3 and the other refusals: each names its cause and changes nothing.
    async fn refused_plan_changes_name_their_cause_and_change_nothing(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, _, team, solo] = standard_catalog(&app).await;
        let sub = subscribe(&app, "user_456", &pro, 12).await;
        let before = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        let path = format!("/subscriptions/{sub}/change-plan");

        let seats = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"newPlanId": team}))).await, 400).await;
        assert_eq!(error_code(&seats, DIRECT), ("seat_limit_exceeded".to_owned(), json!("newPlanId")));
        assert_eq!(error_of(&seats, DIRECT)["details"], json!({"featureCode": "editor", "currentSeats": 12, "included": 10}));
        assert_eq!(error_of(&seats, DIRECT)["type"], json!("billing_error"));
        let preview = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), DIRECT, Some(json!({"planId": "team"}))).await, 400).await;
        assert_eq!(error_code(&preview, DIRECT), ("seat_limit_exceeded".to_owned(), json!("planId")));
        let cases = [
            (json!({"newPlanId": solo}), 400, "plans_not_in_same_group", json!("newPlanId")),
            (json!({"newPlanId": pro, "newBillingInterval": "monthly"}), 400, "no_change_requested", json!("newPlanId")),
            (json!({}), 400, "validation_error", json!("newPlanId")),
            (json!({"newPlanId": "nope"}), 404, "plan_not_found", json!("newPlanId")),
            (json!({"newPlanId": team, "newBillingInterval": "one_time"}), 400, "validation_error", json!("newBillingInterval")),
            (json!({"newPlanId": team, "newBillingInterval": "semiannual"}), 400, "validation_error", json!("newBillingInterval")),
            (json!({"newPlanId": team, "offerId": "off_1"}), 400, "validation_error", json!("offerId")),
            (json!({"newBillingInterval": "yearly"}), 409, "no_prices_configured", json!("billingInterval")),
        ];
        for (body, status, code, param) in cases {
            let refused = json_with_status(send(&app, Method::POST, &path, LEGACY, Some(body.clone())).await, status).await;
            assert_eq!(error_code(&refused, LEGACY), (code.to_owned(), param), "{body}");
        }
        let unknown = json_with_status(send(&app, Method::POST, "/subscriptions/sub_01J0000000000000000000000Z/change-plan", DIRECT, Some(json!({"newPlanId": team}))).await, 404).await;
        assert_eq!(error_code(&unknown, DIRECT).0, "subscription_not_found");

        // A scheduled cancellation blocks changes until it is revoked; a canceled
        // subscription is not active.
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({}))).await;
        let blocked = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"newPlanId": solo}))).await, 409).await;
        assert_eq!(error_code(&blocked, DIRECT).0, "invalid_subscription_status");
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/uncancel"), Some(json!({}))).await;
        let after = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        let unchanged = |v: &Value| (v["plan"].clone(), v["currentPeriod"].clone(), v["scheduledPlanChange"].clone(), v["features"].clone());
        assert_eq!(unchanged(&after), unchanged(&before));
        assert_eq!(invoices(&app, &sub).await.len(), 1, "no refusal billed anything");
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({"immediate": true}))).await;
        let canceled = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"newPlanId": team}))).await, 409).await;
        assert_eq!(error_code(&canceled, DIRECT).0, "subscription_not_active");
    }
}

on_both_backends! {
    /// A change whose credit exceeds its charge leaves the rest as customer credit, which
    /// pays the next renewal; cancelling drops a scheduled change with its own event.
    async fn a_changes_excess_credit_pays_the_next_renewal(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, business, team, _] = standard_catalog(&app).await;
        let receiver = Receiver::start().await;
        let mut seen = listen(&app, &receiver).await;
        let sub = subscribe(&app, "user_789", &business, 3).await;
        // Business → Team on the first day: Team is later in the group, so it is immediate.
        let preview = ok(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), Some(json!({"planId": team}))).await;
        assert_eq!((&preview["currentPlanCredit"], &preview["newPlanCharge"], &preview["estimatedTotal"]), (&json!(29_900), &json!(19_900), &json!(0)));
        let changed = ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": team}))).await;
        assert_eq!(changed["billing"], json!({"credit": 29_900, "creditsApplied": 0, "charge": 19_900, "taxAmount": 0, "netAmount": 0, "totalCharged": 0, "remainingCreditBalance": 10_000}));
        let invoice = ok(&app, Method::GET, &format!("/invoices/{}", changed["invoiceId"].as_str().unwrap()), None).await;
        assert_eq!((&invoice["subtotal"], &invoice["creditApplied"], &invoice["total"]), (&json!(19_900), &json!(19_900), &json!(0)));

        let items = advance(&app, "2026-10-01T00:00:00.000Z").await;
        assert_eq!(items.iter().map(|i| i.1.as_str()).collect::<Vec<_>>(), ["renewed"]);
        let renewal = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!((&renewal["subtotal"], &renewal["creditApplied"], &renewal["total"]), (&json!(19_900), &json!(10_000), &json!(9_900)));
        let last = renewal["lineItems"].as_array().unwrap().last().unwrap().clone();
        assert_eq!((&last["lineType"], &last["amount"], &last["description"]), (&json!("credit"), &json!(-10_000), &json!("Credit: Unused time on Business")));

        // Cancelling at period end drops a pending change.
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": pro}))).await;
        delivered(&app, &receiver, &mut seen).await;
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({}))).await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(shown["scheduledPlanChange"], Value::Null);
        let events = delivered(&app, &receiver, &mut seen).await;
        let revoked = data(&events, "subscription.plan_change_revoked");
        assert_eq!((&revoked["currentPlan"]["id"], &revoked["revokedPlan"]["id"]), (&json!(team), &json!(pro)));
    }
}

on_both_backends! {
    /// A change now during a trial ends it: nothing is credited, the full price is charged and
    /// `trial.converted` is sent. Another organization's subscription is not found.
    async fn an_upgrade_in_a_trial_converts_it_and_other_organizations_see_nothing(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, business, _, _] = standard_catalog(&app).await;
        ok(&app, Method::PATCH, &format!("/plans/{pro}/prices/{}", first_price(&app, &pro).await), Some(json!({"trialDays": 14}))).await;
        let receiver = Receiver::start().await;
        let mut seen = listen(&app, &receiver).await;
        let sub = subscribe(&app, "user_trial", &pro, 3).await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(shown["status"], json!("trialing"));
        delivered(&app, &receiver, &mut seen).await;

        freeze(&app, "2026-09-05T00:00:00.000Z").await;
        let changed = ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newPlanId": business}))).await;
        assert_eq!(changed["billing"], json!({"credit": 0, "creditsApplied": 0, "charge": 29_900, "taxAmount": 0, "netAmount": 29_900, "totalCharged": 29_900, "remainingCreditBalance": 0}));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["status"], &shown["trialEndsAt"], &shown["currentPeriod"]["start"]), (&json!("active"), &json!("2026-09-05T00:00:00.000Z"), &json!("2026-09-05T00:00:00.000Z")));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "invoice.created", "subscription.plan_changed", "trial.converted"]);
        assert_eq!(data(&events, "trial.converted")["planName"], json!("Business"));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("trial_converted"));

        // The live organization does not see the sandbox's subscription.
        let stranger = app
            .client
            .post(app.url(&format!("/subscriptions/{sub}/change-plan")))
            .header("x-api-key", crate::support::LIVE_KEY)
            .header("commet-version", DIRECT)
            .json(&json!({"newPlanId": pro}))
            .send()
            .await
            .unwrap();
        let stranger = json_with_status(stranger, 404).await;
        assert_eq!(error_code(&stranger, DIRECT).0, "subscription_not_found");
    }
}

async fn first_price(app: &TestApp, plan: &str) -> String {
    let plan = ok(app, Method::GET, &format!("/plans/{plan}"), None).await;
    plan["prices"][0]["id"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| panic!("{plan}"))
}
