//! The subscriptions area, for both engines.

use crate::SqlDb;
use crate::query::{Query, keyset_page, placeholders, query};
use crate::rows::{DeadlineFailureRow, DueRow, SnapshotRow, SubscriptionRow};
use async_trait::async_trait;
use tally_domain::catalog::{PlanId, PriceId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::{
    DeadlineFailure, FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{DueDeadline, Lock, StoreError, Subscriptions};

const SUBSCRIPTION_COLUMNS: &str = "id, org_id, customer_id, plan_id, price_id, name, description, \
     status, billing_interval, start_date_ms, trial_ends_at_ms, anchor_ms, period_index, \
     period_start_ms, period_end_ms, cancel_scheduled_at_ms, cancel_reason, \
     cancel_effective_at_ms, canceled_at_ms, ended_at_ms, credits_remaining, credits_included, \
     credits_purchased, balance_remaining, balance_included, usage_reset_at_ms, change_type, \
     change_plan_id, change_price_id, change_interval, change_requested_at_ms, change_at_ms, \
     pause_mode, pause_in_effect, pause_requested_at_ms, pause_effective_at_ms, \
     pause_resume_at_ms, pause_status_before, pause_period_start_ms, pause_period_end_ms, \
     created_at_ms, updated_at_ms, currency, dunning_invoice_id, dunning_failed_at_ms, \
     dunning_retries, checkout_trial_days";
/// What a subscription's life changes, in the order `bind_state` binds it: one
/// list for the insert and the update.
const STATE_COLUMNS: [&str; 40] = [
    "plan_id",
    "price_id",
    "billing_interval",
    "status",
    "trial_ends_at_ms",
    "anchor_ms",
    "period_index",
    "period_start_ms",
    "period_end_ms",
    "cancel_scheduled_at_ms",
    "cancel_reason",
    "cancel_effective_at_ms",
    "canceled_at_ms",
    "ended_at_ms",
    "credits_remaining",
    "credits_included",
    "credits_purchased",
    "balance_remaining",
    "balance_included",
    "usage_reset_at_ms",
    "change_type",
    "change_plan_id",
    "change_price_id",
    "change_interval",
    "change_requested_at_ms",
    "change_at_ms",
    "pause_mode",
    "pause_in_effect",
    "pause_requested_at_ms",
    "pause_effective_at_ms",
    "pause_resume_at_ms",
    "pause_status_before",
    "pause_period_start_ms",
    "pause_period_end_ms",
    "dunning_invoice_id",
    "dunning_failed_at_ms",
    "dunning_retries",
    "checkout_trial_days",
    // A trial that waited for its checkout starts when it is paid.
    "start_date_ms",
    "updated_at_ms",
];
pub(crate) const SNAPSHOT_COLUMNS: &str = "feature_id, code, name, type, unit_name, enabled, included_amount, \
     unlimited, overage_enabled, overage_unit_price, credits_per_unit, pricing_mode";

#[async_trait]
impl Subscriptions for SqlDb {
    async fn subscription(
        &mut self,
        org: &OrgId,
        id: &SubscriptionId,
        lock: Lock,
    ) -> Result<Option<Subscription>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<SubscriptionRow> = query(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(SubscriptionRow::into_domain).transpose()
    }

    async fn live_subscription(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        lock: Lock,
    ) -> Result<Option<Subscription>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<SubscriptionRow> = query(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE org_id = $1 AND customer_id = $2 AND status <> 'canceled'{lock}"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(SubscriptionRow::into_domain).transpose()
    }

    async fn subscriptions(
        &mut self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        status: Option<SubscriptionStatus>,
        page: &PageRequest,
    ) -> Result<Page<Subscription>, StoreError> {
        let conn = &mut self.conn;
        let customer = customer.map(CustomerId::as_str);
        let status = status.map(SubscriptionStatus::as_str);
        let rows: Vec<SubscriptionRow> = query(format!(
            "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
             WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR customer_id = $2) \
               AND (CAST($3 AS TEXT) IS NULL OR status = $3) AND {}",
            keyset_page("created_at_ms", 4)
        ))
        .bind(org.as_str())
        .bind(customer)
        .bind(status)
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        let items = rows
            .into_iter()
            .map(SubscriptionRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, page.limit))
    }

    async fn live_subscriptions_of_plan(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<SubscriptionId>, StoreError> {
        let conn = &mut self.conn;
        let ids: Vec<(String,)> = query(
            "SELECT id FROM subscriptions WHERE org_id = $1 AND plan_id = $2 AND status <> 'canceled' \
             ORDER BY id",
        )
        .bind(org.as_str())
        .bind(plan.as_str())
        .fetch_all(conn)
        .await?;
        Ok(ids
            .into_iter()
            .map(|(id,)| SubscriptionId::from_stored(id))
            .collect())
    }

    async fn insert_subscription(
        &mut self,
        sub: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // The 8 columns the insert names before the state columns.
        let values = placeholders(1, 8 + STATE_COLUMNS.len());
        let insert = query(format!(
            "INSERT INTO subscriptions (id, org_id, customer_id, name, description, \
                 created_at_ms, next_deadline_ms, currency, {}) VALUES ({values})",
            STATE_COLUMNS.join(", ")
        ))
        .bind(sub.id.as_str())
        .bind(sub.org_id.as_str())
        .bind(sub.customer_id.as_str())
        .bind(&sub.name)
        .bind(&sub.description)
        .bind(sub.created_at.as_millis())
        .bind(next_deadline.map(Timestamp::as_millis))
        .bind(&sub.currency);
        bind_state(insert, sub).execute(conn).await?;
        Ok(())
    }

    async fn update_subscription(
        &mut self,
        sub: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        let set: Vec<String> = STATE_COLUMNS
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 4))
            .collect();
        let update = query(format!(
            "UPDATE subscriptions SET next_deadline_ms = $3, {}, \
                 deadline_failures = 0, deadline_error = NULL, deadline_retry_at_ms = NULL \
             WHERE org_id = $1 AND id = $2",
            set.join(", ")
        ))
        .bind(sub.org_id.as_str())
        .bind(sub.id.as_str())
        .bind(next_deadline.map(Timestamp::as_millis));
        bind_state(update, sub).execute(conn).await?;
        Ok(())
    }

    async fn deadline_failure(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
    ) -> Result<Option<DeadlineFailure>, StoreError> {
        let conn = &mut self.conn;
        let row: Option<DeadlineFailureRow> = query(
            "SELECT deadline_failures, deadline_error, deadline_retry_at_ms FROM subscriptions \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(org.as_str())
        .bind(sub.as_str())
        .fetch_optional(conn)
        .await?;
        Ok(row.and_then(DeadlineFailureRow::into_domain))
    }

    async fn record_deadline_failure(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
        failure: &DeadlineFailure,
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE subscriptions SET deadline_failures = $1, deadline_error = $2, \
                 deadline_retry_at_ms = $3 \
             WHERE org_id = $4 AND id = $5",
        )
        .bind(failure.failures)
        .bind(&failure.last_error)
        .bind(failure.retry_at.as_millis())
        .bind(org.as_str())
        .bind(sub.as_str())
        .execute_one(conn)
        .await
    }

    async fn subscription_features(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<SnapshotRow> = query(format!(
            "SELECT {SNAPSHOT_COLUMNS} FROM subscription_features \
             WHERE subscription_id = $2 \
               AND subscription_id IN (SELECT id FROM subscriptions WHERE org_id = $1 AND id = $2) \
             ORDER BY position"
        ))
        .bind(org.as_str())
        .bind(sub.as_str())
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(SnapshotRow::into_domain).collect()
    }

    async fn replace_subscription_features(
        &mut self,
        org: &OrgId,
        sub: &SubscriptionId,
        features: &[FeatureSnapshot],
    ) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        // The snapshot table has no organization column; the subscription row scopes it.
        let (owned,): (i64,) =
            query("SELECT COUNT(*) FROM subscriptions WHERE org_id = $1 AND id = $2")
                .bind(org.as_str())
                .bind(sub.as_str())
                .fetch_one(&mut *conn)
                .await?;
        if owned == 0 {
            return Err(StoreError::NotFound);
        }
        query("DELETE FROM subscription_features WHERE subscription_id = $1")
            .bind(sub.as_str())
            .execute(&mut *conn)
            .await?;
        for (position, f) in features.iter().enumerate() {
            query(format!(
                "INSERT INTO subscription_features (subscription_id, position, {SNAPSHOT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
            ))
            .bind(sub.as_str())
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
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    }

    async fn due_deadlines(
        &mut self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let conn = &mut self.conn;
        let org = org.map(OrgId::as_str);
        let rows: Vec<DueRow> = query(
            "SELECT s.org_id, s.id, s.next_deadline_ms FROM subscriptions s \
             JOIN organizations o ON o.id = s.org_id \
             WHERE s.next_deadline_ms IS NOT NULL AND s.next_deadline_ms <= $1 \
               AND ((CAST($2 AS TEXT) IS NOT NULL AND s.org_id = $3) OR (CAST($4 AS TEXT) IS NULL AND o.test_clock_ms IS NULL)) \
               AND (s.deadline_retry_at_ms IS NULL OR s.deadline_retry_at_ms <= $5) \
             ORDER BY s.next_deadline_ms, s.id LIMIT $6",
        )
        .bind(until.as_millis())
        .bind(org)
        .bind(org)
        .bind(org)
        .bind(until.as_millis())
        .bind(i64::from(limit))
        .fetch_all(conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| DueDeadline {
                org_id: OrgId::new(r.org_id),
                subscription_id: SubscriptionId::from_stored(r.id),
                due_at: Timestamp::from_millis(r.next_deadline_ms),
            })
            .collect())
    }
}

/// `statement` with a subscription's values of `STATE_COLUMNS` bound next, in that order.
fn bind_state(statement: Query, sub: &Subscription) -> Query {
    let change = sub.scheduled_change.as_ref();
    let pause = sub.pause.as_ref();
    statement
        .bind(sub.plan_id.as_str())
        .bind(sub.price_id.as_ref().map(PriceId::as_str))
        .bind(sub.billing_interval.map(|i| i.as_str()))
        .bind(sub.status.as_str())
        .bind(sub.trial_ends_at.map(Timestamp::as_millis))
        .bind(sub.anchor.as_millis())
        .bind(i64::from(sub.period_index))
        .bind(sub.current_period.map(|p| p.start.as_millis()))
        .bind(sub.current_period.map(|p| p.end.as_millis()))
        .bind(
            sub.cancellation
                .as_ref()
                .map(|c| c.scheduled_at.as_millis()),
        )
        .bind(sub.cancellation.as_ref().and_then(|c| c.reason.clone()))
        .bind(
            sub.cancellation
                .as_ref()
                .map(|c| c.effective_at.as_millis()),
        )
        .bind(sub.canceled_at.map(Timestamp::as_millis))
        .bind(sub.ended_at.map(Timestamp::as_millis))
        .bind(sub.credits.map(|c| c.remaining))
        .bind(sub.credits.map(|c| c.included))
        .bind(sub.credits.map(|c| c.purchased))
        .bind(sub.balance.map(|b| b.remaining.0))
        .bind(sub.balance.map(|b| b.included.0))
        .bind(sub.usage_reset_at.map(Timestamp::as_millis))
        .bind(change.map(|c| c.change_type.as_str()))
        .bind(change.map(|c| c.plan_id.as_str()))
        .bind(change.and_then(|c| c.price_id.as_ref().map(PriceId::as_str)))
        .bind(change.and_then(|c| c.billing_interval.map(|i| i.as_str())))
        .bind(change.map(|c| c.requested_at.as_millis()))
        .bind(change.map(|c| c.effective_at.as_millis()))
        .bind(pause.map(|p| p.mode.as_str()))
        .bind(pause.map(|p| p.in_effect))
        .bind(pause.map(|p| p.requested_at))
        .bind(pause.map(|p| p.effective_at))
        .bind(pause.and_then(|p| p.resume_at))
        .bind(pause.map(|p| p.status_before.as_str()))
        .bind(pause.and_then(|p| p.period_before.map(|b| b.start)))
        .bind(pause.and_then(|p| p.period_before.map(|b| b.end)))
        .bind(sub.dunning.as_ref().map(|d| d.invoice_id.clone()))
        .bind(sub.dunning.as_ref().map(|d| d.failed_at.as_millis()))
        .bind(sub.dunning.as_ref().map(|d| i64::from(d.retries)))
        .bind(sub.checkout_trial_days)
        .bind(sub.start_date.as_millis())
        .bind(sub.updated_at.as_millis())
}
