//! `/features` (`catalog.md` §3), both path spellings.

use super::{catalog_page_reply, delete_answer, invalid, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use tally_app::catalog::{CreateFeature, DeleteFeature, NewFeature, UpdateFeature};
use tally_domain::FieldError;
use tally_domain::catalog::{
    FeatureType, check_description, check_feature_code, check_name, problems_or,
};
use tally_domain::page::PAGE_SIZE_MAX;
use tally_wire::requests::{CreateFeatureIn, UpdateFeatureIn};

/// Pages like every list (`limit`, `cursor`); the SDKs send neither, so the default page is
/// the largest, and one that holds every feature keeps the unpaginated shape.
pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let page = query.page_or(PAGE_SIZE_MAX)?;
    let features = state.app.features(&ctx.caller, &page).await?;
    Ok(catalog_page_reply(
        &ctx,
        &features,
        |f| (f.created_at, f.id.as_str()),
        |f| tally_wire::feature(ctx.version, f, ctx.livemode()),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(code): ApiPath<String>,
) -> Result<Reply, ApiError> {
    let feature = state.app.feature(&ctx.caller, &code).await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::feature(ctx.version, &feature, ctx.livemode()),
    )
    .into())
}

pub async fn create(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<CreateFeatureIn>,
) -> Result<Reply, ApiError> {
    let command = CreateFeature(parse_new(body.value)?);
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |feature| reply::object(version, tally_wire::feature(version, feature, livemode)),
    )
    .await
}

fn parse_new(body: CreateFeatureIn) -> Result<NewFeature, ApiError> {
    let name = required(body.name, "name")?;
    let code = required(body.code, "code")?;
    let type_text = required(body.feature_type, "type")?;
    let mut problems = Vec::new();
    check_name(&name, "name", &mut problems);
    if let Err(tally_domain::DomainError::Validation(mut found)) = check_feature_code(&code, "code")
    {
        problems.append(&mut found);
    }
    let feature_type = FeatureType::parse(&type_text);
    if feature_type.is_none() {
        problems.push(FieldError::new(
            "type",
            "type must be one of boolean, usage, seats, quota",
        ));
    }
    check_description(body.description.as_deref(), &mut problems);
    problems_or(problems).map_err(invalid)?;
    Ok(NewFeature {
        name,
        code,
        feature_type: feature_type.expect("checked above"),
        description: body.description,
        unit_name: body.unit_name,
    })
}

/// `PUT /features/{code}/manage` (legacy) and `PATCH /features/{code}` (direct).
pub async fn update(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(code): ApiPath<String>,
    body: ApiJson<UpdateFeatureIn>,
) -> Result<Reply, ApiError> {
    let input = body.value;
    if input.name.is_none() && input.description.is_none() && input.unit_name.is_none() {
        return Err(ApiError::validation(
            "name",
            "send at least one of name, description, unitName",
        ));
    }
    let mut problems = Vec::new();
    if let Some(name) = &input.name {
        check_name(name, "name", &mut problems);
    }
    check_description(
        input.description.as_ref().and_then(|d| d.as_deref()),
        &mut problems,
    );
    problems_or(problems).map_err(invalid)?;
    let command = UpdateFeature {
        code,
        name: input.name,
        description: input.description,
        unit_name: input.unit_name,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |feature| reply::object(version, tally_wire::feature(version, feature, livemode)),
    )
    .await
}

pub async fn delete(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    ApiPath(code): ApiPath<String>,
) -> Result<Reply, ApiError> {
    delete_answer(&state, &ctx, &key, DeleteFeature(code), "feature").await
}
