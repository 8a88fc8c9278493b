//! The organizations area, for both engines.

use crate::SqlDb;
use crate::query::{keyset_page, query};
use crate::rows::{ApiKeyRow, KeyLookupRow, OrganizationRow};
use async_trait::async_trait;
use tally_domain::api_key::ApiKey;
use tally_domain::page::{Page, PageRequest};
use tally_domain::{ApiKeyId, Mode, OrgId, Organization, Timestamp};
use tally_store::{KeyLookup, KeyStanding, Lock, Organizations, StoreError};

const ORGANIZATION_COLUMNS: &str =
    "id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms";
const API_KEY_COLUMNS: &str =
    "id, org_id, name, prefix, expires_at_ms, last_used_at_ms, created_at_ms";

#[async_trait]
impl Organizations for SqlDb {
    async fn organization_count(&mut self) -> Result<u64, StoreError> {
        let conn = &mut self.conn;
        let (count,): (i64,) = query("SELECT COUNT(*) FROM organizations")
            .fetch_one(conn)
            .await?;
        Ok(count.unsigned_abs())
    }

    async fn organization(
        &mut self,
        org: &OrgId,
        lock: Lock,
    ) -> Result<Option<Organization>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<OrganizationRow> = query(format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations WHERE id = $1{lock}"
        ))
        .bind(org.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(OrganizationRow::into_domain).transpose()
    }

    async fn oldest_organization(
        &mut self,
        mode: Mode,
    ) -> Result<Option<Organization>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<OrganizationRow> = query(format!(
            "SELECT {ORGANIZATION_COLUMNS} FROM organizations \
             WHERE mode = $1 ORDER BY created_at_ms, id LIMIT 1"
        ))
        .bind(mode.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(OrganizationRow::into_domain).transpose()
    }

    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO organizations \
                 (id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(org.id.as_str())
        .bind(&org.name)
        .bind(org.mode.as_str())
        .bind(org.paired_org_id.as_ref().map(OrgId::as_str))
        .bind(org.api_version.as_str())
        .bind(org.test_clock.map(Timestamp::as_millis))
        .bind(org.created_at.as_millis())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn key_by_secret_hash(
        &mut self,
        secret_hash: &str,
    ) -> Result<Option<KeyLookup>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<KeyLookupRow> = query(
            "SELECT k.id, k.org_id, k.name, k.prefix, k.expires_at_ms, k.last_used_at_ms, \
                    k.created_at_ms, o.name AS org_name, o.mode, o.paired_org_id, o.api_version, \
                    o.test_clock_ms, o.created_at_ms AS org_created_at_ms \
             FROM api_keys k JOIN organizations o ON o.id = k.org_id \
             WHERE k.secret_hash = $1 AND k.revoked_at_ms IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(conn)
        .await?;
        row.map(KeyLookupRow::into_lookup).transpose()
    }

    async fn key_standing(
        &mut self,
        org: &OrgId,
        key: &ApiKeyId,
    ) -> Result<Option<KeyStanding>, StoreError> {
        if let Some((_, _, standing)) = self
            .prefetched_standing
            .take_if(|(for_org, for_key, _)| for_org == org && for_key == key)
        {
            return Ok(standing);
        }
        key_standing_query(org, key)
            .fetch_optional(&mut self.conn)
            .await
            .map(|row| row.map(standing_of))
    }

    async fn touch_api_key(
        &mut self,
        org: &OrgId,
        key: &ApiKeyId,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE api_keys SET last_used_at_ms = $1 \
             WHERE org_id = $2 AND id = $3 AND (last_used_at_ms IS NULL OR last_used_at_ms <= $4)",
        )
        .bind(now.as_millis())
        .bind(org.as_str())
        .bind(key.as_str())
        .bind(unless_after.as_millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn api_keys(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<ApiKey>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<ApiKeyRow> = query(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE org_id = $1 AND revoked_at_ms IS NULL AND {}",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        let keys = rows.into_iter().map(ApiKeyRow::into_domain).collect();
        Ok(Page::from_overfetch(keys, page.limit))
    }

    async fn api_key(&mut self, org: &OrgId, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<ApiKeyRow> = query(format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE org_id = $1 AND id = $2 AND revoked_at_ms IS NULL"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        Ok(row.map(ApiKeyRow::into_domain))
    }

    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, expires_at_ms, \
                 last_used_at_ms, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id.as_str())
        .bind(key.org_id.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(secret_hash)
        .bind(key.expires_at.map(Timestamp::as_millis))
        .bind(key.last_used_at.map(Timestamp::as_millis))
        .bind(key.created_at.as_millis())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn revoke_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let conn = &mut self.conn;
        let done = query(
            "UPDATE api_keys SET revoked_at_ms = $1 \
             WHERE org_id = $2 AND id = $3 AND revoked_at_ms IS NULL",
        )
        .bind(now.as_millis())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await?;
        Ok(done == 1)
    }
}

/// The standing of a key: one indexed read, also sent together with `BEGIN` by PostgreSQL's
/// write path (`Store::submit_for`).
pub(crate) fn key_standing_query(org: &OrgId, key: &ApiKeyId) -> crate::query::Query {
    // A dashboard session stands where an API key would (`tally_domain::dashboard`): open,
    // and looking at `org` now, so a session switched to the other side of the pair no
    // longer reads or writes this one.
    if tally_domain::dashboard::is_session_id(key) {
        return query(
            "SELECT o.test_clock_ms FROM dashboard_sessions s JOIN organizations o ON o.id = s.org_id \
             WHERE s.org_id = $1 AND s.id = $2 AND s.ended_at_ms IS NULL",
        )
        .bind(org.as_str())
        .bind(key.as_str());
    }
    query(
        "SELECT o.test_clock_ms FROM api_keys k JOIN organizations o ON o.id = k.org_id \
         WHERE k.org_id = $1 AND k.id = $2 AND k.revoked_at_ms IS NULL",
    )
    .bind(org.as_str())
    .bind(key.as_str())
}

pub(crate) fn standing_of((test_clock_ms,): (Option<i64>,)) -> KeyStanding {
    KeyStanding {
        test_clock: test_clock_ms.map(Timestamp::from_millis),
    }
}
