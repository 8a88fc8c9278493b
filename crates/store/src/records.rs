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

/// A plan feature with the feature it attaches.
pub type PlanFeatureEntry = (
    tally_domain::catalog::PlanFeature,
    tally_domain::catalog::Feature,
);

/// What can change about a key after it is made: whether it still opens its organization (it
/// is not revoked), and that organization's test clock. Everything else about a key and its
/// organization is fixed at creation, so a node may keep it; this part is read fresh in the
/// connection or transaction of every operation the key makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyStanding {
    pub test_clock: Option<Timestamp>,
}

/// One stamp to read: a key of `org` and the customer it names by id or externalId.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StampAsk {
    pub org: tally_domain::OrgId,
    pub key: tally_domain::ApiKeyId,
    pub customer: tally_domain::CustomerRef,
}

/// What a kept copy of a customer's hot-read state is checked against (`usage.md` §8): the
/// key's standing, the customer the reference names, and the versions of that customer's state
/// and of the organization's catalog, which every change to them moves on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HotStamp {
    /// `None` when the key is revoked (or not a key of the organization).
    pub standing: Option<KeyStanding>,
    /// `None` when no customer of the organization has that id or externalId.
    pub customer: Option<tally_domain::CustomerId>,
    pub customer_version: i64,
    pub catalog_version: i64,
}

/// Which plans a catalog list returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanVisibility {
    PublicOnly,
    IncludingPrivate,
}

/// Which seat events a history read returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SeatEventFilter {
    pub feature_code: Option<String>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
}

/// One delivery with the log of its attempts, oldest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryLog {
    pub delivery: tally_domain::webhooks::Delivery,
    pub attempts: Vec<Attempt>,
}

/// One attempt of a delivery as the log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub number: i64,
    pub attempted_at: Timestamp,
    pub result: tally_domain::webhooks::AttemptResult,
}

/// Which invoices a list returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InvoiceFilter {
    pub customer: Option<tally_domain::CustomerId>,
    pub subscription: Option<tally_domain::subscription::SubscriptionId>,
    pub status: Option<tally_domain::billing::InvoiceStatus>,
}

/// A deadline found by the renewal sweep: whose, which subscription, when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueDeadline {
    pub org_id: tally_domain::OrgId,
    pub subscription_id: tally_domain::subscription::SubscriptionId,
    pub due_at: Timestamp,
}
