//! Customer credits (`commerce.md` §5): the same keys in every version.

use crate::{Livemode, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::Timestamp;
use tally_domain::customer_credits::CustomerCredit;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreditOut<'a> {
    pub id: &'a str,
    pub amount: i64,
    pub applied_amount: i64,
    pub reversed_amount: i64,
    pub revoked_amount: i64,
    /// 0 once expired.
    pub remaining_amount: i64,
    pub currency: &'a str,
    pub reason: &'a str,
    pub source: &'static str,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

/// The answer to a revocation.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerCreditRevocationOut<'a> {
    pub id: &'a str,
    pub remaining_amount: i64,
    pub revoked_amount: i64,
    pub currency: &'a str,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn customer_credit(credit: &CustomerCredit, now: Timestamp, livemode: Livemode) -> Value {
    to_value(CustomerCreditOut {
        id: credit.id.as_str(),
        amount: credit.amount.0,
        applied_amount: credit.applied.0,
        reversed_amount: credit.reversed.0,
        revoked_amount: credit.revoked.0,
        remaining_amount: credit.remaining(now).0,
        currency: &credit.currency,
        reason: &credit.reason,
        source: credit.source.as_str(),
        expires_at: credit.expires_at.map(Timestamp::to_rfc3339),
        created_at: credit.created_at.to_rfc3339(),
        object: "customer_credit",
        livemode: livemode.0,
    })
}

pub fn revocation(credit: &CustomerCredit, now: Timestamp, livemode: Livemode) -> Value {
    to_value(CustomerCreditRevocationOut {
        id: credit.id.as_str(),
        remaining_amount: credit.remaining(now).0,
        revoked_amount: credit.revoked.0,
        currency: &credit.currency,
        object: "customer_credit",
        livemode: livemode.0,
    })
}
