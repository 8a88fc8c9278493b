//! Invoices, their lines, the invoice number sequence and pending seat true-ups. Mirrors
//! `tally-store-postgres/src/invoices.rs` query by query.

use crate::errors::map_error;
use sqlx::SqliteConnection as Conn;
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{InvoiceFilter, StoreError};
use tally_store_sql::{InvoiceLineRow, InvoiceRow, TrueUpRow};

type Result<T> = std::result::Result<T, StoreError>;

const INVOICE_COLUMNS: &str = "id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type, subtotal, period_start_ms, period_end_ms, issue_date_ms, plan_name, created_at_ms, updated_at_ms";
const LINE_COLUMNS: &str = "line_type, charge_type, feature_name, description, quantity, unit_amount, amount, included_amount, used_amount, overage_amount, seat_event_id";
const TRUE_UP_COLUMNS: &str = "seat_event_id, subscription_id, feature_code, feature_name, units, unit_price, days_left, period_days, amount, created_at_ms";

pub async fn invoices(
    conn: &mut Conn,
    org: &OrgId,
    filter: &InvoiceFilter,
    page: &PageRequest,
) -> Result<Page<Invoice>> {
    let (after_ms, after_id) = match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let customer = filter.customer.as_ref().map(CustomerId::as_str);
    let subscription = filter.subscription.as_ref().map(SubscriptionId::as_str);
    let status = filter.status.map(InvoiceStatus::as_str);
    let rows: Vec<InvoiceRow> = sqlx::query_as(&format!("SELECT {INVOICE_COLUMNS} FROM invoices WHERE org_id = ? AND (? IS NULL OR customer_id = ?) AND (? IS NULL OR subscription_id = ?) AND (? IS NULL OR status = ?) AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) ORDER BY created_at_ms DESC, id DESC LIMIT ?"))
        .bind(org.as_str())
        .bind(customer)
        .bind(customer)
        .bind(subscription)
        .bind(subscription)
        .bind(status)
        .bind(status)
        .bind(after_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(conn)
        .await
        .map_err(map_error)?;
    let invoices = rows
        .into_iter()
        .map(InvoiceRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(invoices, page.limit))
}

pub async fn invoice(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    id: &str,
) -> Result<Option<Invoice>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<InvoiceRow> = sqlx::query_as(&format!(
        "SELECT {INVOICE_COLUMNS} FROM invoices WHERE org_id = ? AND id = ?{lock}"
    ))
    .bind(org.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_error)?;
    let Some(row) = row else { return Ok(None) };
    let mut invoice = row.into_domain()?;
    let lines: Vec<InvoiceLineRow> = sqlx::query_as(&format!(
        "SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = ? ORDER BY position"
    ))
    .bind(id)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    invoice.lines = lines
        .into_iter()
        .map(InvoiceLineRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(invoice))
}

pub async fn next_invoice_number(conn: &mut Conn, org: &OrgId) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO invoice_counters (org_id, last_number) VALUES (?, 1) ON CONFLICT (org_id) DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number",
    )
    .bind(org.as_str())
    .fetch_one(conn)
    .await
    .map_err(map_error)
}

pub async fn insert_invoice(conn: &mut Conn, i: &Invoice) -> Result<()> {
    sqlx::query(
        "INSERT INTO invoices (id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type, currency, subtotal, total, period_start_ms, period_end_ms, issue_date_ms, due_date_ms, plan_name, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&i.id)
    .bind(i.org_id.as_str())
    .bind(i.customer_id.as_str())
    .bind(i.subscription_id.as_ref().map(SubscriptionId::as_str))
    .bind(&i.number)
    .bind(i.status.as_str())
    .bind(&i.invoice_type)
    .bind("usd")
    .bind(i.subtotal.0)
    .bind(i.total().0)
    .bind(i.period.start.as_millis())
    .bind(i.period.end.as_millis())
    .bind(i.issue_date.as_millis())
    .bind(i.issue_date.as_millis())
    .bind(&i.plan_name)
    .bind(i.created_at.as_millis())
    .bind(i.updated_at.as_millis())
    .execute(&mut *conn)
    .await
    .map_err(map_error)?;
    for (position, line) in i.lines.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO invoice_lines (invoice_id, position, {LINE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(&i.id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(line.line_type.as_str())
        .bind(line.charge_type.as_str())
        .bind(&line.feature_name)
        .bind(&line.description)
        .bind(line.quantity)
        .bind(line.unit_amount.0)
        .bind(line.amount.0)
        .bind(line.included_amount)
        .bind(line.used_amount)
        .bind(line.overage_amount)
        .bind(&line.seat_event_id)
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}

pub async fn update_invoice_status(
    conn: &mut Conn,
    org: &OrgId,
    id: &str,
    status: InvoiceStatus,
    at: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE invoices SET status = ?, updated_at_ms = ? WHERE org_id = ? AND id = ?")
        .bind(status.as_str())
        .bind(at.as_millis())
        .bind(org.as_str())
        .bind(id)
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn insert_seat_true_up(conn: &mut Conn, org: &OrgId, t: &SeatTrueUp) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO seat_true_ups (org_id, {TRUE_UP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(org.as_str())
    .bind(&t.seat_event_id)
    .bind(t.subscription_id.as_str())
    .bind(&t.feature_code)
    .bind(&t.feature_name)
    .bind(t.units)
    .bind(t.unit_price.0)
    .bind(t.days_left)
    .bind(t.period_days)
    .bind(t.amount.0)
    .bind(t.created_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn pending_true_ups(
    conn: &mut Conn,
    subscription: &SubscriptionId,
) -> Result<Vec<SeatTrueUp>> {
    let rows: Vec<TrueUpRow> = sqlx::query_as(&format!(
        "SELECT {TRUE_UP_COLUMNS} FROM seat_true_ups WHERE subscription_id = ? AND invoice_id IS NULL ORDER BY created_at_ms, seat_event_id"
    ))
    .bind(subscription.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(rows.into_iter().map(TrueUpRow::into_domain).collect())
}

pub async fn mark_true_ups_invoiced(
    conn: &mut Conn,
    subscription: &SubscriptionId,
    invoice: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE seat_true_ups SET invoice_id = ? WHERE subscription_id = ? AND invoice_id IS NULL",
    )
    .bind(invoice)
    .bind(subscription.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}
