//! Answers of the balance and credits operations (`balance.md` §2–§3): the same fields in
//! every version, only `object` differs.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::ApiVersion;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AdjustmentOut<'a> {
    pub amount: i64,
    pub new_balance: i64,
    pub reason: Option<&'a str>,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn adjustment(
    version: ApiVersion,
    amount: i64,
    new_balance: i64,
    reason: Option<&str>,
    livemode: Livemode,
) -> Value {
    to_value(AdjustmentOut {
        amount,
        new_balance,
        reason,
        object: object_name(version, "subscription", "balance_transaction"),
        livemode: livemode.0,
    })
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TopUpOut {
    pub amount: i64,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn top_up(version: ApiVersion, amount: i64, livemode: Livemode) -> Value {
    to_value(TopUpOut {
        amount,
        object: object_name(version, "subscription", "balance_topup"),
        livemode: livemode.0,
    })
}
