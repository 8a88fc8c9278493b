//! `/subscriptions` over HTTP (`catalog.md` §5, examples.md scenario 2).

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

/// Replaces the ids Tally mints with placeholders, so whole bodies can be compared.
fn without_ids(mut value: Value, ids: &[(&str, &str)]) -> Value {
    let text = ids
        .iter()
        .fold(value.to_string(), |text, (id, name)| text.replace(id, name));
    value = serde_json::from_str(&text).unwrap();
    value
}

async fn customer(app: &TestApp, external_id: &str) -> String {
    let created = app
        .create_customer(&json!({"email": format!("{external_id}@acme.test"), "id": external_id, "fullName": "Acme Inc"}))
        .await;
    created["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_subscription_with_initial_seats_matches_the_contract_examples(app: TestApp) {
        let plan = pro_plan(&app).await;
        let customer_id = customer(&app, "user_123").await;
        let body = json!({"customerId": "user_123", "planCode": "pro", "billingInterval": "monthly", "initialSeats": {"editor": 6}});

        let legacy = json_with_status(app.post("/subscriptions", LEGACY, &body).await, 200).await;
        let id = legacy["data"]["id"].as_str().unwrap().to_owned();
        let active = json_with_status(app.get("/subscriptions/active?customerId=user_123", DIRECT).await, 200).await;
        let price_id = active["priceId"].as_str().unwrap().to_owned();
        let names = [(id.as_str(), "sub_1"), (customer_id.as_str(), "cus_1"), (plan.as_str(), "pln_1"), (price_id.as_str(), "pp_1")];

        assert_eq!(
            without_ids(legacy, &names),
            json!({"success": true, "data": {"id": "sub_1", "customerId": "cus_1", "plan": {"id": "pln_1", "name": "Pro", "basePrice": 9900},
                "name": "Pro", "description": "For growing teams", "status": "active", "billingInterval": "monthly", "consumptionModel": "metered",
                "trialEndsAt": null, "currentPeriod": {"start": "2026-06-01T00:00:00.000Z", "end": "2026-07-01T00:00:00.000Z", "daysRemaining": 30},
                "features": [{"code": "editor", "name": "Editor seats", "type": "seats", "usage": {"current": 6, "included": 5, "overageQuantity": 1, "overageUnitPrice": 250000}}],
                "credits": null, "balance": null, "cancellation": null, "cancelAtPeriodEnd": false, "scheduledPlanChange": null, "discount": null,
                "startDate": "2026-06-01T00:00:00.000Z", "endDate": null, "billingDayOfMonth": 1, "nextBillingDate": "2026-07-01T00:00:00.000Z",
                "checkoutUrl": null, "checkoutProvider": null, "createdAt": "2026-06-01T00:00:00.000Z", "updatedAt": "2026-06-01T00:00:00.000Z",
                "object": "subscription", "livemode": false}})
        );
        assert_eq!(
            without_ids(active, &names),
            json!({"id": "sub_1", "customerId": "cus_1", "plan": {"id": "pln_1", "name": "Pro", "basePrice": 9900}, "name": "Pro",
                "description": "For growing teams", "status": "active", "billingInterval": "monthly", "trialEndsAt": null,
                "currentPeriod": {"start": "2026-06-01T00:00:00.000Z", "end": "2026-07-01T00:00:00.000Z", "daysRemaining": 30},
                "cancellation": null, "cancelAtPeriodEnd": false, "scheduledPlanChange": null, "startDate": "2026-06-01T00:00:00.000Z",
                "endDate": null, "billingDayOfMonth": 1, "nextBillingDate": "2026-07-01T00:00:00.000Z", "checkoutUrl": null,
                "createdAt": "2026-06-01T00:00:00.000Z", "updatedAt": "2026-06-01T00:00:00.000Z", "offerApplications": [], "pause": null,
                "consumptionModel": "metered",
                "features": [{"code": "editor", "name": "Editor seats", "type": "seats", "usage": {"current": 6, "included": 5, "overageQuantity": 1, "overageUnitPrice": 250000, "unlimited": false}}],
                "credits": null, "balance": null, "priceId": "pp_1", "object": "subscription", "livemode": false})
        );
    }
}

on_both_backends! {
    async fn created_and_listed_shapes_differ_by_generation(app: TestApp) {
        pro_plan(&app).await;
        customer(&app, "u1").await;
        let body = json!({"customerId": "u1", "planCode": "pro"});

        let created = json_with_status(app.post("/subscriptions", DIRECT, &body).await, 200).await;
        let listed = json_with_status(app.get("/subscriptions?customerId=u1", DIRECT).await, 200).await;
        let listed_0731 = json_with_status(app.get("/subscriptions?customerId=u1&status=active", "2026-07-31").await, 200).await;
        let listed_0724 = json_with_status(app.get("/subscriptions", "2026-07-24").await, 200).await;
        let legacy_list = json_with_status(app.get("/subscriptions?status=canceled", LEGACY).await, 200).await;

        assert_eq!(created["plan"].as_object().unwrap().len(), 2, "CreatedSubscription has no basePrice");
        assert!(created.get("features").is_none() && created.get("consumptionModel").is_none());
        assert_eq!(created["checkoutProvider"], Value::Null);
        assert_eq!(created["pause"], Value::Null);
        assert_eq!(listed["object"], "list");
        assert_eq!(listed["hasMore"], false);
        let item = &listed["data"][0];
        assert_eq!(item["id"], created["id"]);
        assert!(item.get("checkoutProvider").is_none() && item.get("features").is_none());
        assert!(listed_0731["data"][0].get("pause").is_none(), "pause arrives with 2026-08-27");
        assert_eq!(listed_0724["data"][0]["discount"], Value::Null, "2026-07-24 still shows discount");
        assert_eq!(legacy_list, json!({"success": true, "data": [], "hasMore": false}));
    }
}

on_both_backends! {
    async fn create_refusals_use_the_documented_codes_and_params(app: TestApp) {
        let plan = pro_plan(&app).await;
        app.post("/features", DIRECT, &json!({"name": "Viewer seats", "code": "viewer", "type": "seats"})).await;
        app.post("/features", DIRECT, &json!({"name": "SSO", "code": "sso", "type": "boolean"})).await;
        app.post("/plans", DIRECT, &json!({"name": "Empty", "code": "empty"})).await;
        customer(&app, "u1").await;
        customer(&app, "u2").await;
        app.post("/subscriptions", DIRECT, &json!({"customerId": "u2", "planCode": "pro"})).await;

        let cases = [
            (json!({"planCode": "pro"}), 400, "validation_error", "customerId", "no customer"),
            (json!({"customerId": "u1"}), 400, "validation_error", "planId", "no plan"),
            (json!({"customerId": "u1", "planCode": "pro", "planId": plan}), 400, "validation_error", "planId", "both plan fields"),
            (json!({"customerId": "ghost", "planCode": "pro"}), 404, "customer_not_found", "customerId", "an unknown customer"),
            (json!({"customerId": "u1", "planCode": "nope"}), 404, "plan_not_found", "planCode", "an unknown plan"),
            (json!({"customerId": "u1", "planCode": "pro", "billingInterval": "yearly"}), 409, "no_prices_configured", "billingInterval", "no yearly price"),
            (json!({"customerId": "u1", "planCode": "empty"}), 409, "no_prices_configured", "billingInterval", "a plan without prices"),
            (json!({"customerId": "u1", "planCode": "pro", "initialSeats": {"nope": 1}}), 404, "feature_not_found", "initialSeats.nope", "an unknown feature"),
            (json!({"customerId": "u1", "planCode": "pro", "initialSeats": {"sso": 1}}), 404, "feature_not_found", "initialSeats.sso", "a boolean feature"),
            (json!({"customerId": "u1", "planCode": "pro", "initialSeats": {"viewer": 1}}), 400, "feature_not_in_plan", "initialSeats.viewer", "a seats feature off the plan"),
            (json!({"customerId": "u1", "planCode": "pro", "initialSeats": {"editor": -1}}), 400, "validation_error", "initialSeats.editor", "negative seats"),
            (json!({"customerId": "u1", "planCode": "pro", "promoCode": "SAVE"}), 404, "promo_code_not_found", "promoCode", "an unknown promo code"),
            (json!({"customerId": "u1", "planCode": "pro", "introOffer": {"discountType": "percentage", "discountValue": 10}}), 400, "validation_error", "introOffer", "custom intro terms"),
            (json!({"customerId": "u1", "planCode": "pro", "startDate": "2026-07-01T00:00:00Z"}), 400, "validation_error", "startDate", "a future start"),
            (json!({"customerId": "u2", "planCode": "pro"}), 409, "already_has_active_subscription", "customerId", "a second live subscription"),
        ];
        for (body, status, code, param, description) in cases {
            let error = error_of(&json_with_status(app.post("/subscriptions", DIRECT, &body).await, status).await, DIRECT);
            assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some(code), Some(param)), "{description}");
        }
        let none = json_with_status(app.get("/subscriptions?customerId=u1", DIRECT).await, 200).await;
        assert_eq!(none["data"], json!([]), "no refusal left a subscription behind");
    }
}

on_both_backends! {
    async fn camel_cased_seat_keys_find_their_feature_codes(app: TestApp) {
        let plan = pro_plan(&app).await;
        app.post("/features", DIRECT, &json!({"name": "Team members", "code": "team_member", "type": "seats"})).await;
        app.post(&format!("/plans/{plan}/features"), DIRECT, &json!({"featureId": "team_member", "includedAmount": 2})).await;
        customer(&app, "u1").await;

        let created = json_with_status(
            app.post("/subscriptions", DIRECT, &json!({"customerId": "u1", "planCode": "pro", "initialSeats": {"teamMember": 4, "editor": 1}})).await,
            200,
        )
        .await;
        let full = json_with_status(app.get(&format!("/subscriptions/{}", created["id"].as_str().unwrap()), DIRECT).await, 200).await;

        let usage: Vec<_> = full["features"].as_array().unwrap().iter().map(|f| (f["code"].clone(), f["usage"]["current"].clone())).collect();
        assert_eq!(usage, [(json!("editor"), json!(1)), (json!("team_member"), json!(4))]);
    }
}

on_both_backends! {
    async fn get_active_answers_null_without_a_live_subscription(app: TestApp) {
        customer(&app, "lonely").await;

        let legacy = json_with_status(app.get("/subscriptions/active?customerId=lonely", LEGACY).await, 200).await;
        let direct = app.get("/subscriptions/active?customerId=lonely", DIRECT).await;
        let unknown = json_with_status(app.get("/subscriptions/active?customerId=ghost", DIRECT).await, 404).await;
        let missing = json_with_status(app.get("/subscriptions/active", DIRECT).await, 400).await;
        let bad_id = json_with_status(app.get("/subscriptions/sub_nope", DIRECT).await, 404).await;

        assert_eq!(legacy, json!({"success": true, "data": null}));
        assert_eq!(direct.status(), 200);
        assert_eq!(direct.text().await.unwrap(), "null");
        assert_eq!(error_of(&unknown, DIRECT)["code"], "customer_not_found");
        assert_eq!(error_of(&missing, DIRECT)["param"], "customerId");
        assert_eq!(error_of(&bad_id, DIRECT)["code"], "subscription_not_found");
    }
}

on_both_backends! {
    async fn cancel_schedules_or_ends_and_uncancel_revokes(app: TestApp) {
        pro_plan(&app).await;
        customer(&app, "u1").await;
        let created = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "u1", "planCode": "pro"})).await, 200).await;
        let id = created["id"].as_str().unwrap().to_owned();
        app.clock.as_ref().unwrap().advance_millis(10 * 24 * 60 * 60 * 1000);

        let scheduled = json_with_status(app.post(&format!("/subscriptions/{id}/cancel"), LEGACY, &json!({"reason": "too pricey"})).await, 200).await;
        let not_again = json_with_status(app.post(&format!("/subscriptions/{id}/cancel"), DIRECT, &json!({})).await, 200).await;
        let revoked = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{id}/uncancel"), LEGACY, None).await, 200).await;
        let nothing_scheduled = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{id}/uncancel"), DIRECT, None).await, 409).await;
        let ended = json_with_status(app.post(&format!("/subscriptions/{id}/cancel"), DIRECT, &json!({"immediate": true})).await, 200).await;
        let already = json_with_status(app.post(&format!("/subscriptions/{id}/cancel"), LEGACY, &json!({})).await, 409).await;

        assert_eq!(
            without_ids(scheduled, &[(id.as_str(), "sub_1"), (created["customerId"].as_str().unwrap(), "cus_1")]),
            json!({"success": true, "data": {"id": "sub_1", "customerId": "cus_1", "status": "active", "canceledAt": "2026-06-11T00:00:00.000Z",
                "cancelReason": "too pricey", "scheduledCancellationDate": "2026-07-01T00:00:00.000Z", "updatedAt": "2026-06-11T00:00:00.000Z",
                "object": "subscription", "livemode": false}})
        );
        assert_eq!(not_again["cancelAtPeriodEnd"], true);
        assert_eq!(not_again["cancellation"], json!({"scheduledAt": "2026-06-11T00:00:00.000Z", "reason": "too pricey", "effectiveAt": "2026-07-01T00:00:00.000Z"}));
        assert_eq!(not_again["nextBillingDate"], Value::Null);
        assert_eq!(not_again["endDate"], "2026-07-01T00:00:00.000Z");
        assert_eq!(revoked["data"].as_object().unwrap().keys().collect::<Vec<_>>(), ["id", "customerId", "status", "updatedAt", "object", "livemode"]);
        assert_eq!(error_of(&nothing_scheduled, DIRECT)["code"], "not_scheduled_for_cancellation");
        assert_eq!(ended["status"], "canceled");
        assert_eq!(ended["currentPeriod"], Value::Null);
        assert_eq!(ended["endDate"], "2026-06-11T00:00:00.000Z");
        assert_eq!(error_of(&already, LEGACY)["code"], "subscription_already_canceled");
    }
}

on_both_backends! {
    async fn a_month_end_anchor_clamps_and_a_trial_starts_trialing(app: TestApp) {
        let plan = pro_plan(&app).await;
        app.post(&format!("/plans/{plan}/prices"), DIRECT, &json!({"billingInterval": "yearly", "price": 99000, "trialDays": 14})).await;
        customer(&app, "u1").await;
        customer(&app, "u2").await;
        app.clock.as_ref().unwrap().set(tally_domain::Timestamp::parse_rfc3339("2026-01-31T12:00:00Z").unwrap());

        let monthly = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "u1", "planCode": "pro"})).await, 200).await;
        let trial = json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "u2", "planCode": "pro", "billingInterval": "yearly"})).await, 200).await;

        assert_eq!(monthly["currentPeriod"], json!({"start": "2026-01-31T12:00:00.000Z", "end": "2026-02-28T12:00:00.000Z", "daysRemaining": 28}));
        assert_eq!(monthly["billingDayOfMonth"], 31);
        assert_eq!(trial["status"], "trialing");
        assert_eq!(trial["trialEndsAt"], "2026-02-14T12:00:00.000Z");
        assert_eq!(trial["currentPeriod"]["end"], "2026-02-14T12:00:00.000Z");
        assert_eq!(trial["billingDayOfMonth"], 14, "billing follows the trial's end");
    }
}
