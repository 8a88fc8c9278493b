//! Plan groups (`lifecycle.md` §3). Membership itself is a plan's own `group` / `sort_order`,
//! written with `Catalog::update_plan`.

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::catalog::{Plan, PlanGroupId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::plan_groups::PlanGroup;

#[async_trait]
pub trait PlanGroups {
    /// A page of the groups of `org`, newest first.
    async fn plan_groups_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<PlanGroup>, StoreError>;

    async fn plan_group(
        &mut self,
        org: &OrgId,
        id: &PlanGroupId,
        lock: Lock,
    ) -> Result<Option<PlanGroup>, StoreError>;

    async fn insert_plan_group(&mut self, group: &PlanGroup) -> Result<(), StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_plan_group(&mut self, group: &PlanGroup) -> Result<(), StoreError>;

    /// Deletes a group; its plans (deleted ones too) leave it with `sort_order` 0.
    async fn delete_plan_group(&mut self, org: &OrgId, id: &PlanGroupId) -> Result<(), StoreError>;

    /// The non-deleted plans of a group by `sort_order`, then creation, then id.
    async fn plan_group_members(
        &mut self,
        org: &OrgId,
        id: &PlanGroupId,
    ) -> Result<Vec<Plan>, StoreError>;
}
