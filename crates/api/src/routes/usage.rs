//! `/usage/*` and `/feature-access` (`usage.md`): track, set and check usage, move and read
//! quota balances, and read what a customer may use.

use super::{required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::quota::{ChangeQuota, QuotaView};
use tally_app::usage::{SetUsage, TrackUsage, UsageCheck, UsageTarget};
use tally_app::{AppError, NotFound};
use tally_domain::CustomerRef;
use tally_domain::Timestamp;
use tally_domain::catalog::ConsumptionModel;
use tally_domain::seats::{SEATS_MAX, SeatChange};
use tally_domain::usage::{
    EVENT_KEY_CHARS_MAX, PROPERTIES_MAX, PROPERTY_NAME_CHARS_MAX, PROPERTY_VALUE_CHARS_MAX,
    REASON_CHARS_MAX, SET_VALUE_MAX, TRACK_VALUE_MAX, UsageProperty,
};
use tally_wire::requests::{
    CheckUsageIn, QuotaChangeIn, SetUsageIn, TrackUsageIn, UsagePropertyIn,
};
use tally_wire::usage::{CheckFigures, CheckParts, QuotaParts};

/// The one value two spellings of a field name (`featureCode` / legacy `feature`); sending
/// both with different values is refused.
fn one_of(
    (primary, primary_name): (Option<String>, &'static str),
    (alias, alias_name): (Option<String>, &'static str),
) -> Result<Option<(String, &'static str)>, ApiError> {
    match (primary, alias) {
        (Some(a), Some(b)) if a != b => Err(ApiError::validation(
            primary_name,
            format!("{primary_name} and {alias_name} name the same field; send one"),
        )),
        (Some(a), _) => Ok(Some((a, primary_name))),
        (None, Some(b)) => Ok(Some((b, alias_name))),
        (None, None) => Ok(None),
    }
}

/// An integral JSON number within bounds: `5`, or `5.0` as the Python SDK sends it.
fn integral(
    value: Option<&Value>,
    field: &str,
    (min, max): (i64, i64),
    default: Option<i64>,
) -> Result<i64, ApiError> {
    let problem = || {
        ApiError::validation(
            field,
            format!("{field} must be an integer from {min} to {max}"),
        )
    };
    let n = match value {
        None | Some(Value::Null) => {
            return default
                .ok_or_else(|| ApiError::validation(field, format!("{field} is required")));
        }
        Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i,
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => f as i64,
            _ => return Err(problem()),
        },
        Some(_) => return Err(problem()),
    };
    if (min..=max).contains(&n) {
        Ok(n)
    } else {
        Err(problem())
    }
}

fn target(
    customer: Option<String>,
    feature: (Option<String>, &'static str),
    alias: (Option<String>, &'static str),
) -> Result<UsageTarget, ApiError> {
    let customer = required(customer.filter(|c| !c.is_empty()), "customerId")?;
    let primary = feature.1;
    let (feature, feature_param) = required(
        one_of(feature, alias)?.filter(|(f, _)| !f.is_empty()),
        primary,
    )?;
    Ok(UsageTarget {
        customer,
        feature,
        feature_param,
    })
}

fn event_key(key: Option<String>, field: &'static str) -> Result<Option<String>, ApiError> {
    match key {
        Some(key) if key.is_empty() || key.chars().count() > EVENT_KEY_CHARS_MAX => {
            Err(ApiError::validation(
                field,
                format!("{field} must be 1 to {EVENT_KEY_CHARS_MAX} characters"),
            ))
        }
        other => Ok(other),
    }
}

fn properties(items: Option<Vec<UsagePropertyIn>>) -> Result<Vec<UsageProperty>, ApiError> {
    let items = items.unwrap_or_default();
    if items.len() > PROPERTIES_MAX {
        return Err(ApiError::validation(
            "properties",
            format!("properties may hold at most {PROPERTIES_MAX} items"),
        ));
    }
    items
        .into_iter()
        .enumerate()
        .map(|(n, item)| {
            let name = item.property.unwrap_or_default();
            if name.is_empty() || name.chars().count() > PROPERTY_NAME_CHARS_MAX {
                return Err(ApiError::validation(
                    format!("properties[{n}].property"),
                    format!("a property name is 1 to {PROPERTY_NAME_CHARS_MAX} characters"),
                ));
            }
            match item.value {
                Some(Value::String(value)) if value.chars().count() <= PROPERTY_VALUE_CHARS_MAX => {
                    Ok(UsageProperty {
                        property: name,
                        value,
                    })
                }
                _ => Err(ApiError::validation(
                    format!("properties[{n}].value"),
                    format!("a property value is a string of at most {PROPERTY_VALUE_CHARS_MAX} characters"),
                )),
            }
        })
        .collect()
}

fn parse_track(body: TrackUsageIn) -> Result<TrackUsage, ApiError> {
    let target = target(
        body.customer_id,
        (body.feature_code, "featureCode"),
        (body.feature, "feature"),
    )?;
    let model = match body.model {
        None | Some(Value::Null) => None,
        Some(Value::String(model)) if !model.is_empty() => Some(model),
        Some(_) => return Err(ApiError::validation("model", "model must be a model name")),
    };
    let ai_form = model.is_some();
    let value_sent = body.value.as_ref().is_some_and(|v| !v.is_null());
    if ai_form && value_sent {
        return Err(ApiError::validation(
            "value",
            "send either value or the model token counts, not both",
        ));
    }
    let value = if ai_form {
        for (field, tokens) in [
            ("inputTokens", &body.input_tokens),
            ("outputTokens", &body.output_tokens),
        ] {
            integral(tokens.as_ref(), field, (0, TRACK_VALUE_MAX), None)?;
        }
        0
    } else {
        integral(body.value.as_ref(), "value", (1, TRACK_VALUE_MAX), Some(1))?
    };
    let (event_key, key_param) = match one_of(
        (body.event_id, "eventId"),
        (body.idempotency_key, "idempotencyKey"),
    )? {
        Some((key, param)) => (event_key(Some(key), param)?, param),
        None => (None, "eventId"),
    };
    let ts = body
        .timestamp
        .map(|text| {
            Timestamp::parse_rfc3339(&text).ok_or_else(|| {
                ApiError::validation("timestamp", "timestamp must be an ISO 8601 date-time")
            })
        })
        .transpose()?;
    Ok(TrackUsage {
        target,
        value,
        event_key,
        key_param,
        ts,
        properties: properties(body.properties)?,
        model,
    })
}

pub async fn track(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<TrackUsageIn>,
) -> Result<Reply, ApiError> {
    let command = parse_track(body.value)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |recorded| {
            let view =
                tally_wire::usage::usage_event(version.generation(), &recorded.event, livemode);
            reply::object(version, view)
        },
    )
    .await
}

pub async fn set(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<SetUsageIn>,
) -> Result<Reply, ApiError> {
    let body_value = body.value;
    let target = target(
        body_value.customer_id,
        (body_value.feature_code, "featureCode"),
        (body_value.feature, "feature"),
    )?;
    let value = integral(body_value.value.as_ref(), "value", (0, SET_VALUE_MAX), None)?;
    if body_value
        .reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > REASON_CHARS_MAX)
    {
        return Err(ApiError::validation(
            "reason",
            format!("reason is at most {REASON_CHARS_MAX} characters"),
        ));
    }
    let (event_key, key_param) = match one_of(
        (body_value.event_id, "eventId"),
        (body_value.idempotency_key, "idempotencyKey"),
    )? {
        Some((key, param)) => (event_key(Some(key), param)?, param),
        None => (None, "eventId"),
    };
    let command = SetUsage {
        target,
        value,
        reason: body_value.reason,
        event_key,
        key_param,
    };
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        command,
        move |recorded| {
            let view = tally_wire::usage::usage_adjustment(
                version.generation(),
                &recorded.event,
                livemode,
            );
            reply::object(version, view)
        },
    )
    .await
}

/// `POST /usage/check`: a dry run. Its `Idempotency-Key` is ignored: nothing is stored
/// (`usage.md` §6).
pub async fn check(
    State(state): State<AppState>,
    ctx: Ctx,
    body: ApiJson<CheckUsageIn>,
) -> Result<Reply, ApiError> {
    let body = body.value;
    let target = target(
        body.customer_id,
        (body.feature_code, "featureCode"),
        (body.feature, "feature"),
    )?;
    let quantity = integral(
        body.quantity.as_ref(),
        "quantity",
        (1, TRACK_VALUE_MAX),
        Some(1),
    )?;
    let check = state
        .app
        .check_usage(&ctx.caller, &target, quantity)
        .await?;
    let message = check_message(&check);
    let parts = CheckParts {
        allowed: check.denial.is_none(),
        subscription_status: check.status.as_str(),
        feature_code: &check.feature.code,
        quantity,
        reason: check.denial.map(|d| d.as_str()),
        message: message.as_deref(),
        model: check.model,
        figures: check_figures(&check),
        currency: &check.currency,
    };
    let view = tally_wire::usage::usage_check(ctx.version.generation(), &parts, ctx.livemode());
    Ok(reply::object(ctx.version, view).into())
}

fn check_figures(check: &UsageCheck) -> CheckFigures {
    match check.model {
        ConsumptionModel::Metered => CheckFigures::Metered {
            current: check.used,
            remaining: check.remaining,
            unlimited: check.feature.unlimited,
            included: check.feature.included_amount,
            overage_enabled: check.overage_billable,
            overage_unit_price: check
                .overage_billable
                .then_some(check.feature.overage.unit_price.map(|r| r.0))
                .flatten(),
        },
        ConsumptionModel::Credits => CheckFigures::Credits {
            credits_per_unit: check.credits_per_unit,
            estimated_credits: check.cost,
            plan_credits: check.plan_credits,
            purchased_credits: check.purchased_credits,
            total_credits: check.total_credits,
        },
        ConsumptionModel::Balance => CheckFigures::Balance {
            unit_price: check.unit_price,
            estimated_amount: check.cost,
            current_balance: check.balance,
            block_on_exhaustion: check.balance_blocks,
        },
    }
}

/// The human `message` of a refused check.
fn check_message(check: &UsageCheck) -> Option<String> {
    let code = &check.feature.code;
    let quantity = check.quantity;
    check.denial.map(|denial| match denial {
        tally_domain::usage::Denial::IncludedLimitReached => format!(
            "{quantity} more {code} units would pass the {} included this period ({} left)",
            check.feature.included_amount, check.remaining
        ),
        tally_domain::usage::Denial::InsufficientCredits => format!(
            "{quantity} {code} units need {} credits; {} available",
            check.cost, check.total_credits
        ),
        tally_domain::usage::Denial::InsufficientBalance => format!(
            "{quantity} {code} units cost {}; the balance is {}",
            check.cost, check.balance
        ),
    })
}

/// `GET /feature-access?customerId=…`: never paginated.
pub async fn list_access(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let (access, now) = state.app.feature_access_list(&ctx.caller, customer).await?;
    let items = access
        .iter()
        .map(|a| {
            let parts = a.wire_parts(false, None);
            tally_wire::usage::feature_access(ctx.version.generation(), &parts, now, ctx.livemode())
        })
        .collect();
    Ok(reply::array(ctx.version, items).into())
}

/// `GET /feature-access/{code}?customerId=…[&action=canUse]`.
pub async fn get_access(
    State(state): State<AppState>,
    ctx: Ctx,
    ApiPath(code): ApiPath<String>,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let can_use = match query.text("action") {
        None => false,
        Some("canUse") => true,
        Some(_) => {
            return Err(ApiError::validation("action", "action must be canUse"));
        }
    };
    let (access, now) = state
        .app
        .feature_access(&ctx.caller, customer, &code, can_use)
        .await?;
    let parts = access.wire_parts(true, can_use.then_some(access.will_be_charged));
    let view =
        tally_wire::usage::feature_access(ctx.version.generation(), &parts, now, ctx.livemode());
    Ok(reply::object(ctx.version, view).into())
}

/// What a quota write does with its `count`.
#[derive(Clone, Copy)]
enum QuotaKind {
    Add,
    Set,
    Remove,
}

fn parse_quota(body: QuotaChangeIn, kind: QuotaKind) -> Result<ChangeQuota, ApiError> {
    let customer = match (
        body.customer_id.filter(|c| !c.is_empty()),
        body.external_id.filter(|c| !c.is_empty()),
    ) {
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::validation(
                "customerId",
                "send customerId or externalId, one of them",
            ));
        }
        (Some(id), None) => CustomerRef::parse(&id).ok_or_else(|| {
            ApiError::from(AppError::NotFoundAt(
                NotFound::Customer,
                "customerId".to_owned(),
            ))
        })?,
        (None, Some(external)) => CustomerRef::External(external),
    };
    let feature = required(body.feature_code.filter(|f| !f.is_empty()), "featureCode")?;
    let count = body.count.as_ref();
    let change = match kind {
        QuotaKind::Add => SeatChange::Add(integral(count, "count", (1, SEATS_MAX), Some(1))?),
        QuotaKind::Remove => SeatChange::Remove(integral(count, "count", (1, SEATS_MAX), Some(1))?),
        QuotaKind::Set => SeatChange::Set(integral(count, "count", (0, SEATS_MAX), None)?),
    };
    Ok(ChangeQuota {
        customer,
        feature,
        change,
        event_key: event_key(body.idempotency_key, "idempotencyKey")?,
    })
}

async fn change_quota(
    state: AppState,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<QuotaChangeIn>,
    kind: QuotaKind,
) -> Result<Reply, ApiError> {
    let command = parse_quota(body.value, kind)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |event| {
        let view = tally_wire::usage::quota_event(version.generation(), event, livemode);
        reply::object(version, view)
    })
    .await
}

pub async fn add_quota(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<QuotaChangeIn>,
) -> Result<Reply, ApiError> {
    change_quota(state, ctx, key, body, QuotaKind::Add).await
}

pub async fn set_quota(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<QuotaChangeIn>,
) -> Result<Reply, ApiError> {
    change_quota(state, ctx, key, body, QuotaKind::Set).await
}

/// `DELETE /usage/quota` (legacy, with a JSON body) and `POST /usage/quota/remove`.
pub async fn remove_quota(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<QuotaChangeIn>,
) -> Result<Reply, ApiError> {
    change_quota(state, ctx, key, body, QuotaKind::Remove).await
}

fn quota_view(quota: &QuotaView, livemode: tally_wire::Livemode) -> Value {
    let parts = QuotaParts {
        feature_code: &quota.feature_code,
        current: quota.current,
        included: quota.included,
        remaining: quota.remaining(),
        billed: quota.billed,
        unlimited: quota.unlimited,
        overage_enabled: quota.overage_billable,
        as_of: quota.as_of,
    };
    tally_wire::usage::quota(&parts, livemode)
}

pub async fn get_quota(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let feature = required(query.text("featureCode"), "featureCode")?;
    let quota = state.app.quota(&ctx.caller, customer, feature).await?;
    Ok(reply::object(ctx.version, quota_view(&quota, ctx.livemode())).into())
}

pub async fn all_quotas(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let quotas = state.app.quotas(&ctx.caller, customer).await?;
    let items = quotas
        .iter()
        .map(|q| quota_view(q, ctx.livemode()))
        .collect();
    Ok(reply::array(ctx.version, items).into())
}
