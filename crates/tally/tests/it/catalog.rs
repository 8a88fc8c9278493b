//! Features and plans over HTTP (`catalog.md` §3–§4), in both spellings and generations.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

pub async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    version: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut request = app.request(method, path, version);
    if let Some(body) = body {
        request = request.json(&body);
    }
    request.send().await.unwrap()
}

/// Creates the seats feature, the `pro` plan, its monthly price and the plan feature of
/// examples.md scenario 1; returns the plan id.
pub async fn pro_plan(app: &TestApp) -> String {
    json_with_status(
        app.post(
            "/features",
            DIRECT,
            &json!({"name": "Editor seats", "code": "editor", "type": "seats", "unitName": "seat"}),
        )
        .await,
        200,
    )
    .await;
    let plan = json_with_status(
        app.post(
            "/plans",
            DIRECT,
            &json!({"name": "Pro", "code": "pro", "description": "For growing teams"}),
        )
        .await,
        200,
    )
    .await;
    let id = plan["id"].as_str().unwrap().to_owned();
    json_with_status(
        app.post(
            &format!("/plans/{id}/prices"),
            DIRECT,
            &json!({"billingInterval": "monthly", "price": 9900}),
        )
        .await,
        200,
    )
    .await;
    json_with_status(
        app.post(
            &format!("/plans/{id}/features"),
            DIRECT,
            &json!({"featureId": "editor", "includedAmount": 5, "overage": {"enabled": true, "unitPrice": 250000}}),
        )
        .await,
        200,
    )
    .await;
    id
}

on_both_backends! {
    async fn features_are_created_read_updated_and_deleted_in_both_spellings(app: TestApp) {
        let legacy = json_with_status(
            app.post("/features/manage", LEGACY, &json!({"name": "Editor seats", "code": "editor", "type": "seats", "unitName": "seat"})).await,
            200,
        )
        .await;
        let direct = json_with_status(
            app.post("/features", DIRECT, &json!({"name": "SSO", "code": "sso", "type": "boolean"})).await,
            200,
        )
        .await;
        let updated = json_with_status(
            send(&app, Method::PUT, "/features/editor/manage", LEGACY, Some(json!({"description": "People who edit"}))).await,
            200,
        )
        .await;
        let cleared = json_with_status(
            send(&app, Method::PATCH, "/features/editor", DIRECT, Some(json!({"unitName": null, "name": "Editors"}))).await,
            200,
        )
        .await;
        let listed = json_with_status(app.get("/features", LEGACY).await, 200).await;
        let deleted = json_with_status(send(&app, Method::DELETE, "/features/sso", DIRECT, None).await, 200).await;
        let gone = json_with_status(app.get("/features/sso", DIRECT).await, 404).await;

        let feature = &legacy["data"];
        assert!(feature["id"].as_str().unwrap().starts_with("ftr_"));
        assert_eq!(
            feature.as_object().unwrap().iter().filter(|(k, _)| *k != "id").collect::<Vec<_>>(),
            json!({"name": "Editor seats", "code": "editor", "type": "seats", "description": null, "unitName": "seat",
                   "createdAt": "2026-06-01T00:00:00.000Z", "updatedAt": "2026-06-01T00:00:00.000Z", "object": "feature", "livemode": false})
                .as_object().unwrap().iter().collect::<Vec<_>>()
        );
        assert_eq!(direct["type"], "boolean");
        assert_eq!(updated["data"]["description"], "People who edit");
        assert_eq!(cleared["unitName"], Value::Null);
        assert_eq!(cleared["name"], "Editors");
        assert_eq!(cleared["description"], "People who edit");
        assert_eq!(listed["data"].as_array().unwrap().len(), 2);
        assert!(listed.get("hasMore").is_none(), "legacy arrays are not paginated: {listed}");
        assert_eq!(deleted, json!({"id": direct["id"], "deleted": true, "object": "feature", "livemode": false}));
        assert_eq!(error_of(&gone, DIRECT)["code"], "feature_not_found");
    }
}

on_both_backends! {
    async fn feature_rules_are_enforced_with_documented_codes(app: TestApp) {
        app.post("/features", DIRECT, &json!({"name": "Editor seats", "code": "editor", "type": "seats"})).await;
        let plan = pro_plan_without_feature(&app).await;
        app.post(&format!("/plans/{plan}/features"), DIRECT, &json!({"featureId": "editor"})).await;

        let cases = [
            (json!({"name": "Other", "code": "editor", "type": "seats"}), 409, "feature_already_exists", Value::Null, "a taken code"),
            (json!({"name": "Editor seats", "code": "other", "type": "seats"}), 409, "feature_already_exists", Value::Null, "a taken name"),
            (json!({"name": "X", "code": "Bad-Code", "type": "seats"}), 400, "validation_error", json!("code"), "a malformed code"),
            (json!({"name": "X", "code": "x"}), 400, "validation_error", json!("type"), "no type"),
            (json!({"name": "X", "code": "x", "type": "metered"}), 400, "validation_error", json!("type"), "an unknown type"),
        ];
        for (body, status, code, param, description) in cases {
            let error = error_of(&json_with_status(app.post("/features", DIRECT, &body).await, status).await, DIRECT);
            assert_eq!(error["code"], code, "{description}");
            assert_eq!(error["param"], param, "{description}");
        }
        let in_use = json_with_status(send(&app, Method::DELETE, "/features/editor/manage", LEGACY, None).await, 409).await;
        assert_eq!(error_of(&in_use, LEGACY)["code"], "feature_in_use");
        let empty_update = json_with_status(send(&app, Method::PATCH, "/features/editor", DIRECT, Some(json!({}))).await, 400).await;
        assert_eq!(error_of(&empty_update, DIRECT)["code"], "validation_error");
    }
}

async fn pro_plan_without_feature(app: &TestApp) -> String {
    let plan = json_with_status(
        app.post("/plans", DIRECT, &json!({"name": "Pro", "code": "pro"}))
            .await,
        200,
    )
    .await;
    plan["id"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn a_plan_shows_its_prices_and_features_per_generation(app: TestApp) {
        let id = pro_plan(&app).await;
        app.post(&format!("/plans/{id}/prices"), DIRECT, &json!({"billingInterval": "yearly", "price": 99000, "trialDays": 14})).await;

        let legacy = json_with_status(app.get("/plans/pro", LEGACY).await, 200).await;
        let direct = json_with_status(app.get(&format!("/plans/{id}"), DIRECT).await, 200).await;

        let plan = &legacy["data"];
        assert_eq!(plan["id"], id.as_str());
        assert_eq!(plan["features"], json!([{"code": "editor", "name": "Editor seats", "type": "seats", "unitName": "seat", "enabled": true,
            "includedAmount": 5, "unlimited": false, "overage": {"enabled": true, "model": "per_unit", "unitPrice": 250000}, "regionalPrices": []}]));
        assert_eq!(plan["prices"], json!([
            {"billingInterval": "monthly", "price": 9900, "isDefault": true, "trialDays": 0, "includedBalance": null, "includedCredits": null, "introOffer": null, "regionalPrices": []},
            {"billingInterval": "yearly", "price": 99000, "isDefault": false, "trialDays": 14, "includedBalance": null, "includedCredits": null, "introOffer": null, "regionalPrices": []}
        ]));
        assert_eq!((plan["isDefault"].clone(), plan["sortOrder"].clone(), plan["exchangeRates"].clone()), (json!(false), json!(0), json!([])));
        let price = &direct["prices"][0];
        assert!(price["id"].as_str().unwrap().starts_with("pp_"));
        assert_eq!(price["offerId"], Value::Null);
        assert_eq!(price["metadata"], json!({}));
        assert_eq!(price["marketPrices"], json!([]));
        assert_eq!(direct["features"], plan["features"]);
    }
}

on_both_backends! {
    async fn prices_follow_the_interval_and_default_rules(app: TestApp) {
        let id = pro_plan(&app).await;
        let prices = format!("/plans/{id}/prices");

        let duplicate = json_with_status(app.post(&prices, DIRECT, &json!({"billingInterval": "monthly", "price": 1})).await, 409).await;
        let semiannual_legacy = json_with_status(app.post(&prices, LEGACY, &json!({"billingInterval": "semiannual", "price": 1})).await, 400).await;
        let semiannual = json_with_status(app.post(&prices, DIRECT, &json!({"billingInterval": "semiannual", "price": 50000})).await, 200).await;
        let negative = json_with_status(app.post(&prices, DIRECT, &json!({"billingInterval": "yearly", "price": -1})).await, 400).await;
        let fractional = json_with_status(app.post(&prices, DIRECT, &json!({"billingInterval": "yearly", "price": 1.5})).await, 400).await;
        let semi_id = semiannual["id"].as_str().unwrap().to_owned();
        let default_legacy = json_with_status(send(&app, Method::PUT, &format!("{prices}/{semi_id}/default"), LEGACY, None).await, 200).await;
        let plan = json_with_status(app.get(&format!("/plans/{id}"), DIRECT).await, 200).await;
        let deleted = json_with_status(send(&app, Method::DELETE, &format!("{prices}/{semi_id}"), LEGACY, None).await, 200).await;
        let after_delete = json_with_status(app.get(&format!("/plans/{id}"), DIRECT).await, 200).await;

        assert_eq!(error_of(&duplicate, DIRECT)["code"], "duplicate");
        assert_eq!(error_of(&semiannual_legacy, LEGACY)["param"], "billingInterval");
        assert_eq!(semiannual["isDefault"], false);
        assert_eq!(error_of(&negative, DIRECT)["param"], "price");
        assert_eq!(error_of(&fractional, DIRECT)["param"], "price");
        assert_eq!(default_legacy, json!({"success": true, "data": {"id": semi_id, "isDefault": true, "object": "plan", "livemode": false}}));
        let defaults: Vec<_> = plan["prices"].as_array().unwrap().iter().map(|p| (p["billingInterval"].clone(), p["isDefault"].clone())).collect();
        assert_eq!(defaults, [(json!("monthly"), json!(false)), (json!("semiannual"), json!(true))]);
        assert_eq!(deleted["data"], json!({"id": semi_id, "deleted": true, "object": "plan", "livemode": false}));
        assert_eq!(after_delete["prices"].as_array().unwrap().len(), 1);
        assert_eq!(after_delete["prices"][0]["isDefault"], true, "the remaining price became the default");
    }
}

on_both_backends! {
    async fn plan_features_visibility_and_deletion(app: TestApp) {
        let id = pro_plan(&app).await;
        app.post("/features", DIRECT, &json!({"name": "SSO", "code": "sso", "type": "boolean"})).await;

        let again = json_with_status(app.post(&format!("/plans/{id}/features"), DIRECT, &json!({"featureId": "editor"})).await, 409).await;
        let no_price = json_with_status(
            app.post(&format!("/plans/{id}/features"), DIRECT, &json!({"featureId": "sso", "overage": {"enabled": true}})).await,
            200,
        )
        .await;
        let updated = json_with_status(
            send(&app, Method::PUT, &format!("/plans/{id}/features/editor"), LEGACY, Some(json!({"includedAmount": 10}))).await,
            200,
        )
        .await;
        let removed = json_with_status(send(&app, Method::DELETE, &format!("/plans/{id}/features/sso"), DIRECT, None).await, 200).await;
        let hidden = json_with_status(send(&app, Method::PUT, &format!("/plans/{id}/visibility"), LEGACY, Some(json!({"isPublic": false}))).await, 200).await;
        let public_list = json_with_status(app.get("/plans", DIRECT).await, 200).await;
        let private_list = json_with_status(app.get("/plans?includePrivate=true", DIRECT).await, 200).await;
        let deleted = json_with_status(send(&app, Method::DELETE, &format!("/plans/{id}/manage"), LEGACY, None).await, 200).await;
        let gone = json_with_status(app.get("/plans/pro", DIRECT).await, 404).await;

        assert_eq!(error_of(&again, DIRECT)["code"], "feature_already_exists");
        assert_eq!(no_price["overage"], json!({"enabled": false, "unitPrice": null}), "boolean features ignore overage");
        assert_eq!(updated["data"]["includedAmount"], 10);
        assert_eq!(updated["data"]["object"], "plan");
        assert_eq!(updated["data"]["overage"], json!({"enabled": true, "unitPrice": 250000}));
        assert_eq!(removed["removed"], true);
        assert_eq!(removed["object"], "plan_feature");
        assert_eq!(hidden["data"], json!({"id": id, "isPublic": false, "object": "plan", "livemode": false}));
        assert_eq!(public_list["data"], json!([]));
        assert_eq!(private_list["data"].as_array().unwrap().len(), 1);
        assert_eq!(deleted["data"]["deleted"], true);
        assert_eq!(error_of(&gone, DIRECT)["code"], "plan_not_found");
    }
}

on_both_backends! {
    async fn plan_validation_names_its_fields(app: TestApp) {
        pro_plan(&app).await;
        let cases = [
            (json!({"name": "Pro 2", "code": "pro"}), 409, "duplicate", "code"),
            (json!({"name": "X", "code": "Not Valid"}), 400, "validation_error", "code"),
            (json!({"code": "x"}), 400, "validation_error", "name"),
            (json!({"name": "X", "code": "x", "consumptionModel": "prepaid"}), 400, "validation_error", "consumptionModel"),
            (json!({"name": "X", "code": "x", "planGroupId": "plg_01J0000000000000000000000Z"}), 404, "plan_group_not_found", "planGroupId"),
        ];
        for (body, status, code, param) in cases {
            let error = error_of(&json_with_status(app.post("/plans/manage", LEGACY, &body).await, status).await, LEGACY);
            assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some(code), Some(param)), "{body}");
        }
        let free = json_with_status(app.post("/plans", DIRECT, &json!({"name": "Free", "code": "free", "isFree": true})).await, 200).await;
        let free_price = json_with_status(
            app.post(&format!("/plans/{}/prices", free["id"].as_str().unwrap()), DIRECT, &json!({"billingInterval": "monthly", "price": 0})).await,
            400,
        )
        .await;
        assert_eq!(error_of(&free_price, DIRECT)["code"], "validation_error");
    }
}

on_both_backends! {
    async fn plans_and_features_page_with_the_documented_cursor(app: TestApp) {
        for n in 0..5 {
            json_with_status(
                app.post("/features", DIRECT, &json!({"name": format!("F{n}"), "code": format!("f{n}"), "type": "boolean"})).await,
                200,
            )
            .await;
            json_with_status(
                app.post("/plans", DIRECT, &json!({"name": format!("P{n}"), "code": format!("p{n}")})).await,
                200,
            )
            .await;
            json_with_status(
                app.post(&format!("/plans/p{n}/features"), DIRECT, &json!({"featureId": format!("f{n}")})).await,
                200,
            )
            .await;
        }
        for (path, code_of) in [("/plans", "code"), ("/features", "code")] {
            let mut codes = Vec::new();
            let mut cursor: Option<String> = None;
            let mut pages = 0;
            loop {
                let query = match &cursor {
                    Some(cursor) => format!("{path}?limit=2&cursor={cursor}"),
                    None => format!("{path}?limit=2"),
                };
                let page = json_with_status(app.get(&query, DIRECT).await, 200).await;
                pages += 1;
                codes.extend(page["data"].as_array().unwrap().iter().map(|item| item[code_of].as_str().unwrap().to_owned()));
                if page["hasMore"] == json!(true) {
                    cursor = Some(page["nextCursor"].as_str().unwrap().to_owned());
                } else {
                    assert!(page.get("nextCursor").is_none(), "{page}");
                    break;
                }
            }
            let prefix = &path[1..2];
            let expected: Vec<String> = (0..5).map(|n| format!("{prefix}{n}")).collect();
            assert_eq!(codes, expected, "{path}");
            assert_eq!(pages, 3, "{path}");
        }
        // Without `limit` (the SDKs send none) a catalog that fits keeps the unpaginated shape,
        // and every plan still carries its features.
        let legacy = json_with_status(app.get("/plans", LEGACY).await, 200).await;
        assert_eq!(legacy.as_object().unwrap().len(), 2, "{legacy}");
        assert_eq!(legacy["data"].as_array().unwrap().len(), 5);
        let direct = json_with_status(app.get("/plans", DIRECT).await, 200).await;
        for (n, plan) in direct["data"].as_array().unwrap().iter().enumerate() {
            assert_eq!(plan["features"][0]["code"], format!("f{n}"), "{plan}");
        }
        let bad = json_with_status(app.get("/features?limit=0", DIRECT).await, 400).await;
        assert_eq!(error_of(&bad, DIRECT)["param"], "limit");
    }
}
