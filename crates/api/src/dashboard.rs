//! The operator dashboard (`docs/contract/dashboard.md`): server-rendered pages under
//! `/dashboard` for the people who run Tally, signed in with the operator credential.
//!
//! - A session cookie (`HttpOnly`, `SameSite=Strict`, `Secure` behind HTTPS, path
//!   `/dashboard`) names the session; a page without one leads to the sign-in form, an action
//!   without one is refused (`403`).
//! - Every form carries the session's form token (`tally_app::dashboard::form_token`): a
//!   forged form from another site, which cannot read it, is refused (`403`).
//! - Every action form also carries a key made when the page was drawn, sent as the
//!   operation's idempotency key: a double submit replays the first answer and changes
//!   nothing more. After an action the browser is sent back (`303`) to the page, which shows
//!   the answer recorded under that key.
//! - Reads and actions are the API's own operations with the session as the caller, so they
//!   see only the side of the pair the session looks at (`tally_domain::dashboard`).

mod api_keys;
mod catalog;
mod chart;
mod customers;
mod invoices;
mod sign_in;
mod test_clock;
mod webhooks;

use crate::AppState;
use crate::error::ApiError;
use crate::pages::see_other;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use tally_app::dashboard::{Operator, form_token, form_token_holds};
use tally_app::{AppError, Command, Idempotency, Written};
use tally_domain::Timestamp;
use tally_store::StoredResponse;

/// The session cookie's name.
const COOKIE: &str = "tally_dashboard";
/// Longest form key accepted (an idempotency key).
const FORM_KEY_CHARS_MAX: usize = 255;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/dashboard",
            get(|| async { see_other("/dashboard/customers") }),
        )
        .route(
            "/dashboard/sign-in",
            get(sign_in::form).post(sign_in::sign_in),
        )
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/mode", post(sign_in::switch_mode))
        .route("/dashboard/customers", get(customers::list))
        .route("/dashboard/customers/{id}", get(customers::show))
        .route(
            "/dashboard/customers/{id}/seats",
            post(customers::set_seats),
        )
        .route(
            "/dashboard/customers/{id}/balance",
            post(customers::adjust_balance),
        )
        .route("/dashboard/customers/{id}/cancel", post(customers::cancel))
        .route("/dashboard/invoices/{id}", get(invoices::show))
        .route("/dashboard/invoices/{id}/void", post(invoices::void))
        .route("/dashboard/catalog", get(catalog::show))
        .route("/dashboard/webhooks", get(webhooks::list))
        .route("/dashboard/webhooks/{id}", get(webhooks::show))
        .route("/dashboard/webhooks/{id}/test", post(webhooks::test_send))
        .route(
            "/dashboard/webhooks/{id}/deliveries/{delivery}/resend",
            post(webhooks::resend),
        )
        .route(
            "/dashboard/test-clock",
            get(test_clock::show).post(test_clock::advance),
        )
        .route(
            "/dashboard/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route("/dashboard/api-keys/{id}/revoke", post(api_keys::revoke))
}

/// The client's address, for the failed-sign-in budget.
fn source(parts: &Parts) -> Option<crate::rate_limit::Source> {
    parts
        .extensions
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|peer| crate::rate_limit::Source::from(peer.0.ip()))
}

/// Refuses (`429`) an address past its failed-authentication budget, before anything is read.
fn address_allowed(
    state: &AppState,
    source: Option<crate::rate_limit::Source>,
    now: std::time::Instant,
) -> Result<(), Response> {
    let Some(source) = source else { return Ok(()) };
    let quota = state.limiter.may_authenticate(source, now);
    if quota.is_allowed {
        Ok(())
    } else {
        Err(too_many(&quota))
    }
}

fn session_secret(parts: &Parts) -> Option<String> {
    parts
        .headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// `Set-Cookie` for a session secret; an empty secret with `Max-Age=0` removes it.
fn session_cookie(secret: &str, secure: bool) -> HeaderValue {
    let max_age = if secret.is_empty() {
        0
    } else {
        tally_domain::dashboard::SESSION_TTL_MS / 1000
    };
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{COOKIE}={secret}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("tally_dashboard=; Max-Age=0"))
}

/// A signed-in request: the operator and the session secret its forms are tied to. Without
/// an open session a page leads to the sign-in form and anything else is refused; an
/// organization past its request budget is answered `429`, like its API keys.
pub(crate) struct Signed {
    pub operator: Operator,
    secret: String,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let now = std::time::Instant::now();
        let source = source(parts);
        address_allowed(state, source, now)?;
        let refused = |parts: &Parts| {
            if parts.method == Method::GET {
                see_other("/dashboard/sign-in")
            } else {
                message_page(
                    StatusCode::FORBIDDEN,
                    "Signed out",
                    "Your session has ended. Sign in again.",
                )
            }
        };
        let Some(secret) = session_secret(parts) else {
            return Err(refused(parts));
        };
        let operator = match state.app.operator(&secret).await {
            Ok(operator) => operator,
            Err(AppError::Unauthorized) => {
                if let Some(source) = source {
                    state.limiter.record_auth_failure(source, now);
                }
                return Err(refused(parts));
            }
            Err(error) => return Err(failure(&error)),
        };
        let quota = state.limiter.check_org(operator.caller.org(), now);
        if !quota.is_allowed {
            return Err(too_many(&quota));
        }
        Ok(Signed { operator, secret })
    }
}

impl Signed {
    /// The hidden fields every form of this session carries: the form token, and a fresh key
    /// that makes a double submit of an action harmless.
    fn form_fields(&self, state: &AppState) -> Markup {
        html! {
            input type="hidden" name="formToken" value=(form_token(&self.secret));
            input type="hidden" name="formKey" value=(state.app.new_form_key());
        }
    }
}

/// A posted dashboard form: signed in, the form token checked, the fields read once.
pub(crate) struct Posted {
    pub signed: Signed,
    fields: BTreeMap<String, String>,
    path: String,
}

impl FromRequest<AppState> for Posted {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let path = parts.uri.path().to_owned();
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        let body = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(IntoResponse::into_response)?;
        let fields: BTreeMap<String, String> = if is_form {
            form_urlencoded::parse(&body).into_owned().collect()
        } else {
            BTreeMap::new()
        };
        let held = fields
            .get("formToken")
            .is_some_and(|token| form_token_holds(&signed.secret, token));
        if !held {
            return Err(message_page(
                StatusCode::FORBIDDEN,
                "This form has expired",
                "The form did not come from a page of your session. Reload the page and try again.",
            ));
        }
        Ok(Posted {
            signed,
            fields,
            path,
        })
    }
}

impl Posted {
    fn field(&self, name: &str) -> &str {
        self.fields
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    }

    /// A field holding a whole number, when it does.
    fn whole_number(&self, name: &str) -> Option<i64> {
        self.field(name).trim().parse().ok()
    }

    fn operator(&self) -> &Operator {
        &self.signed.operator
    }

    /// The operation's idempotency key: the form's key, and what the form asked (the path and
    /// its fields, the form token aside) as the fingerprint.
    fn idempotency(&self) -> Result<Idempotency, Response> {
        let key = self.field("formKey");
        if key.is_empty() || key.len() > FORM_KEY_CHARS_MAX {
            return Err(message_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "This form is incomplete",
                "Reload the page and try again.",
            ));
        }
        let mut asked = Sha256::new();
        asked.update(self.path.as_bytes());
        for (name, value) in self.fields.iter().filter(|(name, _)| *name != "formToken") {
            asked.update([0]);
            asked.update(name.as_bytes());
            asked.update([0]);
            asked.update(value.as_bytes());
        }
        Ok(Idempotency {
            key: key.to_owned(),
            fingerprint: hex::encode(asked.finalize()),
        })
    }

    /// Runs `command` as the session with the form's key and sends the browser back to
    /// `back`, which shows the recorded answer (`notice` of the output, or the refusal).
    async fn act<C: Command + 'static>(
        &self,
        state: &AppState,
        command: C,
        notice: impl Fn(&C::Output) -> String + Send + Sync + 'static,
        back: &str,
    ) -> Response {
        let idempotency = match self.idempotency() {
            Ok(idempotency) => idempotency,
            Err(response) => return response,
        };
        let written = state
            .app
            .write(
                &self.operator().caller,
                Some(&idempotency),
                command,
                move |outcome| recorded(outcome.map(&notice)),
            )
            .await;
        back_to(back, &idempotency, written)
    }
}

/// After an action: back to `back`, which shows the answer recorded under the form's key; a
/// failure that recorded nothing is answered at once.
fn back_to(back: &str, idempotency: &Idempotency, written: Result<Written, AppError>) -> Response {
    match written {
        Ok(_) => see_other(&with_done(back, &idempotency.key)),
        Err(error) => failure(&error),
    }
}

/// A form the dashboard refuses before any operation runs (`422`), saying what to fix.
fn check_the_form(message: &str) -> Response {
    message_page(StatusCode::UNPROCESSABLE_ENTITY, "Check the form", message)
}

/// What the dashboard records under a form key: a notice, or the refusal's message.
fn recorded(outcome: Result<String, &AppError>) -> StoredResponse {
    match outcome {
        Ok(notice) => StoredResponse {
            status: 200,
            body: json!({ "notice": notice }).to_string(),
        },
        Err(refusal) => {
            let error = ApiError::from(refusal);
            StoredResponse {
                status: error.status().as_u16(),
                body: json!({ "error": error.message }).to_string(),
            }
        }
    }
}

fn with_done(back: &str, key: &str) -> String {
    let separator = if back.contains('?') { '&' } else { '?' };
    format!("{back}{separator}done={}", encode(key))
}

pub(crate) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// The answer recorded under `done` (a form key of this session), as a notice to show.
async fn outcome(state: &AppState, signed: &Signed, done: Option<&str>) -> Option<Notice> {
    let key = done.filter(|k| !k.is_empty() && k.len() <= FORM_KEY_CHARS_MAX)?;
    let response = state.app.form_outcome(&signed.operator, key).await.ok()??;
    let body: Value = serde_json::from_str(&response.body).ok()?;
    let text = |field: &str| body.get(field).and_then(Value::as_str).map(str::to_owned);
    if response.status < 400 {
        text("notice").map(Notice::Done)
    } else {
        Some(Notice::Refused(text("error").unwrap_or_else(|| {
            // An idempotency conflict is rendered by the write path in the API's shape.
            body.pointer("/error/message")
                .or_else(|| body.get("message"))
                .and_then(Value::as_str)
                .unwrap_or("The action was refused.")
                .to_owned()
        })))
    }
}

/// What a page says about the action that led to it.
pub(crate) enum Notice {
    Done(String),
    Refused(String),
}

fn notice_markup(notice: Option<&Notice>) -> Markup {
    html! {
        @match notice {
            Some(Notice::Done(text)) => p class="ok" role="status" { (text) },
            Some(Notice::Refused(text)) => p role="alert" { (text) },
            None => {}
        }
    }
}

/// An internal failure as a page (`503` while the database is away).
fn failure(error: &AppError) -> Response {
    let status = ApiError::from(error).status();
    if status.is_server_error() {
        tracing::error!(error = %error, "a dashboard page failed");
        message_page(status, "Something went wrong", "Try again in a moment.")
    } else {
        message_page(status, "Not available", &ApiError::from(error).message)
    }
}

/// `429`, counted by the budget that refused, with the seconds until it refills.
fn too_many(quota: &crate::rate_limit::Quota) -> Response {
    metrics::counter!("tally_rate_limited_total", "budget" => quota.budget.as_str()).increment(1);
    let mut response = message_page(
        StatusCode::TOO_MANY_REQUESTS,
        "Too many requests",
        "Try again in a few seconds.",
    );
    if let Ok(value) = HeaderValue::from_str(&quota.reset_secs.to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

fn message_page(status: StatusCode, title: &str, message: &str) -> Response {
    respond(
        status,
        bare_layout(
            title,
            &html! { h1 { (title) } p role="alert" { (message) } p { a href="/dashboard" { "Back to the dashboard" } } },
        ),
    )
}

/// A page of the dashboard for a signed-in operator: the mode banner, navigation, sign-out.
fn page(state: &AppState, signed: &Signed, title: &str, content: &Markup) -> Response {
    let live = signed.operator.is_live();
    let mode_form = html! {
        form method="post" action="/dashboard/mode" class="inline" {
            (signed.form_fields(state))
            input type="hidden" name="mode" value=(if live { "sandbox" } else { "live" });
            button type="submit" class="secondary" id="switch-mode" {
                (if live { "Switch to sandbox" } else { "Switch to live" })
            }
        }
    };
    let body = html! {
        header class=(if live { "mode live" } else { "mode sandbox" }) {
            strong id="mode" { (if live { "LIVE" } else { "SANDBOX" }) }
            span { (if live { " Real customers and money." } else { " Test data: nothing here is real." }) }
            (mode_form)
        }
        nav {
            a href="/dashboard/customers" { "Customers" }
            a href="/dashboard/catalog" { "Catalog" }
            a href="/dashboard/webhooks" { "Webhooks" }
            @if !live { a href="/dashboard/test-clock" { "Test clock" } }
            a href="/dashboard/api-keys" { "API keys" }
            form method="post" action="/dashboard/sign-out" class="inline right" {
                (signed.form_fields(state))
                button type="submit" class="link" id="sign-out" { "Sign out" }
            }
        }
        main { (content) }
    };
    respond(StatusCode::OK, shell(title, &body))
}

/// A dashboard page: the hosted pages' headers, except that same-origin requests keep their
/// referrer. A browser sends `Origin` with a form only when the page's policy allows a
/// referrer, and the sign-in form is checked by its origin (`sign_in`); the dashboard's URLs
/// carry no secret, so its own requests may name them.
fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = crate::pages::html_response(status, markup);
    response.headers_mut().insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn bare_layout(title: &str, content: &Markup) -> Markup {
    shell(title, &html! { main class="narrow" { (content) } })
}

const STYLE: &str = "
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#111;background:#f4f4f5}
main{max-width:72rem;margin:0 auto;padding:1rem 1.25rem}main.narrow{max-width:26rem;padding-top:3rem}
header.mode{display:flex;gap:.75rem;align-items:center;padding:.5rem 1.25rem;color:#fff}
header.mode.sandbox{background:#b45309}header.mode.live{background:#b91c1c}
header.mode form{margin-left:auto}
nav{display:flex;gap:1.25rem;align-items:center;padding:.6rem 1.25rem;background:#fff;border-bottom:1px solid #d4d4d8}
nav a{font-weight:600;text-decoration:none}nav .right{margin-left:auto}
section{background:#fff;border:1px solid #d4d4d8;border-radius:.5rem;padding:1rem;margin:0 0 1rem}
h1{font-size:1.4rem;margin:.25rem 0 1rem}h2{font-size:1.1rem;margin:0 0 .6rem}
table{width:100%;border-collapse:collapse;font-size:.9rem}th,td{text-align:left;padding:.35rem .4rem;border-bottom:1px solid #e4e4e7;vertical-align:top}
th{color:#52525b;font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
label{font-weight:600;margin-right:.35rem}
input,select{font:inherit;padding:.35rem .5rem;border:1px solid #71717a;border-radius:.3rem}
button{font:inherit;font-weight:600;padding:.4rem .8rem;border:0;border-radius:.3rem;background:#1d4ed8;color:#fff;cursor:pointer}
button.secondary{background:#27272a}button.danger{background:#b91c1c}
button.link{background:none;color:#1d4ed8;padding:0}
form.inline{display:inline}form.row{display:flex;gap:.5rem;align-items:center;flex-wrap:wrap;margin:.5rem 0}
[role=alert]{color:#991b1b;background:#fef2f2;border:1px solid #fecaca;padding:.5rem .75rem;border-radius:.3rem}
.ok{color:#14532d;background:#f0fdf4;border:1px solid #bbf7d0;padding:.5rem .75rem;border-radius:.3rem}
.muted{color:#71717a}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr));gap:1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0}dt{color:#52525b}dd{margin:0}
code{font-size:.85rem}.visually-hidden{position:absolute;left:-9999px}a{color:#1d4ed8}svg text{font:11px system-ui,sans-serif;fill:#3f3f46}
";

fn shell(title: &str, body: &Markup) -> Markup {
    crate::pages::document(&format!("{title} · Tally dashboard"), STYLE, body)
}

/// An instant as the dashboard shows it: UTC, to the minute.
pub(crate) fn when(at: Timestamp) -> String {
    let text = at.to_rfc3339();
    format!("{} {} UTC", &text[..10], &text[11..16])
}

pub(crate) fn money(amount: i64, currency: &str) -> String {
    tally_domain::money::format_money(amount, currency)
}
