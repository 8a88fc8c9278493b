//! The invoice sends area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use async_trait::async_trait;
use tally_domain::invoice_sends::{EmailDelivery, InvoiceSend};
use tally_domain::{OrgId, Timestamp};
use tally_store::{InvoiceSends, StoreError};

const SEND_COLUMNS: &str = "id, org_id, invoice_id, recipient_email, sent_at_ms, delivery, \
     attempts, next_attempt_at_ms, last_error";

sql_row! {
    struct SendRow {
        id: String,
        org_id: String,
        invoice_id: String,
        recipient_email: String,
        sent_at_ms: i64,
        delivery: String,
        attempts: i64,
        next_attempt_at_ms: i64,
        last_error: Option<String>,
    }
}

impl SendRow {
    fn into_domain(self) -> Result<InvoiceSend, StoreError> {
        Ok(InvoiceSend {
            delivery: EmailDelivery::parse(&self.delivery).ok_or_else(|| {
                StoreError::other(format!("unknown e-mail delivery state {:?}", self.delivery))
            })?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            invoice_id: self.invoice_id,
            recipient_email: self.recipient_email,
            sent_at: Timestamp::from_millis(self.sent_at_ms),
            attempts: self.attempts,
            next_attempt_at: Timestamp::from_millis(self.next_attempt_at_ms),
            last_error: self.last_error,
        })
    }
}

#[async_trait]
impl InvoiceSends for SqlDb {
    async fn insert_invoice_send(&mut self, s: &InvoiceSend) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO invoice_sends ({SEND_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(&s.id)
        .bind(s.org_id.as_str())
        .bind(&s.invoice_id)
        .bind(&s.recipient_email)
        .bind(s.sent_at.as_millis())
        .bind(s.delivery.as_str())
        .bind(s.attempts)
        .bind(s.next_attempt_at.as_millis())
        .bind(&s.last_error)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn due_invoice_sends(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<InvoiceSend>, StoreError> {
        let conn = &mut self.conn;
        let skip_locked = conn.skip_locked();
        let rows: Vec<SendRow> = query(format!(
            "SELECT {SEND_COLUMNS} FROM invoice_sends WHERE delivery = 'queued' \
             AND next_attempt_at_ms <= $1 ORDER BY next_attempt_at_ms, id LIMIT $2{skip_locked}"
        ))
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(SendRow::into_domain).collect()
    }

    async fn update_invoice_send(&mut self, s: &InvoiceSend) -> Result<(), StoreError> {
        query(
            "UPDATE invoice_sends SET delivery = $1, attempts = $2, next_attempt_at_ms = $3, \
             last_error = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(s.delivery.as_str())
        .bind(s.attempts)
        .bind(s.next_attempt_at.as_millis())
        .bind(&s.last_error)
        .bind(s.org_id.as_str())
        .bind(&s.id)
        .execute_one(&mut self.conn)
        .await
    }

    async fn invoice_sends(
        &mut self,
        org: &OrgId,
        invoice: &str,
    ) -> Result<Vec<InvoiceSend>, StoreError> {
        let rows: Vec<SendRow> = query(format!(
            "SELECT {SEND_COLUMNS} FROM invoice_sends WHERE org_id = $1 AND invoice_id = $2 \
             ORDER BY sent_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(invoice)
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter().map(SendRow::into_domain).collect()
    }
}
