//! What is particular to SQLite: how its connections are opened (a read pool through sqlx, and
//! the writer's own connection through rusqlite), and how its errors become `StoreError`. The
//! write path (one writer, group commit) is in `write_path::sqlite`.

use sqlx::error::ErrorKind;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::Duration;
use tally_store::{StoreError, constraints};

/// How long a writer waits for another process's write lock before `Retry`.
pub const BUSY_TIMEOUT_MS: u64 = 5_000;
/// Readers run in parallel with the single writer under WAL.
pub const READ_CONNECTIONS_MAX: u32 = 8;

/// Statements the writer keeps prepared: every write query of every area fits.
const WRITER_STATEMENTS_CACHED_MAX: usize = 512;

/// One database file: the readers' pool, a connection for migrations, and where the file is,
/// for the writer's own connection (`open_writer`).
pub struct Pools {
    pub reads: SqlitePool,
    pub migrations: SqlitePool,
    pub path: std::path::PathBuf,
}

/// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite:path`).
pub async fn connect(url: &str) -> Result<Pools, StoreError> {
    refuse_in_memory(url)?;
    let options = SqliteConnectOptions::from_str(url)
        .map_err(classify)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // Decision: FULL, not NORMAL. A billing ledger must survive power loss, not only a
        // process crash; group commit (`write_path::sqlite`) shares each fsync among the
        // requests committed together instead of weakening it.
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS));
    let path = options.get_filename().to_path_buf();
    // Opened first: it creates the file and switches it to WAL before the read-only readers.
    // Decision (both pools): no ping before every acquire; a broken connection fails its
    // statement and is replaced, which costs less than a round trip on every query.
    let migrations = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .map_err(classify)?;
    let reads = SqlitePoolOptions::new()
        .test_before_acquire(false)
        .max_connections(READ_CONNECTIONS_MAX)
        .connect_with(options.read_only(true))
        .await
        .map_err(classify)?;
    Ok(Pools {
        reads,
        migrations,
        path,
    })
}

/// Decision: a file only. An in-memory database belongs to the connections that opened it, and
/// the writer's connection is not one of the readers'.
pub fn refuse_in_memory(url: &str) -> Result<(), StoreError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Err(StoreError::other(
            "an in-memory SQLite database cannot be shared by Tally's writer and readers; name a file",
        ));
    }
    Ok(())
}

/// The writer's connection: the C library driven directly from the writer's thread, so that a
/// statement costs a function call rather than a hand-off to a driver thread. Same settings as
/// the pools: WAL, `synchronous=FULL`, foreign keys, the busy timeout.
pub fn open_writer(path: &std::path::Path) -> Result<rusqlite::Connection, StoreError> {
    let conn = rusqlite::Connection::open(path).map_err(classify_direct)?;
    conn.pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
        .map_err(classify_direct)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(classify_direct)?;
    conn.pragma_update(None, "foreign_keys", "ON")
        .map_err(classify_direct)?;
    conn.busy_timeout(Duration::from_millis(BUSY_TIMEOUT_MS))
        .map_err(classify_direct)?;
    conn.set_prepared_statement_cache_capacity(WRITER_STATEMENTS_CACHED_MAX);
    Ok(conn)
}

/// SQLite names the table and columns of a failed unique constraint, not the index, so the
/// schema's index names are recovered from the column list.
const UNIQUE_COLUMNS: [(&str, &str); 15] = [
    (
        "customers.org_id, customers.external_id",
        constraints::CUSTOMER_EXTERNAL_ID,
    ),
    ("features.org_id, features.code", constraints::FEATURE_CODE),
    ("features.org_id, features.name", constraints::FEATURE_NAME),
    ("plans.org_id, plans.code", constraints::PLAN_CODE),
    ("addons.org_id, addons.slug", constraints::ADDON_SLUG),
    // An index over an expression is named, not listed by column.
    ("index 'credit_packs_name'", constraints::CREDIT_PACK_NAME),
    (
        "promo_codes.org_id, promo_codes.code_key",
        constraints::PROMO_CODE,
    ),
    (
        "market_countries.org_id, market_countries.country",
        constraints::MARKET_COUNTRY,
    ),
    (
        "addons.org_id, addons.feature_id",
        constraints::ADDON_FEATURE,
    ),
    (
        "subscription_addons.subscription_id, subscription_addons.addon_id",
        constraints::ACTIVE_ADDON,
    ),
    (
        "plan_prices.plan_id, plan_prices.billing_interval",
        constraints::PRICE_INTERVAL,
    ),
    (
        "plan_features.plan_id, plan_features.feature_id",
        constraints::PLAN_FEATURE,
    ),
    (
        "subscriptions.org_id, subscriptions.customer_id",
        constraints::LIVE_SUBSCRIPTION,
    ),
    (
        "usage_events.org_id, usage_events.event_key",
        constraints::USAGE_EVENT_KEY,
    ),
    (
        "quota_event_keys.org_id, quota_event_keys.event_key",
        constraints::QUOTA_EVENT_KEY,
    ),
];

/// Result codes for "someone else holds the lock": SQLITE_BUSY, SQLITE_LOCKED and their
/// extended forms (the low byte is the primary code).
const BUSY_PRIMARY_CODES: [i32; 2] = [5, 6];

/// The one place where SQLite errors become `StoreError`, through sqlx (reads, migrations).
pub fn classify(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Database(db) => {
            let code = db.code().and_then(|code| code.parse::<i32>().ok());
            let is_unique = matches!(db.kind(), ErrorKind::UniqueViolation);
            classify_code(code, is_unique, db.message())
                .unwrap_or_else(|| StoreError::Other(Box::new(sqlx::Error::Database(db))))
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// The same, for errors of the writer's direct connection (rusqlite).
pub fn classify_direct(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::QueryReturnedNoRows => StoreError::NotFound,
        rusqlite::Error::SqliteFailure(failure, message) => {
            let is_unique = failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY;
            let text = message.clone().unwrap_or_default();
            classify_code(Some(failure.extended_code), is_unique, &text).unwrap_or_else(|| {
                StoreError::Other(Box::new(rusqlite::Error::SqliteFailure(failure, message)))
            })
        }
        other => StoreError::Other(Box::new(other)),
    }
}

/// A unique violation named by its index, or "someone else holds the lock" as `Retry`; `None`
/// for every other error.
fn classify_code(code: Option<i32>, is_unique: bool, message: &str) -> Option<StoreError> {
    if is_unique {
        let constraint = UNIQUE_COLUMNS
            .iter()
            .find(|(columns, _)| message.ends_with(columns))
            .map_or_else(|| message.to_owned(), |(_, name)| (*name).to_owned());
        return Some(StoreError::Conflict { constraint });
    }
    code.is_some_and(|code| BUSY_PRIMARY_CODES.contains(&(code & 0xff)))
        .then_some(StoreError::Retry)
}
