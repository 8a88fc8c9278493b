//! The plan grants area, for both engines. A grant's history is kept as JSON beside it; its
//! target features in `plan_grant_features`, with the columns of a subscription's snapshot.

use super::subscriptions::SNAPSHOT_COLUMNS;
use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use crate::rows::SnapshotRow;
use async_trait::async_trait;
use serde_json::{Value, json};
use tally_domain::plan_grants::{GrantEvent, PlanGrant, Status};
use tally_domain::subscription::FeatureSnapshot;
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{Lock, PlanGrants, StoreError};

const GRANT_COLUMNS: &str = "id, org_id, customer_id, subscription_id, base_plan_id, plan_id, \
     plan_release_id, status, duration, duration_cycles, starts_at_ms, expires_at_ms, reason, \
     revoked_at_ms, created_at_ms, updated_at_ms, events";

sql_row! {
    struct GrantRow {
        id: String,
        org_id: String,
        customer_id: String,
        subscription_id: String,
        base_plan_id: String,
        plan_id: String,
        plan_release_id: String,
        status: String,
        duration: String,
        duration_cycles: Option<i64>,
        starts_at_ms: i64,
        expires_at_ms: Option<i64>,
        reason: String,
        revoked_at_ms: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
        events: String,
    }
}

fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millis(ms)
}

fn events_json(events: &[GrantEvent]) -> String {
    let time = |t: Option<Timestamp>| t.map(Timestamp::as_millis);
    Value::Array(
        events
            .iter()
            .map(|e| {
                json!({
                    "id": e.id, "type": e.event_type, "reason": e.reason, "source": e.source,
                    "previousExpiresAt": time(e.previous_expires_at), "expiresAt": time(e.expires_at),
                    "duration": e.duration, "durationCycles": e.duration_cycles,
                    "requestedExpiresAt": time(e.requested_expires_at), "createdAt": e.created_at.as_millis(),
                })
            })
            .collect(),
    )
    .to_string()
}

fn events_of(text: &str) -> Result<Vec<GrantEvent>, StoreError> {
    let bad = || {
        StoreError::other(format!(
            "a grant's stored history does not read back: {text}"
        ))
    };
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(text) else {
        return Err(bad());
    };
    items
        .iter()
        .map(|e| {
            let text_of = |k: &str| {
                e.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
                    .ok_or_else(bad)
            };
            let time = |k: &str| e.get(k).and_then(Value::as_i64).map(ts);
            Ok(GrantEvent {
                id: text_of("id")?,
                event_type: text_of("type")?,
                reason: text_of("reason")?,
                source: text_of("source")?,
                previous_expires_at: time("previousExpiresAt"),
                expires_at: time("expiresAt"),
                duration: text_of("duration")?,
                duration_cycles: e.get("durationCycles").and_then(Value::as_i64),
                requested_expires_at: time("requestedExpiresAt"),
                created_at: time("createdAt").ok_or_else(bad)?,
            })
        })
        .collect()
}

impl GrantRow {
    fn into_domain(self) -> Result<PlanGrant, StoreError> {
        Ok(PlanGrant {
            status: Status::parse(&self.status).ok_or_else(|| {
                StoreError::other(format!("unknown grant status {}", self.status))
            })?,
            events: events_of(&self.events)?,
            id: self.id,
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            subscription_id: self.subscription_id,
            base_plan_id: self.base_plan_id,
            plan_id: self.plan_id,
            plan_release_id: self.plan_release_id,
            duration: self.duration,
            duration_cycles: self.duration_cycles,
            starts_at: ts(self.starts_at_ms),
            expires_at: self.expires_at_ms.map(ts),
            reason: self.reason,
            revoked_at: self.revoked_at_ms.map(ts),
            created_at: ts(self.created_at_ms),
            updated_at: ts(self.updated_at_ms),
        })
    }
}

fn grants(rows: Vec<GrantRow>) -> Result<Vec<PlanGrant>, StoreError> {
    rows.into_iter().map(GrantRow::into_domain).collect()
}

#[async_trait]
impl PlanGrants for SqlDb {
    async fn insert_plan_grant(
        &mut self,
        g: &PlanGrant,
        target: &[FeatureSnapshot],
    ) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO plan_grants ({GRANT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
             $10, $11, $12, $13, $14, $15, $16, $17)"
        ))
        .bind(&g.id)
        .bind(g.org_id.as_str())
        .bind(g.customer_id.as_str())
        .bind(&g.subscription_id)
        .bind(&g.base_plan_id)
        .bind(&g.plan_id)
        .bind(&g.plan_release_id)
        .bind(g.status.as_str())
        .bind(&g.duration)
        .bind(g.duration_cycles)
        .bind(g.starts_at.as_millis())
        .bind(g.expires_at.map(Timestamp::as_millis))
        .bind(&g.reason)
        .bind(g.revoked_at.map(Timestamp::as_millis))
        .bind(g.created_at.as_millis())
        .bind(g.updated_at.as_millis())
        .bind(events_json(&g.events))
        .execute(&mut self.conn)
        .await?;
        for (position, f) in target.iter().enumerate() {
            query(format!(
                "INSERT INTO plan_grant_features (grant_id, position, {SNAPSHOT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(&g.id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .bind(f.feature_id.as_str())
            .bind(&f.code)
            .bind(&f.name)
            .bind(f.feature_type.as_str())
            .bind(&f.unit_name)
            .bind(f.enabled)
            .bind(f.included_amount)
            .bind(f.unlimited)
            .bind(f.overage.enabled)
            .bind(f.overage.unit_price.map(|r| r.0))
            .bind(f.credits_per_unit)
            .bind(&f.pricing_mode)
            .execute(&mut self.conn)
            .await?;
        }
        Ok(())
    }

    async fn update_plan_grant(&mut self, g: &PlanGrant) -> Result<(), StoreError> {
        query(
            "UPDATE plan_grants SET status = $1, duration = $2, duration_cycles = $3, \
             expires_at_ms = $4, reason = $5, revoked_at_ms = $6, updated_at_ms = $7, events = $8 \
             WHERE org_id = $9 AND id = $10",
        )
        .bind(g.status.as_str())
        .bind(&g.duration)
        .bind(g.duration_cycles)
        .bind(g.expires_at.map(Timestamp::as_millis))
        .bind(&g.reason)
        .bind(g.revoked_at.map(Timestamp::as_millis))
        .bind(g.updated_at.as_millis())
        .bind(events_json(&g.events))
        .bind(g.org_id.as_str())
        .bind(&g.id)
        .execute_one(&mut self.conn)
        .await
    }

    async fn plan_grant(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<PlanGrant>, StoreError> {
        let lock = self.conn.lock(lock);
        let row: Option<GrantRow> = query(format!(
            "SELECT {GRANT_COLUMNS} FROM plan_grants WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id)
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(GrantRow::into_domain).transpose()
    }

    async fn plan_grants(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Vec<PlanGrant>, StoreError> {
        let rows: Vec<GrantRow> = query(format!(
            "SELECT {GRANT_COLUMNS} FROM plan_grants WHERE org_id = $1 AND customer_id = $2 \
             ORDER BY created_at_ms DESC, id DESC"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        grants(rows)
    }

    async fn active_plan_grant(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Option<(PlanGrant, Vec<FeatureSnapshot>)>, StoreError> {
        let row: Option<GrantRow> = query(format!(
            "SELECT {GRANT_COLUMNS} FROM plan_grants \
             WHERE org_id = $1 AND subscription_id = $2 AND status = 'active'"
        ))
        .bind(org.as_str())
        .bind(subscription)
        .fetch_optional(&mut self.conn)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let grant = row.into_domain()?;
        let features: Vec<SnapshotRow> = query(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM plan_grant_features WHERE grant_id = $1 ORDER BY position"
        ))
        .bind(&grant.id)
        .fetch_all(&mut self.conn)
        .await?;
        let target = features
            .into_iter()
            .map(SnapshotRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((grant, target)))
    }

    async fn due_plan_grants(
        &mut self,
        org: Option<&OrgId>,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PlanGrant>, StoreError> {
        let org = org.map(OrgId::as_str);
        let columns = GRANT_COLUMNS
            .split(", ")
            .map(|c| format!("g.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<GrantRow> = query(format!(
            "SELECT {columns} FROM plan_grants g JOIN organizations o ON o.id = g.org_id \
             WHERE g.status = 'active' AND g.expires_at_ms IS NOT NULL AND g.expires_at_ms <= $1 \
               AND ((CAST($2 AS TEXT) IS NOT NULL AND g.org_id = $2) OR (CAST($2 AS TEXT) IS NULL AND o.test_clock_ms IS NULL)) \
             ORDER BY g.expires_at_ms, g.id LIMIT $3"
        ))
        .bind(now.as_millis())
        .bind(org)
        .bind(i64::from(limit))
        .fetch_all(&mut self.conn)
        .await?;
        grants(rows)
    }
}
