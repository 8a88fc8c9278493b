//! The plan groups area, for both engines.

use crate::SqlDb;
use crate::areas::catalog::PLAN_COLUMNS;
use crate::query::{keyset_page, query};
use crate::rows::{PlanGroupRow, PlanRow};
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::catalog::{Plan, PlanGroupId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::plan_groups::PlanGroup;
use tally_store::{Lock, PlanGroups, StoreError};

const GROUP_COLUMNS: &str =
    "id, org_id, name, description, is_public, created_at_ms, updated_at_ms";

#[async_trait]
impl PlanGroups for SqlDb {
    async fn plan_groups_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<PlanGroup>, StoreError> {
        let rows: Vec<PlanGroupRow> = query(format!(
            "SELECT {GROUP_COLUMNS} FROM plan_groups WHERE org_id = $1 AND {}",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let groups = rows.into_iter().map(PlanGroupRow::into_domain).collect();
        Ok(Page::from_overfetch(groups, page.limit))
    }

    async fn plan_group(
        &mut self,
        org: &OrgId,
        id: &PlanGroupId,
        lock: Lock,
    ) -> Result<Option<PlanGroup>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<PlanGroupRow> = query(format!(
            "SELECT {GROUP_COLUMNS} FROM plan_groups WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        Ok(row.map(PlanGroupRow::into_domain))
    }

    async fn insert_plan_group(&mut self, group: &PlanGroup) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO plan_groups ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(group.id.as_str())
        .bind(group.org_id.as_str())
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.is_public)
        .bind(group.created_at)
        .bind(group.updated_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_plan_group(&mut self, group: &PlanGroup) -> Result<(), StoreError> {
        query(
            "UPDATE plan_groups SET name = $1, description = $2, is_public = $3, \
                 updated_at_ms = $4 WHERE org_id = $5 AND id = $6",
        )
        .bind(&group.name)
        .bind(&group.description)
        .bind(group.is_public)
        .bind(group.updated_at)
        .bind(group.org_id.as_str())
        .bind(group.id.as_str())
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn delete_plan_group(&mut self, org: &OrgId, id: &PlanGroupId) -> Result<(), StoreError> {
        query(
            "UPDATE plans SET plan_group_id = NULL, sort_order = 0 \
             WHERE org_id = $1 AND plan_group_id = $2",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut self.conn)
        .await?;
        query("DELETE FROM plan_groups WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute_one(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn plan_group_members(
        &mut self,
        org: &OrgId,
        id: &PlanGroupId,
    ) -> Result<Vec<Plan>, StoreError> {
        let rows: Vec<PlanRow> = query(format!(
            "SELECT {PLAN_COLUMNS} FROM plans \
             WHERE org_id = $1 AND plan_group_id = $2 AND deleted_at_ms IS NULL \
             ORDER BY sort_order, created_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter().map(PlanRow::into_domain).collect()
    }
}
