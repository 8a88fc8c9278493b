//! The one path every change takes: one write job, that is one store transaction, that runs
//! the command and records the caller's `Idempotency-Key` with the response to replay,
//! committed together or not at all. The job runs to its end even when the caller goes away (a
//! client that disconnects leaves nothing half done), and its answer comes back once the commit
//! is durable.
//!
//! The key is recorded last, with the answer, so that a new key costs one statement. A request
//! whose key turns out to be recorded already (a retry, or a concurrent twin that committed
//! first: it waits for that commit on the key's row lock, or behind it on SQLite's single
//! writer) is undone and answered with the recorded response, or `idempotency_key_mismatch`
//! when the key came with another request. Only a wait longer than the store's lock timeout
//! answers `idempotency_in_progress`. A refused command's job is rolled back whole; the refusal
//! is then recorded under the key by a second, small job. Keys belong to the API key that sent
//! them, and an answer that carries a secret is kept without it (`Command::without_secrets`).
//! See the README's Decisions.

use crate::{App, AppError, Caller, IdSource};
use async_trait::async_trait;
use std::sync::Arc;
use tally_domain::Timestamp;
use tally_domain::organization::org_now;
use tally_store::{IdempotencyRecord, IdempotencyScope, StoreError, StoredResponse, Tx};
use tracing::debug;

/// Whole-transaction attempts on serialization failures, deadlocks and lost key races.
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

    /// What the idempotency record keeps of `output`, when that must differ from what is sent:
    /// an output that carries a secret (a new API key, a webhook signing secret) is kept
    /// without it, so the secret is shown once, to the request that made it, and is never
    /// stored or replayed. `None`: the answer is kept as sent.
    fn without_secrets(_output: &Self::Output) -> Option<Self::Output> {
        None
    }
}

/// What a command sees: the open transaction, the caller, the organization's now, and ids.
pub struct WriteCtx<'a> {
    pub tx: &'a mut dyn Tx,
    pub caller: &'a Caller,
    pub now: Timestamp,
    /// The real time, for what never follows a test clock (API keys, which are credentials).
    pub real_now: Timestamp,
    pub ids: &'a dyn IdSource,
    /// The status new invoices are issued in, and whether subscription invoices are collected.
    pub billing: &'a crate::collection::Billing,
    /// Whether seat caps are enforced (`seats.md` §3.7).
    pub enforce_seat_caps: bool,
    /// Whether this server sends e-mail (an invoice send queues one).
    pub email: bool,
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
type Render<T> = dyn Fn(Result<&T, &AppError>) -> StoredResponse + Send + Sync;

/// Why an attempt's job rolled back.
enum Undone {
    /// Another transaction claimed the key first: a new attempt replays its response.
    Again,
    /// The command refused: its writes are undone, and this rendered refusal is the answer.
    Refused(StoredResponse),
    /// The key was recorded by an earlier request: this run is undone, and this is the answer.
    Answered(Written),
    Failed(AppError),
}

impl From<StoreError> for Undone {
    fn from(error: StoreError) -> Self {
        Undone::Failed(error.into())
    }
}

impl From<AppError> for Undone {
    fn from(error: AppError) -> Self {
        Undone::Failed(error)
    }
}

impl App {
    /// Runs `command` in one write job with idempotency. Refusals (4xx) come back rendered in
    /// `Ok` and are stored under the key like successes, with the command's writes undone;
    /// internal failures come back as `Err` and store nothing, so a retry runs again. The job
    /// finishes even if this future is dropped.
    ///
    /// Counted in `tally_writes_total` by operation (the command's type) and outcome, and its
    /// retries in `tally_write_retries_total`.
    pub async fn write<C: Command + 'static>(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        command: C,
        render: impl Fn(Result<&C::Output, &AppError>) -> StoredResponse + Send + Sync + 'static,
    ) -> Result<Written, AppError> {
        let operation = operation_name::<C>();
        let written = self
            .write_with_retries(operation, caller, idempotency, command, render)
            .await;
        // Before the answer goes out: a read after it must not be served from the view.
        self.view.invalidate();
        metrics::counter!(
            "tally_writes_total",
            "operation" => operation,
            "outcome" => outcome_label(&written),
        )
        .increment(1);
        written
    }

    async fn write_with_retries<C: Command + 'static>(
        &self,
        operation: &'static str,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        command: C,
        render: impl Fn(Result<&C::Output, &AppError>) -> StoredResponse + Send + Sync + 'static,
    ) -> Result<Written, AppError> {
        // A job is used up when it runs, so each attempt's job gets its own handle on both.
        let command = Arc::new(command);
        let render: Arc<Render<C::Output>> = Arc::new(render);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self
                .attempt_write(caller, idempotency, &command, &render)
                .await
            {
                Ok(written) | Err(Undone::Answered(written)) => return Ok(written),
                Err(Undone::Refused(response)) => {
                    return self.keep_refusal(caller, idempotency, response).await;
                }
                Err(Undone::Again | Undone::Failed(AppError::Store(StoreError::Retry)))
                    if attempt < TX_ATTEMPTS_MAX =>
                {
                    debug!(attempt, "retrying a write transaction");
                    metrics::counter!("tally_write_retries_total", "operation" => operation)
                        .increment(1);
                }
                Err(Undone::Again) => return Err(AppError::IdempotencyInProgress),
                Err(Undone::Failed(error)) => return Err(error),
            }
        }
    }

    /// One attempt: claim the key, run the command, store the response.
    async fn attempt_write<C: Command + 'static>(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        command: &Arc<C>,
        render: &Arc<Render<C::Output>>,
    ) -> Result<Written, Undone> {
        let caller = caller.clone();
        let idempotency = idempotency.cloned();
        let command = Arc::clone(command);
        let render = Arc::clone(render);
        let clock = Arc::clone(&self.clock);
        let ids = Arc::clone(&self.ids);
        let billing = self.billing().await.map_err(Undone::Failed)?;
        let enforce_seat_caps = self.enforce_seat_caps;
        let email = self.mailer.is_some();
        let (org, key) = (caller.org().clone(), caller.key_id.clone());
        tally_store::write_for(&*self.store, &org, &key, move |tx| {
            Box::pin(async move {
                // The key's standing is read inside this transaction: a key revoked before it
                // began changes nothing (`auth`).
                let Some(standing) = tx.key_standing(caller.org(), &caller.key_id).await? else {
                    return Err(Undone::Failed(AppError::Unauthorized));
                };
                // Idempotency windows run on real time (SDK retries happen in real time); the
                // state change itself happens at the organization's now, which a test clock
                // may move. Both are read when the job runs, so they follow commit order.
                let real_now = clock.now();
                let now = org_now(standing.test_clock, real_now);

                let outcome = {
                    let mut ctx = WriteCtx {
                        tx: &mut *tx,
                        caller: &caller,
                        now,
                        real_now,
                        ids: &*ids,
                        billing: &billing,
                        enforce_seat_caps,
                        email,
                    };
                    command.run(&mut ctx).await
                };
                let (response, kept) = match outcome {
                    Ok(output) => (
                        render(Ok(&output)),
                        C::without_secrets(&output).map(|kept| render(Ok(&kept))),
                    ),
                    Err(error) if error.is_internal() => return Err(Undone::Failed(error)),
                    // The refused command may have written part of its work: the whole job is
                    // undone, and `keep_refusal` stores the answer under the key.
                    Err(refusal) => return Err(Undone::Refused(render(Err(&refusal)))),
                };
                let kept = kept.as_ref().unwrap_or(&response);
                if let Some(idempotency) = &idempotency
                    && let Some(earlier) = record(tx, &caller, idempotency, kept, real_now).await?
                {
                    // The key was used before: this run is undone and the earlier answer
                    // stands (or the key names another request: a mismatch).
                    return Err(Undone::Answered(earlier));
                }
                Ok(Written::Fresh(response))
            })
        })
        .await
    }
}

/// The operation label of command type `C`: its name without the module path (`ChangeSeats`).
/// One label per command type, so the set is bounded; command types are not generic, so the
/// last path segment is the type's own name.
fn operation_name<C>() -> &'static str {
    let name = std::any::type_name::<C>();
    name.rsplit("::").next().unwrap_or(name)
}

/// `applied`, `refused` (a 4xx answer, kept under the key), `replayed` (an earlier request's
/// answer) or `error` (nothing stored; `internal_error` or an idempotency conflict).
fn outcome_label(written: &Result<Written, AppError>) -> &'static str {
    match written {
        Ok(Written::Fresh(response)) if response.status < 400 => "applied",
        Ok(Written::Fresh(_)) => "refused",
        Ok(Written::Replayed(_)) => "replayed",
        Err(_) => "error",
    }
}

impl App {
    /// Answers a refusal, after storing it under the caller's key (if any) in a job of its own:
    /// a retry with the key gets the same refusal, unless another request stored an answer
    /// first, which is then the one replayed.
    async fn keep_refusal(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        response: StoredResponse,
    ) -> Result<Written, AppError> {
        let Some(idempotency) = idempotency.cloned() else {
            return Ok(Written::Fresh(response));
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let (caller, idempotency, response) =
                (caller.clone(), idempotency.clone(), response.clone());
            let clock = Arc::clone(&self.clock);
            let kept = tally_store::write(&*self.store, move |tx| {
                Box::pin(async move {
                    let earlier = record(tx, &caller, &idempotency, &response, clock.now()).await?;
                    Ok(earlier.unwrap_or(Written::Fresh(response)))
                })
            })
            .await;
            match kept {
                Ok(written) | Err(Undone::Answered(written)) => return Ok(written),
                Err(Undone::Again | Undone::Failed(AppError::Store(StoreError::Retry)))
                    if attempt < TX_ATTEMPTS_MAX => {}
                Err(Undone::Failed(error)) => return Err(error),
                Err(Undone::Again | Undone::Refused(_)) => {
                    return Err(AppError::IdempotencyInProgress);
                }
            }
        }
    }
}

/// Records the key with this request's answer, or says what to answer instead: the earlier
/// answer (a replay), a mismatch, or "try again". The key is recorded last, with the answer, so
/// a new key (the common case) costs one statement; only a key already recorded is read. A
/// concurrent request with the same key waits for this transaction (row lock on PostgreSQL,
/// the single writer on SQLite) and then replays it.
async fn record(
    tx: &mut dyn Tx,
    caller: &Caller,
    idempotency: &Idempotency,
    response: &StoredResponse,
    now: Timestamp,
) -> Result<Option<Written>, Undone> {
    // Decision: a key belongs to the API key that sent it. Another key of the organization
    // has a key space of its own (neither a replay nor a mismatch): it never sees this key's
    // answers, and services that share an organization need not agree on their key names.
    let scope = IdempotencyScope {
        org: caller.org(),
        api_key: &caller.key_id,
    };
    if record_key(tx, scope, idempotency, response, now).await? {
        return Ok(None);
    }
    match tx.idempotency_record(scope, &idempotency.key).await {
        Ok(Some(earlier)) if earlier.expires_at > now => replay(earlier, idempotency).map(Some),
        // An expired record is replaced: the key starts a new window.
        Ok(Some(_expired)) => {
            tx.delete_idempotency(scope, &idempotency.key).await?;
            if record_key(tx, scope, idempotency, response, now).await? {
                Ok(None)
            } else {
                Err(Undone::Again)
            }
        }
        // Purged between the two statements: start over.
        Ok(None) | Err(StoreError::Retry) => Err(Undone::Again),
        Err(error) => Err(unavailable(error).into()),
    }
}

/// `true` when this transaction recorded the key.
async fn record_key(
    tx: &mut dyn Tx,
    scope: IdempotencyScope<'_>,
    idempotency: &Idempotency,
    response: &StoredResponse,
    now: Timestamp,
) -> Result<bool, Undone> {
    let expires_at = now.plus_millis(IDEMPOTENCY_RETENTION_MS);
    match tx
        .record_idempotency(
            scope,
            &idempotency.key,
            &idempotency.fingerprint,
            response,
            now,
            expires_at,
        )
        .await
    {
        Ok(recorded) => Ok(recorded),
        Err(StoreError::Retry) => Err(Undone::Again),
        Err(error) => Err(unavailable(error).into()),
    }
}

fn replay(record: IdempotencyRecord, idempotency: &Idempotency) -> Result<Written, Undone> {
    if record.fingerprint != idempotency.fingerprint {
        return Err(AppError::IdempotencyKeyMismatch.into());
    }
    match record.response {
        Some(response) => Ok(Written::Replayed(response)),
        // Only a transaction that has not committed holds a claim without a response, and no
        // other transaction can see it; treat a leftover the same as "still running".
        None => Err(AppError::IdempotencyInProgress.into()),
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
        let now = self.clock.now();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { Ok(tx.purge_idempotency(now).await?) })
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_is_named_by_its_command_type_alone() {
        assert_eq!(operation_name::<crate::seats::ChangeSeats>(), "ChangeSeats");
        assert_eq!(
            operation_name::<crate::customers::CreateCustomer>(),
            "CreateCustomer"
        );
    }
}
