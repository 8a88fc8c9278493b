//! The credit packs area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use async_trait::async_trait;
use tally_domain::credit_packs::CreditPack;
use tally_domain::ids::CreditPackId;
use tally_domain::money::Cents;
use tally_domain::{OrgId, Timestamp};
use tally_store::{CreditPacks, Lock, StoreError};

const PACK_COLUMNS: &str =
    "id, org_id, name, description, credits, price, is_active, created_at_ms, updated_at_ms";

sql_row! {
    struct PackRow {
        id: String,
        org_id: String,
        name: String,
        description: Option<String>,
        credits: i64,
        price: i64,
        is_active: bool,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PackRow {
    fn into_domain(self) -> CreditPack {
        CreditPack {
            id: CreditPackId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            name: self.name,
            description: self.description,
            credits: self.credits,
            price: Cents(self.price),
            is_active: self.is_active,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        }
    }
}

#[async_trait]
impl CreditPacks for SqlDb {
    async fn credit_packs(&mut self, org: &OrgId) -> Result<Vec<CreditPack>, StoreError> {
        let rows: Vec<PackRow> = query(format!(
            "SELECT {PACK_COLUMNS} FROM credit_packs \
             WHERE org_id = $1 AND deleted_at_ms IS NULL ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows.into_iter().map(PackRow::into_domain).collect())
    }

    async fn credit_pack(
        &mut self,
        org: &OrgId,
        id: &CreditPackId,
        lock: Lock,
    ) -> Result<Option<CreditPack>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<PackRow> = query(format!(
            "SELECT {PACK_COLUMNS} FROM credit_packs \
             WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        Ok(row.map(PackRow::into_domain))
    }

    async fn insert_credit_pack(&mut self, p: &CreditPack) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO credit_packs ({PACK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(p.id.as_str())
        .bind(p.org_id.as_str())
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.credits)
        .bind(p.price.0)
        .bind(p.is_active)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_credit_pack(&mut self, p: &CreditPack) -> Result<(), StoreError> {
        query(
            "UPDATE credit_packs SET name = $3, description = $4, credits = $5, price = $6, \
                 is_active = $7, updated_at_ms = $8 \
             WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL",
        )
        .bind(p.org_id.as_str())
        .bind(p.id.as_str())
        .bind(&p.name)
        .bind(&p.description)
        .bind(p.credits)
        .bind(p.price.0)
        .bind(p.is_active)
        .bind(p.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn delete_credit_pack(
        &mut self,
        org: &OrgId,
        id: &CreditPackId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        query("UPDATE credit_packs SET deleted_at_ms = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(now)
            .execute_one(&mut self.conn)
            .await?;
        Ok(())
    }
}
