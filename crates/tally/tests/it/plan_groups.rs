//! Plan groups over HTTP (`lifecycle.md` §3), in both generations.

use crate::catalog::send;
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, LIVE_KEY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

async fn plan(app: &TestApp, code: &str) -> String {
    let plan = json_with_status(
        app.post(
            "/plans",
            DIRECT,
            &json!({"name": code.to_uppercase(), "code": code}),
        )
        .await,
        200,
    )
    .await;
    plan["id"].as_str().unwrap().to_owned()
}

async fn group(app: &TestApp, name: &str) -> String {
    let group = json_with_status(
        app.post("/plan-groups", DIRECT, &json!({"name": name}))
            .await,
        200,
    )
    .await;
    group["id"].as_str().unwrap().to_owned()
}

async fn members(app: &TestApp, group: &str) -> Vec<(String, i64)> {
    let detail =
        json_with_status(app.get(&format!("/plan-groups/{group}"), DIRECT).await, 200).await;
    detail["plans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_owned(),
                p["sortOrder"].as_i64().unwrap(),
            )
        })
        .collect()
}

fn named(list: &[(&str, i64)]) -> Vec<(String, i64)> {
    list.iter().map(|(n, o)| ((*n).to_owned(), *o)).collect()
}

on_both_backends! {
    async fn a_group_lists_its_plans_by_order_and_each_plan_shows_its_group(app: TestApp) {
        let (pro, business, team) = (plan(&app, "pro").await, plan(&app, "business").await, plan(&app, "team").await);
        let created = json_with_status(
            app.post("/plan-groups", LEGACY, &json!({"name": "Standard", "description": "Main tiers"})).await,
            200,
        )
        .await;
        let data = &created["data"];
        let id = data["id"].as_str().unwrap().to_owned();
        assert!(id.starts_with("plg_"), "{id}");
        assert_eq!(
            (&data["name"], &data["description"], &data["isPublic"], &data["object"], &data["livemode"]),
            (&json!("Standard"), &json!("Main tiers"), &json!(true), &json!("plan_group"), &json!(false))
        );

        let added = json_with_status(app.post(&format!("/plan-groups/{id}/plans"), DIRECT, &json!({"planId": pro})).await, 200).await;
        assert_eq!(added, json!({"success": true, "object": "plan_group_membership", "livemode": false}));
        let added = json_with_status(app.post(&format!("/plan-groups/{id}/plans"), LEGACY, &json!({"planId": "business"})).await, 200).await;
        assert_eq!(added, json!({"success": true, "data": {"success": true, "object": "plan_group", "livemode": false}}));
        json_with_status(app.post(&format!("/plan-groups/{id}/plans"), DIRECT, &json!({"planId": team, "sortOrder": 2})).await, 200).await;
        assert_eq!(members(&app, &id).await, named(&[("PRO", 0), ("BUSINESS", 1), ("TEAM", 2)]));

        let shown = json_with_status(app.get(&format!("/plans/{business}"), DIRECT).await, 200).await;
        assert_eq!((&shown["planGroupId"], &shown["sortOrder"]), (&json!(id), &json!(1)));
        // The plans list follows the groups' order, then creation.
        let listed = json_with_status(app.get("/plans", DIRECT).await, 200).await;
        let codes: Vec<_> = listed["data"].as_array().unwrap().iter().map(|p| p["code"].as_str().unwrap().to_owned()).collect();
        assert_eq!(codes, ["pro", "business", "team"]);

        // Adding a member again with an order moves it; without one it changes nothing.
        json_with_status(app.post(&format!("/plan-groups/{id}/plans"), DIRECT, &json!({"planId": pro, "sortOrder": 5})).await, 200).await;
        json_with_status(app.post(&format!("/plan-groups/{id}/plans"), DIRECT, &json!({"planId": business})).await, 200).await;
        assert_eq!(members(&app, &id).await, named(&[("BUSINESS", 1), ("TEAM", 2), ("PRO", 5)]));

        let reordered = json_with_status(
            send(&app, Method::PUT, &format!("/plan-groups/{id}/plans/reorder"), DIRECT, Some(json!({"planIds": [team, "pro", business]}))).await,
            200,
        )
        .await;
        assert_eq!(reordered, json!({"reordered": true, "object": "plan_group_order", "livemode": false}));
        assert_eq!(members(&app, &id).await, named(&[("TEAM", 0), ("PRO", 1), ("BUSINESS", 2)]));

        let removed = json_with_status(send(&app, Method::DELETE, &format!("/plan-groups/{id}/plans/{pro}"), LEGACY, None).await, 200).await;
        assert_eq!(removed["data"], json!({"id": pro, "removed": true, "object": "plan_group", "livemode": false}));
        let shown = json_with_status(app.get(&format!("/plans/{pro}"), DIRECT).await, 200).await;
        assert_eq!((&shown["planGroupId"], &shown["sortOrder"]), (&Value::Null, &json!(0)));

        // A plan created into the group goes last.
        let joined = json_with_status(app.post("/plans", DIRECT, &json!({"name": "Enterprise", "code": "enterprise", "planGroupId": id})).await, 200).await;
        assert_eq!((&joined["planGroupId"], &joined["sortOrder"]), (&json!(id), &json!(3)));

        let deleted = json_with_status(send(&app, Method::DELETE, &format!("/plan-groups/{id}"), DIRECT, None).await, 200).await;
        assert_eq!(deleted, json!({"id": id, "deleted": true, "object": "plan_group", "livemode": false}));
        let gone = json_with_status(app.get(&format!("/plan-groups/{id}"), DIRECT).await, 404).await;
        assert_eq!(error_of(&gone, DIRECT)["code"], "plan_group_not_found");
        // Its plans stay, outside any group.
        let kept = json_with_status(app.get(&format!("/plans/{team}"), DIRECT).await, 200).await;
        assert_eq!((&kept["planGroupId"], &kept["sortOrder"]), (&Value::Null, &json!(0)));
    }
}

on_both_backends! {
    async fn group_updates_change_only_what_is_sent_and_lists_page_newest_first(app: TestApp) {
        let first = group(&app, "First").await;
        let second = group(&app, "Second").await;
        let third = group(&app, "Third").await;
        let updated = json_with_status(
            send(&app, Method::PUT, &format!("/plan-groups/{second}"), LEGACY, Some(json!({"description": "Tiers", "isPublic": false}))).await,
            200,
        )
        .await;
        assert_eq!((&updated["data"]["name"], &updated["data"]["description"], &updated["data"]["isPublic"]), (&json!("Second"), &json!("Tiers"), &json!(false)));
        let patched = json_with_status(
            send(&app, Method::PATCH, &format!("/plan-groups/{second}"), DIRECT, Some(json!({"name": "Renamed", "description": null}))).await,
            200,
        )
        .await;
        assert_eq!((&patched["name"], &patched["description"], &patched["isPublic"]), (&json!("Renamed"), &Value::Null, &json!(false)));

        let page = json_with_status(app.get("/plan-groups?limit=2", DIRECT).await, 200).await;
        let ids: Vec<_> = page["data"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!((ids, &page["hasMore"]), (vec![third.clone(), second.clone()], &json!(true)));
        let cursor = page["nextCursor"].as_str().unwrap();
        let rest = json_with_status(app.get(&format!("/plan-groups?limit=2&cursor={cursor}"), DIRECT).await, 200).await;
        let ids: Vec<_> = rest["data"].as_array().unwrap().iter().map(|g| g["id"].as_str().unwrap().to_owned()).collect();
        assert_eq!((ids, &rest["hasMore"]), (vec![first], &json!(false)));
    }
}

on_both_backends! {
    async fn group_errors_name_their_cause_and_change_nothing(app: TestApp) {
        let (pro, solo) = (plan(&app, "pro").await, plan(&app, "solo").await);
        let standard = group(&app, "Standard").await;
        let other = group(&app, "Other").await;
        json_with_status(app.post(&format!("/plan-groups/{standard}/plans"), DIRECT, &json!({"planId": pro})).await, 200).await;

        let duplicate = json_with_status(app.post(&format!("/plan-groups/{other}/plans"), DIRECT, &json!({"planId": pro})).await, 409).await;
        assert_eq!(error_of(&duplicate, DIRECT)["code"], "duplicate");
        let reorder = json_with_status(
            send(&app, Method::PUT, &format!("/plan-groups/{standard}/plans/reorder"), DIRECT, Some(json!({"planIds": [pro, solo]}))).await,
            400,
        )
        .await;
        assert_eq!((&error_of(&reorder, DIRECT)["code"], &error_of(&reorder, DIRECT)["param"]), (&json!("validation_error"), &json!("planIds")));
        let not_member = json_with_status(send(&app, Method::DELETE, &format!("/plan-groups/{standard}/plans/{solo}"), DIRECT, None).await, 404).await;
        assert_eq!((&error_of(&not_member, DIRECT)["code"], &error_of(&not_member, DIRECT)["param"]), (&json!("plan_not_found"), &json!("planId")));
        let unknown_plan = json_with_status(app.post(&format!("/plan-groups/{standard}/plans"), DIRECT, &json!({"planId": "nope"})).await, 404).await;
        assert_eq!(error_of(&unknown_plan, DIRECT)["code"], "plan_not_found");
        for (body, param) in [(json!({"planId": solo, "sortOrder": -1}), "sortOrder"), (json!({"planId": solo, "sortOrder": 1_000_001}), "sortOrder"), (json!({}), "planId")] {
            let refused = json_with_status(app.post(&format!("/plan-groups/{standard}/plans"), DIRECT, &body).await, 400).await;
            assert_eq!(error_of(&refused, DIRECT)["param"], json!(param), "{body}");
        }
        for body in [json!({}), json!({"name": ""}), json!({"name": "X", "description": "d".repeat(1001)})] {
            let refused = json_with_status(app.post("/plan-groups", DIRECT, &body).await, 400).await;
            assert_eq!(error_of(&refused, DIRECT)["code"], "validation_error", "{body}");
        }
        for path in ["/plan-groups/plg_01J0000000000000000000000Z", "/plan-groups/not-an-id"] {
            let missing = json_with_status(app.get(path, LEGACY).await, 404).await;
            assert_eq!(error_of(&missing, LEGACY)["code"], "plan_group_not_found", "{path}");
        }
        // Nothing above moved a plan.
        assert_eq!(members(&app, &standard).await, named(&[("PRO", 0)]));
        assert_eq!(members(&app, &other).await, named(&[]));

        // The live organization does not see the sandbox's group.
        let hidden = app
            .client
            .get(app.url(&format!("/plan-groups/{standard}")))
            .header("x-api-key", LIVE_KEY)
            .header("commet-version", DIRECT)
            .send()
            .await
            .unwrap();
        let hidden = json_with_status(hidden, 404).await;
        assert_eq!(error_of(&hidden, DIRECT)["code"], "plan_group_not_found");
    }
}
