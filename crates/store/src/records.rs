//! Rows that are storage concerns rather than billing ones.

use tally_domain::api_key::ApiKey;
use tally_domain::{Organization, Timestamp};

/// A response kept for replay: status and the exact JSON bytes sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
}

/// What an idempotency key holds: the request fingerprint and, once finished, the response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    pub response: Option<StoredResponse>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A key found by its secret, with the organization it opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLookup {
    pub key: ApiKey,
    pub organization: Organization,
}
