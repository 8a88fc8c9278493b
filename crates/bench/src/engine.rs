//! The engine baseline: the seat write's transaction shape as plain SQL statements on the
//! engine itself, with no Tally code at all, against the same tables and rows.
//!
//! Per transaction, statement for statement what Tally's seat write runs (and `raw_tx` too):
//! read the API key's standing (not revoked; the organization's test clock), lock the customer by its external id and its live subscription (row locks on PostgreSQL),
//! read the organization's features, the subscription's feature snapshot and its seat balances,
//! upsert the balance, insert the seat event, insert the prorated true-up of the extra seat,
//! insert two webhook events in one statement, record the idempotency key with the response,
//! commit. The values are computed in plain Rust; the SQL work is the same.
//!
//! - SQLite: one connection through `rusqlite` (the C library's own speed, statements prepared
//!   once), WAL and `synchronous=FULL` as Tally opens it, one transaction after another. That is
//!   what one SQLite writer can do; the concurrency setting does not apply.
//! - PostgreSQL: `--concurrency` connections, each running the same statements with sqlx, the
//!   thinnest async client at hand (the engine's own `pgbench` gives the same order of figures).

use crate::fixture::FEATURE_CODE;
use crate::load::{self, LoadShape, Measured, Stop};
use rusqlite::{Connection, params};
use sqlx::Connection as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// One bench subscription, as the engine phases address it.
#[derive(Debug, Clone)]
pub struct Target {
    pub org_id: String,
    pub customer_id: String,
    pub external_id: String,
    pub subscription_id: String,
    /// A live key of the organization, whose standing each transaction reads.
    pub key_id: String,
}

/// The live subscriptions the HTTP setup created, read with plain SQL.
pub async fn targets(database_url: &str) -> anyhow::Result<Vec<Target>> {
    const SQL: &str = "SELECT s.org_id, s.customer_id, c.external_id, s.id, \
                       (SELECT MIN(k.id) FROM api_keys k \
                        WHERE k.org_id = s.org_id AND k.revoked_at_ms IS NULL) \
                       FROM subscriptions s JOIN customers c ON c.id = s.customer_id \
                       WHERE s.status <> 'canceled' ORDER BY s.id";
    let rows: Vec<(String, String, String, String, String)> =
        if let Some(path) = sqlite_path(database_url) {
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let conn = Connection::open(path)?;
                let mut statement = conn.prepare(SQL)?;
                let rows = statement
                    .query_map([], |row| {
                        Ok((
                            row.get(0)?,
                            row.get(1)?,
                            row.get(2)?,
                            row.get(3)?,
                            row.get(4)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(rows)
            })
            .await??
        } else {
            let mut conn = sqlx::PgConnection::connect(database_url).await?;
            sqlx::query_as(SQL).fetch_all(&mut conn).await?
        };
    Ok(rows
        .into_iter()
        .map(
            |(org_id, customer_id, external_id, subscription_id, key_id)| Target {
                org_id,
                customer_id,
                external_id,
                subscription_id,
                key_id,
            },
        )
        .collect())
}

/// Runs the transaction shape on the engine under `shape` (SQLite: one connection, serially).
pub async fn seat_writes(
    database_url: &str,
    targets: Vec<Target>,
    shape: LoadShape,
) -> anyhow::Result<Measured> {
    anyhow::ensure!(!targets.is_empty(), "the engine phase needs subscriptions");
    match sqlite_path(database_url) {
        Some(path) => {
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || sqlite_serial(&path, &targets, shape.stop)).await?
        }
        None => Ok(postgres_concurrent(database_url, targets, shape).await),
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
}

const RESPONSE_BODY: &str = r#"{"id":"sev_01JZ000000000000000000000","customerId":"cus_01JZ000000000000000000000","featureCode":"editor","previousBalance":10,"newBalance":11,"ts":"2026-06-01T00:00:00.000Z","createdAt":"2026-06-01T00:00:00.000Z","object":"seat_event","livemode":false}"#;
const EVENT_DATA: &str = r#"{"customerId":"cus_01JZ000000000000000000000","subscriptionId":"sub_01JZ000000000000000000000","featureCode":"editor","previousSeats":10,"currentSeats":11}"#;

fn sqlite_serial(path: &str, targets: &[Target], stop: Stop) -> anyhow::Result<Measured> {
    let mut conn = Connection::open(path)?;
    // The durability Tally uses (`dialect::sqlite`): WAL, FULL, a busy timeout.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let run = std::process::id();
    let mut latencies_ns = Vec::new();
    let mut errors = 0;
    let mut error_samples = Vec::new();
    let started = Instant::now();
    let mut n: u64 = 0;
    loop {
        let more = match stop {
            Stop::After(duration) => started.elapsed() < duration,
            Stop::Requests(requests) => n < requests,
        };
        if !more {
            break;
        }
        let target = &targets[usize::try_from(n).unwrap_or(0) % targets.len()];
        let began = Instant::now();
        match sqlite_transaction(&mut conn, target, &format!("engine-{run}-{n}")) {
            Ok(()) => latencies_ns.push(nanos(began.elapsed())),
            Err(error) => {
                errors += 1;
                if error_samples.len() < 5 {
                    error_samples.push(error.to_string());
                }
            }
        }
        n += 1;
    }
    let elapsed = started.elapsed();
    latencies_ns.sort_unstable();
    Ok(Measured {
        latencies_ns,
        errors,
        error_samples,
        elapsed,
    })
}

fn sqlite_transaction(conn: &mut Connection, t: &Target, key: &str) -> rusqlite::Result<()> {
    let now = now_ms();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.prepare_cached(STANDING_SQL)?
        .query_row(params![t.org_id, t.key_id], |row| {
            row.get::<_, Option<i64>>(0)
        })?;
    let customer: String = tx
        .prepare_cached(CUSTOMER_SQL)?
        .query_row(params![t.org_id, t.external_id], |row| row.get(0))?;
    let status: String = tx
        .prepare_cached(SUBSCRIPTION_SQL)?
        .query_row(params![t.org_id, customer], |row| row.get(1))?;
    debug_assert_ne!(status, "canceled");
    let features = tx
        .prepare_cached(FEATURES_SQL)?
        .query_map(params![t.org_id], |row| row.get::<_, String>(1))?
        .collect::<Result<Vec<_>, _>>()?;
    debug_assert!(features.iter().any(|code| code == FEATURE_CODE));
    let (included, unit_price): (i64, i64) = tx
        .prepare_cached(SNAPSHOT_SQL)?
        .query_map(params![t.subscription_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
        })?
        .filter_map(Result::ok)
        .find(|(code, _, _)| code == FEATURE_CODE)
        .map(|(_, included, price)| (included, price))
        .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let (current, paid_extra): (i64, i64) = tx
        .prepare_cached(BALANCES_SQL)?
        .query_map(params![t.org_id, t.subscription_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get(1)?, row.get(2)?))
        })?
        .filter_map(Result::ok)
        .find(|(code, _, _)| code == FEATURE_CODE)
        .map(|(_, current, paid)| (current, paid))
        .ok_or(rusqlite::Error::QueryReturnedNoRows)?;
    let next = Next::of(current, paid_extra, included, unit_price);
    tx.prepare_cached(UPSERT_SQL)?.execute(params![
        t.subscription_id,
        FEATURE_CODE,
        t.org_id,
        next.current,
        next.paid_extra,
        now
    ])?;
    tx.prepare_cached(EVENT_SQL)?.execute(params![
        format!("sev_{key}"),
        t.org_id,
        t.customer_id,
        t.subscription_id,
        FEATURE_CODE,
        current,
        next.current,
        now,
        now
    ])?;
    if next.newly_paid > 0 {
        tx.prepare_cached(TRUE_UP_SQL)?.execute(params![
            t.org_id,
            format!("sev_{key}"),
            t.subscription_id,
            FEATURE_CODE,
            "Editor seats",
            next.newly_paid,
            unit_price,
            15,
            30,
            next.true_up_cents,
            now
        ])?;
    }
    tx.prepare_cached(WEBHOOK_EVENTS_SQL)?.execute(params![
        format!("evt_{key}a"),
        t.org_id,
        "seats.updated",
        t.customer_id,
        EVENT_DATA,
        now,
        format!("evt_{key}b"),
        "customer.state_changed"
    ])?;
    tx.prepare_cached(RECORD_SQL)?.execute(params![
        t.org_id,
        key,
        key,
        200,
        RESPONSE_BODY,
        now,
        now + 86_400_000,
        t.key_id
    ])?;
    tx.commit()
}

/// The balance after adding one seat, the extra seats paid for, and the true-up owed: what the
/// domain computes, in a few lines (half a 30-day period left).
struct Next {
    current: i64,
    paid_extra: i64,
    newly_paid: i64,
    true_up_cents: i64,
}

impl Next {
    fn of(current: i64, paid_extra: i64, included: i64, unit_price: i64) -> Self {
        let current = current + 1;
        let extra = (current - included).max(0);
        let newly_paid = (extra - paid_extra).max(0);
        Next {
            current,
            paid_extra: extra.max(paid_extra),
            newly_paid,
            true_up_cents: newly_paid * unit_price * 15 / (30 * 100),
        }
    }
}

const STANDING_SQL: &str = "SELECT o.test_clock_ms FROM api_keys k \
     JOIN organizations o ON o.id = k.org_id \
     WHERE k.org_id = $1 AND k.id = $2 AND k.revoked_at_ms IS NULL";
// The statements, as Tally's store writes them (`tally-store-sql`), with SQLite's `?n` and
// PostgreSQL's `$n` both accepted as `$n`.
const CUSTOMER_SQL: &str = "SELECT id, org_id, external_id, full_name, email, tax_document, \
     timezone, metadata, address, created_at_ms, updated_at_ms FROM customers \
     WHERE org_id = $1 AND external_id = $2";
const SUBSCRIPTION_SQL: &str = "SELECT id, status, plan_id, price_id, period_start_ms, \
     period_end_ms, anchor_ms, period_index, created_at_ms, updated_at_ms FROM subscriptions \
     WHERE org_id = $1 AND customer_id = $2 AND status <> 'canceled'";
const FEATURES_SQL: &str = "SELECT id, code, name, type, description, unit_name, created_at_ms, \
     updated_at_ms FROM features WHERE org_id = $1 ORDER BY created_at_ms, id";
const SNAPSHOT_SQL: &str = "SELECT code, included_amount, COALESCE(overage_unit_price, 0) \
     FROM subscription_features WHERE subscription_id = $1 ORDER BY position";
const BALANCES_SQL: &str = "SELECT feature_code, current, paid_extra FROM seat_balances \
     WHERE org_id = $1 AND subscription_id = $2 ORDER BY feature_code";
const UPSERT_SQL: &str = "INSERT INTO seat_balances (subscription_id, feature_code, org_id, \
     current, paid_extra, peak, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $4, $6) \
     ON CONFLICT (subscription_id, feature_code) DO UPDATE SET current = excluded.current, \
     paid_extra = excluded.paid_extra, peak = excluded.peak, updated_at_ms = excluded.updated_at_ms";
const EVENT_SQL: &str = "INSERT INTO seat_events (id, org_id, customer_id, subscription_id, \
     feature_code, previous_balance, new_balance, ts_ms, created_at_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";
const TRUE_UP_SQL: &str = "INSERT INTO seat_true_ups (org_id, seat_event_id, subscription_id, \
     feature_code, feature_name, units, unit_price, days_left, period_days, amount, \
     created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const WEBHOOK_EVENTS_SQL: &str = "INSERT INTO webhook_events (id, org_id, event_type, \
     customer_id, data, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6), ($7, $2, $8, $4, $5, $6)";
/// Every record names the one API key the HTTP phase sends (a stand-in id: the column refers
/// to no key row).
const RECORD_SQL: &str = "INSERT INTO idempotency_keys (org_id, api_key_id, key, fingerprint, \
     response_status, response_body, created_at_ms, expires_at_ms) \
     VALUES ($1, $8, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (org_id, api_key_id, key) DO NOTHING";

async fn postgres_concurrent(url: &str, targets: Vec<Target>, shape: LoadShape) -> Measured {
    let connections = Arc::new(
        sqlx::postgres::PgPoolOptions::new()
            .max_connections(u32::try_from(shape.concurrency).unwrap_or(u32::MAX))
            .test_before_acquire(false)
            .connect_lazy(url)
            .expect("the benchmark's PostgreSQL URL parses"),
    );
    let targets = Arc::new(targets);
    let run = std::process::id();
    let counter = Arc::new(AtomicU64::new(0));
    load::run(shape, move |n| {
        let connections = connections.clone();
        let targets = targets.clone();
        let counter = counter.clone();
        async move {
            let target = &targets[usize::try_from(n).unwrap_or(0) % targets.len()];
            let key = format!("engine-{run}-{}", counter.fetch_add(1, Ordering::Relaxed));
            let mut conn = connections.acquire().await.map_err(|e| e.to_string())?;
            postgres_transaction(&mut conn, target, &key)
                .await
                .map_err(|e| e.to_string())
        }
    })
    .await
}

/// One transaction; rolled back when any statement fails, so the connection goes back clean.
async fn postgres_transaction(
    conn: &mut sqlx::PgConnection,
    t: &Target,
    key: &str,
) -> sqlx::Result<()> {
    let done = postgres_statements(conn, t, key).await;
    if done.is_err() {
        sqlx::query("ROLLBACK").execute(&mut *conn).await.ok();
    }
    done
}

async fn postgres_statements(
    tx: &mut sqlx::PgConnection,
    t: &Target,
    key: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    // BEGIN and the key's standing in one simple-protocol message, as Tally's write path sends
    // them (the ids are the server's own: letters, digits and `_`).
    let begin = format!(
        "BEGIN; {}",
        STANDING_SQL
            .replace("$1", &format!("'{}'", t.org_id))
            .replace("$2", &format!("'{}'", t.key_id))
    );
    sqlx::Executor::fetch_all(&mut *tx, begin.as_str()).await?;
    let (customer,): (String,) = sqlx::query_as(&format!("{CUSTOMER_SQL} FOR UPDATE"))
        .bind(&t.org_id)
        .bind(&t.external_id)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(&format!("{SUBSCRIPTION_SQL} FOR UPDATE"))
        .bind(&t.org_id)
        .bind(&customer)
        .fetch_one(&mut *tx)
        .await?;
    sqlx::query(FEATURES_SQL)
        .bind(&t.org_id)
        .fetch_all(&mut *tx)
        .await?;
    let snapshot: Vec<(String, i64, i64)> = sqlx::query_as(SNAPSHOT_SQL)
        .bind(&t.subscription_id)
        .fetch_all(&mut *tx)
        .await?;
    let (_, included, unit_price) = snapshot
        .into_iter()
        .find(|(code, _, _)| code == FEATURE_CODE)
        .ok_or(sqlx::Error::RowNotFound)?;
    let balances: Vec<(String, i64, i64)> = sqlx::query_as(BALANCES_SQL)
        .bind(&t.org_id)
        .bind(&t.subscription_id)
        .fetch_all(&mut *tx)
        .await?;
    let (_, current, paid_extra) = balances
        .into_iter()
        .find(|(code, _, _)| code == FEATURE_CODE)
        .ok_or(sqlx::Error::RowNotFound)?;
    let next = Next::of(current, paid_extra, included, unit_price);
    sqlx::query(UPSERT_SQL)
        .bind(&t.subscription_id)
        .bind(FEATURE_CODE)
        .bind(&t.org_id)
        .bind(next.current)
        .bind(next.paid_extra)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query(EVENT_SQL)
        .bind(format!("sev_{key}"))
        .bind(&t.org_id)
        .bind(&t.customer_id)
        .bind(&t.subscription_id)
        .bind(FEATURE_CODE)
        .bind(current)
        .bind(next.current)
        .bind(now)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    if next.newly_paid > 0 {
        sqlx::query(TRUE_UP_SQL)
            .bind(&t.org_id)
            .bind(format!("sev_{key}"))
            .bind(&t.subscription_id)
            .bind(FEATURE_CODE)
            .bind("Editor seats")
            .bind(next.newly_paid)
            .bind(unit_price)
            .bind(15_i64)
            .bind(30_i64)
            .bind(next.true_up_cents)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query(WEBHOOK_EVENTS_SQL)
        .bind(format!("evt_{key}a"))
        .bind(&t.org_id)
        .bind("seats.updated")
        .bind(&t.customer_id)
        .bind(EVENT_DATA)
        .bind(now)
        .bind(format!("evt_{key}b"))
        .bind("customer.state_changed")
        .execute(&mut *tx)
        .await?;
    sqlx::query(RECORD_SQL)
        .bind(&t.org_id)
        .bind(key)
        .bind(key)
        .bind(200_i64)
        .bind(RESPONSE_BODY)
        .bind(now)
        .bind(now + 86_400_000)
        .bind(&t.key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("COMMIT").execute(&mut *tx).await.map(drop)
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
