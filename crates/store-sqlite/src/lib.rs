//! The SQLite implementation of Tally's storage interface.
//!
//! One file, WAL journal. Writes go through a pool of exactly one connection and start with
//! `BEGIN IMMEDIATE`: in-process writers queue fairly in the pool instead of spinning on
//! `SQLITE_BUSY`, and another process holding the lock makes us wait up to the busy timeout.
//! Reads use their own pool and never block on writers. The queries mirror
//! `tally-store-postgres` method by method, so a side-by-side diff shows only dialect.

mod catalog;
mod errors;
mod invoices;
mod seats;
mod webhooks;

#[cfg(feature = "testing")]
pub mod testing;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};
use std::str::FromStr;
use std::time::Duration;
use tally_domain::api_key::ApiKey;
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::catalog::{Feature, FeatureId, Plan, PlanFeature, PlanId, PlanPrice, PriceId};
use tally_domain::events::WebhookEvent;
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent};
use tally_domain::subscription::{
    FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::test_clock::TestClockRun;
use tally_domain::webhooks::{Delivery, WebhookEndpoint};
use tally_domain::{ApiKeyId, Customer, CustomerId, Mode, OrgId, Organization, Timestamp};
use tally_store::{
    Attempt, DeliveryLog, DueDeadline, IdempotencyRecord, InvoiceFilter, KeyLookup,
    PlanFeatureEntry, SeatEventFilter, Store, StoreError, StoredResponse, Tx,
};

use errors::map_error;
use tally_store_sql::{
    ApiKeyRow, CustomerRow, IdempotencyRow, KeyLookupRow, OrganizationRow, json_text,
};

/// How long a writer waits for another process's write lock before `Retry`.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Readers run in parallel with the single writer under WAL.
pub const READ_CONNECTIONS_MAX: u32 = 8;

/// The row-lock clause of a read inside a write transaction: none on SQLite, whose write
/// transactions already hold its single write lock (`BEGIN IMMEDIATE`).
fn lock_clause(_for_update: bool) -> &'static str {
    ""
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct SqliteStore {
    reads: SqlitePool,
    writes: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite:path`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str(url)
            .map_err(map_error)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // Decision: FULL, not NORMAL. A billing ledger must survive power loss, not only a
            // process crash; the cost is one fsync per commit, measured by the benchmark.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS));
        let writes = SqlitePoolOptions::new()
            // Decision: no ping before every acquire; a broken connection fails its statement
            // and is replaced, which costs less than a round trip on every query.
            .test_before_acquire(false)
            .max_connections(1)
            .connect_with(options.clone())
            .await
            .map_err(map_error)?;
        let reads = SqlitePoolOptions::new()
            // Decision: no ping before every acquire; a broken connection fails its statement
            // and is replaced, which costs less than a round trip on every query.
            .test_before_acquire(false)
            .max_connections(READ_CONNECTIONS_MAX)
            .connect_with(options.read_only(true))
            .await
            .map_err(map_error)?;
        Ok(Self { reads, writes })
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.writes)
            .await
            .map_err(|e| StoreError::Other(Box::new(e)))
    }

    /// Migration names, for the check that both backends list the same ones.
    pub fn migration_names() -> Vec<String> {
        MIGRATOR
            .iter()
            .map(|m| format!("{:04}_{}", m.version, m.description.replace(' ', "_")))
            .collect()
    }
}

const CUSTOMER_COLUMNS: &str = "id, org_id, external_id, full_name, email, tax_document, timezone, \
     metadata, address, created_at_ms, updated_at_ms";
const API_KEY_COLUMNS: &str =
    "id, org_id, name, prefix, expires_at_ms, last_used_at_ms, created_at_ms";

#[async_trait]
impl Store for SqliteStore {
    async fn begin(&self) -> Result<Box<dyn Tx>, StoreError> {
        let tx = self
            .writes
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_error)?;
        Ok(Box::new(SqliteTx { tx }))
    }

    async fn key_by_secret_hash(&self, secret_hash: &str) -> Result<Option<KeyLookup>, StoreError> {
        let row: Option<KeyLookupRow> = sqlx::query_as(
            "SELECT k.id, k.org_id, k.name, k.prefix, k.expires_at_ms, k.last_used_at_ms, \
                    k.created_at_ms, o.name AS org_name, o.mode, o.paired_org_id, o.api_version, \
                    o.test_clock_ms, o.created_at_ms AS org_created_at_ms \
             FROM api_keys k JOIN organizations o ON o.id = k.org_id \
             WHERE k.secret_hash = ? AND k.revoked_at_ms IS NULL",
        )
        .bind(secret_hash)
        .fetch_optional(&self.reads)
        .await
        .map_err(map_error)?;
        row.map(KeyLookupRow::into_lookup).transpose()
    }

    async fn touch_api_key(
        &self,
        key: &ApiKeyId,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE api_keys SET last_used_at_ms = ? \
             WHERE id = ? AND (last_used_at_ms IS NULL OR last_used_at_ms <= ?)",
        )
        .bind(now.as_millis())
        .bind(key.as_str())
        .bind(unless_after.as_millis())
        .execute(&self.writes)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn organization_count(&self) -> Result<u64, StoreError> {
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.reads)
            .await
            .map_err(map_error)?;
        Ok(count.unsigned_abs())
    }

    async fn organization(&self, org: &OrgId) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrganizationRow> = sqlx::query_as(
            "SELECT id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms \
             FROM organizations WHERE id = ?",
        )
        .bind(org.as_str())
        .fetch_optional(&self.reads)
        .await
        .map_err(map_error)?;
        row.map(OrganizationRow::into_domain).transpose()
    }

    async fn oldest_organization(&self, mode: Mode) -> Result<Option<Organization>, StoreError> {
        let row: Option<OrganizationRow> = sqlx::query_as(
            "SELECT id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms \
             FROM organizations WHERE mode = ? ORDER BY created_at_ms, id LIMIT 1",
        )
        .bind(mode.as_str())
        .fetch_optional(&self.reads)
        .await
        .map_err(map_error)?;
        row.map(OrganizationRow::into_domain).transpose()
    }

    async fn api_keys(&self, org: &OrgId, page: &PageRequest) -> Result<Page<ApiKey>, StoreError> {
        let (after_ms, after_id) = page_after(page);
        let rows: Vec<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE org_id = ? AND revoked_at_ms IS NULL \
               AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) \
             ORDER BY created_at_ms DESC, id DESC LIMIT ?"
        ))
        .bind(org.as_str())
        .bind(after_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.reads)
        .await
        .map_err(map_error)?;
        let keys = rows.into_iter().map(ApiKeyRow::into_domain).collect();
        Ok(Page::from_overfetch(keys, page.limit))
    }

    async fn customer(&self, org: &OrgId, id: &CustomerId) -> Result<Option<Customer>, StoreError> {
        let row: Option<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = ? AND id = ?"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&self.reads)
        .await
        .map_err(map_error)?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn customer_by_external_id(
        &self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let row: Option<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = ? AND external_id = ?"
        ))
        .bind(org.as_str())
        .bind(external_id)
        .fetch_optional(&self.reads)
        .await
        .map_err(map_error)?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn customers(
        &self,
        org: &OrgId,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let (after_ms, after_id) = page_after(page);
        let rows: Vec<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers \
             WHERE org_id = ? AND (? IS NULL OR external_id = ?) \
               AND (created_at_ms < ? OR (created_at_ms = ? AND id < ?)) \
             ORDER BY created_at_ms DESC, id DESC LIMIT ?"
        ))
        .bind(org.as_str())
        .bind(external_id)
        .bind(external_id)
        .bind(after_ms)
        .bind(after_ms)
        .bind(after_id)
        .bind(i64::from(page.limit) + 1)
        .fetch_all(&self.reads)
        .await
        .map_err(map_error)?;
        let customers = rows
            .into_iter()
            .map(CustomerRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(customers, page.limit))
    }

    async fn purge_idempotency(&self, now: Timestamp) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at_ms <= ?")
            .bind(now.as_millis())
            .execute(&self.writes)
            .await
            .map_err(map_error)?;
        Ok(done.rows_affected())
    }

    async fn features(&self, org: &OrgId) -> Result<Vec<Feature>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::features(&mut conn, org).await
    }

    async fn feature_by_code(
        &self,
        org: &OrgId,
        code: &str,
    ) -> Result<Option<Feature>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::feature_by_code(&mut conn, false, org, code).await
    }

    async fn plans(&self, org: &OrgId, include_private: bool) -> Result<Vec<Plan>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plans(&mut conn, org, include_private).await
    }

    async fn plan(&self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plan(&mut conn, false, org, id).await
    }

    async fn plan_by_code(&self, org: &OrgId, code: &str) -> Result<Option<Plan>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plan_by_code(&mut conn, false, org, code).await
    }

    async fn plan_prices(&self, org: &OrgId, plan: &PlanId) -> Result<Vec<PlanPrice>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plan_prices(&mut conn, org, plan).await
    }

    async fn price(&self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::price(&mut conn, org, id).await
    }

    async fn plan_features(
        &self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plan_features(&mut conn, org, plan).await
    }

    async fn subscription(
        &self,
        org: &OrgId,
        id: &SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::subscription(&mut conn, false, org, id).await
    }

    async fn live_subscription(
        &self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<Subscription>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::live_subscription(&mut conn, false, org, customer).await
    }

    async fn subscriptions(
        &self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        status: Option<SubscriptionStatus>,
        page: &PageRequest,
    ) -> Result<Page<Subscription>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::subscriptions(&mut conn, org, customer, status, page).await
    }

    async fn subscription_features(
        &self,
        _org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::subscription_features(&mut conn, subscription).await
    }

    async fn seat_balances(
        &self,
        _org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        seats::seat_balances(&mut conn, subscription).await
    }

    async fn seat_events(
        &self,
        org: &OrgId,
        customer: &CustomerId,
        filter: &SeatEventFilter,
        page: &PageRequest,
    ) -> Result<Page<SeatEvent>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        seats::seat_events(&mut conn, org, customer, filter, page).await
    }

    async fn latest_test_clock_run(&self, org: &OrgId) -> Result<Option<TestClockRun>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::latest_test_clock_run(&mut conn, org).await
    }

    async fn plan_any(&self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::plan_any(&mut conn, org, id).await
    }

    async fn webhook_endpoints(
        &self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        webhooks::webhook_endpoints(&mut conn, org, page).await
    }

    async fn webhook_endpoint(
        &self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        webhooks::webhook_endpoint(&mut conn, false, org, id).await
    }

    async fn delivery_logs(
        &self,
        org: &OrgId,
        endpoint: &str,
        page: &PageRequest,
    ) -> Result<Page<DeliveryLog>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        webhooks::delivery_logs(&mut conn, org, endpoint, page).await
    }

    async fn invoices(
        &self,
        org: &OrgId,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        invoices::invoices(&mut conn, org, filter, page).await
    }

    async fn invoice(&self, org: &OrgId, id: &str) -> Result<Option<Invoice>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        invoices::invoice(&mut conn, false, org, id).await
    }

    async fn due_deadlines(
        &self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        let mut conn = self.reads.acquire().await.map_err(map_error)?;
        catalog::due_deadlines(&mut conn, org, until, limit).await
    }
}

/// The keyset bound for "strictly after the cursor" in newest-first order; with no cursor, a
/// bound above every row.
fn page_after(page: &PageRequest) -> (i64, String) {
    match &page.after {
        Some(position) => (position.created_at.as_millis(), position.id.clone()),
        None => (i64::MAX, String::new()),
    }
}

pub struct SqliteTx {
    tx: Transaction<'static, Sqlite>,
}

#[async_trait]
impl Tx for SqliteTx {
    async fn idempotency_record(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError> {
        let row: Option<IdempotencyRow> = sqlx::query_as(
            "SELECT fingerprint, response_status, response_body, created_at_ms, expires_at_ms \
             FROM idempotency_keys WHERE org_id = ? AND key = ?",
        )
        .bind(org.as_str())
        .bind(key)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(row.map(IdempotencyRow::into_record))
    }

    async fn claim_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        fingerprint: &str,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO idempotency_keys (org_id, key, fingerprint, created_at_ms, expires_at_ms) \
             VALUES (?, ?, ?, ?, ?)",
        )
        .bind(org.as_str())
        .bind(key)
        .bind(fingerprint)
        .bind(now.as_millis())
        .bind(expires_at.as_millis())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn complete_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        response: &StoredResponse,
    ) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE idempotency_keys SET response_status = ?, response_body = ? \
             WHERE org_id = ? AND key = ?",
        )
        .bind(i32::from(response.status))
        .bind(&response.body)
        .bind(org.as_str())
        .bind(key)
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn delete_idempotency(&mut self, org: &OrgId, key: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM idempotency_keys WHERE org_id = ? AND key = ?")
            .bind(org.as_str())
            .bind(key)
            .execute(&mut *self.tx)
            .await
            .map_err(map_error)?;
        Ok(())
    }

    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO organizations \
                 (id, name, mode, paired_org_id, api_version, test_clock_ms, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(org.id.as_str())
        .bind(&org.name)
        .bind(org.mode.as_str())
        .bind(org.paired_org_id.as_ref().map(OrgId::as_str))
        .bind(org.api_version.as_str())
        .bind(org.test_clock.map(Timestamp::as_millis))
        .bind(org.created_at.as_millis())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO api_keys (id, org_id, name, prefix, secret_hash, expires_at_ms, \
                 last_used_at_ms, created_at_ms) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(key.id.as_str())
        .bind(key.org_id.as_str())
        .bind(&key.name)
        .bind(&key.prefix)
        .bind(secret_hash)
        .bind(key.expires_at.map(Timestamp::as_millis))
        .bind(key.last_used_at.map(Timestamp::as_millis))
        .bind(key.created_at.as_millis())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn revoke_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at_ms = ? \
             WHERE org_id = ? AND id = ? AND revoked_at_ms IS NULL",
        )
        .bind(now.as_millis())
        .bind(org.as_str())
        .bind(id.as_str())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(done.rows_affected() == 1)
    }

    async fn api_key(&mut self, org: &OrgId, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError> {
        let row: Option<ApiKeyRow> = sqlx::query_as(&format!(
            "SELECT {API_KEY_COLUMNS} FROM api_keys \
             WHERE org_id = ? AND id = ? AND revoked_at_ms IS NULL"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(row.map(ApiKeyRow::into_domain))
    }

    async fn lock_customer(
        &mut self,
        org: &OrgId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        // The transaction already holds SQLite's single write lock.
        let row: Option<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = ? AND id = ?"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error)?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn customer(
        &mut self,
        org: &OrgId,
        id: &CustomerId,
    ) -> Result<Option<Customer>, StoreError> {
        let row: Option<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = ? AND id = ?"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error)?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn lock_customer_by_external_id(
        &mut self,
        org: &OrgId,
        external_id: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let row: Option<CustomerRow> = sqlx::query_as(&format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = ? AND external_id = ?"
        ))
        .bind(org.as_str())
        .bind(external_id)
        .fetch_optional(&mut *self.tx)
        .await
        .map_err(map_error)?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        ))
        .bind(customer.id.as_str())
        .bind(customer.org_id.as_str())
        .bind(&customer.external_id)
        .bind(&customer.full_name)
        .bind(&customer.email)
        .bind(&customer.tax_document)
        .bind(&customer.timezone)
        .bind(json_text(customer.metadata.as_ref()))
        .bind(json_text(customer.address.as_ref()))
        .bind(customer.created_at.as_millis())
        .bind(customer.updated_at.as_millis())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        Ok(())
    }

    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE customers SET external_id = ?, full_name = ?, email = ?, tax_document = ?, \
                 timezone = ?, metadata = ?, address = ?, updated_at_ms = ? \
             WHERE org_id = ? AND id = ?",
        )
        .bind(&customer.external_id)
        .bind(&customer.full_name)
        .bind(&customer.email)
        .bind(&customer.tax_document)
        .bind(&customer.timezone)
        .bind(json_text(customer.metadata.as_ref()))
        .bind(json_text(customer.address.as_ref()))
        .bind(customer.updated_at.as_millis())
        .bind(customer.org_id.as_str())
        .bind(customer.id.as_str())
        .execute(&mut *self.tx)
        .await
        .map_err(map_error)?;
        if done.rows_affected() == 1 {
            Ok(())
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn lock_organization(&mut self, org: &OrgId) -> Result<Option<Organization>, StoreError> {
        catalog::lock_organization(&mut self.tx, org).await
    }

    async fn set_test_clock(&mut self, org: &OrgId, at: Timestamp) -> Result<(), StoreError> {
        catalog::set_test_clock(&mut self.tx, org, at).await
    }

    async fn insert_test_clock_run(
        &mut self,
        org: &OrgId,
        run: &TestClockRun,
    ) -> Result<(), StoreError> {
        catalog::insert_test_clock_run(&mut self.tx, org, run).await
    }

    async fn features(&mut self, org: &OrgId) -> Result<Vec<Feature>, StoreError> {
        catalog::features(&mut self.tx, org).await
    }

    async fn lock_feature_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
    ) -> Result<Option<Feature>, StoreError> {
        catalog::feature_by_code(&mut self.tx, true, org, code).await
    }

    async fn insert_feature(&mut self, feature: &Feature) -> Result<(), StoreError> {
        catalog::insert_feature(&mut self.tx, feature).await
    }

    async fn update_feature(&mut self, feature: &Feature) -> Result<(), StoreError> {
        catalog::update_feature(&mut self.tx, feature).await
    }

    async fn delete_feature(&mut self, org: &OrgId, id: &FeatureId) -> Result<(), StoreError> {
        catalog::delete_feature(&mut self.tx, org, id).await
    }

    async fn feature_is_attached(
        &mut self,
        org: &OrgId,
        id: &FeatureId,
    ) -> Result<bool, StoreError> {
        catalog::feature_is_attached(&mut self.tx, org, id).await
    }

    async fn insert_plan(&mut self, plan: &Plan) -> Result<(), StoreError> {
        catalog::insert_plan(&mut self.tx, plan).await
    }

    async fn update_plan(&mut self, plan: &Plan) -> Result<(), StoreError> {
        catalog::update_plan(&mut self.tx, plan).await
    }

    async fn delete_plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        catalog::delete_plan(&mut self.tx, org, id, now).await
    }

    async fn lock_plan(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        catalog::plan(&mut self.tx, true, org, id).await
    }

    async fn lock_plan_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
    ) -> Result<Option<Plan>, StoreError> {
        catalog::plan_by_code(&mut self.tx, true, org, code).await
    }

    async fn plan_prices(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanPrice>, StoreError> {
        catalog::plan_prices(&mut self.tx, org, plan).await
    }

    async fn insert_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError> {
        catalog::insert_price(&mut self.tx, org, price).await
    }

    async fn update_price(&mut self, price: &PlanPrice) -> Result<(), StoreError> {
        catalog::update_price(&mut self.tx, price).await
    }

    async fn archive_price(&mut self, id: &PriceId, now: Timestamp) -> Result<(), StoreError> {
        catalog::archive_price(&mut self.tx, id, now).await
    }

    async fn plan_features(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError> {
        catalog::plan_features(&mut self.tx, org, plan).await
    }

    async fn insert_plan_feature(
        &mut self,
        org: &OrgId,
        plan_feature: &PlanFeature,
    ) -> Result<(), StoreError> {
        catalog::insert_plan_feature(&mut self.tx, org, plan_feature).await
    }

    async fn update_plan_feature(&mut self, plan_feature: &PlanFeature) -> Result<(), StoreError> {
        catalog::update_plan_feature(&mut self.tx, plan_feature).await
    }

    async fn delete_plan_feature(
        &mut self,
        plan: &PlanId,
        feature: &FeatureId,
    ) -> Result<(), StoreError> {
        catalog::delete_plan_feature(&mut self.tx, plan, feature).await
    }

    async fn lock_subscription(
        &mut self,
        org: &OrgId,
        id: &SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        catalog::subscription(&mut self.tx, true, org, id).await
    }

    async fn lock_live_subscription(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<Subscription>, StoreError> {
        catalog::live_subscription(&mut self.tx, true, org, customer).await
    }

    async fn live_subscriptions_of_plan(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<SubscriptionId>, StoreError> {
        catalog::live_subscriptions_of_plan(&mut self.tx, org, plan).await
    }

    async fn insert_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        catalog::insert_subscription(&mut self.tx, subscription, next_deadline).await
    }

    async fn update_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        catalog::update_subscription(&mut self.tx, subscription, next_deadline).await
    }

    async fn subscription_features(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError> {
        catalog::subscription_features(&mut self.tx, subscription).await
    }

    async fn replace_subscription_features(
        &mut self,
        subscription: &SubscriptionId,
        features: &[FeatureSnapshot],
    ) -> Result<(), StoreError> {
        catalog::replace_subscription_features(&mut self.tx, subscription, features).await
    }

    async fn seat_balances(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatBalance>, StoreError> {
        seats::seat_balances(&mut self.tx, subscription).await
    }

    async fn save_seat_balance(
        &mut self,
        org: &OrgId,
        balance: &SeatBalance,
    ) -> Result<(), StoreError> {
        seats::save_seat_balance(&mut self.tx, org, balance).await
    }

    async fn append_seat_event(&mut self, event: &SeatEvent) -> Result<(), StoreError> {
        seats::append_seat_event(&mut self.tx, event).await
    }

    async fn insert_webhook_events(&mut self, events: &[WebhookEvent]) -> Result<(), StoreError> {
        seats::insert_webhook_events(&mut self.tx, events).await
    }

    async fn plan_any(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError> {
        catalog::plan_any(&mut self.tx, org, id).await
    }

    async fn price(&mut self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError> {
        catalog::price(&mut self.tx, org, id).await
    }

    async fn insert_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
    ) -> Result<(), StoreError> {
        webhooks::insert_webhook_endpoint(&mut self.tx, endpoint).await
    }

    async fn update_webhook_endpoint(
        &mut self,
        endpoint: &WebhookEndpoint,
        deleted: bool,
    ) -> Result<(), StoreError> {
        webhooks::update_webhook_endpoint(&mut self.tx, endpoint, deleted).await
    }

    async fn lock_webhook_endpoint(
        &mut self,
        org: &OrgId,
        id: &str,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        webhooks::webhook_endpoint(&mut self.tx, true, org, id).await
    }

    async fn org_webhook_endpoints(
        &mut self,
        org: &OrgId,
    ) -> Result<Vec<WebhookEndpoint>, StoreError> {
        webhooks::org_webhook_endpoints(&mut self.tx, org).await
    }

    async fn claim_pending_events(&mut self, limit: u32) -> Result<Vec<WebhookEvent>, StoreError> {
        webhooks::claim_pending_events(&mut self.tx, limit).await
    }

    async fn mark_event_fanned_out(
        &mut self,
        event: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        webhooks::mark_event_fanned_out(&mut self.tx, event, now).await
    }

    async fn insert_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError> {
        webhooks::insert_delivery(&mut self.tx, delivery).await
    }

    async fn claim_due_deliveries(
        &mut self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Delivery>, StoreError> {
        webhooks::claim_due_deliveries(&mut self.tx, now, limit).await
    }

    async fn lock_delivery(&mut self, id: &str) -> Result<Option<Delivery>, StoreError> {
        webhooks::lock_delivery(&mut self.tx, id).await
    }

    async fn update_delivery(&mut self, delivery: &Delivery) -> Result<(), StoreError> {
        webhooks::update_delivery(&mut self.tx, delivery).await
    }

    async fn record_attempt(
        &mut self,
        delivery: &str,
        attempt: &Attempt,
    ) -> Result<(), StoreError> {
        webhooks::record_attempt(&mut self.tx, delivery, attempt).await
    }

    async fn next_invoice_number(&mut self, org: &OrgId) -> Result<i64, StoreError> {
        invoices::next_invoice_number(&mut self.tx, org).await
    }

    async fn insert_invoice(&mut self, invoice: &Invoice) -> Result<(), StoreError> {
        invoices::insert_invoice(&mut self.tx, invoice).await
    }

    async fn lock_invoice(&mut self, org: &OrgId, id: &str) -> Result<Option<Invoice>, StoreError> {
        invoices::invoice(&mut self.tx, true, org, id).await
    }

    async fn update_invoice_status(
        &mut self,
        org: &OrgId,
        id: &str,
        status: InvoiceStatus,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        invoices::update_invoice_status(&mut self.tx, org, id, status, at).await
    }

    async fn insert_seat_true_up(
        &mut self,
        org: &OrgId,
        true_up: &SeatTrueUp,
    ) -> Result<(), StoreError> {
        invoices::insert_seat_true_up(&mut self.tx, org, true_up).await
    }

    async fn pending_true_ups(
        &mut self,
        subscription: &SubscriptionId,
    ) -> Result<Vec<SeatTrueUp>, StoreError> {
        invoices::pending_true_ups(&mut self.tx, subscription).await
    }

    async fn mark_true_ups_invoiced(
        &mut self,
        subscription: &SubscriptionId,
        invoice: &str,
    ) -> Result<(), StoreError> {
        invoices::mark_true_ups_invoiced(&mut self.tx, subscription, invoice).await
    }

    async fn due_deadlines(
        &mut self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError> {
        catalog::due_deadlines(&mut self.tx, org, until, limit).await
    }

    async fn commit(self: Box<Self>) -> Result<(), StoreError> {
        self.tx.commit().await.map_err(map_error)
    }
}
