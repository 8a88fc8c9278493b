//! Claim links over HTTP (`payments.md` §10.2): a pair started `--headless` is claimed once,
//! through its newest link, from either key; a pair that was never headless has no claim.

use crate::catalog::send;
use crate::on_both_backends;
use crate::support::{DIRECT, LIVE_KEY, Options, TestApp, error_of, json_with_status};
use crate::usage::freeze;
use reqwest::Method;
use serde_json::{Value, json};

fn headless() -> Options {
    Options {
        headless: true,
        ..Options::default()
    }
}

async fn claim_link(app: &TestApp) -> Value {
    json_with_status(
        send(app, Method::POST, "/claim-link", DIRECT, Some(json!({}))).await,
        200,
    )
    .await
}

async fn claim_link_live(app: &TestApp, status: u16) -> Value {
    let response = app
        .client
        .post(app.url("/claim-link"))
        .header("x-api-key", LIVE_KEY)
        .header("commet-version", DIRECT)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    json_with_status(response, status).await
}

/// The page's JSON state, or its status when it has none.
async fn page_state(app: &TestApp, url: &str) -> (u16, Value) {
    let response = app
        .client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn claim(app: &TestApp, url: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .post(url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

on_both_backends! {
    with headless();
    /// Each link replaces the ones before it and works for seven days of the organization's
    /// clock; the first completed claim records the owner for both sides, once.
    async fn a_headless_pair_is_claimed_once_through_its_newest_link(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        let first = claim_link(&app).await;
        let first_url = first["url"].as_str().unwrap().to_owned();
        assert!(first_url.starts_with(&format!("{}/claim/tok_", app.address)), "{first}");
        assert_eq!((&first["expiresAt"], &first["object"], &first["livemode"]),
            (&json!("2026-09-08T00:00:00.000Z"), &json!("claim_link"), &json!(false)));
        let (status, open) = page_state(&app, &first_url).await;
        assert_eq!((status, &open["status"], &open["owner"]), (200, &json!("open"), &json!(null)), "{open}");
        let (live_id, sandbox_id) = (open["organization"]["liveId"].clone(), open["organization"]["sandboxId"].clone());
        assert!(live_id.is_string() && sandbox_id.is_string() && live_id != sandbox_id, "{open}");

        // The live key issues one too; the sandbox's older link stops working.
        let live = claim_link_live(&app, 200).await;
        assert_eq!(live["livemode"], json!(true));
        assert_eq!(page_state(&app, &first_url).await.0, 410);
        // A week on the sandbox clock ends a link.
        let newest = claim_link(&app).await;
        let newest_url = newest["url"].as_str().unwrap().to_owned();
        assert_eq!(page_state(&app, live["url"].as_str().unwrap()).await.0, 410, "replaced");
        freeze(&app, "2026-09-08T00:00:00.000Z").await;
        assert_eq!(page_state(&app, &newest_url).await.0, 410, "expired");
        let url = claim_link(&app).await["url"].as_str().unwrap().to_owned();

        let (status, refused) = claim(&app, &url, json!({"action": "claim", "email": "not an address", "name": "Jane Doe"})).await;
        assert_eq!((status, &refused["error"]["param"]), (422, &json!("email")), "{refused}");
        let (status, claimed) = claim(&app, &url, json!({"action": "claim", "email": "jane@acme.test", "name": "Jane Doe"})).await;
        assert_eq!((status, &claimed["status"], &claimed["owner"]), (200, &json!("succeeded"), &json!({"email": "jane@acme.test", "name": "Jane Doe"})), "{claimed}");
        assert_eq!((&claimed["organization"]["liveId"], &claimed["organization"]["sandboxId"]), (&live_id, &sandbox_id));
        assert_eq!(page_state(&app, &url).await.0, 410, "claimed once");
        let (status, _) = claim(&app, &url, json!({"action": "claim", "email": "mallory@acme.test", "name": "Mallory"})).await;
        assert_eq!(status, 410);

        let response = send(&app, Method::POST, "/claim-link", DIRECT, Some(json!({}))).await;
        let error = error_of(&json_with_status(response, 409).await, DIRECT);
        assert_eq!((&error["type"], &error["code"]), (&json!("conflict_error"), &json!("organization_already_claimed")));
        let live = error_of(&claim_link_live(&app, 409).await, DIRECT);
        assert_eq!(live["code"], json!("organization_already_claimed"), "both sides are claimed");
    }
}

on_both_backends! {
    /// A pair made with an owner (the default first start) has nothing to claim.
    async fn a_pair_that_was_never_headless_has_no_claim(app: TestApp) {
        let response = send(&app, Method::POST, "/claim-link", DIRECT, Some(json!({}))).await;
        let error = error_of(&json_with_status(response, 404).await, DIRECT);
        assert_eq!((&error["type"], &error["code"]), (&json!("not_found_error"), &json!("claim_not_pending")));
        let forged = format!("{}/claim/tok_e30.AAAA", app.address);
        assert_eq!(page_state(&app, &forged).await.0, 404);
    }
}
