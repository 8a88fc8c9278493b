//! Payment links, charges, transactions and refunds over HTTP, and the pay page they are paid
//! on (`payments.md` §4, §7–8): the sandbox processor's cards, the page's JSON protocol and its
//! HTML, tokens refused when forged or expired by the organization's clock, the webhooks a
//! receiver gets, and live organizations refused for want of a processor.

use crate::catalog::send;
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, LIVE_KEY, TestApp, error_of, json_with_status};
use crate::usage::{data, delivered, freeze, names};
use reqwest::Method;
use serde_json::{Value, json};

const EVENTS: [&str; 7] = [
    "invoice.created",
    "payment.received",
    "payment.refunded",
    "payment_link.created",
    "payment_link.completed",
    "payment_link.failed",
    "payment_link.canceled",
];

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

async fn refused(app: &TestApp, method: Method, path: &str, body: Value, status: u16) -> Value {
    let response = send(app, method, path, DIRECT, Some(body)).await;
    error_of(&json_with_status(response, status).await, DIRECT)
}

/// A page action in JSON, as a test or a custom front end sends it.
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

fn card(number: &str, attempt: &str) -> Value {
    json!({"action": "pay", "cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123", "attempt": attempt})
}

on_both_backends! {
    /// Payments scenario 3's link: a decline stays payable, a 3-D Secure card pays after the
    /// test authentication, the one-time invoice is issued, and the refund is made once.
    async fn a_link_is_paid_on_its_page_after_a_decline_and_refunded_once(app: TestApp) {
        freeze(&app, "2026-10-05T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": EVENTS}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "jane@acme.test", "id": "user_123", "fullName": "Jane Doe"})).await;
        let link = ok(&app, Method::POST, "/payments", Some(json!({
            "amount": 25_000, "currency": "USD", "description": "Annual report", "customerId": "user_123",
        }))).await;
        let id = link["id"].as_str().unwrap().to_owned();
        let url = link["url"].as_str().unwrap().to_owned();
        assert!(id.starts_with("pay_"), "{link}");
        assert!(url.starts_with(&format!("{}/pay/tok_", app.address)), "{url}");
        let customer_id = link["customerId"].clone();
        assert_eq!(link, json!({
            "id": id, "customerId": customer_id, "kind": "link", "status": "pending", "provider": "commet",
            "amountSubtotal": 25_000, "taxAmount": 0, "amountTotal": 25_000, "currency": "usd",
            "description": "Annual report", "metadata": null, "url": url,
            "expiresAt": "2026-10-06T00:00:00.000Z", "createdAt": "2026-10-05T00:00:00.000Z",
            "updatedAt": "2026-10-05T00:00:00.000Z", "paymentContext": null, "object": "payment", "livemode": false,
        }));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["payment_link.created"]);
        assert_eq!(data(&events, "payment_link.created")["customerId"], json!("user_123"));

        // A declined card leaves the page open and the link payable.
        let (status, declined) = page(&app, &url, card("4000 0000 0000 0002", "a1")).await;
        assert_eq!(status, 200);
        assert_eq!((&declined["status"], &declined["error"]["code"]), (&json!("open"), &json!("card_declined")), "{declined}");
        // The same attempt again replays its outcome: still one failed transaction.
        let (_, again) = page(&app, &url, card("4000 0000 0000 0002", "a1")).await;
        assert_eq!(again["error"]["code"], json!("card_declined"));
        // Numbers outside the sandbox's table are refused on the form, with no attempt made.
        let (status, unknown) = page(&app, &url, card("4111 1111 1111 1111", "a2")).await;
        assert_eq!((status, &unknown["error"]["param"]), (422, &json!("cardNumber")), "{unknown}");
        let (status, expired_card) = page(&app, &url, json!({"action": "pay", "cardNumber": "4242424242424242", "expMonth": "9", "expYear": "26", "cvc": "123"})).await;
        assert_eq!((status, &expired_card["error"]["param"]), (422, &json!("expYear")), "{expired_card}");
        assert_eq!(ok(&app, Method::GET, &format!("/payments/{id}"), None).await["status"], json!("failed"));

        // 3-D Secure: authentication first, then the charge.
        let (_, waiting) = page(&app, &url, card("4000002500003155", "a3")).await;
        assert_eq!(waiting["status"], json!("requires_action"), "{waiting}");
        let (status, paid) = page(&app, &format!("{url}/authenticate"), json!({"result": "approve"})).await;
        assert_eq!(status, 200);
        assert_eq!(paid["status"], json!("succeeded"), "{paid}");
        assert_eq!(paid["card"], json!({"brand": "visa", "last4": "3155", "expMonth": 12, "expYear": 2034}));
        let invoice_id = paid["invoice"]["id"].as_str().unwrap().to_owned();
        assert_eq!(paid["invoice"]["total"], json!(25_000));
        let invoice = ok(&app, Method::GET, &format!("/invoices/{invoice_id}"), None).await;
        assert_eq!((&invoice["invoiceType"], &invoice["status"], &invoice["total"]), (&json!("one_time_payment"), &json!("paid"), &json!(25_000)));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["invoice.created", "payment.received", "payment_link.completed", "payment_link.failed"]);
        let received = data(&events, "payment.received");
        assert_eq!((&received["grossAmount"], &received["orgNetAmount"], &received["subscriptionId"], &received["provider"]),
            (&json!(25_000), &json!(25_000), &json!(null), &json!("commet")));
        assert_eq!(received["paymentContext"], json!({"reason": "one_time_payment", "paymentLinkId": id, "recovery": null}));
        assert_eq!(data(&events, "payment_link.failed")["failureCode"], json!("card_declined"));

        let shown = ok(&app, Method::GET, &format!("/payments/{id}"), None).await;
        assert_eq!((&shown["status"], &shown["paymentContext"]["reason"]), (&json!("succeeded"), &json!("one_time_payment")));
        let transactions = ok(&app, Method::GET, "/transactions?customerEmail=JANE@acme.test", None).await;
        let statuses: Vec<&Value> = transactions["data"].as_array().unwrap().iter().map(|t| &t["status"]).collect();
        assert_eq!(statuses, [&json!("succeeded"), &json!("failed")], "{transactions}");
        let paid_txn = transactions["data"][0]["id"].as_str().unwrap().to_owned();
        let failed_txn = transactions["data"][1]["id"].as_str().unwrap().to_owned();
        assert_eq!(transactions["data"][1]["invoiceId"], json!(null));

        // Refunds: the failed attempt never; the paid one once.
        let error = refused(&app, Method::POST, &format!("/transactions/{failed_txn}/refund"), json!({}), 400).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("validation_error"), &json!("id")));
        let refund = ok(&app, Method::POST, &format!("/transactions/{paid_txn}/refund"), None).await;
        let refund_id = refund["id"].as_str().unwrap().to_owned();
        assert!(refund_id.starts_with("re_") && refund["chargeId"].as_str().unwrap().starts_with("ch_sandbox_"), "{refund}");
        assert_eq!((&refund["amount"], &refund["status"], &refund["reason"], &refund["object"]),
            (&json!(25_000), &json!("succeeded"), &json!("requested_by_customer"), &json!("refund")));
        let error = refused(&app, Method::POST, &format!("/transactions/{paid_txn}/refund"), json!({}), 409).await;
        assert_eq!((&error["code"], &error["details"]["refundId"]), (&json!("duplicate"), &json!(refund_id)));
        let events = delivered(&app, &receiver, &mut seen).await;
        let refunded = data(&events, "payment.refunded");
        assert_eq!((&refunded["refundAmount"], &refunded["paymentLinkId"], &refunded["invoiceId"]), (&json!(25_000), &json!(id), &json!(invoice_id)));
        // The invoice stays paid; the paid link cannot be canceled.
        let invoice = ok(&app, Method::GET, &format!("/invoices/{invoice_id}"), None).await;
        assert_eq!(invoice["status"], json!("paid"));
        let error = refused(&app, Method::POST, &format!("/payments/{id}/cancel"), json!({}), 409).await;
        assert_eq!(error["code"], json!("payment_not_cancelable"));
        // The legacy answer to a refund is the refunded transaction.
        let other = ok(&app, Method::POST, "/payments", Some(json!({"amount": 1_000, "currency": "usd", "description": "Extra", "customerId": "user_123"}))).await;
        let (_, _) = page(&app, other["url"].as_str().unwrap(), card("4242424242424242", "b1")).await;
        let latest = ok(&app, Method::GET, "/transactions?status=succeeded&limit=1", None).await;
        let latest = latest["data"][0]["id"].as_str().unwrap().to_owned();
        let legacy = json_with_status(send(&app, Method::POST, &format!("/transactions/{latest}/refund"), LEGACY, Some(json!({}))).await, 200).await;
        assert_eq!(legacy, json!({"success": true, "data": {"id": latest, "status": "refunded", "object": "transaction", "livemode": false}}));
    }
}

on_both_backends! {
    /// The page in a browser's terms: HTML with its protections, forms that need the page's
    /// key, tokens that cannot be forged, and links that expire by the organization's clock.
    async fn the_pay_page_guards_its_forms_and_its_tokens(app: TestApp) {
        freeze(&app, "2026-10-05T00:00:00.000Z").await;
        let link = ok(&app, Method::POST, "/payments", Some(json!({"amount": 5_000, "currency": "usd", "description": "Workshop <ticket>"}))).await;
        let url = link["url"].as_str().unwrap().to_owned();
        let html = app.client.get(&url).send().await.unwrap();
        assert_eq!(html.status(), 200);
        for (header, value) in [("cache-control", "no-store"), ("x-frame-options", "DENY"), ("referrer-policy", "no-referrer")] {
            assert_eq!(html.headers()[header], value, "{header}");
        }
        assert!(html.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let body = html.text().await.unwrap();
        for expected in ["<label for=\"cardNumber\">", "<label for=\"email\">", "name=\"formKey\"", "Test mode", "4242424242424242", "Workshop &lt;ticket&gt;", "$50.00 USD", "name=\"viewport\""] {
            assert!(body.contains(expected), "{expected} in the page");
        }
        assert!(!body.contains("<script"), "no JavaScript");
        // A form posted without the page's key (another site's) is refused and pays nothing.
        let forged = app.client.post(&url)
            .form(&[("action", "pay"), ("cardNumber", "4242424242424242"), ("expMonth", "12"), ("expYear", "34"), ("cvc", "123"), ("email", "x@y.test")])
            .send().await.unwrap();
        assert_eq!(forged.status(), 403);
        // With the key the form pays, then redirects to the page, which shows the receipt.
        let key = body.split("name=\"formKey\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let paid = no_redirects.post(&url)
            .form(&[("action", "pay"), ("formKey", key.as_str()), ("cardNumber", "5555555555554444"), ("expMonth", "12"), ("expYear", "2034"), ("cvc", "123"), ("email", "walk-in@acme.test"), ("name", "Walk In")])
            .send().await.unwrap();
        assert_eq!(paid.status(), 303);
        let receipt = app.client.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(receipt.contains("Paid. Thank you."), "{receipt}");
        // The walk-in became a customer; the link is theirs now.
        let shown = ok(&app, Method::GET, &format!("/payments/{}", link["id"].as_str().unwrap()), None).await;
        let customer = ok(&app, Method::GET, &format!("/customers/{}", shown["customerId"].as_str().unwrap()), None).await;
        assert_eq!((&customer["email"], &customer["fullName"]), (&json!("walk-in@acme.test"), &json!("Walk In")));

        // A changed token is not found; a link past its day is gone.
        let (prefix, signature) = url.rsplit_once('.').unwrap();
        let tampered = format!("{prefix}.{}", signature.chars().rev().collect::<String>());
        let (status, _) = page(&app, &tampered, card("4242424242424242", "t1")).await;
        assert_eq!(status, 404);
        assert_eq!(app.client.get(&tampered).send().await.unwrap().status(), 404);
        let late = ok(&app, Method::POST, "/payments", Some(json!({"amount": 5_000, "currency": "usd", "description": "Late"}))).await;
        let late_url = late["url"].as_str().unwrap().to_owned();
        freeze(&app, "2026-10-06T00:00:00.000Z").await;
        let gone = app.client.get(&late_url).header("accept", "application/json").send().await.unwrap();
        assert_eq!(gone.status(), 410);
        assert_eq!(gone.json::<Value>().await.unwrap()["status"], json!("expired"));
        let (status, _) = page(&app, &late_url, card("4242424242424242", "t2")).await;
        assert_eq!(status, 410);
        // Passing its expiry canceled the unpaid link; the paid one is untouched.
        let late = ok(&app, Method::GET, &format!("/payments/{}", late["id"].as_str().unwrap()), None).await;
        assert_eq!((&late["status"], &late["updatedAt"]), (&json!("canceled"), &json!("2026-10-06T00:00:00.000Z")));
        let paid = ok(&app, Method::GET, &format!("/payments/{}", link["id"].as_str().unwrap()), None).await;
        assert_eq!(paid["status"], json!("succeeded"));
    }
}

on_both_backends! {
    /// Off-session charges: a customer needs a live subscription and a default card; a card
    /// that needs its holder is declined off-session and the decline is kept.
    async fn charges_take_the_default_card_and_keep_their_declines(app: TestApp) {
        freeze(&app, "2026-10-05T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "c@acme.test", "id": "user_c"})).await;
        let charge = json!({"customerId": "user_c", "amount": 1_500, "currency": "usd", "description": "Setup fee"});
        let error = refused(&app, Method::POST, "/payments/charge", charge.clone(), 409).await;
        assert_eq!(error["code"], json!("subscription_required"));
        ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_c", "planCode": "pro"}))).await;
        let error = refused(&app, Method::POST, "/payments/charge", charge.clone(), 422).await;
        assert_eq!(error["code"], json!("no_payment_method"));
        // A card saved by paying a link with authentication: fine on the page, declined
        // without the holder.
        let link = ok(&app, Method::POST, "/payments", Some(json!({"amount": 1_000, "currency": "usd", "description": "Deposit", "customerId": "user_c"}))).await;
        let url = link["url"].as_str().unwrap();
        page(&app, url, card("4000000000003220", "c1")).await;
        let (_, paid) = page(&app, &format!("{url}/authenticate"), json!({"result": "approve"})).await;
        assert_eq!(paid["status"], json!("succeeded"));
        let declined = refused(&app, Method::POST, "/payments/charge", charge.clone(), 402).await;
        assert_eq!((&declined["code"], &declined["details"]["failureCode"]), (&json!("payment_failed"), &json!("authentication_required")));
        let kept = ok(&app, Method::GET, &format!("/payments/{}", declined["details"]["paymentId"].as_str().unwrap()), None).await;
        assert_eq!((&kept["kind"], &kept["status"], &kept["url"]), (&json!("charge"), &json!("failed"), &json!(null)));
        let txn = ok(&app, Method::GET, &format!("/transactions/{}", declined["details"]["transactionId"].as_str().unwrap()), None).await;
        assert_eq!((&txn["status"], &txn["invoiceId"]), (&json!("failed"), &json!(null)));

        // A live organization has no processor: nothing moves, reads still work.
        let live = app.client.post(app.url("/payments")).header("x-api-key", LIVE_KEY).header("commet-version", DIRECT)
            .json(&json!({"amount": 1_000, "currency": "usd", "description": "x"})).send().await.unwrap();
        let live = error_of(&json_with_status(live, 409).await, DIRECT);
        assert_eq!((&live["code"], &live["details"]), (&json!("provider_unsupported"), &json!({"mode": "live", "operation": "payments.create"})));
        let listed = app.client.get(app.url("/payments")).header("x-api-key", LIVE_KEY).header("commet-version", DIRECT).send().await.unwrap();
        assert_eq!(json_with_status(listed, 200).await["data"], json!([]));
    }
}

/// Pays a link of `amount` for `customer` with the success card.
async fn paid_link(app: &TestApp, customer: &str, amount: i64) {
    let link = ok(app, Method::POST, "/payments", Some(json!({"amount": amount, "currency": "usd", "description": "Order", "customerId": customer}))).await;
    let (_, state) = page(
        app,
        link["url"].as_str().unwrap(),
        card("4242424242424242", "p"),
    )
    .await;
    assert_eq!(state["status"], json!("succeeded"), "{state}");
}

on_both_backends! {
    /// Payments scenario 3's payouts: a bank account, payouts within what is available even
    /// when requested all at once, the sandbox's failing account, and the 2026-07-11
    /// verification record.
    async fn payouts_never_exceed_what_is_available(app: TestApp) {
        freeze(&app, "2026-10-05T00:00:00.000Z").await;
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": ["payout.available", "payout.created", "payout.paid", "payout.failed"]}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "p@acme.test", "id": "user_p"})).await;
        paid_link(&app, "user_p", 25_000).await;
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(data(&events, "payout.available"), &json!({"availableAmount": 25_000, "currency": "usd"}));

        let error = refused(&app, Method::POST, "/payouts", json!({"amount": 1_000}), 403).await;
        assert_eq!((&error["code"], &error["details"]), (&json!("forbidden"), &json!({"reason": "no_payout_bank_account"})));
        let account = ok(&app, Method::POST, "/payouts/bank-accounts", Some(json!({
            "accountNumber": "000123456789", "accountHolderName": "Jane Doe", "routingNumber": "110000000", "accountType": "checking",
        }))).await;
        let account_id = account["id"].as_str().unwrap().to_owned();
        assert_eq!(account, json!({
            "id": account_id, "providerExternalAccountId": null, "holderName": "Jane Doe", "last4": "6789",
            "bankName": "Tally Sandbox Bank", "country": "US", "currency": "usd", "accountType": "checking",
            "isDefault": true, "status": "active", "createdAt": "2026-10-05T00:00:00.000Z",
            "object": "payout_bank_account", "livemode": false,
        }));
        let error = refused(&app, Method::POST, "/payouts/bank-accounts", json!({"accountNumber": "000123456789", "accountHolderName": "Jane"}), 409).await;
        assert_eq!(error["code"], json!("duplicate"));
        for (body, param) in [(json!({"amount": 999}), "amount"), (json!({}), "amount")] {
            let error = refused(&app, Method::POST, "/payouts", body, 400).await;
            assert_eq!((&error["code"], &error["param"]), (&json!("validation_error"), &json!(param)));
        }
        let error = refused(&app, Method::POST, "/payouts/bank-accounts", json!({"accountNumber": "12", "accountHolderName": "J", "routingNumber": "1"}), 400).await;
        assert_eq!(error["param"], json!("accountNumber"));
        let error = refused(&app, Method::POST, "/payouts", json!({"amount": 50_000}), 400).await;
        assert_eq!((&error["code"], &error["details"]), (&json!("insufficient_balance"), &json!({"available": 25_000, "requested": 50_000})));

        // Eight requests of 5000 at once against 25000: exactly five are paid out.
        let requests = (0..8).map(|n| {
            app.request(Method::POST, "/payouts", DIRECT)
                .header("idempotency-key", format!("payout-{n}"))
                .json(&json!({"amount": 5_000, "description": format!("Payout {n}")}))
                .send()
        });
        let answers = futures::future::join_all(requests).await;
        let mut statuses: Vec<u16> = answers.iter().map(|a| a.as_ref().unwrap().status().as_u16()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, [200, 200, 200, 200, 200, 400, 400, 400]);
        let first = answers.into_iter().map(Result::unwrap).find(|a| a.status() == 200).unwrap();
        let payout: Value = first.json().await.unwrap();
        assert_eq!((&payout["status"], &payout["fee"], &payout["netAmount"], &payout["currency"]), (&json!("pending"), &json!(0), &json!(5_000), &json!("usd")));
        assert!(payout["providerTransferId"].as_str().unwrap().starts_with("tr_sandbox_"), "{payout}");
        let error = refused(&app, Method::POST, "/payouts", json!({"amount": 1_000}), 400).await;
        assert_eq!(error["details"], json!({"available": 0, "requested": 1_000}));
        let events = delivered(&app, &receiver, &mut seen).await;
        let created = events.iter().filter(|(n, _)| n == "payout.created").count();
        let paid: Vec<&Value> = events.iter().filter(|(n, _)| n == "payout.paid").map(|(_, d)| d).collect();
        assert_eq!((created, paid.len()), (5, 5));
        assert_eq!(paid[0]["destinationBank"], json!({"bankName": "Tally Sandbox Bank", "last4": "6789"}));

        // The sandbox's failing account: the payout fails and its amount is available again.
        ok(&app, Method::POST, "/payouts/bank-accounts", Some(json!({"accountNumber": "000111111116", "accountHolderName": "Jane Doe", "setDefault": true}))).await;
        paid_link(&app, "user_p", 10_000).await;
        delivered(&app, &receiver, &mut seen).await;
        let payout = ok(&app, Method::POST, "/payouts", Some(json!({"amount": 10_000}))).await;
        assert_eq!(payout["status"], json!("pending"));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["payout.available", "payout.created", "payout.failed"]);
        assert_eq!(data(&events, "payout.failed")["failureCode"], json!("account_closed"));
        assert_eq!(data(&events, "payout.available")["availableAmount"], json!(10_000));

        // 2026-07-11 records the payout account once; later versions verify elsewhere.
        let body = json!({
            "email": "ops@acme.test", "businessType": "company", "businessUrl": "https://acme.test", "documentUrl": "https://acme.test/doc.pdf",
            "bank": {"accountNumber": "000222333444", "accountHolderName": "Acme Inc"},
            "company": {"name": "Acme Inc", "taxId": "12-3456789", "address": {"line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "us"},
                "representative": {"firstName": "Jane", "lastName": "Doe"}},
        });
        let verified = json_with_status(send(&app, Method::POST, "/payouts/verification", LEGACY, Some(body.clone())).await, 200).await;
        let record = &verified["data"];
        assert!(record["providerAccountId"].as_str().unwrap().starts_with("acct_sandbox_"), "{verified}");
        assert_eq!((&record["status"], &record["alreadyExists"], &record["country"], &record["transfersEnabled"]), (&json!("verified"), &json!(false), &json!("US"), &json!(true)));
        let again = json_with_status(send(&app, Method::POST, "/payouts/verification", LEGACY, Some(body.clone())).await, 200).await;
        assert_eq!((&again["data"]["alreadyExists"], &again["data"]["providerAccountId"]), (&json!(true), &record["providerAccountId"]));
        let missing = json_with_status(send(&app, Method::POST, "/payouts/verification", LEGACY, Some(json!({"email": "x@acme.test", "businessType": "individual"}))).await, 400).await;
        assert_eq!(error_of(&missing, LEGACY)["code"], json!("validation_error"));
        let deprecated = refused(&app, Method::POST, "/payouts/verification", body, 410).await;
        assert_eq!(deprecated["code"], json!("endpoint_deprecated"));

        let live = app.client.post(app.url("/payouts")).header("x-api-key", LIVE_KEY).header("commet-version", DIRECT)
            .json(&json!({"amount": 1_000})).send().await.unwrap();
        let live = error_of(&json_with_status(live, 409).await, DIRECT);
        assert_eq!(live["details"], json!({"mode": "live", "operation": "payouts.request"}));
    }
}

/// A page's JSON state after a JSON post of `body` (`status` as expected).
async fn page_post(app: &TestApp, url: &str, body: Value, status: u16) -> Value {
    let (answered, state) = page(app, url, body).await;
    assert_eq!(answered, status, "POST {url}: {state}");
    state
}

on_both_backends! {
    /// The customer portal: a link by id or e-mail, the subscription, seats, card and invoices
    /// (with their PDFs) it shows, a card saved only when the processor takes it, cancelling at
    /// the period's end and taking it back, and a session that closes when left idle.
    async fn the_portal_shows_the_customers_billing_and_acts_like_the_api(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "Jane@Acme.test", "id": "user_123", "fullName": "Jane Doe"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();

        let access = ok(&app, Method::POST, "/portal/sessions", Some(json!({"customerId": "user_123", "returnUrl": "https://acme.test/account"}))).await;
        let url = access["portalUrl"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("{}/portal/tok_", app.address)), "{access}");
        assert_eq!((&access["object"], &access["livemode"]), (&json!("portal_session"), &json!(false)));
        let legacy = json_with_status(send(&app, Method::POST, "/portal/request-access", LEGACY, Some(json!({"email": "jane@acme.test"}))).await, 200).await;
        assert!(legacy["data"]["portalUrl"].as_str().unwrap().contains("/portal/tok_"), "{legacy}");
        for body in [json!({}), json!({"email": "jane@acme.test", "customerId": "user_123"})] {
            let error = refused(&app, Method::POST, "/portal/sessions", body, 400).await;
            assert_eq!(error["code"], json!("validation_error"));
        }
        let error = refused(&app, Method::POST, "/portal/sessions", json!({"email": "nobody@acme.test"}), 404).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("customer_not_found"), &json!("email")));

        let state: Value = app.client.get(&url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!(state["customer"]["name"], json!("Jane Doe"));
        assert_eq!((&state["subscription"]["status"], &state["subscription"]["planName"], &state["subscription"]["price"]), (&json!("active"), &json!("Pro"), &json!(9_900)));
        assert_eq!((&state["card"], &state["returnUrl"]), (&json!(null), &json!("https://acme.test/account")));
        let invoices = state["invoices"].as_array().unwrap();
        assert_eq!(invoices.len(), 1);
        assert_eq!((&invoices[0]["invoiceNumber"], &invoices[0]["total"], &invoices[0]["status"]), (&json!("INV-000001"), &json!(12_400), &json!("paid")));
        let pdf = app.client.get(invoices[0]["pdfUrl"].as_str().unwrap()).send().await.unwrap();
        assert_eq!((pdf.status().as_u16(), pdf.headers()["content-type"].to_str().unwrap()), (200, "application/pdf"));
        let html = app.client.get(&url).send().await.unwrap().text().await.unwrap();
        for expected in ["Billing for Jane Doe", "INV-000001", "$124.00 USD", "Editor seats: 6 in use, 5 included, 1 extra", "<label for=\"cardNumber\">"] {
            assert!(html.contains(expected), "{expected} in the portal");
        }

        // A card the processor refuses is not saved; a good one becomes the default.
        let card = |number: &str| json!({"action": "update_card", "cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"});
        let declined = page_post(&app, &url, card("4000000000000002"), 200).await;
        assert_eq!((&declined["error"]["code"], &declined["card"]), (&json!("card_declined"), &json!(null)));
        let saved = page_post(&app, &url, card("4242424242424242"), 200).await;
        assert_eq!(saved["card"], json!({"brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2034}));
        // The card pays what the customer is charged from now on.
        let charge = ok(&app, Method::POST, "/payments/charge", Some(json!({"customerId": "user_123", "amount": 1_500, "currency": "usd", "description": "Extra"}))).await;
        assert_eq!(charge["status"], json!("succeeded"));

        // Cancelling at the period's end, and taking it back, as the API does.
        let canceled = page_post(&app, &url, json!({"action": "cancel"}), 200).await;
        assert_eq!(canceled["subscription"]["cancelAt"], json!("2026-10-01T00:00:00.000Z"));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!(shown["status"], json!("active"));
        assert!(shown.to_string().contains("2026-10-01T00:00:00.000Z"), "{shown}");
        let kept = page_post(&app, &url, json!({"action": "uncancel"}), 200).await;
        assert_eq!(kept["subscription"]["cancelAt"], json!(null));

        // Forged, then idle for half an hour: the session is gone.
        let (prefix, signature) = url.rsplit_once('.').unwrap();
        let forged = format!("{prefix}.{}", signature.chars().rev().collect::<String>());
        assert_eq!(app.client.get(&forged).send().await.unwrap().status(), 404);
        freeze(&app, "2026-09-01T00:31:00.000Z").await;
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);
    }
}

on_both_backends! {
    /// `updatePaymentMethod`: a page for the subscription's customer to save a new default
    /// card, sent on to the `successUrl`; refused for subscriptions that are not running.
    async fn a_card_update_page_saves_the_default_card(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "u@acme.test", "id": "user_u"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_u", "planCode": "pro"}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let path = format!("/subscriptions/{sub}/payment-method/update");
        let update = ok(&app, Method::POST, &path, Some(json!({"successUrl": "https://acme.test/done"}))).await;
        let url = update["checkoutUrl"].as_str().unwrap().to_owned();
        assert!(url.starts_with(&format!("{}/payment-method/tok_", app.address)), "{update}");
        assert_eq!((&update["object"], &update["livemode"]), (&json!("checkout_session"), &json!(false)));
        let legacy = json_with_status(send(&app, Method::POST, &path, LEGACY, Some(json!({}))).await, 200).await;
        assert_eq!(legacy["data"]["object"], json!("subscription"));

        let state: Value = app.client.get(&url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!((&state["status"], &state["subscription"]["planName"], &state["card"]), (&json!("open"), &json!("Pro"), &json!(null)));
        let card = |number: &str| json!({"cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"});
        let declined = page_post(&app, &url, card("4000000000000002"), 200).await;
        assert_eq!((&declined["error"]["code"], &declined["card"]), (&json!("card_declined"), &json!(null)));
        let saved = page_post(&app, &url, card("4242424242424242"), 200).await;
        assert_eq!((&saved["status"], &saved["redirectUrl"]), (&json!("succeeded"), &json!("https://acme.test/done")));
        assert_eq!(saved["card"]["last4"], json!("4242"));
        // The form in a browser's terms: without the page's key nothing happens; with it the
        // customer is sent to the merchant's page.
        let forged = app.client.post(&url).form(&[("cardNumber", "5555555555554444"), ("expMonth", "12"), ("expYear", "34"), ("cvc", "123")]).send().await.unwrap();
        assert_eq!(forged.status(), 403);
        let html = app.client.get(&url).send().await.unwrap().text().await.unwrap();
        assert!(html.contains("Current card: visa ending in 4242"), "{html}");
        let key = html.split("name=\"formKey\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let posted = no_redirects.post(&url)
            .form(&[("formKey", key.as_str()), ("cardNumber", "5555555555554444"), ("expMonth", "12"), ("expYear", "34"), ("cvc", "123")])
            .send().await.unwrap();
        assert_eq!((posted.status().as_u16(), posted.headers()["location"].to_str().unwrap()), (303, "https://acme.test/done"));
        let now_default: Value = app.client.get(&url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
        assert_eq!(now_default["card"]["brand"], json!("mastercard"));

        let error = refused(&app, Method::POST, "/subscriptions/sub_01K00000000000000000000000/payment-method/update", json!({}), 404).await;
        assert_eq!(error["code"], json!("subscription_not_found"));
        let error = refused(&app, Method::POST, &path, json!({"successUrl": "not a url"}), 400).await;
        assert_eq!(error["param"], json!("successUrl"));
        // A day later the link is gone; a canceled subscription gets none.
        freeze(&app, "2026-09-02T00:00:00.000Z").await;
        assert_eq!(app.client.get(&url).send().await.unwrap().status(), 410);
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({"immediate": true}))).await;
        let error = refused(&app, Method::POST, &path, json!({}), 409).await;
        assert_eq!(error["code"], json!("subscription_not_active"));
    }
}
