//! Catalog queries (features, plans, prices, plan features, subscriptions, seats, test clock),
//! written once over a connection so reads through the pool and writes inside a transaction
//! share them. Mirrors `tally-store-postgres/src/catalog.rs` query by query.

use crate::errors::map_error;
use sqlx::SqliteConnection as Conn;
use tally_domain::catalog::{Feature, FeatureId, Plan, PlanFeature, PlanId, PlanPrice, PriceId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::{
    FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::test_clock::TestClockRun;
use tally_domain::{CustomerId, OrgId, Organization, Timestamp};
use tally_store::{DueDeadline, PlanFeatureEntry, StoreError};
use tally_store_sql::{
    DueRow, FeatureRow, OrganizationRow, PlanFeatureRow, PlanRow, PriceRow, RunRow, SnapshotRow,
    SubscriptionRow, json_text, run_body,
};

type Result<T> = std::result::Result<T, StoreError>;

const FEATURE_COLUMNS: &str = "f.id, f.org_id, f.code, f.name, f.type, f.description, f.unit_name, f.created_at_ms, f.updated_at_ms";
const PLAN_COLUMNS: &str = "id, org_id, code, name, description, consumption_model, is_public, \
     is_free, block_on_exhaustion, metadata, created_at_ms, updated_at_ms";
const PRICE_COLUMNS: &str = "id, plan_id, billing_interval, price_cents, is_default, trial_days, \
     included_balance, included_credits, metadata, created_at_ms, updated_at_ms";
const SUBSCRIPTION_COLUMNS: &str = "id, org_id, customer_id, plan_id, price_id, name, description, \
     status, billing_interval, start_date_ms, trial_ends_at_ms, anchor_ms, period_index, \
     period_start_ms, period_end_ms, cancel_scheduled_at_ms, cancel_reason, \
     cancel_effective_at_ms, canceled_at_ms, ended_at_ms, credits_remaining, credits_included, \
     credits_purchased, balance_remaining, balance_included, created_at_ms, updated_at_ms";
const SNAPSHOT_COLUMNS: &str = "feature_id, code, name, type, unit_name, enabled, included_amount, \
     unlimited, overage_enabled, overage_unit_price";

fn features_of(rows: Vec<FeatureRow>) -> Result<Vec<Feature>> {
    rows.into_iter().map(FeatureRow::into_domain).collect()
}

fn plans_of(rows: Vec<PlanRow>) -> Result<Vec<Plan>> {
    rows.into_iter().map(PlanRow::into_domain).collect()
}

pub async fn lock_organization(conn: &mut Conn, org: &OrgId) -> Result<Option<Organization>> {
    let row: Option<OrganizationRow> = sqlx::query_as(
        "SELECT id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms \
         FROM organizations WHERE id = ?",
    )
    .bind(org.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(OrganizationRow::into_domain).transpose()
}

pub async fn set_test_clock(conn: &mut Conn, org: &OrgId, at: Timestamp) -> Result<()> {
    sqlx::query("UPDATE organizations SET test_clock_ms = ? WHERE id = ?")
        .bind(at.as_millis())
        .bind(org.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn insert_test_clock_run(conn: &mut Conn, org: &OrgId, run: &TestClockRun) -> Result<()> {
    sqlx::query(
        "INSERT INTO test_clock_runs (id, org_id, body, created_at_ms) VALUES (?, ?, ?, ?)",
    )
    .bind(run.id.as_str())
    .bind(org.as_str())
    .bind(run_body(run))
    .bind(run.created_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn latest_test_clock_run(conn: &mut Conn, org: &OrgId) -> Result<Option<TestClockRun>> {
    let row: Option<RunRow> = sqlx::query_as(
        "SELECT id, body, created_at_ms FROM test_clock_runs WHERE org_id = ? \
         ORDER BY created_at_ms DESC, id DESC LIMIT 1",
    )
    .bind(org.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(RunRow::into_domain).transpose()
}

pub async fn features(conn: &mut Conn, org: &OrgId) -> Result<Vec<Feature>> {
    let rows: Vec<FeatureRow> = sqlx::query_as(&format!(
        "SELECT {FEATURE_COLUMNS} FROM features f WHERE f.org_id = ? ORDER BY f.created_at_ms, f.id"
    ))
    .bind(org.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    features_of(rows)
}

pub async fn feature_by_code(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    code: &str,
) -> Result<Option<Feature>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<FeatureRow> = sqlx::query_as(&format!(
        "SELECT {FEATURE_COLUMNS} FROM features f WHERE f.org_id = ? AND f.code = ?{lock}"
    ))
    .bind(org.as_str())
    .bind(code)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(FeatureRow::into_domain).transpose()
}

pub async fn insert_feature(conn: &mut Conn, feature: &Feature) -> Result<()> {
    sqlx::query(
        "INSERT INTO features (id, org_id, code, name, type, description, unit_name, \
             created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_feature(conn: &mut Conn, feature: &Feature) -> Result<()> {
    sqlx::query(
        "UPDATE features SET name = ?, description = ?, unit_name = ?, updated_at_ms = ? \
         WHERE id = ?",
    )
    .bind(&feature.name)
    .bind(&feature.description)
    .bind(&feature.unit_name)
    .bind(feature.updated_at.as_millis())
    .bind(feature.id.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn delete_feature(conn: &mut Conn, org: &OrgId, id: &FeatureId) -> Result<()> {
    // Attachments to deleted plans go with the feature; live plans were checked by the caller.
    sqlx::query("DELETE FROM plan_features WHERE org_id = ? AND feature_id = ?")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    sqlx::query("DELETE FROM features WHERE org_id = ? AND id = ?")
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn feature_is_attached(conn: &mut Conn, org: &OrgId, id: &FeatureId) -> Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM plan_features pf JOIN plans p ON p.id = pf.plan_id \
         WHERE pf.org_id = ? AND pf.feature_id = ? AND p.deleted_at_ms IS NULL",
    )
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_one(conn)
    .await
    .map_err(map_error)?;
    Ok(count > 0)
}

pub async fn plans(conn: &mut Conn, org: &OrgId, include_private: bool) -> Result<Vec<Plan>> {
    let rows: Vec<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans \
         WHERE org_id = ? AND deleted_at_ms IS NULL AND (is_public OR ?) \
         ORDER BY created_at_ms, id"
    ))
    .bind(org.as_str())
    .bind(include_private)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    plans_of(rows)
}

pub async fn plan(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    id: &PlanId,
) -> Result<Option<Plan>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans \
         WHERE org_id = ? AND id = ? AND deleted_at_ms IS NULL{lock}"
    ))
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(PlanRow::into_domain).transpose()
}

pub async fn plan_any(conn: &mut Conn, org: &OrgId, id: &PlanId) -> Result<Option<Plan>> {
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans WHERE org_id = ? AND id = ?"
    ))
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(PlanRow::into_domain).transpose()
}

pub async fn plan_by_code(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    code: &str,
) -> Result<Option<Plan>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<PlanRow> = sqlx::query_as(&format!(
        "SELECT {PLAN_COLUMNS} FROM plans \
         WHERE org_id = ? AND code = ? AND deleted_at_ms IS NULL{lock}"
    ))
    .bind(org.as_str())
    .bind(code)
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(PlanRow::into_domain).transpose()
}

pub async fn insert_plan(conn: &mut Conn, plan: &Plan) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO plans ({PLAN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
    .bind(plan.created_at.as_millis())
    .bind(plan.updated_at.as_millis())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_plan(conn: &mut Conn, plan: &Plan) -> Result<()> {
    sqlx::query(
        "UPDATE plans SET name = ?, description = ?, is_public = ?, metadata = ?, \
             updated_at_ms = ? WHERE id = ?",
    )
    .bind(&plan.name)
    .bind(&plan.description)
    .bind(plan.is_public)
    .bind(json_text(plan.metadata.as_ref()))
    .bind(plan.updated_at.as_millis())
    .bind(plan.id.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn delete_plan(conn: &mut Conn, org: &OrgId, id: &PlanId, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE plans SET deleted_at_ms = ? WHERE org_id = ? AND id = ?")
        .bind(now.as_millis())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn plan_prices(conn: &mut Conn, org: &OrgId, plan: &PlanId) -> Result<Vec<PlanPrice>> {
    let rows: Vec<PriceRow> = sqlx::query_as(&format!(
        "SELECT {PRICE_COLUMNS} FROM plan_prices \
         WHERE org_id = ? AND plan_id = ? AND archived_at_ms IS NULL ORDER BY created_at_ms, id"
    ))
    .bind(org.as_str())
    .bind(plan.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.into_iter().map(PriceRow::into_domain).collect()
}

pub async fn price(conn: &mut Conn, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>> {
    let row: Option<PriceRow> = sqlx::query_as(&format!(
        "SELECT {PRICE_COLUMNS} FROM plan_prices WHERE org_id = ? AND id = ?"
    ))
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(PriceRow::into_domain).transpose()
}

pub async fn insert_price(conn: &mut Conn, org: &OrgId, price: &PlanPrice) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO plan_prices (org_id, {PRICE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_price(conn: &mut Conn, price: &PlanPrice) -> Result<()> {
    sqlx::query(
        "UPDATE plan_prices SET price_cents = ?, is_default = ?, trial_days = ?, \
             included_balance = ?, included_credits = ?, metadata = ?, updated_at_ms = ? \
         WHERE id = ?",
    )
    .bind(price.price.0)
    .bind(price.is_default)
    .bind(price.trial_days)
    .bind(price.included_balance.map(|r| r.0))
    .bind(price.included_credits)
    .bind(json_text(Some(&price.metadata)))
    .bind(price.updated_at.as_millis())
    .bind(price.id.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn archive_price(conn: &mut Conn, id: &PriceId, now: Timestamp) -> Result<()> {
    sqlx::query("UPDATE plan_prices SET archived_at_ms = ?, is_default = ? WHERE id = ?")
        .bind(now.as_millis())
        .bind(false)
        .bind(id.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn plan_features(
    conn: &mut Conn,
    org: &OrgId,
    plan: &PlanId,
) -> Result<Vec<PlanFeatureEntry>> {
    let rows: Vec<PlanFeatureRow> = sqlx::query_as(&format!(
        "SELECT pf.plan_id, pf.enabled, pf.included_amount, pf.unlimited, pf.overage_enabled, \
             pf.overage_unit_price, pf.credits_per_unit, pf.pricing_mode, pf.margin, \
             pf.created_at_ms AS pf_created_at_ms, {FEATURE_COLUMNS} \
         FROM plan_features pf JOIN features f ON f.id = pf.feature_id \
         WHERE pf.org_id = ? AND pf.plan_id = ? ORDER BY pf.created_at_ms, f.id"
    ))
    .bind(org.as_str())
    .bind(plan.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.into_iter().map(PlanFeatureRow::into_domain).collect()
}

pub async fn insert_plan_feature(conn: &mut Conn, org: &OrgId, pf: &PlanFeature) -> Result<()> {
    sqlx::query(
        "INSERT INTO plan_features (plan_id, feature_id, org_id, enabled, included_amount, \
             unlimited, overage_enabled, overage_unit_price, credits_per_unit, pricing_mode, \
             margin, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_plan_feature(conn: &mut Conn, pf: &PlanFeature) -> Result<()> {
    sqlx::query(
        "UPDATE plan_features SET enabled = ?, included_amount = ?, unlimited = ?, \
             overage_enabled = ?, overage_unit_price = ?, credits_per_unit = ?, \
             pricing_mode = ?, margin = ? \
         WHERE plan_id = ? AND feature_id = ?",
    )
    .bind(pf.enabled)
    .bind(pf.included_amount)
    .bind(pf.unlimited)
    .bind(pf.overage.enabled)
    .bind(pf.overage.unit_price.map(|r| r.0))
    .bind(pf.credits_per_unit)
    .bind(&pf.pricing_mode)
    .bind(pf.margin)
    .bind(pf.plan_id.as_str())
    .bind(pf.feature_id.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn delete_plan_feature(
    conn: &mut Conn,
    plan: &PlanId,
    feature: &FeatureId,
) -> Result<()> {
    sqlx::query("DELETE FROM plan_features WHERE plan_id = ? AND feature_id = ?")
        .bind(plan.as_str())
        .bind(feature.as_str())
        .execute(conn)
        .await
        .map_err(map_error)?;
    Ok(())
}

pub async fn subscription(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    id: &SubscriptionId,
) -> Result<Option<Subscription>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<SubscriptionRow> = sqlx::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE org_id = ? AND id = ?{lock}"
    ))
    .bind(org.as_str())
    .bind(id.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(SubscriptionRow::into_domain).transpose()
}

pub async fn live_subscription(
    conn: &mut Conn,
    for_update: bool,
    org: &OrgId,
    customer: &CustomerId,
) -> Result<Option<Subscription>> {
    let lock = crate::lock_clause(for_update);
    let row: Option<SubscriptionRow> = sqlx::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
         WHERE org_id = ? AND customer_id = ? AND status <> 'canceled'{lock}"
    ))
    .bind(org.as_str())
    .bind(customer.as_str())
    .fetch_optional(conn)
    .await
    .map_err(map_error)?;
    row.map(SubscriptionRow::into_domain).transpose()
}

pub async fn live_subscriptions_of_plan(
    conn: &mut Conn,
    org: &OrgId,
    plan: &PlanId,
) -> Result<Vec<SubscriptionId>> {
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM subscriptions WHERE org_id = ? AND plan_id = ? AND status <> 'canceled' \
         ORDER BY id",
    )
    .bind(org.as_str())
    .bind(plan.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(ids.into_iter().map(SubscriptionId::from_stored).collect())
}

pub async fn subscriptions(
    conn: &mut Conn,
    org: &OrgId,
    customer: Option<&CustomerId>,
    status: Option<SubscriptionStatus>,
    page: &PageRequest,
) -> Result<Page<Subscription>> {
    let (after_ms, after_id) = match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    };
    let customer = customer.map(CustomerId::as_str);
    let status = status.map(SubscriptionStatus::as_str);
    let rows: Vec<SubscriptionRow> = sqlx::query_as(&format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
         WHERE org_id = ? AND (? IS NULL OR customer_id = ?) AND (? IS NULL OR status = ?) \
           AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) \
         ORDER BY created_at_ms DESC, id DESC LIMIT ?"
    ))
    .bind(org.as_str())
    .bind(customer)
    .bind(customer)
    .bind(status)
    .bind(status)
    .bind(after_ms)
    .bind(after_ms)
    .bind(after_id)
    .bind(i64::from(page.limit) + 1)
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    let items = rows
        .into_iter()
        .map(SubscriptionRow::into_domain)
        .collect::<Result<Vec<_>>>()?;
    Ok(Page::from_overfetch(items, page.limit))
}

pub async fn insert_subscription(
    conn: &mut Conn,
    sub: &Subscription,
    next_deadline: Option<Timestamp>,
) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO subscriptions ({SUBSCRIPTION_COLUMNS}, next_deadline_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(sub.id.as_str())
    .bind(sub.org_id.as_str())
    .bind(sub.customer_id.as_str())
    .bind(sub.plan_id.as_str())
    .bind(sub.price_id.as_ref().map(PriceId::as_str))
    .bind(&sub.name)
    .bind(&sub.description)
    .bind(sub.status.as_str())
    .bind(sub.billing_interval.map(|i| i.as_str()))
    .bind(sub.start_date.as_millis())
    .bind(sub.trial_ends_at.map(Timestamp::as_millis))
    .bind(sub.anchor.as_millis())
    .bind(i64::from(sub.period_index))
    .bind(sub.current_period.map(|p| p.start.as_millis()))
    .bind(sub.current_period.map(|p| p.end.as_millis()))
    .bind(sub.cancellation.as_ref().map(|c| c.scheduled_at.as_millis()))
    .bind(sub.cancellation.as_ref().and_then(|c| c.reason.clone()))
    .bind(sub.cancellation.as_ref().map(|c| c.effective_at.as_millis()))
    .bind(sub.canceled_at.map(Timestamp::as_millis))
    .bind(sub.ended_at.map(Timestamp::as_millis))
    .bind(sub.credits.map(|c| c.remaining))
    .bind(sub.credits.map(|c| c.included))
    .bind(sub.credits.map(|c| c.purchased))
    .bind(sub.balance.map(|b| b.remaining.0))
    .bind(sub.balance.map(|b| b.included.0))
    .bind(sub.created_at.as_millis())
    .bind(sub.updated_at.as_millis())
    .bind(next_deadline.map(Timestamp::as_millis))
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn update_subscription(
    conn: &mut Conn,
    sub: &Subscription,
    next_deadline: Option<Timestamp>,
) -> Result<()> {
    sqlx::query(
        "UPDATE subscriptions SET status = ?, trial_ends_at_ms = ?, anchor_ms = ?, \
             period_index = ?, period_start_ms = ?, period_end_ms = ?, \
             cancel_scheduled_at_ms = ?, cancel_reason = ?, cancel_effective_at_ms = ?, \
             canceled_at_ms = ?, ended_at_ms = ?, credits_remaining = ?, credits_included = ?, \
             credits_purchased = ?, balance_remaining = ?, balance_included = ?, \
             updated_at_ms = ?, next_deadline_ms = ? \
         WHERE org_id = ? AND id = ?",
    )
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
    .bind(sub.updated_at.as_millis())
    .bind(next_deadline.map(Timestamp::as_millis))
    .bind(sub.org_id.as_str())
    .bind(sub.id.as_str())
    .execute(conn)
    .await
    .map_err(map_error)?;
    Ok(())
}

pub async fn subscription_features(
    conn: &mut Conn,
    sub: &SubscriptionId,
) -> Result<Vec<FeatureSnapshot>> {
    let rows: Vec<SnapshotRow> = sqlx::query_as(&format!(
        "SELECT {SNAPSHOT_COLUMNS} FROM subscription_features WHERE subscription_id = ? \
         ORDER BY position"
    ))
    .bind(sub.as_str())
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    rows.into_iter().map(SnapshotRow::into_domain).collect()
}

pub async fn replace_subscription_features(
    conn: &mut Conn,
    sub: &SubscriptionId,
    features: &[FeatureSnapshot],
) -> Result<()> {
    sqlx::query("DELETE FROM subscription_features WHERE subscription_id = ?")
        .bind(sub.as_str())
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    for (position, f) in features.iter().enumerate() {
        sqlx::query(&format!(
            "INSERT INTO subscription_features (subscription_id, position, {SNAPSHOT_COLUMNS}) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
        .execute(&mut *conn)
        .await
        .map_err(map_error)?;
    }
    Ok(())
}

pub async fn due_deadlines(
    conn: &mut Conn,
    org: Option<&OrgId>,
    until: Timestamp,
    limit: u32,
) -> Result<Vec<DueDeadline>> {
    let org = org.map(OrgId::as_str);
    let rows: Vec<DueRow> = sqlx::query_as(
        "SELECT s.org_id, s.id, s.next_deadline_ms FROM subscriptions s \
         JOIN organizations o ON o.id = s.org_id \
         WHERE s.next_deadline_ms IS NOT NULL AND s.next_deadline_ms <= ? \
           AND ((? IS NOT NULL AND s.org_id = ?) OR (? IS NULL AND o.test_clock_ms IS NULL)) \
         ORDER BY s.next_deadline_ms, s.id LIMIT ?",
    )
    .bind(until.as_millis())
    .bind(org)
    .bind(org)
    .bind(org)
    .bind(i64::from(limit))
    .fetch_all(conn)
    .await
    .map_err(map_error)?;
    Ok(rows
        .into_iter()
        .map(|r| DueDeadline {
            org_id: OrgId::new(r.org_id),
            subscription_id: SubscriptionId::from_stored(r.id),
            due_at: Timestamp::from_millis(r.next_deadline_ms),
        })
        .collect())
}
