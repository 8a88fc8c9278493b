//! Plan groups, and the plans they rank.

use super::fixtures::{
    T0, commit, every_page, first_page, organization, paged_at, plan, read, ulid,
};
use crate::{Lock, PlanVisibility, Store};
use std::sync::Arc;
use tally_domain::OrgId;
use tally_domain::catalog::{Plan, PlanGroupId};
use tally_domain::page::PagePosition;
use tally_domain::plan_groups::PlanGroup;

fn group(org: &OrgId, n: u32, created_at: tally_domain::Timestamp) -> PlanGroup {
    PlanGroup {
        id: PlanGroupId::from_ulid(ulid(org, created_at, 100 + n)),
        org_id: org.clone(),
        name: format!("Group {n}"),
        description: n.is_multiple_of(2).then(|| format!("About group {n}")),
        is_public: n != 1,
        created_at,
        updated_at: created_at,
    }
}

fn member(plan: Plan, group: &PlanGroup, sort_order: i64) -> Plan {
    Plan {
        group: Some(group.id.clone()),
        sort_order,
        ..plan
    }
}

pub async fn groups_read_back_page_newest_first_and_deleting_one_unlinks_its_plans(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "plan groups").await;
    let other = organization(&*store, "other plan groups").await;
    let groups: Vec<_> = (0..3).map(|n| group(&org, n, paged_at(n))).collect();
    let theirs = group(&other, 9, T0);
    let standard = groups[0].clone();
    let members = [
        member(plan(&org, 1, "pro", T0), &standard, 1),
        member(plan(&org, 2, "team", T0.plus_millis(1)), &standard, 0),
        member(plan(&org, 3, "business", T0.plus_millis(2)), &standard, 1),
    ];
    let gone = member(plan(&org, 4, "old", T0.plus_millis(3)), &standard, 0);
    let (job_org, job_groups, job_theirs, job_members, job_gone) = (
        org.clone(),
        groups.clone(),
        theirs.clone(),
        members.clone(),
        gone.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            for group in job_groups.iter().chain([&job_theirs]) {
                tx.insert_plan_group(group).await?;
            }
            for plan in job_members.iter().chain([&job_gone]) {
                tx.insert_plan(plan).await?;
            }
            tx.delete_plan(&job_org, &job_gone.id, T0).await?;
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let listed = every_page(
        2,
        |g: &PlanGroup| PagePosition {
            created_at: g.created_at,
            id: g.id.as_str().to_owned(),
        },
        async |page| db.plan_groups_page(&org, &page).await.unwrap(),
    )
    .await;
    let listed: Vec<Vec<PlanGroup>> = listed.into_iter().map(|page| page.items).collect();
    assert_eq!(
        listed,
        vec![
            vec![groups[2].clone(), groups[1].clone()],
            vec![groups[0].clone()]
        ]
    );
    assert_eq!(
        db.plan_group(&org, &standard.id, Lock::None).await.unwrap(),
        Some(standard.clone())
    );
    assert_eq!(
        db.plan_group(&org, &theirs.id, Lock::None).await.unwrap(),
        None
    );
    // Members by order, then creation; a deleted plan is not listed.
    let ranked = db.plan_group_members(&org, &standard.id).await.unwrap();
    assert_eq!(
        ranked,
        vec![members[1].clone(), members[0].clone(), members[2].clone()]
    );
    assert!(
        db.plan_group_members(&other, &standard.id)
            .await
            .unwrap()
            .is_empty()
    );

    let renamed = PlanGroup {
        name: "Renamed".to_owned(),
        description: None,
        updated_at: T0.plus_millis(9),
        ..standard.clone()
    };
    let (job_org, job_renamed, job_theirs) = (org.clone(), renamed.clone(), theirs.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_plan_group(&job_renamed).await?;
            // Another organization's group cannot be changed through this one.
            let stranger = PlanGroup {
                org_id: job_org.clone(),
                ..job_theirs
            };
            assert!(tx.update_plan_group(&stranger).await.is_err());
            Ok(())
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.plan_group(&org, &standard.id, Lock::None).await.unwrap(),
        Some(renamed)
    );

    let (job_org, job_group) = (org.clone(), standard.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.delete_plan_group(&job_org, &job_group).await })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.plan_group(&org, &standard.id, Lock::None).await.unwrap(),
        None
    );
    for plan in members.iter().chain([&gone]) {
        let kept = db.plan_any(&org, &plan.id).await.unwrap().unwrap();
        assert_eq!((kept.group, kept.sort_order), (None, 0), "{}", plan.code);
    }
    assert_eq!(
        db.plan_group(&other, &theirs.id, Lock::None).await.unwrap(),
        Some(theirs)
    );
}

pub async fn plans_page_by_group_order_then_creation(store: Arc<dyn Store>) {
    let org = organization(&*store, "ranked plans").await;
    let tiers = group(&org, 0, T0);
    // Created in one order, ranked in another; two share a rank and a creation time.
    let plans = vec![
        member(plan(&org, 1, "a", T0), &tiers, 2),
        member(plan(&org, 2, "b", T0), &tiers, 0),
        plan(&org, 3, "c", T0.plus_millis(5)),
        member(plan(&org, 4, "d", T0.plus_millis(1)), &tiers, 1),
        member(plan(&org, 5, "e", T0.plus_millis(1)), &tiers, 1),
    ];
    let (job_group, job_plans) = (tiers.clone(), plans.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_plan_group(&job_group).await?;
            for plan in &job_plans {
                tx.insert_plan(plan).await?;
            }
            Ok(())
        })
    })
    .await;
    let mut db = read(&*store).await;
    let paged = every_page(
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
    let codes: Vec<Vec<&str>> = paged
        .iter()
        .map(|page| page.items.iter().map(|p| p.code.as_str()).collect())
        .collect();
    assert_eq!(codes, [vec!["b", "c"], vec!["d", "e"], vec!["a"]]);
    let whole = db
        .plans_page(&org, PlanVisibility::PublicOnly, &first_page(10))
        .await
        .unwrap();
    let flat: Vec<Plan> = paged.into_iter().flat_map(|page| page.items).collect();
    assert_eq!(whole.items, flat);
}
