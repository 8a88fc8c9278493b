//! PostgreSQL: each job is its own transaction on a pooled connection, on a task of its own.
//! PostgreSQL already shares WAL flushes among concurrent commits, and row locks let jobs on
//! different rows run side by side.

use super::run_job;
use crate::SqlDb;
use crate::query::{Conn, query};
use sqlx::PgPool;
use tally_store::{Job, JobEnd, StoreError};

/// Runs `job` in one transaction; see `tally_store::Store::submit`.
pub async fn submit(pool: &PgPool, job: Job) -> Result<(), StoreError> {
    let pool = pool.clone();
    tokio::spawn(async move { transaction(&pool, job).await })
        .await
        .map_err(|error| StoreError::other(format!("a write task ended abnormally: {error}")))?
}

async fn transaction(pool: &PgPool, job: Job) -> Result<(), StoreError> {
    let conn = pool
        .acquire()
        .await
        .map_err(crate::dialect::postgres::classify_acquire)?;
    let mut db = SqlDb::new(Conn::Postgres(conn));
    query("BEGIN").execute(&mut db.conn).await?;
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
