//! Which API version a request is answered in (`wire.md` §3.1): the `commet-version` header,
//! then the organization's pin, then the current version.

use crate::error::ApiError;
use axum::http::HeaderMap;
use tally_domain::ApiVersion;

pub const VERSION_HEADER: &str = "commet-version";

/// The version the header asks for; `Ok(None)` when there is no header.
pub fn requested_version(headers: &HeaderMap) -> Result<Option<ApiVersion>, ApiError> {
    let Some(value) = headers.get(VERSION_HEADER) else {
        return Ok(None);
    };
    value
        .to_str()
        .ok()
        .and_then(ApiVersion::resolve)
        .map(Some)
        .ok_or_else(|| {
            ApiError::validation(
                VERSION_HEADER,
                "commet-version must be an API version date such as 2026-08-27",
            )
        })
}
