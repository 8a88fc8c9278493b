//! Rate limits (`wire.md` §7): per key, per organization, and failed authentications per
//! source address; `429 rate_limited` with an integer `Retry-After`.

use crate::support::{
    Backend, DIRECT, LEGACY, LIVE_KEY, Options, SANDBOX_KEY, TestApp, error_of, json_with_status,
};
use serde_json::json;

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

#[tokio::test]
async fn an_organizations_keys_share_one_budget_so_fresh_keys_add_none() {
    // Goal: making new keys does not multiply an organization's budget. Method: a per-key
    // limit of 3 and an organization limit of 4; the seeded key makes a second key and uses
    // its own budget, then the second key runs into the organization's.
    let options = Options {
        rate_limit_requests: 3,
        rate_limit_org_requests: Some(4),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let created = json_with_status(
        app.post("/api-keys", DIRECT, &json!({"name": "fresh"}))
            .await,
        200,
    )
    .await;
    let fresh = created["apiKey"].as_str().unwrap().to_owned();
    let with_key = |key: &str| {
        app.client
            .get(app.url("/customers"))
            .header("x-api-key", key.to_owned())
            .send()
    };

    let seeded: Vec<u16> = vec![
        with_key(SANDBOX_KEY).await.unwrap().status().as_u16(),
        with_key(SANDBOX_KEY).await.unwrap().status().as_u16(),
    ];
    let fresh_first = with_key(&fresh).await.unwrap();
    let fresh_second = with_key(&fresh).await.unwrap();
    let other_organization = with_key(LIVE_KEY).await.unwrap();

    assert_eq!(seeded, [200, 200]);
    assert_eq!(fresh_first.status(), 200);
    assert_eq!(
        fresh_first.headers()["ratelimit-limit"],
        "4",
        "the tighter budget is shown"
    );
    assert_eq!(fresh_first.headers()["ratelimit-remaining"], "0");
    let retry_after: u64 = fresh_second.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let error = error_of(&json_with_status(fresh_second, 429).await, DIRECT);
    assert_eq!(error["code"], "rate_limited");
    assert_eq!(
        other_organization.status(),
        200,
        "another organization has its own budget"
    );
}

#[tokio::test]
async fn failed_authentications_from_one_address_are_limited() {
    // Goal: guessing keys costs a source address its access for the rest of the window, and
    // a 401 is not free. Method: a limit of 3 failed authentications; a fourth attempt, and
    // then even a valid key from the same address, get 429 with Retry-After, before any key
    // is looked up (so the answer says nothing about whether a guess was right).
    let options = Options {
        rate_limit_auth_failures: 3,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let with_key = |key: &'static str| {
        app.client
            .get(app.url("/customers"))
            .header("x-api-key", key)
            .header("commet-version", LEGACY)
            .send()
    };

    let mut failures = Vec::new();
    for key in [
        "",
        "ck_sandbox_Guess000000000000000000000000001",
        "not-a-key",
    ] {
        failures.push(with_key(key).await.unwrap().status().as_u16());
    }
    let fourth = with_key("ck_sandbox_Guess000000000000000000000000002")
        .await
        .unwrap();
    let valid_key_after = with_key(SANDBOX_KEY).await.unwrap();

    assert_eq!(failures, [401, 401, 401]);
    for refused in [fourth, valid_key_after] {
        let retry_after: u64 = refused.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=10).contains(&retry_after), "{retry_after}");
        let error = error_of(&json_with_status(refused, 429).await, LEGACY);
        assert_eq!(error["code"], "rate_limited");
        assert_eq!(error["type"], "rate_limit_error");
    }
}

/// A payment link's page URL, made with the sandbox key.
async fn link_url(app: &TestApp) -> String {
    let link = json_with_status(
        app.post(
            "/payments",
            DIRECT,
            &json!({"amount": 1_000, "currency": "usd", "description": "Budget"}),
        )
        .await,
        200,
    )
    .await;
    link["url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn page_views_count_against_the_organization_the_token_names() {
    // Goal: a flood of one organization's page views is that organization's problem alone.
    // Method: an organization budget of 6; the link costs one API request, five views pass,
    // the sixth is 429 with Retry-After, and the organization's API calls are limited too,
    // while the other organization of the pair (live) is not.
    let options = Options {
        rate_limit_org_requests: Some(6),
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let url = link_url(&app).await;
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(app.client.get(&url).send().await.unwrap());
    }
    let codes: Vec<u16> = statuses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(codes, [200, 200, 200, 200, 200, 429]);
    let retry_after: u64 = statuses[5].headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    assert_eq!(app.get("/customers", DIRECT).await.status(), 429);
    let live = app
        .client
        .get(app.url("/customers"))
        .header("x-api-key", LIVE_KEY)
        .header("commet-version", DIRECT)
        .send()
        .await
        .unwrap();
    assert_eq!(live.status(), 200, "another organization keeps its budget");
}

#[tokio::test]
async fn an_address_presenting_forged_page_tokens_is_refused_like_a_key_guesser() {
    // Goal: guessing page tokens costs the address its access for the window, as guessing API
    // keys does. Method: a failed-authentication budget of 3; three forged tokens are 404, the
    // fourth request, even with a valid token, is 429 before the token is read.
    let options = Options {
        rate_limit_auth_failures: 3,
        ..Options::default()
    };
    let app = TestApp::spawn_with(Backend::Sqlite, options).await.unwrap();
    let url = link_url(&app).await;
    let (prefix, _) = url.rsplit_once('.').unwrap();
    let mut codes = Vec::new();
    for n in 0..3 {
        let forged = format!("{prefix}.forged{n}");
        codes.push(
            app.client
                .get(&forged)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16(),
        );
    }
    let valid_after = app.client.get(&url).send().await.unwrap();
    assert_eq!(codes, [404, 404, 404]);
    assert_eq!(valid_after.status(), 429);
    assert!(valid_after.headers().contains_key("retry-after"));
}
