//! Tally's HTTP API: the axum router, authentication, API-version resolution, rate limits and
//! error rendering. Handlers are thin: parse at the edge, call one `tally_app` operation,
//! render with `tally_wire` for the resolved version.

// `ApiError` is large (it carries the message, param and details it renders) but travels only
// on the error path, once per failed request; boxing it would cost an allocation per error and
// indirection at every field access for no measurable gain.
#![allow(clippy::result_large_err)]

mod edge;
pub mod error;
mod extract;
pub mod rate_limit;
mod reply;
mod routes;
mod version;

pub use rate_limit::RateLimit;

use axum::Router;
use rate_limit::RateLimiter;
use std::sync::Arc;
use tally_app::App;

/// The default host of `doc_url` in error bodies (`wire.md` §5.1).
pub const DOC_URL_BASE_DEFAULT: &str = "https://commet.co/docs/api-reference";

#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub rate_limit: RateLimit,
    pub doc_url_base: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            rate_limit: RateLimit::default(),
            doc_url_base: DOC_URL_BASE_DEFAULT.to_owned(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub app: App,
    limiter: Arc<RateLimiter>,
    doc_url_base: Arc<str>,
}

/// The whole HTTP surface: `/api/v1/*` behind the edge middleware, and `/healthz`.
pub fn router(app: App, config: &ApiConfig) -> Router {
    let state = AppState {
        app,
        limiter: Arc::new(RateLimiter::new(config.rate_limit)),
        doc_url_base: config.doc_url_base.trim_end_matches('/').into(),
    };
    routes::router(state)
}
