//! The add-ons area, for both engines.

use crate::SqlDb;
use crate::decode::{DecodeRow, RowRef, sql_row};
use crate::query::{keyset_page, query};
use crate::rows::{FeatureRow, text_error};
use async_trait::async_trait;
use tally_domain::addons::{Activation, Addon, AddonEntry, AddonModel, AddonTerms};
use tally_domain::catalog::FeatureId;
use tally_domain::ids::AddonId;
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{OrgId, Timestamp};
use tally_store::{Addons, Lock, StoreError};

const ADDON_COLUMNS: &str = "a.id AS addon_id, a.org_id AS addon_org_id, a.name AS addon_name, \
     a.slug, a.description AS addon_description, a.base_price, a.feature_id, a.model, \
     a.included_units, a.overage_rate, a.credit_cost, a.created_at_ms AS addon_created_at_ms, \
     a.updated_at_ms AS addon_updated_at_ms";
const FEATURE_COLUMNS: &str = "f.id, f.org_id, f.code, f.name, f.type, f.description, \
     f.unit_name, f.created_at_ms, f.updated_at_ms";

sql_row! {
    struct AddonRow {
        addon_id: String,
        addon_org_id: String,
        addon_name: String,
        slug: String,
        addon_description: Option<String>,
        base_price: i64,
        feature_id: String,
        model: String,
        included_units: Option<i64>,
        overage_rate: Option<i64>,
        credit_cost: Option<i64>,
        addon_created_at_ms: i64,
        addon_updated_at_ms: i64,
    }
}

impl AddonRow {
    fn into_domain(self) -> Result<Addon, StoreError> {
        Ok(Addon {
            terms: AddonTerms {
                model: AddonModel::parse(&self.model)
                    .ok_or_else(|| text_error("add-on model", &self.model))?,
                included_units: self.included_units,
                overage_rate: self.overage_rate.map(Rate),
                credit_cost: self.credit_cost,
            },
            id: AddonId::from_stored(self.addon_id),
            org_id: OrgId::new(self.addon_org_id),
            name: self.addon_name,
            slug: self.slug,
            description: self.addon_description,
            base_price: Cents(self.base_price),
            feature_id: FeatureId::from_stored(self.feature_id),
            created_at: Timestamp::from_millis(self.addon_created_at_ms),
            updated_at: Timestamp::from_millis(self.addon_updated_at_ms),
        })
    }
}

/// An add-on and its feature, from one joined row.
struct EntryRow {
    addon: AddonRow,
    feature: FeatureRow,
}

impl DecodeRow for EntryRow {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(Self {
            addon: AddonRow::decode(row)?,
            feature: FeatureRow::decode(row)?,
        })
    }
}

struct ActivationRow {
    subscription_id: String,
    activated_at_ms: i64,
    deactivated_at_ms: Option<i64>,
    entry: EntryRow,
}

impl DecodeRow for ActivationRow {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(Self {
            subscription_id: row.get("subscription_id")?,
            activated_at_ms: row.get("activated_at_ms")?,
            deactivated_at_ms: row.get("deactivated_at_ms")?,
            entry: EntryRow::decode(row)?,
        })
    }
}

impl EntryRow {
    fn into_domain(self) -> Result<AddonEntry, StoreError> {
        Ok((self.addon.into_domain()?, self.feature.into_domain()?))
    }
}

#[async_trait]
impl Addons for SqlDb {
    async fn addons_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<AddonEntry>, StoreError> {
        let rows: Vec<EntryRow> = query(format!(
            "SELECT {ADDON_COLUMNS}, {FEATURE_COLUMNS} \
             FROM (SELECT * FROM addons WHERE org_id = $1 AND deleted_at_ms IS NULL AND {}) a \
             JOIN features f ON f.id = a.feature_id \
             ORDER BY a.created_at_ms DESC, a.id DESC",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let entries = rows
            .into_iter()
            .map(EntryRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(entries, page.limit))
    }

    async fn addon(
        &mut self,
        org: &OrgId,
        id_or_slug: &str,
        lock: Lock,
    ) -> Result<Option<AddonEntry>, StoreError> {
        let conn = &mut self.conn;
        let lock = match conn.lock(lock) {
            "" => "",
            _ => " FOR UPDATE OF a",
        };
        let column = if AddonId::parse(id_or_slug).is_some() {
            "a.id"
        } else {
            "a.slug"
        };
        let row: Option<EntryRow> = query(format!(
            "SELECT {ADDON_COLUMNS}, {FEATURE_COLUMNS} FROM addons a \
             JOIN features f ON f.id = a.feature_id \
             WHERE a.org_id = $1 AND {column} = $2 AND a.deleted_at_ms IS NULL{lock}"
        ))
        .bind(org.as_str())
        .bind(id_or_slug)
        .fetch_optional(conn)
        .await?;
        row.map(EntryRow::into_domain).transpose()
    }

    async fn addon_slugs(&mut self, org: &OrgId, base: &str) -> Result<Vec<String>, StoreError> {
        // Slugs are letters, digits and `-`, none of them a LIKE wildcard.
        let rows: Vec<(String,)> =
            query("SELECT slug FROM addons WHERE org_id = $1 AND (slug = $2 OR slug LIKE $3)")
                .bind(org.as_str())
                .bind(base)
                .bind(format!("{base}-%"))
                .fetch_all(&mut self.conn)
                .await?;
        Ok(rows.into_iter().map(|(slug,)| slug).collect())
    }

    async fn addon_of_feature(
        &mut self,
        org: &OrgId,
        feature: &FeatureId,
    ) -> Result<Option<Addon>, StoreError> {
        let row: Option<AddonRow> = query(format!(
            "SELECT {ADDON_COLUMNS} FROM addons a \
             WHERE a.org_id = $1 AND a.feature_id = $2 AND a.deleted_at_ms IS NULL"
        ))
        .bind(org.as_str())
        .bind(feature.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(AddonRow::into_domain).transpose()
    }

    async fn insert_addon(&mut self, a: &Addon) -> Result<(), StoreError> {
        // Only a feature of the same organization.
        query(
            "INSERT INTO addons (id, org_id, name, slug, description, base_price, feature_id, \
                 model, included_units, overage_rate, credit_cost, created_at_ms, updated_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 \
             WHERE EXISTS (SELECT 1 FROM features WHERE org_id = $2 AND id = $7)",
        )
        .bind(a.id.as_str())
        .bind(a.org_id.as_str())
        .bind(&a.name)
        .bind(&a.slug)
        .bind(&a.description)
        .bind(a.base_price.0)
        .bind(a.feature_id.as_str())
        .bind(a.terms.model.as_str())
        .bind(a.terms.included_units)
        .bind(a.terms.overage_rate.map(|r| r.0))
        .bind(a.terms.credit_cost)
        .bind(a.created_at)
        .bind(a.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_addon(&mut self, a: &Addon) -> Result<(), StoreError> {
        query(
            "UPDATE addons SET name = $3, description = $4, base_price = $5, included_units = $6, \
                 overage_rate = $7, updated_at_ms = $8 \
             WHERE org_id = $1 AND id = $2 AND deleted_at_ms IS NULL",
        )
        .bind(a.org_id.as_str())
        .bind(a.id.as_str())
        .bind(&a.name)
        .bind(&a.description)
        .bind(a.base_price.0)
        .bind(a.terms.included_units)
        .bind(a.terms.overage_rate.map(|r| r.0))
        .bind(a.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn delete_addon(
        &mut self,
        org: &OrgId,
        id: &AddonId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        query("UPDATE addons SET deleted_at_ms = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(now)
            .execute_one(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn addon_is_active_anywhere(
        &mut self,
        org: &OrgId,
        id: &AddonId,
    ) -> Result<bool, StoreError> {
        let (count,): (i64,) = query(
            "SELECT COUNT(*) FROM subscription_addons \
             WHERE org_id = $1 AND addon_id = $2 AND deactivated_at_ms IS NULL",
        )
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_one(&mut self.conn)
        .await?;
        Ok(count > 0)
    }

    async fn active_addons(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<(Activation, AddonEntry)>, StoreError> {
        let rows: Vec<ActivationRow> = query(format!(
            "SELECT s.subscription_id, s.activated_at_ms, s.deactivated_at_ms, {ADDON_COLUMNS}, \
                 {FEATURE_COLUMNS} \
             FROM subscription_addons s \
             JOIN addons a ON a.id = s.addon_id \
             JOIN features f ON f.id = a.feature_id \
             WHERE s.org_id = $1 AND s.subscription_id = $2 AND s.deactivated_at_ms IS NULL \
             ORDER BY s.activated_at_ms, a.id"
        ))
        .bind(org.as_str())
        .bind(subscription.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter()
            .map(|r| {
                let (addon, feature) = r.entry.into_domain()?;
                let activation = Activation {
                    subscription_id: SubscriptionId::from_stored(r.subscription_id),
                    addon_id: addon.id.clone(),
                    activated_at: Timestamp::from_millis(r.activated_at_ms),
                    deactivated_at: r.deactivated_at_ms.map(Timestamp::from_millis),
                };
                Ok((activation, (addon, feature)))
            })
            .collect()
    }

    async fn insert_activation(
        &mut self,
        org: &OrgId,
        activation: &Activation,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO subscription_addons (subscription_id, addon_id, org_id, \
                 activated_at_ms, deactivated_at_ms) \
             SELECT $1, $2, $3, $4, NULL \
             WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $3 AND id = $1) \
               AND EXISTS (SELECT 1 FROM addons WHERE org_id = $3 AND id = $2)",
        )
        .bind(activation.subscription_id.as_str())
        .bind(activation.addon_id.as_str())
        .bind(org.as_str())
        .bind(activation.activated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn end_activation(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        addon: &AddonId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE subscription_addons SET deactivated_at_ms = $4 \
             WHERE org_id = $1 AND subscription_id = $2 AND addon_id = $3 \
               AND deactivated_at_ms IS NULL",
        )
        .bind(org.as_str())
        .bind(subscription.as_str())
        .bind(addon.as_str())
        .bind(at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }
}
