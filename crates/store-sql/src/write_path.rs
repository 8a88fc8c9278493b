//! How a write job reaches its engine. Both paths run the job on a task of their own, so a
//! caller that goes away (an HTTP client that disconnects) never cancels a transaction halfway:
//! the job runs to its end and commits or rolls back as it asked.

pub mod postgres;
pub mod sqlite;

use crate::SqlDb;
use futures::FutureExt;
use std::panic::AssertUnwindSafe;
use tally_store::{Job, JobEnd, StoreError};

/// Runs one job, turning a panic inside it into an error so that the transaction it ran in can
/// still be rolled back and the connection kept sane.
async fn run_job(job: Job, db: &mut SqlDb) -> Result<JobEnd, StoreError> {
    AssertUnwindSafe(job(db))
        .catch_unwind()
        .await
        .map_err(|_| StoreError::other("a write job panicked; its transaction was rolled back"))
}
