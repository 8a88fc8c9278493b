//! The one place where SQLite driver errors become `StoreError`.

use sqlx::error::ErrorKind;
use tally_store::{StoreError, constraints};

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

pub fn map_error(error: sqlx::Error) -> StoreError {
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
