//! `/plan-groups` (`lifecycle.md` §3): groups and the plans in them.

use super::{EMPTY_BODY, delete_answer, invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::catalog::PlanRef;
use tally_app::plan_groups::{
    AddPlanToGroup, CreatePlanGroup, DeletePlanGroup, NewPlanGroup, RemovePlanFromGroup,
    ReorderPlans, UpdatePlanGroup,
};
use tally_domain::catalog::problems_or;
use tally_domain::plan_groups::{PlanGroup, check_group_fields, check_sort_order};
use tally_wire::plan_groups as view;
use tally_wire::requests::{
    AddPlanToGroupIn, CreatePlanGroupIn, ReorderPlansIn, UpdatePlanGroupIn,
};

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page()?;
    let groups = state.app.plan_groups(&ctx.caller, &page).await?;
    Ok(page_reply(
        &ctx,
        &groups,
        |g| (g.created_at, g.id.as_str()),
        |g| view::plan_group(g, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let detail = state.app.plan_group(&ctx.caller, &id).await?;
    let body = view::plan_group_detail(&detail.group, &detail.plans, ctx.livemode());
    Ok(reply::object(ctx.version, body).into())
}

fn group_reply(ctx: &Ctx) -> impl Fn(&PlanGroup) -> tally_store::StoredResponse + use<> {
    let (version, livemode) = (ctx.version, ctx.livemode());
    move |group| reply::object(version, view::plan_group(group, livemode))
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreatePlanGroupIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    let name = required(input.name, "name")?;
    let mut problems = Vec::new();
    check_group_fields(Some(&name), input.description.as_deref(), &mut problems);
    problems_or(problems).map_err(invalid)?;
    let command = CreatePlanGroup(NewPlanGroup {
        name,
        description: input.description,
        is_public: input.is_public.unwrap_or(true),
    });
    let render = group_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

/// `PUT` (legacy) and `PATCH` (direct): only the fields sent change.
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<UpdatePlanGroupIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    if input.name.is_none() && input.description.is_none() && input.is_public.is_none() {
        return Err(ApiError::validation(
            "name",
            "send at least one of name, description, isPublic",
        ));
    }
    let mut problems = Vec::new();
    check_group_fields(
        input.name.as_deref(),
        input.description.as_ref().and_then(|d| d.as_deref()),
        &mut problems,
    );
    problems_or(problems).map_err(invalid)?;
    let command = UpdatePlanGroup {
        id,
        name: input.name,
        description: input.description,
        is_public: input.is_public,
    };
    let render = group_reply(&ctx);
    write(&state, &ctx, &key, &body.canonical, command, render).await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
) -> Result<Reply, ApiError> {
    delete_answer(&state, &ctx, &key, DeletePlanGroup(id), "plan_group").await
}

pub async fn add_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<AddPlanToGroupIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    let plan = required(input.plan_id, "planId")?;
    if let Some(order) = input.sort_order {
        check_sort_order(order).map_err(invalid)?;
    }
    let command = AddPlanToGroup {
        group: id,
        plan: PlanRef::parse(&plan),
        sort_order: input.sort_order,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |_| {
        reply::object(version, view::added_plan(version, livemode))
    })
    .await
}

pub async fn remove_plan(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath((id, plan)): ApiPath<(String, String)>,
) -> Result<Reply, ApiError> {
    let command = RemovePlanFromGroup { group: id, plan };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, EMPTY_BODY, command, move |plan| {
        reply::object(
            version,
            view::removed_plan(version, plan.as_str(), livemode),
        )
    })
    .await
}

pub async fn reorder(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(id): ApiPath<String>,
    body: ApiJson<ReorderPlansIn>,
) -> Result<Reply, ApiError> {
    let plan_ids = required(body.value.plan_ids, "planIds")?;
    let command = ReorderPlans {
        group: id,
        plan_ids,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |()| {
        reply::object(version, view::reordered_plans(version, livemode))
    })
    .await
}
