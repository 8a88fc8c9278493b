//! The usage area, for both engines.

use crate::SqlDb;
use crate::query::query;
use crate::rows::{HotStampRow, UsageCounterRow, usage_properties_text};
use async_trait::async_trait;
use tally_domain::subscription::SubscriptionId;
use tally_domain::usage::{UsageCounter, UsageEvent, UsageEventId, UsageEventKind};
use tally_domain::{ApiKeyId, CustomerRef, OrgId, Timestamp};
use tally_store::{HotStamp, StoreError, Usage};

#[async_trait]
impl Usage for SqlDb {
    async fn usage_counters(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
        period_start: Timestamp,
    ) -> Result<Vec<UsageCounter>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<UsageCounterRow> = query(
            "SELECT subscription_id, feature_code, period_start_ms, period_end_ms, used, spent, \
                 threshold_fired, exceeded_fired, updated_at_ms FROM usage_counters \
             WHERE org_id = $1 AND subscription_id = $2 AND period_start_ms = $3 \
             ORDER BY feature_code",
        )
        .bind(org.as_str())
        .bind(sub.as_str())
        .bind(period_start.as_millis())
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().map(UsageCounterRow::into_domain).collect())
    }

    async fn save_usage_counter(
        &mut self,
        org: &OrgId,
        counter: &UsageCounter,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Scoped twice, as seat balances are: only for a subscription of `org`, and only a
        // counter of `org` is replaced.
        query(
            "INSERT INTO usage_counters (subscription_id, feature_code, period_start_ms, \
                 period_end_ms, org_id, used, spent, threshold_fired, exceeded_fired, updated_at_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
             WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $5 AND id = $1) \
             ON CONFLICT (subscription_id, feature_code, period_start_ms) DO UPDATE SET \
                 used = excluded.used, spent = excluded.spent, \
                 threshold_fired = excluded.threshold_fired, \
                 exceeded_fired = excluded.exceeded_fired, updated_at_ms = excluded.updated_at_ms \
             WHERE usage_counters.org_id = excluded.org_id",
        )
        .bind(counter.subscription_id.as_str())
        .bind(&counter.feature_code)
        .bind(counter.period.start.as_millis())
        .bind(counter.period.end.as_millis())
        .bind(org.as_str())
        .bind(counter.used)
        .bind(counter.spent)
        .bind(counter.threshold_fired)
        .bind(counter.exceeded_fired)
        .bind(counter.updated_at.as_millis())
        .execute_one(conn)
        .await
    }

    async fn usage_event_with_key(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<UsageEventId>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<(String,)> =
            query("SELECT id FROM usage_events WHERE org_id = $1 AND event_key = $2")
                .bind(org.as_str())
                .bind(key)
                .fetch_optional(conn)
                .await?;
        Ok(row.map(|(id,)| UsageEventId::from_stored(id)))
    }

    async fn append_usage_event(&mut self, event: &UsageEvent) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        let (kind, previous) = match event.kind {
            UsageEventKind::Track => ("track", None),
            UsageEventKind::Set { previous } => ("set", Some(previous)),
        };
        let consumption = event.consumption.as_ref();
        // Only onto a subscription of the event's organization and customer.
        query(
            "INSERT INTO usage_events (id, org_id, customer_id, subscription_id, feature_code, \
                 kind, value, previous_value, event_key, reason, properties, consumption_model, \
                 consumed, consumption_left, consumption_blocked, ts_ms, created_at_ms, \
                 period_start_ms) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18 \
             WHERE EXISTS (SELECT 1 FROM subscriptions \
                           WHERE org_id = $2 AND id = $4 AND customer_id = $3)",
        )
        .bind(event.id.as_str())
        .bind(event.org_id.as_str())
        .bind(event.customer_id.as_str())
        .bind(event.subscription_id.as_str())
        .bind(&event.feature_code)
        .bind(kind)
        .bind(event.value)
        .bind(previous)
        .bind(event.event_key.as_deref())
        .bind(event.reason.as_deref())
        .bind(usage_properties_text(&event.properties))
        .bind(consumption.map(|c| c.model.as_str()))
        .bind(consumption.map(|c| c.deducted))
        .bind(consumption.map(|c| c.remaining))
        .bind(consumption.map(|c| c.blocked))
        .bind(event.ts.as_millis())
        .bind(event.created_at.as_millis())
        .bind(event.period_start.as_millis())
        .execute_one(conn)
        .await
    }

    async fn hot_stamp(
        &mut self,
        org: &OrgId,
        key: &ApiKeyId,
        customer: &CustomerRef,
    ) -> Result<HotStamp, StoreError> {
        let conn = &mut self.conn;
        // One statement per kind of reference, so each uses its own index.
        let (customer_match, reference) = match customer {
            CustomerRef::Id(id) => ("c.id = $3", id.as_str()),
            CustomerRef::External(external) => ("c.external_id = $3", external.as_str()),
        };
        let row: Option<HotStampRow> = query(format!(
            "SELECT (SELECT COUNT(*) FROM api_keys k \
                     WHERE k.org_id = $1 AND k.id = $2 AND k.revoked_at_ms IS NULL) AS live_keys, \
                 o.test_clock_ms AS test_clock_ms, c.id AS customer_id, \
                 COALESCE((SELECT v.version FROM hot_versions v \
                           WHERE v.org_id = $1 AND v.customer_id = c.id), 0) AS customer_version, \
                 COALESCE((SELECT v.version FROM hot_versions v \
                           WHERE v.org_id = $1 AND v.customer_id = ''), 0) AS catalog_version \
             FROM organizations o \
             LEFT JOIN customers c ON c.org_id = o.id AND {customer_match} \
             WHERE o.id = $1"
        ))
        .bind(org.as_str())
        .bind(key.as_str())
        .bind(reference)
        .fetch_optional(conn)
        .await?;
        // No such organization: no standing, no customer.
        Ok(row.map_or(
            HotStamp {
                standing: None,
                customer: None,
                customer_version: 0,
                catalog_version: 0,
            },
            HotStampRow::into_domain,
        ))
    }

    async fn quota_event_with_key(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<String>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<(String,)> =
            query("SELECT event_id FROM quota_event_keys WHERE org_id = $1 AND event_key = $2")
                .bind(org.as_str())
                .bind(key)
                .fetch_optional(conn)
                .await?;
        Ok(row.map(|(id,)| id))
    }

    async fn record_quota_event_key(
        &mut self,
        org: &OrgId,
        key: &str,
        event_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // Only for an event of `org`.
        query(
            "INSERT INTO quota_event_keys (org_id, event_key, event_id, created_at_ms) \
             SELECT $1, $2, $3, $4 \
             WHERE EXISTS (SELECT 1 FROM seat_events WHERE org_id = $1 AND id = $3)",
        )
        .bind(org.as_str())
        .bind(key)
        .bind(event_id)
        .bind(at.as_millis())
        .execute_one(conn)
        .await
    }
}
