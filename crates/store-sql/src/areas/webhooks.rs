//! The webhooks area, for both engines.

use crate::SqlDb;
use crate::query::{keyset_page, query};
use crate::rows::{AttemptRow, DeliveryRow, EndpointRow, EventRow, json_text};
use async_trait::async_trait;
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::webhooks::{Delivery, EventBody, WebhookEndpoint};
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{Attempt, DeliveryLog, Lock, StoreError, Webhooks};

const ENDPOINT_COLUMNS: &str = "id, org_id, url, events, description, is_active, api_version, secret, consecutive_failures, created_at_ms, updated_at_ms";
/// A delivery as read, from `webhook_deliveries`: its body comes from the stored event body it
/// names. A subquery rather than a join, so that a locking read locks the delivery alone and
/// never the body its event's other deliveries share.
const DELIVERY_COLUMNS: &str = "id, org_id, endpoint_id, event_id, event_type, body_id, \
     (SELECT b.body FROM webhook_event_bodies b \
      WHERE b.org_id = webhook_deliveries.org_id AND b.id = webhook_deliveries.body_id) AS body, \
     signature, timestamp_header, status, attempts, next_attempt_at_ms, created_at_ms";

/// Events per INSERT statement: well under both engines' limit on bound values.
const EVENTS_PER_INSERT_MAX: usize = 100;

fn endpoints_of(rows: Vec<EndpointRow>) -> Result<Vec<WebhookEndpoint>, StoreError> {
    rows.into_iter().map(EndpointRow::into_domain).collect()
}

#[async_trait]
impl Webhooks for SqlDb {
    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // One statement per batch rather than per event: a seat change records two events, and
        // on the write path every statement counts.
        for batch in events.chunks(EVENTS_PER_INSERT_MAX) {
            let rows: Vec<String> = (0..batch.len())
                .map(|i| {
                    let n = i * 6;
                    format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        n + 1,
                        n + 2,
                        n + 3,
                        n + 4,
                        n + 5,
                        n + 6
                    )
                })
                .collect();
            let mut insert = query(format!(
                "INSERT INTO webhook_events (id, org_id, event_type, customer_id, data, \
                 created_at_ms) VALUES {}",
                rows.join(", ")
            ));
            for event in batch {
                insert = insert
                    .bind(event.id.as_str())
                    .bind(event.org_id.as_str())
                    .bind(&event.event_type)
                    .bind(event.customer_id.as_ref().map(CustomerId::as_str))
                    .bind(event.data.to_string())
                    .bind(event.created_at.as_millis());
            }
            insert.execute(&mut *conn).await?;
        }
        Ok(())
    }

    async fn claim_pending_events(&mut self, limit: u32) -> Result<Vec<WebhookEvent>, StoreError> {
        let conn = &mut self.conn;
        let skip_locked = conn.skip_locked();
        let rows: Vec<EventRow> = query(format!(
            "SELECT id, org_id, event_type, customer_id, data, created_at_ms FROM webhook_events \
             WHERE fanned_out_at_ms IS NULL ORDER BY created_at_ms, id LIMIT $1{skip_locked}"
        ))
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(EventRow::into_domain).collect()
    }

    async fn mark_event_fanned_out(
        &mut self,
        org: &OrgId,
        event: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("UPDATE webhook_events SET fanned_out_at_ms = $1 WHERE org_id = $2 AND id = $3")
            .bind(now.as_millis())
            .bind(org.as_str())
            .bind(event)
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn insert_webhook_endpoint(&mut self, e: &WebhookEndpoint) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
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
        .await?;
        Ok(())
    }

    async fn update_webhook_endpoint(
        &mut self,
        e: &WebhookEndpoint,
        deleted: bool,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE webhook_endpoints SET url = $1, events = $2, description = $3, is_active = $4, api_version = $5, consecutive_failures = $6, updated_at_ms = $7, deleted_at_ms = $8 WHERE org_id = $9 AND id = $10",
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
        .execute_one(conn)
        .await?;
        Ok(())
    }

    async fn webhook_endpoint(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);

        let row: Option<EndpointRow> = query(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL{lock}"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?;
        row.map(EndpointRow::into_domain).transpose()
    }

    async fn webhook_endpoints(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<EndpointRow> = query(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints \
             WHERE org_id = $1 AND deleted_at_ms IS NULL AND {}",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        Ok(Page::from_overfetch(endpoints_of(rows)?, page.limit))
    }

    async fn count_webhook_endpoints(&mut self, org: &OrgId) -> Result<u64, StoreError> {
        let conn = &mut self.conn;
        let (count,): (i64,) = query(
            "SELECT COUNT(*) FROM webhook_endpoints WHERE org_id = $1 AND deleted_at_ms IS NULL",
        )
        .bind(org.as_str())
        .fetch_one(conn)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn all_webhook_endpoints(
        &mut self,
        org: &OrgId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<EndpointRow> = query(format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND deleted_at_ms IS NULL ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .fetch_all(conn)
        .await?;
        endpoints_of(rows)
    }

    async fn insert_event_body(&mut self, b: &EventBody) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO webhook_event_bodies (id, org_id, event_id, body, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&b.id)
        .bind(b.org_id.as_str())
        .bind(&b.event_id)
        .bind(&b.body)
        .bind(b.created_at.as_millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn insert_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only of a body of this organization and event, to an endpoint of this organization.
        let inserted = query(
            "INSERT INTO webhook_deliveries (id, org_id, endpoint_id, event_id, event_type, \
                 body_id, signature, timestamp_header, status, attempts, next_attempt_at_ms, \
                 created_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM webhook_event_bodies \
                           WHERE org_id = $2 AND id = $6 AND event_id = $4) \
               AND EXISTS (SELECT 1 FROM webhook_endpoints WHERE org_id = $2 AND id = $3) \
             ON CONFLICT (event_id, endpoint_id) DO NOTHING",
        )
        .bind(&d.id)
        .bind(d.org_id.as_str())
        .bind(&d.endpoint_id)
        .bind(&d.event_id)
        .bind(&d.event_type)
        .bind(&d.body_id)
        .bind(&d.signature)
        .bind(&d.timestamp)
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.next_attempt_at.as_millis())
        .bind(d.created_at.as_millis())
        .execute(&mut *conn)
        .await?;
        if inserted == 1 {
            return Ok(());
        }
        // Nothing written: the event's delivery to this endpoint exists (kept as it is), or the
        // body or endpoint is not this organization's.
        let (existing,): (i64,) = query(
            "SELECT COUNT(*) FROM webhook_deliveries \
             WHERE org_id = $1 AND event_id = $2 AND endpoint_id = $3",
        )
        .bind(d.org_id.as_str())
        .bind(&d.event_id)
        .bind(&d.endpoint_id)
        .fetch_one(conn)
        .await?;
        if existing == 0 {
            Err(StoreError::NotFound)
        } else {
            Ok(())
        }
    }

    async fn claim_due_deliveries(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        let conn = &mut self.conn;
        let skip_locked = conn.skip_locked();
        let rows: Vec<DeliveryRow> = query(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' \
             AND next_attempt_at_ms <= $1 ORDER BY next_attempt_at_ms, id LIMIT $2{skip_locked}"
        ))
        .bind(now.as_millis())
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(DeliveryRow::into_domain).collect()
    }

    async fn count_pending_deliveries(&mut self) -> Result<u64, StoreError> {
        let conn = &mut self.conn;
        // Read from the partial index of pending deliveries (`webhook_deliveries_due`).
        let (count,): (i64,) =
            query("SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'")
                .fetch_one(conn)
                .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }

    async fn delivery(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Delivery>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<DeliveryRow> = query(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(conn)
        .await?;
        row.map(DeliveryRow::into_domain).transpose()
    }

    async fn update_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, next_attempt_at_ms = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(d.status.as_str())
        .bind(d.attempts)
        .bind(d.next_attempt_at.as_millis())
        .bind(d.org_id.as_str())
        .bind(&d.id)
        .execute_one(conn)
        .await?;
        Ok(())
    }

    async fn record_attempt(
        &mut self,
        org: &OrgId,
        delivery: &str,
        a: &Attempt,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            // The attempts table has no organization column; the delivery row scopes it.
            "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at_ms, status_code, latency_ms, response_body, error) \
             SELECT id, $3, $4, $5, $6, $7, $8 FROM webhook_deliveries WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(delivery)
        .bind(a.number)
        .bind(a.attempted_at.as_millis())
        .bind(a.result.status_code.map(i64::from))
        .bind(a.result.latency_ms)
        .bind(&a.result.response_body)
        .bind(&a.result.error)
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn delivery_logs(
        &mut self,
        org: &OrgId,
        endpoint: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryLog>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<DeliveryRow> = query(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries \
             WHERE org_id = $1 AND endpoint_id = $2 AND {}",
            keyset_page("created_at_ms", 3)
        ))
        .bind(org.as_str())
        .bind(endpoint)
        .bind_page(page)
        .fetch_all(&mut *conn)
        .await?;
        let page = Page::from_overfetch(rows, page.limit);
        let mut logs = Vec::with_capacity(page.items.len());
        for row in page.items {
            let delivery = row.into_domain()?;
            let attempts: Vec<AttemptRow> = query(
                "SELECT attempt, attempted_at_ms, status_code, latency_ms, response_body, error FROM webhook_attempts WHERE delivery_id = $1 ORDER BY attempt",
            )
            .bind(&delivery.id)
            .fetch_all(&mut *conn)
            .await?;
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
}
