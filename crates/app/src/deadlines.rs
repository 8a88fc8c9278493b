//! Passing due deadlines (renewals, trial ends, scheduled cancellations) so that none can hold
//! up the others, for the renewal sweep of organizations on real time and for test clock
//! advances. Each subscription's deadlines pass in a savepoint of their own: when they fail
//! (an invoice above the money bound, say) their writes are undone, the failure is logged and
//! recorded with a retry time (`DeadlineFailure`), and the deadline is skipped until then. Work
//! comes in bounded batches, each its own transaction. The rules of passing one deadline live
//! in `subscriptions`.

use crate::collection::Billing;
use crate::subscriptions::pass_due_deadlines;
use crate::write::TX_ATTEMPTS_MAX;
use crate::{App, AppError, IdSource};
use std::collections::BTreeSet;
use std::sync::Arc;
use tally_domain::subscription::{DeadlineFailure, SubscriptionId};
use tally_domain::test_clock::{RunItem, RunItemKind};
use tally_domain::{OrgId, Timestamp};
use tally_store::{DueDeadline, Lock, StoreError, Tx, TxFuture};
use tracing::warn;

/// Deadlines passed per transaction. Decision: 100, a few tens of milliseconds of work, so a
/// catch-up over years of renewals never holds SQLite's one writer or PostgreSQL's row locks
/// for long: other requests get in between batches.
pub const DEADLINES_PER_BATCH: usize = 100;

/// The savepoint one subscription's deadlines pass in.
const SAVEPOINT: &str = "tally_deadline";

/// What one pass of the renewal sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    /// Deadlines passed.
    pub passed: usize,
    /// Deadlines that failed, recorded and left for their retry time.
    pub failed: usize,
    /// Subscriptions left for the next pass because their transaction could not commit, not
    /// even to record a failure (conflicts to the last attempt, say).
    pub deferred: usize,
}

/// One batch of an organization's deadlines.
pub(crate) struct Batch {
    pub items: Vec<RunItem>,
    /// `false` when no deadline due up to the batch's instant is left.
    pub has_more: bool,
}

/// Passes up to `DEADLINES_PER_BATCH` of `org`'s deadlines due at or before `until`, each
/// subscription isolated (`pass_isolated`), inside `tx`. One deadline per subscription per
/// round, earliest first: the organization moves forward in time order, whatever the number
/// of its subscriptions, so a run lists its earliest deadlines and a batch never renews one
/// subscription years ahead of the others.
pub(crate) async fn pass_batch(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    billing: &Billing,
    org: &OrgId,
    until: Timestamp,
) -> Result<Batch, AppError> {
    // Plan grants whose expiry the clock passes end here too (not listed as run items).
    crate::plan_grants::expire_due(tx, ids, Some(org), until).await?;
    // So do payment links whose day is over (`payments.md` §7).
    crate::payments::expire_links(tx, ids, Some(org), until).await?;
    let mut items = Vec::new();
    loop {
        let left = DEADLINES_PER_BATCH - items.len();
        if left == 0 {
            return Ok(Batch {
                items,
                has_more: true,
            });
        }
        let limit = u32::try_from(left).expect("a batch is small");
        let due = tx.due_deadlines(Some(org), until, limit).await?;
        let before = items.len();
        for deadline in &due {
            items.extend(pass_isolated(tx, ids, billing, deadline, until, 1).await?);
        }
        // Nothing due, or nothing passed nor failed (every one was passed meanwhile): done.
        if items.len() == before {
            return Ok(Batch {
                items,
                has_more: false,
            });
        }
    }
}

/// Passes one subscription's due deadlines (at most `limit`) inside `tx`, in a savepoint. When
/// they fail, their writes are undone, and the failure is logged, recorded with its retry time
/// (organization time, from `until`) and returned as a failed run item; the rest of the
/// transaction goes on. Only an error that dooms the whole transaction (a conflict to retry,
/// the database gone) comes back as `Err`.
pub(crate) async fn pass_isolated(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    billing: &Billing,
    deadline: &DueDeadline,
    until: Timestamp,
    limit: usize,
) -> Result<Vec<RunItem>, AppError> {
    let (org, id) = (&deadline.org_id, &deadline.subscription_id);
    tx.savepoint(SAVEPOINT).await?;
    let error = match pass_due_deadlines(tx, ids, billing, org, id, until, limit).await {
        Ok(items) => {
            tx.release_savepoint(SAVEPOINT).await?;
            return Ok(items);
        }
        Err(error) if dooms_transaction(&error) => return Err(error),
        Err(error) => error,
    };
    tx.rollback_to_savepoint(SAVEPOINT).await?;
    tx.release_savepoint(SAVEPOINT).await?;
    let previous = tx.deadline_failure(org, id).await?;
    let failure = DeadlineFailure::after(previous.as_ref(), &error.to_string(), until);
    tx.record_deadline_failure(org, id, &failure).await?;
    warn!(
        %org,
        subscription = %id,
        due_at = %deadline.due_at,
        failures = failure.failures,
        retry_at = %failure.retry_at,
        %error,
        "a billing deadline failed; it is skipped until its retry time"
    );
    Ok(vec![RunItem {
        kind: RunItemKind::BillingCycle,
        due_at: deadline.due_at,
        subscription_id: id.clone(),
        customer_name: customer_name(tx, org, id).await?,
        outcome: None,
        error: Some(failure.last_error),
        invoice_number: None,
        invoice_id: None,
    }])
}

fn dooms_transaction(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Store(StoreError::Retry | StoreError::Unavailable(_))
    )
}

async fn customer_name(
    tx: &mut dyn Tx,
    org: &OrgId,
    id: &SubscriptionId,
) -> Result<Option<String>, AppError> {
    let Some(subscription) = tx.subscription(org, id, Lock::None).await? else {
        return Ok(None);
    };
    Ok(tx
        .customer(org, &subscription.customer_id, Lock::None)
        .await?
        .and_then(|c| c.full_name))
}

impl App {
    /// One pass of the real-time sweep: passes the deadlines due by now in organizations
    /// without an active test clock, earliest first, each subscription in a transaction of its
    /// own. A deadline that fails is recorded and skipped until its retry time; one whose
    /// transaction cannot commit at all is left for the next pass. Neither holds up the
    /// others. `Err` only when the store is unavailable.
    pub async fn process_due_deadlines(&self) -> Result<SweepReport, AppError> {
        let now = self.clock.now();
        let billing = self.billing().await?;
        let mut report = SweepReport::default();
        let mut deferred: BTreeSet<SubscriptionId> = BTreeSet::new();
        loop {
            let limit = u32::try_from(DEADLINES_PER_BATCH + deferred.len()).unwrap_or(u32::MAX);
            let due: Vec<DueDeadline> = self
                .store
                .read()
                .await?
                .due_deadlines(None, now, limit)
                .await?
                .into_iter()
                .filter(|d| !deferred.contains(&d.subscription_id))
                .collect();
            let mut progressed = false;
            for deadline in due {
                let (ids, billing) = (Arc::clone(&self.ids), billing.clone());
                let make = || {
                    let (ids, deadline, billing) =
                        (Arc::clone(&ids), deadline.clone(), billing.clone());
                    job(move |tx| {
                        Box::pin(async move {
                            let limit = DEADLINES_PER_BATCH;
                            pass_isolated(tx, &*ids, &billing, &deadline, now, limit).await
                        })
                    })
                };
                match self.write_retrying(make).await {
                    Ok(items) => {
                        progressed |= !items.is_empty();
                        for item in items {
                            if item.error.is_some() {
                                report.failed += 1;
                            } else {
                                report.passed += 1;
                            }
                        }
                    }
                    // The database is gone: nothing else would pass either.
                    Err(error @ AppError::Store(StoreError::Unavailable(_))) => return Err(error),
                    // Conflicts to the last attempt, or a failure the savepoint could not
                    // contain: this subscription waits for the next pass, the others go on.
                    Err(error) => {
                        warn!(
                            org = %deadline.org_id,
                            subscription = %deadline.subscription_id,
                            %error,
                            "a billing deadline could be neither passed nor recorded; it is left for the next sweep"
                        );
                        report.deferred += 1;
                        deferred.insert(deadline.subscription_id);
                        progressed = true;
                    }
                }
            }
            if !progressed {
                return Ok(report);
            }
        }
    }

    /// Runs a write job built by `job`, and a new one while the store answers `Retry` (up to
    /// `TX_ATTEMPTS_MAX` in all).
    pub(crate) async fn write_retrying<T, F>(&self, job: impl Fn() -> F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, AppError>> + Send + 'static,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = tally_store::write(&*self.store, job()).await;
            // Deadlines change subscriptions, ledgers and balances: the read view starts over.
            self.view.invalidate();
            match outcome {
                Err(AppError::Store(StoreError::Retry)) if attempt < TX_ATTEMPTS_MAX => {}
                outcome => return outcome,
            }
        }
    }
}

/// Gives a job closure its higher-ranked type where it is built inside another closure.
pub(crate) fn job<T, F>(work: F) -> F
where
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, AppError>> + Send + 'static,
{
    work
}
