//! PostgreSQL: each job is its own transaction on a pooled connection, on a task of its own.
//! PostgreSQL already shares WAL flushes among concurrent commits, and row locks let jobs on
//! different rows run side by side.

use super::run_job;
use crate::SqlDb;
use crate::areas::organizations::{key_standing_query, standing_of};
use crate::query::{Conn, query};
use sqlx::PgPool;
use tally_domain::{ApiKeyId, OrgId};
use tally_store::{Job, JobEnd, StoreError};

/// Runs `job` in one transaction; see `tally_store::Store::submit`.
/// With `key`, the key's standing is read in the same round trip as `BEGIN`
/// (`Store::submit_for`).
pub async fn submit(
    pool: &PgPool,
    key: Option<(OrgId, ApiKeyId)>,
    job: Job,
) -> Result<(), StoreError> {
    let pool = pool.clone();
    tokio::spawn(async move { transaction(&pool, key, job).await })
        .await
        .map_err(|error| StoreError::other(format!("a write task ended abnormally: {error}")))?
}

async fn transaction(
    pool: &PgPool,
    key: Option<(OrgId, ApiKeyId)>,
    job: Job,
) -> Result<(), StoreError> {
    let mut conn = pool
        .acquire()
        .await
        .map_err(crate::dialect::postgres::classify_acquire)?;
    let prefetched = match &key {
        Some((org, key_id)) => key_standing_query(org, key_id)
            .begin_and_fetch_optional(&mut conn)
            .await
            .map(|read| read.map(|row| row.map(standing_of))),
        None => None,
    };
    let mut db = SqlDb::new(Conn::Postgres(conn));
    match (prefetched, key) {
        (Some(Ok(standing)), Some((org, key_id))) => {
            db.prefetched_standing = Some((org, key_id, standing));
        }
        (Some(Err(error)), _) => {
            // BEGIN may have run: this connection must not go back to the pool.
            db.conn.close_on_drop();
            return Err(error);
        }
        _ => drop(query("BEGIN").execute(&mut db.conn).await?),
    }
    let ended = match run_job(job, &mut db).await {
        Ok(JobEnd::Commit) => query("COMMIT").execute(&mut db.conn).await.map(drop),
        Ok(JobEnd::Rollback) => query("ROLLBACK").execute(&mut db.conn).await.map(drop),
        Err(panicked) => {
            // The connection's state is unknown after a panic: roll back, then do not reuse it.
            query("ROLLBACK").execute(&mut db.conn).await.ok();
            db.conn.close_on_drop();
            return Err(panicked);
        }
    };
    if ended.is_err() {
        db.conn.close_on_drop();
    }
    ended
}
