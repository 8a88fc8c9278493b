//! Invoices over HTTP (`balance.md` §5, `seats.md` §5): the contract's worked examples to the
//! cent through three renewals driven by the test clock.

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

async fn seats(app: &TestApp, path: &str, count: i64) -> Value {
    let body = json!({"customerId": "user_123", "featureCode": "editor", "count": count});
    json_with_status(app.post(path, DIRECT, &body).await, 200).await
}

async fn advance_to(app: &TestApp, at: &str) -> Value {
    json_with_status(
        app.post("/test-clock", DIRECT, &json!({"frozenTime": at}))
            .await,
        202,
    )
    .await
}

fn lines(invoice: &Value) -> Vec<(String, String, i64, i64, i64)> {
    invoice["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lineType"].as_str().unwrap().to_owned(),
                l["chargeType"].as_str().unwrap().to_owned(),
                l["quantity"].as_i64().unwrap(),
                l["unitAmount"].as_i64().unwrap(),
                l["amount"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn line(
    kind: &str,
    charge: &str,
    quantity: i64,
    unit: i64,
    amount: i64,
) -> (String, String, i64, i64, i64) {
    (kind.to_owned(), charge.to_owned(), quantity, unit, amount)
}

on_both_backends! {
    async fn seat_billing_reproduces_the_worked_examples_to_the_cent(app: TestApp) {
        // Plan Pro: $99 base, editor seats with 5 included and $25 per extra seat (seats.md §5).
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "owner@acme.test", "id": "user_123", "fullName": "Acme Inc"})).await;
        let sub = json_with_status(
            app.post("/subscriptions", DIRECT, &json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}})).await,
            200,
        )
        .await;
        let sub_id = sub["id"].as_str().unwrap().to_owned();

        // June (30 days): 6 seats at the start, one added with 15 days left (example 2).
        advance_to(&app, "2026-06-16T00:00:00.000Z").await;
        let added = seats(&app, "/seats", 1).await;
        let july = advance_to(&app, "2026-07-01T00:00:00.000Z").await;
        // July (31 days): remove 2 on day 10, add 2 back on day 20: nothing more to pay (example 3).
        advance_to(&app, "2026-07-11T00:00:00.000Z").await;
        seats(&app, "/seats/remove", 2).await;
        advance_to(&app, "2026-07-21T00:00:00.000Z").await;
        seats(&app, "/seats", 2).await;
        advance_to(&app, "2026-08-01T00:00:00.000Z").await;
        // August: a removal lowers only the next invoice.
        advance_to(&app, "2026-08-10T00:00:00.000Z").await;
        seats(&app, "/seats/remove", 2).await;
        advance_to(&app, "2026-09-01T00:00:00.000Z").await;

        let list = json_with_status(app.get(&format!("/invoices?subscriptionId={sub_id}&limit=10"), DIRECT).await, 200).await;
        let numbers: Vec<_> = list["data"].as_array().unwrap().iter().map(|i| i["invoiceNumber"].clone()).collect();
        assert_eq!(numbers, ["INV-000004", "INV-000003", "INV-000002", "INV-000001"]);
        let totals: Vec<_> = list["data"].as_array().unwrap().iter().map(|i| i["total"].as_i64().unwrap()).collect();
        assert_eq!(totals, [9_900, 14_900, 16_150, 12_400]);
        let item = &list["data"][0];
        assert!(item.get("lineItems").is_none() && item.get("planName").is_none(), "list items are summaries: {item}");

        let ids: Vec<String> = list["data"].as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap().to_owned()).collect();
        let mut full = Vec::new();
        for id in &ids {
            full.push(json_with_status(app.get(&format!("/invoices/{id}"), DIRECT).await, 200).await);
        }
        let (lowered, quiet, renewal, first) = (&full[0], &full[1], &full[2], &full[3]);

        assert_eq!(lines(first), [line("plan_base", "advance", 1, 9_900, 9_900), line("feature_seats", "advance", 1, 2_500, 2_500)]);
        assert_eq!(first["periodStart"], "2026-06-01T00:00:00.000Z");
        assert_eq!(lines(renewal), [
            line("plan_base", "advance", 1, 9_900, 9_900),
            line("feature_seats", "true_up", 1, 2_500, 1_250),
            line("feature_seats", "advance", 2, 2_500, 5_000),
        ]);
        assert_eq!(renewal["lineItems"][1]["seatEventId"], added["id"], "the true-up names the seat event it bills");
        assert_eq!(renewal["lineItems"][1]["description"], "1 × editor seat added Jun 16, 15/30 days");
        assert_eq!(renewal["lineItems"][0]["description"], "Pro (Jul 1 – Aug 1, 2026)");
        assert_eq!(renewal["lineItems"][2]["description"], "2 × editor seat above 5 included");
        assert_eq!(renewal["lineItems"][2]["includedAmount"], 5);
        assert_eq!(renewal["lineItems"][2]["usedAmount"], 7);
        assert_eq!(renewal["lineItems"][2]["overageAmount"], 2);
        assert_eq!((renewal["subtotal"].clone(), renewal["total"].clone()), (json!(16_150), json!(16_150)));
        assert_eq!((renewal["periodStart"].clone(), renewal["periodEnd"].clone()), (json!("2026-07-01T00:00:00.000Z"), json!("2026-08-01T00:00:00.000Z")));
        assert_eq!((renewal["status"].clone(), renewal["invoiceType"].clone(), renewal["planName"].clone()), (json!("paid"), json!("recurring"), json!("Pro")));
        assert_eq!(july["items"][0]["invoiceId"], renewal["id"]);
        assert_eq!(lines(quiet), [line("plan_base", "advance", 1, 9_900, 9_900), line("feature_seats", "advance", 2, 2_500, 5_000)]);
        assert_eq!(lines(lowered), [line("plan_base", "advance", 1, 9_900, 9_900)], "5 seats: nothing extra");
        for invoice in &full {
            let sum: i64 = invoice["lineItems"].as_array().unwrap().iter().map(|l| l["amount"].as_i64().unwrap()).sum();
            assert_eq!(invoice["total"], sum, "the total is the sum of the lines");
        }
    }
}

on_both_backends! {
    async fn invoices_are_listed_filtered_and_final_once_paid(app: TestApp) {
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "a@acme.test", "id": "a"})).await;
        app.create_customer(&json!({"email": "b@acme.test", "id": "b"})).await;
        app.post("/subscriptions", DIRECT, &json!({"customerId": "a", "planCode": "pro"})).await;
        app.post("/subscriptions", DIRECT, &json!({"customerId": "b", "planCode": "pro"})).await;

        let legacy = json_with_status(app.get("/invoices?customerId=a", LEGACY).await, 200).await;
        let paid = json_with_status(app.get("/invoices?status=paid", DIRECT).await, 200).await;
        let void = json_with_status(app.get("/invoices?status=void", DIRECT).await, 200).await;
        let id = legacy["data"][0]["id"].as_str().unwrap().to_owned();
        let refused = json_with_status(send(&app, Method::PATCH, &format!("/invoices/{id}/status"), DIRECT, Some(json!({"status": "void"}))).await, 400).await;
        let bad_status = json_with_status(send(&app, Method::PUT, &format!("/invoices/{id}/status"), LEGACY, Some(json!({"status": "refunded"}))).await, 400).await;
        let unknown = json_with_status(app.get("/invoices/inv_nope", DIRECT).await, 404).await;
        let unknown_customer = json_with_status(app.get("/invoices?customerId=ghost", DIRECT).await, 404).await;
        let after = json_with_status(app.get(&format!("/invoices/{id}"), LEGACY).await, 200).await;

        assert_eq!(legacy["data"].as_array().unwrap().len(), 1);
        assert_eq!(legacy["data"][0]["invoiceNumber"], "INV-000001");
        assert_eq!(legacy["data"][0]["creditApplied"], 0, "legacy list items keep the get-only fields");
        assert_eq!(paid["data"].as_array().unwrap().len(), 2);
        assert_eq!(void["data"], json!([]));
        assert_eq!(error_of(&refused, DIRECT)["param"], "status");
        assert_eq!(error_of(&bad_status, LEGACY)["param"], "status");
        assert_eq!(error_of(&unknown, DIRECT)["code"], "invoice_not_found");
        assert_eq!(error_of(&unknown_customer, DIRECT)["code"], "customer_not_found");
        assert_eq!(after["data"]["status"], "paid");
        assert_eq!(after["data"]["total"], 9_900, "a refused change leaves the invoice as issued");
    }
}

on_both_backends! {
    async fn trials_and_free_plans_are_not_invoiced_until_they_should_be(app: TestApp) {
        let plan = pro_plan(&app).await;
        app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "yearly", "price": 99000, "trialDays": 14})).await;
        app.post("/plans", DIRECT, &json!({"name": "Free", "code": "free", "isFree": true})).await;
        app.create_customer(&json!({"email": "t@acme.test", "id": "t"})).await;
        app.create_customer(&json!({"email": "f@acme.test", "id": "f"})).await;
        app.post("/subscriptions", DIRECT, &json!({"customerId": "t", "planCode": "pro", "billingInterval": "yearly", "initialSeats": {"editor": 7}})).await;
        app.post("/subscriptions", DIRECT, &json!({"customerId": "f", "planCode": "free"})).await;

        let during_trial = json_with_status(app.get("/invoices", DIRECT).await, 200).await;
        advance_to(&app, "2026-06-20T00:00:00.000Z").await;
        let after_trial = json_with_status(app.get("/invoices?customerId=t", DIRECT).await, 200).await;

        assert_eq!(during_trial["data"], json!([]), "no invoice in a trial or on a free plan");
        let invoice = json_with_status(app.get(&format!("/invoices/{}", after_trial["data"][0]["id"].as_str().unwrap()), DIRECT).await, 200).await;
        assert_eq!(lines(&invoice), [line("plan_base", "advance", 1, 99_000, 99_000), line("feature_seats", "advance", 2, 2_500, 5_000)]);
        assert_eq!(invoice["periodStart"], "2026-06-15T00:00:00.000Z");
        let free = json_with_status(app.get("/invoices?customerId=f", DIRECT).await, 200).await;
        assert_eq!(free["data"], json!([]));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_auto_pay_invoices_are_outstanding_until_paid_or_voided() {
    let options = crate::support::Options {
        auto_pay: false,
        ..crate::support::Options::default()
    };
    let app = TestApp::spawn_with(crate::support::Backend::Sqlite, options)
        .await
        .unwrap();
    pro_plan(&app).await;
    let receiver = crate::receiver::Receiver::start().await;
    app.post(
        "/webhooks",
        DIRECT,
        &json!({"url": receiver.url, "events": ["invoice.voided"]}),
    )
    .await;
    app.clock.as_ref().unwrap().advance_millis(1_000);
    for customer in ["a", "b"] {
        app.create_customer(&json!({"email": format!("{customer}@acme.test"), "id": customer}))
            .await;
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": customer, "planCode": "pro"}),
        )
        .await;
    }
    let outstanding =
        json_with_status(app.get("/invoices?status=outstanding", DIRECT).await, 200).await;
    let ids: Vec<String> = outstanding["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();

    let paid = json_with_status(
        send(
            &app,
            Method::PUT,
            &format!("/invoices/{}/status", ids[0]),
            LEGACY,
            Some(json!({"status": "paid"})),
        )
        .await,
        200,
    )
    .await;
    let voided = json_with_status(
        send(
            &app,
            Method::PATCH,
            &format!("/invoices/{}/status", ids[1]),
            DIRECT,
            Some(json!({"status": "void"})),
        )
        .await,
        200,
    )
    .await;
    let again = json_with_status(
        send(
            &app,
            Method::PATCH,
            &format!("/invoices/{}/status", ids[1]),
            DIRECT,
            Some(json!({"status": "paid"})),
        )
        .await,
        400,
    )
    .await;
    tally_workers::Dispatcher::new(app.app.clone(), std::time::Duration::from_millis(100))
        .run_once()
        .await
        .unwrap();

    assert_eq!(ids.len(), 2);
    assert_eq!(
        paid["data"],
        json!({"id": ids[0], "status": "paid", "updatedAt": "2026-06-01T00:00:01.000Z", "object": "invoice", "livemode": false})
    );
    assert_eq!(voided["status"], "void");
    assert_eq!(voided["total"], 9_900, "voiding changes the status only");
    assert_eq!(error_of(&again, DIRECT)["param"], "status", "void is final");
    let delivered = receiver.received();
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].json()["data"]["invoiceId"], json!(ids[1]));
    assert_eq!(delivered[0].json()["data"]["invoiceStatus"], "void");
}
