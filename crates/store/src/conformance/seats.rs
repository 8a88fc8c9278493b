//! Seat balances and the seat ledger.

use super::fixtures::{
    PAGED, Subscribed, T0, commit, customer, every_page, expected_pages, first_page,
    insert_customer, insert_subscription, n_of, organization, page_numbers, paged_at, read,
    roll_back, seat_balance, seat_event, subscribed,
};
use crate::{Lock, SeatEventFilter, Store, StoreError, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::page::{PagePosition, PageRequest};
use tally_domain::seats::{SeatBalance, SeatEvent, SeatPoint};
use tally_domain::subscription::Subscription;
use tally_domain::{OrgId, Timestamp};

fn position(event: &SeatEvent) -> PagePosition {
    PagePosition {
        created_at: event.ts,
        id: event.id.as_str().to_owned(),
    }
}

/// Saves balances of `org` and appends events, in one job.
async fn record(
    store: &dyn Store,
    org: &OrgId,
    balances: Vec<SeatBalance>,
    events: Vec<SeatEvent>,
) {
    let org = org.clone();
    commit(store, move |tx| {
        Box::pin(async move {
            for balance in &balances {
                tx.save_seat_balance(&org, balance).await?;
            }
            for event in &events {
                tx.append_seat_event(event).await?;
            }
            Ok(())
        })
    })
    .await;
}

/// Seconds after `T0`.
fn second(n: u32) -> Timestamp {
    T0.plus_millis(i64::from(n) * 1_000)
}

pub async fn concurrent_locked_seat_increments_lose_no_update(store: Arc<dyn Store>) {
    // Goal: the seat write path (lock the subscription, read its balance, save balance + 1)
    // never loses an update. On PostgreSQL the jobs run side by side, so only the row lock
    // taken by `Lock::ForUpdate` makes them queue; on SQLite the single writer runs them one
    // after another. Method: 20 jobs at once, each pausing between its read and its write.
    const JOBS: u32 = 20;
    let s = subscribed(&*store, "seat race").await;
    let code = s.seat_plan.feature.code.clone();
    let start = seat_balance(&s.subscription, &code, 10, T0);
    let job_org = s.org.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.save_seat_balance(&job_org, &start).await })
    })
    .await;

    let increment = |n: u32| {
        let (store, s, code) = (store.clone(), s.clone(), code.clone());
        tokio::spawn(async move {
            write(&*store, move |tx| {
                Box::pin(async move {
                    let subscription: Subscription = tx
                        .subscription(&s.org, &s.subscription.id, Lock::ForUpdate)
                        .await?
                        .ok_or(StoreError::NotFound)?;
                    let balances = tx.seat_balances(&s.org, &subscription.id).await?;
                    let current = balances
                        .iter()
                        .find(|b| b.feature_code == code)
                        .map_or(0, |b| b.current);
                    // Widens the window in which an unlocked read would go stale.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    let at = T0.plus_millis(i64::from(n) + 1);
                    let next = seat_balance(&subscription, &code, current + 1, at);
                    tx.save_seat_balance(&s.org, &next).await?;
                    tx.append_seat_event(&seat_event(&subscription, n, &code, current + 1, at))
                        .await
                })
            })
            .await
        })
    };
    let jobs: Vec<_> = (0..JOBS).map(increment).collect();
    let mut outcomes = Vec::new();
    for job in jobs {
        outcomes.push(job.await.expect("the job's task ends"));
    }

    assert!(
        outcomes.iter().all(Result::is_ok),
        "every increment commits: {outcomes:?}"
    );
    let mut db = read(&*store).await;
    let balances = db.seat_balances(&s.org, &s.subscription.id).await.unwrap();
    assert_eq!(balances.len(), 1);
    assert_eq!(balances[0].current, 10 + i64::from(JOBS));
    // Each job saw the one before it: the ledger is one unbroken chain 10 → 11 → … → 30.
    let events = db
        .seat_events(
            &s.org,
            &s.customer.id,
            &SeatEventFilter::default(),
            &first_page(100),
        )
        .await
        .unwrap();
    let mut previous: Vec<i64> = events.items.iter().map(|e| e.previous_balance).collect();
    previous.sort_unstable();
    assert_eq!(previous, (10..10 + i64::from(JOBS)).collect::<Vec<_>>());
}

pub async fn seat_balances_are_saved_per_feature_and_replaced_in_place(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "balances").await;
    let editor = seat_balance(&s.subscription, &s.seat_plan.feature.code, 3, T0);
    let viewer = seat_balance(&s.subscription, "viewer", 1, T0);
    let replaced = SeatBalance {
        current: 8,
        paid_extra: 3,
        peak: 9,
        updated_at: T0.plus_millis(5),
        ..editor.clone()
    };

    let (job_org, rows) = (s.org.clone(), [viewer.clone(), editor, replaced.clone()]);
    commit(&*store, move |tx| {
        Box::pin(async move {
            for balance in &rows {
                tx.save_seat_balance(&job_org, balance).await?;
            }
            Ok(())
        })
    })
    .await;

    let balances = read(&*store)
        .await
        .seat_balances(&s.org, &s.subscription.id)
        .await
        .unwrap();
    // By feature code: `editor_1` before `viewer`.
    assert_eq!(balances, vec![replaced, viewer]);
}

/// A subscribed customer with one seat event per `PAGED` fixture, and another customer of the
/// same organization with one event of their own, which the customer's reads never list.
async fn paged_events_beside_a_neighbour(store: &dyn Store, name: &str) -> Subscribed {
    let s = subscribed(store, name).await;
    let code = s.seat_plan.feature.code.clone();
    let neighbour = customer(&s.org, 2, Some(&format!("{name} neighbour")), T0);
    insert_customer(store, &neighbour).await;
    let neighbours = s.seat_plan.subscription(&neighbour, 2, T0);
    insert_subscription(store, &neighbours, vec![]).await;
    let mut events: Vec<SeatEvent> = PAGED
        .iter()
        .map(|&n| seat_event(&s.subscription, n, &code, i64::from(n) + 1, paged_at(n)))
        .collect();
    events.push(seat_event(&neighbours, 9, &code, 1, paged_at(9)));
    record(store, &s.org, vec![], events).await;
    s
}

pub async fn seat_events_page_newest_first_with_ties_broken_by_id(store: Arc<dyn Store>) {
    let s = paged_events_beside_a_neighbour(&*store, "seat event pages").await;
    let code = s.seat_plan.feature.code.clone();

    let mut db = read(&*store).await;
    let pages = every_page(2, position, async |page| {
        db.seat_events(&s.org, &s.customer.id, &SeatEventFilter::default(), &page)
            .await
            .unwrap()
    })
    .await;

    assert_eq!(
        page_numbers(&pages, |e| n_of(e.id.as_str())),
        expected_pages()
    );
    assert_eq!(
        pages[0].items[0],
        seat_event(&s.subscription, 4, &code, 5, paged_at(4))
    );
}

pub async fn seat_events_filter_by_feature_and_half_open_time_range(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "seat event filters").await;
    let editor = s.seat_plan.feature.code.clone();
    // Events 0..=6, one a second; even ones of the editor feature, odd ones of `viewer`.
    let events = (0..=6)
        .map(|n| {
            let code = if n % 2 == 0 {
                editor.as_str()
            } else {
                "viewer"
            };
            seat_event(&s.subscription, n, code, 1, second(n))
        })
        .collect();
    record(&*store, &s.org, vec![], events).await;
    let filter = |feature: Option<&str>, from: Option<u32>, to: Option<u32>| SeatEventFilter {
        feature_code: feature.map(str::to_owned),
        from: from.map(second),
        to: to.map(second),
    };

    let mut db = read(&*store).await;
    let mut listed = async |filter: SeatEventFilter| {
        let page = db
            .seat_events(&s.org, &s.customer.id, &filter, &first_page(10))
            .await
            .unwrap();
        page.items
            .iter()
            .map(|e| n_of(e.id.as_str()))
            .collect::<Vec<_>>()
    };
    let of_editor = listed(filter(Some(&editor), None, None)).await;
    let from_1_to_4 = listed(filter(None, Some(1), Some(4))).await;
    let until_2 = listed(filter(None, None, Some(2))).await;
    let editor_from_2_to_6 = listed(filter(Some(&editor), Some(2), Some(6))).await;
    let of_unknown = listed(filter(Some("unknown"), None, None)).await;
    let editor_pages = every_page(1, position, async |page: PageRequest| {
        db.seat_events(
            &s.org,
            &s.customer.id,
            &filter(Some(&editor), Some(2), None),
            &page,
        )
        .await
        .unwrap()
    })
    .await;

    assert_eq!(of_editor, vec![6, 4, 2, 0]);
    // `from` is included, `to` is not.
    assert_eq!(from_1_to_4, vec![3, 2, 1]);
    assert_eq!(until_2, vec![1, 0]);
    assert_eq!(editor_from_2_to_6, vec![4, 2]);
    assert!(of_unknown.is_empty());
    assert_eq!(
        page_numbers(&editor_pages, |e| n_of(e.id.as_str())),
        vec![vec![6], vec![4], vec![2]]
    );
}

pub async fn a_rolled_back_job_leaves_no_seat_change(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "seat rollback").await;
    let code = s.seat_plan.feature.code.clone();
    let kept = seat_balance(&s.subscription, &code, 3, T0);
    let kept_event = seat_event(&s.subscription, 1, &code, 3, T0);
    record(
        &*store,
        &s.org,
        vec![kept.clone()],
        vec![kept_event.clone()],
    )
    .await;

    let (job_org, job_subscription) = (s.org.clone(), s.subscription.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            let later = T0.plus_millis(1);
            let changed = seat_balance(&job_subscription, &code, 4, later);
            tx.save_seat_balance(&job_org, &changed).await?;
            let added = seat_balance(&job_subscription, "viewer", 1, later);
            tx.save_seat_balance(&job_org, &added).await?;
            tx.append_seat_event(&seat_event(&job_subscription, 2, &code, 4, later))
                .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.seat_balances(&s.org, &s.subscription.id).await.unwrap(),
        vec![kept]
    );
    let events = db
        .seat_events(
            &s.org,
            &s.customer.id,
            &SeatEventFilter::default(),
            &first_page(10),
        )
        .await
        .unwrap();
    assert_eq!(events.items, vec![kept_event]);
}

pub async fn another_organizations_seats_are_never_read_or_overwritten(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let their: Subscribed = subscribed(&*store, "theirs").await;
    let code = their.seat_plan.feature.code.clone();
    let their_balance = seat_balance(&their.subscription, &code, 7, T0);
    let their_event = seat_event(&their.subscription, 1, &code, 7, T0);
    record(
        &*store,
        &their.org,
        vec![their_balance.clone()],
        vec![their_event.clone()],
    )
    .await;

    let mut db = read(&*store).await;
    let balances = db
        .seat_balances(&mine, &their.subscription.id)
        .await
        .unwrap();
    let events = db
        .seat_events(
            &mine,
            &their.customer.id,
            &SeatEventFilter::default(),
            &first_page(10),
        )
        .await
        .unwrap();
    // Saving through my organization a balance of their subscription: an existing feature's
    // and a new one's.
    let (job_mine, job_subscription) = (mine.clone(), their.subscription.clone());
    let saved = commit(&*store, move |tx| {
        Box::pin(async move {
            let overwrite = seat_balance(&job_subscription, &code, 999, T0);
            let existing = tx.save_seat_balance(&job_mine, &overwrite).await;
            let added = seat_balance(&job_subscription, "viewer", 1, T0);
            let new = tx.save_seat_balance(&job_mine, &added).await;
            Ok([existing, new])
        })
    })
    .await;

    assert!(balances.is_empty());
    assert!(events.items.is_empty());
    for outcome in &saved {
        assert!(
            matches!(outcome, Ok(()) | Err(StoreError::NotFound)),
            "{saved:?}"
        );
    }
    let mut db = read(&*store).await;
    assert_eq!(
        db.seat_balances(&their.org, &their.subscription.id)
            .await
            .unwrap(),
        vec![their_balance],
        "their balance is untouched"
    );
    assert!(
        db.seat_balances(&mine, &their.subscription.id)
            .await
            .unwrap()
            .is_empty(),
        "no balance of mine hangs off their subscription"
    );
}

/// The timeline reads a customer's newest changes first, at most `limit`, as points, and never
/// a neighbour's.
pub async fn the_seat_timeline_reads_the_newest_changes_first(store: Arc<dyn Store>) {
    let s = paged_events_beside_a_neighbour(&*store, "seat timeline").await;

    let mut db = read(&*store).await;
    let all = db.seat_timeline(&s.org, &s.customer.id, 10).await.unwrap();
    let newest_two = db.seat_timeline(&s.org, &s.customer.id, 2).await.unwrap();

    // The same order as the history's pages: newest first, ties broken by id.
    let history = db
        .seat_events(
            &s.org,
            &s.customer.id,
            &SeatEventFilter::default(),
            &PageRequest {
                limit: 10,
                after: None,
            },
        )
        .await
        .unwrap();
    let expected: Vec<SeatPoint> = history.items.iter().map(SeatPoint::from).collect();
    assert_eq!(
        all.len(),
        PAGED.len(),
        "the neighbour's change is not drawn"
    );
    assert_eq!(all, expected);
    assert_eq!(newest_two, expected[..2]);
}
