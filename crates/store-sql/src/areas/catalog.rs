//! The catalog area, for both engines.

use crate::SqlDb;
use crate::query::{keyset_page_by_rank, keyset_page_oldest_first, placeholders, query};
use crate::rows::{FeatureRow, PlanFeatureRow, PlanRow, PriceRow, json_text};
use async_trait::async_trait;
use tally_domain::catalog::{
    Feature, FeatureId, Plan, PlanFeature, PlanGroupId, PlanId, PlanPrice, PriceId,
};
use tally_domain::page::{Page, PageRequest};
use tally_domain::{OrgId, Timestamp};
use tally_store::{Catalog, Lock, PlanFeatureEntry, PlanVisibility, StoreError};

const FEATURE_COLUMNS: &str = "f.id, f.org_id, f.code, f.name, f.type, f.description, f.unit_name, f.created_at_ms, f.updated_at_ms";
/// A plan's feature entry with the feature it attaches (`plan_features pf JOIN features f`).
const PLAN_FEATURE_COLUMNS: &str = "pf.plan_id, pf.enabled, pf.included_amount, pf.unlimited, \
     pf.overage_enabled, pf.overage_unit_price, pf.credits_per_unit, pf.pricing_mode, pf.margin, \
     pf.created_at_ms AS pf_created_at_ms, f.id, f.org_id, f.code, f.name, f.type, \
     f.description, f.unit_name, f.created_at_ms, f.updated_at_ms";
pub(crate) const PLAN_COLUMNS: &str = "id, org_id, code, name, description, consumption_model, \
     is_public, is_free, block_on_exhaustion, metadata, plan_group_id, sort_order, created_at_ms, \
     updated_at_ms";
const PRICE_COLUMNS: &str = "id, plan_id, billing_interval, price_cents, is_default, trial_days, \
     included_balance, included_credits, metadata, created_at_ms, updated_at_ms";

fn features_of(rows: Vec<FeatureRow>) -> Result<Vec<Feature>, StoreError> {
    rows.into_iter().map(FeatureRow::into_domain).collect()
}

fn plans_of(rows: Vec<PlanRow>) -> Result<Vec<Plan>, StoreError> {
    rows.into_iter().map(PlanRow::into_domain).collect()
}

#[async_trait]
impl Catalog for SqlDb {
    async fn features(&mut self, org: &OrgId) -> Result<Vec<Feature>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<FeatureRow> = query(format!(
            "SELECT {FEATURE_COLUMNS} FROM features f WHERE f.org_id = $1 ORDER BY f.created_at_ms, f.id"
        ))
        .bind(org.as_str())
        .fetch_all(conn)
        .await?;
        features_of(rows)
    }

    async fn features_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<Feature>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<FeatureRow> = query(format!(
            "SELECT {FEATURE_COLUMNS} FROM features f WHERE f.org_id = $1 AND {}",
            keyset_page_oldest_first("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page_oldest_first(page)
        .fetch_all(conn)
        .await?;
        Ok(Page::from_overfetch(features_of(rows)?, page.limit))
    }

    async fn feature_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
        lock: Lock,
    ) -> Result<Option<Feature>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<FeatureRow> = query(format!(
            "SELECT {FEATURE_COLUMNS} FROM features f WHERE f.org_id = $1 AND f.code = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(code)
        .fetch_optional(conn)
        .await?;
        row.map(FeatureRow::into_domain).transpose()
    }

    async fn insert_feature(&mut self, feature: &Feature) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "INSERT INTO features (id, org_id, code, name, type, description, unit_name, \
                 created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(feature.id.as_str())
        .bind(feature.org_id.as_str())
        .bind(&feature.code)
        .bind(&feature.name)
        .bind(feature.feature_type.as_str())
        .bind(&feature.description)
        .bind(&feature.unit_name)
        .bind(feature.created_at.as_millis())
        .bind(feature.updated_at.as_millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_feature(&mut self, feature: &Feature) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE features SET name = $1, description = $2, unit_name = $3, updated_at_ms = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(&feature.name)
        .bind(&feature.description)
        .bind(&feature.unit_name)
        .bind(feature.updated_at.as_millis())
        .bind(feature.org_id.as_str())
        .bind(feature.id.as_str())
        .execute_one(conn)
        .await?;
        Ok(())
    }

    async fn delete_feature(&mut self, org: &OrgId, id: &FeatureId) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Attachments to deleted plans go with the feature; live plans were checked by the caller.
        query("DELETE FROM plan_features WHERE org_id = $1 AND feature_id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(&mut *conn)
            .await?;
        query("DELETE FROM features WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn feature_is_attached(
        &mut self,
        org: &OrgId,
        id: &FeatureId,
    ) -> Result<bool, StoreError> {
        let conn = &mut self.conn;
        let (count,): (i64,) = query(
            "SELECT COUNT(*) FROM plan_features pf JOIN plans p ON p.id = pf.plan_id \
             WHERE pf.org_id = $1 AND pf.feature_id = $2 AND p.deleted_at_ms IS NULL",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_one(conn)
        .await?;
        Ok(count > 0)
    }

    async fn plans_page(
        &mut self,
        org: &OrgId,
        visibility: PlanVisibility,
        page: &PageRequest,
    ) -> Result<Page<Plan>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<PlanRow> = query(format!(
            "SELECT {PLAN_COLUMNS} FROM plans \
             WHERE org_id = $1 AND deleted_at_ms IS NULL AND (is_public OR $2) AND {}",
            keyset_page_by_rank("sort_order", "plans", 3)
        ))
        .bind(org.as_str())
        .bind(visibility == PlanVisibility::IncludingPrivate)
        .bind_page_oldest_first(page)
        .fetch_all(conn)
        .await?;
        Ok(Page::from_overfetch(plans_of(rows)?, page.limit))
    }

    async fn prices_of_plans(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<PlanPrice>, StoreError> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        let prices = query(format!(
            "SELECT {PRICE_COLUMNS} FROM plan_prices \
             WHERE org_id = $1 AND plan_id IN ({}) AND archived_at_ms IS NULL \
             ORDER BY plan_id, created_at_ms, id",
            placeholders(2, plans.len())
        ))
        .bind(org.as_str())
        .bind_each(plans.iter().map(PlanId::as_str));
        let rows: Vec<PriceRow> = prices.fetch_all(&mut self.conn).await?;
        rows.into_iter().map(PriceRow::into_domain).collect()
    }

    async fn features_of_plans(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<PlanFeatureEntry>, StoreError> {
        if plans.is_empty() {
            return Ok(Vec::new());
        }
        let attached = query(format!(
            "SELECT {PLAN_FEATURE_COLUMNS} \
             FROM plan_features pf JOIN features f ON f.id = pf.feature_id \
             WHERE pf.org_id = $1 AND pf.plan_id IN ({}) \
             ORDER BY pf.plan_id, pf.created_at_ms, f.id",
            placeholders(2, plans.len())
        ))
        .bind(org.as_str())
        .bind_each(plans.iter().map(PlanId::as_str));
        let rows: Vec<PlanFeatureRow> = attached.fetch_all(&mut self.conn).await?;
        rows.into_iter().map(PlanFeatureRow::into_domain).collect()
    }

    async fn plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        lock: Lock,
    ) -> Result<Option<Plan>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<PlanRow> = query(format!(
            "SELECT {PLAN_COLUMNS} FROM plans \
             WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(PlanRow::into_domain).transpose()
    }

    async fn plan_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
        lock: Lock,
    ) -> Result<Option<Plan>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<PlanRow> = query(format!(
            "SELECT {PLAN_COLUMNS} FROM plans \
             WHERE org_id = $1 AND code = $2 AND deleted_at_ms IS NULL{lock}"
        ))
        .bind(org.as_str())
        .bind(code)
        .fetch_optional(conn)
        .await?;
        row.map(PlanRow::into_domain).transpose()
    }

    async fn plan_any(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<PlanRow> = query(format!(
            "SELECT {PLAN_COLUMNS} FROM plans WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(PlanRow::into_domain).transpose()
    }

    async fn insert_plan(&mut self, plan: &Plan) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(format!(
            "INSERT INTO plans ({PLAN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(plan.id.as_str())
        .bind(plan.org_id.as_str())
        .bind(&plan.code)
        .bind(&plan.name)
        .bind(&plan.description)
        .bind(plan.consumption_model.map(|m| m.as_str()))
        .bind(plan.is_public)
        .bind(plan.is_free)
        .bind(plan.block_on_exhaustion)
        .bind(json_text(plan.metadata.as_ref()))
        .bind(plan.group.as_ref().map(PlanGroupId::as_str))
        .bind(plan.sort_order)
        .bind(plan.created_at.as_millis())
        .bind(plan.updated_at.as_millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn update_plan(&mut self, plan: &Plan) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE plans SET name = $1, description = $2, is_public = $3, metadata = $4, \
                 updated_at_ms = $5, plan_group_id = $8, sort_order = $9 \
             WHERE org_id = $6 AND id = $7",
        )
        .bind(&plan.name)
        .bind(&plan.description)
        .bind(plan.is_public)
        .bind(json_text(plan.metadata.as_ref()))
        .bind(plan.updated_at.as_millis())
        .bind(plan.org_id.as_str())
        .bind(plan.id.as_str())
        .bind(plan.group.as_ref().map(PlanGroupId::as_str))
        .bind(plan.sort_order)
        .execute_one(conn)
        .await?;
        Ok(())
    }

    async fn delete_plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("UPDATE plans SET deleted_at_ms = $1 WHERE org_id = $2 AND id = $3")
            .bind(now.as_millis())
            .bind(org.as_str())
            .bind(id.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn plan_prices(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanPrice>, StoreError> {
        // One plan is a batch of one: the prices' SQL lives in `prices_of_plans` alone.
        self.prices_of_plans(org, std::slice::from_ref(plan)).await
    }

    async fn price(&mut self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<PriceRow> = query(format!(
            "SELECT {PRICE_COLUMNS} FROM plan_prices WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(PriceRow::into_domain).transpose()
    }

    async fn insert_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only onto a plan of `org`: the rows' ids alone do not say whose they are.
        query(format!(
            "INSERT INTO plan_prices (org_id, {PRICE_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM plans WHERE org_id = $1 AND id = $3)"
        ))
        .bind(org.as_str())
        .bind(price.id.as_str())
        .bind(price.plan_id.as_str())
        .bind(price.billing_interval.as_str())
        .bind(price.price.0)
        .bind(price.is_default)
        .bind(price.trial_days)
        .bind(price.included_balance.map(|r| r.0))
        .bind(price.included_credits)
        .bind(json_text(Some(&price.metadata)))
        .bind(price.created_at.as_millis())
        .bind(price.updated_at.as_millis())
        .execute_one(conn)
        .await
    }

    async fn update_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE plan_prices SET price_cents = $1, is_default = $2, trial_days = $3, \
                 included_balance = $4, included_credits = $5, metadata = $6, updated_at_ms = $7 \
             WHERE org_id = $8 AND id = $9",
        )
        .bind(price.price.0)
        .bind(price.is_default)
        .bind(price.trial_days)
        .bind(price.included_balance.map(|r| r.0))
        .bind(price.included_credits)
        .bind(json_text(Some(&price.metadata)))
        .bind(price.updated_at.as_millis())
        .bind(org.as_str())
        .bind(price.id.as_str())
        .execute_one(conn)
        .await?;
        Ok(())
    }

    async fn archive_price(
        &mut self,
        org: &OrgId,
        id: &PriceId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE plan_prices SET archived_at_ms = $1, is_default = $2 \
             WHERE org_id = $3 AND id = $4",
        )
        .bind(now.as_millis())
        .bind(false)
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn plan_features(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError> {
        self.features_of_plans(org, std::slice::from_ref(plan))
            .await
    }

    async fn insert_plan_feature(
        &mut self,
        org: &OrgId,
        pf: &PlanFeature,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only a feature of `org` onto a plan of `org`.
        query(
            "INSERT INTO plan_features (plan_id, feature_id, org_id, enabled, included_amount, \
                 unlimited, overage_enabled, overage_unit_price, credits_per_unit, pricing_mode, \
                 margin, created_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM plans WHERE org_id = $3 AND id = $1) \
               AND EXISTS (SELECT 1 FROM features WHERE org_id = $3 AND id = $2)",
        )
        .bind(pf.plan_id.as_str())
        .bind(pf.feature_id.as_str())
        .bind(org.as_str())
        .bind(pf.enabled)
        .bind(pf.included_amount)
        .bind(pf.unlimited)
        .bind(pf.overage.enabled)
        .bind(pf.overage.unit_price.map(|r| r.0))
        .bind(pf.credits_per_unit)
        .bind(&pf.pricing_mode)
        .bind(pf.margin)
        .bind(pf.created_at.as_millis())
        .execute_one(conn)
        .await
    }

    async fn update_plan_feature(
        &mut self,
        org: &OrgId,
        pf: &PlanFeature,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE plan_features SET enabled = $1, included_amount = $2, unlimited = $3, \
                 overage_enabled = $4, overage_unit_price = $5, credits_per_unit = $6, \
                 pricing_mode = $7, margin = $8 \
             WHERE org_id = $9 AND plan_id = $10 AND feature_id = $11",
        )
        .bind(pf.enabled)
        .bind(pf.included_amount)
        .bind(pf.unlimited)
        .bind(pf.overage.enabled)
        .bind(pf.overage.unit_price.map(|r| r.0))
        .bind(pf.credits_per_unit)
        .bind(&pf.pricing_mode)
        .bind(pf.margin)
        .bind(org.as_str())
        .bind(pf.plan_id.as_str())
        .bind(pf.feature_id.as_str())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn delete_plan_feature(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        feature: &FeatureId,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query("DELETE FROM plan_features WHERE org_id = $1 AND plan_id = $2 AND feature_id = $3")
            .bind(org.as_str())
            .bind(plan.as_str())
            .bind(feature.as_str())
            .execute(conn)
            .await?;
        Ok(())
    }
}
