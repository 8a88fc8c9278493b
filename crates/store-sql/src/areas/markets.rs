//! The markets area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::{keyset_page, placeholders, query};
use async_trait::async_trait;
use serde_json::Value;
use tally_domain::catalog::PlanId;
use tally_domain::markets::{
    ExchangeRate, Market, MarketPrice, PlanRegional, RegionalOverage, RegionalPrice,
};
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::{OrgId, Timestamp};
use tally_store::{Markets, StoreError, SubscriptionPricing};

const MARKET_COLUMNS: &str =
    "id, org_id, name, country_codes, metadata, created_at_ms, updated_at_ms";

sql_row! {
    struct MarketRow {
        id: String,
        org_id: String,
        name: String,
        country_codes: String,
        metadata: String,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl MarketRow {
    fn into_domain(self) -> Result<Market, StoreError> {
        let bad = |what: &str, text: &str| {
            StoreError::other(format!("stored {what} do not read back: {text}"))
        };
        let country_codes: Vec<String> = serde_json::from_str(&self.country_codes)
            .map_err(|_| bad("countries", &self.country_codes))?;
        let Ok(Value::Object(metadata)) = serde_json::from_str(&self.metadata) else {
            return Err(bad("metadata", &self.metadata));
        };
        Ok(Market {
            id: self.id,
            org_id: OrgId::new(self.org_id),
            name: self.name,
            country_codes,
            metadata,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

sql_row! {
    struct RateRow {
        plan_id: String,
        currency: String,
        rate: i64,
    }
}

sql_row! {
    struct MarketPriceRow {
        plan_id: String,
        price_id: String,
        market_id: String,
        currency: String,
        price: i64,
    }
}

sql_row! {
    struct OverrideRow {
        plan_id: String,
        price_id: String,
        currency: String,
        price: i64,
        included_balance: Option<i64>,
    }
}

sql_row! {
    struct FeatureOverrideRow {
        plan_id: String,
        feature_id: String,
        currency: String,
        overage_unit_price: Option<i64>,
    }
}

sql_row! {
    struct PricingRow {
        currency: String,
        market_id: Option<String>,
    }
}

/// The entry of `plan` in `out`.
fn regional_of<'a>(
    out: &'a mut [(PlanId, PlanRegional)],
    plan: &str,
) -> Option<&'a mut PlanRegional> {
    out.iter_mut()
        .find(|(id, _)| id.as_str() == plan)
        .map(|(_, regional)| regional)
}

impl SqlDb {
    async fn insert_countries(&mut self, market: &Market) -> Result<(), StoreError> {
        for country in &market.country_codes {
            query("INSERT INTO market_countries (org_id, country, market_id) VALUES ($1, $2, $3)")
                .bind(market.org_id.as_str())
                .bind(country)
                .bind(&market.id)
                .execute(&mut self.conn)
                .await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Markets for SqlDb {
    async fn insert_market(&mut self, m: &Market) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO markets ({MARKET_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        ))
        .bind(&m.id)
        .bind(m.org_id.as_str())
        .bind(&m.name)
        .bind(Value::from(m.country_codes.clone()).to_string())
        .bind(Value::Object(m.metadata.clone()).to_string())
        .bind(m.created_at.as_millis())
        .bind(m.updated_at.as_millis())
        .execute(&mut self.conn)
        .await?;
        self.insert_countries(m).await
    }

    async fn update_market(&mut self, m: &Market) -> Result<(), StoreError> {
        query(
            "UPDATE markets SET name = $1, country_codes = $2, metadata = $3, updated_at_ms = $4 \
             WHERE org_id = $5 AND id = $6",
        )
        .bind(&m.name)
        .bind(Value::from(m.country_codes.clone()).to_string())
        .bind(Value::Object(m.metadata.clone()).to_string())
        .bind(m.updated_at.as_millis())
        .bind(m.org_id.as_str())
        .bind(&m.id)
        .execute_one(&mut self.conn)
        .await?;
        query("DELETE FROM market_countries WHERE org_id = $1 AND market_id = $2")
            .bind(m.org_id.as_str())
            .bind(&m.id)
            .execute(&mut self.conn)
            .await?;
        self.insert_countries(m).await
    }

    async fn delete_market(&mut self, org: &OrgId, id: &str) -> Result<(), StoreError> {
        query("DELETE FROM market_countries WHERE org_id = $1 AND market_id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute(&mut self.conn)
            .await?;
        query("DELETE FROM markets WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id)
            .execute_one(&mut self.conn)
            .await
    }

    async fn market(&mut self, org: &OrgId, id: &str) -> Result<Option<Market>, StoreError> {
        let row: Option<MarketRow> = query(format!(
            "SELECT {MARKET_COLUMNS} FROM markets WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(MarketRow::into_domain).transpose()
    }

    async fn markets(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<Market>, StoreError> {
        let rows: Vec<MarketRow> = query(format!(
            "SELECT {MARKET_COLUMNS} FROM markets WHERE org_id = $1 AND {}",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let markets = rows
            .into_iter()
            .map(MarketRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(markets, page.limit))
    }

    async fn market_of_country(
        &mut self,
        org: &OrgId,
        country: &str,
    ) -> Result<Option<Market>, StoreError> {
        let row: Option<MarketRow> = query(format!(
            "SELECT {} FROM markets m JOIN market_countries c ON c.market_id = m.id \
             WHERE c.org_id = $1 AND c.country = $2",
            MARKET_COLUMNS
                .split(", ")
                .map(|c| format!("m.{c}"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .bind(org.as_str())
        .bind(country)
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(MarketRow::into_domain).transpose()
    }

    async fn market_in_use(&mut self, org: &OrgId, id: &str) -> Result<bool, StoreError> {
        let (count,): (i64,) = query(
            "SELECT (SELECT COUNT(*) FROM price_market_prices WHERE org_id = $1 AND market_id = $2) \
             + (SELECT COUNT(*) FROM subscription_pricing p JOIN subscriptions s ON s.id = p.subscription_id \
                WHERE p.org_id = $1 AND p.market_id = $2 AND s.status <> 'canceled')",
        )
        .bind(org.as_str())
        .bind(id)
        .fetch_one(&mut self.conn)
        .await?;
        Ok(count > 0)
    }

    async fn replace_market_prices(
        &mut self,
        org: &OrgId,
        price_id: &str,
        entries: &[MarketPrice],
    ) -> Result<(), StoreError> {
        query("DELETE FROM price_market_prices WHERE org_id = $1 AND price_id = $2")
            .bind(org.as_str())
            .bind(price_id)
            .execute(&mut self.conn)
            .await?;
        for entry in entries {
            query(
                "INSERT INTO price_market_prices (org_id, price_id, market_id, currency, price) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(org.as_str())
            .bind(price_id)
            .bind(&entry.market_id)
            .bind(&entry.currency)
            .bind(entry.price.0)
            .execute(&mut self.conn)
            .await?;
        }
        Ok(())
    }

    async fn set_exchange_rate(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        currency: &str,
        rate: ExchangeRate,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO plan_exchange_rates (org_id, plan_id, currency, rate) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (plan_id, currency) DO UPDATE SET rate = excluded.rate",
        )
        .bind(org.as_str())
        .bind(plan.as_str())
        .bind(currency)
        .bind(rate.rate)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn upsert_price_override(
        &mut self,
        org: &OrgId,
        price_id: &str,
        entry: &RegionalPrice,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO price_regional_prices (org_id, price_id, currency, price, included_balance) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (price_id, currency) DO UPDATE \
             SET price = excluded.price, included_balance = excluded.included_balance",
        )
        .bind(org.as_str())
        .bind(price_id)
        .bind(&entry.currency)
        .bind(entry.price.0)
        .bind(entry.included_balance.map(|b| b.0))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn delete_price_overrides(
        &mut self,
        org: &OrgId,
        price_id: &str,
    ) -> Result<(), StoreError> {
        query("DELETE FROM price_regional_prices WHERE org_id = $1 AND price_id = $2")
            .bind(org.as_str())
            .bind(price_id)
            .execute(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn upsert_feature_override(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        feature_id: &str,
        entry: &RegionalOverage,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO feature_regional_prices (org_id, plan_id, feature_id, currency, overage_unit_price) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (plan_id, feature_id, currency) DO UPDATE \
             SET overage_unit_price = excluded.overage_unit_price",
        )
        .bind(org.as_str())
        .bind(plan.as_str())
        .bind(feature_id)
        .bind(&entry.currency)
        .bind(entry.overage_unit_price.map(|r| r.0))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn plan_regional(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<(PlanId, PlanRegional)>, StoreError> {
        let mut out: Vec<(PlanId, PlanRegional)> = plans
            .iter()
            .map(|p| (p.clone(), PlanRegional::default()))
            .collect();
        if plans.is_empty() {
            return Ok(out);
        }
        let ids = placeholders(2, plans.len());
        let plan_ids = || plans.iter().map(PlanId::as_str);
        let rates: Vec<RateRow> = query(format!(
            "SELECT plan_id, currency, rate FROM plan_exchange_rates \
             WHERE org_id = $1 AND plan_id IN ({ids}) ORDER BY plan_id, currency"
        ))
        .bind(org.as_str())
        .bind_each(plan_ids())
        .fetch_all(&mut self.conn)
        .await?;
        let market_prices: Vec<MarketPriceRow> = query(format!(
            "SELECT p.plan_id, m.price_id, m.market_id, m.currency, m.price \
             FROM price_market_prices m JOIN plan_prices p ON p.id = m.price_id \
             WHERE m.org_id = $1 AND p.plan_id IN ({ids}) ORDER BY m.price_id, m.market_id"
        ))
        .bind(org.as_str())
        .bind_each(plan_ids())
        .fetch_all(&mut self.conn)
        .await?;
        let overrides: Vec<OverrideRow> = query(format!(
            "SELECT p.plan_id, r.price_id, r.currency, r.price, r.included_balance \
             FROM price_regional_prices r JOIN plan_prices p ON p.id = r.price_id \
             WHERE r.org_id = $1 AND p.plan_id IN ({ids}) ORDER BY r.price_id, r.currency"
        ))
        .bind(org.as_str())
        .bind_each(plan_ids())
        .fetch_all(&mut self.conn)
        .await?;
        let features: Vec<FeatureOverrideRow> = query(format!(
            "SELECT plan_id, feature_id, currency, overage_unit_price FROM feature_regional_prices \
             WHERE org_id = $1 AND plan_id IN ({ids}) ORDER BY feature_id, currency"
        ))
        .bind(org.as_str())
        .bind_each(plan_ids())
        .fetch_all(&mut self.conn)
        .await?;
        for row in rates {
            if let Some(regional) = regional_of(&mut out, &row.plan_id) {
                regional
                    .rates
                    .push((row.currency, ExchangeRate { rate: row.rate }));
            }
        }
        for row in market_prices {
            if let Some(regional) = regional_of(&mut out, &row.plan_id) {
                regional.market_prices.push((
                    row.price_id,
                    MarketPrice {
                        market_id: row.market_id,
                        currency: row.currency,
                        price: Cents(row.price),
                    },
                ));
            }
        }
        for row in overrides {
            if let Some(regional) = regional_of(&mut out, &row.plan_id) {
                regional.price_overrides.push((
                    row.price_id,
                    RegionalPrice {
                        currency: row.currency,
                        price: Cents(row.price),
                        included_balance: row.included_balance.map(Rate),
                        auto_synced: false,
                    },
                ));
            }
        }
        for row in features {
            if let Some(regional) = regional_of(&mut out, &row.plan_id) {
                regional.feature_overrides.push((
                    row.feature_id,
                    RegionalOverage {
                        currency: row.currency,
                        overage_unit_price: row.overage_unit_price.map(Rate),
                        auto_synced: false,
                    },
                ));
            }
        }
        Ok(out)
    }

    async fn insert_subscription_pricing(
        &mut self,
        org: &OrgId,
        subscription: &str,
        pricing: &SubscriptionPricing,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO subscription_pricing (subscription_id, org_id, currency, market_id, source) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(subscription)
        .bind(org.as_str())
        .bind(&pricing.currency)
        .bind(&pricing.market_id)
        .bind(if pricing.market_id.is_some() { "market" } else { "regional" })
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn subscription_pricing(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Option<SubscriptionPricing>, StoreError> {
        let row: Option<PricingRow> = query(
            "SELECT currency, market_id FROM subscription_pricing WHERE org_id = $1 AND subscription_id = $2",
        )
        .bind(org.as_str())
        .bind(subscription)
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| SubscriptionPricing {
            currency: r.currency,
            market_id: r.market_id,
        }))
    }

    async fn subscriptions_priced_by(
        &mut self,
        org: &OrgId,
        price_id: &str,
        market: Option<&str>,
        currency: Option<&str>,
    ) -> Result<u64, StoreError> {
        let (count,): (i64,) = query(
            "SELECT COUNT(*) FROM subscription_pricing p JOIN subscriptions s ON s.id = p.subscription_id \
             WHERE p.org_id = $1 AND s.price_id = $2 AND s.status <> 'canceled' \
             AND (CAST($3 AS TEXT) IS NULL OR p.market_id = $3) \
             AND (CAST($4 AS TEXT) IS NULL OR (p.source = 'regional' AND p.currency = $4)) \
             AND (CAST($3 AS TEXT) IS NOT NULL OR CAST($4 AS TEXT) IS NOT NULL OR p.source = 'market')",
        )
        .bind(org.as_str())
        .bind(price_id)
        .bind(market)
        .bind(currency)
        .fetch_one(&mut self.conn)
        .await?;
        Ok(u64::try_from(count).unwrap_or_default())
    }
}
