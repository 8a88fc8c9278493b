//! Seat events and balances in 2026-07-11 (`seats.md` §4): every object is `"seat"`.

use crate::Livemode;
use serde::Serialize;
use serde_json::{Map, Value};
use tally_domain::Timestamp;
use tally_domain::seats::SeatEvent;

#[derive(Serialize)]
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

#[derive(Serialize)]
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

/// `{code: {current, asOf}, …}`: the map every version's all-balances answer holds.
pub fn balance_map(balances: &[(String, i64, Timestamp)]) -> Map<String, Value> {
    balances
        .iter()
        .map(|(code, current, as_of)| {
            (
                code.clone(),
                serde_json::json!({ "current": current, "asOf": as_of.to_rfc3339() }),
            )
        })
        .collect()
}

/// The legacy all-balances `data`: the code-keyed map with `object` and `livemode` mixed in
/// (`seats.md` §4.4).
pub fn seat_balances(balances: &[(String, i64, Timestamp)], livemode: Livemode) -> Value {
    let mut map = balance_map(balances);
    map.insert("object".to_owned(), Value::from("seat"));
    map.insert("livemode".to_owned(), Value::Bool(livemode.0));
    Value::Object(map)
}
