//! Webhooks reach public addresses only, unless the operator allows a range: endpoints that
//! name another address (in any spelling) are refused, and deliveries and test sends to a name
//! are refused when the name resolves to such an address. Names resolve through the server's
//! pinned-hosts table here, so no request leaves the machine.

use crate::receiver::Receiver;
use crate::support::{
    Backend, DIRECT, LIVE_KEY, LOOPBACK_NETWORKS, Options, TestApp, error_of, json_with_status,
};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

/// A name the tests' resolver table sends to 127.0.0.1, where the receivers listen.
const PINNED_NAME: &str = "hooks.example.test";

async fn spawn(allow_networks: &'static str) -> TestApp {
    let options = Options {
        webhook_allow_networks: allow_networks,
        webhook_pinned_hosts: vec![(PINNED_NAME.to_owned(), [127, 0, 0, 1].into())],
        ..Options::default()
    };
    TestApp::spawn_with(Backend::Sqlite, options).await.unwrap()
}

/// Plan `pro`, customer `user_123` on it, and an endpoint at `url` for seat changes.
async fn endpoint_for_seat_changes(app: &TestApp, url: &str) -> String {
    crate::catalog::pro_plan(app).await;
    app.create_customer(&json!({"email": "owner@acme.test", "id": "user_123"}))
        .await;
    app.post(
        "/subscriptions",
        DIRECT,
        &json!({"customerId": "user_123", "planCode": "pro"}),
    )
    .await;
    let hook = json_with_status(
        app.post(
            "/webhooks",
            DIRECT,
            &json!({"url": url, "events": ["seats.updated"]}),
        )
        .await,
        200,
    )
    .await;
    hook["id"].as_str().unwrap().to_owned()
}

async fn change_seats_and_dispatch(app: &TestApp) -> tally_workers::DispatchReport {
    app.post(
        "/seats",
        DIRECT,
        &json!({"customerId": "user_123", "featureCode": "editor", "count": 1}),
    )
    .await;
    tally_workers::Dispatcher::new(app.app.clone(), Duration::from_millis(100))
        .run_once()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_to_loopback_is_refused_by_default() {
    let app = spawn("").await;
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let url = format!("http://{PINNED_NAME}:{port}/hooks");
    let id = endpoint_for_seat_changes(&app, &url).await;

    let tested = json_with_status(
        app.post(&format!("/webhooks/{id}/test"), DIRECT, &json!({}))
            .await,
        200,
    )
    .await;
    let report = change_seats_and_dispatch(&app).await;
    let log = json_with_status(
        app.get(&format!("/webhooks/{id}/deliveries"), DIRECT).await,
        200,
    )
    .await;

    assert_eq!(tested["success"], false, "the test send is refused too");
    assert_eq!((report.attempts, report.succeeded), (1, 0));
    assert!(receiver.received().is_empty(), "nothing reached 127.0.0.1");
    let attempt = &log["data"][0]["attempts"][0];
    assert_eq!(attempt["statusCode"], serde_json::Value::Null);
    let error = attempt["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!("refused: {PINNED_NAME} resolves only to addresses webhooks may not reach (127.0.0.1 is a loopback address")),
        "{attempt}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_that_resolves_to_an_allowed_range_is_delivered() {
    let app = spawn(LOOPBACK_NETWORKS).await;
    let receiver = Receiver::start().await;
    let port = receiver
        .url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let id = endpoint_for_seat_changes(&app, &format!("http://{PINNED_NAME}:{port}/hooks")).await;

    let tested = json_with_status(
        app.post(&format!("/webhooks/{id}/test"), DIRECT, &json!({}))
            .await,
        200,
    )
    .await;
    let report = change_seats_and_dispatch(&app).await;

    assert_eq!(tested["success"], true);
    assert_eq!((report.attempts, report.succeeded), (1, 1));
    assert_eq!(
        receiver.received().len(),
        2,
        "the test send and the seat change"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endpoints_that_name_a_non_public_address_are_refused_in_any_spelling() {
    let app = spawn("").await;
    let cases = [
        ("http://0x7f000001:9000/hooks", "loopback, hexadecimal"),
        ("http://2130706433/hooks", "loopback, one decimal number"),
        ("http://127.1/hooks", "loopback, shortened"),
        (
            "http://[::ffff:127.0.0.1]/hooks",
            "loopback, IPv4-mapped IPv6",
        ),
        ("http://[::1]:9000/hooks", "IPv6 loopback"),
        ("http://localhost:9000/hooks", "localhost"),
        ("http://0.0.0.0:9000/hooks", "unspecified"),
        ("http://10.0.0.5/hooks", "private"),
        (
            "https://169.254.169.254/latest/meta-data/",
            "cloud metadata",
        ),
        (
            "https://[fd00:ec2::254]/latest/meta-data/",
            "IPv6 cloud metadata",
        ),
        ("https://[fe80::1]/hooks", "link-local"),
    ];
    for (url, description) in cases {
        let response = app
            .post(
                "/webhooks",
                DIRECT,
                &json!({"url": url, "events": ["seats.updated"]}),
            )
            .await;
        let error = error_of(&json_with_status(response, 400).await, DIRECT);
        assert_eq!(
            (error["code"].as_str(), error["param"].as_str()),
            (Some("validation_error"), Some("url")),
            "{description}"
        );
        assert!(
            error["message"].as_str().unwrap().contains("address"),
            "{description}: {error}"
        );
    }
    let live = app
        .client
        .post(app.url("/webhooks"))
        .header("x-api-key", LIVE_KEY)
        .json(&json!({"url": "https://192.168.1.10/hooks", "events": ["seats.updated"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_of(&json_with_status(live, 400).await, DIRECT)["param"],
        "url",
        "live, private"
    );
    let named = json_with_status(
        app.post(
            "/webhooks",
            DIRECT,
            &json!({"url": "https://hooks.example.com/tally", "events": ["seats.updated"]}),
        )
        .await,
        200,
    )
    .await;
    let moved = crate::catalog::send(
        &app,
        Method::PATCH,
        &format!("/webhooks/{}", named["id"].as_str().unwrap()),
        DIRECT,
        Some(json!({"url": "http://0x0a000001/hooks"})),
    )
    .await;
    assert_eq!(
        error_of(&json_with_status(moved, 400).await, DIRECT)["param"],
        "url",
        "an update is checked too"
    );
}
