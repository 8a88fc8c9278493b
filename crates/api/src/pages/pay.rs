//! The pay page of payment links (`payments.md` §4, §7): the card form, the sandbox's
//! authentication step, and the receipt.

use super::{
    HostedPage, PageForm, card_inputs, card_value, error_value, form_problem, layout, refusal,
    see_other, show, wants_json,
};
use crate::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};
use tally_app::AppError;
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::{PageRefusal, PayForm, PayPage};
use tally_domain::FieldError;
use tally_domain::money::format_money;

impl HostedPage for PayPage {
    fn state(&self) -> Value {
        state_json(self)
    }
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup {
        pay_html(self, signer, token, problem)
    }
    fn status(&self) -> StatusCode {
        page_status(self)
    }
}

/// The page's state (`payments.md` §4).
fn state_json(page: &PayPage) -> Value {
    let p = &page.payment;
    json!({
        "kind": "pay",
        "status": page.status,
        "livemode": page.livemode,
        "amount": p.amount.0,
        "currency": p.currency,
        "description": p.description,
        "invoice": page.invoice.as_ref().map(|(id, number, total)| json!({"id": id, "invoiceNumber": number, "total": total.0})),
        "subscription": null,
        "card": page.card.as_ref().map(card_value),
        "error": page.error.as_ref().map(error_value),
        "redirectUrl": (page.status == "succeeded").then(|| p.success_url.clone()).flatten(),
    })
}

pub(super) async fn pay_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let loaded = state.app.pay_page(&token).await;
    show(&state, &token, wants_json(&headers), loaded, None, None).await
}

/// An expired or canceled link is gone (410); the page still says why.
fn page_status(page: &PayPage) -> StatusCode {
    if page.status == "expired" {
        StatusCode::GONE
    } else {
        StatusCode::OK
    }
}

pub(super) async fn pay_action(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    if form.field("action") != "pay" {
        return refusal(
            form.json,
            &PageRefusal::Form(FieldError::new("action", "This page's action is pay.")),
            None,
        );
    }
    let (card_number, exp_month, exp_year, cvc) = form.card();
    let given = |name: &str| Some(form.field(name).to_owned()).filter(|v| !v.is_empty());
    let pay = PayForm {
        card_number: card_number.to_owned(),
        exp_month: exp_month.to_owned(),
        exp_year: exp_year.to_owned(),
        cvc: cvc.to_owned(),
        email: given("email"),
        name: given("name"),
        attempt: form.attempt(),
    };
    let outcome = state.app.pay_link(&token, pay).await;
    answer(&state, &token, form.json, outcome).await
}

pub(super) async fn authenticate(
    State(state): State<AppState>,
    Path(token): Path<String>,
    form: PageForm,
) -> Response {
    let approve = match form.authentication() {
        Ok(approve) => approve,
        Err(problem) => return refusal(form.json, &PageRefusal::Form(problem), None),
    };
    let outcome = state.app.authenticate_link(&token, approve).await;
    answer(&state, &token, form.json, outcome).await
}

/// The answer to a pay-page action: JSON state, or for HTML a redirect once paid (to the
/// merchant's `successUrl`, else the page itself, which then shows the receipt).
async fn answer(
    state: &AppState,
    token: &str,
    json: bool,
    outcome: Result<PayPage, AppError>,
) -> Response {
    match outcome {
        Err(AppError::Page(PageRefusal::Form(problem))) => {
            form_problem(state, token, json, problem, state.app.pay_page(token)).await
        }
        Ok(page) if !json && page.status == "succeeded" => {
            let target = page.payment.success_url.clone();
            see_other(&target.unwrap_or_else(|| format!("/pay/{token}")))
        }
        other => show(state, token, json, other, None, None).await,
    }
}

/// What each hosted page can do: give its state, draw itself, say its status.
fn pay_html(
    page: &PayPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&FieldError>,
) -> Markup {
    let p = &page.payment;
    let amount = format_money(p.amount.0, &p.currency);
    let action = format!("/pay/{token}");
    let form_key = signer.form_key(token);
    let sandbox = !page.livemode;
    let content = html! {
        h1 { (p.description) }
        p class="amount" { (amount) }
        @match page.status {
            "succeeded" => {
                p class="ok" role="status" { "Paid. Thank you." }
                @if let Some((_, number, _)) = &page.invoice { p { "Invoice " (number) } }
            }
            "expired" => {
                p role="alert" { "This payment link has expired or was canceled." }
            }
            "requires_action" => {
                p { "Your bank asks you to confirm this payment." }
                @if sandbox {
                    form method="post" action={ (action) "/authenticate" } {
                        input type="hidden" name="formKey" value=(form_key);
                        button type="submit" name="result" value="approve" { "Approve (test authentication)" }
                        button type="submit" name="result" value="fail" class="secondary" { "Fail authentication" }
                    }
                }
            }
            _ => {
                @if let Some(error) = &page.error { p role="alert" { (error.message) } }
                @if let Some(problem) = problem { p role="alert" id="form-problem" { (problem.message) } }
                form method="post" action=(action) {
                    input type="hidden" name="action" value="pay";
                    input type="hidden" name="formKey" value=(form_key);
                    @if p.customer_id.is_none() {
                        label for="email" { "E-mail" }
                        input id="email" name="email" type="email" autocomplete="email" required;
                        label for="name" { "Name on the card" }
                        input id="name" name="name" type="text" autocomplete="cc-name";
                    }
                    (card_inputs("Card number", problem))
                    button type="submit" { "Pay " (amount) }
                }
            }
        }
    };
    layout("Payment", sandbox, &content)
}
