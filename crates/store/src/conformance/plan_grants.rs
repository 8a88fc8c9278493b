//! Plan grants and the target features they pin.

use super::fixtures::{DAY_MS, T0, commit, organization, read, subscribed};
use crate::{Lock, Store};
use std::sync::Arc;
use tally_domain::plan_grants::{GrantEvent, PlanGrant, Status};

pub async fn grants_read_back_with_their_features_and_only_due_active_ones_are_handed_out(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "grants").await;
    let target = vec![s.seat_plan.snapshot()];
    let grant = PlanGrant {
        id: "grt_1".to_owned(),
        org_id: s.org.clone(),
        customer_id: s.customer.id.clone(),
        subscription_id: s.subscription.id.as_str().to_owned(),
        base_plan_id: "pln_base".to_owned(),
        plan_id: s.seat_plan.plan.id.as_str().to_owned(),
        plan_release_id: "plr_1".to_owned(),
        status: Status::Active,
        duration: "cycles".to_owned(),
        duration_cycles: Some(2),
        starts_at: T0,
        expires_at: Some(T0.plus_millis(30 * DAY_MS)),
        reason: "Trial".to_owned(),
        revoked_at: None,
        created_at: T0,
        updated_at: T0,
        events: vec![GrantEvent {
            id: "pge_1".to_owned(),
            event_type: "created".to_owned(),
            reason: "Trial".to_owned(),
            source: "api".to_owned(),
            previous_expires_at: None,
            expires_at: Some(T0.plus_millis(30 * DAY_MS)),
            duration: "cycles".to_owned(),
            duration_cycles: Some(2),
            requested_expires_at: None,
            created_at: T0,
        }],
    };
    let (g, t) = (grant.clone(), target.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.insert_plan_grant(&g, &t).await })
    })
    .await;
    let mut db = read(&*store).await;
    let subscription = s.subscription.id.as_str();
    assert_eq!(
        db.active_plan_grant(&s.org, subscription).await.unwrap(),
        Some((grant.clone(), target.clone()))
    );
    assert_eq!(
        db.plan_grant(&s.org, "grt_1", Lock::None).await.unwrap(),
        Some(grant.clone())
    );
    assert_eq!(
        db.plan_grants(&s.org, &s.customer.id).await.unwrap(),
        vec![grant.clone()]
    );
    let before = T0.plus_millis(29 * DAY_MS);
    let after = T0.plus_millis(30 * DAY_MS);
    assert!(
        db.due_plan_grants(Some(&s.org), before, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.due_plan_grants(Some(&s.org), after, 10).await.unwrap(),
        vec![grant.clone()]
    );
    assert_eq!(
        db.due_plan_grants(None, after, 10).await.unwrap(),
        vec![grant.clone()],
        "an organization on real time"
    );
    drop(db);

    let mut ended = grant.clone();
    ended.status = Status::Expired;
    ended.updated_at = after;
    let e = ended.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.update_plan_grant(&e).await })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.active_plan_grant(&s.org, subscription).await.unwrap(),
        None
    );
    assert_eq!(
        db.plan_grant(&s.org, "grt_1", Lock::None).await.unwrap(),
        Some(ended)
    );
    assert!(
        db.due_plan_grants(Some(&s.org), after, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let elsewhere = organization(&*store, "grants elsewhere").await;
    assert_eq!(
        db.plan_grant(&elsewhere, "grt_1", Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.plan_grants(&elsewhere, &s.customer.id)
            .await
            .unwrap()
            .is_empty()
    );
}
