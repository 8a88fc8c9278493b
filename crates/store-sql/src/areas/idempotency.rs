//! The idempotency area, for both engines.

use crate::SqlDb;
use crate::query::query;
use crate::rows::IdempotencyRow;
use async_trait::async_trait;
use tally_domain::Timestamp;
use tally_store::{Idempotency, IdempotencyRecord, IdempotencyScope, StoreError, StoredResponse};

#[async_trait]
impl Idempotency for SqlDb {
    async fn idempotency_record(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<IdempotencyRow> = query(
            "SELECT fingerprint, response_status, response_body, created_at_ms, expires_at_ms \
             FROM idempotency_keys WHERE org_id = $1 AND api_key_id = $2 AND key = $3",
        )
        .bind(scope.org.as_str())
        .bind(scope.api_key.as_str())
        .bind(key)
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(IdempotencyRow::into_record))
    }

    async fn record_idempotency(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let conn = &mut self.conn;
        let recorded = query(
            "INSERT INTO idempotency_keys (org_id, api_key_id, key, fingerprint, \
                 response_status, response_body, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (org_id, api_key_id, key) DO NOTHING",
        )
        .bind(scope.org.as_str())
        .bind(scope.api_key.as_str())
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

    async fn delete_idempotency(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("DELETE FROM idempotency_keys WHERE org_id = $1 AND api_key_id = $2 AND key = $3")
            .bind(scope.org.as_str())
            .bind(scope.api_key.as_str())
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
