//! The dashboard area (credential and sessions), for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use async_trait::async_trait;
use tally_domain::dashboard::DashboardSession;
use tally_domain::{ApiKeyId, OrgId, Timestamp};
use tally_store::{Dashboard, StoreError};

sql_row! {
    struct SessionRow {
        id: String,
        home_org_id: String,
        org_id: String,
        created_at_ms: i64,
        expires_at_ms: i64,
        ended_at_ms: Option<i64>,
    }
}

#[async_trait]
impl Dashboard for SqlDb {
    async fn dashboard_credential(&mut self, org: &OrgId) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            query("SELECT credential_hash FROM dashboard_credentials WHERE org_id = $1")
                .bind(org.as_str())
                .fetch_optional(&mut self.conn)
                .await?;
        Ok(row.map(|(hash,)| hash))
    }

    async fn set_dashboard_credential(
        &mut self,
        org: &OrgId,
        credential_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO dashboard_credentials (org_id, credential_hash, updated_at_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (org_id) DO UPDATE \
             SET credential_hash = excluded.credential_hash, updated_at_ms = excluded.updated_at_ms",
        )
        .bind(org.as_str())
        .bind(credential_hash)
        .bind(now.as_millis())
        .execute(&mut self.conn)
        .await?;
        query(
            "UPDATE dashboard_sessions SET ended_at_ms = $2 \
             WHERE home_org_id = $1 AND ended_at_ms IS NULL",
        )
        .bind(org.as_str())
        .bind(now.as_millis())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn insert_dashboard_session(
        &mut self,
        session: &DashboardSession,
        secret_hash: &str,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO dashboard_sessions (id, home_org_id, org_id, secret_hash, created_at_ms, \
                 expires_at_ms, ended_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id.as_str())
        .bind(session.home_org_id.as_str())
        .bind(session.org_id.as_str())
        .bind(secret_hash)
        .bind(session.created_at.as_millis())
        .bind(session.expires_at.as_millis())
        .bind(session.ended_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn dashboard_session(
        &mut self,
        secret_hash: &str,
    ) -> Result<Option<DashboardSession>, StoreError> {
        let row: Option<SessionRow> = query(
            "SELECT id, home_org_id, org_id, created_at_ms, expires_at_ms, ended_at_ms \
             FROM dashboard_sessions WHERE secret_hash = $1",
        )
        .bind(secret_hash)
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| DashboardSession {
            id: ApiKeyId::from_stored(r.id),
            home_org_id: OrgId::new(r.home_org_id),
            org_id: OrgId::new(r.org_id),
            created_at: Timestamp::from_millis(r.created_at_ms),
            expires_at: Timestamp::from_millis(r.expires_at_ms),
            ended_at: r.ended_at_ms.map(Timestamp::from_millis),
        }))
    }

    async fn move_dashboard_session(
        &mut self,
        home: &OrgId,
        id: &ApiKeyId,
        org: &OrgId,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE dashboard_sessions SET org_id = $3 \
             WHERE home_org_id = $1 AND id = $2 AND ended_at_ms IS NULL",
        )
        .bind(home.as_str())
        .bind(id.as_str())
        .bind(org.as_str())
        .execute_one(&mut self.conn)
        .await
    }

    async fn end_dashboard_session(
        &mut self,
        home: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE dashboard_sessions SET ended_at_ms = $3 \
             WHERE home_org_id = $1 AND id = $2 AND ended_at_ms IS NULL",
        )
        .bind(home.as_str())
        .bind(id.as_str())
        .bind(now.as_millis())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }
}
