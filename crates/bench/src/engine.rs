//! The engine baselines: the seat write's and the usage track's transaction shapes as plain SQL
//! statements on the engine itself, with no Tally code at all, against the same tables and rows.
//!
//! Per seat write, statement for statement what Tally's seat write runs (and `raw_tx` too):
//! read the API key's standing (not revoked; the organization's test clock), lock the customer by its external id and its live subscription (row locks on PostgreSQL),
//! read the organization's features, the subscription's feature snapshot and its seat balances,
//! upsert the balance, insert the seat event, insert the prorated true-up of the extra seat,
//! insert two webhook events in one statement, record the idempotency key with the response,
//! commit.
//!
//! Per usage track (`POST /usage/events`, `TrackUsage` in `tally-app`), statement for statement
//! what Tally's store runs for one track of one unit without an `eventId`: read the API key's
//! standing, lock the customer by its external id and its live subscription, read the
//! subscription's plan, the organization's features, the subscription's feature snapshot and the
//! usage counters of the current usage period, upsert the counter, insert the usage event, read
//! the organization's webhook endpoints, record the idempotency key with the response, commit.
//! No event-key lookup (no `eventId` is sent) and no webhook events (no endpoint asks for
//! `usage.recorded` and the fixture's allowance is never near its threshold), as in Tally.
//!
//! The values are computed in plain Rust; the SQL work is the same.
//!
//! - SQLite: one connection through `rusqlite` (the C library's own speed, statements prepared
//!   once), WAL and `synchronous=FULL` as Tally opens it, one transaction after another. That is
//!   what one SQLite writer can do; the concurrency setting does not apply.
//! - PostgreSQL: `--concurrency` connections, each running the same statements with sqlx, the
//!   thinnest async client at hand (the engine's own `pgbench` gives the same order of figures).

use crate::fixture::{FEATURE_CODE, USAGE_FEATURE_CODE};
use crate::load::{self, LoadShape, Measured, Stop};
use rusqlite::{Connection, named_params, params};
use sqlx::Connection as _;
use sqlx::Row as _;
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

/// Runs the seat write's transaction shape on the engine under `shape` (SQLite: one
/// connection, serially).
pub async fn seat_writes(
    database_url: &str,
    targets: Vec<Target>,
    shape: LoadShape,
) -> anyhow::Result<Measured> {
    run(database_url, targets, shape, Transaction::SeatWrite).await
}

/// Runs the usage track's transaction shape on the engine under `shape` (SQLite: one
/// connection, serially).
pub async fn usage_tracks(
    database_url: &str,
    targets: Vec<Target>,
    shape: LoadShape,
) -> anyhow::Result<Measured> {
    run(database_url, targets, shape, Transaction::UsageTrack).await
}

/// The transaction an engine phase repeats.
#[derive(Debug, Clone, Copy)]
enum Transaction {
    /// `POST /seats`: one seat added.
    SeatWrite,
    /// `POST /usage/events`: one unit tracked.
    UsageTrack,
}

impl Transaction {
    /// The idempotency key of the phase's `n`th transaction: the phases record their keys under
    /// the same API key on the same database, so each has its own.
    fn key(self, run: u32, n: u64) -> String {
        match self {
            Transaction::SeatWrite => format!("engine-{run}-{n}"),
            Transaction::UsageTrack => format!("engine-track-{run}-{n}"),
        }
    }
}

async fn run(
    database_url: &str,
    targets: Vec<Target>,
    shape: LoadShape,
    transaction: Transaction,
) -> anyhow::Result<Measured> {
    anyhow::ensure!(!targets.is_empty(), "the engine phase needs subscriptions");
    match sqlite_path(database_url) {
        Some(path) => {
            let path = path.to_owned();
            tokio::task::spawn_blocking(move || {
                sqlite_serial(&path, &targets, shape.stop, transaction)
            })
            .await?
        }
        None => Ok(postgres_concurrent(database_url, targets, shape, transaction).await),
    }
}

fn sqlite_path(url: &str) -> Option<&str> {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
}

const RESPONSE_BODY: &str = r#"{"id":"sev_01JZ000000000000000000000","customerId":"cus_01JZ000000000000000000000","featureCode":"editor","previousBalance":10,"newBalance":11,"ts":"2026-06-01T00:00:00.000Z","createdAt":"2026-06-01T00:00:00.000Z","object":"seat_event","livemode":false}"#;
const EVENT_DATA: &str = r#"{"customerId":"cus_01JZ000000000000000000000","subscriptionId":"sub_01JZ000000000000000000000","featureCode":"editor","previousSeats":10,"currentSeats":11}"#;

fn sqlite_serial(
    path: &str,
    targets: &[Target],
    stop: Stop,
    transaction: Transaction,
) -> anyhow::Result<Measured> {
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
        let key = transaction.key(run, n);
        let done = match transaction {
            Transaction::SeatWrite => {
                sqlite_transaction(&mut conn, target, &key).map_err(|e| e.to_string())
            }
            Transaction::UsageTrack => {
                sqlite_track(&mut conn, target, &key).map_err(|e| e.to_string())
            }
        };
        match done {
            Ok(()) => latencies_ns.push(nanos(began.elapsed())),
            Err(error) => {
                errors += 1;
                if error_samples.len() < 5 {
                    error_samples.push(error);
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
    // By name: the statement names `$8` second, and SQLite numbers `$n` by first appearance,
    // so arguments bound by position would land in the wrong columns.
    tx.prepare_cached(RECORD_SQL)?.execute(named_params! {
        "$1": t.org_id, "$2": key, "$3": key, "$4": 200, "$5": RESPONSE_BODY,
        "$6": now, "$7": now + 86_400_000, "$8": t.key_id,
    })?;
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

async fn postgres_concurrent(
    url: &str,
    targets: Vec<Target>,
    shape: LoadShape,
    transaction: Transaction,
) -> Measured {
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
            let key = transaction.key(run, counter.fetch_add(1, Ordering::Relaxed));
            let mut conn = connections.acquire().await.map_err(|e| e.to_string())?;
            postgres_transaction(&mut conn, target, &key, transaction).await
        }
    })
    .await
}

/// One transaction; rolled back when any statement fails, so the connection goes back clean.
async fn postgres_transaction(
    conn: &mut sqlx::PgConnection,
    t: &Target,
    key: &str,
    transaction: Transaction,
) -> Result<(), String> {
    let done = match transaction {
        Transaction::SeatWrite => postgres_statements(conn, t, key)
            .await
            .map_err(|e| e.to_string()),
        Transaction::UsageTrack => postgres_track(conn, t, key)
            .await
            .map_err(|e| e.to_string()),
    };
    if done.is_err() {
        sqlx::query("ROLLBACK").execute(&mut *conn).await.ok();
    }
    done
}

/// BEGIN and the key's standing in one simple-protocol message, as Tally's write path sends
/// them (the ids are the server's own: letters, digits and `_`).
async fn postgres_begin(tx: &mut sqlx::PgConnection, t: &Target) -> sqlx::Result<()> {
    let begin = format!(
        "BEGIN; {}",
        STANDING_SQL
            .replace("$1", &format!("'{}'", t.org_id))
            .replace("$2", &format!("'{}'", t.key_id))
    );
    sqlx::Executor::fetch_all(&mut *tx, begin.as_str())
        .await
        .map(drop)
}

async fn postgres_statements(
    tx: &mut sqlx::PgConnection,
    t: &Target,
    key: &str,
) -> sqlx::Result<()> {
    let now = now_ms();
    postgres_begin(tx, t).await?;
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

// ---------------------------------------------------------------------------------------------
// The usage track

/// The track's answer as 2026-08-27 renders it, about the size the HTTP path stores.
const TRACK_RESPONSE_BODY: &str = r#"{"id":"evt_01JZ000000000000000000000","featureCode":"api_calls","value":1,"customerId":"cus_01JZ000000000000000000000","eventId":null,"ts":"2026-06-01T00:00:00.000Z","createdAt":"2026-06-01T00:00:00.000Z","properties":[],"object":"usage_event","livemode":false}"#;

/// The live subscription's fields the track goes on with.
struct Live {
    id: String,
    plan_id: String,
    /// The usage period: on the bench's monthly subscriptions, the current billing period.
    period_start: i64,
    period_end: i64,
}

/// The usage feature's entry in the subscription's feature snapshot.
struct Terms {
    enabled: bool,
    included: i64,
    unlimited: bool,
}

/// The usage feature's counter in the current usage period (all zero when it has no row yet).
#[derive(Default)]
struct Counter {
    used: i64,
    spent: i64,
    threshold_fired: bool,
    exceeded_fired: bool,
}

/// The counter after one more unit, as the domain judges a metered feature with overage off
/// (`usage.md` §2.4): `None` when the track would be refused (past the included amount) or
/// would record a webhook event (reaching 80 % or all of it). The fixture's allowance rules
/// both out, so every track of the baseline runs the same statements; `None` is an error.
fn one_more(used: i64, terms: &Terms) -> Option<i64> {
    let next = used.checked_add(1)?;
    if terms.unlimited {
        return Some(next);
    }
    let eighty = 8 * i128::from(terms.included);
    let crosses = 10 * i128::from(used) < eighty && eighty <= 10 * i128::from(next);
    (next < terms.included && !crosses).then_some(next)
}

/// What the track checks between its reads, in plain Rust: the plan meters (no credits or
/// balance), the catalog has the usage feature, the snapshot has it enabled, and the new
/// counter stays inside the allowance.
fn judge(
    model: Option<&str>,
    catalog: &[(String, String)],
    terms: Option<Terms>,
    counter: &Counter,
) -> anyhow::Result<i64> {
    anyhow::ensure!(
        model.is_none_or(|m| m == "metered"),
        "the bench plan is not metered"
    );
    anyhow::ensure!(
        catalog
            .iter()
            .any(|(code, kind)| code == USAGE_FEATURE_CODE && kind == "usage"),
        "{USAGE_FEATURE_CODE} is not a usage feature"
    );
    let terms = terms
        .filter(|terms| terms.enabled)
        .ok_or_else(|| anyhow::anyhow!("{USAGE_FEATURE_CODE} is not in the plan"))?;
    one_more(counter.used, &terms)
        .ok_or_else(|| anyhow::anyhow!("the fixture's allowance of {USAGE_FEATURE_CODE} ran out"))
}

/// No endpoint may ask for `usage.recorded`: the track would then write a webhook event.
fn no_endpoint_wants_recorded(events: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(
        !events.iter().any(|e| e.contains("usage.recorded")),
        "a webhook endpoint asks for usage.recorded"
    );
    Ok(())
}

// The statements of a track, as Tally's store writes them (`tally-store-sql`, areas
// `subscriptions`, `catalog`, `usage` and `webhooks`), columns and all. `CUSTOMER_SQL`,
// `STANDING_SQL` and `RECORD_SQL` above are the seat write's and the track's alike.
const LIVE_SUBSCRIPTION_SQL: &str = "SELECT id, org_id, customer_id, plan_id, price_id, name, \
     description, status, billing_interval, start_date_ms, trial_ends_at_ms, anchor_ms, \
     period_index, period_start_ms, period_end_ms, cancel_scheduled_at_ms, cancel_reason, \
     cancel_effective_at_ms, canceled_at_ms, ended_at_ms, credits_remaining, credits_included, \
     credits_purchased, balance_remaining, balance_included, created_at_ms, updated_at_ms \
     FROM subscriptions WHERE org_id = $1 AND customer_id = $2 AND status <> 'canceled'";
const PLAN_SQL: &str = "SELECT id, org_id, code, name, description, consumption_model, \
     is_public, is_free, block_on_exhaustion, metadata, created_at_ms, updated_at_ms \
     FROM plans WHERE org_id = $1 AND id = $2";
const CATALOG_SQL: &str = "SELECT f.id, f.org_id, f.code, f.name, f.type, f.description, \
     f.unit_name, f.created_at_ms, f.updated_at_ms FROM features f WHERE f.org_id = $1 \
     ORDER BY f.created_at_ms, f.id";
const FEATURE_SNAPSHOT_SQL: &str = "SELECT feature_id, code, name, type, unit_name, enabled, \
     included_amount, unlimited, overage_enabled, overage_unit_price, credits_per_unit \
     FROM subscription_features WHERE subscription_id = $2 \
     AND subscription_id IN (SELECT id FROM subscriptions WHERE org_id = $1 AND id = $2) \
     ORDER BY position";
const COUNTERS_SQL: &str = "SELECT subscription_id, feature_code, period_start_ms, \
     period_end_ms, used, spent, threshold_fired, exceeded_fired, updated_at_ms \
     FROM usage_counters WHERE org_id = $1 AND subscription_id = $2 AND period_start_ms = $3 \
     ORDER BY feature_code";
const COUNTER_UPSERT_SQL: &str = "INSERT INTO usage_counters (subscription_id, feature_code, \
     period_start_ms, period_end_ms, org_id, used, spent, threshold_fired, exceeded_fired, \
     updated_at_ms) SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 \
     WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $5 AND id = $1) \
     ON CONFLICT (subscription_id, feature_code, period_start_ms) DO UPDATE SET \
     used = excluded.used, spent = excluded.spent, threshold_fired = excluded.threshold_fired, \
     exceeded_fired = excluded.exceeded_fired, updated_at_ms = excluded.updated_at_ms \
     WHERE usage_counters.org_id = excluded.org_id";
const USAGE_EVENT_SQL: &str = "INSERT INTO usage_events (id, org_id, customer_id, \
     subscription_id, feature_code, kind, value, previous_value, event_key, reason, properties, \
     consumption_model, consumed, consumption_left, consumption_blocked, ts_ms, created_at_ms, \
     period_start_ms) \
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18 \
     WHERE EXISTS (SELECT 1 FROM subscriptions WHERE org_id = $2 AND id = $4 AND customer_id = $3)";
const ENDPOINTS_SQL: &str = "SELECT id, org_id, url, events, description, is_active, \
     api_version, secret, consecutive_failures, created_at_ms, updated_at_ms \
     FROM webhook_endpoints WHERE org_id = $1 AND deleted_at_ms IS NULL \
     ORDER BY created_at_ms, id";

/// One track on SQLite. Arguments are bound by name (`$n`), as Tally's store binds them there:
/// SQLite numbers `$n` by first appearance, so a statement naming `$2` before `$1` would take
/// them swapped if bound by position.
fn sqlite_track(conn: &mut Connection, t: &Target, key: &str) -> anyhow::Result<()> {
    let now = now_ms();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.prepare_cached(STANDING_SQL)?
        .query_row(named_params! {"$1": t.org_id, "$2": t.key_id}, |row| {
            row.get::<_, Option<i64>>(0)
        })?;
    let customer: String = tx
        .prepare_cached(CUSTOMER_SQL)?
        .query_row(named_params! {"$1": t.org_id, "$2": t.external_id}, |row| {
            row.get("id")
        })?;
    let live = tx.prepare_cached(LIVE_SUBSCRIPTION_SQL)?.query_row(
        named_params! {"$1": t.org_id, "$2": customer},
        |row| {
            Ok(Live {
                id: row.get("id")?,
                plan_id: row.get("plan_id")?,
                period_start: row.get("period_start_ms")?,
                period_end: row.get("period_end_ms")?,
            })
        },
    )?;
    let model: Option<String> = tx
        .prepare_cached(PLAN_SQL)?
        .query_row(named_params! {"$1": t.org_id, "$2": live.plan_id}, |row| {
            row.get("consumption_model")
        })?;
    let catalog = tx
        .prepare_cached(CATALOG_SQL)?
        .query_map(named_params! {"$1": t.org_id}, |row| {
            Ok((row.get::<_, String>("code")?, row.get::<_, String>("type")?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let terms = tx
        .prepare_cached(FEATURE_SNAPSHOT_SQL)?
        .query_map(named_params! {"$1": t.org_id, "$2": live.id}, |row| {
            Ok((
                row.get::<_, String>("code")?,
                Terms {
                    enabled: row.get("enabled")?,
                    included: row.get("included_amount")?,
                    unlimited: row.get("unlimited")?,
                },
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|(code, _)| code == USAGE_FEATURE_CODE)
        .map(|(_, terms)| terms);
    let counter = tx
        .prepare_cached(COUNTERS_SQL)?
        .query_map(
            named_params! {"$1": t.org_id, "$2": live.id, "$3": live.period_start},
            |row| {
                Ok((
                    row.get::<_, String>("feature_code")?,
                    Counter {
                        used: row.get("used")?,
                        spent: row.get("spent")?,
                        threshold_fired: row.get("threshold_fired")?,
                        exceeded_fired: row.get("exceeded_fired")?,
                    },
                ))
            },
        )?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .find(|(code, _)| code == USAGE_FEATURE_CODE)
        .map(|(_, counter)| counter)
        .unwrap_or_default();
    let used = judge(model.as_deref(), &catalog, terms, &counter)?;
    let upserted = tx
        .prepare_cached(COUNTER_UPSERT_SQL)?
        .execute(named_params! {
            "$1": live.id, "$2": USAGE_FEATURE_CODE, "$3": live.period_start,
            "$4": live.period_end, "$5": t.org_id, "$6": used, "$7": counter.spent,
            "$8": counter.threshold_fired, "$9": counter.exceeded_fired, "$10": now,
        })?;
    anyhow::ensure!(upserted == 1, "the counter upsert changed {upserted} rows");
    let inserted = tx.prepare_cached(USAGE_EVENT_SQL)?.execute(named_params! {
        "$1": format!("evt_{key}"), "$2": t.org_id, "$3": customer, "$4": live.id,
        "$5": USAGE_FEATURE_CODE, "$6": "track", "$7": 1_i64, "$8": None::<i64>,
        "$9": None::<&str>, "$10": None::<&str>, "$11": "[]", "$12": None::<&str>,
        "$13": None::<i64>, "$14": None::<i64>, "$15": None::<bool>, "$16": now,
        "$17": now, "$18": live.period_start,
    })?;
    anyhow::ensure!(
        inserted == 1,
        "the usage event insert changed {inserted} rows"
    );
    let endpoints = tx
        .prepare_cached(ENDPOINTS_SQL)?
        .query_map(named_params! {"$1": t.org_id}, |row| row.get("events"))?
        .collect::<Result<Vec<String>, _>>()?;
    no_endpoint_wants_recorded(&endpoints)?;
    tx.prepare_cached(RECORD_SQL)?.execute(named_params! {
        "$1": t.org_id, "$2": key, "$3": key, "$4": 200, "$5": TRACK_RESPONSE_BODY,
        "$6": now, "$7": now + 86_400_000, "$8": t.key_id,
    })?;
    tx.commit()?;
    Ok(())
}

/// One track on PostgreSQL, the locking reads with `FOR UPDATE` as Tally's store appends it.
async fn postgres_track(tx: &mut sqlx::PgConnection, t: &Target, key: &str) -> anyhow::Result<()> {
    let now = now_ms();
    postgres_begin(tx, t).await?;
    let (customer,): (String,) = sqlx::query_as(&format!("{CUSTOMER_SQL} FOR UPDATE"))
        .bind(&t.org_id)
        .bind(&t.external_id)
        .fetch_one(&mut *tx)
        .await?;
    let row = sqlx::query(&format!("{LIVE_SUBSCRIPTION_SQL} FOR UPDATE"))
        .bind(&t.org_id)
        .bind(&customer)
        .fetch_one(&mut *tx)
        .await?;
    let live = Live {
        id: row.try_get("id")?,
        plan_id: row.try_get("plan_id")?,
        period_start: row.try_get("period_start_ms")?,
        period_end: row.try_get("period_end_ms")?,
    };
    let model: Option<String> = sqlx::query(PLAN_SQL)
        .bind(&t.org_id)
        .bind(&live.plan_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("consumption_model")?;
    let catalog = sqlx::query(CATALOG_SQL)
        .bind(&t.org_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| Ok((row.try_get("code")?, row.try_get("type")?)))
        .collect::<sqlx::Result<Vec<(String, String)>>>()?;
    let mut terms = None;
    for row in sqlx::query(FEATURE_SNAPSHOT_SQL)
        .bind(&t.org_id)
        .bind(&live.id)
        .fetch_all(&mut *tx)
        .await?
    {
        if row.try_get::<String, _>("code")? == USAGE_FEATURE_CODE {
            terms = Some(Terms {
                enabled: row.try_get("enabled")?,
                included: row.try_get("included_amount")?,
                unlimited: row.try_get("unlimited")?,
            });
        }
    }
    let mut counter = Counter::default();
    for row in sqlx::query(COUNTERS_SQL)
        .bind(&t.org_id)
        .bind(&live.id)
        .bind(live.period_start)
        .fetch_all(&mut *tx)
        .await?
    {
        if row.try_get::<String, _>("feature_code")? == USAGE_FEATURE_CODE {
            counter = Counter {
                used: row.try_get("used")?,
                spent: row.try_get("spent")?,
                threshold_fired: row.try_get("threshold_fired")?,
                exceeded_fired: row.try_get("exceeded_fired")?,
            };
        }
    }
    let used = judge(model.as_deref(), &catalog, terms, &counter)?;
    let upserted = sqlx::query(COUNTER_UPSERT_SQL)
        .bind(&live.id)
        .bind(USAGE_FEATURE_CODE)
        .bind(live.period_start)
        .bind(live.period_end)
        .bind(&t.org_id)
        .bind(used)
        .bind(counter.spent)
        .bind(counter.threshold_fired)
        .bind(counter.exceeded_fired)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    anyhow::ensure!(upserted == 1, "the counter upsert changed {upserted} rows");
    let inserted = sqlx::query(USAGE_EVENT_SQL)
        .bind(format!("evt_{key}"))
        .bind(&t.org_id)
        .bind(&customer)
        .bind(&live.id)
        .bind(USAGE_FEATURE_CODE)
        .bind("track")
        .bind(1_i64)
        .bind(None::<i64>)
        .bind(None::<&str>)
        .bind(None::<&str>)
        .bind("[]")
        .bind(None::<&str>)
        .bind(None::<i64>)
        .bind(None::<i64>)
        .bind(None::<bool>)
        .bind(now)
        .bind(now)
        .bind(live.period_start)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    anyhow::ensure!(
        inserted == 1,
        "the usage event insert changed {inserted} rows"
    );
    let endpoints = sqlx::query(ENDPOINTS_SQL)
        .bind(&t.org_id)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|row| row.try_get("events"))
        .collect::<sqlx::Result<Vec<String>>>()?;
    no_endpoint_wants_recorded(&endpoints)?;
    sqlx::query(RECORD_SQL)
        .bind(&t.org_id)
        .bind(key)
        .bind(key)
        .bind(200_i64)
        .bind(TRACK_RESPONSE_BODY)
        .bind(now)
        .bind(now + 86_400_000)
        .bind(&t.key_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("COMMIT").execute(&mut *tx).await?;
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(included: i64) -> Terms {
        Terms {
            enabled: true,
            included,
            unlimited: false,
        }
    }

    #[test]
    fn a_track_goes_on_only_below_the_threshold_and_the_included_amount() {
        assert_eq!(one_more(0, &terms(1_000_000_000)), Some(1));
        assert_eq!(one_more(6, &terms(10)), Some(7));
        // 8 of 10 is the 80 % threshold: that track would record a webhook event.
        assert_eq!(one_more(7, &terms(10)), None);
        assert_eq!(one_more(9, &terms(10)), None);
        assert_eq!(one_more(10, &terms(10)), None);
        assert_eq!(
            one_more(
                10,
                &Terms {
                    unlimited: true,
                    ..terms(10)
                }
            ),
            Some(11)
        );
    }

    #[test]
    fn the_track_refuses_what_the_fixture_rules_out() {
        let catalog = vec![(USAGE_FEATURE_CODE.to_owned(), "usage".to_owned())];
        let counter = Counter::default();

        assert_eq!(
            judge(None, &catalog, Some(terms(100)), &counter).ok(),
            Some(1)
        );
        assert!(judge(Some("credits"), &catalog, Some(terms(100)), &counter).is_err());
        assert!(judge(None, &[], Some(terms(100)), &counter).is_err());
        assert!(judge(None, &catalog, None, &counter).is_err());
        let disabled = Terms {
            enabled: false,
            ..terms(100)
        };
        assert!(judge(None, &catalog, Some(disabled), &counter).is_err());
        assert!(no_endpoint_wants_recorded(&[r#"["seats.updated"]"#.to_owned()]).is_ok());
        assert!(no_endpoint_wants_recorded(&[r#"["usage.recorded"]"#.to_owned()]).is_err());
    }
}
