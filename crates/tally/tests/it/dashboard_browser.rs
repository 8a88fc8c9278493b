//! The operator dashboard in headless Chromium (`docs/contract/dashboard.md`), on both
//! backends: sign in, find a customer, change seats and see the timeline and the count move,
//! advance the sandbox clock and open the renewal invoice it issued, and resend a failed
//! webhook delivery to a local receiver. Each step saves a screenshot under
//! `<target tmp>/browser/dashboard-<backend>/`.

use crate::browser::browser_sized;
use crate::catalog::pro_plan;
use crate::on_both_backends;
use crate::receiver::{Answer, Receiver};
use crate::support::{DASHBOARD_CREDENTIAL, DIRECT, TestApp, json_with_status};
use crate::usage::freeze;
use fantoccini::Locator;
use serde_json::{Value, json};
use std::time::Duration;

async fn dispatch(app: &TestApp) -> tally_workers::DispatchReport {
    tally_workers::Dispatcher::new(app.app.clone(), Duration::from_millis(100))
        .run_once()
        .await
        .unwrap()
}

async fn deliveries(app: &TestApp, hook: &str) -> Value {
    json_with_status(
        app.get(&format!("/webhooks/{hook}/deliveries"), DIRECT)
            .await,
        200,
    )
    .await
}

on_both_backends! {
    async fn an_operator_steers_a_customer_from_the_dashboard(app: TestApp) {
        let name = if app.database_url.starts_with("postgres") { "dashboard-postgres" } else { "dashboard-sqlite" };
        let Some(browser) = browser_sized(name, "1280,1000").await else {
            return;
        };
        let wait = |css: &'static str| {
            let client = browser.client.clone();
            async move {
                client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(css)).await.unwrap()
            }
        };
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "grace@acme.test", "id": "user_g", "fullName": "Grace Hopper"})).await;
        json_with_status(app.post("/subscriptions", DIRECT, &json!({"customerId": "user_g", "planCode": "pro", "initialSeats": {"editor": 3}})).await, 200).await;
        let receiver = Receiver::start().await;
        // Down for the first delivery's whole retry ladder, up afterwards.
        receiver.script(&[Answer::Status(503); 8]);
        let hook = json_with_status(app.post("/webhooks", DIRECT, &json!({"url": receiver.url, "events": ["seats.updated"]})).await, 200).await;
        let hook = hook["id"].as_str().unwrap().to_owned();

        // 1. Sign in.
        browser.client.goto(&format!("{}/dashboard", app.address)).await.unwrap();
        wait("#credential").await;
        browser.fill("credential", DASHBOARD_CREDENTIAL).await;
        browser.client.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
        wait("#q").await;
        let page = browser.text().await;
        assert!(page.contains("SANDBOX") && page.contains("Customers"), "{page}");
        browser.screenshot("1-signed-in").await;

        // 2. Find the customer by e-mail and open them.
        browser.fill("q", "grace@acme.test").await;
        browser.client.find(Locator::Id("find")).await.unwrap().click().await.unwrap();
        wait("#customers").await;
        browser.client.find(Locator::LinkText("Grace Hopper")).await.unwrap().click().await.unwrap();
        wait("#seat-chart").await;
        let chart = browser.client.find(Locator::Css("#seat-chart path[data-feature=editor]")).await.unwrap();
        assert_eq!(chart.attr("data-last").await.unwrap().as_deref(), Some("3"));
        browser.screenshot("2-customer").await;

        // 3. Change seats: the notice, the count and the timeline follow.
        browser.fill("count-editor", "8").await;
        browser.client.find(Locator::Id("set-editor")).await.unwrap().click().await.unwrap();
        wait("p.ok").await;
        let page = browser.text().await;
        assert!(page.contains("8 seats of editor: was 3."), "{page}");
        let count = browser.client.find(Locator::Css("tr[data-feature=editor] .seat-count")).await.unwrap();
        assert_eq!(count.text().await.unwrap(), "8");
        let chart = browser.client.find(Locator::Css("#seat-chart path[data-feature=editor]")).await.unwrap();
        assert_eq!(chart.attr("data-last").await.unwrap().as_deref(), Some("8"));
        let svg = browser.client.find(Locator::Id("seat-chart")).await.unwrap();
        assert_eq!(svg.attr("data-events").await.unwrap().as_deref(), Some("2"));
        let balance = json_with_status(app.get("/seats/balance?customerId=user_g&featureCode=editor", DIRECT).await, 200).await;
        assert_eq!(balance["current"], 8, "the API sees the change");
        browser.screenshot("3-seats-changed").await;

        // 4. Advance the test clock past the renewal and open the invoice it issued.
        browser.client.find(Locator::LinkText("Test clock")).await.unwrap().click().await.unwrap();
        wait("#days").await;
        browser.fill("days", "31").await;
        browser.client.find(Locator::Id("advance")).await.unwrap().click().await.unwrap();
        wait("#latest-run").await;
        let page = browser.text().await;
        assert!(page.contains("Advanced to 2026-10-02 00:00 UTC"), "{page}");
        assert!(page.contains("Grace Hopper"), "{page}");
        browser.screenshot("4-clock-advanced").await;
        browser.client.find(Locator::Css("a.run-invoice")).await.unwrap().click().await.unwrap();
        wait("#invoice-lines").await;
        let page = browser.text().await;
        assert!(page.contains("recurring") && page.contains("plan_base"), "the renewal invoice: {page}");
        assert!(page.contains("2026-10-01 00:00 UTC"), "the renewal's period: {page}");
        browser.screenshot("5-renewal-invoice").await;
        let url = browser.client.current_url().await.unwrap();
        let id = url.path().rsplit('/').next().unwrap().to_owned();
        let invoice = json_with_status(app.get(&format!("/invoices/{id}"), DIRECT).await, 200).await;
        let shown = browser.client.find(Locator::Css("h1")).await.unwrap().text().await.unwrap();
        assert_eq!(shown, format!("Invoice {}", invoice["invoiceNumber"].as_str().unwrap()));
        assert_eq!(invoice["periodStart"], "2026-10-01T00:00:00.000Z", "{invoice}");

        // 5. The seat change's delivery fails through its whole retry ladder…
        let clock = app.clock.as_ref().unwrap();
        for _ in 0..8 {
            dispatch(&app).await;
            clock.advance_millis(3_600_000);
        }
        let log = deliveries(&app, &hook).await;
        assert_eq!(log["data"][0]["status"], "failed", "{log}");
        // …and the operator resends it, now that the receiver answers.
        browser.client.goto(&format!("{}/dashboard/webhooks/{hook}", app.address)).await.unwrap();
        wait("#deliveries").await;
        let status = browser.client.find(Locator::Css("#deliveries .delivery-status")).await.unwrap();
        assert_eq!(status.text().await.unwrap(), "failed");
        browser.screenshot("6-delivery-failed").await;
        browser.client.find(Locator::Css("#deliveries button.resend")).await.unwrap().click().await.unwrap();
        wait("p.ok").await;
        let report = dispatch(&app).await;
        assert_eq!((report.attempts, report.succeeded), (1, 1));
        browser.client.refresh().await.unwrap();
        wait("#deliveries").await;
        let status = browser.client.find(Locator::Css("#deliveries .delivery-status")).await.unwrap();
        assert_eq!(status.text().await.unwrap(), "succeeded");
        browser.screenshot("7-delivery-resent").await;
        let received = receiver.received();
        assert_eq!(received.len(), 9, "eight failed attempts and the resend");
        assert_eq!(received[0].body, received[8].body, "the same event, byte for byte");

        // Signing out ends the session: the pages lead back to the sign-in form.
        browser.client.find(Locator::Id("sign-out")).await.unwrap().click().await.unwrap();
        wait("#credential").await;
        browser.client.goto(&format!("{}/dashboard/customers", app.address)).await.unwrap();
        wait("#credential").await;
        browser.client.clone().close().await.unwrap();
    }
}
