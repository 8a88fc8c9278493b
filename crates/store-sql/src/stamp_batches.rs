//! Hot-read stamps on PostgreSQL, where other nodes write: concurrent reads share one statement.
//!
//! Each hot read checks its kept state against a stamp read fresh from the database
//! (`docs/contract/usage.md`, "Hot reads"). Reading every stamp in its own round trip makes the
//! database and the socket the cost of a read, so asks that arrive while earlier ones are being
//! answered wait for the next statement and are read together, as a group commit does for
//! writes. No ask is delayed when nothing else is in flight.
//!
//! Freshness is unchanged: an ask's statement is sent after the ask was made, so it sees every
//! write acknowledged before the read began.

use crate::SqlDb;
use crate::dialect::postgres;
use crate::query::Conn;
use sqlx::PgPool;
use std::sync::Arc;
use tally_store::{HotStamp, StampAsk, StoreError, Usage};
use tokio::sync::{Semaphore, mpsc, oneshot};

/// Statements in flight at once. Measured with 16 clients on 2 cores shared with the database
/// (`tally-bench`): 1 and 2 serve the same rate, 4 a third less (more, smaller statements);
/// 2 leaves a database with cores of its own something to overlap.
const IN_FLIGHT: usize = 2;

/// The most asks one statement reads.
const MAX_BATCH: usize = 32;

type Answer = Result<HotStamp, StoreError>;

/// The stamp reader: a task that collects asks into statements on the read pool.
pub(crate) struct StampReader {
    pool: PgPool,
    asks: mpsc::UnboundedSender<(StampAsk, oneshot::Sender<Answer>)>,
}

impl StampReader {
    /// Starts the collecting task (on the current runtime).
    pub(crate) fn start(pool: PgPool) -> Self {
        let (asks, queue) = mpsc::unbounded_channel();
        tokio::spawn(collect(pool.clone(), queue));
        Self { pool, asks }
    }

    /// The stamp for `ask`, read by a statement sent after this call began.
    pub(crate) async fn stamp(&self, ask: StampAsk) -> Answer {
        let (reply, answer) = oneshot::channel();
        if let Err(mpsc::error::SendError((ask, _))) = self.asks.send((ask, reply)) {
            // The collecting task is gone (its runtime ended): read alone.
            let conn = self.pool.acquire().await;
            let mut db = SqlDb::new(Conn::Postgres(conn.map_err(postgres::classify_acquire)?));
            return tally_store::stamp_alone(&mut db, ask).await;
        }
        answer
            .await
            .map_err(|_| StoreError::other("the stamp reader stopped"))?
    }
}

async fn read(pool: &PgPool, asks: &[StampAsk]) -> Result<Vec<HotStamp>, StoreError> {
    let conn = pool.acquire().await.map_err(postgres::classify_acquire)?;
    SqlDb::new(Conn::Postgres(conn)).hot_stamps(asks).await
}

/// Takes the asks that queued while the statements in flight ran, up to a batch, and reads them
/// in one statement of their own.
async fn collect(
    pool: PgPool,
    mut queue: mpsc::UnboundedReceiver<(StampAsk, oneshot::Sender<Answer>)>,
) {
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    while let Some(first) = queue.recv().await {
        let Ok(permit) = Arc::clone(&in_flight).acquire_owned().await else {
            return;
        };
        // Let the requests that are ready to run reach their asks before the batch is taken:
        // batches of about 3 become about 6 under load (`tally-bench`), and a lone ask loses
        // only a pass of the scheduler.
        tokio::task::yield_now().await;
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        metrics::histogram!("tally_postgres_stamp_batch_asks").record(batch.len() as f64);
        let pool = pool.clone();
        tokio::spawn(async move {
            answer(&pool, batch).await;
            drop(permit);
        });
    }
}

/// Reads one batch and answers each ask; an ask whose reader left is answered to no one.
async fn answer(pool: &PgPool, batch: Vec<(StampAsk, oneshot::Sender<Answer>)>) {
    let (asks, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    match read(pool, &asks).await {
        Ok(stamps) if stamps.len() == replies.len() => {
            for (reply, stamp) in replies.into_iter().zip(stamps) {
                let _ = reply.send(Ok(stamp));
            }
        }
        Ok(_) => {
            for reply in replies {
                let _ = reply.send(Err(StoreError::other("a stamp batch lost an ask")));
            }
        }
        Err(error) => {
            for reply in replies {
                let _ = reply.send(Err(same_error(&error)));
            }
        }
    }
}

/// `error` for each ask of the failed batch: the same kind, so an unavailable database is still
/// a 503 and a busy one still retried.
fn same_error(error: &StoreError) -> StoreError {
    match error {
        StoreError::NotFound => StoreError::NotFound,
        StoreError::Conflict { constraint } => StoreError::Conflict {
            constraint: constraint.clone(),
        },
        StoreError::Retry => StoreError::Retry,
        StoreError::Unavailable(message) => StoreError::Unavailable(message.clone()),
        StoreError::Other(source) => StoreError::other(source.to_string()),
    }
}
