//! The sandbox test clock (`catalog.md` §7): read it, move it forward, and process what falls
//! due. A move and its processing are one transaction, under a lock on the organization row, so
//! concurrent moves of one organization's clock are serialized and a crash loses neither half.

use crate::subscriptions::pass_due_deadlines;
use crate::{App, AppError, Caller, Command, WriteCtx};
use async_trait::async_trait;
use std::sync::Arc;
use tally_domain::test_clock::{TestClockRun, TestClockRunId, advance_target};
use tally_domain::{Organization, Timestamp};
use tally_store::Lock;

/// Deadlines fetched per round while processing; rounds repeat until none is left.
const DEADLINES_PER_ROUND: u32 = 200;

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
pub struct AdvanceClock {
    pub advance_days: Option<i64>,
    pub frozen_time: Option<Timestamp>,
    pub process: bool,
}

/// What an advance did: the clock after it, and the run when deadlines were processed.
#[derive(Debug, Clone)]
pub struct Advanced {
    pub clock: TestClockView,
    pub run: Option<TestClockRun>,
}

#[async_trait]
impl Command for AdvanceClock {
    type Output = Advanced;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Advanced, AppError> {
        let organization = lock_sandbox(ctx).await?;
        // `ctx.now` is the clock as the caller saw it at authentication; the locked row is
        // authoritative when another advance just finished.
        let current = organization.test_clock.unwrap_or(ctx.now);
        let target = advance_target(self.advance_days, self.frozen_time, current)?;
        ctx.tx.set_test_clock(&organization.id, target).await?;
        let run = if self.process {
            let run = process_until(ctx, &organization, current, target).await?;
            ctx.tx.insert_test_clock_run(&organization.id, &run).await?;
            Some(run)
        } else {
            None
        };
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

/// Processes every deadline due at or before the clock's time (the legacy `process-billing`).
pub struct ProcessBilling;

/// Counts for the legacy `TestClockBilling` view (`catalog.md` §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BillingCounts {
    pub customers_found: usize,
    pub enqueued: usize,
    pub failed: usize,
}

#[async_trait]
impl Command for ProcessBilling {
    type Output = BillingCounts;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<BillingCounts, AppError> {
        let organization = lock_sandbox(ctx).await?;
        let now = organization.test_clock.unwrap_or(ctx.now);
        let run = process_until(ctx, &organization, now, now).await?;
        let mut subscriptions: Vec<_> = run.items.iter().map(|i| &i.subscription_id).collect();
        subscriptions.sort();
        subscriptions.dedup();
        Ok(BillingCounts {
            customers_found: subscriptions.len(),
            enqueued: run.items.len(),
            failed: run.failed_count(),
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

async fn process_until(
    ctx: &mut WriteCtx<'_>,
    organization: &Organization,
    started_at: Timestamp,
    target: Timestamp,
) -> Result<TestClockRun, AppError> {
    let mut items = Vec::new();
    loop {
        let due = ctx
            .tx
            .due_deadlines(Some(&organization.id), target, DEADLINES_PER_ROUND)
            .await?;
        if due.is_empty() {
            break;
        }
        for deadline in due {
            items.extend(
                pass_due_deadlines(
                    ctx.tx,
                    ctx.ids,
                    ctx.invoice_status,
                    &organization.id,
                    &deadline.subscription_id,
                    target,
                )
                .await?,
            );
        }
    }
    // Subscriptions were processed one after another; the run lists their deadlines in time order.
    items.sort_by(|a, b| (a.due_at, &a.subscription_id).cmp(&(b.due_at, &b.subscription_id)));
    Ok(TestClockRun {
        id: TestClockRunId::from_ulid(ctx.ids.ulid()),
        started_at_time: started_at,
        target_time: target,
        items,
        created_at: ctx.now,
    })
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

    /// One pass of the real-time sweep: processes deadlines due by now in organizations without
    /// an active test clock, each subscription in its own transaction. Returns how many
    /// deadlines passed.
    pub async fn process_due_deadlines(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let mut passed = 0;
        loop {
            let due = self
                .store
                .read()
                .await?
                .due_deadlines(None, now, DEADLINES_PER_ROUND)
                .await?;
            if due.is_empty() {
                return Ok(passed);
            }
            for deadline in due {
                let ids = Arc::clone(&self.ids);
                let invoice_status = self.invoice_status;
                passed += tally_store::write(&*self.store, move |tx| {
                    Box::pin(async move {
                        let items = pass_due_deadlines(
                            tx,
                            &*ids,
                            invoice_status,
                            &deadline.org_id,
                            &deadline.subscription_id,
                            now,
                        )
                        .await?;
                        Ok::<_, AppError>(items.len())
                    })
                })
                .await?;
            }
        }
    }
}
