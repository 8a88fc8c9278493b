//! Seat events and balances in 2026-07-11 (`seats.md` §4): every object is `"seat"`.

use crate::Livemode;
use serde::Serialize;
use std::collections::BTreeMap;
use tally_domain::Timestamp;
use tally_domain::seats::SeatEvent;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatEventOut<'a> {
    pub id: &'a str,
    /// Absent from the legacy bulk result (`BulkSeatUpdate`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<&'a str>,
    pub feature_code: &'a str,
    pub previous_balance: i64,
    pub new_balance: i64,
    pub ts: String,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> SeatEventOut<'a> {
    pub fn new(event: &'a SeatEvent, livemode: Livemode) -> Self {
        Self::with(event, livemode, "seat", true)
    }

    /// Shared with later versions, which rename `object`; the legacy bulk drops `customerId`.
    pub fn with(
        event: &'a SeatEvent,
        livemode: Livemode,
        object: &'static str,
        with_customer: bool,
    ) -> Self {
        Self {
            id: event.id.as_str(),
            customer_id: with_customer.then(|| event.customer_id.as_str()),
            feature_code: &event.feature_code,
            previous_balance: event.previous_balance,
            new_balance: event.new_balance,
            ts: event.ts.to_rfc3339(),
            // Every timestamp Tally writes is the org clock at the change (`seats.md` §4.1).
            created_at: event.ts.to_rfc3339(),
            object,
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SeatBalanceOut {
    pub current: i64,
    pub as_of: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl SeatBalanceOut {
    pub fn new(current: i64, as_of: Timestamp, livemode: Livemode, object: &'static str) -> Self {
        Self {
            current,
            as_of: as_of.to_rfc3339(),
            object,
            livemode: livemode.0,
        }
    }
}

/// One feature's entry in the all-balances answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BalanceEntryOut {
    pub current: i64,
    pub as_of: String,
}

/// `{code: {current, asOf}, …}`: the map every version's all-balances answer holds.
pub fn balance_map(balances: &[(String, i64, Timestamp)]) -> BTreeMap<&str, BalanceEntryOut> {
    balances
        .iter()
        .map(|(code, current, as_of)| {
            (
                code.as_str(),
                BalanceEntryOut {
                    current: *current,
                    as_of: as_of.to_rfc3339(),
                },
            )
        })
        .collect()
}

/// The legacy all-balances `data`: the code-keyed map with `object` and `livemode` mixed in
/// (`seats.md` §4.4).
#[derive(Serialize, ToSchema)]
pub struct SeatBalancesOut<'a> {
    #[serde(flatten)]
    pub balances: BTreeMap<&'a str, BalanceEntryOut>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn seat_balances(
    balances: &[(String, i64, Timestamp)],
    livemode: Livemode,
) -> SeatBalancesOut<'_> {
    SeatBalancesOut {
        balances: balance_map(balances),
        object: "seat",
        livemode: livemode.0,
    }
}
