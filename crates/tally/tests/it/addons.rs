//! Add-ons over HTTP (`lifecycle.md` §5): the catalog, activation prorated to the cent, the
//! renewals that bill them, deactivation, the webhooks, and every refusal of the area.

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

async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> (String, Value) {
    let body = json_with_status(send(app, method, path, DIRECT, body).await, status).await;
    let error = error_of(&body, DIRECT);
    (
        error["code"].as_str().unwrap().to_owned(),
        error["param"].clone(),
    )
}

/// `pro` 9900/month with a seats feature, and the boolean feature `sso` sold as an add-on.
async fn pro_with_sso(app: &TestApp) -> (String, String) {
    ok(
        app,
        Method::POST,
        "/features",
        Some(json!({"name": "SSO", "code": "sso", "type": "boolean"})),
    )
    .await;
    let plan = ok(
        app,
        Method::POST,
        "/plans",
        Some(json!({"name": "Pro", "code": "pro"})),
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    ok(
        app,
        Method::POST,
        &format!("/plans/{plan}/prices"),
        Some(json!({"billingInterval": "monthly", "price": 9_900})),
    )
    .await;
    let addon = ok(app, Method::POST, "/addons", Some(json!({"name": "SSO", "basePrice": 5_000, "featureId": "sso", "consumptionModel": "boolean"}))).await;
    (plan, addon["id"].as_str().unwrap().to_owned())
}

on_both_backends! {
    /// Scenario 4 (in July, another 31-day month): a $50 add-on activated on day 12 of 31 costs
    /// 3226; the next renewal bills 9900 + 5000; deactivated on day 10, the one after bills 9900.
    async fn an_addon_is_prorated_billed_at_renewal_and_stops_when_deactivated(app: TestApp) {
        freeze(&app, "2026-07-01T00:00:00.000Z").await;
        let (plan, addon) = pro_with_sso(&app).await;
        let shown = ok(&app, Method::GET, "/addons/sso", None).await;
        assert_eq!(shown, json!({
            "id": addon, "name": "SSO", "slug": "sso", "description": null, "basePrice": 5_000,
            "featureCode": "sso", "featureName": "SSO", "consumptionModel": "boolean",
            "includedUnits": null, "overageRate": null, "creditCost": null,
            "createdAt": "2026-07-01T00:00:00.000Z", "updatedAt": "2026-07-01T00:00:00.000Z",
            "object": "addon", "livemode": false,
        }));
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": ["invoice.created", "addon.activated", "addon.deactivated", "customer.state_changed"]}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "owner@acme.test", "id": "user_123"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planId": plan}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        delivered(&app, &receiver, &mut seen).await;

        freeze(&app, "2026-07-12T00:00:00.000Z").await;
        let activated = ok(&app, Method::POST, &format!("/subscriptions/{sub}/addons"), Some(json!({"addonId": addon}))).await;
        assert_eq!(activated, json!({"addonId": addon, "status": "active", "proratedCharge": 3_226, "object": "subscription_addon", "livemode": false}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["addon.activated", "customer.state_changed", "invoice.created"]);
        let event = data(&events, "addon.activated");
        assert_eq!((&event["proratedPrice"], &event["currency"], &event["addon"]["id"], &event["featureCode"]), (&json!(322_600), &json!("usd"), &json!(addon), &json!("sso")));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("addon_activated"));
        let active = json_with_status(send(&app, Method::GET, "/active-addons?customerId=user_123", LEGACY, None).await, 200).await;
        assert_eq!(active, json!({"success": true, "data": [{
            "slug": "sso", "name": "SSO", "basePrice": 5_000, "featureCode": "sso", "featureName": "SSO",
            "featureType": "boolean", "consumptionModel": "boolean", "activatedAt": "2026-07-12T00:00:00.000Z",
            "object": "addon", "livemode": false,
        }]}));
        // The feature is granted at once.
        let access = ok(&app, Method::GET, "/feature-access/sso?customerId=user_123", None).await;
        assert_eq!(access["allowed"], json!(true), "{access}");
        let subscription = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert!(subscription["features"].as_array().unwrap().iter().any(|f| f["code"] == json!("sso") && f["enabled"] == json!(true)), "{subscription}");

        assert_eq!(refused(&app, Method::POST, &format!("/subscriptions/{sub}/addons"), Some(json!({"addonId": "sso"})), 409).await, ("addon_already_active".to_owned(), json!("addonId")));
        assert_eq!(refused(&app, Method::DELETE, &format!("/addons/{addon}"), None, 409).await.0, "addon_has_activations");
        assert_eq!(refused(&app, Method::DELETE, "/features/sso", None, 409).await.0, "feature_in_use");

        advance(&app, "2026-08-10T00:00:00.000Z").await;
        let deactivated = ok(&app, Method::DELETE, &format!("/subscriptions/{sub}/addons/{addon}"), None).await;
        assert_eq!(deactivated, json!({"id": addon, "status": "inactive", "deactivatedAt": "2026-08-10T00:00:00.000Z", "object": "subscription_addon", "livemode": false}));
        let access = ok(&app, Method::GET, "/feature-access/sso?customerId=user_123", None).await;
        assert_eq!(access["allowed"], json!(false), "{access}");
        assert_eq!(refused(&app, Method::DELETE, &format!("/subscriptions/{sub}/addons/{addon}"), None, 400).await, ("addon_not_active".to_owned(), json!("addonId")));
        let listed = ok(&app, Method::GET, "/active-addons?customerId=user_123", None).await;
        assert_eq!(listed, json!({"object": "list", "data": [], "hasMore": false}));

        advance(&app, "2026-09-01T00:00:00.000Z").await;
        assert_eq!(invoice_summary(&invoices(&app, &sub).await), [
            summary_row("recurring", "2026-07-01", "2026-08-01", 9_900, &["plan_base"]),
            summary_row("addon_activation", "2026-07-12", "2026-08-01", 3_226, &["addon_base"]),
            summary_row("recurring", "2026-08-01", "2026-09-01", 14_900, &["plan_base", "addon_base"]),
            summary_row("recurring", "2026-09-01", "2026-10-01", 9_900, &["plan_base"]),
        ]);
        let activation = invoices(&app, &sub).await.into_iter().find(|i| i["invoiceType"] == json!("addon_activation")).unwrap();
        let line = &activation["lineItems"][0];
        assert_eq!((&line["chargeType"], &line["unitAmount"], &line["amount"], &line["description"]), (&json!("advance"), &json!(5_000), &json!(3_226), &json!("SSO, 20/31 days")));
        // Deleting it now that no subscription has it active.
        let deleted = ok(&app, Method::DELETE, &format!("/addons/{addon}"), None).await;
        assert_eq!(deleted, json!({"id": addon, "deleted": true, "object": "addon", "livemode": false}));
        assert_eq!(refused(&app, Method::GET, &format!("/addons/{addon}"), None, 404).await.0, "addon_not_found");
    }
}

on_both_backends! {
    async fn addon_terms_and_activation_refusals_name_their_field(app: TestApp) {
        let (plan, _) = pro_with_sso(&app).await;
        ok(&app, Method::POST, "/features", Some(json!({"name": "API calls", "code": "api_calls", "type": "usage"}))).await;
        ok(&app, Method::POST, "/features", Some(json!({"name": "Seats", "code": "seats", "type": "seats"}))).await;
        let cases = [
            (json!({"name": "X", "basePrice": 100, "featureId": "api_calls", "consumptionModel": "metered"}), 400, "validation_error", "consumptionModel"),
            (json!({"name": "X", "basePrice": 100, "featureId": "api_calls", "consumptionModel": "boolean"}), 400, "validation_error", "featureId"),
            (json!({"name": "X", "basePrice": 100, "featureId": "seats", "consumptionModel": "metered", "overageRate": 10}), 400, "validation_error", "featureId"),
            (json!({"name": "X", "basePrice": -1, "featureId": "sso", "consumptionModel": "boolean"}), 400, "validation_error", "basePrice"),
            (json!({"name": "X", "basePrice": 1, "featureId": "nope", "consumptionModel": "boolean"}), 404, "feature_not_found", "featureId"),
            (json!({"name": "X", "basePrice": 1, "featureId": "sso", "consumptionModel": "boolean"}), 409, "feature_already_exists", ""),
            (json!({"name": "X", "basePrice": 1, "featureId": "sso", "consumptionModel": "prepaid"}), 400, "validation_error", "consumptionModel"),
            (json!({"basePrice": 1, "featureId": "sso", "consumptionModel": "boolean"}), 400, "validation_error", "name"),
        ];
        for (body, status, code, param) in cases {
            let (found, found_param) = refused(&app, Method::POST, "/addons", Some(body.clone()), status).await;
            assert_eq!(found, code, "{body}");
            if !param.is_empty() {
                assert_eq!(found_param, json!(param), "{body}");
            }
        }
        // A metered add-on: included units and a rate; the same name gets the next slug.
        let metered = ok(&app, Method::POST, "/addons", Some(json!({"name": "SSO", "basePrice": 2_000, "featureId": "api_calls", "consumptionModel": "metered", "includedUnits": 1000, "overageRate": 100}))).await;
        assert_eq!((&metered["slug"], &metered["includedUnits"], &metered["overageRate"]), (&json!("sso-2"), &json!(1000), &json!(100)));
        let updated = json_with_status(send(&app, Method::PUT, "/addons/sso-2", LEGACY, Some(json!({"basePrice": 2_500, "includedUnits": null}))).await, 200).await;
        assert_eq!((&updated["data"]["basePrice"], &updated["data"]["includedUnits"], &updated["data"]["slug"]), (&json!(2_500), &Value::Null, &json!("sso-2")));
        assert_eq!(refused(&app, Method::PATCH, "/addons/sso-2", Some(json!({"overageRate": null})), 400).await.0, "validation_error");

        app.create_customer(&json!({"email": "a@acme.test", "id": "user_1"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_1", "planId": plan}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let path = format!("/subscriptions/{sub}/addons");
        assert_eq!(refused(&app, Method::POST, &path, Some(json!({"addonId": "adn_01J0000000000000000000000Z"})), 404).await, ("addon_not_found".to_owned(), json!("addonId")));
        assert_eq!(refused(&app, Method::POST, &path, Some(json!({})), 400).await, ("validation_error".to_owned(), json!("addonId")));
        assert_eq!(refused(&app, Method::POST, "/subscriptions/sub_01J0000000000000000000000Z/addons", Some(json!({"addonId": "sso"})), 404).await.0, "subscription_not_found");
        assert_eq!(refused(&app, Method::GET, "/active-addons?customerId=nobody", None, 404).await.0, "customer_not_found");
        // Nothing above activated anything.
        let active = ok(&app, Method::GET, "/active-addons?customerId=user_1", None).await;
        assert_eq!(active["data"], json!([]));
        assert_eq!(invoices(&app, &sub).await.len(), 1);
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({"immediate": true}))).await;
        assert_eq!(refused(&app, Method::POST, &path, Some(json!({"addonId": "sso"})), 409).await.0, "subscription_not_active");
    }
}
