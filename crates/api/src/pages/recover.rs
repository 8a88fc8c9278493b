//! The recovery page (`createRecoveryLink`, `payment.failed`'s `recoveryUrl`, `payments.md`
//! §6): the customer of a past-due subscription pays its invoice with the saved card or a new
//! one, which becomes the default.

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
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::PageRefusal;
use tally_app::recovery::RecoverPage;
use tally_domain::FieldError;
use tally_domain::money::format_money;

impl HostedPage for RecoverPage {
    fn state(&self) -> Value {
        recover_json(self)
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        recover_html(self, signer, token, problem)
    }
}

fn recover_json(page: &RecoverPage) -> Value {
    json!({
        "kind": "recover",
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

pub(super) async fn recover_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.recover_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

pub(super) async fn recover_action(
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
    let pay_saved = match field("action").as_str() {
        "pay_saved" => true,
        "pay" | "" => false,
        _ => {
            let problem = FieldError::new("action", "action must be pay or pay_saved");
            return form_problem(
                &state,
                &token,
                json,
                problem,
                state.app.recover_page(&token),
            )
            .await;
        }
    };
    let card = (
        field("cardNumber"),
        field("expMonth"),
        field("expYear"),
        field("cvc"),
    );
    let attempt = fields.get("attempt").cloned().filter(|a| !a.is_empty());
    let outcome = state
        .app
        .recover_on_page(
            &token,
            pay_saved,
            (&card.0, &card.1, &card.2, &card.3),
            attempt,
        )
        .await;
    match outcome {
        Err(AppError::Page(PageRefusal::Form(problem))) => {
            form_problem(
                &state,
                &token,
                json,
                problem,
                state.app.recover_page(&token),
            )
            .await
        }
        // Paid: the page is done; its result shows once, at this address.
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

fn recover_html(
    page: &RecoverPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let action = format!("/recover/{token}");
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let amount = format_money(page.invoice.total().0, &page.invoice.currency);
    let content = html! {
        @if page.paid {
            h1 { "Payment received" }
            p role="status" { "Invoice " (page.invoice.number) " is paid and your " strong { (page.plan_name) } " subscription is active again. Thank you." }
        } @else {
            h1 { "Your payment did not go through" }
            p { "Invoice " strong { (page.invoice.number) } " for your " strong { (page.plan_name) } " subscription is " strong { (amount) } "." }
            @if let Some(error) = &page.error { p role="alert" { (error.message) } }
            @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
            @if let Some(card) = &page.card {
                form method="post" action=(action) {
                    input type="hidden" name="formKey" value=(signer.form_key(token));
                    input type="hidden" name="action" value="pay_saved";
                    p { "Saved card: " (card.brand) " ending in " (card.last4) "." }
                    button type="submit" id="pay-saved" { "Pay " (amount) " with this card" }
                }
                h2 { "Or use another card" }
            }
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
                button type="submit" id="pay-new" { "Pay " (amount) }
            }
        }
    };
    layout("Pay your invoice", sandbox, &content)
}
