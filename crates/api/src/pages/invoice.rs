//! The pages that pay a subscription invoice (`payments.md` §5–6): the checkout of a new
//! subscription (`checkout`) and the recovery page of a past-due one (`recover`). They share their
//! state, their card form and the way an action is answered; each has its own wording.

use super::{
    Answered, HostedPage, PageForm, answer_action, card_inputs, card_value, error_value,
    form_problem, layout, show, wants_json,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::hosted_tokens::PageSigner;
use tally_app::invoice_pages::{InvoicePage, InvoicePageKind};
use tally_domain::FieldError;
use tally_domain::money::format_money;

impl HostedPage for InvoicePage {
    fn state(&self) -> Value {
        let invoice = self.invoice.as_ref();
        json!({
            "kind": self.kind.as_str(),
            "status": match (self.done, self.requires_action) {
                (true, _) => "succeeded",
                (false, true) => "requires_action",
                (false, false) => "open",
            },
            "livemode": self.organization.mode == tally_domain::Mode::Live,
            "amount": invoice.map_or(0, |i| i.total().0),
            "currency": invoice.map(|i| i.currency.as_str()),
            "description": match self.trial_days {
                Some(days) => format!("{days}-day {} trial", self.plan_name),
                None => format!("{} subscription", self.plan_name),
            },
            "invoice": invoice.map(|i| json!({"id": i.id, "invoiceNumber": i.number, "total": i.total().0})),
            "subscription": {"id": self.subscription.id.as_str(), "status": self.subscription.status.as_str(), "planName": self.plan_name},
            "card": self.card.as_ref().map(card_value),
            "error": self.error.as_ref().map(error_value),
            "redirectUrl": null,
        })
    }

    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        let action = format!("/{}/{token}", self.kind.as_str());
        let sandbox = self.organization.mode == tally_domain::Mode::Sandbox;
        let form_key = signer.form_key(token);
        let plan = &self.plan_name;
        let amount = self
            .invoice
            .as_ref()
            .map(|i| format_money(i.total().0, &i.currency));
        let number = self
            .invoice
            .as_ref()
            .map(|i| i.number.as_str())
            .unwrap_or_default();
        let content = html! {
            @if self.done {
                @match (self.kind, &amount) {
                    (InvoicePageKind::Checkout, None) => {
                        h1 { "Your trial has started" }
                        p role="status" { "Your " strong { (plan) } " trial is on. Your card is saved for when it ends. Thank you." }
                    }
                    (InvoicePageKind::Checkout, Some(_)) => {
                        h1 { "You are subscribed" }
                        p role="status" { "Invoice " (number) " is paid and your " strong { (plan) } " subscription is active. Thank you." }
                    }
                    (InvoicePageKind::Recover, _) => {
                        h1 { "Payment received" }
                        p role="status" { "Invoice " (number) " is paid and your " strong { (plan) } " subscription is active again. Thank you." }
                    }
                }
            } @else if self.requires_action {
                h1 { "Confirm your payment" }
                p { "Your bank asks you to confirm this payment of " (amount.clone().unwrap_or_default()) "." }
                @if sandbox {
                    form method="post" action={ (action) "/authenticate" } {
                        input type="hidden" name="formKey" value=(form_key);
                        button type="submit" name="result" value="approve" { "Approve (test authentication)" }
                        button type="submit" name="result" value="fail" class="secondary" { "Fail authentication" }
                    }
                }
            } @else {
                @match (self.kind, &amount) {
                    (InvoicePageKind::Checkout, None) => {
                        h1 { "Start your " (plan) " trial" }
                        p { "Free for " (self.trial_days.unwrap_or(0)) " days. Save a card for when the trial ends; nothing is charged today." }
                    }
                    (InvoicePageKind::Checkout, Some(amount)) => {
                        h1 { "Start your " (plan) " subscription" }
                        p class="amount" { (amount) }
                        p { "Due today for invoice " strong { (number) } "." }
                    }
                    (InvoicePageKind::Recover, amount) => {
                        h1 { "Your payment did not go through" }
                        p { "Invoice " strong { (number) } " for your " strong { (plan) } " subscription is " strong { (amount.clone().unwrap_or_default()) } "." }
                    }
                }
                @if let Some(error) = &self.error { p role="alert" { (error.message) } }
                @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
                // The recovery page can charge the card already saved.
                @if let (InvoicePageKind::Recover, Some(card)) = (self.kind, &self.card) {
                    form method="post" action=(action) {
                        input type="hidden" name="formKey" value=(form_key);
                        input type="hidden" name="action" value="pay_saved";
                        p { "Saved card: " (card.brand) " ending in " (card.last4) "." }
                        button type="submit" id="pay-saved" { "Pay " (amount.clone().unwrap_or_default()) " with this card" }
                    }
                    h2 { "Or use another card" }
                }
                form method="post" action=(action) {
                    input type="hidden" name="formKey" value=(form_key);
                    @match &amount {
                        Some(amount) => {
                            input type="hidden" name="action" value="pay";
                            (card_inputs("Card number", problem))
                            button type="submit" id="pay-new" { "Pay " (amount) }
                        }
                        None => {
                            input type="hidden" name="action" value="start_trial";
                            (card_inputs("Card number", problem))
                            button type="submit" id="pay-new" { "Start the trial" }
                        }
                    }
                }
            }
        };
        let title = match self.kind {
            InvoicePageKind::Checkout => "Checkout",
            InvoicePageKind::Recover => "Pay your invoice",
        };
        layout(title, sandbox, &content)
    }
}

pub(super) async fn checkout_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.checkout_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn recover_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.recover_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

/// How an invoice page's action leads on in HTML: its result in place once done (or while the
/// bank's authentication waits, which is no refusal), else the decline.
fn answered(page: &InvoicePage) -> Answered {
    match page.done || page.requires_action {
        true => Answered::InPlace,
        false => Answered::Refused,
    }
}

/// `POST /checkout/{token}`: `pay` (or, for a trial, `start_trial`) with a card.
pub(super) async fn checkout_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let reload = state.app.checkout_page(&token);
    // `pay` for a subscription's first invoice, `start_trial` for a trial's card.
    if !matches!(form.field("action"), "pay" | "start_trial" | "") {
        let problem = FieldError::new("action", "action must be pay or start_trial");
        return form_problem(&state, &token, form.json, problem, reload).await;
    }
    let outcome = state
        .app
        .pay_checkout(&token, form.card(), form.attempt())
        .await;
    answer_action(&state, (&token, form.json), outcome, answered, reload).await
}

/// `POST /recover/{token}`: `pay_saved`, or `pay` with a card.
pub(super) async fn recover_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let reload = state.app.recover_page(&token);
    let pay_saved = match form.field("action") {
        "pay_saved" => true,
        "pay" | "" => false,
        _ => {
            let problem = FieldError::new("action", "action must be pay or pay_saved");
            return form_problem(&state, &token, form.json, problem, reload).await;
        }
    };
    let outcome = state
        .app
        .recover_on_page(&token, pay_saved, form.card(), form.attempt())
        .await;
    answer_action(&state, (&token, form.json), outcome, answered, reload).await
}

/// `POST /checkout/{token}/authenticate`: `result` `approve` or `fail`, the sandbox's stand-in
/// for the bank's authentication step.
pub(super) async fn checkout_authenticate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let reload = state.app.checkout_page(&token);
    let approved = match form.authentication() {
        Ok(approved) => approved,
        Err(problem) => return form_problem(&state, &token, form.json, problem, reload).await,
    };
    let outcome = state.app.authenticate_checkout(&token, approved).await;
    answer_action(&state, (&token, form.json), outcome, answered, reload).await
}
