//! The invoices area, for both engines.

use crate::SqlDb;
use crate::query::{keyset_page, query};
use crate::rows::{InvoiceLineRow, InvoiceRow, TrueUpRow};
use async_trait::async_trait;
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{InvoiceFilter, Invoices, Lock, StoreError};

const INVOICE_COLUMNS: &str = "id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type, subtotal, credit_applied, period_start_ms, period_end_ms, issue_date_ms, plan_name, created_at_ms, updated_at_ms, currency, memo, metadata, discount_amount";
const LINE_COLUMNS: &str = "line_type, charge_type, feature_name, description, quantity, unit_amount, amount, included_amount, used_amount, overage_amount, seat_event_id, discount_type, discount_value, discount_name";
const TRUE_UP_COLUMNS: &str = "seat_event_id, subscription_id, feature_code, feature_name, units, unit_price, days_left, period_days, amount, created_at_ms";

#[async_trait]
impl Invoices for SqlDb {
    async fn next_invoice_number(&mut self, org: &OrgId) -> Result<i64, StoreError> {
        let conn = &mut self.conn;
        let (number,): (i64,) = query(
            "INSERT INTO invoice_counters (org_id, last_number) VALUES ($1, 1) ON CONFLICT (org_id) DO UPDATE SET last_number = invoice_counters.last_number + 1 RETURNING last_number",
        )
        .bind(org.as_str())
        .fetch_one(conn)
        .await?;
        Ok(number)
    }

    async fn period_opening_invoice(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        period_start: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let id: Option<(String,)> = query(
            "SELECT i.id FROM invoices i \
             WHERE i.org_id = $1 AND i.subscription_id = $2 AND i.period_start_ms = $3 \
               AND i.status <> 'void' \
               AND EXISTS (SELECT 1 FROM invoice_lines l \
                           WHERE l.invoice_id = i.id AND l.line_type = 'plan_base') \
             ORDER BY i.created_at_ms DESC, i.id DESC LIMIT 1",
        )
        .bind(org.as_str())
        .bind(subscription.as_str())
        .bind(period_start)
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(id.map(|(id,)| id))
    }

    async fn insert_invoice(&mut self, i: &Invoice) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO invoices (id, org_id, customer_id, subscription_id, invoice_number, status, invoice_type, currency, subtotal, total, period_start_ms, period_end_ms, issue_date_ms, due_date_ms, plan_name, created_at_ms, updated_at_ms, credit_applied, memo, metadata, discount_amount) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)",
        )
        .bind(&i.id)
        .bind(i.org_id.as_str())
        .bind(i.customer_id.as_str())
        .bind(i.subscription_id.as_ref().map(SubscriptionId::as_str))
        .bind(&i.number)
        .bind(i.status.as_str())
        .bind(&i.invoice_type)
        .bind(&i.currency)
        .bind(i.subtotal.0)
        .bind(i.total().0)
        .bind(i.period.start.as_millis())
        .bind(i.period.end.as_millis())
        .bind(i.issue_date.as_millis())
        .bind(i.issue_date.as_millis())
        .bind(&i.plan_name)
        .bind(i.created_at.as_millis())
        .bind(i.updated_at.as_millis())
        .bind(i.credit_applied.0)
        .bind(&i.memo)
        .bind(serde_json::Value::Object(i.metadata.clone()).to_string())
        .bind(i.discount_amount.0)
        .execute(&mut *conn)
        .await?;
        for (position, line) in i.lines.iter().enumerate() {
            query(format!(
                "INSERT INTO invoice_lines (invoice_id, position, {LINE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
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
            .bind(line.discount.as_ref().map(|d| d.discount_type))
            .bind(line.discount.as_ref().map(|d| d.value))
            .bind(line.discount.as_ref().map(|d| d.name.as_str()))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn invoice_org(&mut self, id: &str) -> Result<Option<OrgId>, StoreError> {
        let row: Option<(String,)> = query("SELECT org_id FROM invoices WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut self.conn)
            .await?;
        Ok(row.map(|(org,)| OrgId::new(org)))
    }

    async fn invoice(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Invoice>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);

        let row: Option<InvoiceRow> = query(format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let mut invoice = row.into_domain()?;
        let lines: Vec<InvoiceLineRow> = query(format!(
            "SELECT {LINE_COLUMNS} FROM invoice_lines WHERE invoice_id = $1 ORDER BY position"
        ))
        .bind(id)
        .fetch_all(conn)
        .await?;
        invoice.lines = lines
            .into_iter()
            .map(InvoiceLineRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(invoice))
    }

    async fn invoices(
        &mut self,
        org: &OrgId,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError> {
        let conn = &mut self.conn;
        let customer = filter.customer.as_ref().map(CustomerId::as_str);
        let subscription = filter.subscription.as_ref().map(SubscriptionId::as_str);
        let status = filter.status.map(InvoiceStatus::as_str);
        let rows: Vec<InvoiceRow> = query(format!(
            "SELECT {INVOICE_COLUMNS} FROM invoices \
             WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR customer_id = $2) \
               AND (CAST($3 AS TEXT) IS NULL OR subscription_id = $3) \
               AND (CAST($4 AS TEXT) IS NULL OR status = $4) AND {}",
            keyset_page("created_at_ms", 5)
        ))
        .bind(org.as_str())
        .bind(customer)
        .bind(subscription)
        .bind(status)
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        let invoices = rows
            .into_iter()
            .map(InvoiceRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(invoices, page.limit))
    }

    async fn update_invoice_status(
        &mut self,
        org: &OrgId,
        id: &str,
        status: InvoiceStatus,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("UPDATE invoices SET status = $1, updated_at_ms = $2 WHERE org_id = $3 AND id = $4")
            .bind(status.as_str())
            .bind(at.as_millis())
            .bind(org.as_str())
            .bind(id)
            .execute_one(conn)
            .await?;
        Ok(())
    }

    async fn insert_seat_true_up(&mut self, org: &OrgId, t: &SeatTrueUp) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only onto a subscription of `org`.
        query(format!(
            "INSERT INTO seat_true_ups (org_id, {TRUE_UP_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11 \
             WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $1 AND id = $3)"
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
        .execute_one(conn)
        .await
    }

    async fn pending_true_ups(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatTrueUp>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<TrueUpRow> = query(format!(
            "SELECT {TRUE_UP_COLUMNS} FROM seat_true_ups WHERE org_id = $1 AND subscription_id = $2 AND invoice_id IS NULL ORDER BY created_at_ms, seat_event_id"
        ))
        .bind(org.as_str())
        .bind(subscription.as_str())
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(TrueUpRow::into_domain).collect())
    }

    async fn mark_true_ups_invoiced(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        invoice: &str,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("UPDATE seat_true_ups SET invoice_id = $1 WHERE org_id = $2 AND subscription_id = $3 AND invoice_id IS NULL")
            .bind(invoice)
            .bind(org.as_str())
            .bind(subscription.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }
}
