//! Offers, promo codes and discounts over HTTP (`commerce.md` §4): commerce scenario 2 through
//! four renewals, codes in both generations, apply and remove on a live subscription, and the
//! refusals.

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{advance, data, delivered, freeze, invoices, ok};
use reqwest::Method;
use serde_json::{Value, json};

/// (lineType, amount, discountType, discountValue, discountName) of each line.
fn lines(invoice: &Value) -> Vec<(Value, Value, Value, Value, Value)> {
    invoice["lineItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["lineType"].clone(),
                l["amount"].clone(),
                l["discountType"].clone(),
                l["discountValue"].clone(),
                l["discountName"].clone(),
            )
        })
        .collect()
}

fn totals(invoice: &Value) -> (i64, i64, i64) {
    (
        invoice["subtotal"].as_i64().unwrap(),
        invoice["discountAmount"].as_i64().unwrap(),
        invoice["total"].as_i64().unwrap(),
    )
}

async fn refused(app: &TestApp, method: Method, path: &str, body: Value, status: u16) -> Value {
    let response = send(app, method, path, DIRECT, Some(body)).await;
    error_of(&json_with_status(response, status).await, DIRECT)
}

on_both_backends! {
    /// Commerce scenario 2: LAUNCH50 (50 % for three cycles, one redemption) on `pro` with six
    /// seats: 7450 on Sep 1, Oct 1 and Nov 1, 12400 from Dec 1; the code is then used up.
    async fn a_promo_code_halves_the_base_for_three_renewals_and_never_the_seats(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        let offer = ok(&app, Method::POST, "/offers", DIRECT, Some(json!({"name": "Launch 50", "phases": [{"type": "percentage", "durationCycles": 3, "percentage": 5000}]}))).await;
        let offer_id = offer["id"].as_str().unwrap().to_owned();
        assert!(offer_id.starts_with("ofr_"), "{offer}");
        assert_eq!(offer, json!({
            "id": offer_id, "name": "Launch 50",
            "phases": [{"type": "percentage", "durationCycles": 3, "durationInterval": null, "percentage": 5000}],
            "metadata": {}, "startsAt": null, "endsAt": null, "active": true,
            "createdAt": "2026-09-01T00:00:00.000Z", "updatedAt": "2026-09-01T00:00:00.000Z", "object": "offer", "livemode": false,
        }));
        let code = ok(&app, Method::POST, "/promo-codes", DIRECT, Some(json!({"code": "LAUNCH50", "offerId": offer_id, "maxRedemptions": 1}))).await;
        let code_id = code["id"].as_str().unwrap().to_owned();
        assert!(code_id.starts_with("prc_"));
        assert_eq!((&code["offerId"], &code["redemptionCount"], &code["isActive"]), (&json!(offer_id), &json!(0), &json!(true)));
        // The legacy shape shows the offer's terms instead of its id.
        let legacy = ok(&app, Method::GET, &format!("/promo-codes/{code_id}"), LEGACY, None).await;
        assert_eq!((&legacy["discountType"], &legacy["discountValue"], &legacy["durationCycles"], legacy.get("offerId")), (&json!("percentage"), &json!(5000), &json!(3), None));

        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", DIRECT, Some(json!({"url": receiver.url, "events": ["subscription.activated"]}))).await;
        app.create_customer(&json!({"email": "a@initech.test", "id": "user_123"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}, "promoCode": "launch50"}))).await;
        let sub_id = sub["id"].as_str().unwrap().to_owned();
        let applications = sub["offerApplications"].as_array().unwrap();
        assert_eq!(applications.len(), 1, "{sub}");
        let application = &applications[0];
        assert!(application["id"].as_str().unwrap().starts_with("ofa_"));
        assert_eq!((&application["source"], &application["status"], &application["offerId"], &application["name"]), (&json!("promo_code"), &json!("applied"), &json!(offer_id), &json!("Launch 50")));
        assert_eq!((&application["subtotal"], &application["discountAmount"], &application["total"]), (&json!(9900), &json!(4950), &json!(4950)));
        assert_eq!(application["phases"], json!([{"type": "percentage", "durationCycles": 3, "durationInterval": null, "percentage": 5000,
            "startsAt": "2026-09-01T00:00:00.000Z", "endsAt": "2026-12-01T00:00:00.000Z"}]));
        assert_eq!(application["appliesTo"]["type"], json!("plan_price"));

        let first = &invoices(&app, &sub_id).await[0];
        assert_eq!(lines(first), [
            (json!("plan_base"), json!(9900), Value::Null, Value::Null, Value::Null),
            (json!("promo_code_discount"), json!(-4950), json!("percentage"), json!(5000), json!("LAUNCH50")),
            (json!("feature_seats"), json!(2500), Value::Null, Value::Null, Value::Null),
        ]);
        assert_eq!(totals(first), (12_400, 4_950, 7_450));
        let mut seen = 0;
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(data(&events, "subscription.activated")["invoiceTotal"], json!(7_450));
        let legacy = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), LEGACY, None).await;
        assert_eq!(legacy["discount"], json!({"type": "percentage", "value": 5000, "name": "LAUNCH50", "endsAt": "2026-12-01T00:00:00.000Z"}));
        let code = ok(&app, Method::GET, "/promo-codes/launch50", DIRECT, None).await;
        assert_eq!(code["redemptionCount"], json!(1), "codes are found by their code in any case");

        for month in ["2026-10-01", "2026-11-01"] {
            advance(&app, &format!("{month}T00:00:00.000Z")).await;
            let renewal = invoices(&app, &sub_id).await.into_iter().find(|i| i["periodStart"] == json!(format!("{month}T00:00:00.000Z"))).unwrap();
            assert_eq!(totals(&renewal), (12_400, 4_950, 7_450), "{month}");
        }
        advance(&app, "2026-12-01T00:00:00.000Z").await;
        let december = invoices(&app, &sub_id).await.into_iter().find(|i| i["periodStart"] == json!("2026-12-01T00:00:00.000Z")).unwrap();
        assert_eq!(totals(&december), (12_400, 0, 12_400));
        let after = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), DIRECT, None).await;
        assert_eq!(after["offerApplications"][0]["status"], json!("expired"));
        let legacy = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), LEGACY, None).await;
        assert_eq!(legacy["discount"], Value::Null);

        app.create_customer(&json!({"email": "b@initech.test", "id": "user_124"})).await;
        let error = refused(&app, Method::POST, "/subscriptions", json!({"customerId": "user_124", "planCode": "pro", "promoCode": "LAUNCH50"}), 400).await;
        assert_eq!((&error["code"], &error["param"], &error["details"]), (&json!("offer_not_applicable"), &json!("promoCode"), &json!({"reason": "max_redemptions_reached"})));
        let listed = ok(&app, Method::GET, "/subscriptions?customerId=user_124", DIRECT, None).await;
        assert_eq!(listed["data"], json!([]), "nothing was created");
    }
}

on_both_backends! {
    /// A direct offer applied to a live subscription starts at the next period (`discount`
    /// lines), can be removed until then, and not once it runs; a legacy code makes its own
    /// offer.
    async fn an_offer_applied_later_discounts_from_the_next_period(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "c@initech.test", "id": "user_c"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_c", "planCode": "pro"}))).await;
        let sub_id = sub["id"].as_str().unwrap().to_owned();
        let fixed = ok(&app, Method::POST, "/offers", DIRECT, Some(json!({"name": "Fixed 29", "phases": [{"type": "fixed_price", "durationCycles": 1, "prices": [{"currency": "usd", "amount": 2900}]}]}))).await;
        let fixed_id = fixed["id"].as_str().unwrap();
        let applied = ok(&app, Method::PUT, &format!("/subscriptions/{sub_id}/offer"), DIRECT, Some(json!({"offerId": fixed_id}))).await;
        let application = &applied["offerApplications"][0];
        assert_eq!((&application["source"], &application["phases"][0]["startsAt"], &application["phases"][0]["price"]), (&json!("direct"), &json!("2026-10-01T00:00:00.000Z"), &json!(2900)));
        // Removed before it starts, then applied again.
        let removed = ok(&app, Method::DELETE, &format!("/subscriptions/{sub_id}/offer"), DIRECT, None).await;
        assert_eq!(removed["offerApplications"][0]["status"], json!("expired"));
        let error = refused(&app, Method::PUT, &format!("/subscriptions/{sub_id}/offer"), json!({"offerId": "ofr_unknown"}), 404).await;
        assert_eq!(error["code"], json!("offer_not_found"));
        ok(&app, Method::PUT, &format!("/subscriptions/{sub_id}/offer"), DIRECT, Some(json!({"offerId": fixed_id}))).await;
        let error = refused(&app, Method::PUT, &format!("/subscriptions/{sub_id}/offer"), json!({"offerId": fixed_id}), 400).await;
        assert_eq!((&error["code"], &error["details"]["reason"]), (&json!("offer_not_applicable"), &json!("offer_conflict")), "one discount at a time");

        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let october = invoices(&app, &sub_id).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!(lines(&october)[1], (json!("discount"), json!(-7000), json!("amount"), json!(7000), json!("Fixed 29")));
        assert_eq!(totals(&october), (9_900, 7_000, 2_900));
        let error = refused(&app, Method::DELETE, &format!("/subscriptions/{sub_id}/offer"), json!({}), 400).await;
        assert_eq!(error["code"], json!("offer_not_applicable"), "a running offer stays");
        advance(&app, "2026-11-01T00:00:00.000Z").await;
        let november = invoices(&app, &sub_id).await.into_iter().find(|i| i["periodStart"] == json!("2026-11-01T00:00:00.000Z")).unwrap();
        assert_eq!(totals(&november), (9_900, 0, 9_900));

        // A legacy code: its own offer, named after it, shown with its terms.
        let legacy = ok(&app, Method::POST, "/promo-codes", LEGACY, Some(json!({"code": "SAVE10", "discountType": "amount", "discountValue": 1000, "durationCycles": 1}))).await;
        assert_eq!((&legacy["discountType"], &legacy["discountValue"], &legacy["durationCycles"], &legacy["billingInterval"]), (&json!("amount"), &json!(1000), &json!(1), &Value::Null));
        let direct = ok(&app, Method::GET, "/promo-codes/SAVE10", DIRECT, None).await;
        let offer = ok(&app, Method::GET, &format!("/offers/{}", direct["offerId"].as_str().unwrap()), DIRECT, None).await;
        assert_eq!((&offer["name"], &offer["phases"][0]["amounts"]), (&json!("SAVE10"), &json!([{"currency": "usd", "amount": 1000}])));
        let updated = ok(&app, Method::PATCH, "/promo-codes/SAVE10", DIRECT, Some(json!({"maxRedemptions": 5, "active": false}))).await;
        assert_eq!((&updated["maxRedemptions"], &updated["isActive"]), (&json!(5), &json!(false)));
        let cleared = ok(&app, Method::PATCH, "/promo-codes/SAVE10", DIRECT, Some(json!({"maxRedemptions": null}))).await;
        assert_eq!(cleared["maxRedemptions"], Value::Null);

        // Offers list newest first, and a deleted one is gone (its applications stay).
        let listed = ok(&app, Method::GET, "/offers?limit=1", DIRECT, None).await;
        assert_eq!((listed["data"].as_array().unwrap().len(), &listed["hasMore"]), (1, &json!(true)));
        let deleted = ok(&app, Method::DELETE, &format!("/offers/{fixed_id}"), DIRECT, None).await;
        assert_eq!(deleted, json!({"deleted": true, "object": "offer", "livemode": false}));
        let error = refused(&app, Method::PATCH, &format!("/offers/{fixed_id}"), json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10}]}), 404).await;
        assert_eq!(error["code"], json!("offer_not_found"));
        let after = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), DIRECT, None).await;
        assert_eq!(after["offerApplications"].as_array().unwrap().len(), 2);
    }
}

on_both_backends! {
    async fn bad_offers_and_codes_are_refused_and_change_nothing(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        let bad_offers = [
            (json!({"name": "x", "phases": []}), "phases"),
            (json!({"name": "", "phases": [{"type": "percentage", "percentage": 10}]}), "name"),
            (json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10001}]}), "phases.0.percentage"),
            (json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10, "durationCycles": 1}, {"type": "free_trial", "durationDays": 7}]}), "phases.1.type"),
            (json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10}, {"type": "percentage", "percentage": 20, "durationCycles": 1}]}), "phases.0.durationCycles"),
            (json!({"name": "x", "phases": [{"type": "amount_off", "durationCycles": 1, "amounts": [{"currency": "usd", "amount": 0}]}]}), "phases.0.amounts.0.amount"),
            (json!({"name": "x", "phases": [{"type": "amount_off", "amounts": [{"currency": "xyz", "amount": 5}]}]}), "phases.0.amounts.0.currency"),
            (json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10, "durationInterval": "monthly"}]}), "phases.0.durationInterval"),
            (json!({"name": "x", "phases": [{"type": "free_trial", "durationDays": 731}]}), "phases.0.durationDays"),
            (json!({"name": "x", "phases": [{"type": "percentage", "percentage": 10}], "startsAt": "2026-10-01T00:00:00.000Z", "endsAt": "2026-09-01T00:00:00.000Z"}), "endsAt"),
        ];
        for (body, param) in bad_offers {
            let error = refused(&app, Method::POST, "/offers", body.clone(), 400).await;
            assert_eq!((&error["code"], &error["param"]), (&json!("validation_error"), &json!(param)), "{body}");
        }
        let listed = ok(&app, Method::GET, "/offers", DIRECT, None).await;
        assert_eq!(listed["data"], json!([]));

        let trial_only = ok(&app, Method::POST, "/offers", DIRECT, Some(json!({"name": "Trial", "phases": [{"type": "free_trial", "durationDays": 14}]}))).await;
        let ten = ok(&app, Method::POST, "/offers", DIRECT, Some(json!({"name": "Ten", "phases": [{"type": "percentage", "percentage": 1000}]}))).await;
        let (trial_id, ten_id) = (trial_only["id"].as_str().unwrap(), ten["id"].as_str().unwrap());
        let error = refused(&app, Method::POST, "/promo-codes", json!({"code": "TRIAL", "offerId": trial_id}), 404).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("offer_not_found"), &json!("offerId")), "a code needs a discount");
        let bad_codes = [
            (json!({"code": "has space", "offerId": ten_id}), 400, "validation_error", "code"),
            (json!({"code": "X", "offerId": ten_id, "discountType": "percentage", "discountValue": 10}), 400, "validation_error", "offerId"),
            (json!({"code": "X", "offerId": ten_id, "maxRedemptions": 0}), 400, "validation_error", "maxRedemptions"),
            (json!({"code": "X", "offerId": ten_id, "expiresAt": "2026-08-01T00:00:00.000Z"}), 400, "validation_error", "expiresAt"),
            (json!({"code": "X", "offerId": ten_id, "planIds": ["pln_01JAAAAAAAAAAAAAAAAAAAAAAA"]}), 404, "plan_not_found", "planIds"),
            (json!({"code": "X"}), 400, "validation_error", "offerId"),
        ];
        for (body, status, code, param) in bad_codes {
            let error = refused(&app, Method::POST, "/promo-codes", body.clone(), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{body}");
        }
        let legacy = send(&app, Method::POST, "/promo-codes", LEGACY, Some(json!({"code": "FULL", "discountType": "percentage", "discountValue": 10000}))).await;
        assert_eq!(error_of(&json_with_status(legacy, 400).await, LEGACY)["param"], json!("discountValue"), "legacy codes stay below 100 %");
        ok(&app, Method::POST, "/promo-codes", DIRECT, Some(json!({"code": "Ten", "offerId": ten_id, "expiresAt": "2026-09-10T00:00:00.000Z", "billingInterval": "yearly"}))).await;
        let error = refused(&app, Method::POST, "/promo-codes", json!({"code": "TEN", "offerId": ten_id}), 409).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("duplicate"), &json!("code")), "codes are unique in any case");

        app.create_customer(&json!({"email": "d@initech.test", "id": "user_d"})).await;
        let subscribe = |extra: Value| {
            let mut body = json!({"customerId": "user_d", "planCode": "pro"});
            body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            body
        };
        let cases = [
            (json!({"promoCode": "NOPE"}), 404, "promo_code_not_found", "promoCode", Value::Null),
            (json!({"promoCode": "ten"}), 400, "offer_not_applicable", "promoCode", json!({"reason": "interval_not_eligible"})),
            (json!({"offerId": "ofr_unknown"}), 404, "offer_not_found", "offerId", Value::Null),
            (json!({"promoCode": "ten", "offerId": ten_id}), 400, "validation_error", "promoCode", Value::Null),
            (json!({"promoCode": "ten", "customTrialDays": 5}), 400, "validation_error", "customTrialDays", Value::Null),
        ];
        for (extra, status, code, param, details) in cases {
            let error = refused(&app, Method::POST, "/subscriptions", subscribe(extra.clone()), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{extra}");
            if !details.is_null() {
                assert_eq!(error["details"], details, "{extra}");
            }
        }
        ok(&app, Method::PATCH, &format!("/offers/{ten_id}"), DIRECT, Some(json!({"name": "Ten", "phases": [{"type": "percentage", "percentage": 1000}], "active": false}))).await;
        let error = refused(&app, Method::POST, "/subscriptions", subscribe(json!({"offerId": ten_id})), 400).await;
        assert_eq!(error["details"], json!({"reason": "offer_not_selectable"}));
        let error = refused(&app, Method::PATCH, &format!("/offers/{ten_id}"), json!({"name": "Ten", "phases": [{"type": "free_trial", "durationDays": 3}]}), 400).await;
        assert_eq!(error["param"], json!("phases"), "a code still redeems it");
        advance(&app, "2026-09-11T00:00:00.000Z").await;
        let error = refused(&app, Method::POST, "/subscriptions", subscribe(json!({"promoCode": "ten", "billingInterval": "monthly"})), 409).await;
        assert_eq!(error["code"], json!("promo_code_expired"));
        let listed = ok(&app, Method::GET, "/subscriptions?customerId=user_d", DIRECT, None).await;
        assert_eq!(listed["data"], json!([]), "no refusal created a subscription");
    }
}

on_both_backends! {
    /// A price's introductory offer (legacy `introOffer`) applies to subscriptions that choose
    /// nothing else, blocks promo codes, gives way to custom terms, and can be detached.
    async fn an_introductory_offer_applies_unless_other_terms_replace_it(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let plan_id = pro_plan(&app).await;
        let plan = ok(&app, Method::GET, &format!("/plans/{plan_id}"), DIRECT, None).await;
        let price_id = plan["prices"][0]["id"].as_str().unwrap().to_owned();
        let price = ok(&app, Method::PUT, &format!("/plans/{plan_id}/prices/{price_id}"), LEGACY,
            Some(json!({"introOffer": {"enabled": true, "discountType": "percentage", "discountValue": 2000, "durationCycles": 2}}))).await;
        assert_eq!(price["introOffer"], json!({"enabled": true, "discountType": "percentage", "discountValue": 2000, "durationCycles": 2}));
        let direct = ok(&app, Method::GET, &format!("/plans/{plan_id}"), DIRECT, None).await;
        let offer_id = direct["prices"][0]["offerId"].as_str().unwrap().to_owned();
        let offer = ok(&app, Method::GET, &format!("/offers/{offer_id}"), DIRECT, None).await;
        assert_eq!(offer["name"], json!("Pro intro"));
        let legacy_plan = ok(&app, Method::GET, &format!("/plans/{plan_id}"), LEGACY, None).await;
        assert_eq!(legacy_plan["prices"][0]["introOffer"]["discountValue"], json!(2000));

        app.create_customer(&json!({"email": "j@initech.test", "id": "user_j"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_j", "planCode": "pro"}))).await;
        let application = &sub["offerApplications"][0];
        assert_eq!((&application["source"], &application["offerId"], &application["name"]), (&json!("introductory"), &json!(offer_id), &json!("Pro intro")));
        let first = &invoices(&app, sub["id"].as_str().unwrap()).await[0];
        assert_eq!(lines(first)[1], (json!("discount"), json!(-1980), json!("percentage"), json!(2000), json!("Pro intro")));
        assert_eq!(totals(first), (9_900, 1_980, 7_920));

        // A promo code cannot replace it; custom terms can.
        let ten = ok(&app, Method::POST, "/offers", DIRECT, Some(json!({"name": "Ten", "phases": [{"type": "percentage", "percentage": 1000}]}))).await;
        ok(&app, Method::POST, "/promo-codes", DIRECT, Some(json!({"code": "TEN", "offerId": ten["id"]}))).await;
        app.create_customer(&json!({"email": "k@initech.test", "id": "user_k"})).await;
        let error = refused(&app, Method::POST, "/subscriptions", json!({"customerId": "user_k", "planCode": "pro", "promoCode": "TEN"}), 409).await;
        assert_eq!((&error["code"], &error["param"]), (&json!("intro_offer_active"), &json!("promoCode")));
        let custom = ok(&app, Method::POST, "/subscriptions", LEGACY, Some(json!({"customerId": "user_k", "planCode": "pro",
            "introOffer": {"discountType": "amount", "discountValue": 1000, "durationCycles": 1}}))).await;
        assert_eq!(custom["discount"], json!({"type": "amount", "value": 1000, "name": "Custom discount", "endsAt": "2026-10-01T00:00:00.000Z"}));
        let detail = ok(&app, Method::GET, &format!("/subscriptions/{}", custom["id"].as_str().unwrap()), DIRECT, None).await;
        assert_eq!((&detail["offerApplications"][0]["source"], &detail["offerApplications"][0]["offerId"]), (&json!("custom"), &Value::Null));
        let error = refused(&app, Method::POST, "/subscriptions", json!({"customerId": "user_k", "planCode": "pro",
            "introOffer": {"discountType": "percentage", "discountValue": 10000, "durationCycles": 1}}), 400).await;
        assert_eq!(error["param"], json!("introOffer.discountValue"));

        // Detached: the next subscription starts at the full price.
        let price = ok(&app, Method::PUT, &format!("/plans/{plan_id}/prices/{price_id}"), LEGACY, Some(json!({"introOffer": {"enabled": false}}))).await;
        assert_eq!(price["introOffer"], Value::Null);
        app.create_customer(&json!({"email": "l@initech.test", "id": "user_l"})).await;
        let plain = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_l", "planCode": "pro"}))).await;
        assert_eq!(plain["offerApplications"], json!([]));
    }
}
