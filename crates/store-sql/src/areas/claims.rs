//! The organization claims area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use async_trait::async_trait;
use tally_domain::claims::OrgClaim;
use tally_domain::{OrgId, Timestamp};
use tally_store::{Claims, StoreError};

sql_row! {
    struct ClaimRow {
        version: i64,
        owner_email: Option<String>,
        owner_name: Option<String>,
        claimed_at_ms: Option<i64>,
    }
}

#[async_trait]
impl Claims for SqlDb {
    async fn insert_org_claim(&mut self, claim: &OrgClaim) -> Result<(), StoreError> {
        query(
            "INSERT INTO org_claims (org_id, version, owner_email, owner_name, claimed_at_ms) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(claim.org_id.as_str())
        .bind(claim.version)
        .bind(&claim.owner_email)
        .bind(&claim.owner_name)
        .bind(claim.claimed_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn org_claim(&mut self, org: &OrgId) -> Result<Option<OrgClaim>, StoreError> {
        let row: Option<ClaimRow> = query(
            "SELECT version, owner_email, owner_name, claimed_at_ms FROM org_claims \
             WHERE org_id = $1",
        )
        .bind(org.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| OrgClaim {
            org_id: org.clone(),
            version: r.version,
            owner_email: r.owner_email,
            owner_name: r.owner_name,
            claimed_at: r.claimed_at_ms.map(Timestamp::from_millis),
        }))
    }

    async fn update_org_claim(&mut self, claim: &OrgClaim) -> Result<(), StoreError> {
        query(
            "UPDATE org_claims SET version = $2, owner_email = $3, owner_name = $4, \
                 claimed_at_ms = $5 WHERE org_id = $1",
        )
        .bind(claim.org_id.as_str())
        .bind(claim.version)
        .bind(&claim.owner_email)
        .bind(&claim.owner_name)
        .bind(claim.claimed_at)
        .execute_one(&mut self.conn)
        .await
    }
}
