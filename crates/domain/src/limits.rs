//! What the text of a request may hold, checked on the parsed body before any field is read;
//! a refusal names the field's path (`validation_error`). See the README's Decisions.
//!
//! - No NUL characters anywhere (bodies, queries, paths): PostgreSQL cannot store them, and
//!   refusing them on both backends keeps the two identical.
//! - Bounded sizes, in bytes of JSON: everything a request stores is echoed by later reads and
//!   copied into webhook events, so one unbounded field multiplies into every list page and
//!   every delivery.

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

/// The first key or text of `body` that holds a NUL character or is over its bound, as a field
/// error naming its path (`a.b.0`).
pub fn refused_field(body: &Value) -> Option<FieldError> {
    refused_at(body, "").map(|refused| match refused {
        Refused::Nul(error) | Refused::TooBig(error) => error,
    })
}

/// Why a part of a body is refused: a NUL anywhere inside a named field outranks its size.
enum Refused {
    Nul(FieldError),
    TooBig(FieldError),
}

/// Refuses text with a NUL character in `field` (also for query parameters and paths).
pub fn nul_refused(field: &str) -> FieldError {
    FieldError::new(field, format!("{field} must not contain NUL characters"))
}

fn refused_at(value: &Value, at: &str) -> Option<Refused> {
    let join = |key: &str| {
        if at.is_empty() {
            key.to_owned()
        } else {
            format!("{at}.{key}")
        }
    };
    let field = if at.is_empty() { "body" } else { at };
    match value {
        Value::String(text) if text.contains('\0') => Some(Refused::Nul(nul_refused(field))),
        Value::String(text) if text.len() > TEXT_BYTES_MAX => {
            Some(Refused::TooBig(too_big(at, TEXT_BYTES_MAX)))
        }
        Value::Object(map) => map.iter().find_map(|(key, value)| {
            let path = join(key);
            if key.contains('\0') {
                return Some(Refused::Nul(nul_refused(&path)));
            }
            if key.len() > TEXT_BYTES_MAX {
                return Some(Refused::TooBig(too_big(&path, TEXT_BYTES_MAX)));
            }
            let inner = refused_at(value, &path);
            let bound = NAMED_BOUNDS.iter().find(|(name, _)| name == key);
            match (inner, bound) {
                (Some(Refused::Nul(error)), _) => Some(Refused::Nul(error)),
                (_, Some(&(_, bound))) if json_len(value) > bound => {
                    Some(Refused::TooBig(too_big(&path, bound)))
                }
                (inner, _) => inner,
            }
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| refused_at(item, &join(&i.to_string()))),
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
        refused_field(body).map(|e| e.field.clone())
    }

    #[test]
    fn nul_characters_are_found_wherever_they_hide() {
        let body: Value =
            serde_json::from_str(r#"{"a":{"b":["ok","x\u0000"]},"c":"fine"}"#).unwrap();
        let key: Value = serde_json::from_str(r#"{"k\u0000":1}"#).unwrap();
        let in_metadata: Value = serde_json::from_str(r#"{"metadata":{"n":"\u0000"}}"#).unwrap();

        assert_eq!(field_of(&body).as_deref(), Some("a.b.1"));
        assert_eq!(field_of(&key).as_deref(), Some("k\u{0}"));
        assert_eq!(field_of(&in_metadata).as_deref(), Some("metadata.n"));
        assert_eq!(field_of(&json!({"a": "b"})), None);
        assert_eq!(field_of(&json!("\u{0}")).as_deref(), Some("body"));
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
