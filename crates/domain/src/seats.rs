//! Seat balances and the ledger of seat events (`seats.md` §1). A balance is a non-negative
//! count per subscription and seats feature; every change is an immutable event.

use crate::subscription::SubscriptionId;
use crate::{CustomerId, OrgId, Timestamp};

/// Largest seat count accepted anywhere (`seats.md` §2).
pub const SEATS_MAX: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatEventId(String);

impl SeatEventId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("sev_{ulid}"))
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One change of one seat balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatEvent {
    pub id: SeatEventId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub subscription_id: SubscriptionId,
    pub feature_code: String,
    pub previous_balance: i64,
    pub new_balance: i64,
    pub ts: Timestamp,
}
