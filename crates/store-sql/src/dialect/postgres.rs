//! What is particular to PostgreSQL: how its pool is opened, and how its errors become
//! `StoreError`. The write path (a transaction per job) is in `write_path::postgres`.

use sqlx::error::ErrorKind;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;
use tally_store::StoreError;

/// How long a statement waits for a row lock before the transaction is retried; well under the
/// SDKs' 30 s request timeout.
pub const LOCK_TIMEOUT_MS: u64 = 10_000;
/// Connections for write jobs, each holding one for its transaction.
pub const WRITE_CONNECTIONS_MAX: u32 = 16;
/// Connections for reads (authentication, balances, lists): a pool of their own, so that a
/// read never waits for a write transaction to give its connection back.
pub const READ_CONNECTIONS_MAX: u32 = 8;
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;

/// The pools of one database: reads, and write jobs.
pub struct Pools {
    pub reads: PgPool,
    pub writes: PgPool,
}

/// Connects to the database at `url` (`postgres://user@host:port/database`). Transactions run
/// at READ COMMITTED with explicit row locks; a lock wait longer than `LOCK_TIMEOUT_MS` is
/// `Retry`.
pub async fn connect(url: &str) -> Result<Pools, StoreError> {
    let options = PgConnectOptions::from_str(url)
        .map_err(classify)?
        .options([("lock_timeout", format!("{LOCK_TIMEOUT_MS}ms"))]);
    // Decision: no ping before every acquire; a broken connection fails its statement and is
    // replaced, which costs less than a round trip on every query.
    let pool = |connections_max| {
        PgPoolOptions::new()
            .test_before_acquire(false)
            .max_connections(connections_max)
            .acquire_timeout(Duration::from_millis(CONNECT_TIMEOUT_MS))
            .connect_lazy_with(options.clone())
    };
    let writes = pool(WRITE_CONNECTIONS_MAX);
    // Connect one now, so that a wrong URL or a server that is down fails at start.
    drop(writes.acquire().await.map_err(classify_acquire)?);
    Ok(Pools {
        reads: pool(READ_CONNECTIONS_MAX),
        writes,
    })
}

/// SQLSTATEs after which the whole transaction may simply run again: serialization failure,
/// deadlock detected, lock not available (our `lock_timeout`).
const RETRY_SQLSTATES: [&str; 3] = ["40001", "40P01", "55P03"];
/// SQLSTATE classes that mean the server is away for now, not that the statement is wrong:
/// connection exceptions (`08…`), insufficient resources (`53…`: too many connections, disk
/// full) and operator intervention (`57…`: `57P01` admin shutdown, `57P02` crash shutdown,
/// `57P03` cannot connect now, a cancelled statement).
const UNAVAILABLE_SQLSTATE_CLASSES: [&str; 3] = ["08", "53", "57"];

/// The error of getting a connection from a pool. Every such failure (the server refuses
/// connections, is restarting, or the pool timed out waiting for one) means the database
/// cannot be reached right now; no statement ran, so none of them is a bug in one.
pub fn classify_acquire(error: sqlx::Error) -> StoreError {
    match classify(error) {
        StoreError::Other(cause) => StoreError::Unavailable(cause.to_string()),
        classified => classified,
    }
}

/// The one place where PostgreSQL driver errors become `StoreError`.
pub fn classify(error: sqlx::Error) -> StoreError {
    match error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(error.to_string())
        }
        sqlx::Error::Database(db) => {
            if matches!(db.kind(), ErrorKind::UniqueViolation) {
                let constraint = db.constraint().unwrap_or_default().to_owned();
                return StoreError::Conflict { constraint };
            }
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            if RETRY_SQLSTATES.contains(&code.as_str()) {
                StoreError::Retry
            } else if UNAVAILABLE_SQLSTATE_CLASSES
                .iter()
                .any(|class| code.starts_with(class))
            {
                StoreError::Unavailable(db.message().to_owned())
            } else {
                StoreError::Other(Box::new(sqlx::Error::Database(db)))
            }
        }
        other => StoreError::Other(Box::new(other)),
    }
}
