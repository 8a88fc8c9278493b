//! Seat balances, the seat ledger and the webhook outbox. Mirrors the other backend's
//! `seats.rs` query by query.

use crate::errors::map_error;
use sqlx::PgConnection as Conn;
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{CustomerId, OrgId};
use tally_store::{SeatEventFilter, StoreError};
use tally_store_sql::{SeatBalanceRow, SeatEventRow};

type Result<T> = std::result::Result<T, StoreError>;

pub async fn seat_balances(conn: &mut Conn, sub: &SubscriptionId) -> Result<Vec<SeatBalance>> {
    let rows: Vec<SeatBalanceRow> = sqlx::query_as(
        "SELECT subscription_id, feature_code, current, paid_extra, updated_at_ms FROM seat_balances WHERE subscription_id = $1 ORDER BY feature_code",
    )
    .bind(sub.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(rows.into_iter().map(SeatBalanceRow::into_domain).collect())
}

pub async fn save_seat_balance(conn: &mut Conn, org: &OrgId, balance: &SeatBalance) -> Result<()> {
    sqlx::query(
        "INSERT INTO seat_balances (subscription_id, feature_code, org_id, current, paid_extra, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subscription_id, feature_code) DO UPDATE SET current = excluded.current, paid_extra = excluded.paid_extra, updated_at_ms = excluded.updated_at_ms",
    )
    .bind(balance.subscription_id.as_str())
    .bind(&balance.feature_code)
    .bind(org.as_str())
    .bind(balance.current)
    .bind(balance.paid_extra)
    .bind(balance.updated_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn append_seat_event(conn: &mut Conn, event: &SeatEvent) -> Result<()> {
    sqlx::query(
        "INSERT INTO seat_events (id, org_id, customer_id, subscription_id, feature_code, previous_balance, new_balance, ts_ms, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(event.id.as_str())
    .bind(event.org_id.as_str())
    .bind(event.customer_id.as_str())
    .bind(event.subscription_id.as_str())
    .bind(&event.feature_code)
    .bind(event.previous_balance)
    .bind(event.new_balance)
    .bind(event.ts.as_millis())
    .bind(event.ts.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn seat_events(
    conn: &mut Conn,
    org: &OrgId,
    customer: &CustomerId,
    filter: &SeatEventFilter,
    page: &PageRequest,
) -> Result<Page<SeatEvent>> {
    let (after_ms, after_id) = match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<SeatEventRow> = sqlx::query_as(
        "SELECT id, org_id, customer_id, subscription_id, feature_code, previous_balance, new_balance, ts_ms FROM seat_events WHERE org_id = $1 AND customer_id = $2 AND ($3::text IS NULL OR feature_code = $4) AND ts_ms >= $5 AND ts_ms < $6 AND (ts_ms < $7 OR (ts_ms = $8 AND id < $9)) ORDER BY ts_ms DESC, id DESC LIMIT $10",
    )
    .bind(org.as_str())
    .bind(customer.as_str())
    .bind(filter.feature_code.as_deref())
    .bind(filter.feature_code.as_deref())
    .bind(filter.from.map_or(i64::MIN, |t| t.as_millis()))
    .bind(filter.to.map_or(i64::MAX, |t| t.as_millis()))
    .bind(after_ms)
    .bind(after_ms)
    .bind(after_id)
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    let events = rows.into_iter().map(SeatEventRow::into_domain).collect();
    Ok(Page::from_overfetch(events, page.limit))
}

pub async fn insert_webhook_events(conn: &mut Conn, events: &[WebhookEvent]) -> Result<()> {
    for event in events {
        sqlx::query(
            "INSERT INTO webhook_events (id, org_id, event_type, customer_id, data, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(event.id.as_str())
        .bind(event.org_id.as_str())
        .bind(&event.event_type)
        .bind(event.customer_id.as_ref().map(CustomerId::as_str))
        .bind(event.data.to_string())
        .bind(event.created_at.as_millis())
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}
