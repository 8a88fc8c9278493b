//! The money bound over HTTP: catalog amounts, invoices and ledgers stay within `MONEY_MAX`
//! (10^15), and a request that would pass it is a `validation_error` naming its field, never a
//! 500 or a wrapped amount.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

const MONEY_MAX: i64 = 1_000_000_000_000_000;
/// The largest catalog amount the API accepts: a unit price of 10^12 on the rate scale is
/// 10^10 cents per seat.
const AMOUNT_MAX: i64 = 1_000_000_000_000;

/// A `big` plan: a 100-cent monthly base and `editor` seats at the largest unit price, none
/// included; returns the plan id.
async fn big_plan(app: &TestApp) -> String {
    json_with_status(
        app.post(
            "/features",
            DIRECT,
            &json!({"name": "Editor seats", "code": "editor", "type": "seats"}),
        )
        .await,
        200,
    )
    .await;
    let plan = json_with_status(
        app.post("/plans", DIRECT, &json!({"name": "Big", "code": "big"}))
            .await,
        200,
    )
    .await;
    let id = plan["id"].as_str().unwrap().to_owned();
    json_with_status(
        app.post(
            &format!("/plans/{id}/prices"),
            DIRECT,
            &json!({"billingInterval": "monthly", "price": 100}),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        app.post(&format!("/plans/{id}/features"), DIRECT, &json!({"featureId": "editor", "includedAmount": 0, "overage": {"enabled": true, "unitPrice": AMOUNT_MAX}})).await,
        200,
    )
    .await;
    id
}

fn param_of(body: &Value, version: &str) -> (String, String) {
    let error = error_of(body, version);
    (
        error["code"].as_str().unwrap().to_owned(),
        error["param"].as_str().unwrap_or_default().to_owned(),
    )
}

on_both_backends! {
    async fn amounts_above_the_bound_are_refused_with_the_field_to_blame(app: TestApp) {
        let plan = big_plan(&app).await;
        for id in ["fits", "too_many", "all_of_them"] {
            app.create_customer(&json!({"email": format!("{id}@acme.test"), "id": id})).await;
        }
        let subscribe = |customer: &str, seats: i64| json!({"customerId": customer, "planCode": "big", "initialSeats": {"editor": seats}});
        let seat_body = |count: i64| json!({"customerId": "fits", "featureCode": "editor", "count": count});

        let price_too_large = json_with_status(app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "yearly", "price": AMOUNT_MAX + 1})).await, 400).await;
        let unit_price_too_large = json_with_status(
            app.post(&format!("/plans/{plan}/features"), DIRECT, &json!({"featureId": "editor", "overage": {"enabled": true, "unitPrice": AMOUNT_MAX + 1}})).await,
            400,
        )
        .await;
        // 99 999 extra seats at 10^10 cents and the 100-cent base: 10^15 - 10^10 + 100.
        let fits = json_with_status(app.post("/subscriptions", DIRECT, &subscribe("fits", 99_999)).await, 200).await;
        // One seat more is 10^15 + 100 on the first invoice; every seat (the finding's
        // `initialSeats`) is 10^16, which used to answer with a 500.
        let one_seat_too_many = json_with_status(app.post("/subscriptions", DIRECT, &subscribe("too_many", 100_000)).await, 400).await;
        let every_seat = json_with_status(app.post("/subscriptions", LEGACY, &subscribe("all_of_them", 1_000_000)).await, 400).await;
        let add_one = json_with_status(app.post("/seats", DIRECT, &seat_body(1)).await, 400).await;
        let set_more = json_with_status(
            app.request(Method::PUT, "/seats/bulk", DIRECT).json(&json!({"customerId": "fits", "seats": {"editor": 100_000}})).send().await.unwrap(),
            400,
        )
        .await;
        let remove_one = json_with_status(app.post("/seats/remove", DIRECT, &seat_body(1)).await, 200).await;
        let invoices = json_with_status(app.get("/invoices", DIRECT).await, 200).await;

        assert_eq!(param_of(&price_too_large, DIRECT), ("validation_error".to_owned(), "price".to_owned()));
        assert_eq!(param_of(&unit_price_too_large, DIRECT), ("validation_error".to_owned(), "overage.unitPrice".to_owned()));
        assert_eq!(fits["status"], "active", "{fits}");
        assert_eq!(param_of(&one_seat_too_many, DIRECT), ("validation_error".to_owned(), "initialSeats".to_owned()));
        assert_eq!(param_of(&every_seat, LEGACY), ("validation_error".to_owned(), "initialSeats".to_owned()));
        assert_eq!(param_of(&add_one, DIRECT), ("validation_error".to_owned(), "count".to_owned()));
        assert_eq!(param_of(&set_more, DIRECT), ("validation_error".to_owned(), "seats".to_owned()));
        assert_eq!(remove_one["newBalance"], 99_998, "a removal never bills more, so it is never refused");
        let totals: Vec<_> = invoices["data"].as_array().unwrap().iter().map(|i| i["total"].as_i64().unwrap()).collect();
        assert_eq!(totals, [MONEY_MAX - 10_000_000_000 + 100], "only the subscription that fits was invoiced");
    }
}

on_both_backends! {
    async fn a_ledger_adjustment_beyond_the_bound_is_refused_not_wrapped(app: TestApp) {
        let plan = json_with_status(app.post("/plans", DIRECT, &json!({"name": "Balance", "code": "balance", "consumptionModel": "balance"})).await, 200).await;
        let plan = plan["id"].as_str().unwrap();
        app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "monthly", "price": 1000, "includedBalance": 50_000})).await;
        app.create_customer(&json!({"email": "b@acme.test", "id": "b"})).await;
        let sub = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "b", "planCode": "balance"})).await, 200).await;
        let adjust = format!("/subscriptions/{}/balance/adjust", sub["id"].as_str().unwrap());
        let top_up = format!("/subscriptions/{}/balance/topup", sub["id"].as_str().unwrap());

        let to_the_bound = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": MONEY_MAX - 50_000})).await, 200).await;
        let past_the_bound = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": 1})).await, 400).await;
        let top_up_past = json_with_status(app.post(&top_up, DIRECT, &json!({"amount": 100})).await, 400).await;
        let most_negative = json_with_status(app.post(&adjust, DIRECT, &json!({"amount": i64::MIN})).await, 400).await;
        let largest = json_with_status(app.post(&adjust, LEGACY, &json!({"amount": i64::MAX})).await, 400).await;

        assert_eq!(to_the_bound["newBalance"], MONEY_MAX);
        for (body, version, description) in [(&past_the_bound, DIRECT, "past"), (&top_up_past, DIRECT, "top-up"), (&most_negative, DIRECT, "i64::MIN"), (&largest, LEGACY, "i64::MAX")] {
            assert_eq!(param_of(body, version), ("validation_error".to_owned(), "amount".to_owned()), "{description}");
        }
    }
}
