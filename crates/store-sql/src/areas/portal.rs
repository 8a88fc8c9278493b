//! The portal sessions area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use async_trait::async_trait;
use tally_domain::ids::{CustomerId, PortalSessionId};
use tally_domain::portal::PortalSession;
use tally_domain::{OrgId, Timestamp};
use tally_store::{Portal, StoreError};

sql_row! {
    struct SessionRow {
        id: String,
        org_id: String,
        customer_id: String,
        return_url: Option<String>,
        created_at_ms: i64,
        last_seen_at_ms: i64,
    }
}

#[async_trait]
impl Portal for SqlDb {
    async fn insert_portal_session(&mut self, s: &PortalSession) -> Result<(), StoreError> {
        query(
            "INSERT INTO portal_sessions (id, org_id, customer_id, return_url, created_at_ms, \
                 last_seen_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(s.id.as_str())
        .bind(s.org_id.as_str())
        .bind(s.customer_id.as_str())
        .bind(&s.return_url)
        .bind(s.created_at)
        .bind(s.last_seen_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn portal_session(
        &mut self,
        org: &OrgId,
        id: &PortalSessionId,
    ) -> Result<Option<PortalSession>, StoreError> {
        let row: Option<SessionRow> = query(
            "SELECT id, org_id, customer_id, return_url, created_at_ms, last_seen_at_ms \
             FROM portal_sessions WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| PortalSession {
            id: PortalSessionId::from_stored(r.id),
            org_id: OrgId::new(r.org_id),
            customer_id: CustomerId::from_stored(r.customer_id),
            return_url: r.return_url,
            created_at: Timestamp::from_millis(r.created_at_ms),
            last_seen_at: Timestamp::from_millis(r.last_seen_at_ms),
        }))
    }

    async fn touch_portal_session(
        &mut self,
        org: &OrgId,
        id: &PortalSessionId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        query("UPDATE portal_sessions SET last_seen_at_ms = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(at)
            .execute_one(&mut self.conn)
            .await?;
        Ok(())
    }
}
