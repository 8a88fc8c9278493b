//! Collecting subscription invoices and dunning over HTTP (`payments.md` §5–6), on a server in
//! `--billing-mode charge`: the checkout of a new subscription (declined, then paid; replaced,
//! canceled, expired), a renewal declined by the sandbox's declining card, the retries moved by
//! the test clock, recovery through the recovery page, the last retry ending the subscription,
//! and the manual attempts of the API (`transactions.retry`, `reactivate`) with their errors and
//! their daily limit.

use crate::catalog::send;
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, Options, TestApp, error_of, json_with_status};
use crate::usage::{data, delivered, freeze, names};
use reqwest::Method;
use serde_json::{Value, json};

const EVENTS: [&str; 20] = [
    "invoice.created",
    "payment.received",
    "payment.failed",
    "payment.recovered",
    "payment.retry_failed",
    "payment_method.updated",
    "payout.available",
    "subscription.created",
    "subscription.activated",
    "subscription.past_due",
    "subscription.canceled",
    "customer.state_changed",
    "payment_link.created",
    "payment_link.completed",
    "checkout.ready",
    "payment_method.attached",
    "invoice.voided",
    "trial.checkout_ready",
    "trial.started",
    "trial.expired",
];

fn charging() -> Options {
    Options {
        charge: true,
        ..Options::default()
    }
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

async fn refused(app: &TestApp, path: &str, status: u16) -> Value {
    let response = send(app, Method::POST, path, DIRECT, Some(json!({}))).await;
    error_of(&json_with_status(response, status).await, DIRECT)
}

/// A page action in JSON: (status, state).
async fn page(app: &TestApp, url: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

fn card(number: &str) -> Value {
    json!({"action": "pay", "cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"})
}

/// The receiver, the Pro plan (9 900 a month, five editor seats included, 25.00 for each
/// extra) and `user_123`, without a card; returns the receiver and how many deliveries it has
/// seen.
async fn setup(app: &TestApp) -> (Receiver, usize) {
    freeze(app, "2026-09-01T00:00:00.000Z").await;
    let receiver = Receiver::start().await;
    ok(
        app,
        Method::POST,
        "/webhooks",
        Some(json!({"url": receiver.url, "events": EVENTS})),
    )
    .await;
    crate::catalog::pro_plan(app).await;
    app.create_customer(
        &json!({"email": "jane@acme.test", "id": "user_123", "fullName": "Jane Doe"}),
    )
    .await;
    let mut seen = 0;
    delivered(app, &receiver, &mut seen).await;
    (receiver, seen)
}

/// Payments scenario 1: without a card the subscription waits for its checkout; a declined
/// card leaves it waiting, the success card activates it. Returns the subscription id.
async fn subscribe_through_checkout(
    app: &TestApp,
    receiver: &Receiver,
    seen: &mut usize,
) -> String {
    let body = json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}});
    let created = ok(app, Method::POST, "/subscriptions", Some(body.clone())).await;
    let sub = created["id"].as_str().unwrap().to_owned();
    let url = created["checkoutUrl"].as_str().unwrap().to_owned();
    assert!(
        url.starts_with(&format!("{}/checkout/tok_", app.address)),
        "{created}"
    );
    assert_eq!(
        (&created["status"], &created["nextBillingDate"]),
        (&json!("pending_payment"), &json!(null)),
        "{created}"
    );
    let legacy =
        json_with_status(app.get(&format!("/subscriptions/{sub}"), LEGACY).await, 200).await;
    assert_eq!(
        (
            &legacy["data"]["checkoutUrl"],
            &legacy["data"]["checkoutProvider"]
        ),
        (&json!(url), &json!("commet"))
    );
    let invoices = ok(app, Method::GET, "/invoices?customerId=user_123", None).await;
    let first = invoices["data"][0].clone();
    assert_eq!(
        (&first["status"], &first["total"], &first["invoiceNumber"]),
        (&json!("outstanding"), &json!(12_400), &json!("INV-000001"))
    );
    let events = delivered(app, receiver, seen).await;
    assert_eq!(
        names(&events),
        [
            "checkout.ready",
            "customer.state_changed",
            "invoice.created",
            "subscription.created"
        ]
    );
    assert_eq!(
        data(&events, "subscription.created")["status"],
        json!("pending_payment")
    );
    let ready = data(&events, "checkout.ready");
    assert_eq!(
        (&ready["invoiceTotal"], &ready["checkoutUrl"]),
        (&json!(12_400), &json!(url))
    );
    // Asking again alike gives the same subscription back.
    let again = ok(app, Method::POST, "/subscriptions", Some(body)).await;
    assert_eq!(again["id"], json!(sub));

    let (status, declined) = page(app, &url, card("4000000000000002")).await;
    assert_eq!(
        (status, &declined["status"], &declined["error"]["code"]),
        (200, &json!("open"), &json!("card_declined")),
        "{declined}"
    );
    assert!(
        delivered(app, receiver, seen).await.is_empty(),
        "a decline on a page sends nothing"
    );
    let (status, paid) = page(app, &url, card("4242424242424242")).await;
    assert_eq!(
        (status, &paid["status"], &paid["card"]["last4"]),
        (200, &json!("succeeded"), &json!("4242")),
        "{paid}"
    );
    let current = ok(app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
    assert_eq!(
        (
            &current["status"],
            &current["currentPeriod"]["start"],
            &current["currentPeriod"]["end"],
            &current["checkoutUrl"]
        ),
        (
            &json!("active"),
            &json!("2026-09-01T00:00:00.000Z"),
            &json!("2026-10-01T00:00:00.000Z"),
            &json!(null)
        ),
        "{current}"
    );
    let events = delivered(app, receiver, seen).await;
    assert_eq!(
        names(&events),
        [
            "customer.state_changed",
            "payment.received",
            "payment_method.attached",
            "payout.available",
            "subscription.activated",
        ]
    );
    let attached = data(&events, "payment_method.attached");
    assert_eq!(
        (&attached["card"], &attached["subscriptionId"]),
        (
            &json!({"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}),
            &json!(sub)
        )
    );
    let received = data(&events, "payment.received");
    assert_eq!(
        (
            &received["grossAmount"],
            &received["orgNetAmount"],
            &received["subscriptionId"],
            &received["provider"]
        ),
        (
            &json!(12_400),
            &json!(12_400),
            &json!(sub),
            &json!("commet")
        )
    );
    assert_eq!(
        received["paymentContext"],
        json!({"reason": "first_subscription_payment", "paymentLinkId": null, "recovery": null})
    );
    assert_eq!(
        data(&events, "subscription.activated")["provider"],
        json!("commet")
    );
    assert_eq!(
        data(&events, "payout.available")["availableAmount"],
        json!(12_400)
    );
    let attempts = ok(app, Method::GET, "/transactions", None).await;
    let attempts: Vec<(&Value, &Value)> = attempts["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (&t["status"], &t["grossAmount"]))
        .collect();
    assert_eq!(
        attempts,
        [
            (&json!("succeeded"), &json!(12_400)),
            (&json!("failed"), &json!(12_400))
        ]
    );
    // The page has done its work.
    assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);
    sub
}

/// Subscribes `user_123` through the checkout and swaps the default card for the one that
/// saves but declines every charge; returns the subscription id.
async fn subscribe_then_decline(app: &TestApp, receiver: &Receiver, seen: &mut usize) -> String {
    let sub = subscribe_through_checkout(app, receiver, seen).await;
    let update = ok(
        app,
        Method::POST,
        &format!("/subscriptions/{sub}/payment-method/update"),
        Some(json!({})),
    )
    .await;
    let url = update["checkoutUrl"].as_str().unwrap();
    let (status, saved) = page(
        app,
        url,
        json!({"cardNumber": "4000000000000341", "expMonth": "12", "expYear": "34", "cvc": "123"}),
    )
    .await;
    assert_eq!(
        (status, &saved["card"]["last4"]),
        (200, &json!("0341")),
        "{saved}"
    );
    let events = delivered(app, receiver, seen).await;
    assert_eq!(names(&events), ["payment_method.updated"]);
    sub
}

/// The run's items as (kind, dueAt, outcome).
async fn advance(app: &TestApp, at: &str) -> Vec<(String, String, String)> {
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
                i["kind"].as_str().unwrap().to_owned(),
                i["dueAt"].as_str().unwrap().to_owned(),
                i["outcome"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn item(kind: &str, due: &str, outcome: &str) -> (String, String, String) {
    (kind.to_owned(), due.to_owned(), outcome.to_owned())
}

/// The subscription's renewal invoice of 2026-10-01.
async fn renewal_invoice(app: &TestApp, sub: &str) -> Value {
    let invoices = ok(app, Method::GET, "/invoices?customerId=user_123", None).await;
    invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["subscriptionId"] == json!(sub)
                && i["periodStart"] == json!("2026-10-01T00:00:00.000Z")
        })
        .unwrap_or_else(|| panic!("no renewal invoice in {invoices}"))
        .clone()
}

on_both_backends! {
    with charging();
    /// Payments scenario 2: the renewal declined, two retries declined, then the customer pays
    /// on the recovery page and the rest of the schedule is dropped.
    async fn a_declined_renewal_is_retried_and_recovered_on_the_recovery_page(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let sub = subscribe_then_decline(&app, &receiver, &mut seen).await;

        assert_eq!(advance(&app, "2026-10-01T00:00:00.000Z").await,
            [item("billing_cycle", "2026-10-01T00:00:00.000Z", "past_due")]);
        let renewal = renewal_invoice(&app, &sub).await;
        assert_eq!((&renewal["status"], &renewal["total"]), (&json!("outstanding"), &json!(12_400)));
        let current = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(current["status"], json!("past_due"));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "invoice.created", "payment.failed", "subscription.past_due"]);
        let failed = data(&events, "payment.failed");
        assert_eq!((&failed["failureCode"], &failed["invoiceId"], &failed["subscriptionId"]),
            (&json!("card_declined"), &renewal["id"], &json!(sub)));
        assert!(failed["recoveryUrl"].as_str().unwrap().starts_with(&format!("{}/recover/tok_", app.address)), "{failed}");
        assert_eq!(failed["paymentContext"], json!({"reason": "recurring_billing", "paymentLinkId": null, "recovery": null}));
        assert_eq!(data(&events, "subscription.past_due")["invoiceNumber"], renewal["invoiceNumber"]);
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("past_due"));

        assert_eq!(advance(&app, "2026-10-05T00:00:00.000Z").await, [
            item("dunning_retry", "2026-10-02T00:00:00.000Z", "failed"),
            item("dunning_retry", "2026-10-04T00:00:00.000Z", "failed"),
        ]);
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["payment.failed", "payment.failed"]);
        let mut attempts: Vec<Value> = events.iter().map(|(_, d)| d["paymentContext"]["recovery"].clone()).collect();
        attempts.sort_by_key(|r| r["attempt"].as_i64());
        assert_eq!(attempts, [
            json!({"type": "dunning_retry", "attempt": 1, "maxAttempts": 4}),
            json!({"type": "dunning_retry", "attempt": 2, "maxAttempts": 4}),
        ]);
        // Every attempt is a transaction of its own; the failed ones never change.
        let failed_attempts = ok(&app, Method::GET, "/transactions?status=failed", None).await;
        let failed_attempts: Vec<&Value> = failed_attempts["data"].as_array().unwrap().iter()
            .filter(|t| t["invoiceId"] == renewal["id"]).collect();
        assert_eq!(failed_attempts.len(), 3, "{failed_attempts:?}");
        assert!(failed_attempts.iter().all(|t| t["grossAmount"] == json!(12_400)));

        // The portal sends a past-due customer to a recovery page of the invoice.
        let portal = ok(&app, Method::POST, "/portal/sessions", Some(json!({"customerId": "user_123"}))).await;
        let portal: Value = app.client.get(portal["portalUrl"].as_str().unwrap()).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        let pay_url = portal["payUrl"].as_str().unwrap_or_default().to_owned();
        assert!(pay_url.starts_with(&format!("{}/recover/tok_", app.address)), "{portal}");
        let from_portal: Value = app.client.get(&pay_url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!((&from_portal["status"], &from_portal["invoice"]["id"]), (&json!("open"), &renewal["id"]));

        // Both spellings give a fresh link; the legacy object is the subscription.
        let link = ok(&app, Method::POST, &format!("/subscriptions/{sub}/recovery-links"), Some(json!({}))).await;
        let url = link["url"].as_str().unwrap().to_owned();
        assert_eq!((&link["object"], &link["livemode"]), (&json!("recovery_link"), &json!(false)));
        assert!(url.ends_with(link["token"].as_str().unwrap()), "{link}");
        let legacy = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{sub}/recovery-link"), LEGACY, Some(json!({}))).await, 200).await;
        assert_eq!(legacy["data"]["object"], json!("subscription"));
        assert_ne!(legacy["data"]["url"], link["url"]);

        let state: Value = app.client.get(&url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!((&state["kind"], &state["status"], &state["amount"], &state["card"]["last4"]),
            (&json!("recover"), &json!("open"), &json!(12_400), &json!("0341")));
        // The saved card declines again: shown on the page, no event.
        let (status, declined) = page(&app, &url, json!({"action": "pay_saved"})).await;
        assert_eq!((status, &declined["error"]["code"], &declined["status"]), (200, &json!("card_declined"), &json!("open")));
        assert!(delivered(&app, &receiver, &mut seen).await.is_empty());
        // A new card pays: saved as the default, the invoice paid, the subscription active.
        let (status, paid) = page(&app, &url, card("4242424242424242")).await;
        assert_eq!((status, &paid["status"], &paid["card"]["last4"]), (200, &json!("succeeded"), &json!("4242")), "{paid}");
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "payment.received", "payment.recovered", "payment_method.updated", "payout.available"]);
        assert_eq!(data(&events, "payment.recovered")["invoiceTotal"], json!(12_400));
        assert_eq!(data(&events, "payment.received")["paymentContext"]["recovery"], json!({"type": "payment_recovery"}));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("subscription_activated"));
        assert_eq!(data(&events, "payout.available")["availableAmount"], json!(24_800));
        let current = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&current["status"], &current["nextBillingDate"]), (&json!("active"), &json!("2026-11-01T00:00:00.000Z")));
        assert_eq!(renewal_invoice(&app, &sub).await["status"], json!("paid"));
        // The page has done its work; the remaining retries are gone.
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);
        assert_eq!(advance(&app, "2026-10-07T00:00:00.000Z").await, []);
        let error = refused(&app, &format!("/subscriptions/{sub}/recovery-links"), 409).await;
        assert_eq!(error["code"], json!("subscription_not_active"));
    }
}

on_both_backends! {
    with charging();
    /// The variant without recovery: the fourth retry ends the subscription, counted by the
    /// legacy process-billing.
    async fn the_fourth_declined_retry_ends_the_subscription(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let sub = subscribe_then_decline(&app, &receiver, &mut seen).await;
        assert_eq!(advance(&app, "2026-10-05T00:00:00.000Z").await, [
            item("billing_cycle", "2026-10-01T00:00:00.000Z", "past_due"),
            item("dunning_retry", "2026-10-02T00:00:00.000Z", "failed"),
            item("dunning_retry", "2026-10-04T00:00:00.000Z", "failed"),
        ]);
        delivered(&app, &receiver, &mut seen).await;

        json_with_status(app.post("/test-clock", LEGACY, &json!({"advanceDays": 4})).await, 200).await;
        let counts = json_with_status(send(&app, Method::POST, "/test-clock/process-billing", LEGACY, Some(json!({}))).await, 200).await;
        assert_eq!(counts["data"], json!({"customersFound": 1, "enqueued": 0, "failed": 0, "dunningRetried": 2, "dunningFailed": 2, "object": "test_clock", "livemode": false}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "payment.failed", "payment.retry_failed", "subscription.canceled"]);
        assert_eq!(data(&events, "payment.retry_failed")["reason"], json!("card_declined"));
        let canceled = data(&events, "subscription.canceled");
        assert_eq!((&canceled["cancelReason"], &canceled["endDate"]), (&json!("dunning_exhausted"), &json!("2026-10-08T00:00:00.000Z")), "{canceled}");
        let current = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(current["status"], json!("canceled"));
        assert_eq!(renewal_invoice(&app, &sub).await["status"], json!("uncollectible"));
    }
}

on_both_backends! {
    with charging();
    /// Manual attempts from the API: a declined retry or reactivation is `402 charge_failed`
    /// naming the recovery page, a fourth attempt in a day is `429` without `Retry-After`, and
    /// a retry that pays leaves nothing to retry; a past-due subscription canceled ends at once.
    async fn manual_attempts_are_limited_and_answer_declines_with_the_recovery_page(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let sub = subscribe_then_decline(&app, &receiver, &mut seen).await;
        advance(&app, "2026-10-01T00:00:00.000Z").await;
        delivered(&app, &receiver, &mut seen).await;
        let failed = ok(&app, Method::GET, "/transactions?status=failed", None).await;
        let first = failed["data"][0]["id"].as_str().unwrap().to_owned();

        let error = refused(&app, &format!("/transactions/{first}/retry"), 402).await;
        assert_eq!((&error["type"], &error["code"], &error["details"]["failureCode"]),
            (&json!("billing_error"), &json!("charge_failed"), &json!("card_declined")), "{error}");
        assert!(error["details"]["recoveryUrl"].as_str().unwrap().contains("/recover/tok_"));
        assert!(error["details"]["transactionId"].as_str().unwrap().starts_with("txn_"));
        let error = refused(&app, &format!("/subscriptions/{sub}/reactivate"), 402).await;
        assert_eq!(error["code"], json!("charge_failed"));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["payment.failed", "payment.failed"]);
        assert!(events.iter().all(|(_, d)| d["paymentContext"]["recovery"] == json!({"type": "payment_recovery"})));
        // The third attempt of the day is the last one allowed.
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        page(&app, update["checkoutUrl"].as_str().unwrap(), json!({"cardNumber": "4000000000009995", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        let response = send(&app, Method::POST, &format!("/transactions/{first}/retry"), DIRECT, Some(json!({}))).await;
        assert!(response.headers().get("retry-after").is_none());
        let error = error_of(&json_with_status(response, 429).await, DIRECT);
        assert_eq!((&error["code"], &error["details"]["limit"]), (&json!("rate_limited"), &json!(3)), "{error}");
        assert_eq!(error["details"]["resetsAt"], json!("2026-10-02T00:00:00.000Z"));
        // The next day the default card (insufficient funds) is replaced and pays at once.
        freeze(&app, "2026-10-02T12:00:00.000Z").await;
        let insufficient = ok(&app, Method::GET, "/transactions?status=failed", None).await;
        assert!(insufficient["data"].as_array().unwrap().iter().any(|t| t["paymentContext"]["recovery"]["type"] == json!("dunning_retry")));
        let retried = json_with_status(send(&app, Method::POST, &format!("/transactions/{first}/retry"), LEGACY, Some(json!({}))).await, 402).await;
        assert_eq!(retried["error"]["details"]["failureCode"], json!("insufficient_funds"), "{retried}");
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        let (_, saved) = page(&app, update["checkoutUrl"].as_str().unwrap(), json!({"cardNumber": "5555555555554444", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        assert_eq!(saved["subscription"]["status"], json!("active"), "the page shows what the card paid");
        let current = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(current["status"], json!("active"), "saving a card while past due pays at once");
        let error = refused(&app, &format!("/transactions/{first}/retry"), 409).await;
        assert_eq!(error["code"], json!("no_outstanding_invoice"));
        let succeeded = ok(&app, Method::GET, "/transactions?status=succeeded", None).await;
        let error = refused(&app, &format!("/transactions/{}/retry", succeeded["data"][0]["id"].as_str().unwrap()), 400).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("validation_error"), &json!("id")));
        let error = refused(&app, "/transactions/txn_01K00000000000000000000000/retry", 404).await;
        assert_eq!(error["code"], json!("transaction_not_found"));
        // An active subscription has nothing to recover.
        let error = refused(&app, &format!("/subscriptions/{sub}/recovery-link"), 409).await;
        assert_eq!(error["code"], json!("subscription_not_active"));
    }
}

on_both_backends! {
    with charging();
    /// A past-due subscription canceled ends at once and gives its invoice up; a successful
    /// reactivation of a past-due one answers the paid invoice.
    async fn a_past_due_subscription_is_canceled_at_once_or_reactivated_by_paying(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let sub = subscribe_then_decline(&app, &receiver, &mut seen).await;
        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        // A card the processor refuses changes nothing (no attempt either).
        page(&app, update["checkoutUrl"].as_str().unwrap(), json!({"cardNumber": "4000000000000002", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("past_due"));
        // The portal's card form is another way to save one: reactivate is then what pays.
        let renewal = renewal_invoice(&app, &sub).await;
        let error = refused(&app, &format!("/subscriptions/{sub}/reactivate"), 402).await;
        assert_eq!(error["details"]["invoiceId"], renewal["id"]);
        let canceled = ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({}))).await;
        assert_eq!((&canceled["status"], &canceled["endDate"]), (&json!("canceled"), &json!("2026-10-01T00:00:00.000Z")), "{canceled}");
        assert_eq!(renewal_invoice(&app, &sub).await["status"], json!("uncollectible"));
        assert_eq!(advance(&app, "2026-10-09T00:00:00.000Z").await, []);
    }
}

/// The statuses of `user_123`'s invoices, oldest first.
async fn invoice_statuses(app: &TestApp) -> Vec<Value> {
    let invoices = ok(app, Method::GET, "/invoices?customerId=user_123", None).await;
    let mut statuses: Vec<Value> = invoices["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].clone())
        .collect();
    statuses.reverse();
    statuses
}

on_both_backends! {
    with charging();
    /// A checkout never paid ends: replaced by a different request, canceled, or one interval
    /// after its creation (`checkout_expired`); each time its invoice is void.
    async fn an_unpaid_checkout_ends_and_its_invoice_is_void(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let body = |seats: i64| json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": seats}});
        let first = ok(&app, Method::POST, "/subscriptions", Some(body(6))).await;
        let first_url = first["checkoutUrl"].as_str().unwrap().to_owned();
        delivered(&app, &receiver, &mut seen).await;
        let second = ok(&app, Method::POST, "/subscriptions", Some(body(7))).await;
        assert_ne!(second["id"], first["id"]);
        let replaced = ok(&app, Method::GET, &format!("/subscriptions/{}", first["id"].as_str().unwrap()), None).await;
        assert_eq!(replaced["status"], json!("canceled"));
        assert_eq!(app.client.get(&first_url).send().await.unwrap().status(), 410);
        let events = delivered(&app, &receiver, &mut seen).await;
        let canceled: Vec<&Value> = events.iter().filter(|(n, _)| n == "subscription.canceled").map(|(_, d)| d).collect();
        assert_eq!(canceled.len(), 1, "{events:?}");
        assert_eq!(canceled[0]["cancelReason"], json!("replaced"));
        assert_eq!(data(&events, "invoice.voided")["invoiceNumber"], json!("INV-000001"));

        let ended = ok(&app, Method::POST, &format!("/subscriptions/{}/cancel", second["id"].as_str().unwrap()), Some(json!({"reason": "changed my mind"}))).await;
        assert_eq!(ended["status"], json!("canceled"), "a checkout is canceled at once");
        assert_eq!(invoice_statuses(&app).await, [json!("void"), json!("void")]);

        let third = ok(&app, Method::POST, "/subscriptions", Some(body(6))).await;
        let third_url = third["checkoutUrl"].as_str().unwrap().to_owned();
        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2026-10-01T00:00:00.000Z"})).await, 202).await;
        let outcomes: Vec<&Value> = run["items"].as_array().unwrap().iter().map(|i| &i["outcome"]).collect();
        assert_eq!(outcomes, [&json!("checkout_expired")], "{run}");
        let expired = ok(&app, Method::GET, &format!("/subscriptions/{}", third["id"].as_str().unwrap()), None).await;
        assert_eq!((&expired["status"], &expired["endDate"]), (&json!("canceled"), &json!("2026-10-01T00:00:00.000Z")), "{expired}");
        assert_eq!(invoice_statuses(&app).await, [json!("void"), json!("void"), json!("void")]);
        assert_eq!(app.client.get(&third_url).send().await.unwrap().status(), 410);
        let events = delivered(&app, &receiver, &mut seen).await;
        let reasons: Vec<&Value> = events.iter().filter(|(n, _)| n == "subscription.canceled").map(|(_, d)| &d["cancelReason"]).collect();
        assert_eq!(reasons, [&json!("changed my mind"), &json!("checkout_expired")]);
    }
}

on_both_backends! {
    with charging();
    /// A one-off charged operation settles at once (`payments.md` §5): an upgrade with a
    /// declining card is refused (`402 charge_failed`) and changes nothing; with a card that pays
    /// it is charged and its invoice is paid.
    async fn an_upgrade_is_charged_at_once_or_refused_whole(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, business, _, _] = crate::plan_changes::standard_catalog(&app).await;
        app.create_customer(&json!({"email": "jane@acme.test", "id": "user_123"})).await;
        let created = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planId": pro}))).await;
        let sub = created["id"].as_str().unwrap().to_owned();
        let (_, paid) = page(&app, created["checkoutUrl"].as_str().unwrap(), card("4000000000000341")).await;
        assert_eq!(paid["error"]["code"], json!("card_declined"), "{paid}");
        let (_, paid) = page(&app, created["checkoutUrl"].as_str().unwrap(), card("4242424242424242")).await;
        assert_eq!(paid["status"], json!("succeeded"), "{paid}");
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        let saved = |number: &str| json!({"cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"});
        page(&app, update["checkoutUrl"].as_str().unwrap(), saved("4000000000000341")).await;

        freeze(&app, "2026-09-16T00:00:00.000Z").await;
        let path = format!("/subscriptions/{sub}/change-plan");
        let response = send(&app, Method::POST, &path, DIRECT, Some(json!({"newPlanId": business}))).await;
        let error = error_of(&json_with_status(response, 402).await, DIRECT);
        assert_eq!((&error["code"], &error["details"]["failureCode"]), (&json!("charge_failed"), &json!("card_declined")), "{error}");
        let unchanged = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(unchanged["plan"]["id"], json!(pro), "nothing changed");
        assert_eq!(invoice_statuses(&app).await, [json!("paid")], "no invoice was left");

        // A card-update link lasts a day: a fresh one.
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        let (status, _) = page(&app, update["checkoutUrl"].as_str().unwrap(), saved("5555555555554444")).await;
        assert_eq!(status, 200);
        let changed = ok(&app, Method::POST, &path, Some(json!({"newPlanId": business}))).await;
        let invoice = ok(&app, Method::GET, &format!("/invoices/{}", changed["invoiceId"].as_str().unwrap()), None).await;
        assert_eq!((&invoice["status"], &invoice["invoiceType"], &invoice["total"]), (&json!("paid"), &json!("plan_change"), &json!(24_950)));
        let attempts = ok(&app, Method::GET, "/transactions?status=succeeded&limit=1", None).await;
        let newest = &attempts["data"][0];
        assert_eq!((&newest["invoiceId"], &newest["grossAmount"], &newest["paymentContext"]["reason"]),
            (&invoice["id"], &json!(24_950), &json!("plan_change")), "{newest}");
    }
}

/// A plan `Trial` of 9 900 a month with a 14-day trial; returns its id.
async fn trial_plan(app: &TestApp) -> String {
    let plan = ok(
        app,
        Method::POST,
        "/plans",
        Some(json!({"name": "Trial", "code": "trial"})),
    )
    .await;
    let id = plan["id"].as_str().unwrap().to_owned();
    ok(
        app,
        Method::POST,
        &format!("/plans/{id}/prices"),
        Some(json!({"billingInterval": "monthly", "price": 9_900, "trialDays": 14})),
    )
    .await;
    id
}

on_both_backends! {
    with charging();
    /// A trial needs a card: without one it waits for its checkout, which saves the card and
    /// starts the trial; the trial's end charges that card and activates the subscription.
    async fn a_trial_starts_on_its_checkout_and_its_end_charges_the_card(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        trial_plan(&app).await;
        let created = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planCode": "trial"}))).await;
        let sub = created["id"].as_str().unwrap().to_owned();
        let url = created["checkoutUrl"].as_str().unwrap().to_owned();
        assert_eq!((&created["status"], &created["trialEndsAt"], &created["currentPeriod"]),
            (&json!("pending_payment"), &json!(null), &json!(null)), "{created}");
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "subscription.created", "trial.checkout_ready"]);
        let ready = data(&events, "trial.checkout_ready");
        assert_eq!((&ready["trialDays"], &ready["checkoutUrl"], &ready["planName"]), (&json!(14), &json!(url), &json!("Trial")));
        let state: Value = app.client.get(&url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!((&state["kind"], &state["amount"], &state["invoice"], &state["description"]),
            (&json!("checkout"), &json!(0), &json!(null), &json!("14-day Trial trial")), "{state}");
        assert_eq!(invoice_statuses(&app).await, Vec::<Value>::new(), "a trial is not invoiced");

        // Two days later the customer saves a card: the trial starts then.
        freeze(&app, "2026-09-03T00:00:00.000Z").await;
        let (status, refused) = page(&app, &url, json!({"action": "start_trial", "cardNumber": "4000000000000002", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        assert_eq!((status, &refused["status"], &refused["error"]["code"]), (200, &json!("open"), &json!("card_declined")));
        let (status, started) = page(&app, &url, json!({"action": "start_trial", "cardNumber": "4242424242424242", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        assert_eq!((status, &started["status"]), (200, &json!("succeeded")), "{started}");
        let trialing = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&trialing["status"], &trialing["startDate"], &trialing["trialEndsAt"], &trialing["checkoutUrl"]),
            (&json!("trialing"), &json!("2026-09-03T00:00:00.000Z"), &json!("2026-09-17T00:00:00.000Z"), &json!(null)), "{trialing}");
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "payment_method.attached", "trial.started"]);
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("trial_started"));
        assert_eq!(data(&events, "payment_method.attached")["subscriptionId"], json!(sub));
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);

        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2026-09-17T00:00:00.000Z"})).await, 202).await;
        assert_eq!(run["items"][0]["outcome"], json!("trial_ended"), "{run}");
        let active = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(active["status"], json!("active"));
        assert_eq!(invoice_statuses(&app).await, [json!("paid")]);
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), [
            "customer.state_changed", "customer.state_changed", "invoice.created", "payment.received", "payout.available",
            "subscription.activated", "trial.expired",
        ]);
        assert_eq!(data(&events, "payment.received")["paymentContext"]["reason"], json!("trial_conversion"));
    }
}

on_both_backends! {
    with charging();
    /// A trial started with a card that saves but declines: its end makes it past due.
    async fn a_trial_whose_card_declines_at_its_end_falls_past_due(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        trial_plan(&app).await;
        let created = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planCode": "trial"}))).await;
        let sub = created["id"].as_str().unwrap().to_owned();
        page(&app, created["checkoutUrl"].as_str().unwrap(), json!({"action": "start_trial", "cardNumber": "4000000000000341", "expMonth": "12", "expYear": "34", "cvc": "123"})).await;
        delivered(&app, &receiver, &mut seen).await;
        let run = json_with_status(app.post("/test-clock", DIRECT, &json!({"frozenTime": "2026-09-15T00:00:00.000Z"})).await, 202).await;
        assert_eq!(run["items"][0]["outcome"], json!("past_due"), "{run}");
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("past_due"));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "invoice.created", "payment.failed", "subscription.past_due", "trial.expired"]);
        assert_eq!(data(&events, "payment.failed")["paymentContext"]["reason"], json!("trial_conversion"));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("past_due"));
    }
}

on_both_backends! {
    with charging();
    /// A checkout card that asks for authentication: the page waits for its holder; a failed
    /// authentication is a decline, an approved one pays and keeps the card.
    async fn a_checkout_card_asking_for_authentication_pays_once_approved(app: TestApp) {
        let (receiver, mut seen) = setup(&app).await;
        let created = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planCode": "pro"}))).await;
        let sub = created["id"].as_str().unwrap().to_owned();
        let url = created["checkoutUrl"].as_str().unwrap().to_owned();
        delivered(&app, &receiver, &mut seen).await;
        let authenticate = format!("{url}/authenticate");

        let (status, waiting) = page(&app, &url, card("4000002500003155")).await;
        assert_eq!((status, &waiting["status"]), (200, &json!("requires_action")), "{waiting}");
        let pending = ok(&app, Method::GET, "/transactions?status=pending", None).await;
        assert_eq!(pending["data"].as_array().unwrap().len(), 1, "{pending}");
        let (status, failed) = page(&app, &authenticate, json!({"result": "fail"})).await;
        assert_eq!((status, &failed["status"], &failed["error"]["code"]), (200, &json!("open"), &json!("authentication_failed")), "{failed}");
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("pending_payment"));
        assert!(delivered(&app, &receiver, &mut seen).await.is_empty(), "a page's decline sends nothing");

        page(&app, &url, card("4000002500003155")).await;
        let (status, paid) = page(&app, &authenticate, json!({"result": "approve"})).await;
        assert_eq!((status, &paid["status"], &paid["card"]["last4"]), (200, &json!("succeeded"), &json!("3155")), "{paid}");
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("active"));
        let statuses: Vec<Value> = ok(&app, Method::GET, "/transactions", None).await["data"].as_array().unwrap().iter().map(|t| t["status"].clone()).collect();
        assert_eq!(statuses, [json!("succeeded"), json!("failed")]);
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "payment.received", "payment_method.attached", "payout.available", "subscription.activated"]);
        let (status, _) = page(&app, &authenticate, json!({"result": "approve"})).await;
        assert_eq!(status, 410, "nothing waits any more");
    }
}
