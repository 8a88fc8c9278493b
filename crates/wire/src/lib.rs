//! The Commet API's JSON, one module per API version.
//!
//! Views (`…Out`) are built from domain values by small functions; request bodies (`…In`) parse
//! into domain values with `into_domain`. A newer version module reuses the older views and
//! overrides only what the contract says changed; once a version ships its module is frozen.
//! Envelopes (legacy `{success,data}` vs direct) are the API crate's job, not this one's.

pub mod requests;
pub mod v2026_07_11;
pub mod v2026_07_31;
pub mod v2026_08_27;

use serde::Serialize;
use serde_json::Value;
use tally_domain::api_key::ApiKey;
use tally_domain::{ApiVersion, Customer, DomainError};

/// Whether the objects belong to a live organization (`livemode` on every object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Livemode(pub bool);

/// One customer batch item's outcome, as the batch view needs it.
pub type BatchItemView<'a> = (usize, &'a Value, Result<&'a Customer, &'a DomainError>);

fn to_value(view: impl Serialize) -> Value {
    serde_json::to_value(view).expect("views are plain data and always serialize")
}

pub fn customer(version: ApiVersion, customer: &Customer, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::CustomerOut::new(customer, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::CustomerOut::new(customer, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::CustomerOut::new(customer, livemode)),
    }
}

pub fn customer_batch(
    version: ApiVersion,
    items: &[BatchItemView<'_>],
    livemode: Livemode,
) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::CustomerBatchOut::new(items, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::customer_batch_out(items, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::customer_batch_out(items, livemode)),
    }
}

pub fn api_key(version: ApiVersion, key: &ApiKey, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::ApiKeyOut::new(key, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::ApiKeyOut::new(key, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::ApiKeyOut::new(key, livemode)),
    }
}

pub fn created_api_key(
    version: ApiVersion,
    key: &ApiKey,
    secret: &str,
    livemode: Livemode,
) -> Value {
    match version {
        ApiVersion::V2026_07_11 => {
            to_value(v2026_07_11::CreatedApiKeyOut::new(key, secret, livemode))
        }
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::CreatedApiKeyOut::new(key, secret, livemode))
        }
        ApiVersion::V2026_08_27 => {
            to_value(v2026_08_27::CreatedApiKeyOut::new(key, secret, livemode))
        }
    }
}

/// `{id, deleted: true, object, livemode}` (`catalog.md` §1).
pub fn deleted(version: ApiVersion, id: &str, object: &str, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::DeletedOut::new(id, object, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::DeletedOut::new(id, object, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::DeletedOut::new(id, object, livemode)),
    }
}
