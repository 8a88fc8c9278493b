//! Credit packs (`commerce.md` §3): the pack, its direct list item, and a purchase's answer.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::credit_packs::CreditPack;
use tally_domain::{ApiVersion, Generation};
use utoipa::ToSchema;

/// A pack; each generation leaves out what its SDK does not read (see `pack`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreditPackOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub credits: i64,
    /// US cents.
    pub price: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub is_active: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    pub object: &'static str,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CreditGrantOut {
    pub credits: i64,
    pub object: &'static str,
    pub livemode: bool,
}

/// Which keys a pack shows: legacy every key; direct objects no currency, direct list items
/// the currency instead of the active flag and dates.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PackShape {
    Object,
    ListItem,
}

pub fn pack(version: ApiVersion, pack: &CreditPack, shape: PackShape, livemode: Livemode) -> Value {
    let legacy = version.generation() == Generation::Legacy;
    let full = legacy || shape == PackShape::Object;
    to_value(CreditPackOut {
        id: pack.id.as_str(),
        name: &pack.name,
        description: pack.description.as_deref(),
        credits: pack.credits,
        price: pack.price.0,
        currency: (legacy || shape == PackShape::ListItem).then_some("usd"),
        is_active: full.then_some(pack.is_active),
        created_at: full.then(|| pack.created_at.to_rfc3339()),
        updated_at: full.then(|| pack.updated_at.to_rfc3339()),
        object: "credit_pack",
        livemode: livemode.0,
    })
}

pub fn credit_grant(version: ApiVersion, credits: i64, livemode: Livemode) -> Value {
    to_value(CreditGrantOut {
        credits,
        object: object_name(version, "subscription", "credit_grant"),
        livemode: livemode.0,
    })
}
