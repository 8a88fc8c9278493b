//! Usage counters and the usage event trail.

use super::fixtures::{
    T0, api_key, commit, customer, feature, insert_api_key, insert_customer, organization, read,
    roll_back, seat_balance, seat_event, subscribed, ulid,
};
use crate::{HotStamp, StampAsk};
use crate::{Store, StoreError, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::CustomerRef;
use tally_domain::period::BillingPeriod;
use tally_domain::subscription::Subscription;
use tally_domain::usage::{UsageCounter, UsageEvent, UsageEventId, UsageEventKind, UsageProperty};

fn period(subscription: &Subscription) -> BillingPeriod {
    subscription
        .current_period
        .expect("fixture subscriptions are monthly")
}

fn counter(subscription: &Subscription, code: &str, used: i64) -> UsageCounter {
    UsageCounter {
        used,
        spent: used * 10,
        threshold_fired: used > 5,
        updated_at: T0,
        ..UsageCounter::empty(&subscription.id, code, period(subscription))
    }
}

fn event(subscription: &Subscription, n: u32, key: Option<&str>) -> UsageEvent {
    UsageEvent {
        id: UsageEventId::from_ulid(ulid(&subscription.org_id, T0, n)),
        org_id: subscription.org_id.clone(),
        customer_id: subscription.customer_id.clone(),
        subscription_id: subscription.id.clone(),
        feature_code: "calls".to_owned(),
        kind: UsageEventKind::Track,
        value: 3,
        event_key: key.map(str::to_owned),
        reason: None,
        properties: vec![UsageProperty {
            property: "route".to_owned(),
            value: "/x".to_owned(),
        }],
        consumption: None,
        ts: T0,
        created_at: T0,
        period_start: period(subscription).start,
    }
}

pub async fn usage_counters_read_back_per_period_and_are_replaced_in_place(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "counters").await;
    let first = counter(&s.subscription, "calls", 3);
    let other = counter(&s.subscription, "api", 1);
    let replaced = UsageCounter {
        used: 9,
        exceeded_fired: true,
        updated_at: T0.plus_millis(5),
        ..first.clone()
    };
    let next_period = BillingPeriod {
        start: period(&s.subscription).end,
        end: period(&s.subscription).end.plus_millis(1_000),
    };
    let later = UsageCounter::empty(&s.subscription.id, "calls", next_period);
    let (org, rows) = (
        s.org.clone(),
        [first, other.clone(), replaced.clone(), later.clone()],
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            for row in &rows {
                tx.save_usage_counter(&org, row).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let current = db
        .usage_counters(&s.org, &s.subscription.id, period(&s.subscription).start)
        .await
        .unwrap();
    let next = db
        .usage_counters(&s.org, &s.subscription.id, next_period.start)
        .await
        .unwrap();
    assert_eq!(
        current,
        vec![other, replaced],
        "by feature code, the last save wins"
    );
    assert_eq!(next, vec![later], "each period has counters of its own");
}

pub async fn a_used_event_key_is_a_named_conflict_and_is_found_again(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "event keys").await;
    let first = event(&s.subscription, 1, Some("e-1"));
    let again = event(&s.subscription, 2, Some("e-1"));
    let keyless = [
        event(&s.subscription, 3, None),
        event(&s.subscription, 4, None),
    ];
    let job_first = first.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.append_usage_event(&job_first).await?;
            for e in &keyless {
                tx.append_usage_event(e).await?;
            }
            Ok(())
        })
    })
    .await;
    let refused = write(&*store, move |tx| {
        Box::pin(async move { tx.append_usage_event(&again).await })
    })
    .await;

    let mut db = read(&*store).await;
    assert!(
        refused
            .as_ref()
            .is_err_and(|e| e.is_conflict_on(crate::constraints::USAGE_EVENT_KEY)),
        "{refused:?}"
    );
    assert_eq!(
        db.usage_event_with_key(&s.org, "e-1").await.unwrap(),
        Some(first.id),
    );
    assert_eq!(db.usage_event_with_key(&s.org, "e-2").await.unwrap(), None);
}

pub async fn concurrent_locked_usage_increments_lose_no_update(store: Arc<dyn Store>) {
    // The track path: lock the subscription, read the counter, save it + 1. On PostgreSQL the
    // jobs run side by side and only the row lock makes them queue.
    const JOBS: i64 = 20;
    let s = subscribed(&*store, "usage race").await;
    let mut jobs = Vec::new();
    for _ in 0..JOBS {
        let (store, s) = (Arc::clone(&store), s.clone());
        jobs.push(tokio::spawn(async move {
            write(&*store, move |tx| {
                Box::pin(async move {
                    let sub = tx
                        .live_subscription(&s.org, &s.customer.id, crate::Lock::ForUpdate)
                        .await?
                        .expect("subscribed");
                    let start = period(&sub).start;
                    let used = tx
                        .usage_counters(&s.org, &sub.id, start)
                        .await?
                        .first()
                        .map_or(0, |c| c.used);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    tx.save_usage_counter(&s.org, &counter(&sub, "calls", used + 1))
                        .await
                })
            })
            .await
        }));
    }
    for job in jobs {
        job.await.unwrap().unwrap();
    }

    let mut db = read(&*store).await;
    let counters = db
        .usage_counters(&s.org, &s.subscription.id, period(&s.subscription).start)
        .await
        .unwrap();
    assert_eq!(counters[0].used, JOBS);
}

pub async fn a_rolled_back_job_leaves_no_usage_change(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "usage rollback").await;
    let (org, sub) = (s.org.clone(), s.subscription.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.save_usage_counter(&org, &counter(&sub, "calls", 4))
                .await?;
            tx.append_usage_event(&event(&sub, 1, Some("gone"))).await
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert!(
        db.usage_counters(&s.org, &s.subscription.id, period(&s.subscription).start)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.usage_event_with_key(&s.org, "gone").await.unwrap(), None);
}

pub async fn another_organizations_usage_is_never_read_or_overwritten(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = subscribed(&*store, "theirs").await;
    let their_counter = counter(&theirs.subscription, "calls", 7);
    let (org, row, keyed) = (
        theirs.org.clone(),
        their_counter.clone(),
        event(&theirs.subscription, 1, Some("k")),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.save_usage_counter(&org, &row).await?;
            tx.append_usage_event(&keyed).await
        })
    })
    .await;

    let (job_mine, sub) = (mine.clone(), theirs.subscription.clone());
    let attempts = commit(&*store, move |tx| {
        Box::pin(async move {
            let overwrite = tx
                .save_usage_counter(&job_mine, &counter(&sub, "calls", 999))
                .await;
            // An event claiming to be mine on their subscription.
            let mut forged = event(&sub, 2, None);
            forged.org_id = job_mine.clone();
            let appended = tx.append_usage_event(&forged).await;
            Ok([overwrite, appended])
        })
    })
    .await;

    let mut db = read(&*store).await;
    for attempt in &attempts {
        assert!(
            matches!(attempt, Ok(()) | Err(StoreError::NotFound)),
            "{attempts:?}"
        );
    }
    let start = period(&theirs.subscription).start;
    assert!(
        db.usage_counters(&mine, &theirs.subscription.id, start)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.usage_event_with_key(&mine, "k").await.unwrap(), None);
    assert_eq!(
        db.usage_counters(&theirs.org, &theirs.subscription.id, start)
            .await
            .unwrap(),
        vec![their_counter],
        "their counter is untouched"
    );
}

pub async fn a_quota_key_names_its_event_once_and_only_in_its_organization(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "quota keys").await;
    let other = organization(&*store, "other").await;
    let event = seat_event(&s.subscription, 1, "tasks", 1, T0);
    let (org, job_event) = (s.org.clone(), event.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.append_seat_event(&job_event).await?;
            tx.record_quota_event_key(&org, "q-1", job_event.id.as_str(), T0)
                .await
        })
    })
    .await;
    let (org, id) = (s.org.clone(), event.id.as_str().to_owned());
    let again = write(&*store, move |tx| {
        Box::pin(async move { tx.record_quota_event_key(&org, "q-1", &id, T0).await })
    })
    .await;
    let (job_other, id) = (other.clone(), event.id.as_str().to_owned());
    let foreign = write(&*store, move |tx| {
        Box::pin(async move { tx.record_quota_event_key(&job_other, "q-2", &id, T0).await })
    })
    .await;

    let mut db = read(&*store).await;
    assert!(
        again
            .as_ref()
            .is_err_and(|e| e.is_conflict_on(crate::constraints::QUOTA_EVENT_KEY)),
        "{again:?}"
    );
    assert!(
        matches!(foreign, Err(StoreError::NotFound)),
        "another organization's event cannot be named: {foreign:?}"
    );
    assert_eq!(
        db.quota_event_with_key(&s.org, "q-1")
            .await
            .unwrap()
            .as_deref(),
        Some(event.id.as_str())
    );
    assert_eq!(db.quota_event_with_key(&other, "q-1").await.unwrap(), None);
}

pub async fn hot_stamps_move_with_every_change_to_a_customers_state(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "stamps").await;
    let key = api_key(&s.org, 1, T0);
    insert_api_key(&*store, &key).await;
    let neighbour = customer(&s.org, 2, Some("neighbour"), T0);
    let ours = CustomerRef::External("subscriber".to_owned());
    let stamp = |store: Arc<dyn Store>, key: tally_domain::ApiKeyId, reference: CustomerRef| {
        let org = s.org.clone();
        async move {
            let ask = StampAsk {
                org,
                key,
                customer: reference,
            };
            let mut stamps = read(&*store).await.hot_stamps(&[ask]).await.unwrap();
            assert_eq!(stamps.len(), 1, "one stamp per ask");
            stamps.remove(0)
        }
    };
    let versions = |stamp: &HotStamp| (stamp.customer_version, stamp.catalog_version);
    let first = stamp(store.clone(), key.id.clone(), ours.clone()).await;

    let (org, sub) = (s.org.clone(), s.subscription.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.save_seat_balance(&org, &seat_balance(&sub, "editor", 4, T0))
                .await
        })
    })
    .await;
    let after_seats = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    let (org, sub) = (s.org.clone(), s.subscription.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.save_usage_counter(&org, &counter(&sub, "calls", 2))
                .await
        })
    })
    .await;
    let after_usage = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    let sub = s.subscription.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            let mut changed = sub.clone();
            changed.name = "Renamed".to_owned();
            tx.update_subscription(&changed, None).await
        })
    })
    .await;
    let after_subscription = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    insert_customer(&*store, &neighbour).await;
    let after_neighbour = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    let org = s.org.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.insert_feature(&feature(&org, 9, "viewer", T0)).await })
    })
    .await;
    let after_catalog = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    let (org, sub) = (s.org.clone(), s.subscription.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.save_seat_balance(&org, &seat_balance(&sub, "editor", 9, T0))
                .await
        })
    })
    .await;
    let after_rollback = stamp(store.clone(), key.id.clone(), ours.clone()).await;
    let unknown = stamp(
        store.clone(),
        key.id.clone(),
        CustomerRef::External("nobody".to_owned()),
    )
    .await;
    let (org, id) = (s.org.clone(), key.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.revoke_api_key(&org, &id, T0).await.map(|_| ()) })
    })
    .await;
    let revoked = stamp(store.clone(), key.id.clone(), ours.clone()).await;

    assert_eq!(
        first.standing,
        Some(crate::KeyStanding { test_clock: None })
    );
    assert_eq!(first.customer.as_ref(), Some(&s.customer.id));
    assert!(
        after_seats.customer_version > first.customer_version,
        "a balance moves it"
    );
    assert!(
        after_usage.customer_version > after_seats.customer_version,
        "a counter moves it"
    );
    assert!(
        after_subscription.customer_version > after_usage.customer_version,
        "the subscription moves it"
    );
    assert_eq!(
        versions(&after_neighbour),
        versions(&after_subscription),
        "not a neighbour's change"
    );
    assert_eq!(
        after_catalog.customer_version,
        after_neighbour.customer_version
    );
    assert!(
        after_catalog.catalog_version > after_neighbour.catalog_version,
        "the catalog moves its own"
    );
    assert_eq!(
        versions(&after_rollback),
        versions(&after_catalog),
        "an undone write moves nothing"
    );
    assert_eq!(unknown.customer, None);
    assert!(unknown.standing.is_some());
    assert_eq!(revoked.standing, None, "a revoked key has no standing");
}

pub async fn a_batch_of_stamps_answers_each_ask_in_its_order(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "stamp batch").await;
    let other = subscribed(&*store, "stamp batch neighbour").await;
    let key = api_key(&s.org, 1, T0);
    let revoked = api_key(&s.org, 2, T0);
    let others_key = api_key(&other.org, 3, T0);
    for k in [&key, &revoked, &others_key] {
        insert_api_key(&*store, k).await;
    }
    let (org, id) = (s.org.clone(), revoked.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.revoke_api_key(&org, &id, T0).await.map(|_| ()) })
    })
    .await;
    // The other organization's customer has moved on; ours has not.
    let (org, sub) = (other.org.clone(), other.subscription.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.save_usage_counter(&org, &counter(&sub, "calls", 2))
                .await
        })
    })
    .await;
    let ask =
        |org: &tally_domain::OrgId, key: &tally_domain::ApiKeyId, customer: CustomerRef| StampAsk {
            org: org.clone(),
            key: key.clone(),
            customer,
        };
    let external = |name: &str| CustomerRef::External(name.to_owned());
    let asks = vec![
        ask(&s.org, &key.id, external("subscriber")),
        ask(&other.org, &others_key.id, external("subscriber")),
        ask(&s.org, &key.id, CustomerRef::Id(s.customer.id.clone())),
        ask(&s.org, &revoked.id, external("subscriber")),
        ask(&s.org, &key.id, external("nobody")),
        // A key of another organization opens nothing here.
        ask(&s.org, &others_key.id, external("subscriber")),
        // Another organization's customer id is no customer here.
        ask(&s.org, &key.id, CustomerRef::Id(other.customer.id.clone())),
        ask(&s.org, &key.id, external("subscriber")),
    ];
    let batch = read(&*store).await.hot_stamps(&asks).await.unwrap();
    let mut one_by_one = Vec::new();
    for a in &asks {
        let mut stamps = read(&*store)
            .await
            .hot_stamps(std::slice::from_ref(a))
            .await
            .unwrap();
        one_by_one.push(stamps.remove(0));
    }

    assert_eq!(batch, one_by_one, "a batch reads what single asks read");
    let standing = Some(crate::KeyStanding { test_clock: None });
    let ours = Some(s.customer.id.clone());
    assert_eq!(batch[0].standing, standing);
    assert_eq!(batch[0].customer, ours);
    assert_eq!(batch[1].customer, Some(other.customer.id.clone()));
    assert!(
        batch[1].customer_version > batch[0].customer_version,
        "each customer's own version"
    );
    assert_eq!(batch[2].customer, ours, "by id as by externalId");
    assert_eq!(batch[2].customer_version, batch[0].customer_version);
    assert_eq!(
        (batch[3].standing, batch[3].customer.clone()),
        (None, ours.clone())
    );
    assert_eq!(
        (batch[4].standing, batch[4].customer.clone()),
        (standing, None)
    );
    assert_eq!(batch[5].standing, None);
    assert_eq!(batch[6].customer, None);
    assert_eq!(batch[7], batch[0]);
    assert!(
        read(&*store)
            .await
            .hot_stamps(&[])
            .await
            .unwrap()
            .is_empty()
    );
}
