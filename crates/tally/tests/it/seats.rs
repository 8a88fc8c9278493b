//! The seats API over HTTP (`seats.md`, examples.md scenarios 3 and 4).

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::support::{DIRECT, LEGACY, TestApp, error_of, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

/// Scenario 2's state: plan `pro` (editor: 5 included, $25 overage), customer `user_123` with
/// 6 editor seats. Returns the customer's `cus_…` id.
pub async fn subscribed(app: &TestApp) -> String {
    pro_plan(app).await;
    let customer = app
        .create_customer(
            &json!({"email": "owner@acme.test", "id": "user_123", "fullName": "Acme Inc"}),
        )
        .await;
    json_with_status(
        app.post(
            "/subscriptions",
            DIRECT,
            &json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}}),
        )
        .await,
        200,
    )
    .await;
    customer["id"].as_str().unwrap().to_owned()
}

fn seat(customer: &str, count: i64) -> Value {
    json!({"customerId": customer, "featureCode": "editor", "count": count})
}

/// The event minus its id, which is checked for shape separately.
fn without_id(event: &Value) -> Value {
    let mut event = event.clone();
    let id = event.as_object_mut().unwrap().remove("id").unwrap();
    let id = id.as_str().unwrap();
    assert!(id.starts_with("sev_") && id.len() == 30, "{id}");
    event
}

on_both_backends! {
    async fn add_remove_set_and_bulk_answer_as_the_examples_show(app: TestApp) {
        let customer = subscribed(&app).await;
        app.clock.as_ref().unwrap().advance_millis(15 * 24 * 60 * 60 * 1000);
        let at = "2026-06-16T00:00:00.000Z";

        let added = json_with_status(app.post("/seats", LEGACY, &seat("user_123", 1)).await, 200).await;
        let removed = json_with_status(send(&app, Method::DELETE, "/seats", LEGACY, Some(seat("user_123", 3))).await, 200).await;
        let set = json_with_status(send(&app, Method::PUT, "/seats", DIRECT, Some(seat(&customer, 5))).await, 200).await;
        let bulk_legacy = json_with_status(send(&app, Method::PUT, "/seats/bulk", LEGACY, Some(json!({"customerId": "user_123", "seats": {"editor": 7}}))).await, 200).await;
        let removed_direct = json_with_status(app.post("/seats/remove", DIRECT, &seat("user_123", 2)).await, 200).await;
        let bulk_direct = json_with_status(send(&app, Method::PUT, "/seats/bulk", DIRECT, Some(json!({"customerId": "user_123", "seats": {"editor": 5}}))).await, 200).await;

        assert_eq!(without_id(&added["data"]), json!({"customerId": customer, "featureCode": "editor", "previousBalance": 6, "newBalance": 7, "ts": at, "createdAt": at, "object": "seat", "livemode": false}));
        assert_eq!(added["success"], true);
        assert_eq!((removed["data"]["previousBalance"].clone(), removed["data"]["newBalance"].clone()), (json!(7), json!(4)));
        assert_eq!(without_id(&set), json!({"customerId": customer, "featureCode": "editor", "previousBalance": 4, "newBalance": 5, "ts": at, "createdAt": at, "object": "seat_event", "livemode": false}));
        assert_eq!(bulk_legacy["data"].as_array().unwrap().len(), 1);
        assert_eq!(without_id(&bulk_legacy["data"][0]), json!({"featureCode": "editor", "previousBalance": 5, "newBalance": 7, "ts": at, "createdAt": at, "object": "seat", "livemode": false}));
        assert_eq!(removed_direct["newBalance"], 5);
        assert_eq!(bulk_direct["object"], "list");
        assert_eq!(bulk_direct["hasMore"], false);
        assert_eq!(without_id(&bulk_direct["data"][0]), json!({"customerId": customer, "featureCode": "editor", "previousBalance": 5, "newBalance": 5, "ts": at, "createdAt": at, "object": "seat_event", "livemode": false}));
    }
}

on_both_backends! {
    async fn balances_report_every_seats_feature_with_as_of(app: TestApp) {
        subscribed(&app).await;
        app.post("/features", DIRECT, &json!({"name": "Viewer seats", "code": "viewer", "type": "seats"})).await;
        app.post("/plans/pro/features", DIRECT, &json!({"featureId": "viewer", "includedAmount": 3})).await;
        app.clock.as_ref().unwrap().advance_millis(60_000);
        app.post("/seats", DIRECT, &seat("user_123", 2)).await;

        let one_legacy = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=editor", LEGACY).await, 200).await;
        let untouched = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=viewer", DIRECT).await, 200).await;
        let all_legacy = json_with_status(app.get("/seats/balances?customerId=user_123", LEGACY).await, 200).await;
        let all_direct = json_with_status(app.get("/seats/balances?customerId=user_123", DIRECT).await, 200).await;

        assert_eq!(one_legacy, json!({"success": true, "data": {"current": 8, "asOf": "2026-06-01T00:01:00.000Z", "object": "seat", "livemode": false}}));
        assert_eq!(untouched, json!({"current": 0, "asOf": "2026-06-01T00:00:00.000Z", "object": "seat_balance", "livemode": false}), "never set: the subscription's start");
        assert_eq!(all_legacy, json!({"success": true, "data": {
            "editor": {"current": 8, "asOf": "2026-06-01T00:01:00.000Z"},
            "viewer": {"current": 0, "asOf": "2026-06-01T00:00:00.000Z"},
            "object": "seat", "livemode": false}}));
        assert_eq!(all_direct, json!({"balances": {
            "editor": {"current": 8, "asOf": "2026-06-01T00:01:00.000Z"},
            "viewer": {"current": 0, "asOf": "2026-06-01T00:00:00.000Z"}},
            "object": "seat_balance_collection", "livemode": false}));
    }
}

on_both_backends! {
    async fn seat_errors_follow_the_pipeline_with_documented_codes(app: TestApp) {
        subscribed(&app).await;
        app.post("/features", DIRECT, &json!({"name": "Viewer seats", "code": "viewer", "type": "seats"})).await;
        app.post("/features", DIRECT, &json!({"name": "SSO", "code": "sso", "type": "boolean"})).await;
        app.create_customer(&json!({"email": "idle@acme.test", "id": "idle"})).await;

        let cases = [
            (seat("user_123", 50), "/seats/remove", 400, "insufficient_seats", "count", "removing more than held"),
            (json!({"customerId": "user_123", "featureCode": "viewer", "count": 1}), "/seats", 400, "feature_not_in_plan", "featureCode", "a seats feature off the plan"),
            (json!({"customerId": "user_123", "featureCode": "sso", "count": 1}), "/seats", 404, "feature_not_found", "featureCode", "a boolean feature"),
            (json!({"customerId": "user_123", "featureCode": "nope", "count": 1}), "/seats", 404, "feature_not_found", "featureCode", "an unknown feature"),
            (seat("ghost", 1), "/seats", 404, "customer_not_found", "customerId", "an unknown customer"),
            (seat("idle", 1), "/seats", 404, "no_active_subscription", "customerId", "no live subscription"),
            (seat("user_123", 0), "/seats", 400, "validation_error", "count", "a zero count"),
            (seat("user_123", -2), "/seats/remove", 400, "validation_error", "count", "a negative count"),
            (json!({"customerId": "user_123", "featureCode": "editor", "count": 1.5}), "/seats", 400, "validation_error", "count", "a fractional count"),
            (json!({"customerId": "user_123", "featureCode": "editor", "count": "3"}), "/seats", 400, "validation_error", "count", "a string count"),
            (json!({"featureCode": "editor", "count": 1}), "/seats", 400, "validation_error", "customerId", "no customer"),
            (json!({"customerId": "user_123", "count": 1}), "/seats", 400, "validation_error", "featureCode", "no feature"),
            (seat("user_123", 2_000_000), "/seats", 400, "validation_error", "count", "too many seats"),
        ];
        for version in [LEGACY, DIRECT] {
            for (body, path, status, code, param, description) in &cases {
                let error = error_of(&json_with_status(app.post(path, version, body).await, *status).await, version);
                assert_eq!((error["code"].as_str(), error["param"].as_str()), (Some(*code), Some(*param)), "{description} ({version})");
            }
        }
        let insufficient = json_with_status(app.post("/seats/remove", DIRECT, &seat("user_123", 50)).await, 400).await;
        assert_eq!(insufficient["error"]["type"], "billing_error");
        assert_eq!(insufficient["error"]["message"], "Cannot remove 50 editor seats; current balance is 6");
        assert_eq!(insufficient["error"]["details"], json!({"featureCode": "editor", "current": 6, "requested": 50}));
        let set_negative = json_with_status(send(&app, Method::PUT, "/seats", DIRECT, Some(seat("user_123", -1))).await, 400).await;
        assert_eq!(error_of(&set_negative, DIRECT)["details"], json!([{"field": "count", "message": "must be an integer >= 0"}]));
        let balance = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=editor", DIRECT).await, 200).await;
        assert_eq!(balance["current"], 6, "no refusal changed anything");
    }
}

on_both_backends! {
    async fn a_bulk_set_with_one_bad_key_applies_nothing(app: TestApp) {
        subscribed(&app).await;
        app.post("/features", DIRECT, &json!({"name": "Team", "code": "team_member", "type": "seats"})).await;
        app.post("/plans/pro/features", DIRECT, &json!({"featureId": "team_member", "includedAmount": 2})).await;

        let refused = json_with_status(
            send(&app, Method::PUT, "/seats/bulk", DIRECT, Some(json!({"customerId": "user_123", "seats": {"editor": 9, "zzz": 1}}))).await,
            404,
        )
        .await;
        let bad_count = json_with_status(
            send(&app, Method::PUT, "/seats/bulk", DIRECT, Some(json!({"customerId": "user_123", "seats": {"editor": -1}}))).await,
            400,
        )
        .await;
        let camel = json_with_status(
            send(&app, Method::PUT, "/seats/bulk", DIRECT, Some(json!({"customerId": "user_123", "seats": {"teamMember": 3, "editor": 6}}))).await,
            200,
        )
        .await;
        let balances = json_with_status(app.get("/seats/balances?customerId=user_123", DIRECT).await, 200).await;

        assert_eq!(error_of(&refused, DIRECT)["param"], "seats.zzz");
        assert_eq!(error_of(&bad_count, DIRECT)["param"], "seats.editor");
        let codes: Vec<_> = camel["data"].as_array().unwrap().iter().map(|e| (e["featureCode"].clone(), e["previousBalance"].clone(), e["newBalance"].clone())).collect();
        assert_eq!(codes, [(json!("editor"), json!(6), json!(6)), (json!("team_member"), json!(0), json!(3))], "ascending codes, unchanged ones included");
        assert_eq!(balances["balances"]["editor"]["current"], 6, "the refused bulk changed nothing");
        assert_eq!(balances["balances"]["team_member"]["current"], 3);
    }
}

on_both_backends! {
    async fn concurrent_adds_on_one_customer_all_count(app: TestApp) {
        // Goal: no lost update and no `database is locked` under parallel writers. Method: many
        // tasks add one seat each at once; every request must succeed and the total must match.
        subscribed(&app).await;
        let adds = 40;
        let requests = (0..adds).map(|n| {
            app.request(Method::POST, "/seats", DIRECT)
                .header("idempotency-key", format!("parallel-{n}"))
                .json(&seat("user_123", 1))
                .send()
        });

        let responses = futures::future::join_all(requests).await;

        for response in responses {
            let response = response.unwrap();
            assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        }
        let balance = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=editor", DIRECT).await, 200).await;
        assert_eq!(balance["current"], 6 + adds);
        let history = json_with_status(app.get("/seats/events?customerId=user_123&limit=100", DIRECT).await, 200).await;
        let mut steps: Vec<_> = history["data"].as_array().unwrap().iter().map(|e| e["newBalance"].as_i64().unwrap()).collect();
        steps.sort_unstable();
        let expected: Vec<i64> = (6..=6 + adds).collect();
        assert_eq!(steps, expected, "the ledger holds one event per add, each one higher");
    }
}

on_both_backends! {
    async fn a_retried_seat_add_applies_once(app: TestApp) {
        subscribed(&app).await;
        let add = |count: i64| {
            app.request(Method::POST, "/seats", LEGACY)
                .header("idempotency-key", "k-1")
                .json(&seat("user_123", count))
                .send()
        };

        let first = add(2).await.unwrap();
        let second = add(2).await.unwrap();
        let other = add(3).await.unwrap();

        assert!(second.headers().contains_key("idempotent-replayed"));
        let (first, second) = (json_with_status(first, 200).await, json_with_status(second, 200).await);
        assert_eq!(first, second);
        assert_eq!(first["data"]["newBalance"], 8);
        assert_eq!(error_of(&json_with_status(other, 409).await, LEGACY)["code"], "idempotency_key_mismatch");
        let balance = json_with_status(app.get("/seats/balance?customerId=user_123&featureCode=editor", DIRECT).await, 200).await;
        assert_eq!(balance["current"], 8);
    }
}

on_both_backends! {
    async fn the_seat_history_pages_newest_first_within_a_time_range(app: TestApp) {
        subscribed(&app).await;
        for _ in 0..4 {
            app.clock.as_ref().unwrap().advance_millis(60_000);
            app.post("/seats", DIRECT, &seat("user_123", 1)).await;
        }

        let first = json_with_status(app.get("/seats/events?customerId=user_123&featureCode=editor&limit=2", DIRECT).await, 200).await;
        let cursor = first["nextCursor"].as_str().unwrap();
        let rest = json_with_status(app.get(&format!("/seats/events?customerId=user_123&limit=10&cursor={cursor}"), LEGACY).await, 200).await;
        let window = json_with_status(
            app.get("/seats/events?customerId=cus_x&limit=10", DIRECT).await,
            404,
        )
        .await;
        let ranged = json_with_status(
            app.get("/seats/events?customerId=user_123&from=2026-06-01T00:02:00Z&to=2026-06-01T00:04:00Z", DIRECT).await,
            200,
        )
        .await;
        let bad_range = json_with_status(app.get("/seats/events?customerId=user_123&from=yesterday", DIRECT).await, 400).await;

        let balances = |page: &Value| page["data"].as_array().unwrap().iter().map(|e| e["newBalance"].as_i64().unwrap()).collect::<Vec<_>>();
        assert_eq!(balances(&first), [10, 9]);
        assert_eq!(first["hasMore"], true);
        assert_eq!(balances(&rest), [8, 7, 6], "the initialSeats event is in the history too");
        assert_eq!(rest["data"][0]["object"], "seat");
        assert_eq!(error_of(&window, DIRECT)["code"], "customer_not_found");
        assert_eq!(balances(&ranged), [9, 8], "from is inclusive, to exclusive");
        assert_eq!(error_of(&bad_range, DIRECT)["param"], "from");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enforced_seat_caps_refuse_extra_seats_that_cannot_be_sold() {
    let options = crate::support::Options {
        enforce_seat_caps: true,
        ..crate::support::Options::default()
    };
    let app = TestApp::spawn_with(crate::support::Backend::Sqlite, options)
        .await
        .unwrap();
    subscribed(&app).await; // `pro`: editor with 5 included and overage on; user_123 holds 6.
    app.post(
        "/features",
        DIRECT,
        &json!({"name": "Viewer seats", "code": "viewer", "type": "seats"}),
    )
    .await;
    app.post(
        "/plans/pro/features",
        DIRECT,
        &json!({"featureId": "viewer", "includedAmount": 3}),
    )
    .await;
    let viewer =
        |count: i64| json!({"customerId": "user_123", "featureCode": "viewer", "count": count});

    let sold = app.post("/seats", DIRECT, &seat("user_123", 4)).await;
    let up_to_limit = app.post("/seats", DIRECT, &viewer(3)).await;
    let over = json_with_status(app.post("/seats", DIRECT, &viewer(1)).await, 400).await;
    let set_over = json_with_status(
        send(&app, Method::PUT, "/seats", LEGACY, Some(viewer(5))).await,
        400,
    )
    .await;
    let down = app.post("/seats/remove", DIRECT, &viewer(2)).await;

    assert_eq!(
        sold.status(),
        200,
        "overage on: extra seats are sold, not blocked"
    );
    assert_eq!(up_to_limit.status(), 200);
    let error = error_of(&over, DIRECT);
    assert_eq!(
        (
            error["code"].as_str(),
            error["type"].as_str(),
            error["param"].as_str()
        ),
        (
            Some("included_limit_reached"),
            Some("billing_error"),
            Some("count")
        )
    );
    assert_eq!(
        error["details"],
        json!({"featureCode": "viewer", "current": 3, "included": 3, "requested": 4})
    );
    assert_eq!(
        error_of(&set_over, LEGACY)["code"],
        "included_limit_reached"
    );
    assert_eq!(down.status(), 200, "going down is always allowed");
}
