//! What is particular to SQLite: how its connections are opened, and how its errors become
//! `StoreError`. The write path (one writer, group commit) is in `write_path::sqlite`.

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

/// The two pools of one database file: readers, and the single connection the writer holds.
pub struct Pools {
    pub reads: SqlitePool,
    pub writes: SqlitePool,
}

/// Opens (creating if missing) the database at `url` (`sqlite://path` or `sqlite:path`).
pub async fn connect(url: &str) -> Result<Pools, StoreError> {
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
    // Decision: no ping before every acquire; a broken connection fails its statement and is
    // replaced, which costs less than a round trip on every query.
    let writes = SqlitePoolOptions::new()
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
    Ok(Pools { reads, writes })
}

/// SQLite names the table and columns of a failed unique constraint, not the index, so the
/// schema's index names are recovered from the column list.
const UNIQUE_COLUMNS: [(&str, &str); 8] = [
    (
        "idempotency_keys.org_id, idempotency_keys.key",
        constraints::IDEMPOTENCY_KEY,
    ),
    (
        "customers.org_id, customers.external_id",
        constraints::CUSTOMER_EXTERNAL_ID,
    ),
    ("features.org_id, features.code", constraints::FEATURE_CODE),
    ("features.org_id, features.name", constraints::FEATURE_NAME),
    ("plans.org_id, plans.code", constraints::PLAN_CODE),
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
];

/// Result codes for "someone else holds the lock": SQLITE_BUSY, SQLITE_LOCKED and their
/// extended forms (the low byte is the primary code).
const BUSY_PRIMARY_CODES: [i64; 2] = [5, 6];

/// The one place where SQLite driver errors become `StoreError`.
pub fn classify(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Io(_) => StoreError::Unavailable(error.to_string()),
        sqlx::Error::Database(db) => {
            let message = db.message().to_owned();
            if matches!(db.kind(), ErrorKind::UniqueViolation) {
                let constraint = UNIQUE_COLUMNS
                    .iter()
                    .find(|(columns, _)| message.ends_with(columns))
                    .map_or_else(|| message.clone(), |(_, name)| (*name).to_owned());
                return StoreError::Conflict { constraint };
            }
            let is_busy = db
                .code()
                .and_then(|code| code.parse::<i64>().ok())
                .is_some_and(|code| BUSY_PRIMARY_CODES.contains(&(code & 0xff)));
            if is_busy {
                StoreError::Retry
            } else {
                StoreError::Other(Box::new(sqlx::Error::Database(db)))
            }
        }
        other => StoreError::Other(Box::new(other)),
    }
}
