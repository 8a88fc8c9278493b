//! How big the parts of a request body may be. Everything a request stores is echoed by later
//! reads and copied into webhook events, so one unbounded field multiplies into every list
//! page and every delivery. The bounds are bytes of JSON, checked on the parsed body before any
//! field is read, and a body over one names the field (`validation_error`). See the README's
//! Decisions.

use crate::FieldError;
use serde_json::Value;

/// A `metadata` object, as JSON.
pub const METADATA_BYTES_MAX: usize = 8 * 1024;
/// An `address` object (or string), as JSON.
pub const ADDRESS_BYTES_MAX: usize = 2 * 1024;
/// A `reason` (cancellations, balance adjustments).
pub const REASON_BYTES_MAX: usize = 1024;
/// Any other text value.
pub const TEXT_BYTES_MAX: usize = 8 * 1024;

/// Fields with a bound of their own, by name, wherever they appear in a body.
const NAMED_BOUNDS: [(&str, usize); 3] = [
    ("metadata", METADATA_BYTES_MAX),
    ("address", ADDRESS_BYTES_MAX),
    ("reason", REASON_BYTES_MAX),
];

/// The first part of `body` over its bound, as a field error naming its path (`a.b.0`).
pub fn oversized_field(body: &Value) -> Option<FieldError> {
    oversized_at(body, "")
}

fn oversized_at(value: &Value, at: &str) -> Option<FieldError> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    match value {
        Value::String(text) if text.len() > TEXT_BYTES_MAX => Some(too_big(at, TEXT_BYTES_MAX)),
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            let path = join(key);
            if key.len() > TEXT_BYTES_MAX {
                return Some(too_big(&path, TEXT_BYTES_MAX));
            }
            match NAMED_BOUNDS.iter().find(|(name, _)| name == key) {
                Some(&(_, bound)) if json_len(value) > bound => Some(too_big(&path, bound)),
                _ => oversized_at(value, &path),
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| oversized_at(item, &join(&i.to_string()))),
        _ => None,
    }
}

/// The length of `value` written as compact JSON.
fn json_len(value: &Value) -> usize {
    match value {
        Value::String(text) => text.len(),
        other => other.to_string().len(),
    }
}

fn too_big(path: &str, bound: usize) -> FieldError {
    let field = if path.is_empty() { "body" } else { path };
    FieldError::new(field, format!("{field} must be at most {bound} bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(body: &Value) -> Option<String> {
        oversized_field(body).map(|e| e.field.clone())
    }

    #[test]
    fn each_named_field_has_its_own_bound() {
        let big = |n: usize| "x".repeat(n);
        let cases = [
            (
                json!({"metadata": {"k": big(METADATA_BYTES_MAX)}}),
                Some("metadata"),
            ),
            (
                json!({"metadata": {"k": big(METADATA_BYTES_MAX - 20)}}),
                None,
            ),
            (
                json!({"address": {"line1": big(ADDRESS_BYTES_MAX)}}),
                Some("address"),
            ),
            (json!({"reason": big(REASON_BYTES_MAX + 1)}), Some("reason")),
            (json!({"reason": big(REASON_BYTES_MAX)}), None),
            (
                json!({"description": big(TEXT_BYTES_MAX + 1)}),
                Some("description"),
            ),
            (
                json!({"customers": [{"email": "a@b.c"}, {"metadata": {"v": big(9000)}}]}),
                Some("customers.1.metadata"),
            ),
            (json!({"plan": {"name": big(TEXT_BYTES_MAX)}}), None),
        ];
        for (body, expected) in cases {
            assert_eq!(
                field_of(&body).as_deref(),
                expected,
                "{}",
                &body.to_string()[..60.min(body.to_string().len())]
            );
        }
    }
}
