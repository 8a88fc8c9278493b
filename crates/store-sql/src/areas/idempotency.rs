//! The idempotency area, for both engines.

use crate::SqlDb;
use crate::query::query;
use crate::rows::IdempotencyRow;
use async_trait::async_trait;
use tally_domain::{OrgId, Timestamp};
use tally_store::{Idempotency, IdempotencyRecord, StoreError, StoredResponse};

#[async_trait]
impl Idempotency for SqlDb {
    async fn idempotency_record(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<IdempotencyRow> = query(
            "SELECT fingerprint, response_status, response_body, created_at_ms, expires_at_ms \
             FROM idempotency_keys WHERE org_id = $1 AND key = $2",
        )
        .bind(org.as_str())
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(IdempotencyRow::into_record))
    }

    async fn record_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let conn = &mut self.conn;
        let recorded = query(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, response_status, \
                 response_body, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (org_id, key) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(key)
        .bind(fingerprint)
        .bind(i64::from(response.status))
        .bind(response.body.as_str())
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .execute(&mut *conn)
        .await?;
        Ok(recorded == 1)
    }

    async fn delete_idempotency(&mut self, org: &OrgId, key: &str) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("DELETE FROM idempotency_keys WHERE org_id = $1 AND key = $2")
            .bind(org.as_str())
            .bind(key)
            .execute(&mut *conn)
            .await?;
        Ok(())
    }

    async fn purge_idempotency(&mut self, now: Timestamp) -> Result<u64, StoreError> {
        let conn = &mut self.conn;
        let done = query("DELETE FROM idempotency_keys WHERE expires_at_ms <= $1")
            .bind(now.as_millis())
            .execute(conn)
            .await?;
        Ok(done)
    }
}
