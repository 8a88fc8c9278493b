//! Tally's hosted pages (`payments.md` §4), served outside `/api/v1` to people, not SDKs: each
//! URL carries a signed token instead of an API key. HTML is rendered on the server (no
//! JavaScript), works on a phone-sized screen, and labels every field; `Accept:
//! application/json` gets the page's state instead, for tests and custom front ends.
//!
//! Forms are protected against cross-site request forgery: an HTML form must carry the page's
//! form key (derived from the token, which another site never sees), and a JSON body is only
//! taken with `Content-Type: application/json`, which a cross-site form cannot send.

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};
use std::collections::HashMap;
use tally_app::AppError;
use tally_app::card_updates::CardPage;
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::{PageRefusal, PayForm, PayPage};
use tally_app::portal::{PortalAction, PortalPage};
use tally_domain::catalog::FeatureType;
use tally_domain::money::format_money;
use tally_domain::payments::sandbox_card_numbers;

/// The pages' routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/pay/{token}",
            axum::routing::get(pay_page).post(pay_action),
        )
        .route(
            "/pay/{token}/authenticate",
            axum::routing::post(authenticate),
        )
        .route(
            "/portal/{token}",
            axum::routing::get(portal_page).post(portal_action),
        )
        .route(
            "/payment-method/{token}",
            axum::routing::get(card_page).post(card_action),
        )
}

/// Whether the client asked for the page's state as JSON.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn sent_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The headers every page answer carries.
fn guarded(status: StatusCode, body: impl IntoResponse) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn html_response(status: StatusCode, markup: Markup) -> Response {
    guarded(
        status,
        (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            markup.into_string(),
        ),
    )
}

fn json_response(status: StatusCode, value: Value) -> Response {
    guarded(status, axum::Json(value))
}

/// The fields of a page POST: a form, or a JSON object of strings.
fn fields(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    if sent_json(headers) {
        let value: Value = serde_json::from_slice(body).ok()?;
        let object = value.as_object()?;
        Some(
            object
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    };
                    (k.clone(), text)
                })
                .collect(),
        )
    } else {
        Some(form_urlencoded::parse(body).into_owned().collect())
    }
}

/// A refusal as the client asked for it.
fn refusal(json: bool, refusal: &PageRefusal, page: Option<&PayPage>) -> Response {
    let (status, code, message) = match refusal {
        PageRefusal::NotFound => (
            StatusCode::NOT_FOUND,
            "not_found",
            "This link is not valid.".to_owned(),
        ),
        PageRefusal::Gone => (
            StatusCode::GONE,
            "expired",
            "This link has expired or can no longer be used.".to_owned(),
        ),
        PageRefusal::Form(problem) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_field",
            problem.message.clone(),
        ),
    };
    if json {
        let param = match refusal {
            PageRefusal::Form(problem) => Some(problem.field.clone()),
            _ => None,
        };
        return json_response(
            status,
            json!({"error": {"code": code, "message": message, "param": param}}),
        );
    }
    html_response(
        status,
        layout(
            "Payment",
            page.is_some_and(|p| !p.livemode),
            &html! {
                h1 { (if status == StatusCode::UNPROCESSABLE_ENTITY { "Check the card details" } else { "Link unavailable" }) }
                p role="alert" { (message) }
            },
        ),
    )
}

fn app_refusal(json: bool, error: &AppError) -> Response {
    match error {
        AppError::Page(page_refusal) => refusal(json, page_refusal, None),
        other => {
            tracing::error!(error = %other, "a hosted page failed");
            let body = json!({"error": {"code": "internal_error", "message": "Something went wrong; try again."}});
            if json {
                json_response(StatusCode::INTERNAL_SERVER_ERROR, body)
            } else {
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    layout(
                        "Payment",
                        false,
                        &html! { h1 { "Something went wrong" } p { "Try again in a moment." } },
                    ),
                )
            }
        }
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
        "card": page.card.as_ref().map(|c| json!({"brand": c.brand, "last4": c.last4, "expMonth": c.exp_month, "expYear": c.exp_year})),
        "error": page.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
        "redirectUrl": (page.status == "succeeded").then(|| p.success_url.clone()).flatten(),
    })
}

async fn pay_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    match state.app.pay_page(&token).await {
        Ok(page) if json => json_response(page_status(&page), state_json(&page)),
        Ok(page) => match state.app.page_signer().await {
            Ok(signer) => html_response(page_status(&page), pay_html(&page, &signer, &token, None)),
            Err(error) => app_refusal(json, &error),
        },
        Err(error) => app_refusal(json, &error),
    }
}

/// An expired or canceled link is gone (410); the page still says why.
fn page_status(page: &PayPage) -> StatusCode {
    if page.status == "expired" {
        StatusCode::GONE
    } else {
        StatusCode::OK
    }
}

async fn pay_action(
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
    if field("action") != "pay" {
        return refusal(
            json,
            &PageRefusal::Form(tally_domain::FieldError::new(
                "action",
                "This page's action is pay.",
            )),
            None,
        );
    }
    let form = PayForm {
        card_number: field("cardNumber"),
        exp_month: field("expMonth"),
        exp_year: field("expYear"),
        cvc: field("cvc"),
        email: fields.get("email").cloned().filter(|e| !e.is_empty()),
        name: fields.get("name").cloned().filter(|n| !n.is_empty()),
        attempt: fields.get("attempt").cloned().filter(|a| !a.is_empty()),
    };
    let outcome = state.app.pay_link(&token, form).await;
    answer(&state, &token, json, outcome).await
}

async fn authenticate(
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
    let approve = match fields.get("result").map(String::as_str) {
        Some("approve") => true,
        Some("fail") => false,
        _ => {
            return refusal(
                json,
                &PageRefusal::Form(tally_domain::FieldError::new(
                    "result",
                    "result is approve or fail.",
                )),
                None,
            );
        }
    };
    let outcome = state.app.authenticate_link(&token, approve).await;
    answer(&state, &token, json, outcome).await
}

/// The fields a page action posted, once its form key holds; the refusal to answer otherwise.
async fn posted(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    body: &[u8],
    json: bool,
) -> Result<HashMap<String, String>, Response> {
    let Some(fields) = fields(headers, body) else {
        let problem = tally_domain::FieldError::new("body", "Send the form's fields.");
        return Err(refusal(json, &PageRefusal::Form(problem), None));
    };
    check_form_key(state, headers, token, &fields, json).await?;
    Ok(fields)
}

/// HTML forms must carry the page's form key; JSON bodies need no key (see the module doc).
async fn check_form_key(
    state: &AppState,
    headers: &HeaderMap,
    token: &str,
    fields: &HashMap<String, String>,
    json: bool,
) -> Result<(), Response> {
    if sent_json(headers) {
        return Ok(());
    }
    let signer = state
        .app
        .page_signer()
        .await
        .map_err(|error| app_refusal(json, &error))?;
    let held = fields
        .get("formKey")
        .is_some_and(|key| signer.form_key_holds(token, key));
    if held {
        Ok(())
    } else {
        Err(html_response(
            StatusCode::FORBIDDEN,
            layout(
                "Payment",
                false,
                &html! {
                    h1 { "This form has expired" }
                    p role="alert" { "Open the payment link again and resubmit." }
                },
            ),
        ))
    }
}

/// The answer to a page action: JSON state, or for HTML a redirect once paid (to the
/// merchant's `successUrl`, else the page itself, which then shows the receipt).
async fn answer(
    state: &AppState,
    token: &str,
    json: bool,
    outcome: Result<PayPage, AppError>,
) -> Response {
    let page = match outcome {
        Ok(page) => page,
        Err(AppError::Page(PageRefusal::Form(problem))) if !json => {
            // The form comes back with the problem next to it.
            return match (
                state.app.pay_page(token).await,
                state.app.page_signer().await,
            ) {
                (Ok(page), Ok(signer)) => html_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    pay_html(&page, &signer, token, Some(&problem)),
                ),
                (Err(error), _) | (_, Err(error)) => app_refusal(json, &error),
            };
        }
        Err(error) => return app_refusal(json, &error),
    };
    if json {
        return json_response(page_status(&page), state_json(&page));
    }
    if page.status == "succeeded" {
        let target = page
            .payment
            .success_url
            .clone()
            .unwrap_or_else(|| format!("/pay/{token}"));
        if let Ok(location) = HeaderValue::from_str(&target) {
            return guarded(StatusCode::SEE_OTHER, [(header::LOCATION, location)]);
        }
    }
    match state.app.page_signer().await {
        Ok(signer) => html_response(page_status(&page), pay_html(&page, &signer, token, None)),
        Err(error) => app_refusal(json, &error),
    }
}

// ---------------------------------------------------------------------------------------------
// HTML

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111;background:#f4f4f5}
main{max-width:28rem;margin:0 auto;padding:1.25rem}
.card{background:#fff;border:1px solid #d4d4d8;border-radius:.5rem;padding:1.25rem}
h1{font-size:1.35rem;margin:0 0 .75rem}
.amount{font-size:2rem;font-weight:700;margin:.25rem 0}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input{width:100%;font:inherit;padding:.6rem;border:1px solid #52525b;border-radius:.375rem}
input:focus,button:focus{outline:3px solid #1d4ed8;outline-offset:2px}
.row{display:flex;gap:.75rem}.row>div{flex:1}
button{margin-top:1rem;width:100%;font:inherit;font-weight:700;padding:.75rem;border:0;border-radius:.375rem;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#3f3f46}
[role=alert]{color:#991b1b;background:#fef2f2;border:1px solid #fecaca;padding:.6rem;border-radius:.375rem}
.banner{background:#fef3c7;border:1px solid #d97706;color:#78350f;padding:.75rem;border-radius:.375rem;margin-bottom:1rem;font-size:.9rem}
.banner code{font-size:.85rem}
summary{cursor:pointer;font-weight:600;margin-top:.35rem}
.ok{color:#14532d;background:#f0fdf4;border:1px solid #bbf7d0;padding:.6rem;border-radius:.375rem}
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}h3{font-size:1rem}
table{width:100%;border-collapse:collapse;font-size:.9rem}th,td{text-align:left;padding:.35rem .25rem;border-bottom:1px solid #e4e4e7}
a{color:#1d4ed8}
";

fn layout(title: &str, sandbox: bool, content: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) " · Tally" }
                style { (PreEscaped(STYLE)) }
            }
            body {
                main {
                    @if sandbox { (sandbox_banner()) }
                    div class="card" { (content) }
                }
            }
        }
    }
}

fn sandbox_banner() -> Markup {
    html! {
        section class="banner" aria-label="Test mode" {
            strong { "Test mode." } " No real money moves: pay with a test card, any future expiry (for example 12/34) and any three-digit code."
            details {
                summary { "Test cards" }
                ul {
                    @for (number, card) in sandbox_card_numbers() {
                        li { code { (number) } " " (card.summary()) }
                    }
                }
            }
        }
    }
}

fn pay_html(
    page: &PayPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&tally_domain::FieldError>,
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
                    label for="cardNumber" { "Card number" }
                    input id="cardNumber" name="cardNumber" type="text" inputmode="numeric" autocomplete="cc-number" required aria-describedby=[problem.map(|_| "form-problem")];
                    div class="row" {
                        div {
                            label for="expMonth" { "Expiry month" }
                            input id="expMonth" name="expMonth" type="text" inputmode="numeric" autocomplete="cc-exp-month" placeholder="MM" required;
                        }
                        div {
                            label for="expYear" { "Expiry year" }
                            input id="expYear" name="expYear" type="text" inputmode="numeric" autocomplete="cc-exp-year" placeholder="YY" required;
                        }
                        div {
                            label for="cvc" { "Security code" }
                            input id="cvc" name="cvc" type="text" inputmode="numeric" autocomplete="cc-csc" required;
                        }
                    }
                    button type="submit" { "Pay " (amount) }
                }
            }
        }
    };
    layout("Payment", sandbox, &content)
}

// ---------------------------------------------------------------------------------------------
// The customer portal (`payments.md` §10.1)

fn portal_json(page: &PortalPage) -> Value {
    let subscription = page.subscription.as_ref().map(|detail| {
        let s = &detail.subscription;
        json!({
            "id": s.id.as_str(),
            "status": s.status.as_str(),
            "planName": detail.plan.name,
            "price": detail.price.as_ref().map(|p| p.price.0),
            "currency": s.currency,
            "interval": s.billing_interval.map(|i| i.as_str()),
            "currentPeriodEnd": s.current_period.map(|p| p.end.to_rfc3339()),
            "cancelAt": s.cancellation.as_ref().map(|c| c.effective_at.to_rfc3339()),
        })
    });
    json!({
        "kind": "portal",
        "status": "open",
        "livemode": page.organization.mode == tally_domain::Mode::Live,
        "customer": {"id": page.customer.id.as_str(), "email": page.customer.email, "name": page.customer.full_name},
        "subscription": subscription,
        "card": page.card.as_ref().map(|c| json!({"brand": c.brand, "last4": c.last4, "expMonth": c.exp_month, "expYear": c.exp_year})),
        "invoices": page.invoices.iter().map(|i| json!({
            "id": i.invoice.id,
            "invoiceNumber": i.invoice.number,
            "total": i.invoice.total().0,
            "currency": i.invoice.currency,
            "status": i.invoice.status.as_str(),
            "issueDate": i.invoice.issue_date.to_rfc3339(),
            "pdfUrl": i.pdf_url,
        })).collect::<Vec<_>>(),
        "error": page.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
        "returnUrl": page.return_url,
    })
}

async fn portal_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    match state.app.portal_page(&token).await {
        Ok(page) if json => json_response(StatusCode::OK, portal_json(&page)),
        Ok(page) => match state.app.page_signer().await {
            Ok(signer) => html_response(StatusCode::OK, portal_html(&page, &signer, &token, None)),
            Err(error) => app_refusal(json, &error),
        },
        Err(error) => app_refusal(json, &error),
    }
}

async fn portal_action(
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
    let action = match field("action").as_str() {
        "cancel" => PortalAction::Cancel,
        "uncancel" => PortalAction::Uncancel,
        "update_card" => PortalAction::UpdateCard {
            number: field("cardNumber"),
            exp_month: field("expMonth"),
            exp_year: field("expYear"),
            cvc: field("cvc"),
        },
        _ => {
            return refusal(
                json,
                &PageRefusal::Form(tally_domain::FieldError::new(
                    "action",
                    "The portal's actions are cancel, uncancel and update_card.",
                )),
                None,
            );
        }
    };
    match state.app.portal_action(&token, action).await {
        Ok(page) if json => json_response(StatusCode::OK, portal_json(&page)),
        // Done: back to the portal (so a reload does not post again).
        Ok(page) if page.error.is_none() => guarded(
            StatusCode::SEE_OTHER,
            [(
                header::LOCATION,
                HeaderValue::from_str(&format!("/portal/{token}"))
                    .unwrap_or(HeaderValue::from_static("/")),
            )],
        ),
        Ok(page) => match state.app.page_signer().await {
            Ok(signer) => html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                portal_html(&page, &signer, &token, None),
            ),
            Err(error) => app_refusal(json, &error),
        },
        Err(AppError::Page(PageRefusal::Form(problem))) if !json => {
            match (
                state.app.portal_page(&token).await,
                state.app.page_signer().await,
            ) {
                (Ok(page), Ok(signer)) => html_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    portal_html(&page, &signer, &token, Some(&problem)),
                ),
                (Err(error), _) | (_, Err(error)) => app_refusal(json, &error),
            }
        }
        Err(error) => app_refusal(json, &error),
    }
}

/// "per month" and the like, for a price's interval.
fn per_interval(interval: &str) -> &'static str {
    match interval {
        "weekly" => "per week",
        "monthly" => "per month",
        "quarterly" => "per quarter",
        "semiannual" => "per half-year",
        "yearly" => "per year",
        _ => "once",
    }
}

fn portal_html(
    page: &PortalPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&tally_domain::FieldError>,
) -> Markup {
    let action = format!("/portal/{token}");
    let form_key = signer.form_key(token);
    let sandbox = page.organization.mode == tally_domain::Mode::Sandbox;
    let who = page
        .customer
        .full_name
        .clone()
        .unwrap_or_else(|| page.customer.email.clone());
    let content = html! {
        h1 { "Billing for " (who) }
        p { (page.customer.email) }
        @if let Some(url) = &page.return_url { p { a href=(url) { "Back" } } }
        @if let Some(error) = &page.error { p role="alert" { (error.message) } }
        @if let Some(problem) = problem { p role="alert" { (problem.message) } }
        section aria-labelledby="subscription-heading" {
            h2 id="subscription-heading" { "Subscription" }
            @match &page.subscription {
                None => p { "No subscription." },
                Some(detail) => {
                    @let s = &detail.subscription;
                    p { strong { (detail.plan.name) } " · " (s.status.as_str()) }
                    @if let Some(price) = &detail.price {
                        p { (format_money(price.price.0, &s.currency)) " " (per_interval(price.billing_interval.as_str())) }
                    }
                    @if let Some(cancellation) = &s.cancellation {
                        p class="ok" { "Ends on " (cancellation.effective_at.month_day_year()) "." }
                        form method="post" action=(action) {
                            input type="hidden" name="formKey" value=(form_key);
                            button type="submit" name="action" value="uncancel" { "Keep my subscription" }
                        }
                    } @else if s.status.is_live() {
                        @if let Some(period) = s.current_period { p { "Renews on " (period.end.month_day_year()) "." } }
                        form method="post" action=(action) {
                            input type="hidden" name="formKey" value=(form_key);
                            button type="submit" name="action" value="cancel" class="secondary" { "Cancel at the end of the period" }
                        }
                    }
                    @let seats: Vec<_> = detail.features.iter().filter(|f| f.feature_type == FeatureType::Seats && f.enabled).collect();
                    @if !seats.is_empty() {
                        h3 { "Seats" }
                        ul {
                            @for feature in seats {
                                @let current = detail.seats.get(&feature.code).copied().unwrap_or(0);
                                li { (feature.name) ": " (current) " in use, " (feature.included_amount) " included"
                                    @if current > feature.included_amount { ", " (current - feature.included_amount) " extra" } }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="card-heading" {
            h2 id="card-heading" { "Card" }
            @match &page.card {
                Some(card) => p { (card.brand) " ending in " (card.last4) ", expires " (card.exp_month) "/" (card.exp_year) },
                None => p { "No card saved." },
            }
            @if page.payments {
                form method="post" action=(action) {
                    input type="hidden" name="formKey" value=(form_key);
                    input type="hidden" name="action" value="update_card";
                    label for="cardNumber" { "New card number" }
                    input id="cardNumber" name="cardNumber" type="text" inputmode="numeric" autocomplete="cc-number" required;
                    div class="row" {
                        div { label for="expMonth" { "Expiry month" } input id="expMonth" name="expMonth" type="text" inputmode="numeric" placeholder="MM" required; }
                        div { label for="expYear" { "Expiry year" } input id="expYear" name="expYear" type="text" inputmode="numeric" placeholder="YY" required; }
                        div { label for="cvc" { "Security code" } input id="cvc" name="cvc" type="text" inputmode="numeric" required; }
                    }
                    button type="submit" { "Save card" }
                }
            }
        }
        section aria-labelledby="invoices-heading" {
            h2 id="invoices-heading" { "Invoices" }
            @if page.invoices.is_empty() { p { "No invoices yet." } }
            @else {
                table {
                    thead { tr { th scope="col" { "Invoice" } th scope="col" { "Date" } th scope="col" { "Total" } th scope="col" { "Status" } } }
                    tbody {
                        @for item in &page.invoices {
                            @let invoice = &item.invoice;
                            tr {
                                td { a href=(item.pdf_url) { (invoice.number) } }
                                td { (invoice.issue_date.month_day_year()) }
                                td { (format_money(invoice.total().0, &invoice.currency)) }
                                td { (invoice.status.as_str()) }
                            }
                        }
                    }
                }
            }
        }
    };
    layout("Billing", sandbox, &content)
}

// ---------------------------------------------------------------------------------------------
// The card-update page (`subscriptions.updatePaymentMethod`)

fn card_json(page: &CardPage) -> Value {
    json!({
        "kind": "payment_method",
        "status": if page.saved { "succeeded" } else { "open" },
        "livemode": page.organization.mode == tally_domain::Mode::Live,
        "subscription": {"id": page.subscription.id.as_str(), "status": page.subscription.status.as_str(), "planName": page.plan_name},
        "card": page.card.as_ref().map(|c| json!({"brand": c.brand, "last4": c.last4, "expMonth": c.exp_month, "expYear": c.exp_year})),
        "error": page.error.as_ref().map(|e| json!({"code": e.code, "message": e.message})),
        "redirectUrl": if page.saved { page.redirect.clone() } else { None },
    })
}

async fn card_page(
    State(state): State<AppState>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Response {
    let json = wants_json(&headers);
    match state.app.card_page(&token).await {
        Ok(page) if json => json_response(StatusCode::OK, card_json(&page)),
        Ok(page) => match state.app.page_signer().await {
            Ok(signer) => html_response(StatusCode::OK, card_html(&page, &signer, &token, None)),
            Err(error) => app_refusal(json, &error),
        },
        Err(error) => app_refusal(json, &error),
    }
}

async fn card_action(
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
    let card = (
        field("cardNumber"),
        field("expMonth"),
        field("expYear"),
        field("cvc"),
    );
    let outcome = state
        .app
        .save_card_on_page(&token, (&card.0, &card.1, &card.2, &card.3))
        .await;
    match outcome {
        Ok(page) if json => json_response(StatusCode::OK, card_json(&page)),
        Ok(page) if page.saved => {
            let target = page
                .redirect
                .clone()
                .unwrap_or_else(|| format!("/payment-method/{token}"));
            match HeaderValue::from_str(&target) {
                Ok(location) => guarded(StatusCode::SEE_OTHER, [(header::LOCATION, location)]),
                Err(_) => html_response(StatusCode::OK, card_done()),
            }
        }
        Ok(page) => match state.app.page_signer().await {
            Ok(signer) => html_response(
                StatusCode::UNPROCESSABLE_ENTITY,
                card_html(&page, &signer, &token, None),
            ),
            Err(error) => app_refusal(json, &error),
        },
        Err(AppError::Page(PageRefusal::Form(problem))) if !json => {
            match (
                state.app.card_page(&token).await,
                state.app.page_signer().await,
            ) {
                (Ok(page), Ok(signer)) => html_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    card_html(&page, &signer, &token, Some(&problem)),
                ),
                (Err(error), _) | (_, Err(error)) => app_refusal(json, &error),
            }
        }
        Err(error) => app_refusal(json, &error),
    }
}

fn card_done() -> Markup {
    layout(
        "Card saved",
        false,
        &html! { h1 { "Card saved" } p class="ok" role="status" { "Your new card will pay from now on." } },
    )
}

fn card_html(
    page: &CardPage,
    signer: &PageSigner,
    token: &str,
    problem: Option<&tally_domain::FieldError>,
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
            label for="cardNumber" { "Card number" }
            input id="cardNumber" name="cardNumber" type="text" inputmode="numeric" autocomplete="cc-number" required;
            div class="row" {
                div { label for="expMonth" { "Expiry month" } input id="expMonth" name="expMonth" type="text" inputmode="numeric" placeholder="MM" required; }
                div { label for="expYear" { "Expiry year" } input id="expYear" name="expYear" type="text" inputmode="numeric" placeholder="YY" required; }
                div { label for="cvc" { "Security code" } input id="cvc" name="cvc" type="text" inputmode="numeric" required; }
            }
            button type="submit" { "Save card" }
        }
    };
    layout("Update your card", sandbox, &content)
}
