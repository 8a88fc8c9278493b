//! The usage area, for both engines.

use crate::SqlDb;
use crate::query::query;
use crate::rows::{HotStampRow, UsageCounterRow, usage_properties_text};
use async_trait::async_trait;
use tally_domain::subscription::SubscriptionId;
use tally_domain::usage::{UsageCounter, UsageEvent, UsageEventId, UsageEventKind};
use tally_domain::{CustomerRef, OrgId, Timestamp};
use tally_store::{HotStamp, StampAsk, StoreError, Usage};

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

    async fn hot_stamps(&mut self, asks: &[StampAsk]) -> Result<Vec<HotStamp>, StoreError> {
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        let conn = &mut self.conn;
        // One row of arguments per ask: its position, organization, key, and the reference as
        // an id or as an externalId (the other one NULL).
        let rows = (0..asks.len())
            .map(|i| {
                let n = i * 5;
                format!(
                    "(${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut statement = query(format!(
            // Each lookup is a correlated point read on its own index (a join with an OR over
            // both references would scan the organization's customers). What depends on the key
            // alone is read once per distinct key of the batch: most asks share one. A key is
            // an API key or a dashboard session (`tally_domain::dashboard`).
            "WITH asks (i, org_id, key_id, by_id, by_external) AS (VALUES {rows}), \
             named AS MATERIALIZED ( \
                 SELECT a.i, a.org_id, a.key_id, \
                     CASE WHEN a.by_id IS NOT NULL \
                       THEN (SELECT c.id FROM customers c \
                             WHERE c.org_id = a.org_id AND c.id = a.by_id) \
                       ELSE (SELECT c.id FROM customers c \
                             WHERE c.org_id = a.org_id AND c.external_id = a.by_external) \
                     END AS customer_id \
                 FROM asks a), \
             standings AS MATERIALIZED ( \
                 SELECT d.org_id, d.key_id, \
                     CAST(CASE WHEN EXISTS (SELECT 1 FROM api_keys k \
                         WHERE k.org_id = d.org_id AND k.id = d.key_id \
                           AND k.revoked_at_ms IS NULL) \
                       OR EXISTS (SELECT 1 FROM dashboard_sessions ds \
                         WHERE ds.org_id = d.org_id AND ds.id = d.key_id \
                           AND ds.ended_at_ms IS NULL) \
                       THEN 1 ELSE 0 END AS BIGINT) AS live_keys, \
                     (SELECT o.test_clock_ms FROM organizations o WHERE o.id = d.org_id) \
                       AS test_clock_ms, \
                     COALESCE((SELECT v.version FROM hot_versions v \
                               WHERE v.org_id = d.org_id AND v.customer_id = ''), 0) \
                       AS catalog_version \
                 FROM (SELECT DISTINCT org_id, key_id FROM asks) d) \
             SELECT n.i AS i, s.live_keys AS live_keys, s.test_clock_ms AS test_clock_ms, \
                 n.customer_id AS customer_id, \
                 COALESCE((SELECT v.version FROM hot_versions v \
                           WHERE v.org_id = n.org_id AND v.customer_id = n.customer_id), 0) \
                   AS customer_version, \
                 s.catalog_version AS catalog_version \
             FROM named n JOIN standings s ON s.org_id = n.org_id AND s.key_id = n.key_id"
        ));
        for (i, ask) in asks.iter().enumerate() {
            let (by_id, by_external) = match &ask.customer {
                CustomerRef::Id(id) => (Some(id.as_str()), None),
                CustomerRef::External(external) => (None, Some(external.as_str())),
            };
            statement = statement
                .bind(i64::try_from(i).expect("a batch is small"))
                .bind(ask.org.as_str())
                .bind(ask.key.as_str())
                .bind(by_id)
                .bind(by_external);
        }
        let rows: Vec<HotStampRow> = statement.fetch_all(conn).await?;
        // One row per ask, whatever it names.
        let mut stamps: Vec<Option<HotStamp>> = vec![None; asks.len()];
        for row in rows {
            let slot = usize::try_from(row.i).ok().and_then(|i| stamps.get_mut(i));
            *slot.ok_or_else(|| StoreError::other("a stamp row for no ask"))? =
                Some(row.into_domain());
        }
        stamps
            .into_iter()
            .map(|stamp| stamp.ok_or_else(|| StoreError::other("an ask without a stamp row")))
            .collect()
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
