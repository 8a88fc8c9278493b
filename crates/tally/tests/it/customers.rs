//! `/customers` over HTTP (`catalog.md` §2), in both generations.

use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

fn assert_customer_shape(customer: &Value) {
    let keys: Vec<_> = customer.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        [
            "id",
            "externalId",
            "fullName",
            "email",
            "taxDocument",
            "documentType",
            "timezone",
            "metadata",
            "createdAt",
            "updatedAt",
            "object",
            "livemode"
        ],
        "{customer}"
    );
    let id = customer["id"].as_str().unwrap();
    assert!(id.starts_with("cus_") && id.len() == 30, "{id}");
}

on_both_backends! {
    async fn a_customer_round_trips_in_both_generations(app: TestApp) {
        let body = json!({
            "email": "ada@example.com",
            "id": "user_42",
            "fullName": "Ada Lovelace",
            "taxDocument": "X-1",
            "timezone": "Europe/London",
            "metadata": {"planTier": "gold", "seats": 3},
            "address": {"line1": "1 Main St", "city": "London", "postalCode": "N1", "country": "GB"}
        });

        let legacy = json_with_status(app.post("/customers", LEGACY, &body).await, 200).await;
        let by_id = json_with_status(
            app.get(&format!("/customers/{}", legacy["data"]["id"].as_str().unwrap()), DIRECT).await,
            200,
        )
        .await;
        let by_external = json_with_status(app.get("/customers/user_42", DIRECT).await, 200).await;

        assert_eq!(legacy["success"], true);
        let customer = &legacy["data"];
        assert_customer_shape(customer);
        assert_eq!(
            customer.as_object().unwrap().iter().filter(|(k, _)| *k != "id").collect::<Vec<_>>(),
            json!({
                "externalId": "user_42",
                "fullName": "Ada Lovelace",
                "email": "ada@example.com",
                "taxDocument": "X-1",
                "documentType": null,
                "timezone": "Europe/London",
                "metadata": {"planTier": "gold", "seats": 3},
                "createdAt": "2026-06-01T00:00:00.000Z",
                "updatedAt": "2026-06-01T00:00:00.000Z",
                "object": "customer",
                "livemode": false
            })
            .as_object()
            .unwrap()
            .iter()
            .collect::<Vec<_>>()
        );
        assert_eq!(&by_id, customer, "direct get is the bare object");
        assert_eq!(by_external, by_id);
    }
}

on_both_backends! {
    async fn creating_again_with_the_same_external_id_returns_the_existing_customer(app: TestApp) {
        let first = app.create_customer(&json!({"email": "a@example.com", "externalId": "ext-1"})).await;
        app.clock.as_ref().unwrap().advance_millis(60_000);

        let again = app.create_customer(&json!({"email": "other@example.com", "id": "ext-1"})).await;
        let clash = app.post("/customers", DIRECT, &json!({"email": "a@example.com", "id": "x", "externalId": "y"})).await;

        assert_eq!(again, first, "returned unchanged");
        let error = error_of(&json_with_status(clash, 400).await, DIRECT);
        assert_eq!(error["param"], "externalId");
    }
}

on_both_backends! {
    async fn pages_walk_every_customer_newest_first(app: TestApp) {
        let mut created = Vec::new();
        for n in 0..5 {
            created.push(app.create_customer(&json!({"email": format!("p{n}@example.com"), "id": format!("p{n}")})).await);
            app.clock.as_ref().unwrap().advance_millis(1_000);
        }

        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            let path = match &cursor {
                Some(c) => format!("/customers?limit=2&cursor={c}"),
                None => "/customers?limit=2".to_owned(),
            };
            let page = json_with_status(app.get(&path, LEGACY).await, 200).await;
            pages += 1;
            seen.extend(page["data"].as_array().unwrap().iter().map(|c| c["id"].clone()));
            if page["hasMore"] == true {
                cursor = Some(page["nextCursor"].as_str().unwrap().to_owned());
            } else {
                assert!(page.get("nextCursor").is_none(), "no cursor on the last page: {page}");
                break;
            }
        }
        let filtered = json_with_status(app.get("/customers?externalId=p3", DIRECT).await, 200).await;

        let expected: Vec<_> = created.iter().rev().map(|c| c["id"].clone()).collect();
        assert_eq!(seen, expected);
        assert_eq!(pages, 3);
        assert_eq!(filtered["data"], json!([created[3]]));
    }
}

on_both_backends! {
    async fn updates_change_only_what_was_sent_via_put_or_patch(app: TestApp) {
        let customer = app.create_customer(&json!({"email": "u@example.com", "id": "u1", "fullName": "Old", "metadata": {"a": 1}})).await;
        app.create_customer(&json!({"email": "v@example.com", "id": "taken"})).await;
        app.clock.as_ref().unwrap().advance_millis(1_000);

        let put = app
            .request(Method::PUT, "/customers/u1", LEGACY)
            .json(&json!({"fullName": "New"}))
            .send()
            .await
            .unwrap();
        app.clock.as_ref().unwrap().advance_millis(1_000);
        let patch = app
            .request(Method::PATCH, &format!("/customers/{}", customer["id"].as_str().unwrap()), DIRECT)
            .json(&json!({"metadata": {"b": 2}}))
            .send()
            .await
            .unwrap();
        let unchanged = app
            .request(Method::PATCH, "/customers/u1", DIRECT)
            .json(&json!({"metadata": {"b": 2}}))
            .send()
            .await
            .unwrap();
        let duplicate = app
            .request(Method::PATCH, "/customers/u1", DIRECT)
            .json(&json!({"externalId": "taken"}))
            .send()
            .await
            .unwrap();

        let put = json_with_status(put, 200).await;
        assert_eq!(put["data"]["fullName"], "New");
        assert_eq!(put["data"]["email"], "u@example.com");
        assert_eq!(put["data"]["metadata"], json!({"a": 1}));
        assert_eq!(put["data"]["updatedAt"], "2026-06-01T00:00:01.000Z");
        let patch = json_with_status(patch, 200).await;
        assert_eq!(patch["metadata"], json!({"b": 2}), "metadata is replaced whole");
        assert_eq!(patch["fullName"], "New");
        assert_eq!(patch["updatedAt"], "2026-06-01T00:00:02.000Z");
        let unchanged = json_with_status(unchanged, 200).await;
        assert_eq!(unchanged["updatedAt"], "2026-06-01T00:00:02.000Z", "no change, no new updatedAt");
        let error = error_of(&json_with_status(duplicate, 409).await, DIRECT);
        assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some("duplicate"), Some("externalId")));
    }
}

on_both_backends! {
    async fn a_batch_creates_valid_items_and_reports_invalid_ones(app: TestApp) {
        let items = json!({"customers": [
            {"email": "b1@example.com", "id": "b1"},
            {"email": "broken"},
            {"email": "b3@example.com"}
        ]});

        let legacy = json_with_status(app.post("/customers/batch", LEGACY, &items).await, 200).await;
        let direct = json_with_status(app.post("/customers/batch", DIRECT, &items).await, 200).await;
        let empty = app.post("/customers/batch", DIRECT, &json!({"customers": []})).await;

        let batch = &legacy["data"];
        assert_eq!(batch["object"], "customer");
        assert_eq!(direct["object"], "customer_batch");
        assert_eq!(batch["successful"].as_array().unwrap().len(), 2);
        assert_eq!(batch["successful"][0]["externalId"], "b1");
        assert_eq!(batch["successful"][1]["externalId"], Value::Null);
        assert_eq!(batch["failed"], json!([{"index": 1, "error": batch["failed"][0]["error"], "data": {"email": "broken"}}]));
        assert!(batch["failed"][0]["error"].as_str().unwrap().contains("email"));
        assert_eq!(direct["successful"][0]["id"], batch["successful"][0]["id"], "b1 exists already");
        assert_ne!(direct["successful"][1]["id"], batch["successful"][1]["id"], "no externalId, so a new one");
        let error = error_of(&json_with_status(empty, 400).await, DIRECT);
        assert_eq!(error["param"], "customers");
    }
}

on_both_backends! {
    async fn unknown_customers_are_customer_not_found(app: TestApp) {
        for path in ["/customers/cus_01JZZZZZZZZZZZZZZZZZZZZZZZ", "/customers/nobody", "/customers/cus_garbage"] {
            for version in [LEGACY, DIRECT] {
                let body = json_with_status(app.get(path, version).await, 404).await;
                assert_eq!(error_of(&body, version)["code"], "customer_not_found", "{path}");
            }
        }
    }
}
