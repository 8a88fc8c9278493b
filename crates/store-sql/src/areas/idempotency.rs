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

    async fn claim_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError> {
        let conn = &mut self.conn;
        let claimed = query(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, key) DO NOTHING",
        )
        .bind(org.as_str())
        .bind(key)
        .bind(fingerprint)
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .execute(&mut *conn)
        .await?;
        Ok(claimed == 1)
    }

    async fn complete_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        let done = query(
            "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
             WHERE org_id = $3 AND key = $4",
        )
        .bind(i32::from(response.status))
        .bind(&response.body)
        .bind(org.as_str())
        .bind(key)
        .execute(&mut *conn)
        .await?;
        if done == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
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
