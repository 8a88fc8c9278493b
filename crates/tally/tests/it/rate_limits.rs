//! Per-key rate limits (`wire.md` §7): `429 rate_limited` with an integer `Retry-After`.

use crate::support::{Backend, DIRECT, LEGACY, Options, TestApp, error_of, json_with_status};

#[tokio::test]
async fn a_key_over_its_limit_gets_429_with_an_integer_retry_after() {
    let options = Options {
        rate_limit_requests: 3,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();

    let mut remaining = Vec::new();
    for _ in 0..3 {
        let response = app.get("/customers", DIRECT).await;
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["ratelimit-limit"], "3");
        remaining.push(
            response.headers()["ratelimit-remaining"]
                .to_str()
                .unwrap()
                .to_owned(),
        );
    }
    let refused = app.get("/customers", LEGACY).await;

    assert_eq!(remaining, ["2", "1", "0"]);
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_eq!(refused.headers()["ratelimit-remaining"], "0");
    let body = json_with_status(refused, 429).await;
    let error = error_of(&body, LEGACY);
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(error["type"], "rate_limit_error");
}
