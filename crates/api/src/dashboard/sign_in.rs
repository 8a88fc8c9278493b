//! Signing in and out, and the sandbox/live switch (`dashboard.md` §1).

use super::{Posted, Signed, bare_layout, failure, message_page, respond, session_cookie, source};
use crate::AppState;
use crate::pages::see_other;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use maud::html;
use tally_app::AppError;
use tally_domain::Mode;

/// The sign-in form; an open session goes straight to the customers.
pub async fn form(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _) = request.into_parts();
    let has_cookie = super::session_secret(&parts).is_some();
    if has_cookie && Signed::from_request_parts(&mut parts, &state).await.is_ok() {
        return see_other("/dashboard/customers");
    }
    sign_in_page(StatusCode::OK, None)
}

fn sign_in_page(status: StatusCode, problem: Option<&str>) -> Response {
    respond(
        status,
        bare_layout(
            "Sign in",
            &html! {
                h1 { "Tally dashboard" }
                @if let Some(problem) = problem { p role="alert" id="sign-in-problem" { (problem) } }
                form method="post" action="/dashboard/sign-in" {
                    p {
                        label for="credential" { "Operator credential" }
                        input id="credential" name="credential" type="password" autocomplete="current-password" required autofocus;
                    }
                    button type="submit" id="sign-in" { "Sign in" }
                }
                p class="muted" {
                    "The credential is printed at first start; "
                    code { "tally dashboard credential" } " sets a new one."
                }
            },
        ),
    )
}

/// Checks the credential; on success a new session (looking at the sandbox) and its cookie.
/// A wrong credential counts against the address's failed-authentication budget.
pub async fn sign_in(State(state): State<AppState>, request: Request) -> Response {
    let now = std::time::Instant::now();
    let (parts, body) = request.into_parts();
    let source = source(&parts);
    if let Err(refused) = super::address_allowed(&state, source, now) {
        return refused;
    }
    let signer = match state.app.page_signer().await {
        Ok(signer) => signer,
        Err(error) => return failure(&error),
    };
    if !same_origin(&parts.headers, signer.base_url()) {
        return message_page(
            StatusCode::FORBIDDEN,
            "Sign in from the dashboard",
            "This sign-in form was sent from another site.",
        );
    }
    let Ok(body) = axum::body::to_bytes(body, 64 * 1024).await else {
        return sign_in_page(StatusCode::UNPROCESSABLE_ENTITY, Some("Send the form."));
    };
    let credential = form_urlencoded::parse(&body)
        .find(|(name, _)| name == "credential")
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default();
    match state.app.sign_in(&credential).await {
        Ok(secret) => {
            let secure = signer.is_https();
            let mut response = see_other("/dashboard/customers");
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session_cookie(&secret, secure));
            response
        }
        Err(AppError::Unauthorized) => {
            if let Some(source) = source {
                state.limiter.record_auth_failure(source, now);
            }
            sign_in_page(
                StatusCode::UNAUTHORIZED,
                Some("That credential is not the operator credential."),
            )
        }
        Err(error) => failure(&error),
    }
}

/// Ends the session on every node and removes the cookie.
pub async fn sign_out(State(state): State<AppState>, posted: Posted) -> Response {
    if let Err(error) = state.app.sign_out(posted.operator()).await {
        return failure(&error);
    }
    let mut response = see_other("/dashboard/sign-in");
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie("", false));
    response
}

/// Points the session at the sandbox or the live side of the pair.
pub async fn switch_mode(State(state): State<AppState>, posted: Posted) -> Response {
    let mode = match posted.field("mode") {
        "live" => Mode::Live,
        "sandbox" => Mode::Sandbox,
        _ => {
            return message_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Unknown mode",
                "mode is live or sandbox.",
            );
        }
    };
    match state
        .app
        .switch_dashboard_mode(posted.operator(), mode)
        .await
    {
        Ok(()) => see_other("/dashboard/customers"),
        Err(error) => failure(&error),
    }
}

/// The sign-in form has no session to carry a form token yet, so it is held to its origin
/// instead (a forged sign-in would put the operator's browser in another session): a browser's
/// `Origin`, when sent, must be this server's public origin or name the host asked for.
fn same_origin(headers: &HeaderMap, public_origin: &str) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    origin == public_origin.trim_end_matches('/')
        || origin
            .split_once("://")
            .is_some_and(|(_, authority)| Some(authority) == host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(origin: Option<&'static str>, host: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_static(host));
        if let Some(origin) = origin {
            headers.insert(header::ORIGIN, HeaderValue::from_static(origin));
        }
        headers
    }

    #[test]
    fn a_sign_in_is_taken_from_this_origin_only() {
        let public = "https://billing.example.com";
        assert!(same_origin(&headers(None, "127.0.0.1:8080"), public));
        assert!(same_origin(
            &headers(Some("http://127.0.0.1:8080"), "127.0.0.1:8080"),
            public
        ));
        assert!(same_origin(
            &headers(Some("https://billing.example.com"), "10.0.0.5:8080"),
            public
        ));
        assert!(!same_origin(
            &headers(Some("https://evil.example"), "127.0.0.1:8080"),
            public
        ));
        assert!(!same_origin(
            &headers(Some("null"), "127.0.0.1:8080"),
            public
        ));
    }
}
