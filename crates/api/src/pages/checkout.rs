//! The checkout page (`payments.md` §5): the customer of a subscription waiting in
//! `pending_payment` pays its first invoice with a card, which becomes their default.

use super::{
    HostedPage, card_value, error_value, form_problem, layout, posted, sent_json, show, wants_json,
};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::AppError;
use tally_app::checkout::CheckoutPage;
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::PageRefusal;
use tally_domain::FieldError;
use tally_domain::money::format_money;

impl HostedPage for CheckoutPage {
    fn state(&self) -> Value {
        checkout_json(self)
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        checkout_html(self, signer, token, problem)
    }
}

fn checkout_json(page: &CheckoutPage) -> Value {
    json!({
        "kind": "checkout",
        "status": if page.paid { "succeeded" } else { "open" },
        "livemode": page.organization.mode == tally_domain::Mode::Live,
        "amount": page.invoice.total().0,
        "currency": page.invoice.currency,
        "description": format!("{} subscription", page.plan_name),
        "invoice": {"id": page.invoice.id, "invoiceNumber": page.invoice.number, "total": page.invoice.total().0},
        "subscription": {"id": page.subscription.id.as_str(), "status": page.subscription.status.as_str(), "planName": page.plan_name},
        "card": page.card.as_ref().map(card_value),
        "error": page.error.as_ref().map(error_value),
        "redirectUrl": null,
    })
}

pub(super) async fn checkout_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.checkout_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn checkout_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let json = wants_json(&headers) || sent_json(&headers);
    let fields = match posted(&state, &headers, &token, &body, json).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let field = |name: &str| fields.get(name).cloned().unwrap_or_default();
    if !matches!(field("action").as_str(), "pay" | "") {
        let problem = FieldError::new("action", "action must be pay");
        return form_problem(
            &state,
            &token,
            json,
            problem,
            state.app.checkout_page(&token),
        )
        .await;
    }
    let card = (
        field("cardNumber"),
        field("expMonth"),
        field("expYear"),
        field("cvc"),
    );
    let attempt = fields.get("attempt").cloned().filter(|a| !a.is_empty());
    let outcome = state
        .app
        .pay_checkout(&token, (&card.0, &card.1, &card.2, &card.3), attempt)
        .await;
    match outcome {
        Err(AppError::Page(PageRefusal::Form(problem))) => {
            form_problem(
                &state,
                &token,
                json,
                problem,
                state.app.checkout_page(&token),
            )
            .await
        }
        // Paid: the page shows the result in place.
        Ok(page) if !json && page.paid => show(&state, &token, false, Ok(page), None, None).await,
        Ok(page) if !json => {
            show(
                &state,
                &token,
                false,
                Ok(page),
                Some(StatusCode::UNPROCESSABLE_ENTITY),
                None,
            )
            .await
        }
        other => show(&state, &token, json, other, None, None).await,
    }
}

fn checkout_html(
    page: &CheckoutPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let action = format!("/checkout/{token}");
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let amount = format_money(page.invoice.total().0, &page.invoice.currency);
    let content = html! {
        @if page.paid {
            h1 { "You are subscribed" }
            p role="status" { "Invoice " (page.invoice.number) " is paid and your " strong { (page.plan_name) } " subscription is active. Thank you." }
        } @else {
            h1 { "Start your " (page.plan_name) " subscription" }
            p class="amount" { (amount) }
            p { "Due today for invoice " strong { (page.invoice.number) } "." }
            @if let Some(error) = &page.error { p role="alert" { (error.message) } }
            @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
            form method="post" action=(action) {
                input type="hidden" name="formKey" value=(signer.form_key(token));
                input type="hidden" name="action" value="pay";
                label for="cardNumber" { "Card number" }
                input id="cardNumber" name="cardNumber" type="text" inputmode="numeric" autocomplete="cc-number" required;
                div class="row" {
                    div { label for="expMonth" { "Expiry month" } input id="expMonth" name="expMonth" type="text" inputmode="numeric" placeholder="MM" required; }
                    div { label for="expYear" { "Expiry year" } input id="expYear" name="expYear" type="text" inputmode="numeric" placeholder="YY" required; }
                    div { label for="cvc" { "Security code" } input id="cvc" name="cvc" type="text" inputmode="numeric" required; }
                }
                button type="submit" { "Pay " (amount) }
            }
        }
    };
    layout("Checkout", sandbox, &content)
}
