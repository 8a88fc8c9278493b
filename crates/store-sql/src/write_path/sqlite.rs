//! SQLite: one writer thread owns the single write connection and commits jobs in groups.
//!
//! SQLite has one writer at a time, and with `synchronous=FULL` each commit waits for an fsync.
//! Committing each request on its own makes that fsync the ceiling. Instead the writer takes
//! every job waiting when it becomes free (up to [`GROUP_JOBS_MAX`]), runs them one after the
//! other inside one `BEGIN IMMEDIATE` transaction, each in a savepoint of its own, and commits
//! them with one fsync:
//!
//! - a job that asks to roll back (a refusal) undoes only its own savepoint;
//! - every job is answered only after the commit that holds it has returned, so an
//!   acknowledged write is durable;
//! - if the group cannot commit (or a savepoint cannot be undone, which means SQLite already
//!   rolled the transaction back), nothing of the group is kept and every job in it is told so;
//!   the jobs that did nothing wrong get `Retry`, so their callers run them again;
//! - after such a failure the connection is closed and a fresh one opened, so a connection in
//!   an unknown state is never reused.
//!
//! Jobs that arrive while a group runs wait for the next group; there is no timer, so a lone
//! request is committed at once.
//!
//! The writer is an OS thread of its own, with a single-threaded runtime for the jobs' futures,
//! and drives SQLite directly (rusqlite): its statements run as plain function calls, while
//! requests are parsed and answered on the server's runtime. Measured with `tally-bench`, the
//! hand-off of every statement to sqlx's per-connection thread cost more than the statements
//! themselves; see ARCHITECTURE.md.

use super::run_job;
use crate::SqlDb;
use crate::dialect::sqlite::open_writer;
use crate::query::{Conn, query};
use std::path::PathBuf;
use tally_store::{Job, JobEnd, StoreError};
use tokio::sync::{mpsc, oneshot};
use tracing::warn;

/// Most jobs committed by one fsync. Bounded so that one group's latency stays short and a
/// failed group sends few callers back to retry.
pub const GROUP_JOBS_MAX: usize = 64;

struct Waiting {
    job: Job,
    answer: oneshot::Sender<Result<(), StoreError>>,
}

/// The handle requests submit jobs through; the writer thread stops when every handle is gone.
pub struct Writer {
    queue: mpsc::UnboundedSender<Waiting>,
}

impl Writer {
    /// Starts the writer thread for the database file at `path`. It opens its connection when
    /// the first job arrives (after migrations have run).
    pub fn start(path: PathBuf) -> Result<Self, StoreError> {
        let (queue, waiting) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        std::thread::Builder::new()
            .name("tally-sqlite-writer".to_owned())
            .spawn(move || runtime.block_on(run(&path, waiting)))
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok(Self { queue })
    }

    /// Queues `job` and waits for the commit that holds it; see `tally_store::Store::submit`.
    pub async fn submit(&self, job: Job) -> Result<(), StoreError> {
        let (answer, answered) = oneshot::channel();
        self.queue
            .send(Waiting { job, answer })
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".to_owned()))?;
        answered
            .await
            .map_err(|_| StoreError::Unavailable("the SQLite writer has stopped".to_owned()))?
    }
}

async fn run(path: &std::path::Path, mut waiting: mpsc::UnboundedReceiver<Waiting>) {
    let mut held: Option<rusqlite::Connection> = None;
    while let Some(first) = waiting.recv().await {
        let mut group = vec![first];
        while group.len() < GROUP_JOBS_MAX {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        // How well commits are shared: a group of 1 is an fsync per job.
        metrics::histogram!("tally_sqlite_write_group_jobs").record(group.len() as f64);
        let conn = match held.take() {
            Some(conn) => conn,
            None => match open_writer(path) {
                Ok(conn) => conn,
                Err(error) => {
                    warn!(%error, "the SQLite writer could not open its connection");
                    answer_all(group, || StoreError::Unavailable(error.to_string()));
                    continue;
                }
            },
        };
        held = commit_group(conn, group).await;
    }
}

/// Runs and commits one group; gives the connection back if it is still known to be sane.
async fn commit_group(
    conn: rusqlite::Connection,
    group: Vec<Waiting>,
) -> Option<rusqlite::Connection> {
    let mut db = SqlDb::new(Conn::Direct(conn));
    if let Err(error) = query("BEGIN IMMEDIATE").execute(&mut db.conn).await {
        // Busy (another process holds the lock past the busy timeout) or broken.
        let retryable = matches!(error, StoreError::Retry);
        answer_all(group, || {
            if retryable {
                StoreError::Retry
            } else {
                StoreError::Unavailable(error.to_string())
            }
        });
        return discard(db).await;
    }

    let mut answers = Vec::with_capacity(group.len());
    for Waiting { job, answer } in group {
        let outcome = run_in_savepoint(&mut db, job).await;
        match outcome {
            Ok(job_outcome) => answers.push((answer, job_outcome)),
            Err(broken) => {
                // The transaction is gone: nothing of this group is kept.
                warn!(error = %broken, "a write group was rolled back");
                answer.send(Err(broken)).ok();
                for (answer, _) in answers {
                    answer.send(Err(StoreError::Retry)).ok();
                }
                return discard(db).await;
            }
        }
    }

    match query("COMMIT").execute(&mut db.conn).await {
        Ok(_) => {
            for (answer, job_outcome) in answers {
                answer.send(job_outcome).ok();
            }
            Some(db.into_direct())
        }
        Err(error) => {
            warn!(%error, "a write group failed to commit");
            for (answer, _) in answers {
                answer.send(Err(StoreError::Retry)).ok();
            }
            discard(db).await
        }
    }
}

/// Runs one job in its own savepoint (`tally_job`). `Ok` carries the job's own answer (a panicked job is an
/// error for that job alone, its writes undone); `Err` means the group's transaction is broken.
async fn run_in_savepoint(db: &mut SqlDb, job: Job) -> Result<Result<(), StoreError>, StoreError> {
    query("SAVEPOINT tally_job").execute(&mut db.conn).await?;
    let ended = run_job(job, db).await;
    if !matches!(ended, Ok(JobEnd::Commit)) {
        query("ROLLBACK TO tally_job").execute(&mut db.conn).await?;
    }
    query("RELEASE tally_job").execute(&mut db.conn).await?;
    Ok(ended.map(drop))
}

fn answer_all(group: Vec<Waiting>, error: impl Fn() -> StoreError) {
    for waiting in group {
        waiting.answer.send(Err(error())).ok();
    }
}

/// Rolls back whatever is open and closes the connection; the next group opens a fresh one.
async fn discard(mut db: SqlDb) -> Option<rusqlite::Connection> {
    query("ROLLBACK").execute(&mut db.conn).await.ok();
    None
}
