//! Customer credits over HTTP (`commerce.md` §5): granted, used by renewals oldest first,
//! revoked, and refused where the contract says.

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{advance, freeze, invoices};
use reqwest::Method;
use serde_json::{Value, json};

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

on_both_backends! {
    /// Commerce scenario 3: two credits pay a renewal oldest first (12400 → 0), the rest of the
    /// second is revoked, and the next renewal is paid in full.
    async fn credits_pay_renewals_oldest_first_until_revoked(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "g@globex.test", "id": "user_456", "fullName": "Globex"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_456", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        freeze(&app, "2026-09-05T00:00:00.000Z").await;
        let outage = ok(&app, Method::POST, "/customers/user_456/credits", Some(json!({"amount": 10_000, "currency": "USD", "reason": "Outage"}))).await;
        let outage_id = outage["id"].as_str().unwrap().to_owned();
        assert!(outage_id.starts_with("crd_"), "{outage}");
        assert_eq!(outage, json!({
            "id": outage_id, "amount": 10_000, "appliedAmount": 0, "reversedAmount": 0, "revokedAmount": 0,
            "remainingAmount": 10_000, "currency": "usd", "reason": "Outage", "source": "api", "expiresAt": null,
            "createdAt": "2026-09-05T00:00:00.000Z", "object": "customer_credit", "livemode": false,
        }));
        freeze(&app, "2026-09-20T00:00:00.000Z").await;
        let goodwill = ok(&app, Method::POST, "/customers/user_456/credits", Some(json!({"amount": 5_000, "currency": "usd", "reason": "Goodwill"}))).await;
        let goodwill_id = goodwill["id"].as_str().unwrap().to_owned();

        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let renewal = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!((&renewal["subtotal"], &renewal["creditApplied"], &renewal["total"]), (&json!(12_400), &json!(12_400), &json!(0)));
        let lines: Vec<_> = renewal["lineItems"].as_array().unwrap().iter().map(|l| (l["lineType"].clone(), l["amount"].clone(), l["description"].clone())).collect();
        assert_eq!(lines[2..], [(json!("credit"), json!(-10_000), json!("Credit: Outage")), (json!("credit"), json!(-2_400), json!("Credit: Goodwill"))]);
        let listed = ok(&app, Method::GET, "/customers/user_456/credits", None).await;
        let remaining: Vec<_> = listed["data"].as_array().unwrap().iter().map(|c| (c["reason"].clone(), c["appliedAmount"].clone(), c["remainingAmount"].clone())).collect();
        assert_eq!(remaining, [(json!("Goodwill"), json!(2_400), json!(2_600)), (json!("Outage"), json!(10_000), json!(0))]);
        assert_eq!(listed["hasMore"], json!(false));

        let revoked = ok(&app, Method::POST, &format!("/customers/user_456/credits/{goodwill_id}/revoke"), None).await;
        assert_eq!(revoked, json!({"id": goodwill_id, "remainingAmount": 0, "revokedAmount": 2_600, "currency": "usd", "object": "customer_credit", "livemode": false}));
        let again = ok(&app, Method::POST, &format!("/customers/user_456/credits/{goodwill_id}/revoke"), None).await;
        assert_eq!(again, revoked, "revoking again changes nothing");

        advance(&app, "2026-11-01T00:00:00.000Z").await;
        let next = invoices(&app, &sub).await.into_iter().find(|i| i["periodStart"] == json!("2026-11-01T00:00:00.000Z")).unwrap();
        assert_eq!((&next["creditApplied"], &next["total"]), (&json!(0), &json!(12_400)));
    }
}

on_both_backends! {
    async fn refused_credits_name_their_field_and_grant_nothing(app: TestApp) {
        app.create_customer(&json!({"email": "h@acme.test", "id": "user_h"})).await;
        for (body, field) in [
            (json!({"amount": 0, "currency": "usd", "reason": "x"}), "amount"),
            (json!({"amount": 100_000_000_001_i64, "currency": "usd", "reason": "x"}), "amount"),
            (json!({"amount": 10, "currency": "xyz", "reason": "x"}), "currency"),
            (json!({"amount": 10, "currency": "usd", "reason": ""}), "reason"),
            (json!({"amount": 10, "currency": "usd", "reason": "x", "expiresAt": "2020-01-01T00:00:00Z"}), "expiresAt"),
            (json!({"currency": "usd", "reason": "x"}), "amount"),
        ] {
            let refused = json_with_status(send(&app, Method::POST, "/customers/user_h/credits", DIRECT, Some(body.clone())).await, 400).await;
            assert_eq!(error_of(&refused, DIRECT)["param"], json!(field), "{body}");
        }
        let fractional = json_with_status(send(&app, Method::POST, "/customers/user_h/credits", DIRECT, Some(json!({"amount": 1.5, "currency": "usd", "reason": "x"}))).await, 400).await;
        assert_eq!(error_of(&fractional, DIRECT)["type"], json!("validation_error"));
        let nobody = json_with_status(send(&app, Method::POST, "/customers/nobody/credits", DIRECT, Some(json!({"amount": 10, "currency": "usd", "reason": "x"}))).await, 404).await;
        assert_eq!(error_of(&nobody, DIRECT)["code"], json!("customer_not_found"));
        let unknown = json_with_status(send(&app, Method::POST, "/customers/user_h/credits/crd_01J0000000000000000000000Z/revoke", DIRECT, None).await, 404).await;
        assert_eq!((&error_of(&unknown, DIRECT)["code"], &error_of(&unknown, DIRECT)["param"]), (&json!("not_found"), &json!("creditId")));
        let listed = json_with_status(send(&app, Method::GET, "/customers/user_h/credits", LEGACY, None).await, 200).await;
        assert_eq!(listed, json!({"success": true, "data": []}));
    }
}
