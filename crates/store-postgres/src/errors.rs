//! The one place where PostgreSQL driver errors become `StoreError`.

use sqlx::error::ErrorKind;
use tally_store::StoreError;

/// SQLSTATEs after which the whole transaction may simply run again: serialization failure,
/// deadlock detected, lock not available (our `lock_timeout`).
const RETRY_SQLSTATES: [&str; 3] = ["40001", "40P01", "55P03"];
/// SQLSTATE classes that mean the server is going away or refusing connections.
const UNAVAILABLE_SQLSTATE_CLASSES: [&str; 2] = ["08", "57"];

pub fn map_error(error: sqlx::Error) -> StoreError {
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
