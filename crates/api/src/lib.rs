//! Tally's HTTP API: the axum router, authentication, API-version resolution, rate limits and
//! error rendering. Handlers are thin: parse at the edge, call one `tally_app` operation,
//! render with `tally_wire` for the resolved version.

// `ApiError` is large (it carries the message, param and details it renders) but travels only
// on the error path, once per failed request; boxing it would cost an allocation per error and
// indirection at every field access for no measurable gain.
#![allow(clippy::result_large_err)]

mod dashboard;
mod edge;
mod endpoint;
pub mod error;
mod extract;
pub mod openapi;
mod pages;
pub mod rate_limit;
mod reply;
mod request_metrics;
mod routes;
mod version;

pub use rate_limit::RateLimit;

use axum::Router;
use rate_limit::RateLimiter;
use std::sync::Arc;
use std::time::Duration;
use tally_app::App;

/// The default host of `doc_url` in error bodies (`wire.md` §5.1).
pub const DOC_URL_BASE_DEFAULT: &str = "https://commet.co/docs/api-reference";

/// The longest a client may take to send a request body, by default.
pub const BODY_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// The longest a request may take from its headers to its answer, by default (the SDKs give up
/// after 30 s).
pub const REQUEST_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// The largest request body accepted, by default: 2 MiB. The largest valid body, a batch of 100
/// customers with every field at its bound (`tally_domain::limits`), is about 1.5 MiB.
pub const BODY_LIMIT_BYTES_DEFAULT: usize = 2 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub rate_limit: RateLimit,
    pub doc_url_base: String,
    /// The longest a client may take to send a request body: past it the request is refused
    /// (`validation_error` on `body`).
    pub body_timeout: Duration,
    /// The longest a request may take from its headers to its answer: past it the client gets
    /// `503 service_unavailable` (a write it started still runs to its end).
    pub request_timeout: Duration,
    /// The largest request body accepted: a larger one is refused, `413 payload_too_large`,
    /// once that many bytes have arrived.
    pub body_limit_bytes: usize,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::default(),
            doc_url_base: DOC_URL_BASE_DEFAULT.to_owned(),
            body_timeout: BODY_TIMEOUT_DEFAULT,
            request_timeout: REQUEST_TIMEOUT_DEFAULT,
            body_limit_bytes: BODY_LIMIT_BYTES_DEFAULT,
        }
    }
}

/// What every handler and middleware is given. One shared allocation: axum clones the state
/// several times per request, and a clone is then one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub app: App,
    limiter: RateLimiter,
    doc_url_base: Box<str>,
    request_timeout: Duration,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole HTTP surface: `/api/v1/*` behind the edge middleware, and `/healthz`.
pub fn router(app: App, config: &ApiConfig) -> Router {
    let state = AppState(Arc::new(Shared {
        app,
        limiter: RateLimiter::new(config.rate_limit),
        doc_url_base: config.doc_url_base.trim_end_matches('/').into(),
        request_timeout: config.request_timeout,
    }));
    routes::router(state)
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            config.body_timeout,
        ))
        // axum's own limit, which `ApiJson` reads bodies under; the extension lets its refusal
        // name the limit.
        .layer(axum::extract::DefaultBodyLimit::max(
            config.body_limit_bytes,
        ))
        .layer(axum::Extension(extract::BodyLimit(config.body_limit_bytes)))
}
