//! The engine baseline: the seat write's transaction shape as plain SQL statements on the
//! engine itself, with no Tally code at all, against the same tables and rows.
//!
//! Per transaction: claim the idempotency key (insert), read the subscription (row-locked on
//! PostgreSQL), read its feature snapshot, read its seat balances, upsert the balance, insert the
//! seat event, insert two webhook events, store the response on the key, commit.
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
    pub subscription_id: String,
}

/// The live subscriptions the HTTP setup created, read with plain SQL.
pub async fn targets(database_url: &str) -> anyhow::Result<Vec<Target>> {
    const SQL: &str = "SELECT org_id, customer_id, id FROM subscriptions \
                       WHERE status <> 'canceled' ORDER BY id";
    let rows: Vec<(String, String, String)> = if let Some(path) = sqlite_path(database_url) {
        let path = path.to_owned();
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let conn = Connection::open(path)?;
            let mut statement = conn.prepare(SQL)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?
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
        .map(|(org_id, customer_id, subscription_id)| Target {
            org_id,
            customer_id,
            subscription_id,
        })
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
    tx.prepare_cached(
        "INSERT INTO idempotency_keys (org_id, key, fingerprint, created_at_ms, expires_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![t.org_id, key, key, now, now + 86_400_000])?;
    let status: String = tx
        .prepare_cached("SELECT status FROM subscriptions WHERE org_id = ?1 AND id = ?2")?
        .query_row(params![t.org_id, t.subscription_id], |row| row.get(0))?;
    debug_assert_ne!(status, "canceled");
    let snapshot: i64 = tx
        .prepare_cached(
            "SELECT included_amount FROM subscription_features \
             WHERE subscription_id = ?1 AND code = ?2",
        )?
        .query_row(params![t.subscription_id, FEATURE_CODE], |row| row.get(0))?;
    let (current, paid_extra): (i64, i64) = tx
        .prepare_cached(
            "SELECT current, paid_extra FROM seat_balances \
             WHERE org_id = ?1 AND subscription_id = ?2 AND feature_code = ?3",
        )?
        .query_row(params![t.org_id, t.subscription_id, FEATURE_CODE], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    let new = current + 1;
    let extra = (new - snapshot).max(paid_extra);
    tx.prepare_cached(
        "INSERT INTO seat_balances (subscription_id, feature_code, org_id, current, paid_extra, \
         updated_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (subscription_id, feature_code) \
         DO UPDATE SET current = excluded.current, paid_extra = excluded.paid_extra, \
         updated_at_ms = excluded.updated_at_ms",
    )?
    .execute(params![t.subscription_id, FEATURE_CODE, t.org_id, new, extra, now])?;
    tx.prepare_cached(
        "INSERT INTO seat_events (id, org_id, customer_id, subscription_id, feature_code, \
         previous_balance, new_balance, ts_ms, created_at_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        format!("sev_{key}"),
        t.org_id,
        t.customer_id,
        t.subscription_id,
        FEATURE_CODE,
        current,
        new,
        now,
        now
    ])?;
    for (suffix, event_type) in [("a", "seats.updated"), ("b", "customer.state_changed")] {
        tx.prepare_cached(
            "INSERT INTO webhook_events (id, org_id, event_type, customer_id, data, created_at_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?
        .execute(params![
            format!("evt_{key}{suffix}"),
            t.org_id,
            event_type,
            t.customer_id,
            EVENT_DATA,
            now
        ])?;
    }
    tx.prepare_cached(
        "UPDATE idempotency_keys SET response_status = ?1, response_body = ?2 \
         WHERE org_id = ?3 AND key = ?4",
    )?
    .execute(params![200, RESPONSE_BODY, t.org_id, key])?;
    tx.commit()
}

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

async fn postgres_transaction(
    conn: &mut sqlx::PgConnection,
    t: &Target,
    key: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO idempotency_keys (org_id, key, fingerprint, created_at_ms, expires_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&t.org_id)
    .bind(key)
    .bind(key)
    .bind(now)
    .bind(now + 86_400_000)
    .execute(&mut *tx)
    .await?;
    sqlx::query("SELECT status FROM subscriptions WHERE org_id = $1 AND id = $2 FOR UPDATE")
        .bind(&t.org_id)
        .bind(&t.subscription_id)
        .fetch_one(&mut *tx)
        .await?;
    let (included,): (i64,) = sqlx::query_as(
        "SELECT included_amount FROM subscription_features WHERE subscription_id = $1 AND code = $2",
    )
    .bind(&t.subscription_id)
    .bind(FEATURE_CODE)
    .fetch_one(&mut *tx)
    .await?;
    let (current, paid_extra): (i64, i64) = sqlx::query_as(
        "SELECT current, paid_extra FROM seat_balances \
         WHERE org_id = $1 AND subscription_id = $2 AND feature_code = $3",
    )
    .bind(&t.org_id)
    .bind(&t.subscription_id)
    .bind(FEATURE_CODE)
    .fetch_one(&mut *tx)
    .await?;
    let new = current + 1;
    sqlx::query(
        "INSERT INTO seat_balances (subscription_id, feature_code, org_id, current, paid_extra, \
         updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (subscription_id, feature_code) \
         DO UPDATE SET current = excluded.current, paid_extra = excluded.paid_extra, \
         updated_at_ms = excluded.updated_at_ms",
    )
    .bind(&t.subscription_id)
    .bind(FEATURE_CODE)
    .bind(&t.org_id)
    .bind(new)
    .bind((new - included).max(paid_extra))
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO seat_events (id, org_id, customer_id, subscription_id, feature_code, \
         previous_balance, new_balance, ts_ms, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(format!("sev_{key}"))
    .bind(&t.org_id)
    .bind(&t.customer_id)
    .bind(&t.subscription_id)
    .bind(FEATURE_CODE)
    .bind(current)
    .bind(new)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    for (suffix, event_type) in [("a", "seats.updated"), ("b", "customer.state_changed")] {
        sqlx::query(
            "INSERT INTO webhook_events (id, org_id, event_type, customer_id, data, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(format!("evt_{key}{suffix}"))
        .bind(&t.org_id)
        .bind(event_type)
        .bind(&t.customer_id)
        .bind(EVENT_DATA)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2 \
         WHERE org_id = $3 AND key = $4",
    )
    .bind(200_i32)
    .bind(RESPONSE_BODY)
    .bind(&t.org_id)
    .bind(key)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
