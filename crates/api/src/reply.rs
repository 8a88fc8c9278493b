//! Success bodies per API generation (`wire.md` §3.3), and the response that carries them.
//! Handlers never build an envelope by hand.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tally_app::Written;
use tally_domain::{ApiVersion, Generation};
use tally_store::StoredResponse;

pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// A single object: the envelope's `data`, or the object itself.
pub fn object(version: ApiVersion, value: Value) -> StoredResponse {
    ok(&match version.generation() {
        Generation::Legacy => json!({ "success": true, "data": value }),
        Generation::Direct => value,
    })
}

/// A single object with another success status (`POST /test-clock` answers 202 in direct).
pub fn object_with_status(version: ApiVersion, value: Value, status: u16) -> StoredResponse {
    StoredResponse {
        status,
        ..object(version, value)
    }
}

/// A list that is never paginated: a bare array in the legacy envelope, a list object with
/// `hasMore: false` in direct (`wire.md` §3.3).
pub fn array(version: ApiVersion, items: Vec<Value>) -> StoredResponse {
    match version.generation() {
        Generation::Legacy => ok(&json!({ "success": true, "data": items })),
        Generation::Direct => page(version, items, false, None),
    }
}

/// A page of a cursor-paginated list.
pub fn page(
    version: ApiVersion,
    items: Vec<Value>,
    has_more: bool,
    next_cursor: Option<String>,
) -> StoredResponse {
    let mut body = serde_json::Map::new();
    match version.generation() {
        Generation::Legacy => body.insert("success".to_owned(), Value::Bool(true)),
        Generation::Direct => body.insert("object".to_owned(), Value::from("list")),
    };
    body.insert("data".to_owned(), Value::Array(items));
    body.insert("hasMore".to_owned(), Value::Bool(has_more));
    if let Some(cursor) = next_cursor.filter(|_| has_more) {
        body.insert("nextCursor".to_owned(), Value::String(cursor));
    }
    ok(&Value::Object(body))
}

fn ok(body: &Value) -> StoredResponse {
    StoredResponse {
        status: 200,
        body: body.to_string(),
    }
}

/// A finished response body, fresh or replayed under an idempotency key.
pub struct Reply(pub Written);

impl From<StoredResponse> for Reply {
    fn from(response: StoredResponse) -> Self {
        Reply(Written::Fresh(response))
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let (stored, is_replay) = match self.0 {
            Written::Fresh(stored) => (stored, false),
            Written::Replayed(stored) => (stored, true),
        };
        let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
        let mut response = (
            status,
            [(
                axum::http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            stored.body,
        )
            .into_response();
        if is_replay {
            response
                .headers_mut()
                .insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
        }
        response
    }
}
