//! The catalog: features, plans, their prices and the features plans attach.

use super::fixtures::{
    PAGED, SeatPlan, T0, commit, every_page, feature, first_page, insert_seat_plan, n_of,
    organization, page_numbers, paged_at, plan, plan_feature, price, read, roll_back,
};
use crate::{Lock, PlanFeatureEntry, PlanVisibility, Store, StoreError, constraints, write};
use std::sync::Arc;
use tally_domain::catalog::{Feature, Plan, PlanFeature, PlanPrice};
use tally_domain::money::{Cents, Rate};
use tally_domain::page::PagePosition;
use tally_domain::period::BillingInterval;

/// Asserts that a write through the wrong organization changed nothing it could see: it either
/// did nothing (`Ok`) or said `NotFound`.
/// A write that names another organization's row: refused as `NotFound`, changing nothing.
fn not_found(outcome: Result<(), StoreError>, what: &str) -> Result<(), StoreError> {
    match outcome {
        Err(StoreError::NotFound) => Ok(()),
        other => panic!("{what}: {other:?}"),
    }
}

fn did_nothing(outcome: Result<(), StoreError>, what: &str) -> Result<(), StoreError> {
    match outcome {
        Ok(()) | Err(StoreError::NotFound) => Ok(()),
        Err(other) => panic!("{what}: {other:?}"),
    }
}

/// A seat plan's organization's catalog, as its lists return it.
#[derive(Debug, PartialEq)]
struct Listed {
    features: Vec<Feature>,
    plans: Vec<Plan>,
    prices: Vec<PlanPrice>,
    plan_features: Vec<PlanFeatureEntry>,
}

impl Listed {
    /// What the lists hold right after `insert_seat_plan`.
    fn as_inserted(seat_plan: &SeatPlan) -> Self {
        Self {
            features: vec![seat_plan.feature.clone()],
            plans: vec![seat_plan.plan.clone()],
            prices: vec![seat_plan.price.clone()],
            plan_features: vec![(seat_plan.plan_feature.clone(), seat_plan.feature.clone())],
        }
    }

    async fn read(store: &dyn Store, seat_plan: &SeatPlan) -> Self {
        let org = &seat_plan.plan.org_id;
        let mut db = read(store).await;
        Self {
            features: db.features(org).await.unwrap(),
            plans: db
                .plans_page(org, PlanVisibility::IncludingPrivate, &first_page(100))
                .await
                .unwrap()
                .items,
            prices: db.plan_prices(org, &seat_plan.plan.id).await.unwrap(),
            plan_features: db.plan_features(org, &seat_plan.plan.id).await.unwrap(),
        }
    }
}

pub async fn the_catalog_reads_back_as_written(store: Arc<dyn Store>) {
    let org = organization(&*store, "catalog").await;
    let editor = feature(&org, 1, "editor", T0);
    let viewer = Feature {
        unit_name: None,
        description: None,
        ..feature(&org, 2, "viewer", T0.plus_millis(1))
    };
    let public = plan(&org, 1, "pro", T0);
    let private = Plan {
        is_public: false,
        is_free: true,
        metadata: None,
        ..plan(&org, 2, "internal", T0.plus_millis(1))
    };
    let monthly = price(&public, 1, BillingInterval::Monthly, T0);
    let yearly = PlanPrice {
        is_default: false,
        trial_days: 14,
        included_balance: Some(Rate(1_000_000)),
        included_credits: Some(50),
        ..price(&public, 2, BillingInterval::Yearly, T0.plus_millis(1))
    };
    // Attached in the other order than the features were made: plan features list by
    // attachment.
    let viewer_attached = plan_feature(&public, &viewer, 0, T0);
    let editor_attached = PlanFeature {
        unlimited: true,
        credits_per_unit: Some(3),
        margin: Some(20),
        ..plan_feature(&public, &editor, 5, T0.plus_millis(1))
    };
    let rows = (
        org.clone(),
        [editor.clone(), viewer.clone()],
        [public.clone(), private.clone()],
        [monthly.clone(), yearly.clone()],
        [viewer_attached.clone(), editor_attached.clone()],
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (org, features, plans, prices, attached) = rows;
            for row in &features {
                tx.insert_feature(row).await?;
            }
            for row in &plans {
                tx.insert_plan(row).await?;
            }
            for row in &prices {
                tx.insert_price(&org, row).await?;
            }
            for row in &attached {
                tx.insert_plan_feature(&org, row).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let features = db.features(&org).await.unwrap();
    let by_code = db
        .feature_by_code(&org, "viewer", Lock::None)
        .await
        .unwrap();
    let public_plans = db
        .plans_page(&org, PlanVisibility::PublicOnly, &first_page(100))
        .await
        .unwrap()
        .items;
    let all_plans = db
        .plans_page(&org, PlanVisibility::IncludingPrivate, &first_page(100))
        .await
        .unwrap()
        .items;
    let by_id = db.plan(&org, &private.id, Lock::None).await.unwrap();
    let by_plan_code = db.plan_by_code(&org, "pro", Lock::None).await.unwrap();
    let prices = db.plan_prices(&org, &public.id).await.unwrap();
    let one_price = db.price(&org, &yearly.id).await.unwrap();
    let attached = db.plan_features(&org, &public.id).await.unwrap();
    let is_attached = db.feature_is_attached(&org, &editor.id).await.unwrap();
    let (job_org, job_plan) = (org.clone(), public.id.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            let feature = tx
                .feature_by_code(&job_org, "editor", Lock::ForUpdate)
                .await?;
            let plan = tx.plan(&job_org, &job_plan, Lock::ForUpdate).await?;
            let plan_by_code = tx.plan_by_code(&job_org, "pro", Lock::ForUpdate).await?;
            Ok((feature, plan, plan_by_code))
        })
    })
    .await;

    assert_eq!(features, vec![editor.clone(), viewer.clone()]);
    assert_eq!(by_code, Some(viewer.clone()));
    assert_eq!(public_plans, vec![public.clone()]);
    assert_eq!(all_plans, vec![public.clone(), private.clone()]);
    assert_eq!(by_id, Some(private));
    assert_eq!(by_plan_code, Some(public.clone()));
    assert_eq!(prices, vec![monthly, yearly.clone()]);
    assert_eq!(one_price, Some(yearly));
    assert_eq!(
        attached,
        vec![(viewer_attached, viewer), (editor_attached, editor.clone())]
    );
    assert!(is_attached);
    assert_eq!(locked, (Some(editor), Some(public.clone()), Some(public)));
}

pub async fn catalog_updates_apply_in_place(store: Arc<dyn Store>) {
    let org = organization(&*store, "catalog updates").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let later = T0.plus_millis(1_000);
    let feature = Feature {
        name: "Editors".to_owned(),
        description: None,
        unit_name: Some("editor".to_owned()),
        updated_at: later,
        ..seat_plan.feature.clone()
    };
    let plan = Plan {
        name: "Pro 2".to_owned(),
        description: Some("Now with more".to_owned()),
        is_public: false,
        metadata: None,
        updated_at: later,
        ..seat_plan.plan.clone()
    };
    let price = PlanPrice {
        price: Cents(5_900),
        is_default: false,
        trial_days: 7,
        included_balance: Some(Rate(10)),
        included_credits: Some(1),
        metadata: serde_json::Map::from_iter([("v".to_owned(), serde_json::json!(2))]),
        updated_at: later,
        ..seat_plan.price.clone()
    };
    let plan_feature = PlanFeature {
        enabled: false,
        included_amount: 9,
        overage: tally_domain::catalog::Overage {
            enabled: false,
            unit_price: None,
        },
        pricing_mode: "tiered".to_owned(),
        margin: Some(5),
        ..seat_plan.plan_feature.clone()
    };

    let rows = (
        org.clone(),
        feature.clone(),
        plan.clone(),
        price.clone(),
        plan_feature.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (org, feature, plan, price, plan_feature) = rows;
            tx.update_feature(&feature).await?;
            tx.update_plan(&plan).await?;
            tx.update_price(&org, &price).await?;
            tx.update_plan_feature(&org, &plan_feature).await
        })
    })
    .await;

    assert_eq!(
        Listed::read(&*store, &seat_plan).await,
        Listed {
            features: vec![feature.clone()],
            plans: vec![plan],
            prices: vec![price],
            plan_features: vec![(plan_feature, feature)],
        }
    );
}

pub async fn a_deleted_plan_is_hidden_but_kept_for_its_subscriptions(store: Arc<dyn Store>) {
    let org = organization(&*store, "catalog deletes").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let other = insert_seat_plan(&*store, &org, 2).await;

    let (job_org, plan_id, price_id, other_plan, other_feature) = (
        org.clone(),
        seat_plan.plan.id.clone(),
        seat_plan.price.id.clone(),
        other.plan.id.clone(),
        other.feature.id.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.archive_price(&job_org, &price_id, T0.plus_millis(1))
                .await?;
            tx.delete_plan(&job_org, &plan_id, T0.plus_millis(2))
                .await?;
            tx.delete_plan_feature(&job_org, &other_plan, &other_feature)
                .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.plan(&org, &seat_plan.plan.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.plan_by_code(&org, &seat_plan.plan.code, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.plans_page(&org, PlanVisibility::IncludingPrivate, &first_page(100))
            .await
            .unwrap()
            .items,
        vec![other.plan.clone()]
    );
    assert_eq!(
        db.plan_any(&org, &seat_plan.plan.id).await.unwrap(),
        Some(seat_plan.plan.clone())
    );
    // An archived price stops being offered but still reads by id, no longer the default.
    assert!(
        db.plan_prices(&org, &seat_plan.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.price(&org, &seat_plan.price.id).await.unwrap(),
        Some(PlanPrice {
            is_default: false,
            ..seat_plan.price.clone()
        })
    );
    // Attached only to a deleted plan: not attached any more; detached: gone.
    assert!(
        !db.feature_is_attached(&org, &seat_plan.feature.id)
            .await
            .unwrap()
    );
    assert!(
        db.plan_features(&org, &other.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn deleting_a_feature_removes_its_attachments(store: Arc<dyn Store>) {
    let org = organization(&*store, "feature deletes").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let kept = insert_seat_plan(&*store, &org, 2).await;

    let (job_org, plan_id, feature_id) = (
        org.clone(),
        seat_plan.plan.id.clone(),
        seat_plan.feature.id.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.delete_plan(&job_org, &plan_id, T0.plus_millis(1))
                .await?;
            tx.delete_feature(&job_org, &feature_id).await
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(db.features(&org).await.unwrap(), vec![kept.feature.clone()]);
    assert_eq!(
        db.feature_by_code(&org, &seat_plan.feature.code, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.plan_features(&org, &seat_plan.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.plan_features(&org, &kept.plan.id).await.unwrap(),
        vec![(kept.plan_feature.clone(), kept.feature.clone())]
    );
}

pub async fn a_taken_feature_code_is_a_named_conflict(store: Arc<dyn Store>) {
    let org = organization(&*store, "feature codes").await;
    let first = feature(&org, 1, "editor", T0);
    let clash = Feature {
        name: "Another name".to_owned(),
        ..feature(&org, 2, "editor", T0)
    };

    let second = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_feature(&first).await?;
            tx.insert_feature(&clash).await
        })
    })
    .await;

    assert!(
        matches!(&second, Err(e) if e.is_conflict_on(constraints::FEATURE_CODE)),
        "{second:?}"
    );
}

pub async fn a_taken_feature_name_is_a_named_conflict(store: Arc<dyn Store>) {
    let org = organization(&*store, "feature names").await;
    let first = feature(&org, 1, "editor", T0);
    let clash = Feature {
        name: first.name.clone(),
        ..feature(&org, 2, "viewer", T0)
    };

    let second = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_feature(&first).await?;
            tx.insert_feature(&clash).await
        })
    })
    .await;

    assert!(
        matches!(&second, Err(e) if e.is_conflict_on(constraints::FEATURE_NAME)),
        "{second:?}"
    );
}

pub async fn a_taken_plan_code_is_a_named_conflict_until_the_plan_is_deleted(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "plan codes").await;
    let first = plan(&org, 1, "pro", T0);
    let job_first = first.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.insert_plan(&job_first).await })
    })
    .await;

    let job_org = org.clone();
    let taken = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_plan(&plan(&job_org, 2, "pro", T0)).await })
    })
    .await;
    let (job_org, first_id) = (org.clone(), first.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.delete_plan(&job_org, &first_id, T0.plus_millis(1))
                .await?;
            tx.insert_plan(&plan(&job_org, 3, "pro", T0)).await
        })
    })
    .await;

    assert!(
        matches!(&taken, Err(e) if e.is_conflict_on(constraints::PLAN_CODE)),
        "{taken:?}"
    );
    let reused = read(&*store)
        .await
        .plan_by_code(&org, "pro", Lock::None)
        .await
        .unwrap();
    assert_eq!(reused, Some(plan(&org, 3, "pro", T0)));
}

pub async fn a_second_active_price_for_an_interval_is_a_named_conflict_until_archived(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "price intervals").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let again = price(&seat_plan.plan, 2, BillingInterval::Monthly, T0);
    let yearly = price(&seat_plan.plan, 3, BillingInterval::Yearly, T0);

    let (job_org, job_again) = (org.clone(), again.clone());
    let taken = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_price(&job_org, &job_again).await })
    })
    .await;
    let (job_org, archived, job_again, job_yearly) = (
        org.clone(),
        seat_plan.price.id.clone(),
        again.clone(),
        yearly.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_price(&job_org, &job_yearly).await?;
            tx.archive_price(&job_org, &archived, T0.plus_millis(1))
                .await?;
            tx.insert_price(&job_org, &job_again).await
        })
    })
    .await;

    assert!(
        matches!(&taken, Err(e) if e.is_conflict_on(constraints::PRICE_INTERVAL)),
        "{taken:?}"
    );
    let prices = read(&*store)
        .await
        .plan_prices(&org, &seat_plan.plan.id)
        .await
        .unwrap();
    assert_eq!(prices, vec![again, yearly]);
}

pub async fn attaching_a_feature_twice_is_a_named_conflict(store: Arc<dyn Store>) {
    let org = organization(&*store, "plan features").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;

    let again = PlanFeature {
        included_amount: 1,
        ..seat_plan.plan_feature.clone()
    };
    let attached = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_plan_feature(&org, &again).await })
    })
    .await;

    assert!(
        matches!(&attached, Err(e) if e.is_conflict_on(constraints::PLAN_FEATURE)),
        "{attached:?}"
    );
}

pub async fn a_rolled_back_job_leaves_the_catalog_as_it_was(store: Arc<dyn Store>) {
    let org = organization(&*store, "catalog rollback").await;
    let seat_plan = insert_seat_plan(&*store, &org, 1).await;
    let ghost = SeatPlan::new(&org, 2);

    let (job_org, job_plan, job_ghost) = (org.clone(), seat_plan.clone(), ghost.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            let later = T0.plus_millis(1_000);
            tx.insert_feature(&job_ghost.feature).await?;
            tx.insert_plan(&job_ghost.plan).await?;
            tx.insert_price(&job_org, &job_ghost.price).await?;
            tx.insert_plan_feature(&job_org, &job_ghost.plan_feature)
                .await?;
            tx.update_feature(&Feature {
                name: "Changed".to_owned(),
                updated_at: later,
                ..job_plan.feature.clone()
            })
            .await?;
            tx.update_plan(&Plan {
                name: "Changed".to_owned(),
                updated_at: later,
                ..job_plan.plan.clone()
            })
            .await?;
            tx.update_price(
                &job_org,
                &PlanPrice {
                    price: Cents(1),
                    ..job_plan.price.clone()
                },
            )
            .await?;
            tx.update_plan_feature(
                &job_org,
                &PlanFeature {
                    included_amount: 1,
                    ..job_plan.plan_feature.clone()
                },
            )
            .await?;
            tx.archive_price(&job_org, &job_plan.price.id, later)
                .await?;
            tx.delete_plan_feature(&job_org, &job_plan.plan.id, &job_plan.feature.id)
                .await?;
            tx.delete_plan(&job_org, &job_plan.plan.id, later).await?;
            tx.delete_feature(&job_org, &job_plan.feature.id).await
        })
    })
    .await;

    assert_eq!(
        Listed::read(&*store, &seat_plan).await,
        Listed::as_inserted(&seat_plan)
    );
    let mut db = read(&*store).await;
    assert_eq!(db.plan_any(&org, &ghost.plan.id).await.unwrap(), None);
    assert_eq!(db.price(&org, &ghost.price.id).await.unwrap(), None);
}

pub async fn another_organizations_catalog_is_never_read(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their = insert_seat_plan(&*store, &theirs, 1).await;

    let mut db = read(&*store).await;
    assert!(db.features(&mine).await.unwrap().is_empty());
    assert_eq!(
        db.feature_by_code(&mine, &their.feature.code, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        !db.feature_is_attached(&mine, &their.feature.id)
            .await
            .unwrap()
    );
    assert!(
        db.plans_page(&mine, PlanVisibility::IncludingPrivate, &first_page(100))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        db.plan(&mine, &their.plan.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.plan_by_code(&mine, &their.plan.code, Lock::None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(db.plan_any(&mine, &their.plan.id).await.unwrap(), None);
    assert!(
        db.plan_prices(&mine, &their.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(db.price(&mine, &their.price.id).await.unwrap(), None);
    assert!(
        db.plan_features(&mine, &their.plan.id)
            .await
            .unwrap()
            .is_empty()
    );
    let (job_mine, job_their) = (mine.clone(), their.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            let feature = tx
                .feature_by_code(&job_mine, &job_their.feature.code, Lock::ForUpdate)
                .await?;
            let plan = tx
                .plan(&job_mine, &job_their.plan.id, Lock::ForUpdate)
                .await?;
            let by_code = tx
                .plan_by_code(&job_mine, &job_their.plan.code, Lock::ForUpdate)
                .await?;
            Ok((feature, plan, by_code))
        })
    })
    .await;
    assert_eq!(locked, (None, None, None));
}

pub async fn another_organizations_catalog_is_never_changed(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their = insert_seat_plan(&*store, &theirs, 1).await;

    let (job_mine, job_their) = (mine.clone(), their.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (mine, their) = (job_mine, job_their);
            let later = T0.plus_millis(1_000);
            let feature = Feature {
                org_id: mine.clone(),
                name: "Hijacked".to_owned(),
                updated_at: later,
                ..their.feature.clone()
            };
            not_found(tx.update_feature(&feature).await, "update_feature")?;
            let plan = Plan {
                org_id: mine.clone(),
                name: "Hijacked".to_owned(),
                updated_at: later,
                ..their.plan.clone()
            };
            not_found(tx.update_plan(&plan).await, "update_plan")?;
            let price = PlanPrice {
                price: Cents(1),
                ..their.price.clone()
            };
            not_found(tx.update_price(&mine, &price).await, "update_price")?;
            let plan_feature = PlanFeature {
                included_amount: 1,
                ..their.plan_feature.clone()
            };
            did_nothing(
                tx.update_plan_feature(&mine, &plan_feature).await,
                "update_plan_feature",
            )?;
            did_nothing(
                tx.archive_price(&mine, &their.price.id, later).await,
                "archive_price",
            )?;
            did_nothing(
                tx.delete_plan_feature(&mine, &their.plan.id, &their.feature.id)
                    .await,
                "delete_plan_feature",
            )?;
            did_nothing(
                tx.delete_plan(&mine, &their.plan.id, later).await,
                "delete_plan",
            )?;
            did_nothing(
                tx.delete_feature(&mine, &their.feature.id).await,
                "delete_feature",
            )
        })
    })
    .await;

    assert_eq!(
        Listed::read(&*store, &their).await,
        Listed::as_inserted(&their)
    );
    assert_eq!(
        read(&*store)
            .await
            .price(&theirs, &their.price.id)
            .await
            .unwrap(),
        Some(their.price.clone())
    );
}

pub async fn features_and_plans_page_oldest_first_with_ties_broken_by_id(store: Arc<dyn Store>) {
    let org = organization(&*store, "catalog pages").await;
    let other = organization(&*store, "other catalog pages").await;
    let mut rows = Vec::new();
    for n in PAGED {
        rows.push((
            feature(&org, n, &format!("f{n}"), paged_at(n)),
            plan(&org, n, &format!("p{n}"), paged_at(n)),
        ));
    }
    // Never listed: a private plan (unless asked for), a deleted one, another organization's.
    let private = Plan {
        is_public: false,
        ..plan(&org, 7, "private", paged_at(7))
    };
    let deleted = plan(&org, 8, "deleted", paged_at(8));
    let theirs = (
        feature(&other, 9, "theirs", paged_at(9)),
        plan(&other, 9, "theirs", paged_at(9)),
    );
    let (job_org, job_private, job_deleted, job_theirs) = (
        org.clone(),
        private.clone(),
        deleted.clone(),
        theirs.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            for (feature, plan) in rows.iter().chain([&job_theirs]) {
                tx.insert_feature(feature).await?;
                tx.insert_plan(plan).await?;
            }
            tx.insert_plan(&job_private).await?;
            tx.insert_plan(&job_deleted).await?;
            tx.delete_plan(&job_org, &job_deleted.id, T0).await?;
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let features = every_page(
        2,
        |f: &Feature| PagePosition {
            created_at: f.created_at,
            id: f.id.as_str().to_owned(),
        },
        async |page| db.features_page(&org, &page).await.unwrap(),
    )
    .await;
    let public_plans = every_page(
        2,
        |p: &Plan| PagePosition {
            created_at: p.created_at,
            id: p.id.as_str().to_owned(),
        },
        async |page| {
            db.plans_page(&org, PlanVisibility::PublicOnly, &page)
                .await
                .unwrap()
        },
    )
    .await;
    let all_plans = db
        .plans_page(&org, PlanVisibility::IncludingPrivate, &first_page(10))
        .await
        .unwrap();

    let oldest_first = vec![vec![0, 1], vec![2, 3], vec![4]];
    assert_eq!(
        page_numbers(&features, |f| n_of(f.id.as_str())),
        oldest_first
    );
    assert_eq!(
        page_numbers(&public_plans, |p| n_of(p.id.as_str())),
        oldest_first
    );
    assert_eq!(features[0].items[0], feature(&org, 0, "f0", paged_at(0)));
    let all: Vec<u32> = all_plans
        .items
        .iter()
        .map(|p| n_of(p.id.as_str()))
        .collect();
    assert_eq!(all, [0, 1, 2, 3, 4, 7]);
    assert!(!all_plans.has_more);
}

pub async fn prices_and_features_of_several_plans_come_in_one_read(store: Arc<dyn Store>) {
    let mine = insert_seat_plan(&*store, &organization(&*store, "batch").await, 1).await;
    let org = mine.plan.org_id.clone();
    let second = plan(&org, 2, "second", T0.plus_millis(5));
    let second_price = price(&second, 3, BillingInterval::Yearly, T0.plus_millis(6));
    let their = insert_seat_plan(&*store, &organization(&*store, "other batch").await, 4).await;
    let (job_org, job_plan, job_price) = (org.clone(), second.clone(), second_price.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_plan(&job_plan).await?;
            tx.insert_price(&job_org, &job_price).await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let ids = [
        mine.plan.id.clone(),
        second.id.clone(),
        their.plan.id.clone(),
    ];
    let prices = db.prices_of_plans(&org, &ids).await.unwrap();
    let attached = db.features_of_plans(&org, &ids).await.unwrap();
    let none = db.prices_of_plans(&org, &[]).await.unwrap();

    let mut expected_prices = db.plan_prices(&org, &mine.plan.id).await.unwrap();
    expected_prices.push(second_price);
    expected_prices.sort_by(|a, b| a.plan_id.as_str().cmp(b.plan_id.as_str()));
    let mut got_prices = prices.clone();
    got_prices.sort_by(|a, b| a.plan_id.as_str().cmp(b.plan_id.as_str()));
    assert_eq!(
        got_prices, expected_prices,
        "another organization's prices are never read"
    );
    assert_eq!(
        attached,
        db.plan_features(&org, &mine.plan.id).await.unwrap()
    );
    assert!(none.is_empty());
}
