//! The sandbox test clock: its position on the organization row, and the runs that moved it.

use super::fixtures::{DAY_MS, T0, clock_run, commit, organization, read, roll_back, ulid};
use crate::{Lock, Store, StoreError, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::subscription::SubscriptionId;
use tally_domain::test_clock::{RunItem, TestClockRun};
use tally_domain::{OrgId, Timestamp};

fn day(n: i64) -> Timestamp {
    T0.plus_millis(n * DAY_MS)
}

/// Some subscription a run's items name (runs keep their items as a record, not a reference).
fn some_subscription(org: &OrgId) -> SubscriptionId {
    SubscriptionId::from_ulid(ulid(org, T0, 1))
}

async fn clock_of(store: &dyn Store, org: &OrgId) -> Option<Timestamp> {
    read(store)
        .await
        .organization(org, Lock::None)
        .await
        .unwrap()
        .expect("the organization exists")
        .test_clock
}

async fn latest_run(store: &dyn Store, org: &OrgId) -> Option<TestClockRun> {
    read(store).await.latest_test_clock_run(org).await.unwrap()
}

/// Moves the clock to `at` and records `run`, in one job.
async fn advance(store: &dyn Store, org: &OrgId, at: Timestamp, run: TestClockRun) {
    let org = org.clone();
    commit(store, move |tx| {
        Box::pin(async move {
            tx.set_test_clock(&org, at).await?;
            tx.insert_test_clock_run(&org, &run).await
        })
    })
    .await;
}

pub async fn concurrent_clock_moves_on_a_locked_organization_lose_no_update(store: Arc<dyn Store>) {
    // Goal: advancing the test clock (lock the organization, read its clock, move it one day
    // on) never loses a move. On PostgreSQL the jobs run side by side, so only the row lock
    // taken by `Lock::ForUpdate` makes them queue. Method: 20 advances at once, each pausing
    // between its read and its write.
    const JOBS: i64 = 20;
    let org = organization(&*store, "clock race").await;

    let jobs: Vec<_> = (0..JOBS)
        .map(|n| {
            let (store, org) = (store.clone(), org.clone());
            tokio::spawn(async move {
                write(&*store, move |tx| {
                    Box::pin(async move {
                        let locked = tx
                            .organization(&org, Lock::ForUpdate)
                            .await?
                            .ok_or(StoreError::NotFound)?;
                        let now = locked.test_clock.unwrap_or(T0);
                        // Widens the window in which an unlocked read would go stale.
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        let target = now.plus_millis(DAY_MS);
                        tx.set_test_clock(&org, target).await?;
                        let number = u32::try_from(n).expect("a small number");
                        let run = clock_run(&org, number, &some_subscription(&org), target, target);
                        tx.insert_test_clock_run(&org, &run).await
                    })
                })
                .await
            })
        })
        .collect();
    let mut outcomes: Vec<Result<(), StoreError>> = Vec::new();
    for job in jobs {
        outcomes.push(job.await.expect("the job's task ends"));
    }

    assert!(
        outcomes.iter().all(Result::is_ok),
        "every advance commits: {outcomes:?}"
    );
    assert_eq!(clock_of(&*store, &org).await, Some(day(JOBS)));
    let latest = latest_run(&*store, &org).await.expect("runs were recorded");
    assert_eq!(latest.target_time, day(JOBS));
}

pub async fn the_latest_test_clock_run_reads_back_as_written(store: Arc<dyn Store>) {
    let org = organization(&*store, "runs").await;
    let subscription = some_subscription(&org);
    let first = clock_run(&org, 1, &subscription, day(1), day(1));
    // Two runs recorded at the same instant: the latest is the one with the greater id.
    let tied = clock_run(&org, 2, &subscription, day(2), day(2));
    let renewed = clock_run(&org, 3, &subscription, day(3), day(2));
    let failed = RunItem {
        error: Some("the plan was deleted".to_owned()),
        outcome: None,
        customer_name: None,
        invoice_number: None,
        invoice_id: None,
        ..renewed.items[0].clone()
    };
    // A run keeps at most `RUN_ITEMS_MAX` items; its counts cover every deadline.
    let latest = TestClockRun {
        items: vec![failed, renewed.items[0].clone()],
        completed_count: 250,
        failed_count: 1,
        ..renewed
    };

    let none_yet = latest_run(&*store, &org).await;
    for run in [latest.clone(), first, tied] {
        let target = run.target_time;
        advance(&*store, &org, target, run).await;
    }

    assert_eq!(none_yet, None);
    assert_eq!(latest_run(&*store, &org).await, Some(latest));
    assert_eq!(clock_of(&*store, &org).await, Some(day(2)));
}

pub async fn a_rolled_back_job_leaves_the_test_clock_as_it_was(store: Arc<dyn Store>) {
    let org = organization(&*store, "clock rollback").await;
    let kept = clock_run(&org, 1, &some_subscription(&org), day(1), day(1));
    advance(&*store, &org, day(1), kept.clone()).await;

    let job_org = org.clone();
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.set_test_clock(&job_org, day(5)).await?;
            let run = clock_run(&job_org, 2, &some_subscription(&job_org), day(5), day(5));
            tx.insert_test_clock_run(&job_org, &run).await
        })
    })
    .await;

    assert_eq!(clock_of(&*store, &org).await, Some(day(1)));
    assert_eq!(latest_run(&*store, &org).await, Some(kept));
}

pub async fn another_organizations_test_clock_is_never_moved_or_read(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_run = clock_run(&theirs, 1, &some_subscription(&theirs), day(1), day(1));
    advance(&*store, &theirs, day(1), their_run.clone()).await;

    let mine_before = latest_run(&*store, &mine).await;
    let my_run = clock_run(&mine, 2, &some_subscription(&mine), day(9), day(9));
    advance(&*store, &mine, day(9), my_run.clone()).await;

    assert_eq!(mine_before, None);
    assert_eq!(clock_of(&*store, &theirs).await, Some(day(1)));
    assert_eq!(latest_run(&*store, &theirs).await, Some(their_run));
    assert_eq!(clock_of(&*store, &mine).await, Some(day(9)));
    assert_eq!(latest_run(&*store, &mine).await, Some(my_run));
}
