//! Tally's hosted pages (`payments.md` §4), served outside `/api/v1` to people, not SDKs: each
//! URL carries a signed token instead of an API key. HTML is rendered on the server (no
//! JavaScript), works on a phone-sized screen, and labels every field; `Accept:
//! application/json` gets the page's state instead, for tests and custom front ends.
//!
//! Forms are protected against cross-site request forgery: an HTML form must carry the page's
//! form key (derived from the token, which another site never sees), and a JSON body is only
//! taken with `Content-Type: application/json`, which a cross-site form cannot send.

mod card_update;
mod claim;
mod invoice;
mod pay;
mod portal;

use crate::AppState;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde_json::{Value, json};
use std::collections::HashMap;
use tally_app::AppError;
use tally_app::hosted_tokens::PageSigner;
use tally_app::payments::{PageRefusal, PayPage};
use tally_domain::FieldError;
use tally_domain::payments::{CardInfo, Decline, sandbox_card_numbers};

/// The pages' routes, behind their budgets (`guard`).
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/pay/{token}",
            axum::routing::get(pay::pay_page).post(pay::pay_action),
        )
        .route(
            "/pay/{token}/authenticate",
            axum::routing::post(pay::authenticate),
        )
        .route(
            "/portal/{token}",
            axum::routing::get(portal::portal_page).post(portal::portal_action),
        )
        .route(
            "/payment-method/{token}",
            axum::routing::get(card_update::card_page).post(card_update::card_action),
        )
        .route(
            "/claim/{token}",
            axum::routing::get(claim::claim_page).post(claim::claim_action),
        )
        .route(
            "/checkout/{token}",
            axum::routing::get(invoice::checkout_page).post(invoice::checkout_action),
        )
        .route(
            "/checkout/{token}/authenticate",
            axum::routing::post(invoice::checkout_authenticate),
        )
        .route(
            "/recover/{token}",
            axum::routing::get(invoice::recover_page).post(invoice::recover_action),
        )
        .layer(axum::middleware::from_fn_with_state(state, guard))
}

/// The page kind a path serves and the token in it: `/pay/{token}[/authenticate]`,
/// `/portal/{token}`, `/payment-method/{token}`, `/recover/{token}`, `/checkout/{token}`,
/// `/claim/{token}`.
fn page_token(path: &str) -> Option<(&'static str, &str)> {
    let mut segments = path.trim_start_matches('/').split('/');
    let kind = match segments.next()? {
        "pay" => tally_app::payments::PAY_PAGE,
        "portal" => tally_app::portal::PORTAL_PAGE,
        "payment-method" => tally_app::card_updates::CARD_PAGE,
        "recover" => tally_app::collection::RECOVER_PAGE,
        "checkout" => tally_app::checkout::CHECKOUT_PAGE,
        "claim" => tally_app::claims::CLAIM_PAGE,
        _ => return None,
    };
    Some((kind, segments.next()?))
}

/// The pages' budgets (README Decisions). An address that keeps presenting tokens that do not
/// hold is refused like one that keeps presenting bad API keys (the same failed-authentication
/// budget), before any database read; a valid token's requests count against the budget of the
/// organization it names, so one organization's busy links never slow another's.
async fn guard(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let now = std::time::Instant::now();
    let json = wants_json(request.headers()) || sent_json(request.headers());
    let source = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|peer| crate::rate_limit::Source::from(peer.0.ip()));
    let too_many = |quota: crate::rate_limit::Quota| {
        metrics::counter!("tally_rate_limited_total", "budget" => quota.budget.as_str())
            .increment(1);
        let mut response = if json {
            json_response(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"error": {"code": "rate_limited", "message": "Too many requests; try again shortly."}}),
            )
        } else {
            html_response(
                StatusCode::TOO_MANY_REQUESTS,
                layout(
                    "Payment",
                    false,
                    &html! { h1 { "Too many requests" } p { "Try again in a few seconds." } },
                ),
            )
        };
        if let Ok(value) = HeaderValue::from_str(&quota.reset_secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    };
    if let Some(source) = source {
        let quota = state.limiter.may_authenticate(source, now);
        if !quota.is_allowed {
            return too_many(quota);
        }
    }
    let Some((kind, token)) = page_token(request.uri().path()) else {
        return next.run(request).await;
    };
    let claims = match state.app.page_signer().await {
        Ok(signer) => signer.read(kind, token),
        Err(error) => return app_refusal(json, &error),
    };
    match claims {
        Ok(claims) => {
            let quota = state.limiter.check_org(&claims.org, now);
            if !quota.is_allowed {
                return too_many(quota);
            }
        }
        Err(_) => {
            if let Some(source) = source {
                state.limiter.record_auth_failure(source, now);
            }
            return refusal(json, &PageRefusal::NotFound, None);
        }
    }
    next.run(request).await
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
pub(crate) fn guarded(status: StatusCode, body: impl IntoResponse) -> Response {
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

pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
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

/// A page action as posted: whether the client speaks JSON, and the fields, read once the
/// form key holds (`posted`). Every action handler takes one; a refusal answers for it.
struct PageForm {
    json: bool,
    fields: HashMap<String, String>,
}

impl FromRequest<AppState> for PageForm {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let Path(token) = Path::<String>::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        let headers = parts.headers.clone();
        let json = wants_json(&headers) || sent_json(&headers);
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields = posted(state, &headers, &token, &body, json).await?;
        Ok(Self { json, fields })
    }
}

impl PageForm {
    /// A field's text; empty when it was not sent.
    fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// The client's attempt nonce, when it sent one.
    fn attempt(&self) -> Option<String> {
        Some(self.field("attempt").to_owned()).filter(|a| !a.is_empty())
    }

    /// The card fields: number, expiry month and year, security code.
    fn card(&self) -> (&str, &str, &str, &str) {
        (
            self.field("cardNumber"),
            self.field("expMonth"),
            self.field("expYear"),
            self.field("cvc"),
        )
    }

    /// The sandbox's authentication step: `result` `approve` or `fail`.
    fn authentication(&self) -> Result<bool, FieldError> {
        match self.field("result") {
            "approve" => Ok(true),
            "fail" => Ok(false),
            _ => Err(FieldError::new("result", "result is approve or fail.")),
        }
    }
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
        let problem = FieldError::new("body", "Send the form's fields.");
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

trait HostedPage {
    /// The page's state, for `Accept: application/json`.
    fn state(&self) -> Value;
    /// The page's HTML, with a form problem next to the form when there is one.
    fn html(&self, signer: &PageSigner, token: &str, problem: Option<&FieldError>) -> Markup;
    fn status(&self) -> StatusCode {
        StatusCode::OK
    }
}

/// A loaded page as the client asked for it: its JSON state, or its HTML; `status` overrides
/// the page's own.
async fn show<P: HostedPage>(
    state: &AppState,
    token: &str,
    json: bool,
    loaded: Result<P, AppError>,
    status: Option<StatusCode>,
    problem: Option<&FieldError>,
) -> Response {
    let page = match loaded {
        Ok(page) => page,
        Err(error) => return app_refusal(json, &error),
    };
    let status = status.unwrap_or_else(|| page.status());
    if json {
        return json_response(status, page.state());
    }
    match state.app.page_signer().await {
        Ok(signer) => html_response(status, page.html(&signer, token, problem)),
        Err(error) => app_refusal(json, &error),
    }
}

/// A form field an action refused: named in JSON; in HTML the page comes back (`reload`) with
/// the problem next to the form.
async fn form_problem<P: HostedPage>(
    state: &AppState,
    token: &str,
    json: bool,
    problem: FieldError,
    reload: impl std::future::Future<Output = Result<P, AppError>>,
) -> Response {
    if json {
        return refusal(true, &PageRefusal::Form(problem), None);
    }
    let loaded = reload.await;
    show(
        state,
        token,
        false,
        loaded,
        Some(StatusCode::UNPROCESSABLE_ENTITY),
        Some(&problem),
    )
    .await
}

/// Where an HTML action leads once the page has answered it.
enum Answered {
    /// Refused (a decline): the page comes back with `422`.
    Refused,
    /// Done: the page shows its result in place.
    InPlace,
    /// Done: on to this address (`303`), so a reload does not post again.
    SeeOther(String),
}

/// Answers a page action: a form problem is shown next to the form (`422`); in HTML the page
/// (`answered` says how); JSON gets the state.
async fn answer_action<P: HostedPage>(
    state: &AppState,
    (token, json): (&str, bool),
    outcome: Result<P, AppError>,
    answered: impl Fn(&P) -> Answered,
    reload: impl std::future::Future<Output = Result<P, AppError>>,
) -> Response {
    let page = match outcome {
        Err(AppError::Page(PageRefusal::Form(problem))) => {
            return form_problem(state, token, json, problem, reload).await;
        }
        Ok(page) if !json => page,
        other => return show(state, token, json, other, None, None).await,
    };
    match answered(&page) {
        Answered::Refused => {
            let declined = Some(StatusCode::UNPROCESSABLE_ENTITY);
            show(state, token, false, Ok(page), declined, None).await
        }
        Answered::InPlace => show(state, token, false, Ok(page), None, None).await,
        Answered::SeeOther(target) => see_other(&target),
    }
}

/// The labelled card inputs every card form has; a form problem is tied to the number.
fn card_inputs(number_label: &str, problem: Option<&FieldError>) -> Markup {
    html! {
        label for="cardNumber" { (number_label) }
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
    }
}

/// `303 See Other` to `target`: after an action, so a reload does not post again.
pub(crate) fn see_other(target: &str) -> Response {
    match HeaderValue::from_str(target) {
        Ok(location) => guarded(StatusCode::SEE_OTHER, [(header::LOCATION, location)]),
        Err(_) => guarded(
            StatusCode::SEE_OTHER,
            [(header::LOCATION, HeaderValue::from_static("/"))],
        ),
    }
}

fn card_value(card: &CardInfo) -> Value {
    json!({"brand": card.brand, "last4": card.last4, "expMonth": card.exp_month, "expYear": card.exp_year})
}

fn error_value(error: &Decline) -> Value {
    json!({"code": error.code, "message": error.message})
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
    let body = html! {
        main {
            @if sandbox { (sandbox_banner()) }
            div class="card" { (content) }
        }
    };
    document(&format!("{title} · Tally"), STYLE, &body)
}

/// A whole HTML document: the head every page of Tally's has (not indexed, sized for phones),
/// its own style sheet, and `body`. The hosted pages and the dashboard share it.
pub(crate) fn document(title: &str, style: &str, body: &Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="robots" content="noindex";
                title { (title) }
                style { (PreEscaped(style)) }
            }
            body { (body) }
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
