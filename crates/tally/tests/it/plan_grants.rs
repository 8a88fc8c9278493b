//! Plan grants over HTTP (`commerce.md` §6): commerce scenario 5 (a grant for two cycles,
//! access merged, billing unchanged, expiry by the test clock), changes and revocation, and the
//! refusals.

use crate::catalog::send;
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use crate::usage::{advance, delivered, freeze, invoices, names, ok};
use reqwest::Method;
use serde_json::{Value, json};

async fn refused(app: &TestApp, method: Method, path: &str, body: Value, status: u16) -> Value {
    let response = send(app, method, path, DIRECT, Some(body)).await;
    error_of(&json_with_status(response, status).await, DIRECT)
}

/// `starter` (2900, 3 editors) below `pro_capped` (9900, 10 editors and SSO), neither selling
/// extra seats, in one group; `metered` (with overage) in it too, and `solo` outside it.
/// Returns the plan ids by code.
async fn catalog(app: &TestApp) -> std::collections::BTreeMap<&'static str, String> {
    ok(
        app,
        Method::POST,
        "/features",
        DIRECT,
        Some(json!({"name": "Editors", "code": "editor", "type": "seats"})),
    )
    .await;
    ok(
        app,
        Method::POST,
        "/features",
        DIRECT,
        Some(json!({"name": "SSO", "code": "sso", "type": "boolean"})),
    )
    .await;
    let group = ok(
        app,
        Method::POST,
        "/plan-groups",
        DIRECT,
        Some(json!({"name": "Tiers"})),
    )
    .await;
    let group = group["id"].as_str().unwrap().to_owned();
    let mut ids = std::collections::BTreeMap::new();
    for (code, price, editors, sso, overage, grouped) in [
        ("starter", 2_900, 3, false, false, true),
        ("pro_capped", 9_900, 10, true, false, true),
        ("metered", 19_900, 20, true, true, true),
        ("solo", 19_900, 20, true, false, false),
    ] {
        let plan = ok(
            app,
            Method::POST,
            "/plans",
            DIRECT,
            Some(json!({"name": code, "code": code})),
        )
        .await;
        let id = plan["id"].as_str().unwrap().to_owned();
        ok(
            app,
            Method::POST,
            &format!("/plans/{id}/prices"),
            DIRECT,
            Some(json!({"billingInterval": "monthly", "price": price})),
        )
        .await;
        let overage = if overage {
            json!({"enabled": true, "unitPrice": 100_000})
        } else {
            json!({"enabled": false})
        };
        ok(
            app,
            Method::POST,
            &format!("/plans/{id}/features"),
            DIRECT,
            Some(json!({"featureId": "editor", "includedAmount": editors, "overage": overage})),
        )
        .await;
        if sso {
            ok(
                app,
                Method::POST,
                &format!("/plans/{id}/features"),
                DIRECT,
                Some(json!({"featureId": "sso"})),
            )
            .await;
        }
        if grouped {
            ok(
                app,
                Method::POST,
                &format!("/plan-groups/{group}/plans"),
                DIRECT,
                Some(json!({"planId": id})),
            )
            .await;
        }
        ids.insert(code, id);
    }
    ids
}

on_both_backends! {
    /// Commerce scenario 5: on Sep 15 a two-cycle grant of `pro_capped` to a `starter`
    /// subscription anchored Sep 1 ends Nov 1; access is merged meanwhile, the Oct 1 invoice is
    /// still the starter price, and the clock reaching Nov 1 expires it.
    async fn a_grant_lifts_access_for_two_cycles_and_never_the_bill(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let plans = catalog(&app).await;
        app.create_customer(&json!({"email": "g@initech.test", "id": "user_g"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_g", "planCode": "starter"}))).await;
        let sub_id = sub["id"].as_str().unwrap().to_owned();
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", DIRECT, Some(json!({"url": receiver.url, "events": ["plan_grant.created", "plan_grant.expired", "plan_grant.revoked", "plan_grant.updated", "customer.state_changed"]}))).await;
        let mut seen = 0;
        delivered(&app, &receiver, &mut seen).await;
        // Without a grant, SSO is off and 3 editors are included.
        let sso = ok(&app, Method::GET, "/feature-access/sso?customerId=user_g", DIRECT, None).await;
        assert_eq!(sso["allowed"], json!(false), "{sso}");

        freeze(&app, "2026-09-15T00:00:00.000Z").await;
        let grant = ok(&app, Method::POST, "/customers/user_g/plan-grants", DIRECT, Some(json!({
            "subscriptionId": sub_id, "planId": plans["pro_capped"], "reason": "Sales trial", "duration": "cycles", "durationCycles": 2,
        }))).await;
        let grant_id = grant["id"].as_str().unwrap().to_owned();
        assert!(grant_id.starts_with("grt_"), "{grant}");
        assert_eq!((&grant["status"], &grant["expiresAt"], &grant["startsAt"]), (&json!("active"), &json!("2026-11-01T00:00:00.000Z"), &json!("2026-09-15T00:00:00.000Z")));
        assert_eq!((&grant["basePlanId"], &grant["planId"], &grant["duration"], &grant["durationCycles"]), (&json!(plans["starter"]), &json!(plans["pro_capped"]), &json!("cycles"), &json!(2)));
        assert!(grant["planReleaseId"].as_str().unwrap().starts_with("plr_"));
        assert_eq!(grant["events"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect::<Vec<_>>(), [json!("created")]);
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "plan_grant.created"]);
        let created = &events.iter().find(|(n, _)| n == "plan_grant.created").unwrap().1;
        assert_eq!((&created["targetPlanId"], &created["customerId"]), (&json!(plans["pro_capped"]), &json!("user_g")));
        let state = &events.iter().find(|(n, _)| n == "customer.state_changed").unwrap().1;
        assert_eq!(state["trigger"], json!("plan_access_granted"));

        // Access is the better of the two plans; the base shows beside it.
        let sso = ok(&app, Method::GET, "/feature-access/sso?customerId=user_g", DIRECT, None).await;
        assert_eq!((&sso["allowed"], &sso["baseAccess"]), (&json!(true), &json!({"enabled": false})), "{sso}");
        let editor = ok(&app, Method::GET, "/feature-access/editor?customerId=user_g", DIRECT, None).await;
        assert_eq!(editor["baseAccess"], json!({"includedUnits": 3, "unlimited": false}), "{editor}");
        let detail = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), DIRECT, None).await;
        assert_eq!(detail["planGrant"], json!({"id": grant_id, "plan": {"id": plans["pro_capped"], "name": "pro_capped"}, "expiresAt": "2026-11-01T00:00:00.000Z"}));
        let features: Vec<_> = detail["features"].as_array().unwrap().iter().map(|f| (f["code"].clone(), f["baseAccess"].clone())).collect();
        assert!(features.contains(&(json!("sso"), json!({"enabled": false}))), "{features:?}");
        assert!(features.contains(&(json!("editor"), json!({"included": 3, "unlimited": false}))), "{features:?}");
        let editor = detail["features"].as_array().unwrap().iter().find(|f| f["code"] == json!("editor")).unwrap();
        assert_eq!(editor["usage"]["included"], json!(10));
        let legacy = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), LEGACY, None).await;
        assert!(legacy.get("planGrant").is_none(), "the legacy shape shows effective access only");

        advance(&app, "2026-10-01T00:00:00.000Z").await;
        let october = invoices(&app, &sub_id).await.into_iter().find(|i| i["periodStart"] == json!("2026-10-01T00:00:00.000Z")).unwrap();
        assert_eq!(october["total"], json!(2_900), "billing stays on the base plan");
        assert_eq!(october["lineItems"].as_array().unwrap().len(), 1, "the plan base alone");

        advance(&app, "2026-11-01T00:00:00.000Z").await;
        let events = delivered(&app, &receiver, &mut seen).await;
        assert!(names(&events).contains(&"plan_grant.expired"), "{events:?}");
        let ended = events.iter().filter(|(n, _)| n == "customer.state_changed").map(|(_, d)| d["trigger"].clone()).collect::<Vec<_>>();
        assert!(ended.contains(&json!("plan_access_ended")), "{ended:?}");
        let detail = ok(&app, Method::GET, &format!("/subscriptions/{sub_id}"), DIRECT, None).await;
        assert!(detail.get("planGrant").is_none(), "{detail}");
        let listed = ok(&app, Method::GET, "/customers/user_g/plan-grants", DIRECT, None).await;
        assert_eq!(listed["data"][0]["status"], json!("expired"));
        assert_eq!(listed["data"][0]["events"].as_array().unwrap().iter().map(|e| (e["type"].clone(), e["source"].clone())).collect::<Vec<_>>(),
            [(json!("created"), json!("api")), (json!("expired"), json!("system"))]);
        let sso = ok(&app, Method::GET, "/feature-access/sso?customerId=user_g", DIRECT, None).await;
        assert_eq!(sso["allowed"], json!(false));
        assert!(sso.get("baseAccess").is_none(), "no grant, no base access");
    }
}

on_both_backends! {
    async fn grants_change_and_end_as_asked_and_refusals_change_nothing(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let plans = catalog(&app).await;
        app.create_customer(&json!({"email": "h@initech.test", "id": "user_h"})).await;
        app.create_customer(&json!({"email": "i@initech.test", "id": "user_i"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_h", "planCode": "starter"}))).await;
        let sub_id = sub["id"].as_str().unwrap().to_owned();
        let other = ok(&app, Method::POST, "/subscriptions", DIRECT, Some(json!({"customerId": "user_i", "planCode": "starter"}))).await;
        let body = |plan: &str, extra: Value| {
            let mut b = json!({"subscriptionId": sub_id, "planId": plan, "reason": "r", "duration": "until_revoked"});
            b.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            b
        };
        let cases = [
            (body(&plans["solo"], json!({})), 400, "plans_not_in_same_group", "planId"),
            (body(&plans["metered"], json!({})), 400, "validation_error", "planId"),
            (body(&plans["starter"], json!({})), 400, "validation_error", "planId"),
            (body("pln_01JAAAAAAAAAAAAAAAAAAAAAAA", json!({})), 404, "plan_not_found", "planId"),
            (body(&plans["pro_capped"], json!({"duration": "cycles"})), 400, "validation_error", "durationCycles"),
            (body(&plans["pro_capped"], json!({"duration": "cycles", "durationCycles": 37})), 400, "validation_error", "durationCycles"),
            (body(&plans["pro_capped"], json!({"duration": "until_date", "expiresAt": "2026-08-01T00:00:00.000Z"})), 400, "validation_error", "expiresAt"),
            (body(&plans["pro_capped"], json!({"duration": "for_ever"})), 400, "validation_error", "duration"),
            (body(&plans["pro_capped"], json!({"reason": ""})), 400, "validation_error", "reason"),
            (body(&plans["pro_capped"], json!({"subscriptionId": other["id"]})), 404, "subscription_not_found", "subscriptionId"),
        ];
        for (request, status, code, param) in cases {
            let error = refused(&app, Method::POST, "/customers/user_h/plan-grants", request.clone(), status).await;
            assert_eq!((&error["code"], &error["param"]), (&json!(code), &json!(param)), "{request}");
        }
        let error = refused(&app, Method::POST, "/customers/nobody/plan-grants", body(&plans["pro_capped"], json!({})), 404).await;
        assert_eq!(error["code"], json!("customer_not_found"));
        let listed = ok(&app, Method::GET, "/customers/user_h/plan-grants", DIRECT, None).await;
        assert_eq!(listed["data"], json!([]), "no refusal made a grant");

        let grant = ok(&app, Method::POST, "/customers/user_h/plan-grants", DIRECT, Some(body(&plans["pro_capped"], json!({})))).await;
        let grant_id = grant["id"].as_str().unwrap().to_owned();
        assert_eq!(grant["expiresAt"], Value::Null);
        let error = refused(&app, Method::POST, "/customers/user_h/plan-grants", body(&plans["pro_capped"], json!({})), 409).await;
        assert_eq!(error["code"], json!("duplicate"), "one running grant at a time");
        let updated = ok(&app, Method::PATCH, &format!("/customers/user_h/plan-grants/{grant_id}"), DIRECT,
            Some(json!({"reason": "Extended", "duration": "until_date", "expiresAt": "2026-12-15T00:00:00.000Z"}))).await;
        assert_eq!((&updated["duration"], &updated["expiresAt"], &updated["reason"]), (&json!("until_date"), &json!("2026-12-15T00:00:00.000Z"), &json!("Extended")));
        let cycles = ok(&app, Method::PATCH, &format!("/customers/user_h/plan-grants/{grant_id}"), DIRECT,
            Some(json!({"reason": "Two cycles", "duration": "cycles", "durationCycles": 2}))).await;
        assert_eq!(cycles["expiresAt"], json!("2026-11-01T00:00:00.000Z"), "counted from the grant's start");
        let revoked = ok(&app, Method::POST, &format!("/customers/user_h/plan-grants/{grant_id}/revoke"), DIRECT, Some(json!({"reason": "Done"}))).await;
        assert_eq!((&revoked["status"], &revoked["revokedAt"]), (&json!("revoked"), &json!("2026-09-01T00:00:00.000Z")));
        let types: Vec<_> = revoked["events"].as_array().unwrap().iter().map(|e| e["type"].clone()).collect();
        assert_eq!(types, [json!("created"), json!("updated"), json!("updated"), json!("revoked")]);
        let error = refused(&app, Method::POST, &format!("/customers/user_h/plan-grants/{grant_id}/revoke"), json!({"reason": "again"}), 400).await;
        assert_eq!(error["code"], json!("validation_error"), "a revoked grant stays revoked");
        let error = refused(&app, Method::POST, "/customers/user_h/plan-grants/grt_unknown/revoke", json!({"reason": "x"}), 404).await;
        assert_eq!(error["code"], json!("not_found"));
        let error = refused(&app, Method::POST, &format!("/customers/user_i/plan-grants/{grant_id}/revoke"), json!({"reason": "x"}), 404).await;
        assert_eq!(error["code"], json!("not_found"), "another customer's grant");
    }
}
