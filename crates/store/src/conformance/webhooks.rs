//! The webhook outbox, endpoints, deliveries and their attempts: what dispatchers claim, and
//! what each claim holds.

use super::fixtures::{
    PAGED, T0, commit, delivery, endpoint, event_body, every_page, expected_pages, first_page,
    insert_deliveries, insert_endpoint, n_of, organization, page_numbers, paged_at, read,
    roll_back, ulid, webhook_event,
};
use crate::{Attempt, DeliveryLog, Lock, Store, StoreError};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tally_domain::events::WebhookEvent;
use tally_domain::page::PagePosition;
use tally_domain::webhooks::{AttemptResult, Delivery, DeliveryStatus, EventBody, WebhookEndpoint};
use tally_domain::{ApiVersion, CustomerId, OrgId, Timestamp};

/// How long a claim holds a delivery (the dispatcher's lease).
const LEASE_MS: i64 = 60_000;

fn attempt(number: i64, status_code: u16, at: Timestamp) -> Attempt {
    Attempt {
        number,
        attempted_at: at,
        result: AttemptResult {
            status_code: Some(status_code),
            latency_ms: 12 + number,
            response_body: Some(format!("answer {number}")),
            error: (status_code >= 500).then(|| "server error".to_owned()),
        },
    }
}

async fn insert_events(store: &dyn Store, events: Vec<WebhookEvent>) {
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_webhook_events(&events).await })
    })
    .await;
}

/// One fan-out step: claims up to `limit` pending events and, when `mark` says so, marks them
/// fanned out, as `app` does once their deliveries are written; `hold` is how long the job
/// keeps its claim before it commits.
async fn fan_out(store: &dyn Store, limit: u32, mark: bool, hold: Duration) -> Vec<WebhookEvent> {
    commit(store, move |tx| {
        Box::pin(async move {
            let events = tx.claim_pending_events(limit).await?;
            tokio::time::sleep(hold).await;
            if mark {
                for event in &events {
                    tx.mark_event_fanned_out(&event.org_id, event.id.as_str(), T0)
                        .await?;
                }
            }
            Ok(events)
        })
    })
    .await
}

/// One dispatcher claim at `now`: takes up to `limit` due deliveries and leases each until
/// `now + LEASE_MS` by moving its next attempt, as `app::webhooks::claim_due_deliveries` does;
/// `lease` false only looks. Returns the deliveries as claimed.
async fn claim(
    store: &dyn Store,
    now: Timestamp,
    limit: u32,
    lease: bool,
    hold: Duration,
) -> Vec<Delivery> {
    commit(store, move |tx| {
        Box::pin(async move {
            let due = tx.claim_due_deliveries(now, limit).await?;
            tokio::time::sleep(hold).await;
            if lease {
                for delivery in &due {
                    let leased = Delivery {
                        next_attempt_at: now.plus_millis(LEASE_MS),
                        ..delivery.clone()
                    };
                    tx.update_delivery(&leased).await?;
                }
            }
            Ok(due)
        })
    })
    .await
}

fn ids_of(deliveries: &[Delivery]) -> Vec<u32> {
    deliveries.iter().map(|d| n_of(&d.id)).collect()
}

pub async fn pending_events_are_handed_out_oldest_first_until_fanned_out(store: Arc<dyn Store>) {
    // Goal: the outbox hands every event out, of any organization, oldest first, and once it is
    // marked fanned out never again; a claim that is not marked hands the events out again.
    let a = organization(&*store, "outbox a").await;
    let b = organization(&*store, "outbox b").await;
    let at = |ms: i64| T0.plus_millis(ms);
    let with_customer = WebhookEvent {
        customer_id: Some(CustomerId::from_ulid(ulid(&a, T0, 9))),
        event_type: "customer.state_changed".to_owned(),
        data: serde_json::json!({ "customerId": "user_9", "trigger": "seats" }),
        ..webhook_event(&a, 1, at(3))
    };
    let events = vec![
        with_customer.clone(),
        webhook_event(&b, 2, at(1)),
        webhook_event(&a, 3, at(4)),
        webhook_event(&a, 4, at(2)),
    ];
    insert_events(&*store, events.clone()).await;

    let looked = fan_out(&*store, 2, false, Duration::ZERO).await;
    let first = fan_out(&*store, 2, true, Duration::ZERO).await;
    let rest = fan_out(&*store, 10, true, Duration::ZERO).await;
    let none = fan_out(&*store, 10, true, Duration::ZERO).await;

    let numbers = |events: &[WebhookEvent]| {
        events
            .iter()
            .map(|e| n_of(e.id.as_str()))
            .collect::<Vec<_>>()
    };
    assert_eq!(numbers(&looked), vec![2, 4]);
    assert_eq!(
        looked, first,
        "an unmarked claim hands the same events out again"
    );
    assert_eq!(numbers(&rest), vec![1, 3]);
    assert_eq!(rest[0], with_customer, "events read back as written");
    assert!(none.is_empty());
}

pub async fn concurrent_fan_outs_never_take_one_event_twice(store: Arc<dyn Store>) {
    // Goal: dispatchers on several nodes fan out side by side (PostgreSQL: SKIP LOCKED) and
    // never both take one event; together they take every event. Method: three jobs at once,
    // each claiming up to 4 of 10 events and holding its claim a moment before marking them.
    let org = organization(&*store, "fan-out race").await;
    let events = (0..10)
        .map(|n| webhook_event(&org, n, T0.plus_millis(i64::from(n))))
        .collect();
    insert_events(&*store, events).await;

    let jobs: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { fan_out(&*store, 4, true, Duration::from_millis(30)).await })
        })
        .collect();
    let mut taken: Vec<u32> = Vec::new();
    for job in jobs {
        let events = job.await.expect("the job's task ends");
        taken.extend(events.iter().map(|e| n_of(e.id.as_str())));
    }

    let distinct: BTreeSet<u32> = taken.iter().copied().collect();
    assert_eq!(
        taken.len(),
        distinct.len(),
        "an event was taken twice: {taken:?}"
    );
    assert_eq!(distinct, (0..10).collect());
}

pub async fn concurrent_delivery_claims_never_hand_out_one_delivery_twice(store: Arc<dyn Store>) {
    // Goal: dispatchers that claim at once never both get one delivery: each claim holds what
    // it took (row locks skipped by the others on PostgreSQL, then the lease), and together
    // they take every due delivery. Method: three jobs at once, each claiming up to 4 of 10
    // due deliveries and holding them a moment before leasing them.
    let org = organization(&*store, "claim race").await;
    let target = endpoint(&org, 1, T0);
    insert_endpoint(&*store, &target).await;
    let deliveries = (0..10)
        .map(|n| delivery(&target, n, T0.plus_millis(i64::from(n)), T0))
        .collect();
    insert_deliveries(&*store, deliveries).await;
    let now = T0.plus_millis(1_000);

    let jobs: Vec<_> = (0..3)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(
                async move { claim(&*store, now, 4, true, Duration::from_millis(30)).await },
            )
        })
        .collect();
    let mut taken: Vec<u32> = Vec::new();
    for job in jobs {
        taken.extend(ids_of(&job.await.expect("the job's task ends")));
    }
    let left = claim(&*store, now, 10, false, Duration::ZERO).await;

    let distinct: BTreeSet<u32> = taken.iter().copied().collect();
    assert_eq!(
        taken.len(),
        distinct.len(),
        "a delivery was claimed twice: {taken:?}"
    );
    assert_eq!(distinct, (0..10).collect());
    assert!(
        left.is_empty(),
        "every claimed delivery is leased: {left:?}"
    );
}

pub async fn a_leased_delivery_is_claimed_again_only_after_its_lease(store: Arc<dyn Store>) {
    let org = organization(&*store, "lease").await;
    let target = endpoint(&org, 1, T0);
    insert_endpoint(&*store, &target).await;
    let due = delivery(&target, 1, T0, T0);
    let later = delivery(&target, 2, T0.plus_millis(10_000), T0);
    let succeeded = Delivery {
        status: DeliveryStatus::Succeeded,
        ..delivery(&target, 3, T0, T0)
    };
    let failed = Delivery {
        status: DeliveryStatus::Failed,
        ..delivery(&target, 4, T0, T0)
    };
    insert_deliveries(&*store, vec![due.clone(), later.clone(), succeeded, failed]).await;
    let lease_end = T0.plus_millis(LEASE_MS);

    let claimed = claim(&*store, T0, 10, true, Duration::ZERO).await;
    let during_lease = claim(
        &*store,
        lease_end.plus_millis(-1),
        10,
        false,
        Duration::ZERO,
    )
    .await;
    let after_lease = claim(&*store, lease_end, 10, false, Duration::ZERO).await;

    assert_eq!(
        claimed,
        vec![due.clone()],
        "only pending deliveries that are due"
    );
    assert_eq!(ids_of(&during_lease), vec![2]);
    // Earliest due first: `later` was due at 10 s, the leased one again at 60 s.
    assert_eq!(ids_of(&after_lease), vec![2, 1]);
    let stored = read(&*store)
        .await
        .delivery(&org, &due.id, Lock::None)
        .await
        .unwrap();
    assert_eq!(
        stored,
        Some(Delivery {
            next_attempt_at: lease_end,
            ..due
        })
    );
}

pub async fn pending_deliveries_are_counted_across_organizations_due_or_not(store: Arc<dyn Store>) {
    // Goal: the queue depth counts every pending delivery, of every organization, due now or
    // later, and none that ended.
    let a = organization(&*store, "depth a").await;
    let b = organization(&*store, "depth b").await;
    let (target_a, target_b) = (endpoint(&a, 1, T0), endpoint(&b, 2, T0));
    insert_endpoint(&*store, &target_a).await;
    insert_endpoint(&*store, &target_b).await;
    let empty = read(&*store)
        .await
        .count_pending_deliveries()
        .await
        .unwrap();
    let ended = |n, status| Delivery {
        status,
        ..delivery(&target_a, n, T0, T0)
    };
    insert_deliveries(
        &*store,
        vec![
            delivery(&target_a, 1, T0, T0),
            delivery(&target_a, 2, T0.plus_millis(60_000), T0),
            delivery(&target_b, 3, T0, T0),
            ended(4, DeliveryStatus::Succeeded),
            ended(5, DeliveryStatus::Failed),
        ],
    )
    .await;

    let pending = read(&*store)
        .await
        .count_pending_deliveries()
        .await
        .unwrap();

    assert_eq!(empty, 0);
    assert_eq!(pending, 3);
}

pub async fn inserting_a_delivery_twice_for_one_event_and_endpoint_keeps_the_first(
    store: Arc<dyn Store>,
) {
    // Goal: a fan-out that runs again (after a crash before its commit was acknowledged) never
    // makes a second delivery of one event to one endpoint.
    let org = organization(&*store, "fan-out twice").await;
    let target = endpoint(&org, 1, T0);
    insert_endpoint(&*store, &target).await;
    let first = delivery(&target, 1, T0, T0);
    let again = Delivery {
        event_id: first.event_id.clone(),
        body: "{}".to_owned(),
        ..delivery(&target, 2, T0, T0)
    };

    insert_deliveries(&*store, vec![first.clone(), again.clone()]).await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.delivery(&org, &first.id, Lock::None).await.unwrap(),
        Some(first)
    );
    assert_eq!(
        db.delivery(&org, &again.id, Lock::None).await.unwrap(),
        None
    );
}

pub async fn deliveries_of_one_event_share_its_stored_body(store: Arc<dyn Store>) {
    // Goal: an event's body is stored once however many endpoints receive it; every delivery
    // names it and reads it back, and may name only a body of its own organization and event.
    let org = organization(&*store, "shared body").await;
    let other = organization(&*store, "other body").await;
    let targets: Vec<WebhookEndpoint> = (1..=3).map(|n| endpoint(&org, n, T0)).collect();
    for target in &targets {
        insert_endpoint(&*store, target).await;
    }
    let their_endpoint = endpoint(&other, 9, T0);
    insert_endpoint(&*store, &their_endpoint).await;
    let body = EventBody {
        id: format!("whb_{}", ulid(&org, T0, 50)),
        org_id: org.clone(),
        event_id: format!("whev_{}", ulid(&org, T0, 50)),
        body: r#"{"event":"seats.updated","shared":true}"#.to_owned(),
        created_at: T0,
    };
    let shared: Vec<Delivery> = targets
        .iter()
        .zip(1..)
        .map(|(target, n)| Delivery {
            event_id: body.event_id.clone(),
            body_id: body.id.clone(),
            body: body.body.clone(),
            ..delivery(target, n, T0, T0)
        })
        .collect();
    let their_delivery = delivery(&their_endpoint, 9, T0, T0);
    insert_deliveries(&*store, vec![their_delivery.clone()]).await;
    let (job_body, job_shared) = (body.clone(), shared.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_event_body(&job_body).await?;
            for delivery in &job_shared {
                tx.insert_delivery(delivery).await?;
            }
            Ok(())
        })
    })
    .await;
    let refused = [
        (
            "a body never stored",
            Delivery {
                body_id: format!("whb_{}", ulid(&org, T0, 60)),
                ..delivery(&targets[0], 60, T0, T0)
            },
        ),
        (
            "another event's body",
            Delivery {
                body_id: body.id.clone(),
                ..delivery(&targets[0], 61, T0, T0)
            },
        ),
        (
            "another organization's body",
            Delivery {
                event_id: their_delivery.event_id.clone(),
                body_id: their_delivery.body_id.clone(),
                ..delivery(&targets[0], 62, T0, T0)
            },
        ),
        (
            "another organization's endpoint",
            Delivery {
                endpoint_id: their_endpoint.id.clone(),
                event_id: body.event_id.clone(),
                body_id: body.id.clone(),
                ..delivery(&targets[0], 63, T0, T0)
            },
        ),
    ];

    let job_refused: Vec<Delivery> = refused.iter().map(|(_, d)| d.clone()).collect();
    let outcomes = commit(&*store, move |tx| {
        Box::pin(async move {
            let mut outcomes = Vec::new();
            for delivery in &job_refused {
                outcomes.push(tx.insert_delivery(delivery).await);
            }
            Ok(outcomes)
        })
    })
    .await;

    let claimed = claim(&*store, T0, 10, false, Duration::ZERO).await;
    let mut db = read(&*store).await;
    for delivery in &shared {
        assert_eq!(
            db.delivery(&org, &delivery.id, Lock::None).await.unwrap(),
            Some(delivery.clone())
        );
    }
    let mut claimed_of_org: Vec<Delivery> =
        claimed.into_iter().filter(|d| d.org_id == org).collect();
    claimed_of_org.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(claimed_of_org, shared, "claims read the shared body");
    for ((what, delivery), outcome) in refused.iter().zip(&outcomes) {
        assert!(
            matches!(outcome, Err(StoreError::NotFound)),
            "{what}: {outcome:?}"
        );
        assert_eq!(
            db.delivery(&delivery.org_id, &delivery.id, Lock::None)
                .await
                .unwrap(),
            None,
            "{what}: nothing written"
        );
    }
}

pub async fn webhook_endpoints_read_back_update_in_place_and_delete_softly(store: Arc<dyn Store>) {
    let org = organization(&*store, "endpoints").await;
    let written = endpoint(&org, 1, T0);
    insert_endpoint(&*store, &written).await;
    let updated = WebhookEndpoint {
        url: "https://example.com/v2".to_owned(),
        events: vec!["seats.updated".to_owned(), "invoice.created".to_owned()],
        description: None,
        is_active: false,
        api_version: Some(ApiVersion::CURRENT),
        consecutive_failures: 3,
        updated_at: T0.plus_millis(1_000),
        ..written.clone()
    };

    let read_back = read(&*store)
        .await
        .webhook_endpoint(&org, &written.id, Lock::None)
        .await
        .unwrap();
    let job_updated = updated.clone();
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_webhook_endpoint(&job_updated, false).await?;
            tx.webhook_endpoint(&job_updated.org_id, &job_updated.id, Lock::ForUpdate)
                .await
        })
    })
    .await;
    let job_updated = updated.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.update_webhook_endpoint(&job_updated, true).await })
    })
    .await;

    assert_eq!(read_back, Some(written));
    assert_eq!(locked, Some(updated.clone()), "inactive ones still read");
    let mut db = read(&*store).await;
    assert_eq!(
        db.webhook_endpoint(&org, &updated.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(db.all_webhook_endpoints(&org).await.unwrap().is_empty());
}

pub async fn webhook_endpoints_page_newest_first_without_deleted_ones(store: Arc<dyn Store>) {
    let org = organization(&*store, "endpoint pages").await;
    let other = organization(&*store, "other endpoint pages").await;
    for n in PAGED {
        let mut made = endpoint(&org, n, paged_at(n));
        // Inactive endpoints are listed too.
        made.is_active = n != 1;
        insert_endpoint(&*store, &made).await;
    }
    let deleted = endpoint(&org, 9, paged_at(9));
    insert_endpoint(&*store, &deleted).await;
    commit(&*store, move |tx| {
        Box::pin(async move { tx.update_webhook_endpoint(&deleted, true).await })
    })
    .await;
    insert_endpoint(&*store, &endpoint(&other, 8, paged_at(8))).await;

    let mut db = read(&*store).await;
    let pages = every_page(
        2,
        |e: &WebhookEndpoint| PagePosition {
            created_at: e.created_at,
            id: e.id.clone(),
        },
        async |page| db.webhook_endpoints(&org, &page).await.unwrap(),
    )
    .await;
    let all = db.all_webhook_endpoints(&org).await.unwrap();
    let counted = db.count_webhook_endpoints(&org).await.unwrap();

    assert_eq!(page_numbers(&pages, |e| n_of(&e.id)), expected_pages());
    // For fan-out: every one, oldest first.
    assert_eq!(
        all.iter().map(|e| n_of(&e.id)).collect::<Vec<_>>(),
        vec![0, 1, 2, 3, 4]
    );
    // For the per-organization cap: inactive ones count, deleted and other organizations' not.
    assert_eq!(counted, 5);
}

pub async fn delivery_logs_page_newest_first_with_their_attempts(store: Arc<dyn Store>) {
    let org = organization(&*store, "delivery logs").await;
    let target = endpoint(&org, 1, T0);
    let elsewhere = endpoint(&org, 2, T0);
    insert_endpoint(&*store, &target).await;
    insert_endpoint(&*store, &elsewhere).await;
    let mut deliveries: Vec<Delivery> = PAGED
        .iter()
        .map(|&n| delivery(&target, n, T0, paged_at(n)))
        .collect();
    deliveries.push(delivery(&elsewhere, 8, T0, paged_at(8)));
    insert_deliveries(&*store, deliveries.clone()).await;
    let of = |n: u32| {
        deliveries
            .iter()
            .find(|d| n_of(&d.id) == n && d.endpoint_id == target.id)
            .expect("a delivery per n")
            .id
            .clone()
    };
    // Recorded out of order: the log lists attempts by number.
    let attempts = [
        (of(2), attempt(2, 200, T0.plus_millis(61_000))),
        (of(2), attempt(1, 500, T0.plus_millis(1_000))),
        (of(4), attempt(1, 404, T0.plus_millis(2_000))),
    ];
    let job_org = org.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            for (delivery, attempt) in &attempts {
                tx.record_attempt(&job_org, delivery, attempt).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let pages = every_page(
        2,
        |log: &DeliveryLog| PagePosition {
            created_at: log.delivery.created_at,
            id: log.delivery.id.clone(),
        },
        async |page| db.delivery_logs(&org, &target.id, &page).await.unwrap(),
    )
    .await;

    assert_eq!(
        page_numbers(&pages, |log| n_of(&log.delivery.id)),
        expected_pages()
    );
    let logs: Vec<&DeliveryLog> = pages.iter().flat_map(|p| &p.items).collect();
    let attempts_of = |n: u32| {
        logs.iter()
            .find(|log| n_of(&log.delivery.id) == n)
            .expect("listed")
            .attempts
            .clone()
    };
    assert_eq!(logs[0].delivery, delivery(&target, 4, T0, paged_at(4)));
    assert_eq!(
        attempts_of(2),
        vec![
            attempt(1, 500, T0.plus_millis(1_000)),
            attempt(2, 200, T0.plus_millis(61_000))
        ]
    );
    assert_eq!(attempts_of(4), vec![attempt(1, 404, T0.plus_millis(2_000))]);
    assert!(attempts_of(0).is_empty());
}

pub async fn a_rolled_back_job_leaves_no_webhook_change(store: Arc<dyn Store>) {
    let org = organization(&*store, "webhook rollback").await;
    let kept_endpoint = endpoint(&org, 1, T0);
    insert_endpoint(&*store, &kept_endpoint).await;
    let kept_delivery = delivery(&kept_endpoint, 1, T0, T0);
    insert_deliveries(&*store, vec![kept_delivery.clone()]).await;
    let kept_event = webhook_event(&org, 1, T0);
    insert_events(&*store, vec![kept_event.clone()]).await;
    let ghost_endpoint = endpoint(&org, 2, T0);
    let ghost_delivery = delivery(&kept_endpoint, 2, T0, T0);

    let (job_org, job_endpoint, job_delivery, job_event, job_ghost_endpoint, job_ghost_delivery) = (
        org.clone(),
        kept_endpoint.clone(),
        kept_delivery.clone(),
        kept_event.clone(),
        ghost_endpoint.clone(),
        ghost_delivery.clone(),
    );
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_webhook_events(&[webhook_event(&job_org, 2, T0)])
                .await?;
            tx.mark_event_fanned_out(&job_org, job_event.id.as_str(), T0)
                .await?;
            tx.insert_webhook_endpoint(&job_ghost_endpoint).await?;
            tx.update_webhook_endpoint(&job_endpoint, true).await?;
            tx.insert_event_body(&event_body(&job_ghost_delivery))
                .await?;
            tx.insert_delivery(&job_ghost_delivery).await?;
            tx.update_delivery(&Delivery {
                status: DeliveryStatus::Succeeded,
                attempts: 1,
                ..job_delivery.clone()
            })
            .await?;
            tx.record_attempt(&job_org, &job_delivery.id, &attempt(1, 200, T0))
                .await
        })
    })
    .await;

    let pending = fan_out(&*store, 10, false, Duration::ZERO).await;
    assert_eq!(pending, vec![kept_event]);
    let mut db = read(&*store).await;
    assert_eq!(
        db.all_webhook_endpoints(&org).await.unwrap(),
        vec![kept_endpoint.clone()]
    );
    let logs = db
        .delivery_logs(&org, &kept_endpoint.id, &first_page(10))
        .await
        .unwrap();
    assert_eq!(
        logs.items,
        vec![DeliveryLog {
            delivery: kept_delivery,
            attempts: vec![],
        }]
    );
}

pub async fn another_organizations_webhooks_are_never_read_or_changed(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_endpoint = endpoint(&theirs, 1, T0);
    insert_endpoint(&*store, &their_endpoint).await;
    let their_delivery = delivery(&their_endpoint, 1, T0, T0);
    insert_deliveries(&*store, vec![their_delivery.clone()]).await;
    let their_event = webhook_event(&theirs, 1, T0);
    insert_events(&*store, vec![their_event.clone()]).await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.webhook_endpoint(&mine, &their_endpoint.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.webhook_endpoints(&mine, &first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(db.all_webhook_endpoints(&mine).await.unwrap().is_empty());
    assert_eq!(
        db.delivery(&mine, &their_delivery.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.delivery_logs(&mine, &their_endpoint.id, &first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let (job_mine, job_endpoint, job_delivery, job_event) = (
        mine.clone(),
        their_endpoint.clone(),
        their_delivery.clone(),
        their_event.clone(),
    );
    let (locked_endpoint, locked_delivery, attempted) = commit(&*store, move |tx| {
        Box::pin(async move {
            let mine: OrgId = job_mine;
            let locked_endpoint = tx
                .webhook_endpoint(&mine, &job_endpoint.id, Lock::ForUpdate)
                .await?;
            let locked_delivery = tx
                .delivery(&mine, &job_delivery.id, Lock::ForUpdate)
                .await?;
            let endpoint_updated = tx
                .update_webhook_endpoint(
                    &WebhookEndpoint {
                        org_id: mine.clone(),
                        url: "https://attacker.example/".to_owned(),
                        ..job_endpoint
                    },
                    true,
                )
                .await;
            let delivery_updated = tx
                .update_delivery(&Delivery {
                    org_id: mine.clone(),
                    status: DeliveryStatus::Failed,
                    ..job_delivery.clone()
                })
                .await;
            assert!(
                matches!(endpoint_updated, Err(StoreError::NotFound)),
                "{endpoint_updated:?}"
            );
            assert!(
                matches!(delivery_updated, Err(StoreError::NotFound)),
                "{delivery_updated:?}"
            );
            let attempted = tx
                .record_attempt(&mine, &job_delivery.id, &attempt(1, 200, T0))
                .await;
            tx.mark_event_fanned_out(&mine, job_event.id.as_str(), T0)
                .await?;
            Ok((locked_endpoint, locked_delivery, attempted))
        })
    })
    .await;

    assert_eq!((locked_endpoint, locked_delivery), (None, None));
    assert!(
        matches!(attempted, Ok(()) | Err(StoreError::NotFound)),
        "{attempted:?}"
    );
    let logs = read(&*store)
        .await
        .delivery_logs(&theirs, &their_endpoint.id, &first_page(10))
        .await
        .unwrap();
    assert_eq!(
        logs.items,
        vec![DeliveryLog {
            delivery: their_delivery,
            attempts: vec![],
        }],
        "their delivery is unchanged and has no attempt"
    );
    assert_eq!(
        read(&*store)
            .await
            .webhook_endpoint(&theirs, &their_endpoint.id, Lock::None)
            .await
            .unwrap(),
        Some(their_endpoint)
    );
    let pending = fan_out(&*store, 10, false, Duration::ZERO).await;
    assert_eq!(pending, vec![their_event], "their event is still pending");
}
