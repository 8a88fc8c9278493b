//! Extractors whose rejections use the documented error shape: JSON bodies, query strings,
//! path segments, the idempotency key, and the authenticated request context.

use crate::error::{ApiError, ErrorCode};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use tally_app::{Caller, Idempotency, write::IDEMPOTENCY_KEY_CHARS_MAX};
use tally_domain::page::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX, PagePosition, PageRequest};
use tally_domain::{ApiVersion, Timestamp};

pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The authenticated caller and the resolved API version, placed by the edge middleware.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub caller: Caller,
    pub version: ApiVersion,
}

impl Ctx {
    pub fn livemode(&self) -> tally_wire::Livemode {
        tally_wire::Livemode(self.caller.is_live())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| ApiError::internal("route served without the edge middleware"))
    }
}

/// The largest request body accepted, in bytes (`ApiConfig::body_limit_bytes`), for the
/// message of the refusal of a larger one.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimit(pub usize);

/// A JSON object body, parsed into `T`. A missing or empty body counts as `{}` whatever the
/// Content-Type (`wire.md` §2.2); the canonical form feeds the idempotency fingerprint.
pub struct ApiJson<T> {
    pub value: T,
    pub canonical: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let limit = request.extensions().get::<BodyLimit>().copied();
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    let limit = limit
                        .map_or_else(String::new, |BodyLimit(bytes)| format!(" of {bytes} bytes"));
                    ApiError::new(
                        ErrorCode::PayloadTooLarge,
                        format!("The request body is larger than this server's limit{limit}"),
                    )
                    .with_param("body")
                } else {
                    ApiError::validation(
                        "body",
                        format!("the request body could not be read: {rejection}"),
                    )
                }
            })?;
        let json: Value = if bytes.iter().all(u8::is_ascii_whitespace) {
            Value::Object(serde_json::Map::new())
        } else {
            serde_json::from_slice(&bytes).map_err(|error| {
                ApiError::new(
                    ErrorCode::InvalidJson,
                    format!("The request body is not valid JSON: {error}"),
                )
            })?
        };
        if !json.is_object() {
            return Err(ApiError::validation(
                "body",
                "the request body must be a JSON object",
            ));
        }
        if let Some(refused) = tally_domain::limits::refused_field(&json) {
            return Err(ApiError::validation(refused.field, refused.message));
        }
        let canonical = canonical_json(&json);
        let value = serde_path_to_error::deserialize(json).map_err(|error| {
            let path = error.path().to_string();
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::validation(field.clone(), format!("{field}: {}", error.inner()))
        })?;
        Ok(Self { value, canonical })
    }
}

/// Text with a NUL character in a query parameter or the path (`tally_domain::limits`).
fn nul_refused(field: &str) -> ApiError {
    let refused = tally_domain::limits::nul_refused(field);
    ApiError::validation(refused.field, refused.message)
}

/// JSON with object keys sorted at every level, so equal bodies fingerprint equally.
pub fn canonical_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<_> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// The query string as names and values, with typed accessors that report bad values by name.
pub struct ApiQuery(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for ApiQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let pairs: HashMap<String, String> = url_pairs(query).collect();
        if let Some((name, _)) = pairs
            .iter()
            .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        {
            return Err(nul_refused(name));
        }
        Ok(Self(pairs))
    }
}

fn url_pairs(query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.as_bytes())
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
}

fn percent_decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

impl ApiQuery {
    pub fn text(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// `limit` (1–100, default 25) and `cursor` (`wire.md` §9).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        self.page_or(PAGE_SIZE_DEFAULT)
    }

    /// `page` with another default size (subscription lists default to a full page).
    pub fn page_or(&self, default_limit: u32) -> Result<PageRequest, ApiError> {
        let limit = match self.text("limit") {
            None => default_limit,
            Some(text) => text
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=PAGE_SIZE_MAX).contains(n))
                .ok_or_else(|| {
                    ApiError::validation(
                        "limit",
                        format!("limit must be an integer from 1 to {PAGE_SIZE_MAX}"),
                    )
                })?,
        };
        let after = self.text("cursor").map(decode_cursor).transpose()?;
        Ok(PageRequest { limit, after })
    }
}

/// Cursors are opaque to clients: hex of `<createdAt ms>:<id>` of the last item shown.
pub fn encode_cursor(created_at: Timestamp, id: &str) -> String {
    hex::encode(format!("{}:{id}", created_at.as_millis()))
}

pub(crate) fn decode_cursor(text: &str) -> Result<PagePosition, ApiError> {
    let invalid = || ApiError::validation("cursor", "cursor is not one this server issued");
    let raw = hex::decode(text).map_err(|_| invalid())?;
    let raw = String::from_utf8(raw).map_err(|_| invalid())?;
    let (millis, id) = raw.split_once(':').ok_or_else(invalid)?;
    let millis = millis.parse::<i64>().map_err(|_| invalid())?;
    // Ids are ASCII letters, digits and `_`: anything else was not issued here.
    if !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return Err(invalid());
    }
    Ok(PagePosition {
        created_at: Timestamp::from_millis(millis),
        id: id.to_owned(),
    })
}

/// Path parameters, percent-decoded (`wire.md` §2.2: SDKs insert ids unencoded): a `String`
/// for one, a tuple for several.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if percent_decode(parts.uri.path()).contains('\0') {
            return Err(nul_refused("path"));
        }
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(segments)| ApiPath(segments))
            .map_err(|rejection| ApiError::validation("path", rejection.body_text()))
    }
}

/// The `Idempotency-Key` header and what, besides the body, identifies the request.
pub struct IdempotencyKey(Option<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(IDEMPOTENCY_HEADER) else {
            return Ok(Self(None));
        };
        let key = value
            .to_str()
            .ok()
            .filter(|k| !k.is_empty() && k.chars().count() <= IDEMPOTENCY_KEY_CHARS_MAX)
            .ok_or_else(|| {
                ApiError::validation(
                    "Idempotency-Key",
                    format!(
                        "Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_CHARS_MAX} visible ASCII characters"
                    ),
                )
            })?
            .to_owned();
        let ctx = Ctx::from_request_parts(parts, state).await?;
        // Fingerprint (`wire.md` §6): method, decoded path, resolved version; the body is added
        // by `for_body`.
        let request = format!(
            "{}\n{}\n{}",
            parts.method,
            percent_decode(parts.uri.path()),
            ctx.version
        );
        Ok(Self(Some((key, request))))
    }
}

impl IdempotencyKey {
    pub fn for_body(&self, canonical_body: &str) -> Option<Idempotency> {
        self.0.as_ref().map(|(key, request)| Idempotency {
            key: key.clone(),
            fingerprint: hex::encode(Sha256::digest(format!("{request}\n{canonical_body}"))),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys_at_every_level() {
        let a: Value =
            serde_json::from_str(r#"{"b":1,"a":{"d":[{"z":1,"y":2}],"c":null}}"#).unwrap();
        let b: Value =
            serde_json::from_str(r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#).unwrap();

        assert_eq!(canonical_json(&a), canonical_json(&b));
        assert_eq!(
            canonical_json(&a),
            r#"{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let cursor = encode_cursor(Timestamp::from_millis(1_234), "cus_01ABC");
        let query = ApiQuery(HashMap::from([("cursor".to_owned(), cursor)]));
        let bad = ApiQuery(HashMap::from([("cursor".to_owned(), "zz".to_owned())]));
        let nul_id = ApiQuery(HashMap::from([(
            "cursor".to_owned(),
            hex::encode("1:a\0b"),
        )]));

        let page = query.page().unwrap();
        assert_eq!(page.limit, PAGE_SIZE_DEFAULT);
        assert_eq!(page.after.unwrap().id, "cus_01ABC");
        assert_eq!(bad.page().unwrap_err().code, ErrorCode::ValidationError);
        assert_eq!(nul_id.page().unwrap_err().code, ErrorCode::ValidationError);
    }

    #[test]
    fn query_values_are_percent_decoded() {
        let pairs: Vec<_> = url_pairs("externalId=a%40b+c&limit=5&x=%zz&y=%4").collect();

        assert_eq!(pairs[0], ("externalId".to_owned(), "a@b c".to_owned()));
        assert_eq!(pairs[1], ("limit".to_owned(), "5".to_owned()));
        assert_eq!(pairs[2], ("x".to_owned(), "%zz".to_owned()));
        assert_eq!(pairs[3], ("y".to_owned(), "%4".to_owned()));
    }
}
