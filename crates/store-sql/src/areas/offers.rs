//! The offers area, for both engines. Phases are kept as JSON in the contract's own spelling
//! (`type`, `durationDays`, `durationCycles`, …), with `startsAt`/`endsAt` (ms) once placed.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::{keyset_page, placeholders, query};
use async_trait::async_trait;
use serde_json::{Value, json};
use tally_domain::offers::{
    CurrencyAmount, Offer, OfferApplication, Phase, PlacedPhase, PromoCode, Source,
};
use tally_domain::page::{Page, PageRequest};
use tally_domain::period::BillingInterval;
use tally_domain::{OrgId, Timestamp};
use tally_store::{Lock, Offers, StoreError};

fn phase_json(phase: &Phase) -> Value {
    let list = |amounts: &[CurrencyAmount]| {
        amounts
            .iter()
            .map(|a| json!({"currency": a.currency, "amount": a.amount}))
            .collect::<Vec<_>>()
    };
    match phase {
        Phase::FreeTrial { days } => json!({"type": "free_trial", "durationDays": days}),
        Phase::Percentage {
            cycles,
            basis_points,
        } => json!({"type": "percentage", "durationCycles": cycles, "percentage": basis_points}),
        Phase::AmountOff { cycles, amounts } => {
            json!({"type": "amount_off", "durationCycles": cycles, "amounts": list(amounts)})
        }
        Phase::FixedPrice {
            cycles,
            interval,
            prices,
        } => json!({
            "type": "fixed_price",
            "durationCycles": cycles,
            "durationInterval": interval.map(BillingInterval::as_str),
            "prices": list(prices),
        }),
    }
}

fn phase_of(value: &Value) -> Result<Phase, StoreError> {
    let bad = || StoreError::other(format!("a stored offer phase does not read back: {value}"));
    let int = |key: &str| value.get(key).and_then(Value::as_i64);
    let list = |key: &str| -> Result<Vec<CurrencyAmount>, StoreError> {
        value
            .get(key)
            .and_then(Value::as_array)
            .ok_or_else(bad)?
            .iter()
            .map(|a| {
                Ok(CurrencyAmount {
                    currency: a
                        .get("currency")
                        .and_then(Value::as_str)
                        .ok_or_else(bad)?
                        .to_owned(),
                    amount: a.get("amount").and_then(Value::as_i64).ok_or_else(bad)?,
                })
            })
            .collect()
    };
    Ok(match value.get("type").and_then(Value::as_str) {
        Some("free_trial") => Phase::FreeTrial {
            days: int("durationDays").ok_or_else(bad)?,
        },
        Some("percentage") => Phase::Percentage {
            cycles: int("durationCycles"),
            basis_points: int("percentage").ok_or_else(bad)?,
        },
        Some("amount_off") => Phase::AmountOff {
            cycles: int("durationCycles"),
            amounts: list("amounts")?,
        },
        Some("fixed_price") => Phase::FixedPrice {
            cycles: int("durationCycles"),
            interval: value
                .get("durationInterval")
                .and_then(Value::as_str)
                .and_then(BillingInterval::parse),
            prices: list("prices")?,
        },
        _ => return Err(bad()),
    })
}

fn phases_of(text: &str) -> Result<Vec<Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Array(items)) => Ok(items),
        _ => Err(StoreError::other(format!(
            "stored phases do not read back: {text}"
        ))),
    }
}

fn object_of(text: &str) -> Result<serde_json::Map<String, Value>, StoreError> {
    match serde_json::from_str(text) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(StoreError::other(format!(
            "a stored object does not read back: {text}"
        ))),
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

const OFFER_COLUMNS: &str = "id, org_id, name, phases, metadata, starts_at_ms, ends_at_ms, \
     active, deleted_at_ms, created_at_ms, updated_at_ms";

sql_row! {
    struct OfferRow {
        id: String,
        org_id: String,
        name: String,
        phases: String,
        metadata: String,
        starts_at_ms: Option<i64>,
        ends_at_ms: Option<i64>,
        active: bool,
        deleted_at_ms: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl OfferRow {
    fn into_domain(self) -> Result<Offer, StoreError> {
        Ok(Offer {
            phases: phases_of(&self.phases)?
                .iter()
                .map(phase_of)
                .collect::<Result<_, _>>()?,
            metadata: object_of(&self.metadata)?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            name: self.name,
            starts_at: self.starts_at_ms.map(ts),
            ends_at: self.ends_at_ms.map(ts),
            active: self.active,
            deleted: self.deleted_at_ms.is_some(),
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

const CODE_COLUMNS: &str = "id, org_id, code, offer_id, billing_interval, max_redemptions, \
     expires_at_ms, active, redemption_count, plan_ids, created_at_ms, updated_at_ms";

sql_row! {
    struct CodeRow {
        id: String,
        org_id: String,
        code: String,
        offer_id: String,
        billing_interval: Option<String>,
        max_redemptions: Option<i64>,
        expires_at_ms: Option<i64>,
        active: bool,
        redemption_count: i64,
        plan_ids: String,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl CodeRow {
    fn into_domain(self) -> Result<PromoCode, StoreError> {
        let plan_ids: Vec<String> = serde_json::from_str(&self.plan_ids).map_err(|_| {
            StoreError::other(format!(
                "stored plan ids do not read back: {}",
                self.plan_ids
            ))
        })?;
        Ok(PromoCode {
            billing_interval: self
                .billing_interval
                .as_deref()
                .map(|i| {
                    BillingInterval::parse(i)
                        .ok_or_else(|| StoreError::other(format!("unknown interval {i}")))
                })
                .transpose()?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            code: self.code,
            offer_id: self.offer_id,
            max_redemptions: self.max_redemptions,
            expires_at: self.expires_at_ms.map(ts),
            active: self.active,
            redemption_count: self.redemption_count,
            plan_ids,
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

const APPLICATION_COLUMNS: &str = "id, org_id, subscription_id, offer_id, name, promo_code, \
     source, currency, price_id, phases, applied_at_ms, expires_at_ms, ended_at_ms, \
     first_subtotal, first_discount, first_total";

sql_row! {
    struct ApplicationRow {
        id: String,
        org_id: String,
        subscription_id: String,
        offer_id: Option<String>,
        name: String,
        promo_code: Option<String>,
        source: String,
        currency: String,
        price_id: Option<String>,
        phases: String,
        applied_at_ms: i64,
        expires_at_ms: Option<i64>,
        ended_at_ms: Option<i64>,
        first_subtotal: Option<i64>,
        first_discount: Option<i64>,
        first_total: Option<i64>,
    }
}

impl ApplicationRow {
    fn into_domain(self) -> Result<OfferApplication, StoreError> {
        let phases = phases_of(&self.phases)?
            .iter()
            .map(|placed| {
                Ok(PlacedPhase {
                    phase: phase_of(placed)?,
                    starts_at: ts(placed
                        .get("startsAt")
                        .and_then(Value::as_i64)
                        .unwrap_or_default()),
                    ends_at: placed.get("endsAt").and_then(Value::as_i64).map(ts),
                })
            })
            .collect::<Result<_, StoreError>>()?;
        let money = tally_domain::money::Cents;
        Ok(OfferApplication {
            source: Source::parse(&self.source).ok_or_else(|| {
                StoreError::other(format!("unknown offer source {}", self.source))
            })?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            subscription_id: self.subscription_id,
            offer_id: self.offer_id,
            name: self.name,
            promo_code: self.promo_code,
            currency: self.currency,
            price_id: self.price_id,
            phases,
            applied_at: ts(self.applied_at_ms),
            expires_at: self.expires_at_ms.map(ts),
            ended_at: self.ended_at_ms.map(ts),
            first_period: match (self.first_subtotal, self.first_discount, self.first_total) {
                (Some(a), Some(b), Some(c)) => Some((money(a), money(b), money(c))),
                _ => None,
            },
        })
    }
}

fn offer_phases_text(phases: &[Phase]) -> String {
    Value::Array(phases.iter().map(phase_json).collect()).to_string()
}

#[async_trait]
impl Offers for SqlDb {
    async fn insert_offer(&mut self, o: &Offer) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO offers ({OFFER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&o.id)
        .bind(o.org_id.as_str())
        .bind(&o.name)
        .bind(offer_phases_text(&o.phases))
        .bind(Value::Object(o.metadata.clone()).to_string())
        .bind(o.starts_at.map(Timestamp::as_millis))
        .bind(o.ends_at.map(Timestamp::as_millis))
        .bind(o.active)
        .bind(o.deleted.then(|| o.updated_at.as_millis()))
        .bind(o.created_at.as_millis())
        .bind(o.updated_at.as_millis())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_offer(&mut self, o: &Offer) -> Result<(), StoreError> {
        query(
            "UPDATE offers SET name = $1, phases = $2, metadata = $3, starts_at_ms = $4, \
             ends_at_ms = $5, active = $6, deleted_at_ms = $7, updated_at_ms = $8 \
             WHERE org_id = $9 AND id = $10",
        )
        .bind(&o.name)
        .bind(offer_phases_text(&o.phases))
        .bind(Value::Object(o.metadata.clone()).to_string())
        .bind(o.starts_at.map(Timestamp::as_millis))
        .bind(o.ends_at.map(Timestamp::as_millis))
        .bind(o.active)
        .bind(o.deleted.then(|| o.updated_at.as_millis()))
        .bind(o.updated_at.as_millis())
        .bind(o.org_id.as_str())
        .bind(&o.id)
        .execute_one(&mut self.conn)
        .await
    }

    async fn offer(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<Offer>, StoreError> {
        let lock = self.conn.lock(lock);
        let row: Option<OfferRow> = query(format!(
            "SELECT {OFFER_COLUMNS} FROM offers WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(OfferRow::into_domain).transpose()
    }

    async fn offers(
        &mut self,
        org: &OrgId,
        active: Option<bool>,
        page: &PageRequest,
    ) -> Result<Page<Offer>, StoreError> {
        let rows: Vec<OfferRow> = query(format!(
            "SELECT {OFFER_COLUMNS} FROM offers WHERE org_id = $1 AND deleted_at_ms IS NULL \
             AND (CAST($2 AS BOOLEAN) IS NULL OR active = $2) AND {}",
            keyset_page("created_at_ms", 3)
        ))
        .bind(org.as_str())
        .bind(active)
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let offers = rows
            .into_iter()
            .map(OfferRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(offers, page.limit))
    }

    async fn insert_promo_code(&mut self, c: &PromoCode) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO promo_codes ({CODE_COLUMNS}, code_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)"
        ))
        .bind(&c.id)
        .bind(c.org_id.as_str())
        .bind(&c.code)
        .bind(&c.offer_id)
        .bind(c.billing_interval.map(BillingInterval::as_str))
        .bind(c.max_redemptions)
        .bind(c.expires_at.map(Timestamp::as_millis))
        .bind(c.active)
        .bind(c.redemption_count)
        .bind(Value::from(c.plan_ids.clone()).to_string())
        .bind(c.created_at.as_millis())
        .bind(c.updated_at.as_millis())
        .bind(c.code.to_ascii_lowercase())
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_promo_code(&mut self, c: &PromoCode) -> Result<(), StoreError> {
        query(
            "UPDATE promo_codes SET billing_interval = $1, max_redemptions = $2, \
             expires_at_ms = $3, active = $4, redemption_count = $5, plan_ids = $6, \
             updated_at_ms = $7 WHERE org_id = $8 AND id = $9",
        )
        .bind(c.billing_interval.map(BillingInterval::as_str))
        .bind(c.max_redemptions)
        .bind(c.expires_at.map(Timestamp::as_millis))
        .bind(c.active)
        .bind(c.redemption_count)
        .bind(Value::from(c.plan_ids.clone()).to_string())
        .bind(c.updated_at.as_millis())
        .bind(c.org_id.as_str())
        .bind(&c.id)
        .execute_one(&mut self.conn)
        .await
    }

    async fn promo_code(
        &mut self,
        org: &OrgId,
        id_or_code: &str,
        lock: Lock,
    ) -> Result<Option<PromoCode>, StoreError> {
        let lock = self.conn.lock(lock);
        let row: Option<CodeRow> = query(format!(
            "SELECT {CODE_COLUMNS} FROM promo_codes WHERE org_id = $1 AND (id = $2 OR code_key = $3){lock}"
        ))
        .bind(org.as_str())
        .bind(id_or_code)
        .bind(id_or_code.to_ascii_lowercase())
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(CodeRow::into_domain).transpose()
    }

    async fn promo_codes(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<PromoCode>, StoreError> {
        let rows: Vec<CodeRow> = query(format!(
            "SELECT {CODE_COLUMNS} FROM promo_codes WHERE org_id = $1 AND {}",
            keyset_page("created_at_ms", 2)
        ))
        .bind(org.as_str())
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let codes = rows
            .into_iter()
            .map(CodeRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(codes, page.limit))
    }

    async fn insert_offer_application(&mut self, a: &OfferApplication) -> Result<(), StoreError> {
        let phases: Vec<Value> = a
            .phases
            .iter()
            .map(|placed| {
                let mut value = phase_json(&placed.phase);
                value["startsAt"] = placed.starts_at.as_millis().into();
                value["endsAt"] = placed.ends_at.map(Timestamp::as_millis).into();
                value
            })
            .collect();
        let first = a.first_period;
        query(format!(
            "INSERT INTO offer_applications ({APPLICATION_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(&a.id)
        .bind(a.org_id.as_str())
        .bind(&a.subscription_id)
        .bind(&a.offer_id)
        .bind(&a.name)
        .bind(&a.promo_code)
        .bind(a.source.as_str())
        .bind(&a.currency)
        .bind(&a.price_id)
        .bind(Value::Array(phases).to_string())
        .bind(a.applied_at.as_millis())
        .bind(a.expires_at.map(Timestamp::as_millis))
        .bind(a.ended_at.map(Timestamp::as_millis))
        .bind(first.map(|f| f.0.0))
        .bind(first.map(|f| f.1.0))
        .bind(first.map(|f| f.2.0))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn set_price_intro_offer(
        &mut self,
        org: &OrgId,
        price_id: &str,
        offer: Option<&str>,
    ) -> Result<(), StoreError> {
        query("DELETE FROM price_intro_offers WHERE org_id = $1 AND price_id = $2")
            .bind(org.as_str())
            .bind(price_id)
            .execute(&mut self.conn)
            .await?;
        if let Some(offer) = offer {
            query(
                "INSERT INTO price_intro_offers (price_id, org_id, offer_id) VALUES ($1, $2, $3)",
            )
            .bind(price_id)
            .bind(org.as_str())
            .bind(offer)
            .execute(&mut self.conn)
            .await?;
        }
        Ok(())
    }

    async fn price_intro_offers(
        &mut self,
        org: &OrgId,
        prices: &[String],
    ) -> Result<Vec<(String, Offer)>, StoreError> {
        if prices.is_empty() {
            return Ok(Vec::new());
        }
        sql_row! {
            struct IntroRow {
                price_id: String,
                offer_id: String,
            }
        }
        let rows: Vec<IntroRow> = query(format!(
            "SELECT price_id, offer_id FROM price_intro_offers WHERE org_id = $1 AND price_id IN ({})",
            placeholders(2, prices.len())
        ))
        .bind(org.as_str())
        .bind_each(prices.iter().map(String::as_str))
        .fetch_all(&mut self.conn)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            if let Some(offer) = self.offer(org, &row.offer_id, Lock::None).await? {
                out.push((row.price_id, offer));
            }
        }
        Ok(out)
    }

    async fn offer_is_intro(&mut self, org: &OrgId, offer: &str) -> Result<bool, StoreError> {
        let (count,): (i64,) =
            query("SELECT COUNT(*) FROM price_intro_offers WHERE org_id = $1 AND offer_id = $2")
                .bind(org.as_str())
                .bind(offer)
                .fetch_one(&mut self.conn)
                .await?;
        Ok(count > 0)
    }

    async fn end_offer_application(&mut self, a: &OfferApplication) -> Result<(), StoreError> {
        query("UPDATE offer_applications SET ended_at_ms = $1 WHERE org_id = $2 AND id = $3")
            .bind(a.ended_at.map(Timestamp::as_millis))
            .bind(a.org_id.as_str())
            .bind(&a.id)
            .execute_one(&mut self.conn)
            .await
    }

    async fn offer_applications(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Vec<OfferApplication>, StoreError> {
        let rows: Vec<ApplicationRow> = query(format!(
            "SELECT {APPLICATION_COLUMNS} FROM offer_applications \
             WHERE org_id = $1 AND subscription_id = $2 ORDER BY applied_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(subscription)
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter().map(ApplicationRow::into_domain).collect()
    }
}
