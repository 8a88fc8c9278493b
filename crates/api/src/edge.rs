//! The middleware every `/api/v1` request passes: request id, authentication, version
//! resolution, rate limiting, and the rendering of errors in the resolved version.

use crate::AppState;
use crate::error::{ApiError, ErrorCode};
use crate::extract::Ctx;
use crate::rate_limit::{Quota, Source};
use crate::version::{VERSION_HEADER, requested_version};
use axum::body::Body;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::Rng;
use rand::distr::Alphanumeric;
use std::net::SocketAddr;
use std::time::Instant;
use tally_app::AppError;
use tally_domain::ApiVersion;
use tracing::{Instrument, debug, error, info_span};

pub const API_KEY_HEADER: &str = "x-api-key";
pub const REQUEST_ID_HEADER: &str = "x-request-id";
/// What the logs name as the route of a request no route matched.
const UNMATCHED_ROUTE: &str = "(no route)";
/// `req_` + 24 base62 characters (`wire.md` §8).
const REQUEST_ID_RANDOM_CHARS: usize = 24;

/// Gives every response, `/healthz` included, an `x-request-id`; the edge and the logs read
/// the same id from the request's extensions.
pub async fn stamp_request_id(mut request: Request, next: Next) -> Response {
    let request_id = RequestId(new_request_id());
    request.extensions_mut().insert(request_id.clone());
    let mut response = next.run(request).await;
    response.headers_mut().insert(
        REQUEST_ID_HEADER,
        HeaderValue::from_str(&request_id.0).expect("request ids are ASCII"),
    );
    response
}

#[derive(Debug, Clone)]
pub struct RequestId(pub String);

pub async fn edge(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(new_request_id, |id| id.0.clone());
    // The route template (`/api/v1/customers/{id}`), never the raw path: paths carry external
    // ids, which are often e-mail addresses, and logs are no place for them.
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let span = info_span!(
        "request",
        method = %request.method(),
        route = %route,
        request_id = %request_id,
        org = tracing::field::Empty,
    );
    async move {
        let started = Instant::now();
        let (outcome, version, quota) = admit_and_run(&state, request, next).await;
        let mut response = outcome.unwrap_or_else(IntoResponse::into_response);
        if let Some(error) = response.extensions_mut().remove::<ApiError>() {
            render_error(
                &mut response,
                &error,
                version,
                &state.doc_url_base,
                &request_id,
            );
        }
        decorate(response.headers_mut(), version, quota);
        debug!(
            status = response.status().as_u16(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "answered"
        );
        response
    }
    .instrument(span)
    .await
}

/// Authenticates, resolves the version and counts the request; runs the route if all pass.
/// Returns the version to render in, whatever happened.
async fn admit_and_run(
    state: &AppState,
    mut request: Request,
    next: Next,
) -> (Result<Response, ApiError>, ApiVersion, Option<Quota>) {
    let requested = requested_version(request.headers());
    let fallback_version = requested
        .as_ref()
        .ok()
        .copied()
        .flatten()
        .unwrap_or(ApiVersion::CURRENT);
    let secret = request
        .headers()
        .get(API_KEY_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    // The TCP peer, never X-Forwarded-For, which any client can write. A router served
    // without peer addresses (not `tally serve`) limits no source.
    let source = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|peer| Source::from(peer.0.ip()));
    if let Some(source) = source {
        // Refused before the key is looked up: the answer says nothing about a guess, and a
        // flood of bad keys costs no database reads.
        let quota = state.limiter.may_authenticate(source, Instant::now());
        if !quota.is_allowed {
            count_refusal(quota);
            let error = ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "Too many failed authentications from this address; retry in {} s",
                    quota.reset_secs
                ),
            )
            .with_retry_after(quota.reset_secs);
            drain(request).await;
            return (Err(error), fallback_version, None);
        }
    }
    let caller = match state.app.authenticate(&secret).await {
        Ok(caller) => caller,
        Err(error) => {
            if let (AppError::Unauthorized, Some(source)) = (&error, source) {
                state.limiter.record_auth_failure(source, Instant::now());
            }
            drain(request).await;
            return (Err(ApiError::from(error)), fallback_version, None);
        }
    };
    tracing::Span::current().record("org", tracing::field::display(caller.org()));
    let version = match requested {
        Ok(requested) => requested.unwrap_or(caller.organization.api_version),
        Err(error) => {
            drain(request).await;
            return (Err(error), ApiVersion::CURRENT, None);
        }
    };
    let quota = state
        .limiter
        .check(&caller.key_id, caller.org(), Instant::now());
    if !quota.is_allowed {
        count_refusal(quota);
        let error = ApiError::new(
            ErrorCode::RateLimited,
            format!(
                "Too many requests for this API key or its organization; retry in {} s",
                quota.reset_secs
            ),
        )
        .with_retry_after(quota.reset_secs);
        drain(request).await;
        return (Err(error), version, Some(quota));
    }
    request.extensions_mut().insert(Ctx { caller, version });
    let answered = tokio::time::timeout(state.request_timeout, next.run(request))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::ServiceUnavailable,
                format!(
                    "The request took longer than {} s. A change it started still completes: \
                     retry with the same Idempotency-Key to get its answer",
                    state.request_timeout.as_secs_f64()
                ),
            )
            .with_retry_after(1)
        });
    (answered, version, Some(quota))
}

/// Counts a rate-limit refusal by the budget that refused it (never by key or organization:
/// metric labels stay bounded).
fn count_refusal(quota: Quota) {
    metrics::counter!("tally_rate_limited_total", "budget" => quota.budget.as_str()).increment(1);
}

/// Most bytes of an unread body read and dropped before a refusal at the edge.
const REFUSED_BODY_DRAIN_BYTES_MAX: usize = 1024 * 1024;

/// Reads and drops the body of a request refused before its route ran. An HTTP/1 server that
/// answers without reading the body must close the connection, and a client that reuses it at
/// that moment sees "server disconnected" on its next request (the Python SDK did, after a 401).
/// Bodies over the bound are not read: that connection is closed, as it must be.
async fn drain(request: Request) {
    axum::body::to_bytes(request.into_body(), REFUSED_BODY_DRAIN_BYTES_MAX)
        .await
        .ok();
}

/// The routes outside `/api/v1` (`/healthz`) have no key and no version: an error they return
/// (a method they do not serve, an unreachable database) is rendered in the current version,
/// in the same shape as the API's.
pub async fn render_unversioned_errors(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map_or_else(new_request_id, |id| id.0.clone());
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        render_error(
            &mut response,
            &error,
            ApiVersion::CURRENT,
            &state.doc_url_base,
            &request_id,
        );
    }
    response
}

fn render_error(
    response: &mut Response,
    error: &ApiError,
    version: ApiVersion,
    doc_url_base: &str,
    request_id: &str,
) {
    if error.status().is_server_error() {
        // Logged once, here, with the cause; the client gets only the code and request id.
        error!(
            request_id,
            code = error.code.as_str(),
            cause = error.cause.as_deref().unwrap_or(""),
            "request failed"
        );
    }
    *response.status_mut() = error.status();
    *response.body_mut() = Body::from(error.body(version, doc_url_base).to_string());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.remove(header::CONTENT_LENGTH);
    if let Some(secs) = error.retry_after_secs {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
}

fn decorate(headers: &mut HeaderMap, version: ApiVersion, quota: Option<Quota>) {
    let value = |text: String| HeaderValue::from_str(&text).expect("numbers are ASCII");
    headers.insert(VERSION_HEADER, HeaderValue::from_static(version.as_str()));
    if let Some(quota) = quota {
        headers.insert("ratelimit-limit", value(quota.limit.to_string()));
        headers.insert("ratelimit-remaining", value(quota.remaining.to_string()));
        headers.insert("ratelimit-reset", value(quota.reset_secs.to_string()));
    }
}

fn new_request_id() -> String {
    let random: String = rand::rng()
        .sample_iter(Alphanumeric)
        .take(REQUEST_ID_RANDOM_CHARS)
        .map(char::from)
        .collect();
    format!("req_{random}")
}
