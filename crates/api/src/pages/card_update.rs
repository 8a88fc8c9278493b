//! The card-update page (`subscriptions.updatePaymentMethod`, `payments.md` §6).

use super::{
    Answered, HostedPage, PageForm, answer_action, card_inputs, card_value, error_value, layout,
    show, wants_json,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::card_updates::CardPage;
use tally_app::hosted_tokens::PageSigner;
use tally_domain::FieldError;

impl HostedPage for CardPage {
    fn state(&self) -> Value {
        card_json(self)
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        card_html(self, signer, token, problem)
    }
}

fn card_json(page: &CardPage) -> Value {
    json!({
        "kind": "payment_method",
        "status": if page.saved { "succeeded" } else { "open" },
        "livemode": page.organization.mode == tally_domain::Mode::Live,
        "subscription": {"id": page.subscription.id.as_str(), "status": page.subscription.status.as_str(), "planName": page.plan_name},
        "card": page.card.as_ref().map(card_value),
        "error": page.error.as_ref().map(error_value),
        "redirectUrl": if page.saved { page.redirect.clone() } else { None },
    })
}

pub(super) async fn card_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.card_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn card_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let outcome = state.app.save_card_on_page(&token, form.card()).await;
    // Saved: on to the merchant's page, else back here.
    let answered = |page: &CardPage| match (page.saved, &page.redirect) {
        (false, _) => Answered::Refused,
        (true, Some(url)) => Answered::SeeOther(url.clone()),
        (true, None) => Answered::SeeOther(format!("/payment-method/{token}")),
    };
    let reload = state.app.card_page(&token);
    answer_action(&state, (&token, form.json), outcome, answered, reload).await
}

fn card_html(
    page: &CardPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let action = format!("/payment-method/{token}");
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let content = html! {
        h1 { "Update your card" }
        p { "For your " strong { (page.plan_name) } " subscription." }
        @match &page.card {
            Some(card) => p { "Current card: " (card.brand) " ending in " (card.last4) "." },
            None => p { "No card saved yet." },
        }
        @if let Some(error) = &page.error { p role="alert" { (error.message) } }
        @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
        form method="post" action=(action) {
            input type="hidden" name="formKey" value=(signer.form_key(token));
            (card_inputs("Card number", problem))
            button type="submit" { "Save card" }
        }
    };
    layout("Update your card", sandbox, &content)
}
