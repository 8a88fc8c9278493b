//! Request metrics: the count and latency of every request, `/healthz` and unknown endpoints
//! included, by route template, method and status. The labels are bounded by construction: the
//! route is the template (`/api/v1/customers/{id}`), never the raw path, which carries external
//! ids; a method outside the standard ones is `other`. The recorder (and `/metrics`) belong to
//! the binary; without one these calls do nothing.

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The route label of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Records one request once its response is ready (the body, small JSON, is not timed).
pub async fn record(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let response = next.run(request).await;
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("tally_http_requests_total", &labels).increment(1);
    metrics::histogram!("tally_http_request_duration_seconds", &labels).record(started.elapsed());
    response
}

/// The method, or `other` for one outside HTTP's standard set: any token is a valid method,
/// and a label must not take unbounded values.
fn method_label(method: &Method) -> &'static str {
    const STANDARD: [&str; 9] = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "CONNECT", "TRACE",
    ];
    STANDARD
        .into_iter()
        .find(|standard| *standard == method.as_str())
        .unwrap_or("other")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_set_share_one_label() {
        let custom = Method::from_bytes(b"PURGE").unwrap();
        let lowercase = Method::from_bytes(b"get").unwrap();

        assert_eq!(method_label(&Method::PATCH), "PATCH");
        assert_eq!(method_label(&custom), "other");
        assert_eq!(method_label(&lowercase), "other");
    }
}
