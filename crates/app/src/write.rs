//! The one path every change takes: a store transaction that holds the new state and, when the
//! caller sent an `Idempotency-Key`, the response to replay, committed together or not at all.
//!
//! Contract: `wire.md` §6. A concurrent request with the same key waits for the first to finish
//! (row lock on PostgreSQL, the single writer on SQLite) and then replays its response; only a
//! wait longer than the store's lock timeout answers `idempotency_in_progress`.

use crate::{App, AppError, Caller, IdSource};
use async_trait::async_trait;
use tally_domain::Timestamp;
use tally_store::{IdempotencyRecord, StoreError, StoredResponse, Tx, constraints};
use tracing::debug;

/// Whole-transaction attempts on serialization failures, deadlocks and lost claim races.
pub const TX_ATTEMPTS_MAX: u32 = 5;
/// How long a response stays replayable (`wire.md` §6: 24 hours from first use).
pub const IDEMPOTENCY_RETENTION_MS: i64 = 24 * 60 * 60 * 1000;
/// Longest key accepted (`wire.md` §6).
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 255;

/// An operation that changes state. `run` may be called more than once (the transaction is
/// retried on transient conflicts), so it must do all of its work through `ctx`.
#[async_trait]
pub trait Command: Send + Sync {
    type Output: Send + Sync;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Self::Output, AppError>;
}

/// What a command sees: the open transaction, the caller, the organization's now, and ids.
pub struct WriteCtx<'a> {
    pub tx: &'a mut dyn Tx,
    pub caller: &'a Caller,
    pub now: Timestamp,
    pub ids: &'a dyn IdSource,
    /// The status new invoices are issued in.
    pub invoice_status: tally_domain::billing::InvoiceStatus,
    /// Whether seat caps are enforced (`seats.md` §3.7).
    pub enforce_seat_caps: bool,
}

/// The caller's idempotency key and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: String,
    pub fingerprint: String,
}

/// The response to send: freshly produced, or replayed from an earlier request with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Fresh(StoredResponse),
    Replayed(StoredResponse),
}

/// Turns an operation's outcome into the response bytes (the API's job; passed in so that the
/// exact bytes can be stored in the same transaction).
pub type Render<'a, T> = &'a (dyn Fn(Result<&T, &AppError>) -> StoredResponse + Send + Sync);

enum Attempt {
    Done(Written),
    Again,
}

impl App {
    /// Runs `command` in one transaction with idempotency. Refusals (4xx) come back rendered in
    /// `Ok`, and are stored under the key like successes; internal failures come back as `Err`
    /// and store nothing, so a retry runs again.
    pub async fn write<C: Command>(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        command: &C,
        render: Render<'_, C::Output>,
    ) -> Result<Written, AppError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .attempt_write(caller, idempotency, command, render)
                .await
            {
                Ok(Attempt::Done(written)) => return Ok(written),
                Ok(Attempt::Again) | Err(AppError::Store(StoreError::Retry))
                    if attempt < TX_ATTEMPTS_MAX =>
                {
                    debug!(attempt, "retrying a write transaction");
                }
                Ok(Attempt::Again) => return Err(AppError::IdempotencyInProgress),
                Err(error) => return Err(error),
            }
        }
    }

    async fn attempt_write<C: Command>(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        command: &C,
        render: Render<'_, C::Output>,
    ) -> Result<Attempt, AppError> {
        // Idempotency windows run on real time (SDK retries happen in real time); the state
        // change itself happens at the organization's now, which a test clock may move.
        let real_now = self.clock.now();
        let now = caller.organization.now(real_now);
        let mut tx = self.store.begin().await?;
        if let Some(idempotency) = idempotency
            && let Some(replay) = claim(&mut *tx, caller, idempotency, real_now).await?
        {
            return Ok(replay);
        }

        let outcome = {
            let mut ctx = WriteCtx {
                tx: &mut *tx,
                caller,
                now,
                ids: &*self.ids,
                invoice_status: self.invoice_status,
                enforce_seat_caps: self.enforce_seat_caps,
            };
            command.run(&mut ctx).await
        };

        match outcome {
            Ok(output) => {
                let response = render(Ok(&output));
                if let Some(idempotency) = idempotency {
                    tx.complete_idempotency(caller.org(), &idempotency.key, &response)
                        .await?;
                }
                tx.commit().await?;
                Ok(Attempt::Done(Written::Fresh(response)))
            }
            Err(error) if error.is_internal() => Err(error),
            Err(refusal) => {
                // The refused command may have written part of its work: roll all of it back,
                // then keep only the refusal under the key.
                drop(tx);
                let response = render(Err(&refusal));
                if let Some(idempotency) = idempotency {
                    let mut tx = self.store.begin().await?;
                    if let Some(replay) = claim(&mut *tx, caller, idempotency, real_now).await? {
                        return Ok(replay);
                    }
                    tx.complete_idempotency(caller.org(), &idempotency.key, &response)
                        .await?;
                    tx.commit().await?;
                }
                Ok(Attempt::Done(Written::Fresh(response)))
            }
        }
    }
}

/// Claims the key for this transaction, or says what to answer instead: a replay, a mismatch,
/// or "try again" when another transaction claimed it first.
async fn claim(
    tx: &mut dyn Tx,
    caller: &Caller,
    idempotency: &Idempotency,
    now: Timestamp,
) -> Result<Option<Attempt>, AppError> {
    let org = caller.org();
    match tx.idempotency_record(org, &idempotency.key).await {
        Ok(Some(record)) if record.expires_at > now => {
            return replay(record, idempotency).map(Some);
        }
        Ok(Some(_expired)) => tx.delete_idempotency(org, &idempotency.key).await?,
        Ok(None) => {}
        Err(StoreError::Retry) => return Ok(Some(Attempt::Again)),
        Err(error) => return Err(unavailable(error)),
    }
    let expires_at = now.plus_millis(IDEMPOTENCY_RETENTION_MS);
    match tx
        .claim_idempotency(
            org,
            &idempotency.key,
            &idempotency.fingerprint,
            now,
            expires_at,
        )
        .await
    {
        Ok(()) => Ok(None),
        // Another transaction holds or just committed the key: start over and replay it.
        Err(error) if error.is_conflict_on(constraints::IDEMPOTENCY_KEY) => {
            Ok(Some(Attempt::Again))
        }
        Err(StoreError::Retry) => Ok(Some(Attempt::Again)),
        Err(error) => Err(unavailable(error)),
    }
}

fn replay(record: IdempotencyRecord, idempotency: &Idempotency) -> Result<Attempt, AppError> {
    if record.fingerprint != idempotency.fingerprint {
        return Err(AppError::IdempotencyKeyMismatch);
    }
    match record.response {
        Some(response) => Ok(Attempt::Done(Written::Replayed(response))),
        // Only a transaction that has not committed holds a claim without a response, and no
        // other transaction can see it; treat a leftover the same as "still running".
        None => Err(AppError::IdempotencyInProgress),
    }
}

fn unavailable(error: StoreError) -> AppError {
    match error {
        StoreError::Unavailable(_) => AppError::IdempotencyUnavailable,
        other => AppError::Store(other),
    }
}

impl App {
    /// Deletes idempotency records whose 24-hour window has ended (real time).
    pub async fn purge_expired_idempotency(&self) -> Result<u64, AppError> {
        Ok(self.store.purge_idempotency(self.clock.now()).await?)
    }
}
