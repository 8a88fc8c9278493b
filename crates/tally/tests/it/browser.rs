//! The hosted pages in a real browser (pay page, portal, checkout, recovery page): headless
//! Chromium driven over WebDriver (`chromium-driver`, Debian's package, started by the
//! test), on a phone-sized window. Each
//! step saves a screenshot under `<target tmp>/browser/` to be looked at. Without Chromium and
//! its driver the tests report that they skipped, unless `TALLY_TEST_REQUIRE_BROWSER=1` makes
//! that a failure (CI installs both).

use crate::catalog::send;
use crate::on_both_backends;
use crate::support::{DIRECT, TestApp, json_with_status};
use crate::usage::freeze;
use fantoccini::{Client, ClientBuilder, Locator};
use reqwest::Method;
use serde_json::{Value, json};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_BROWSER";
const DRIVERS: [&str; 2] = ["chromedriver", "/usr/bin/chromedriver"];

/// A running `chromedriver` with one headless Chromium session; both end when this is dropped.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    shots: std::path::PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the driver and a session on a phone-sized window, or `None` (reported) when
/// Chromium is not installed.
async fn browser(name: &str) -> Option<Browser> {
    browser_sized(name, "390,844").await
}

/// `browser` with a window of `size` (`width,height`).
pub(crate) async fn browser_sized(name: &str, size: &str) -> Option<Browser> {
    let port = free_port();
    let driver = DRIVERS.iter().find_map(|program| {
        Command::new(program)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()
    });
    let Some(driver) = driver else {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but chromedriver (Debian's chromium-driver) is missing"
        );
        eprintln!("skipped: the browser tests (chromedriver is missing)");
        return None;
    };
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({"args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",  &format!("--window-size={size}")]}),
    );
    let url = format!("http://127.0.0.1:{port}");
    let mut last_error = None;
    // The driver takes a moment to listen.
    for _ in 0..50 {
        // The driver is local: plain HTTP, no TLS.
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector)
            .capabilities(capabilities.clone())
            .connect(&url)
            .await
        {
            Ok(client) => {
                let shots = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
                    .join("browser")
                    .join(name);
                std::fs::create_dir_all(&shots).unwrap();
                return Some(Browser {
                    client,
                    driver,
                    shots,
                });
            }
            Err(error) => {
                last_error = Some(error.to_string());
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    panic!("chromedriver did not start a session: {last_error:?}");
}

impl Browser {
    /// Saves what the window shows as `<step>.png` and checks a picture came out.
    pub(crate) async fn screenshot(&self, step: &str) {
        let png = self.client.screenshot().await.unwrap();
        assert!(
            png.starts_with(b"\x89PNG") && png.len() > 2_000,
            "{step}: a picture"
        );
        std::fs::write(self.shots.join(format!("{step}.png")), png).unwrap();
    }

    pub(crate) async fn fill(&self, id: &str, text: &str) {
        let field = self.client.find(Locator::Id(id)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub(crate) async fn text(&self) -> String {
        self.client
            .find(Locator::Css("body"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Types a card into the pay form, submits it, and waits for the page that answers (the one
    /// showing `expected`, a CSS selector the form's page does not have).
    async fn pay_with(&self, number: &str, expected: &str) {
        self.fill("cardNumber", number).await;
        self.fill("expMonth", "12").await;
        self.fill("expYear", "34").await;
        self.fill("cvc", "123").await;
        self.client
            .find(Locator::Css("form:has(#cardNumber) button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(expected))
            .await
            .unwrap();
    }
}

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

on_both_backends! {
    /// A customer opens a payment link on a phone: the declined card shows the decline and
    /// nothing is charged; the success card pays, and the page shows the receipt.
    async fn a_customer_pays_a_link_in_a_browser_after_a_decline(app: TestApp) {
        let Some(browser) = browser(if app.database_url.starts_with("postgres") { "pay-postgres" } else { "pay-sqlite" }).await else {
            return;
        };
        freeze(&app, "2026-10-05T00:00:00.000Z").await;
        app.create_customer(&json!({"email": "b@acme.test", "id": "user_b"})).await;
        let link = ok(&app, Method::POST, "/payments", Some(json!({"amount": 4_200, "currency": "usd", "description": "Team workshop", "customerId": "user_b"}))).await;
        let url = link["url"].as_str().unwrap();
        browser.client.goto(url).await.unwrap();
        let page = browser.text().await;
        assert!(page.contains("Team workshop") && page.contains("$42.00 USD") && page.contains("Test mode"), "{page}");
        browser.screenshot("1-open").await;

        browser.pay_with("4000 0000 0000 0002", "[role=alert]").await;
        let page = browser.text().await;
        assert!(page.contains("Your card was declined."), "{page}");
        browser.screenshot("2-declined").await;
        let payment = ok(&app, Method::GET, &format!("/payments/{}", link["id"].as_str().unwrap()), None).await;
        assert_eq!(payment["status"], json!("failed"));
        let invoices = ok(&app, Method::GET, "/invoices?customerId=user_b", None).await;
        assert_eq!(invoices["data"], json!([]), "nothing was charged");

        browser.pay_with("4242 4242 4242 4242", "p.ok").await;
        let page = browser.text().await;
        assert!(page.contains("Paid. Thank you."), "{page}");
        browser.screenshot("3-paid").await;
        let payment = ok(&app, Method::GET, &format!("/payments/{}", link["id"].as_str().unwrap()), None).await;
        assert_eq!(payment["status"], json!("succeeded"));
        let invoices = ok(&app, Method::GET, "/invoices?customerId=user_b", None).await;
        assert_eq!(invoices["data"][0]["total"], json!(4_200));
        browser.client.clone().close().await.unwrap();
    }
}

on_both_backends! {
    /// A customer opens the portal in a browser, sees their invoice, and cancels at the end of
    /// the period.
    async fn the_portal_shows_the_invoices_and_cancels_at_period_end(app: TestApp) {
        let Some(browser) = browser(if app.database_url.starts_with("postgres") { "portal-postgres" } else { "portal-sqlite" }).await else {
            return;
        };
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "p@acme.test", "id": "user_p", "fullName": "Pat Doe"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_p", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let access = ok(&app, Method::POST, "/portal/sessions", Some(json!({"customerId": "user_p"}))).await;
        browser.client.goto(access["portalUrl"].as_str().unwrap()).await.unwrap();
        let page = browser.text().await;
        assert!(page.contains("Billing for Pat Doe") && page.contains("INV-000001") && page.contains("$124.00 USD"), "{page}");
        browser.screenshot("1-portal").await;

        browser
            .client
            .find(Locator::Css("button[value=cancel]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css("button[value=uncancel]"))
            .await
            .unwrap();
        let page = browser.text().await;
        assert!(page.contains("Ends on Oct 1, 2026."), "{page}");
        browser.screenshot("2-canceled").await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{}", sub["id"].as_str().unwrap()), None).await;
        assert_eq!(shown["status"], json!("active"), "it runs to the end of the period");
        assert!(shown.to_string().contains("2026-10-01T00:00:00.000Z"), "{shown}");
        browser.client.clone().close().await.unwrap();
    }
}

/// A page action in JSON, the way a test sets the scene before the browser takes over.
async fn page_json(app: &TestApp, url: &str, body: Value) -> Value {
    let response = app
        .client
        .post(url)
        .header("accept", "application/json")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

on_both_backends! {
    with crate::support::Options { charge: true, ..crate::support::Options::default() };
    /// A past-due customer opens the recovery page on a phone: the saved card is declined
    /// again and the page says so; a new card pays, and the subscription is active again.
    async fn a_past_due_customer_recovers_on_the_recovery_page(app: TestApp) {
        let Some(browser) = browser(if app.database_url.starts_with("postgres") { "recover-postgres" } else { "recover-sqlite" }).await else {
            return;
        };
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "r@acme.test", "id": "user_r", "fullName": "Robin Doe"})).await;
        let link = ok(&app, Method::POST, "/payments", Some(json!({"amount": 1_000, "currency": "usd", "description": "Card on file", "customerId": "user_r"}))).await;
        let card = |number: &str| json!({"action": "pay", "cardNumber": number, "expMonth": "12", "expYear": "34", "cvc": "123"});
        page_json(&app, link["url"].as_str().unwrap(), card("4242424242424242")).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_r", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let update = ok(&app, Method::POST, &format!("/subscriptions/{sub}/payment-method/update"), Some(json!({}))).await;
        page_json(&app, update["checkoutUrl"].as_str().unwrap(), card("4000000000000341")).await;
        freeze(&app, "2026-10-01T00:00:00.000Z").await;
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("past_due"));

        let recovery = ok(&app, Method::POST, &format!("/subscriptions/{sub}/recovery-links"), Some(json!({}))).await;
        browser.client.goto(recovery["url"].as_str().unwrap()).await.unwrap();
        let page = browser.text().await;
        assert!(page.contains("Your payment did not go through") && page.contains("$124.00 USD") && page.contains("ending in 0341"), "{page}");
        browser.screenshot("1-open").await;

        browser.client.find(Locator::Id("pay-saved")).await.unwrap().click().await.unwrap();
        browser.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css("[role=alert]")).await.unwrap();
        let page = browser.text().await;
        assert!(page.contains("Your card was declined."), "{page}");
        browser.screenshot("2-declined").await;
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await["status"], json!("past_due"));

        browser.pay_with("4242 4242 4242 4242", "[role=status]").await;
        let page = browser.text().await;
        assert!(page.contains("Payment received") && page.contains("active again"), "{page}");
        browser.screenshot("3-paid").await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["status"], &shown["nextBillingDate"]), (&json!("active"), &json!("2026-11-01T00:00:00.000Z")));
        browser.client.clone().close().await.unwrap();
    }
}

on_both_backends! {
    with crate::support::Options { charge: true, ..crate::support::Options::default() };
    /// A new customer pays their subscription's checkout on a phone: the declined card is
    /// shown and nothing is charged; the success card pays and the subscription is active.
    async fn a_customer_pays_a_checkout_and_the_subscription_becomes_active(app: TestApp) {
        let Some(browser) = browser(if app.database_url.starts_with("postgres") { "checkout-postgres" } else { "checkout-sqlite" }).await else {
            return;
        };
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        crate::catalog::pro_plan(&app).await;
        app.create_customer(&json!({"email": "c@acme.test", "id": "user_c", "fullName": "Casey Doe"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_c", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        assert_eq!(sub["status"], json!("pending_payment"));
        let id = sub["id"].as_str().unwrap().to_owned();
        browser.client.goto(sub["checkoutUrl"].as_str().unwrap()).await.unwrap();
        let page = browser.text().await;
        assert!(page.contains("Start your Pro subscription") && page.contains("$124.00 USD") && page.contains("Test mode"), "{page}");
        browser.screenshot("1-open").await;

        browser.pay_with("4000 0000 0000 0002", "[role=alert]").await;
        let page = browser.text().await;
        assert!(page.contains("Your card was declined."), "{page}");
        browser.screenshot("2-declined").await;
        assert_eq!(ok(&app, Method::GET, &format!("/subscriptions/{id}"), None).await["status"], json!("pending_payment"));
        let invoices = ok(&app, Method::GET, "/invoices?customerId=user_c", None).await;
        assert_eq!(invoices["data"][0]["status"], json!("outstanding"), "nothing was charged");

        browser.pay_with("4242 4242 4242 4242", "[role=status]").await;
        let page = browser.text().await;
        assert!(page.contains("You are subscribed"), "{page}");
        browser.screenshot("3-paid").await;
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{id}"), None).await;
        assert_eq!((&shown["status"], &shown["nextBillingDate"]), (&json!("active"), &json!("2026-10-01T00:00:00.000Z")));
        let invoices = ok(&app, Method::GET, "/invoices?customerId=user_c", None).await;
        assert_eq!((&invoices["data"][0]["status"], &invoices["data"][0]["total"]), (&json!("paid"), &json!(12_400)));
        browser.client.clone().close().await.unwrap();
    }
}
