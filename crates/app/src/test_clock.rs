//! The sandbox test clock (`catalog.md` §7): read it, move it forward, and process what falls
//! due.
//!
//! Processing is done in batches, each a transaction of its own (`deadlines`), so that an
//! advance over years of renewals never holds the database for long. The clock stays where it
//! is while the batches pass the deadlines due up to the target, so the target (computed from
//! the clock in every transaction, under a lock on the organization row) stays the same across
//! batches, and an advance cut short (a crash) is finished by the next one. A last
//! transaction passes what fell due meanwhile (at most a batch), moves the clock, records the
//! run and the caller's idempotency key. Concurrent advances of one clock are serialized by
//! that lock, batch by batch.

use crate::deadlines::{job, pass_batch};
use crate::{App, AppError, Caller, Command, Idempotency, WriteCtx, Written};
use async_trait::async_trait;
use std::sync::Arc;
use tally_domain::test_clock::{RunTally, TestClockRun, TestClockRunId, advance_target};
use tally_domain::{Organization, Timestamp};
use tally_store::{IdempotencyScope, Lock, StoredResponse, Tx};

/// The clock as `GET /test-clock` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestClockView {
    /// The simulated time once the clock has been advanced.
    pub simulated_time: Option<Timestamp>,
    /// The organization's now: simulated when active, real otherwise.
    pub now: Timestamp,
    pub latest_run: Option<TestClockRun>,
}

impl TestClockView {
    pub fn is_active(&self) -> bool {
        self.simulated_time.is_some()
    }
}

/// Moves the clock to a target (`advanceDays` or `frozenTime`); with `process`, also processes
/// every deadline due up to the target, in chronological order, and records the run.
#[derive(Debug, Clone, Copy)]
pub struct AdvanceClock {
    pub advance_days: Option<i64>,
    pub frozen_time: Option<Timestamp>,
    pub process: bool,
}

impl AdvanceClock {
    fn target(self, current: Timestamp) -> Result<Timestamp, tally_domain::DomainError> {
        advance_target(self.advance_days, self.frozen_time, current)
    }
}

/// What an advance did: the clock after it, and the run when deadlines were processed.
#[derive(Debug, Clone)]
pub struct Advanced {
    pub clock: TestClockView,
    pub run: Option<TestClockRun>,
}

/// Counts for the legacy `TestClockBilling` view (`catalog.md` §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingCounts {
    pub customers_found: usize,
    pub enqueued: usize,
    pub failed: usize,
    pub dunning_retried: usize,
    pub dunning_failed: usize,
}

/// The instant deadlines are processed up to, from the clock's current time; `None` stops
/// the batches (the last transaction then gives the refusal).
type TargetOf = Arc<dyn Fn(Timestamp) -> Option<Timestamp> + Send + Sync>;

impl App {
    /// `POST /test-clock`: the batches (with `process`), then the last transaction, which
    /// moves the clock and answers (`Advanced`, or a refusal) under the caller's key.
    pub async fn advance_test_clock(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        request: AdvanceClock,
        render: impl Fn(Result<&Advanced, &AppError>) -> StoredResponse + Send + Sync + 'static,
    ) -> Result<Written, AppError> {
        let earlier = if request.process {
            let target_of: TargetOf = Arc::new(move |current| request.target(current).ok());
            self.pass_clock_batches(caller, idempotency, target_of)
                .await?
        } else {
            RunTally::default()
        };
        let command = FinishAdvance { request, earlier };
        self.write(caller, idempotency, command, render).await
    }

    /// The legacy `POST /test-clock/process-billing`: processes every deadline due at or
    /// before the clock's time, in batches, and answers the counts.
    pub async fn process_test_clock_billing(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        render: impl Fn(Result<&BillingCounts, &AppError>) -> StoredResponse + Send + Sync + 'static,
    ) -> Result<Written, AppError> {
        let target_of: TargetOf = Arc::new(Some);
        let earlier = self
            .pass_clock_batches(caller, idempotency, target_of)
            .await?;
        self.write(
            caller,
            idempotency,
            FinishProcessBilling { earlier },
            render,
        )
        .await
    }

    /// Passes the organization's deadlines due up to `target_of(clock)`, a batch per
    /// transaction, until none is left. Nothing is processed for a live key (refused by the
    /// last transaction), an invalid target, or a key that already has its answer: a retry
    /// must replay it, not process anything.
    async fn pass_clock_batches(
        &self,
        caller: &Caller,
        idempotency: Option<&Idempotency>,
        target_of: TargetOf,
    ) -> Result<RunTally, AppError> {
        let mut tally = RunTally::default();
        if caller.is_live() {
            return Ok(tally);
        }
        let billing = self.billing().await?;
        loop {
            let make = || {
                let org = caller.org().clone();
                let api_key = caller.key_id.clone();
                let key = idempotency.map(|i| i.key.clone());
                let (target_of, clock) = (Arc::clone(&target_of), Arc::clone(&self.clock));
                let (ids, billing) = (Arc::clone(&self.ids), billing.clone());
                job(move |tx| {
                    Box::pin(async move {
                        let real_now = clock.now();
                        // A revoked key processes nothing (its last transaction refuses it).
                        if tx.key_standing(&org, &api_key).await?.is_none() {
                            return Ok(None);
                        }
                        let Some(organization) = tx.organization(&org, Lock::ForUpdate).await?
                        else {
                            return Ok(None);
                        };
                        if let Some(key) = &key
                            && is_answered(
                                tx,
                                IdempotencyScope {
                                    org: &org,
                                    api_key: &api_key,
                                },
                                key,
                                real_now,
                            )
                            .await?
                        {
                            return Ok(None);
                        }
                        let Some(target) = target_of(organization.now(real_now)) else {
                            return Ok(None);
                        };
                        Ok(Some(pass_batch(tx, &*ids, &billing, &org, target).await?))
                    })
                })
            };
            let Some(batch) = self.write_retrying(make).await? else {
                return Ok(tally);
            };
            tally.extend(batch.items);
            if !batch.has_more {
                return Ok(tally);
            }
        }
    }
}

/// Whether the key already holds an answer (from a request that finished, with this body or
/// another): the request's last transaction will replay it or refuse the mismatch.
async fn is_answered(
    tx: &mut dyn Tx,
    scope: IdempotencyScope<'_>,
    key: &str,
    real_now: Timestamp,
) -> Result<bool, AppError> {
    Ok(tx
        .idempotency_record(scope, key)
        .await?
        .is_some_and(|record| record.expires_at > real_now))
}

/// The last transaction of an advance: passes what fell due since the batches (at most a
/// batch; any rest stays due for the next advance), moves the clock and records the run.
struct FinishAdvance {
    request: AdvanceClock,
    earlier: RunTally,
}

#[async_trait]
impl Command for FinishAdvance {
    type Output = Advanced;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Advanced, AppError> {
        let organization = lock_sandbox(ctx).await?;
        // `ctx.now` was read before this row was locked; the locked row is authoritative when
        // another advance committed in between.
        let current = organization.test_clock.unwrap_or(ctx.now);
        let target = self.request.target(current)?;
        let run = if self.request.process {
            let mut tally = self.earlier.clone();
            let rest = pass_batch(ctx.tx, ctx.ids, ctx.billing, &organization.id, target);
            tally.extend(rest.await?.items);
            let id = TestClockRunId::from_ulid(ctx.ids.ulid());
            let run = tally.into_run(id, current, target, ctx.now);
            ctx.tx.insert_test_clock_run(&organization.id, &run).await?;
            Some(run)
        } else {
            None
        };
        ctx.tx.set_test_clock(&organization.id, target).await?;
        Ok(Advanced {
            clock: TestClockView {
                simulated_time: Some(target),
                now: target,
                latest_run: run.clone(),
            },
            run,
        })
    }
}

/// The last transaction of the legacy `process-billing`: what fell due since the batches (at
/// most a batch), and the counts of the whole request.
struct FinishProcessBilling {
    earlier: RunTally,
}

#[async_trait]
impl Command for FinishProcessBilling {
    type Output = BillingCounts;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<BillingCounts, AppError> {
        let organization = lock_sandbox(ctx).await?;
        let now = organization.test_clock.unwrap_or(ctx.now);
        let mut tally = self.earlier.clone();
        let rest = pass_batch(ctx.tx, ctx.ids, ctx.billing, &organization.id, now);
        tally.extend(rest.await?.items);
        Ok(BillingCounts {
            customers_found: tally.subscription_count(),
            enqueued: tally.billing_count(),
            failed: tally.failed_count(),
            dunning_retried: tally.dunning_retried(),
            dunning_failed: tally.dunning_failed(),
        })
    }
}

async fn lock_sandbox(ctx: &mut WriteCtx<'_>) -> Result<Organization, AppError> {
    if ctx.caller.is_live() {
        return Err(AppError::SandboxOnly);
    }
    ctx.tx
        .organization(ctx.caller.org(), Lock::ForUpdate)
        .await?
        .ok_or(AppError::Unauthorized)
}

impl App {
    pub async fn test_clock(&self, caller: &Caller) -> Result<TestClockView, AppError> {
        if caller.is_live() {
            return Err(AppError::SandboxOnly);
        }
        let (mut db, _) = self.reader(caller).await?;
        let organization = db
            .organization(caller.org(), Lock::None)
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok(TestClockView {
            simulated_time: organization.test_clock,
            now: organization.now(self.clock.now()),
            latest_run: db.latest_test_clock_run(caller.org()).await?,
        })
    }
}
