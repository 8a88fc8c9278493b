//! Pause and resume over HTTP (`lifecycle.md` §6, 2026-08-27): the contract's scenario 5 with
//! its periods and invoices through the test clock, the webhooks, and the refusals.

use crate::catalog::{pro_plan, send};
use crate::on_both_backends;
use crate::receiver::Receiver;
use crate::support::{DIRECT, TestApp, error_of, json_with_status};
use crate::usage::{
    advance, data, delivered, freeze, invoice_summary, invoices, names, summary_row,
};
use reqwest::Method;
use serde_json::{Value, json};

async fn ok(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> Value {
    json_with_status(send(app, method, path, DIRECT, body).await, 200).await
}

async fn code(
    app: &TestApp,
    version: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: u16,
) -> String {
    let body = json_with_status(send(app, method, path, version, body).await, status).await;
    error_of(&body, version)["code"]
        .as_str()
        .unwrap()
        .to_owned()
}

on_both_backends! {
    async fn a_pause_keeps_its_days_and_a_period_end_pause_resumes_into_a_billed_period(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        let receiver = Receiver::start().await;
        let events = ["invoice.created", "subscription.paused", "subscription.pause_scheduled", "subscription.pause_updated", "subscription.pause_revoked", "subscription.resumed", "customer.state_changed"];
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": events}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "a@acme.test", "id": "user_123"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_123", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        delivered(&app, &receiver, &mut seen).await;
        let pause_path = format!("/subscriptions/{sub}/pause");

        freeze(&app, "2026-09-21T00:00:00.000Z").await;
        assert_eq!(code(&app, "2026-07-31", Method::POST, &pause_path, Some(json!({"mode": "immediate", "durationDays": null})), 404).await, "endpoint_not_available");
        let paused = ok(&app, Method::POST, &pause_path, Some(json!({"mode": "immediate", "durationDays": null}))).await;
        assert_eq!((&paused["status"], &paused["currentPeriod"], &paused["nextBillingDate"]), (&json!("paused"), &Value::Null, &Value::Null));
        assert_eq!(paused["pause"], json!({"status": "active", "mode": "immediate", "requestedAt": "2026-09-21T00:00:00.000Z", "effectiveAt": "2026-09-21T00:00:00.000Z", "resumeAt": null}));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "subscription.paused"]);
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("subscription_paused"));
        let seat = json_with_status(app.post("/seats", DIRECT, &json!({"customerId": "user_123", "featureCode": "editor", "count": 1})).await, 409).await;
        assert_eq!(error_of(&seat, DIRECT)["code"], json!("subscription_not_active"));
        let balance = ok(&app, Method::GET, "/seats/balance?customerId=user_123&featureCode=editor", None).await;
        assert_eq!(balance["current"], json!(6), "seats stay readable");
        assert_eq!(code(&app, DIRECT, Method::POST, &pause_path, Some(json!({"mode": "immediate", "durationDays": 3})), 409).await, "already_scheduled");
        assert_eq!(code(&app, DIRECT, Method::DELETE, &pause_path, None, 409).await, "invalid_subscription_status");

        freeze(&app, "2026-09-28T00:00:00.000Z").await;
        let resumed = ok(&app, Method::POST, &format!("/subscriptions/{sub}/resume"), None).await;
        assert_eq!(resumed, json!({"subscriptionId": sub, "invoiceId": null, "status": "succeeded", "object": "subscription_resume", "livemode": false}));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["status"], &shown["pause"]), (&json!("active"), &Value::Null));
        assert_eq!(shown["currentPeriod"], json!({"start": "2026-09-08T00:00:00.000Z", "end": "2026-10-08T00:00:00.000Z", "daysRemaining": 10}));
        assert_eq!(code(&app, DIRECT, Method::POST, &format!("/subscriptions/{sub}/resume"), None, 409).await, "invalid_subscription_status");

        let scheduled = ok(&app, Method::POST, &pause_path, Some(json!({"mode": "period_end", "durationDays": 14}))).await;
        assert_eq!((&scheduled["status"], &scheduled["nextBillingDate"]), (&json!("active"), &json!("2026-10-22T00:00:00.000Z")));
        assert_eq!(scheduled["pause"], json!({"status": "scheduled", "mode": "period_end", "requestedAt": "2026-09-28T00:00:00.000Z", "effectiveAt": "2026-10-08T00:00:00.000Z", "resumeAt": "2026-10-22T00:00:00.000Z"}));
        // A cancellation waits for the pause to be revoked; a new duration moves the resume.
        assert_eq!(code(&app, DIRECT, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({})), 409).await, "invalid_subscription_status");
        let updated = ok(&app, Method::PATCH, &pause_path, Some(json!({"durationDays": 20}))).await;
        assert_eq!(updated["pause"]["resumeAt"], json!("2026-10-28T00:00:00.000Z"));
        ok(&app, Method::PATCH, &pause_path, Some(json!({"durationDays": 14}))).await;
        delivered(&app, &receiver, &mut seen).await;

        let items = advance(&app, "2026-10-08T00:00:00.000Z").await;
        assert_eq!(items, [("2026-10-08T00:00:00.000Z".to_owned(), "paused".to_owned(), false)]);
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["status"], &shown["pause"]["status"]), (&json!("paused"), &json!("active")));
        let items = advance(&app, "2026-10-22T00:00:00.000Z").await;
        assert_eq!(items, [("2026-10-22T00:00:00.000Z".to_owned(), "resumed".to_owned(), true)]);
        assert_eq!(invoice_summary(&invoices(&app, &sub).await), [
            summary_row("recurring", "2026-09-01", "2026-10-01", 12_400, &["plan_base", "feature_seats"]),
            summary_row("resume", "2026-10-22", "2026-11-22", 12_400, &["plan_base", "feature_seats"]),
        ]);
        let events = delivered(&app, &receiver, &mut seen).await;
        let resumed_event = data(&events, "subscription.resumed");
        assert_eq!((&resumed_event["mode"], &resumed_event["status"], &resumed_event["resumedAt"]), (&json!("period_end"), &json!("active"), &json!("2026-10-22T00:00:00.000Z")));
        assert!(resumed_event["invoiceId"].is_string());
        assert_eq!(data(&events, "subscription.paused")["mode"], json!("period_end"));
    }
}

on_both_backends! {
    async fn a_scheduled_pause_can_be_revoked_and_pauses_need_a_paid_running_subscription(app: TestApp) {
        pro_plan(&app).await;
        app.create_customer(&json!({"email": "b@acme.test", "id": "user_9"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_9", "planCode": "pro"}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let pause_path = format!("/subscriptions/{sub}/pause");
        for (body, field) in [(json!({"mode": "immediate"}), "durationDays"), (json!({"mode": "later", "durationDays": 3}), "mode"), (json!({"mode": "immediate", "durationDays": 0}), "durationDays"), (json!({"durationDays": 3}), "mode")] {
            let refused = json_with_status(send(&app, Method::POST, &pause_path, DIRECT, Some(body.clone())).await, 400).await;
            assert_eq!(error_of(&refused, DIRECT)["param"], json!(field), "{body}");
        }
        assert_eq!(code(&app, DIRECT, Method::PATCH, &pause_path, Some(json!({"durationDays": 3})), 409).await, "invalid_subscription_status");
        ok(&app, Method::POST, &pause_path, Some(json!({"mode": "period_end", "durationDays": null}))).await;
        let revoked = ok(&app, Method::DELETE, &pause_path, None).await;
        assert_eq!((&revoked["pause"], &revoked["status"]), (&Value::Null, &json!("active")));
        // A plan change or cancellation pending blocks a pause.
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({}))).await;
        assert_eq!(code(&app, DIRECT, Method::POST, &pause_path, Some(json!({"mode": "immediate", "durationDays": null})), 409).await, "invalid_subscription_status");
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/uncancel"), Some(json!({}))).await;
        // Paused, it cannot change plan; canceling it ends it at once.
        ok(&app, Method::POST, &pause_path, Some(json!({"mode": "immediate", "durationDays": 30}))).await;
        assert_eq!(code(&app, DIRECT, Method::POST, &format!("/subscriptions/{sub}/change-plan"), Some(json!({"newBillingInterval": "yearly"})), 409).await, "invalid_subscription_status");
        let canceled = ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({}))).await;
        assert_eq!((&canceled["status"], &canceled["pause"]), (&json!("canceled"), &Value::Null));
    }
}

on_both_backends! {
    /// Scenario 5's end: canceled at once, reactivated five days later on a new period with a
    /// `reactivation` invoice of the plan base and the seats kept.
    async fn a_canceled_subscription_is_reactivated_on_a_new_billed_period(app: TestApp) {
        freeze(&app, "2026-10-22T00:00:00.000Z").await;
        pro_plan(&app).await;
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": ["subscription.reactivated", "customer.state_changed"]}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "r@acme.test", "id": "user_r"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_r", "planCode": "pro", "initialSeats": {"editor": 6}}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        let path = format!("/subscriptions/{sub}/reactivate");
        assert_eq!(code(&app, crate::support::LEGACY, Method::POST, &path, Some(json!({})), 409).await, "invalid_subscription_status");
        freeze(&app, "2026-10-25T00:00:00.000Z").await;
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({"immediate": true}))).await;
        delivered(&app, &receiver, &mut seen).await;
        assert_eq!(code(&app, DIRECT, Method::POST, &path, Some(json!({"offerId": "off_1"})), 400).await, "validation_error");

        freeze(&app, "2026-10-30T00:00:00.000Z").await;
        let legacy = json_with_status(send(&app, Method::POST, &path, crate::support::LEGACY, Some(json!({}))).await, 200).await;
        assert_eq!(legacy, json!({"success": true, "data": {"id": sub, "retryInitiated": true, "object": "subscription", "livemode": false}}));
        let shown = ok(&app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
        assert_eq!((&shown["status"], &shown["cancellation"], &shown["endDate"]), (&json!("active"), &Value::Null, &Value::Null));
        assert_eq!(shown["currentPeriod"], json!({"start": "2026-10-30T00:00:00.000Z", "end": "2026-11-30T00:00:00.000Z", "daysRemaining": 31}));
        let reactivation = invoices(&app, &sub).await.into_iter().find(|i| i["invoiceType"] == json!("reactivation")).unwrap();
        assert_eq!((&reactivation["total"], &reactivation["periodStart"]), (&json!(12_400), &json!("2026-10-30T00:00:00.000Z")));
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["customer.state_changed", "subscription.reactivated"]);
        let event = data(&events, "subscription.reactivated");
        assert_eq!((&event["invoiceTotal"], &event["provider"], &event["invoiceId"]), (&json!(12_400), &Value::Null, &reactivation["id"]));
        assert_eq!(data(&events, "customer.state_changed")["trigger"], json!("subscription_activated"));
        // Active again, it cannot be reactivated; a second live subscription blocks it.
        assert_eq!(code(&app, DIRECT, Method::POST, &path, None, 409).await, "invalid_subscription_status");
        ok(&app, Method::POST, &format!("/subscriptions/{sub}/cancel"), Some(json!({"immediate": true}))).await;
        ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_r", "planCode": "pro"}))).await;
        assert_eq!(code(&app, DIRECT, Method::POST, &path, None, 409).await, "already_has_active_subscription");
    }
}

on_both_backends! {
    /// A trial paused at its end is never charged before its resume: the `resume` invoice is
    /// its first, so the resume activates it too.
    async fn a_trial_paused_at_its_end_is_activated_by_its_resume(app: TestApp) {
        freeze(&app, "2026-09-01T00:00:00.000Z").await;
        pro_plan(&app).await;
        let receiver = Receiver::start().await;
        ok(&app, Method::POST, "/webhooks", Some(json!({"url": receiver.url, "events": ["subscription.activated", "subscription.resumed", "subscription.paused"]}))).await;
        let mut seen = 0;
        app.create_customer(&json!({"email": "t@acme.test", "id": "user_t"})).await;
        let sub = ok(&app, Method::POST, "/subscriptions", Some(json!({"customerId": "user_t", "planCode": "pro", "customTrialDays": 10}))).await;
        let sub = sub["id"].as_str().unwrap().to_owned();
        assert_eq!(sub_status(&app, &sub).await, "trialing");
        let paused = ok(&app, Method::POST, &format!("/subscriptions/{sub}/pause"), Some(json!({"mode": "period_end", "durationDays": 5}))).await;
        assert_eq!(paused["pause"]["effectiveAt"], json!("2026-09-11T00:00:00.000Z"));
        let items = advance(&app, "2026-09-16T00:00:00.000Z").await;
        let outcomes: Vec<_> = items.iter().map(|(at, outcome, billed)| (at.as_str(), outcome.as_str(), *billed)).collect();
        assert_eq!(outcomes, [("2026-09-11T00:00:00.000Z", "paused", false), ("2026-09-16T00:00:00.000Z", "resumed", true)]);
        assert_eq!(invoice_summary(&invoices(&app, &sub).await), [
            summary_row("resume", "2026-09-16", "2026-10-16", 9_900, &["plan_base"]),
        ]);
        let events = delivered(&app, &receiver, &mut seen).await;
        assert_eq!(names(&events), ["subscription.activated", "subscription.paused", "subscription.resumed"]);
        assert_eq!(data(&events, "subscription.activated")["invoiceTotal"], json!(9_900));
        assert_eq!(sub_status(&app, &sub).await, "active");
    }
}

async fn sub_status(app: &TestApp, sub: &str) -> String {
    let shown = ok(app, Method::GET, &format!("/subscriptions/{sub}"), None).await;
    shown["status"].as_str().unwrap().to_owned()
}
