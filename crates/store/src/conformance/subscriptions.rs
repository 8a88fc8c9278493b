//! Subscriptions, their feature snapshots and their deadlines.

use super::fixtures::{
    DAY_MS, PAGED, SeatPlan, T0, commit, customer, every_page, expected_pages, first_page,
    insert_customer, insert_seat_plan, insert_subscription, n_of, organization, page_numbers,
    paged_at, read, roll_back, subscribed,
};
use crate::{DueDeadline, Lock, Store, StoreError, constraints, write};
use std::sync::Arc;
use tally_domain::money::Rate;
use tally_domain::page::{PagePosition, PageRequest};
use tally_domain::subscription::{
    Cancellation, Credits, DeadlineFailure, FeatureSnapshot, PrepaidBalance, Subscription,
    SubscriptionId, SubscriptionStatus,
};
use tally_domain::{Customer, OrgId, Timestamp};

fn position(subscription: &Subscription) -> PagePosition {
    PagePosition {
        created_at: subscription.created_at,
        id: subscription.id.as_str().to_owned(),
    }
}

/// `subscription` canceled at `at`, as `app` ends one.
fn canceled(subscription: &Subscription, at: Timestamp) -> Subscription {
    Subscription {
        status: SubscriptionStatus::Canceled,
        current_period: None,
        canceled_at: Some(at),
        ended_at: Some(at),
        updated_at: at,
        ..subscription.clone()
    }
}

/// A second snapshot entry, for lists of more than one feature.
fn viewer_snapshot(seat_plan: &SeatPlan) -> FeatureSnapshot {
    FeatureSnapshot {
        code: "viewer".to_owned(),
        name: "Viewer seats".to_owned(),
        unit_name: None,
        unlimited: true,
        ..seat_plan.snapshot()
    }
}

pub async fn a_subscription_reads_back_with_its_features(store: Arc<dyn Store>) {
    // Goal: every column round-trips, including the optional ledgers and a scheduled
    // cancellation, and the feature snapshot keeps its order.
    let org = organization(&*store, "subscriptions").await;
    let customer = customer(&org, 1, Some("subscriber"), T0);
    insert_customer(&*store, &customer).await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let started = seat_plan.subscription(&customer, 1, T0);
    let period = started.current_period.expect("a monthly subscription");
    let subscription = Subscription {
        description: Some("The main one".to_owned()),
        cancellation: Some(Cancellation {
            scheduled_at: T0.plus_millis(DAY_MS),
            reason: Some("too expensive".to_owned()),
            effective_at: period.end,
        }),
        credits: Some(Credits {
            remaining: 7,
            included: 10,
            purchased: 2,
        }),
        balance: Some(PrepaidBalance {
            remaining: Rate(5_000),
            included: Rate(10_000),
        }),
        currency: "brl".to_owned(),
        dunning: Some(tally_domain::dunning::Dunning {
            invoice_id: "inv_unpaid".to_owned(),
            failed_at: T0.plus_millis(DAY_MS),
            retries: 2,
        }),
        checkout_trial_days: Some(14),
        ..started
    };
    let features = vec![viewer_snapshot(&seat_plan), seat_plan.snapshot()];
    insert_subscription(&*store, &subscription, features.clone()).await;

    let mut db = read(&*store).await;
    let by_id = db
        .subscription(&org, &subscription.id, Lock::None)
        .await
        .unwrap();
    let stored_features = db
        .subscription_features(&org, &subscription.id)
        .await
        .unwrap();
    let of_plan = db
        .live_subscriptions_of_plan(&org, &seat_plan.plan.id)
        .await
        .unwrap();
    let (job_org, job_customer) = (org.clone(), customer.id.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.live_subscription(&job_org, &job_customer, Lock::ForUpdate)
                .await
        })
    })
    .await;
    let ended = canceled(&subscription, T0.plus_millis(2 * DAY_MS));
    let job_ended = ended.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.update_subscription(&job_ended, None).await })
    })
    .await;

    assert_eq!(by_id, Some(subscription.clone()));
    assert_eq!(locked, Some(subscription.clone()));
    assert_eq!(stored_features, features);
    assert_eq!(of_plan, vec![subscription.id.clone()]);
    let mut db = read(&*store).await;
    assert_eq!(
        db.subscription(&org, &subscription.id, Lock::None)
            .await
            .unwrap(),
        Some(ended)
    );
    assert_eq!(
        db.live_subscription(&org, &customer.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.live_subscriptions_of_plan(&org, &seat_plan.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_second_live_subscription_of_a_customer_is_a_named_conflict(store: Arc<dyn Store>) {
    let first = subscribed(&*store, "live twice").await;
    let second = first.seat_plan.subscription(&first.customer, 2, T0);

    let job_second = second.clone();
    let taken = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_subscription(&job_second, None).await })
    })
    .await;
    // Once the first one is canceled, the customer may subscribe again.
    let (ended, job_second) = (canceled(&first.subscription, T0), second.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_subscription(&ended, None).await?;
            tx.insert_subscription(&job_second, None).await
        })
    })
    .await;

    assert!(
        matches!(&taken, Err(e) if e.is_conflict_on(constraints::LIVE_SUBSCRIPTION)),
        "{taken:?}"
    );
    let live = read(&*store)
        .await
        .live_subscription(&first.org, &first.customer.id, Lock::None)
        .await
        .unwrap();
    assert_eq!(live, Some(second));
}

pub async fn subscriptions_page_newest_first_and_filter_by_customer_and_status(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "subscription pages").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let mut customers: Vec<Customer> = Vec::new();
    for n in PAGED {
        let subscriber = customer(&org, n, None, T0);
        insert_customer(&*store, &subscriber).await;
        let mut subscription = seat_plan.subscription(&subscriber, n, paged_at(n));
        if n % 2 == 1 {
            subscription = canceled(&subscription, paged_at(n));
        }
        insert_subscription(&*store, &subscription, vec![]).await;
        customers.push(subscriber);
    }
    let elsewhere = subscribed(&*store, "elsewhere").await;
    let customer_of = |n: u32| {
        customers
            .iter()
            .find(|c| n_of(c.id.as_str()) == n)
            .expect("every n has a customer")
            .id
            .clone()
    };

    let mut db = read(&*store).await;
    let pages = every_page(2, position, async |page| {
        db.subscriptions(&org, None, None, &page).await.unwrap()
    })
    .await;
    let active_pages = every_page(1, position, async |page| {
        db.subscriptions(&org, None, Some(SubscriptionStatus::Active), &page)
            .await
            .unwrap()
    })
    .await;
    let mut filtered = async |customer: Option<u32>, status: Option<SubscriptionStatus>| {
        let customer = customer.map(customer_of);
        let page = db
            .subscriptions(&org, customer.as_ref(), status, &first_page(10))
            .await
            .unwrap();
        page.items
            .iter()
            .map(|s| n_of(s.id.as_str()))
            .collect::<Vec<_>>()
    };
    let of_customer_2 = filtered(Some(2), None).await;
    let canceled_ones = filtered(None, Some(SubscriptionStatus::Canceled)).await;
    let canceled_of_3 = filtered(Some(3), Some(SubscriptionStatus::Canceled)).await;
    let canceled_of_2 = filtered(Some(2), Some(SubscriptionStatus::Canceled)).await;
    let of_another_organization = db
        .subscriptions(
            &org,
            Some(&elsewhere.customer.id),
            None,
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();

    assert_eq!(
        page_numbers(&pages, |s| n_of(s.id.as_str())),
        expected_pages()
    );
    assert_eq!(
        page_numbers(&active_pages, |s| n_of(s.id.as_str())),
        vec![vec![4], vec![2], vec![0]]
    );
    assert_eq!(of_customer_2, vec![2]);
    assert_eq!(canceled_ones, vec![3, 1]);
    assert_eq!(canceled_of_3, vec![3]);
    assert!(canceled_of_2.is_empty());
    assert!(of_another_organization.items.is_empty());
}

pub async fn due_deadlines_come_earliest_first_and_skip_organizations_on_a_test_clock(
    store: Arc<dyn Store>,
) {
    // Goal: the renewal sweep (no organization named) sees every organization on real time,
    // earliest deadline first, and never one whose test clock drives it; naming an
    // organization (the test clock's own processing) sees only that one.
    let real = organization(&*store, "real time").await;
    let clocked = organization(&*store, "test clock").await;
    let (real_plan, clocked_plan) = (
        insert_seat_plan(&*store, &real, 1).await,
        insert_seat_plan(&*store, &clocked, 1).await,
    );
    let later = |days: i64| T0.plus_millis(days * DAY_MS);
    let mut rows: Vec<(Subscription, Option<Timestamp>)> = Vec::new();
    for (n, deadline) in [(1, Some(later(3))), (2, Some(later(1))), (3, None)] {
        let c = customer(&real, n, None, T0);
        insert_customer(&*store, &c).await;
        rows.push((real_plan.subscription(&c, n, T0), deadline));
    }
    let c = customer(&clocked, 4, None, T0);
    insert_customer(&*store, &c).await;
    rows.push((clocked_plan.subscription(&c, 4, T0), Some(later(0))));
    let ids: std::collections::BTreeMap<u32, SubscriptionId> = rows
        .iter()
        .map(|(s, _)| (n_of(s.id.as_str()), s.id.clone()))
        .collect();
    let job_clocked = clocked.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            for (subscription, deadline) in &rows {
                tx.insert_subscription(subscription, *deadline).await?;
            }
            tx.set_test_clock(&job_clocked, T0).await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let sweep = db.due_deadlines(None, later(10), 10).await.unwrap();
    let first_only = db.due_deadlines(None, later(10), 1).await.unwrap();
    let until_day_2 = db.due_deadlines(None, later(2), 10).await.unwrap();
    let named_clocked = db
        .due_deadlines(Some(&clocked), later(10), 10)
        .await
        .unwrap();
    let named_real = db.due_deadlines(Some(&real), later(10), 10).await.unwrap();

    let due = |org: &OrgId, n: u32, days: i64| DueDeadline {
        org_id: org.clone(),
        subscription_id: ids[&n].clone(),
        due_at: later(days),
    };
    assert_eq!(sweep, vec![due(&real, 2, 1), due(&real, 1, 3)]);
    assert_eq!(first_only, vec![due(&real, 2, 1)]);
    assert_eq!(until_day_2, vec![due(&real, 2, 1)]);
    assert_eq!(named_clocked, vec![due(&clocked, 4, 0)]);
    assert_eq!(named_real, sweep);
}

pub async fn a_failed_deadline_is_skipped_until_its_retry_time_and_a_save_clears_it(
    store: Arc<dyn Store>,
) {
    // Goal: a deadline with a recorded failure is left out of `due_deadlines` (for the sweep
    // and for its own organization) until its retry time, so it cannot hold up the others;
    // saving the subscription clears the record; another organization's subscription cannot
    // be marked.
    let kept = subscribed(&*store, "deadline failures").await;
    let other = subscribed(&*store, "other organization").await;
    let org = kept.org.clone();
    let id = kept.subscription.id.clone();
    let due_at = kept
        .subscription
        .next_deadline()
        .expect("a monthly subscription")
        .0;
    let failure = DeadlineFailure {
        failures: 2,
        last_error: "the invoice would exceed the money bound".to_owned(),
        retry_at: due_at.plus_millis(DAY_MS),
    };
    let (job_org, job_id, job_failure) = (org.clone(), id.clone(), failure.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.record_deadline_failure(&job_org, &job_id, &job_failure)
                .await
        })
    })
    .await;
    let (job_org, job_other, job_failure) =
        (org.clone(), other.subscription.id.clone(), failure.clone());
    let foreign: Result<(), StoreError> = write(&*store, move |tx| {
        Box::pin(async move {
            tx.record_deadline_failure(&job_org, &job_other, &job_failure)
                .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let recorded = db.deadline_failure(&org, &id).await.unwrap();
    let sweep_before_retry = db.due_deadlines(None, due_at, 10).await.unwrap();
    let own_before_retry = db.due_deadlines(Some(&org), due_at, 10).await.unwrap();
    let at_retry = db
        .due_deadlines(Some(&org), failure.retry_at, 10)
        .await
        .unwrap();
    let other_failure = db
        .deadline_failure(&other.org, &other.subscription.id)
        .await
        .unwrap();
    drop(db);
    let saved = kept.subscription.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            let deadline = saved.next_deadline().map(|(at, _)| at);
            tx.update_subscription(&saved, deadline).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    let after_save = db.deadline_failure(&org, &id).await.unwrap();
    let due_after_save = db.due_deadlines(Some(&org), due_at, 10).await.unwrap();

    let deadline = |org: &OrgId, id: &SubscriptionId| DueDeadline {
        org_id: org.clone(),
        subscription_id: id.clone(),
        due_at,
    };
    assert_eq!(recorded, Some(failure));
    assert!(matches!(foreign, Err(StoreError::NotFound)), "{foreign:?}");
    assert_eq!(other_failure, None);
    assert_eq!(
        sweep_before_retry,
        vec![deadline(&other.org, &other.subscription.id)],
        "the failed deadline no longer comes first"
    );
    assert!(own_before_retry.is_empty());
    assert_eq!(at_retry, vec![deadline(&org, &id)]);
    assert_eq!(after_save, None);
    assert_eq!(due_after_save, vec![deadline(&org, &id)]);
}

pub async fn a_rolled_back_job_leaves_no_subscription_change(store: Arc<dyn Store>) {
    let kept = subscribed(&*store, "subscription rollback").await;
    let newcomer = customer(&kept.org, 2, Some("newcomer"), T0);
    insert_customer(&*store, &newcomer).await;
    let ghost = kept.seat_plan.subscription(&newcomer, 2, T0);
    let deadlines_before = read(&*store)
        .await
        .due_deadlines(Some(&kept.org), T0.plus_millis(100 * DAY_MS), 10)
        .await
        .unwrap();

    let (job_kept, job_ghost) = (kept.clone(), ghost.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            let org = &job_kept.org;
            tx.insert_subscription(&job_ghost, None).await?;
            tx.replace_subscription_features(org, &job_ghost.id, &[job_kept.seat_plan.snapshot()])
                .await?;
            tx.update_subscription(&canceled(&job_kept.subscription, T0), None)
                .await?;
            tx.replace_subscription_features(org, &job_kept.subscription.id, &[])
                .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let org = &kept.org;
    assert_eq!(
        db.subscription(org, &ghost.id, Lock::None).await.unwrap(),
        None
    );
    assert!(
        db.subscription_features(org, &ghost.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.subscription(org, &kept.subscription.id, Lock::None)
            .await
            .unwrap(),
        Some(kept.subscription.clone())
    );
    assert_eq!(
        db.subscription_features(org, &kept.subscription.id)
            .await
            .unwrap(),
        vec![kept.seat_plan.snapshot()]
    );
    assert_eq!(
        db.due_deadlines(Some(org), T0.plus_millis(100 * DAY_MS), 10)
            .await
            .unwrap(),
        deadlines_before
    );
    assert_eq!(deadlines_before.len(), 1);
}

pub async fn another_organizations_subscriptions_are_never_read_or_changed(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let their = subscribed(&*store, "theirs").await;
    let far = T0.plus_millis(100 * DAY_MS);

    let mut db = read(&*store).await;
    assert_eq!(
        db.subscription(&mine, &their.subscription.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.live_subscription(&mine, &their.customer.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.subscriptions(&mine, None, None, &first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        db.subscriptions(&mine, Some(&their.customer.id), None, &first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        db.live_subscriptions_of_plan(&mine, &their.seat_plan.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.subscription_features(&mine, &their.subscription.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        db.due_deadlines(Some(&mine), far, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let (job_mine, job_their) = (mine.clone(), their.clone());
    let (locked, locked_live, replaced) = commit(&*store, move |tx| {
        Box::pin(async move {
            let (mine, their) = (job_mine, job_their);
            let locked = tx
                .subscription(&mine, &their.subscription.id, Lock::ForUpdate)
                .await?;
            let locked_live = tx
                .live_subscription(&mine, &their.customer.id, Lock::ForUpdate)
                .await?;
            let hijacked = Subscription {
                org_id: mine.clone(),
                ..canceled(&their.subscription, T0)
            };
            tx.update_subscription(&hijacked, None).await?;
            let replaced = tx
                .replace_subscription_features(&mine, &their.subscription.id, &[])
                .await;
            Ok((locked, locked_live, replaced))
        })
    })
    .await;

    assert_eq!((locked, locked_live), (None, None));
    assert!(
        matches!(replaced, Err(StoreError::NotFound)),
        "{replaced:?}"
    );
    let mut db = read(&*store).await;
    assert_eq!(
        db.subscription(&their.org, &their.subscription.id, Lock::None)
            .await
            .unwrap(),
        Some(their.subscription.clone())
    );
    assert_eq!(
        db.subscription_features(&their.org, &their.subscription.id)
            .await
            .unwrap(),
        vec![their.seat_plan.snapshot()]
    );
    assert_eq!(
        db.due_deadlines(Some(&their.org), far, 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
