//! Plan groups (`lifecycle.md` §2–3): the same keys in every version; only the membership
//! answers change their `object` between generations.

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::Value;
use tally_domain::ApiVersion;
use tally_domain::catalog::Plan;
use tally_domain::plan_groups::PlanGroup;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanGroupOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub is_public: bool,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> PlanGroupOut<'a> {
    pub fn new(group: &'a PlanGroup, livemode: Livemode) -> Self {
        Self {
            id: group.id.as_str(),
            name: &group.name,
            description: group.description.as_deref(),
            is_public: group.is_public,
            created_at: group.created_at.to_rfc3339(),
            updated_at: group.updated_at.to_rfc3339(),
            object: "plan_group",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GroupPlanOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub sort_order: i64,
}

/// A group with `plans`, placed before `object` like Commet's own answer.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PlanGroupDetailOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub is_public: bool,
    pub created_at: String,
    pub updated_at: String,
    pub plans: Vec<GroupPlanOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

/// `{success: true}` — never a `data` key, which the Python SDK would unwrap as an envelope.
#[derive(Serialize, ToSchema)]
pub struct AddedPlanOut {
    pub success: bool,
    pub object: &'static str,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RemovedPlanOut<'a> {
    pub id: &'a str,
    pub removed: bool,
    pub object: &'static str,
    pub livemode: bool,
}

#[derive(Serialize, ToSchema)]
pub struct ReorderedPlansOut {
    pub reordered: bool,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn plan_group(group: &PlanGroup, livemode: Livemode) -> Value {
    to_value(PlanGroupOut::new(group, livemode))
}

pub fn plan_group_detail(group: &PlanGroup, plans: &[Plan], livemode: Livemode) -> Value {
    to_value(PlanGroupDetailOut {
        id: group.id.as_str(),
        name: &group.name,
        description: group.description.as_deref(),
        is_public: group.is_public,
        created_at: group.created_at.to_rfc3339(),
        updated_at: group.updated_at.to_rfc3339(),
        plans: plans
            .iter()
            .map(|p| GroupPlanOut {
                id: p.id.as_str(),
                name: &p.name,
                sort_order: p.sort_order,
            })
            .collect(),
        object: "plan_group",
        livemode: livemode.0,
    })
}

pub fn added_plan(version: ApiVersion, livemode: Livemode) -> Value {
    to_value(AddedPlanOut {
        success: true,
        object: object_name(version, "plan_group", "plan_group_membership"),
        livemode: livemode.0,
    })
}

pub fn removed_plan(version: ApiVersion, plan_id: &str, livemode: Livemode) -> Value {
    to_value(RemovedPlanOut {
        id: plan_id,
        removed: true,
        object: object_name(version, "plan_group", "plan_group_membership"),
        livemode: livemode.0,
    })
}

pub fn reordered_plans(version: ApiVersion, livemode: Livemode) -> Value {
    to_value(ReorderedPlansOut {
        reordered: true,
        object: object_name(version, "plan_group", "plan_group_order"),
        livemode: livemode.0,
    })
}
