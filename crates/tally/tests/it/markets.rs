//! Markets and regional prices over HTTP (`commerce.md` §2, §7): commerce scenario 4 (invoices
//! in a market's currency, a derived regional price, the base in usd), renewals re-reading the
//! amount, the plan's read-back, and the refusals.

use crate::catalog::send;
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{advance, freeze, invoices, ok};
use reqwest::Method;
use serde_json::{Value, json};

async fn refused(app: &TestApp, method: Method, path: &str, body: Value, status: u16) -> Value {
    let response = send(app, method, path, DIRECT, Some(body)).await;
    error_of(&json_with_status(response, status).await, DIRECT)
}

/// The `basic` plan of scenario 4: a monthly price of 4900 and no features; its price id.
async fn basic_plan(app: &TestApp) -> (String, String) {
    let plan = ok(
        app,
        Method::POST,
        "/plans",
        DIRECT,
        Some(json!({"name": "Basic", "code": "basic"})),
    )
    .await;
    let plan_id = plan["id"].as_str().unwrap().to_owned();
    let price = ok(
        app,
        Method::POST,
        &format!("/plans/{plan_id}/prices"),
        DIRECT,
        Some(json!({"billingInterval": "monthly", "price": 4900})),
    )
    .await;
    (plan_id, price["id"].as_str().unwrap().to_owned())
}

async fn subscribe(app: &TestApp, customer: &str, country: Option<&str>) -> Value {
    let mut body = json!({"email": format!("{customer}@example.test"), "id": customer});
    if let Some(country) = country {
        body["address"] = json!({"line1": "1 Calle", "city": "Ciudad", "country": country});
    }
    app.create_customer(&body).await;
    let sub = ok(
        app,
        Method::POST,
        "/subscriptions",
        DIRECT,
        Some(json!({"customerId": customer, "planCode": "basic"})),
    )
    .await;
    invoices(app, sub["id"].as_str().unwrap()).await.remove(0)
}

on_both_backends! {
    /// Commerce scenario 4: customers in AR, BR and nowhere in particular are invoiced in ars
    /// (the market's entry), brl (derived from the plan's rate) and usd (the base).
    async fn a_markets_currency_and_regional_prices_decide_the_invoice(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let (plan_id, price_id) = basic_plan(&app).await;
        let market = ok(&app, Method::POST, "/markets", DIRECT, Some(json!({"name": "Argentina", "countryCodes": ["ar"]}))).await;
        let market_id = market["id"].as_str().unwrap().to_owned();
        assert!(market_id.starts_with("pmg_"), "{market}");
        assert_eq!(market, json!({"id": market_id, "name": "Argentina", "countryCodes": ["AR"], "metadata": {},
            "createdAt": "2026-09-01T00:00:00.000Z", "updatedAt": "2026-09-01T00:00:00.000Z", "object": "market", "livemode": false}));
        let price = ok(&app, Method::PATCH, &format!("/plans/{plan_id}/prices/{price_id}"), DIRECT,
            Some(json!({"marketPrices": [{"marketGroupId": market_id, "currency": "ars", "price": 6_490_000}]}))).await;
        assert_eq!(price["marketPrices"], json!([{"marketGroupId": market_id, "currency": "ars", "price": 6_490_000}]));
        let result = ok(&app, Method::PUT, &format!("/plans/{plan_id}/regional"), DIRECT, Some(json!({"currency": "brl", "exchangeRate": 5}))).await;
        assert_eq!(result, json!({"planId": plan_id, "currency": "brl", "exchangeRate": 5, "pricesConfigured": 1, "featuresConfigured": 0,
            "object": "plan_regional_pricing", "livemode": false}));
        let plan = ok(&app, Method::GET, &format!("/plans/{plan_id}"), DIRECT, None).await;
        assert_eq!(plan["exchangeRates"], json!([{"currency": "brl", "exchangeRate": 5}]));
        assert_eq!(plan["prices"][0]["regionalPrices"], json!([{"currency": "brl", "price": 24_500, "includedBalance": null, "autoSynced": true}]));
        assert_eq!(plan["prices"][0]["marketPrices"], json!([{"marketGroupId": market_id, "currency": "ars", "price": 6_490_000}]));
        let legacy = ok(&app, Method::GET, &format!("/plans/{plan_id}"), LEGACY, None).await;
        assert_eq!(legacy["prices"][0]["regionalPrices"][0]["price"], json!(24_500));

        let ars = subscribe(&app, "user_ar", Some("ar")).await;
        let brl = subscribe(&app, "user_br", Some("BR")).await;
        let usd = subscribe(&app, "user_us", None).await;
        for (invoice, currency, total) in [(&ars, "ars", 6_490_000), (&brl, "brl", 24_500), (&usd, "usd", 4_900)] {
            assert_eq!((&invoice["currency"], &invoice["total"], &invoice["lineItems"][0]["amount"]), (&json!(currency), &json!(total), &json!(total)), "{invoice}");
        }
        let error = refused(&app, Method::DELETE, &format!("/markets/{market_id}"), json!({}), 409).await;
        assert_eq!(error["code"], json!("market_in_use"));

        // Renewals re-read the amount from the same source; a manual entry beats the rate.
        ok(&app, Method::PUT, &format!("/plans/{plan_id}/prices/{price_id}/regional"), DIRECT,
            Some(json!({"overrides": [{"currency": "brl", "price": 19_900}]}))).await;
        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let brl_sub = ok(&app, Method::GET, "/subscriptions?customerId=user_br", DIRECT, None).await;
        let renewal = invoices(&app, brl_sub["data"][0]["id"].as_str().unwrap()).await;
        let october = renewal.iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!((&october["currency"], &october["total"]), (&json!("brl"), &json!(19_900)));
        // The manual entries go; the plan's rate still derives a brl amount, so nothing
        // priced in brl is left without one.
        let deleted = ok(&app, Method::DELETE, &format!("/plans/{plan_id}/prices/{price_id}/regional"), DIRECT, None).await;
        assert_eq!(deleted, json!({"deleted": true, "object": "plan_regional_pricing", "livemode": false}));
        // Dropping the market entry an Argentine subscription is priced from is refused.
        let error = refused(&app, Method::PATCH, &format!("/plans/{plan_id}/prices/{price_id}"), json!({"marketPrices": []}), 409).await;
        assert_eq!(error["code"], json!("price_in_use"));
    }
}

on_both_backends! {
    async fn bad_markets_and_regional_prices_are_refused_and_change_nothing(app: TestApp) {
        let (plan_id, price_id) = basic_plan(&app).await;
        let argentina = ok(&app, Method::POST, "/markets", DIRECT, Some(json!({"name": "Argentina", "countryCodes": ["AR", "uy"]}))).await;
        let argentina_id = argentina["id"].as_str().unwrap().to_owned();
        let cases = [
            (json!({"name": "x", "countryCodes": ["ZZ"]}), 400, "validation_error", "countryCodes.0"),
            (json!({"name": "x", "countryCodes": []}), 400, "validation_error", "countryCodes"),
            (json!({"name": "", "countryCodes": ["BR"]}), 400, "validation_error", "name"),
            (json!({"countryCodes": ["BR"]}), 400, "validation_error", "name"),
            (json!({"name": "Uruguay", "countryCodes": ["UY"]}), 409, "duplicate", "countryCodes"),
        ];
        for (body, status, code, param) in cases {
            let error = refused(&app, Method::POST, "/markets", body.clone(), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{body}");
        }
        let error = refused(&app, Method::POST, "/markets", json!({"name": "Uruguay", "countryCodes": ["uy"]}), 409).await;
        assert_eq!(error["details"], json!({"country": "UY", "marketId": argentina_id}));
        let listed = ok(&app, Method::GET, "/markets", DIRECT, None).await;
        assert_eq!(listed["data"].as_array().unwrap().len(), 1, "no refusal made a market");
        // An update replaces the countries; a market's own countries are no conflict.
        let updated = ok(&app, Method::PATCH, &format!("/markets/{argentina_id}"), DIRECT, Some(json!({"name": "Río de la Plata", "countryCodes": ["uy", "AR", "PY"]}))).await;
        assert_eq!(updated["countryCodes"], json!(["UY", "AR", "PY"]));
        let error = refused(&app, Method::GET, "/markets/pmg_unknown", json!({}), 404).await;
        assert_eq!(error["code"], json!("market_not_found"));

        let regional = [
            (json!({"currency": "brl", "exchangeRate": 0}), 400, "validation_error", "exchangeRate"),
            (json!({"currency": "xyz", "exchangeRate": 2}), 400, "validation_error", "currency"),
            (json!({"currency": "brl"}), 400, "validation_error", "exchangeRate"),
            (json!({"currency": "brl", "exchangeRate": 2, "prices": [{"priceId": "pp_unknown", "price": 1}]}), 404, "price_not_found", "prices.0.priceId"),
            (json!({"currency": "brl", "exchangeRate": 2, "features": [{"featureId": "nope", "overageUnitPrice": 1}]}), 404, "feature_not_found", "features.0.featureId"),
            (json!({"currency": "brl", "exchangeRate": 2, "introOffers": [{"priceId": price_id}]}), 400, "validation_error", "introOffers"),
        ];
        for (body, status, code, param) in regional {
            let error = refused(&app, Method::PUT, &format!("/plans/{plan_id}/regional"), body.clone(), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{body}");
        }
        let plan = ok(&app, Method::GET, &format!("/plans/{plan_id}"), DIRECT, None).await;
        assert_eq!(plan["exchangeRates"], json!([]), "no refusal set a rate");
        let error = refused(&app, Method::PUT, &format!("/plans/{plan_id}/prices/{price_id}/regional"), json!({"overrides": []}), 400).await;
        assert_eq!(error["param"], json!("overrides"));
        let error = refused(&app, Method::PUT, &format!("/plans/{plan_id}/prices/{price_id}/regional"), json!({"overrides": [{"currency": "brl", "price": -1}]}), 400).await;
        assert_eq!(error["param"], json!("overrides.0.price"));
        let error = refused(&app, Method::PATCH, &format!("/plans/{plan_id}/prices/{price_id}"), json!({"marketPrices": [{"marketGroupId": "pmg_unknown", "currency": "ars", "price": 1}]}), 404).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("market_not_found"), &json!("marketPrices.0.marketGroupId")));

        // A plan that sells extra seats needs their price in the customer's currency: with a
        // brl base entered by hand and no rate to derive the seat price, a Brazilian customer
        // is refused and nothing is made.
        crate::catalog::pro_plan(&app).await;
        let pro = ok(&app, Method::GET, "/plans/pro", DIRECT, None).await;
        let (pro_id, pro_price) = (pro["id"].as_str().unwrap(), pro["prices"][0]["id"].as_str().unwrap());
        ok(&app, Method::PUT, &format!("/plans/{pro_id}/prices/{pro_price}/regional"), DIRECT,
            Some(json!({"overrides": [{"currency": "brl", "price": 49_000}]}))).await;
        app.create_customer(&json!({"email": "b@example.test", "id": "user_b", "address": {"country": "BR"}})).await;
        let error = refused(&app, Method::POST, "/subscriptions", json!({"customerId": "user_b", "planCode": "pro"}), 400).await;
        assert_eq!(error["code"], json!("missing_regional_price"));
        assert!(error["message"].as_str().unwrap().contains("editor"), "{error}");
        // Rate-scale amounts in a currency without cents are refused too.
        ok(&app, Method::PUT, &format!("/plans/{pro_id}/regional"), DIRECT, Some(json!({"currency": "jpy", "exchangeRate": 150}))).await;
        app.create_customer(&json!({"email": "j@example.test", "id": "user_j", "address": {"country": "JP"}})).await;
        let error = refused(&app, Method::POST, "/subscriptions", json!({"customerId": "user_j", "planCode": "pro"}), 400).await;
        assert_eq!(error["code"], json!("missing_regional_price"));
        for customer in ["user_b", "user_j"] {
            let none = ok(&app, Method::GET, &format!("/subscriptions?customerId={customer}"), DIRECT, None).await;
            assert_eq!(none["data"], json!([]));
        }
        // The market goes once nothing names it.
        let deleted = ok(&app, Method::DELETE, &format!("/markets/{argentina_id}"), DIRECT, None).await;
        assert_eq!(deleted["deleted"], json!(true));
    }
}

on_both_backends! {
    /// A subscription in brl holds its seat price, balance and plan changes in brl: the KB's
    /// upgrade (Pro → Business on day 15 of 30 with 8 seats) at a rate of 5 comes to
    /// 5 × $249.50, and the renewal after it bills Business's brl price.
    async fn seat_overage_balances_and_plan_changes_follow_the_subscriptions_currency(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let [pro, business, _, _] = crate::plan_changes::standard_catalog(&app).await;
        for plan in [&pro, &business] {
            let set = ok(&app, Method::PUT, &format!("/plans/{plan}/regional"), DIRECT, Some(json!({"currency": "brl", "exchangeRate": 5}))).await;
            assert_eq!((&set["pricesConfigured"], &set["featuresConfigured"]), (&json!(1), &json!(1)), "{set}");
        }
        app.create_customer(&json!({"email": "br@example.test", "id": "user_br", "address": {"country": "BR"}})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT,
            Some(json!({"customerId": "user_br", "planId": pro, "initialSeats": {"editor": 8}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        // 495.00 + 3 extra seats × 125.00.
        let opening = invoices(&app, &sub).await.remove(0);
        let lines: Vec<(Value, Value)> = opening["lineItems"].as_array().unwrap().iter()
            .map(|l| (l["unitAmount"].clone(), l["amount"].clone())).collect();
        assert_eq!((&opening["currency"], &opening["total"]), (&json!("brl"), &json!(87_000)), "{opening}");
        assert_eq!(lines, [(json!(49_500), json!(49_500)), (json!(12_500), json!(37_500))]);
        let access = ok(&app, Method::GET, "/feature-access/editor?customerId=user_br", DIRECT, None).await;
        assert_eq!(access["usage"]["overage"]["unitPrice"], json!({"amount": 1_250_000, "currency": "brl", "scale": 10_000}), "{access}");

        advance(&app, "2026-09-16T00:00:00.000Z").await;
        let preview = ok(&app, Method::POST, &format!("/subscriptions/{sub}/preview-change"), DIRECT, Some(json!({"planId": business}))).await;
        assert_eq!((&preview["currency"], &preview["currentPlanCredit"], &preview["newPlanCharge"], &preview["estimatedTotal"]),
            (&json!("brl"), &json!(24_750), &json!(149_500), &json!(124_750)), "{preview}");
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/change-plan"), DIRECT, Some(json!({"newPlanId": business}))).await;
        let view = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), LEGACY, None).await;
        assert_eq!(view["plan"]["basePrice"], json!(149_500), "{view}");
        let change = invoices(&app, &sub).await.into_iter().find(|i| i["invoiceType"] == json!("plan_change")).unwrap();
        assert_eq!((&change["currency"], &change["total"]), (&json!("brl"), &json!(124_750)), "{change}");
        let access = ok(&app, Method::GET, "/feature-access/editor?customerId=user_br", DIRECT, None).await;
        assert_eq!(access["usage"]["overage"]["unitPrice"]["amount"], json!(1_000_000), "{access}");

        advance(&app, "2026-10-16T00:00:00.000Z").await;
        let renewal = invoices(&app, &sub).await.into_iter()
            .find(|i| i["periodStart"] == json!("2026-10-16T00:00:00.000Z")).unwrap();
        assert_eq!((&renewal["currency"], &renewal["total"]), (&json!("brl"), &json!(149_500)), "{renewal}");

        // A balance plan's included balance is the regional entry's, in its currency.
        let wallet = ok(&app, Method::POST, "/plans", DIRECT, Some(json!({"name": "Wallet", "code": "wallet", "consumptionModel": "balance"}))).await;
        let wallet = wallet["id"].as_str().unwrap().to_owned();
        ok(&app, Method::POST, &format!("/plans/{wallet}/prices"), DIRECT,
            Some(json!({"billingInterval": "monthly", "price": 1_000, "includedBalance": 100_000, "isDefault": true}))).await;
        ok(&app, Method::PUT, &format!("/plans/{wallet}/regional"), DIRECT, Some(json!({"currency": "brl", "exchangeRate": 5}))).await;
        app.create_customer(&json!({"email": "w@example.test", "id": "user_w", "address": {"country": "BR"}})).await;
        let held = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_w", "planId": wallet}))).await;
        let held = ok(&app, Method::GET, &format!("/subscriptions/{}", held["id"].as_str().unwrap()), DIRECT, None).await;
        assert_eq!(held["balance"], json!({"remaining": 500_000, "included": 500_000, "currency": "brl"}), "{held}");
    }
}
