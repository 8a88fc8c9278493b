//! Webhook endpoints, the outbox fan-out and deliveries with their attempts. Mirrors
//! `tally-store-postgres/src/webhooks.rs` query by query.

use crate::errors::map_error;
use sqlx::SqliteConnection as Conn;
use tally_domain::OrgId;
use tally_domain::Timestamp;
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::webhooks::{Delivery, WebhookEndpoint};
use tally_store::{Attempt, DeliveryLog, StoreError};
use tally_store_sql::{AttemptRow, DeliveryRow, EndpointRow, EventRow, json_text};

type Result<T> = std::result::Result<T, StoreError>;

const ENDPOINT_COLUMNS: &str = "id, org_id, url, events, description, is_active, api_version, secret, consecutive_failures, created_at_ms, updated_at_ms";
const DELIVERY_COLUMNS: &str = "id, org_id, endpoint_id, event_id, event_type, body, signature, timestamp_header, status, attempts, next_attempt_at_ms, created_at_ms";

fn endpoints_of(rows: Vec<EndpointRow>) -> Result<Vec<WebhookEndpoint>> {
    rows.into_iter().map(EndpointRow::into_domain).collect()
}

pub async fn webhook_endpoints(
    conn: &mut Conn,
    org: &OrgId,
    page: &PageRequest,
) -> Result<Page<WebhookEndpoint>> {
    let (after_ms, after_id) = match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND deleted_at_ms IS NULL AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) ORDER BY created_at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(org.as_str())
    .bind(after_ms)
    .bind(after_ms)
    .bind(after_id)
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(Page::from_overfetch(endpoints_of(rows)?, page.limit))
}

pub async fn webhook_endpoint(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    id: &str,
) -> Result<Option<WebhookEndpoint>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND id = ? AND deleted_at_ms IS NULL{lock}"
    ))
    .bind(org.as_str())
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(EndpointRow::into_domain).transpose()
}

pub async fn org_webhook_endpoints(conn: &mut Conn, org: &OrgId) -> Result<Vec<WebhookEndpoint>> {
    let rows: Vec<EndpointRow> = sqlx::query_as(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = ? AND deleted_at_ms IS NULL ORDER BY created_at_ms, id"
    ))
    .bind(org.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    endpoints_of(rows)
}

pub async fn insert_webhook_endpoint(conn: &mut Conn, e: &WebhookEndpoint) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(&e.id)
    .bind(e.org_id.as_str())
    .bind(&e.url)
    .bind(json_text(Some(&e.events)))
    .bind(&e.description)
    .bind(e.is_active)
    .bind(e.api_version.map(|v| v.as_str()))
    .bind(&e.secret)
    .bind(e.consecutive_failures)
    .bind(e.created_at.as_millis())
    .bind(e.updated_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_webhook_endpoint(
    conn: &mut Conn,
    e: &WebhookEndpoint,
    deleted: bool,
) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_endpoints SET url = ?, events = ?, description = ?, is_active = ?, api_version = ?, consecutive_failures = ?, updated_at_ms = ?, deleted_at_ms = ? WHERE org_id = ? AND id = ?",
    )
    .bind(&e.url)
    .bind(json_text(Some(&e.events)))
    .bind(&e.description)
    .bind(e.is_active)
    .bind(e.api_version.map(|v| v.as_str()))
    .bind(e.consecutive_failures)
    .bind(e.updated_at.as_millis())
    .bind(deleted.then(|| e.updated_at.as_millis()))
    .bind(e.org_id.as_str())
    .bind(&e.id)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn claim_pending_events(conn: &mut Conn, limit: u32) -> Result<Vec<WebhookEvent>> {
    let rows: Vec<EventRow> = sqlx::query_as(
        "SELECT id, org_id, event_type, customer_id, data, created_at_ms FROM webhook_events WHERE fanned_out_at_ms IS NULL ORDER BY created_at_ms, id LIMIT ?",
    )
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.into_iter().map(EventRow::into_domain).collect()
}

pub async fn mark_event_fanned_out(conn: &mut Conn, event: &str, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE webhook_events SET fanned_out_at_ms = ? WHERE id = ?")
        .bind(now.as_millis())
        .bind(event)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn insert_delivery(conn: &mut Conn, d: &Delivery) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id, endpoint_id) DO NOTHING"
    ))
    .bind(&d.id)
    .bind(d.org_id.as_str())
    .bind(&d.endpoint_id)
    .bind(&d.event_id)
    .bind(&d.event_type)
    .bind(&d.body)
    .bind(&d.signature)
    .bind(&d.timestamp)
    .bind(d.status.as_str())
    .bind(d.attempts)
    .bind(d.next_attempt_at.as_millis())
    .bind(d.created_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn claim_due_deliveries(
    conn: &mut Conn,
    now: Timestamp,
    limit: u32,
) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms, id LIMIT ?"
    ))
    .bind(now.as_millis())
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.into_iter().map(DeliveryRow::into_domain).collect()
}

pub async fn lock_delivery(conn: &mut Conn, id: &str) -> Result<Option<Delivery>> {
    let row: Option<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(DeliveryRow::into_domain).transpose()
}

pub async fn update_delivery(conn: &mut Conn, d: &Delivery) -> Result<()> {
    sqlx::query(
        "UPDATE webhook_deliveries SET status = ?, attempts = ?, next_attempt_at_ms = ? WHERE id = ?",
    )
    .bind(d.status.as_str())
    .bind(d.attempts)
    .bind(d.next_attempt_at.as_millis())
    .bind(&d.id)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn record_attempt(conn: &mut Conn, delivery: &str, a: &Attempt) -> Result<()> {
    sqlx::query(
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at_ms, status_code, latency_ms, response_body, error) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(delivery)
    .bind(a.number)
    .bind(a.attempted_at.as_millis())
    .bind(a.result.status_code.map(i64::from))
    .bind(a.result.latency_ms)
    .bind(&a.result.response_body)
    .bind(&a.result.error)
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn delivery_logs(
    conn: &mut Conn,
    org: &OrgId,
    endpoint: &str,
    page: &PageRequest,
) -> Result<Page<DeliveryLog>> {
    let (after_ms, after_id) = match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ? AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) ORDER BY created_at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(org.as_str())
    .bind(endpoint)
    .bind(after_ms)
    .bind(after_ms)
    .bind(after_id)
    .bind(i64::from(page.limit) + 1)
    .fetch_all(&mut *conn)
    .await
    .map_err(map_error)?;
    let page = Page::from_overfetch(rows, page.limit);
    let mut logs = Vec::with_capacity(page.items.len());
    for row in page.items {
        let delivery = row.into_domain()?;
        let attempts: Vec<AttemptRow> = sqlx::query_as(
            "SELECT delivery_id, attempt, attempted_at_ms, status_code, latency_ms, response_body, error FROM webhook_attempts WHERE delivery_id = ? ORDER BY attempt",
        )
        .bind(&delivery.id)
        .fetch_all(&mut *conn)
        .await
        .map_err(map_error)?;
        logs.push(DeliveryLog {
            delivery,
            attempts: attempts.into_iter().map(AttemptRow::into_domain).collect(),
        });
    }
    Ok(Page {
        items: logs,
        has_more: page.has_more,
    })
}
