//! Add-on answers (`lifecycle.md` §2): **Addon** the same in every version; the activation
//! answers name their `object` by generation.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::addons::Addon;
use tally_domain::catalog::Feature;
use tally_domain::{ApiVersion, Timestamp};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub slug: &'a str,
    pub description: Option<&'a str>,
    pub base_price: i64,
    pub feature_code: &'a str,
    pub feature_name: &'a str,
    pub consumption_model: &'static str,
    pub included_units: Option<i64>,
    pub overage_rate: Option<i64>,
    pub credit_cost: Option<i64>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

/// An add-on active on the customer's subscription (`listActive`): no id.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ActiveAddonOut<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub base_price: i64,
    pub feature_code: &'a str,
    pub feature_name: &'a str,
    pub feature_type: &'static str,
    pub consumption_model: &'static str,
    pub activated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionAddonOut<'a> {
    pub addon_id: &'a str,
    pub status: &'static str,
    /// Cents charged for the rest of the period.
    pub prorated_charge: i64,
    pub object: &'static str,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeletedSubscriptionAddonOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub deactivated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn addon(addon: &Addon, feature: &Feature, livemode: Livemode) -> Value {
    to_value(AddonOut {
        id: addon.id.as_str(),
        name: &addon.name,
        slug: &addon.slug,
        description: addon.description.as_deref(),
        base_price: addon.base_price.0,
        feature_code: &feature.code,
        feature_name: &feature.name,
        consumption_model: addon.terms.model.as_str(),
        included_units: addon.terms.included_units,
        overage_rate: addon.terms.overage_rate.map(|r| r.0),
        credit_cost: addon.terms.credit_cost,
        created_at: addon.created_at.to_rfc3339(),
        updated_at: addon.updated_at.to_rfc3339(),
        object: "addon",
        livemode: livemode.0,
    })
}

pub fn active_addon(
    version: ApiVersion,
    addon: &Addon,
    feature: &Feature,
    activated_at: Timestamp,
    livemode: Livemode,
) -> Value {
    to_value(ActiveAddonOut {
        slug: &addon.slug,
        name: &addon.name,
        base_price: addon.base_price.0,
        feature_code: &feature.code,
        feature_name: &feature.name,
        feature_type: feature.feature_type.as_str(),
        consumption_model: addon.terms.model.as_str(),
        activated_at: activated_at.to_rfc3339(),
        object: object_name(version, "addon", "subscription_addon"),
        livemode: livemode.0,
    })
}

pub fn activated(
    version: ApiVersion,
    addon: &Addon,
    prorated_charge: i64,
    livemode: Livemode,
) -> Value {
    to_value(SubscriptionAddonOut {
        addon_id: addon.id.as_str(),
        status: "active",
        prorated_charge,
        object: object_name(version, "subscription", "subscription_addon"),
        livemode: livemode.0,
    })
}

pub fn deactivated(
    version: ApiVersion,
    addon_id: &str,
    at: Timestamp,
    livemode: Livemode,
) -> Value {
    to_value(DeletedSubscriptionAddonOut {
        id: addon_id,
        status: "inactive",
        deactivated_at: at.to_rfc3339(),
        object: object_name(version, "subscription", "subscription_addon"),
        livemode: livemode.0,
    })
}
