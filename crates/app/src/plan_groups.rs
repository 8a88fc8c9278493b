//! Plan groups (`lifecycle.md` §3): create, edit and delete groups, and place plans in them.
//! A plan's membership is its own `group` / `sort_order`, so every membership change is a plan
//! update inside the same transaction as the group check.

use crate::catalog::{PlanRef, lock_plan};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::catalog::{Plan, PlanGroupId, PlanId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::plan_groups::{PlanGroup, next_sort_order, reorder};
use tally_domain::{Conflict, OrgId};
use tally_store::{Db, Lock, Tx};

/// A group with its plans in their order.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanGroupDetail {
    pub group: PlanGroup,
    pub plans: Vec<Plan>,
}

#[derive(Debug, Clone)]
pub struct NewPlanGroup {
    pub name: String,
    pub description: Option<String>,
    pub is_public: bool,
}

pub struct CreatePlanGroup(pub NewPlanGroup);

#[async_trait]
impl Command for CreatePlanGroup {
    type Output = PlanGroup;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGroup, AppError> {
        let group = PlanGroup {
            id: PlanGroupId::from_ulid(ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            name: self.0.name.trim().to_owned(),
            description: self.0.description.clone(),
            is_public: self.0.is_public,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_plan_group(&group).await?;
        Ok(group)
    }
}

/// Changes the sent fields only; `Some(None)` clears the description.
pub struct UpdatePlanGroup {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub is_public: Option<bool>,
}

#[async_trait]
impl Command for UpdatePlanGroup {
    type Output = PlanGroup;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGroup, AppError> {
        let mut group = lock_group(ctx.tx, ctx.caller.org(), &self.id).await?;
        let before = group.clone();
        if let Some(name) = &self.name {
            group.name = name.trim().to_owned();
        }
        if let Some(description) = &self.description {
            group.description.clone_from(description);
        }
        if let Some(is_public) = self.is_public {
            group.is_public = is_public;
        }
        if group != before {
            group.updated_at = ctx.now;
            ctx.tx.update_plan_group(&group).await?;
        }
        Ok(group)
    }
}

/// Deletes a group; its plans stay, outside any group (`lifecycle.md` §3).
pub struct DeletePlanGroup(pub String);

#[async_trait]
impl Command for DeletePlanGroup {
    type Output = PlanGroupId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGroupId, AppError> {
        let org = ctx.caller.org();
        let group = lock_group(ctx.tx, org, &self.0).await?;
        ctx.tx.delete_plan_group(org, &group.id).await?;
        Ok(group.id)
    }
}

/// Puts a plan in a group: at `sort_order`, or after the last member. A plan in another group
/// is a `duplicate`; one already here only moves when an order is sent.
pub struct AddPlanToGroup {
    pub group: String,
    pub plan: PlanRef,
    pub sort_order: Option<i64>,
}

#[async_trait]
impl Command for AddPlanToGroup {
    type Output = Plan;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Plan, AppError> {
        let org = ctx.caller.org();
        let group = lock_group(ctx.tx, org, &self.group).await?;
        let plan = lock_plan(ctx.tx, org, &self.plan)
            .await
            .map_err(|_| AppError::NotFoundAt(NotFound::Plan, "planId".to_owned()))?;
        join_group(ctx, plan, &group.id, self.sort_order).await
    }
}

/// Places `plan` in `group` (the rule `AddPlanToGroup` and plan creation share).
pub(crate) async fn join_group(
    ctx: &mut WriteCtx<'_>,
    mut plan: Plan,
    group: &PlanGroupId,
    sort_order: Option<i64>,
) -> Result<Plan, AppError> {
    let sort_order = match (&plan.group, sort_order) {
        (Some(other), _) if other != group => {
            return Err(tally_domain::DomainError::from(Conflict::Duplicate).into());
        }
        (Some(_), None) => return Ok(plan),
        (_, Some(order)) => order,
        (None, None) => {
            let members = ctx.tx.plan_group_members(ctx.caller.org(), group).await?;
            next_sort_order(&members)
        }
    };
    if plan.group.as_ref() != Some(group) || plan.sort_order != sort_order {
        plan.group = Some(group.clone());
        plan.sort_order = sort_order;
        plan.updated_at = ctx.now;
        ctx.tx.update_plan(&plan).await?;
    }
    Ok(plan)
}

/// Takes a plan out of a group; a plan not in it is `plan_not_found`.
pub struct RemovePlanFromGroup {
    pub group: String,
    pub plan: String,
}

#[async_trait]
impl Command for RemovePlanFromGroup {
    type Output = PlanId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanId, AppError> {
        let org = ctx.caller.org();
        let group = lock_group(ctx.tx, org, &self.group).await?;
        let not_member = || AppError::NotFoundAt(NotFound::Plan, "planId".to_owned());
        let mut plan = lock_plan(ctx.tx, org, &PlanRef::parse(&self.plan))
            .await
            .map_err(|_| not_member())?;
        if plan.group.as_ref() != Some(&group.id) {
            return Err(not_member());
        }
        plan.group = None;
        plan.sort_order = 0;
        plan.updated_at = ctx.now;
        ctx.tx.update_plan(&plan).await?;
        Ok(plan.id)
    }
}

/// Renumbers a group's plans in the order given; every member must be named once.
pub struct ReorderPlans {
    pub group: String,
    pub plan_ids: Vec<String>,
}

#[async_trait]
impl Command for ReorderPlans {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org();
        let group = lock_group(ctx.tx, org, &self.group).await?;
        let members = ctx.tx.plan_group_members(org, &group.id).await?;
        for mut plan in reorder(&members, &self.plan_ids)? {
            let before = members.iter().find(|m| m.id == plan.id);
            if before.is_some_and(|b| b.sort_order != plan.sort_order) {
                plan.updated_at = ctx.now;
                ctx.tx.update_plan(&plan).await?;
            }
        }
        Ok(())
    }
}

pub(crate) async fn lock_group(
    tx: &mut dyn Tx,
    org: &OrgId,
    id: &str,
) -> Result<PlanGroup, AppError> {
    let Some(id) = PlanGroupId::parse(id) else {
        return Err(AppError::NotFound(NotFound::PlanGroup));
    };
    tx.plan_group(org, &id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound(NotFound::PlanGroup))
}

pub(crate) async fn group_detail_in(
    db: &mut dyn Db,
    group: PlanGroup,
) -> Result<PlanGroupDetail, AppError> {
    let plans = db.plan_group_members(&group.org_id, &group.id).await?;
    Ok(PlanGroupDetail { group, plans })
}

impl App {
    /// A page of groups, newest first.
    pub async fn plan_groups(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<PlanGroup>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.plan_groups_page(caller.org(), page).await?)
    }

    pub async fn plan_group(&self, caller: &Caller, id: &str) -> Result<PlanGroupDetail, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let id = PlanGroupId::parse(id).ok_or(AppError::NotFound(NotFound::PlanGroup))?;
        let group = db
            .plan_group(caller.org(), &id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::PlanGroup))?;
        group_detail_in(&mut *db, group).await
    }
}
