//! Credit packs over HTTP (`commerce.md` §3): the catalog in both generations, and commerce
//! scenario 1 — a pack bought for a credits plan, invoiced at once, its credits surviving the
//! renewal that expires the plan's own, then spent by usage after the plan's.

use crate::catalog::send;
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{advance, data, delivered, freeze, invoices, names};
use reqwest::Method;
use serde_json::{Value, json};

async fn ok(
    app: &TestApp,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> Value {
    json_with_status(send(app, method, path, version, body).await, 200).await
}

/// The `studio` credits plan (2900 a month, 1000 credits included) and `user_777` on it.
async fn studio(app: &TestApp) -> String {
    let plan = ok(
        app,
        Method::POST,
        "/plans",
        DIRECT,
        Some(json!({"name": "Studio", "code": "studio", "consumptionModel": "credits"})),
    )
    .await;
    let plan = plan["id"].as_str().unwrap().to_owned();
    ok(
        app,
        Method::POST,
        &format!("/plans/{plan}/prices"),
        DIRECT,
        Some(json!({"billingInterval": "monthly", "price": 2_900, "includedCredits": 1_000})),
    )
    .await;
    // Renders cost one credit each, with nothing included.
    ok(
        app,
        Method::POST,
        "/features",
        DIRECT,
        Some(json!({"name": "Renders", "code": "renders", "type": "usage"})),
    )
    .await;
    ok(
        app,
        Method::POST,
        &format!("/plans/{plan}/features"),
        DIRECT,
        Some(json!({"featureId": "renders", "includedAmount": 0, "creditsPerUnit": 1})),
    )
    .await;
    app.create_customer(&json!({"email": "s@acme.test", "id": "user_777"}))
        .await;
    let sub = ok(
        app,
        Method::POST,
        "/subscriptions",
        DIRECT,
        Some(json!({"customerId": "user_777", "planCode": "studio"})),
    )
    .await;
    sub["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_pack_is_invoiced_at_once_and_its_credits_outlive_the_renewal(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let created = ok(&app, Method::POST, "/credit-packs/manage", LEGACY, Some(json!({"name": "Starter Pack", "credits": 100, "price": 1_000}))).await;
        let pack = created["data"]["id"].as_str().unwrap().to_owned();
        assert!(pack.starts_with("cpk_"), "{created}");
        assert_eq!(created["data"], json!({
            "id": pack, "name": "Starter Pack", "description": null, "credits": 100, "price": 1_000, "currency": "usd",
            "isActive": true, "createdAt": "2026-09-01T00:00:00.000Z", "updatedAt": "2026-09-01T00:00:00.000Z",
            "object": "credit_pack", "livemode": false,
        }));
        let listed = ok(&app, Method::GET, "/credit-packs", DIRECT, None).await;
        assert_eq!(listed, json!({"object": "list", "data": [{
            "id": pack, "name": "Starter Pack", "description": null, "credits": 100, "price": 1_000, "currency": "usd",
            "object": "credit_pack", "livemode": false,
        }], "hasMore": false}));
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", DIRECT, Some(json!({"url": receiver.url, "events": ["invoice.created", "credits.purchased", "credits.expired", "credits.granted"]}))).await;
        let mut seen = 0;
        let sub = studio(&app).await;
        delivered(&app, &receiver, &mut seen).await;

        let legacy = ok(&app, Method::POST, &format!("/subscriptions/{sub}/credits"), LEGACY, Some(json!({"creditPackId": pack}))).await;
        assert_eq!(legacy, json!({"success": true, "data": {"credits": 100, "object": "subscription", "livemode": false}}));
        let purchase = invoices(&app, &sub).await.into_iter().find(|i| i["invoiceType"] == json!("credit_purchase")).unwrap();
        assert_eq!((&purchase["status"], &purchase["total"], &purchase["invoiceNumber"]), (&json!("paid"), &json!(1_000), &json!("INV-000002")));
        let line = &purchase["lineItems"][0];
        assert_eq!((&line["lineType"], &line["amount"], &line["description"]), (&json!("one_time"), &json!(1_000), &json!("Starter Pack — 100 credits")));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        assert_eq!(shown["credits"], json!({"remaining": 1_100, "included": 1_000, "purchased": 100}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["credits.purchased", "invoice.created"]);
        let bought = data(&events, "credits.purchased");
        assert_eq!((&bought["credits"], &bought["creditPackName"], &bought["invoiceNumber"]), (&json!(100), &json!("Starter Pack"), &json!("INV-000002")));

        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        assert_eq!(shown["credits"], json!({"remaining": 1_100, "included": 1_000, "purchased": 100}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(data(&events, "credits.expired")["expiredCredits"], json!(1_000));
        let renewal = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!((&renewal["total"], &renewal["invoiceNumber"]), (&json!(2_900), &json!("INV-000003")));

        // Usage spends the plan's credits first, then the pack's; what the pack has left
        // survives the next reset, and nothing of it is invoiced again.
        let track = |value: i64| json!({"customerId": "user_777", "featureCode": "renders", "value": value});
        let spent = ok(&app, Method::POST, "/usage/events", DIRECT, Some(track(1_060))).await;
        assert_eq!(spent["consumption"], json!({"model": "credits", "deducted": 1_060, "remaining": 40, "blocked": false}), "{spent}");
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        assert_eq!(shown["credits"], json!({"remaining": 40, "included": 1_000, "purchased": 40}));
        let refused = json_with_status(send(&app, Method::POST, "/usage/events", DIRECT, Some(track(41))).await, 400).await;
        assert_eq!(error_of(&refused, DIRECT)["code"], json!("insufficient_credits"));
        advance(&app, "2026-11-01T00:00:00.000Z").await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), DIRECT, None).await;
        assert_eq!(shown["credits"], json!({"remaining": 1_040, "included": 1_000, "purchased": 40}));
        let november = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-11-01T00:00:00.000Z")).unwrap();
        assert_eq!(november["total"], json!(2_900));
        assert_eq!(invoices(&app, &sub).await.iter().filter(|i| i["invoiceType"] == json!("credit_purchase")).count(), 1);
    }
}

on_both_backends! {
    async fn pack_updates_deletions_and_refused_purchases(app: TestApp) {
        let pack = ok(&app, Method::POST, "/credit-packs", DIRECT, Some(json!({"name": "Big", "credits": 1_000, "price": 5_000, "description": "Lots"}))).await;
        let pack = pack["id"].as_str().unwrap().to_owned();
        let duplicate = json_with_status(send(&app, Method::POST, "/credit-packs", DIRECT, Some(json!({"name": "BIG", "credits": 1, "price": 1}))).await, 409).await;
        assert_eq!(error_of(&duplicate, DIRECT)["code"], json!("duplicate"));
        for (body, field) in [(json!({"name": "X", "credits": 0, "price": 1}), "credits"), (json!({"name": "X", "credits": 1, "price": -1}), "price"), (json!({"credits": 1, "price": 1}), "name")] {
            let refused = json_with_status(send(&app, Method::POST, "/credit-packs", DIRECT, Some(body.clone())).await, 400).await;
            assert_eq!(error_of(&refused, DIRECT)["param"], json!(field), "{body}");
        }
        let updated = ok(&app, Method::PUT, &format!("/credit-packs/{pack}"), LEGACY, Some(json!({"price": 4_500, "description": null}))).await;
        assert_eq!((&updated["data"]["price"], &updated["data"]["description"], &updated["data"]["name"]), (&json!(4_500), &Value::Null, &json!("Big")));

        let sub = studio(&app).await;
        let path = format!("/subscriptions/{sub}/credits");
        ok(&app, Method::PATCH, &format!("/credit-packs/{pack}"), DIRECT, Some(json!({"isActive": false}))).await;
        let inactive = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"creditPackId": pack}))).await, 404).await;
        assert_eq!((&error_of(&inactive, DIRECT)["code"], &error_of(&inactive, DIRECT)["param"]), (&json!("credit_pack_not_found"), &json!("creditPackId")));
        let listed = ok(&app, Method::GET, "/credit-packs", LEGACY, None).await;
        assert_eq!(listed, json!({"success": true, "data": []}), "inactive packs are not on sale");
        ok(&app, Method::PATCH, &format!("/credit-packs/{pack}"), DIRECT, Some(json!({"isActive": true}))).await;
        let deleted = ok(&app, Method::DELETE, &format!("/credit-packs/{pack}"), DIRECT, None).await;
        assert_eq!(deleted, json!({"id": pack, "deleted": true, "object": "credit_pack", "livemode": false}));
        let gone = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"creditPackId": pack}))).await, 404).await;
        assert_eq!(error_of(&gone, DIRECT)["code"], json!("credit_pack_not_found"));

        // A metered plan cannot buy credits; a canceled subscription buys nothing.
        let other = ok(&app, Method::POST, "/credit-packs", DIRECT, Some(json!({"name": "Small", "credits": 10, "price": 100}))).await;
        let other = other["id"].as_str().unwrap().to_owned();
        let metered = ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "Meter", "code": "meter"}))).await;
        let metered = metered["id"].as_str().unwrap().to_owned();
        ok(&app, Method::POST, &format!("/plans/{metered}/prices"), DIRECT, Some(json!({"billingInterval": "monthly", "price": 100}))).await;
        app.create_customer(&json!({"email": "m@acme.test", "id": "user_m"})).await;
        let metered_sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_m", "planCode": "meter"}))).await;
        let refused = json_with_status(send(&app, Method::POST, &format!("/subscriptions/{}/credits", metered_sub["id"].as_str().unwrap()), DIRECT, Some(json!({"creditPackId": other}))).await, 400).await;
        assert_eq!(error_of(&refused, DIRECT)["param"], json!("creditPackId"));
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), DIRECT, Some(json!({"immediate": true}))).await;
        let canceled = json_with_status(send(&app, Method::POST, &path, DIRECT, Some(json!({"creditPackId": other}))).await, 409).await;
        assert_eq!(error_of(&canceled, DIRECT)["code"], json!("subscription_not_active"));
        assert!(invoices(&app, &sub).await.iter().all(|i| i["invoiceType"] != json!("credit_purchase")), "nothing was bought");
    }
}
