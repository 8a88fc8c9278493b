//! Write jobs as such: a job that fails keeps nothing, a job whose caller goes away still runs
//! to its end, and a savepoint undoes part of a job. Each area's own rollback case is in its
//! file. Also: rows that would hang one organization's data on another's are refused.

use super::fixtures::{
    T0, commit, customer, first_page, insert_customer, insert_seat_plan, organization, read, scope,
    seat_event, seat_true_up, sender, subscribed,
};
use crate::{Lock, Store, StoreError, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::catalog::{PlanFeature, PlanPrice, PriceId};

pub async fn a_dropped_transaction_leaves_no_trace(store: Arc<dyn Store>) {
    let org = organization(&*store, "rollback").await;
    let ghost = customer(&org, 1, Some("ghost"), T0);

    let (job_org, job_ghost) = (org.clone(), ghost.clone());
    let refused: Result<(), StoreError> = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&job_ghost).await?;
            tx.record_idempotency(scope(&job_org, &sender()), "k", "fp", &answer(), T0, T0)
                .await?;
            Err(StoreError::other("the job changes its mind"))
        })
    })
    .await;

    assert!(refused.is_err());
    let mut db = read(&*store).await;
    assert_eq!(
        db.customer(&org, &ghost.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.idempotency_record(scope(&org, &sender()), "k")
            .await
            .unwrap(),
        None
    );
}

pub async fn a_job_runs_to_its_end_when_its_caller_goes_away(store: Arc<dyn Store>) {
    // Goal: an HTTP client that disconnects drops the future waiting for its write; the job
    // must still run to its end and commit, never stop halfway or leave a transaction open.
    // Method: start a slow job, drop its future mid-way, then check its writes and that the
    // store still takes new writes.
    let org = organization(&*store, "abandoned").await;
    let (job_org, first) = (org.clone(), customer(&org, 1, Some("first"), T0));
    let second = customer(&org, 2, Some("second"), T0);
    let job_second = second.clone();
    let abandoned = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&first).await?;
            tokio::time::sleep(Duration::from_millis(100)).await;
            tx.insert_customer(&job_second).await?;
            tx.record_idempotency(
                scope(&job_org, &sender()),
                "abandoned",
                "fp",
                &answer(),
                T0,
                T0,
            )
            .await
        })
    });

    let timed_out = tokio::time::timeout(Duration::from_millis(30), abandoned).await;
    let later = customer(&org, 3, Some("later"), T0);
    insert_customer(&*store, &later).await;

    assert!(timed_out.is_err(), "the job was still running when dropped");
    // PostgreSQL runs jobs side by side, so the abandoned one may still be sleeping: wait for
    // its commit, with a deadline.
    let mut db = read(&*store).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while db
        .idempotency_record(scope(&org, &sender()), "abandoned")
        .await
        .unwrap()
        .is_none()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let listed = db.customers(&org, None, &first_page(10)).await.unwrap();
    assert_eq!(listed.items.len(), 3, "{:?}", listed.items);
    assert!(
        db.idempotency_record(scope(&org, &sender()), "abandoned")
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn a_refused_part_of_a_job_is_undone_by_its_savepoint(store: Arc<dyn Store>) {
    // Goal: the write path keeps a refusal under its idempotency key while undoing the refused
    // command's writes, in one transaction: a savepoint rolls back part of a job.
    let org = organization(&*store, "savepoint").await;
    let (job_org, kept, undone) = (
        org.clone(),
        customer(&org, 1, Some("kept"), T0),
        customer(&org, 2, Some("undone"), T0),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&kept).await?;
            tx.savepoint("command").await?;
            tx.insert_customer(&undone).await?;
            // A unique violation inside the savepoint: PostgreSQL aborts the transaction until
            // the savepoint is rolled back, SQLite only the statement.
            let clash = tx
                .insert_customer(&customer(&job_org, 3, Some("kept"), T0))
                .await;
            assert!(clash.is_err());
            tx.rollback_to_savepoint("command").await?;
            tx.release_savepoint("command").await?;
            tx.record_idempotency(
                scope(&job_org, &sender()),
                "refused",
                "fp",
                &answer(),
                T0,
                T0,
            )
            .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let listed = db.customers(&org, None, &first_page(10)).await.unwrap();
    let names: Vec<_> = listed.items.iter().map(|c| c.external_id.clone()).collect();
    assert_eq!(names, vec![Some("kept".to_owned())]);
    assert!(
        db.idempotency_record(scope(&org, &sender()), "refused")
            .await
            .unwrap()
            .is_some()
    );
}

/// An idempotency record's answer, for jobs that need something to record.
fn answer() -> crate::StoredResponse {
    crate::StoredResponse {
        status: 200,
        body: "{}".to_owned(),
    }
}

pub async fn rows_that_name_another_organizations_rows_are_refused(store: Arc<dyn Store>) {
    // Goal: ids alone never say whose a row is; an insert that hangs a row of one organization
    // on another's plan, feature or subscription is refused by the store itself.
    let mine = organization(&*store, "mine").await;
    let their = subscribed(&*store, "theirs").await;
    let my_plan = insert_seat_plan(&*store, &mine, 2).await;

    let (job_mine, job_their, job_my_plan) = (mine.clone(), their.clone(), my_plan.clone());
    let outcomes = commit(&*store, move |tx| {
        Box::pin(async move {
            let (mine, their, my_plan) = (job_mine, job_their, job_my_plan);
            let price_on_their_plan = PlanPrice {
                id: PriceId::from_ulid(ulid::Ulid::from_parts(9, 1)),
                ..their.seat_plan.price.clone()
            };
            let their_feature_on_my_plan = PlanFeature {
                plan_id: my_plan.plan.id.clone(),
                ..their.seat_plan.plan_feature.clone()
            };
            let mut event = seat_event(&their.subscription, 9, "editor", 1, T0);
            event.org_id = mine.clone();
            let true_up = seat_true_up(&their.subscription, &event);
            Ok([
                tx.insert_price(&mine, &price_on_their_plan).await,
                tx.insert_plan_feature(&mine, &their_feature_on_my_plan)
                    .await,
                tx.append_seat_event(&event).await,
                tx.insert_seat_true_up(&mine, &true_up).await,
            ])
        })
    })
    .await;

    for (outcome, what) in outcomes.iter().zip([
        "a price on their plan",
        "their feature on my plan",
        "a seat event of their subscription",
        "a true-up of their subscription",
    ]) {
        assert!(
            matches!(outcome, Err(StoreError::NotFound)),
            "{what}: {outcome:?}"
        );
    }
    let mut db = read(&*store).await;
    assert_eq!(
        db.plan_prices(&mine, &their.seat_plan.plan.id)
            .await
            .unwrap(),
        vec![]
    );
    assert_eq!(
        db.plan_prices(&their.org, &their.seat_plan.plan.id)
            .await
            .unwrap(),
        vec![their.seat_plan.price.clone()]
    );
    assert_eq!(
        db.plan_features(&mine, &my_plan.plan.id)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        db.pending_true_ups(&mine, &their.subscription.id)
            .await
            .unwrap(),
        vec![]
    );
}
