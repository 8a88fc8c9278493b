//! `/seats` (`seats.md`): add, set, remove (both spellings), bulk set, one balance, all
//! balances, and the seat history (a Tally extension).

use super::{invalid, page_reply, required, write};
use crate::AppState;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Ctx, IdempotencyKey};
use crate::reply::{self, Reply};
use axum::extract::State;
use serde_json::Value;
use tally_app::seats::{ChangeSeats, SetAllSeats, check_count};
use tally_app::{AppError, NotFound};
use tally_domain::seats::{BULK_FEATURES_MAX, SeatChange};
use tally_domain::{CustomerRef, FieldError, Timestamp};
use tally_store::SeatEventFilter;
use tally_wire::requests::{BulkSeatsIn, SeatChangeIn};

/// Which change a request body describes; `count` rules differ (`seats.md` §2).
#[derive(Clone, Copy)]
enum Kind {
    Add,
    Remove,
    Set,
}

pub async fn add(
    state: State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<SeatChangeIn>,
) -> Result<Reply, ApiError> {
    change(state, ctx, key, body, Kind::Add).await
}

pub async fn set(
    state: State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<SeatChangeIn>,
) -> Result<Reply, ApiError> {
    change(state, ctx, key, body, Kind::Set).await
}

/// `DELETE /seats` with a JSON body (legacy) and `POST /seats/remove` (direct).
pub async fn remove(
    state: State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<SeatChangeIn>,
) -> Result<Reply, ApiError> {
    change(state, ctx, key, body, Kind::Remove).await
}

async fn change(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<SeatChangeIn>,
    kind: Kind,
) -> Result<Reply, ApiError> {
    let command = parse_change(body.value, kind)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(&state, &ctx, &key, &body.canonical, command, move |event| {
        reply::object(version, tally_wire::seat_event(version, event, livemode))
    })
    .await
}

fn customer_ref(text: Option<String>) -> Result<CustomerRef, ApiError> {
    let text = required(text.filter(|t| !t.is_empty()), "customerId")?;
    CustomerRef::parse(&text)
        .ok_or_else(|| AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned()).into())
}

/// A seat count: an integer within bounds (`seats.md` §2).
fn count(
    value: Option<&Value>,
    field: &str,
    minimum: i64,
    default: Option<i64>,
) -> Result<i64, FieldError> {
    let problem = || FieldError::new(field, format!("must be an integer >= {minimum}"));
    match value {
        None | Some(Value::Null) => {
            default.ok_or_else(|| FieldError::new(field, format!("{field} is required")))
        }
        Some(value) => {
            let n = value.as_i64().ok_or_else(problem)?;
            match check_count(n, minimum, field) {
                Some(problem) => Err(problem),
                None => Ok(n),
            }
        }
    }
}

fn parse_change(body: SeatChangeIn, kind: Kind) -> Result<ChangeSeats, ApiError> {
    let customer = customer_ref(body.customer_id)?;
    let feature = required(body.feature_code.filter(|f| !f.is_empty()), "featureCode")?;
    let change = match kind {
        // Decision (`seats.md` §2): add and remove default to one seat, as newer SDKs do.
        Kind::Add => count(body.count.as_ref(), "count", 1, Some(1)).map(SeatChange::Add),
        Kind::Remove => count(body.count.as_ref(), "count", 1, Some(1)).map(SeatChange::Remove),
        Kind::Set => count(body.count.as_ref(), "count", 0, None).map(SeatChange::Set),
    }
    .map_err(|problem| invalid(tally_domain::DomainError::Validation(vec![problem])))?;
    Ok(ChangeSeats {
        customer,
        feature,
        change,
    })
}

pub async fn set_all(
    State(state): State<AppState>,
    ctx: Ctx,
    key: IdempotencyKey,
    body: ApiJson<BulkSeatsIn>,
) -> Result<Reply, ApiError> {
    let customer = customer_ref(body.value.customer_id)?;
    let submitted = required(body.value.seats, "seats")?;
    if submitted.is_empty() || submitted.len() > BULK_FEATURES_MAX {
        return Err(ApiError::validation(
            "seats",
            format!("seats must name 1 to {BULK_FEATURES_MAX} features"),
        ));
    }
    let mut seats = Vec::with_capacity(submitted.len());
    let mut problems = Vec::new();
    for (key, value) in &submitted {
        match count(Some(value), &format!("seats.{key}"), 0, None) {
            Ok(n) => seats.push((key.clone(), n)),
            Err(problem) => problems.push(problem),
        }
    }
    tally_domain::catalog::problems_or(problems).map_err(invalid)?;
    let (version, livemode) = (ctx.version, ctx.livemode());
    write(
        &state,
        &ctx,
        &key,
        &body.canonical,
        SetAllSeats { customer, seats },
        move |events| {
            let items = events
                .iter()
                .map(|e| tally_wire::bulk_seat_event(version, e, livemode))
                .collect();
            reply::array(version, items)
        },
    )
    .await
}

pub async fn balance(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let feature = required(query.text("featureCode"), "featureCode")?;
    let balance = state
        .app
        .seat_balance(&ctx.caller, customer, feature)
        .await?;
    Ok(reply::object(
        ctx.version,
        tally_wire::seat_balance(ctx.version, balance.current, balance.as_of, ctx.livemode()),
    )
    .into())
}

pub async fn balances(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let balances: Vec<_> = state
        .app
        .seat_balances(&ctx.caller, customer)
        .await?
        .into_iter()
        .map(|b| (b.feature_code, b.current, b.as_of))
        .collect();
    Ok(reply::object(
        ctx.version,
        tally_wire::seat_balances(ctx.version, &balances, ctx.livemode()),
    )
    .into())
}

/// `GET /seats/events` (Tally extension): `customerId` (required), `featureCode`, `from`,
/// `to` (ISO date-times, `[from, to)`), `limit`, `cursor`; newest first.
pub async fn history(
    State(state): State<AppState>,
    ctx: Ctx,
    query: ApiQuery,
) -> Result<Reply, ApiError> {
    let customer = required(query.text("customerId"), "customerId")?;
    let instant = |field: &str| -> Result<Option<Timestamp>, ApiError> {
        query
            .text(field)
            .map(|text| {
                Timestamp::parse_rfc3339(text).ok_or_else(|| {
                    ApiError::validation(field, format!("{field} must be an ISO 8601 date-time"))
                })
            })
            .transpose()
    };
    let filter = SeatEventFilter {
        feature_code: query.text("featureCode").map(str::to_owned),
        from: instant("from")?,
        to: instant("to")?,
    };
    let page = query.page()?;
    let events = state
        .app
        .seat_history(&ctx.caller, customer, &filter, &page)
        .await?;
    Ok(page_reply(
        &ctx,
        &events,
        |e| (e.ts, e.id.as_str()),
        |e| tally_wire::seat_event(ctx.version, e, ctx.livemode()),
    ))
}
