//! Credit packs.

use super::fixtures::{T0, commit, organization, read, ulid};
use crate::{Lock, Store, StoreError, constraints};
use std::sync::Arc;
use tally_domain::OrgId;
use tally_domain::credit_packs::CreditPack;
use tally_domain::ids::CreditPackId;
use tally_domain::money::Cents;

fn pack(org: &OrgId, n: u32, name: &str) -> CreditPack {
    let at = T0.plus_millis(i64::from(n));
    CreditPack {
        id: CreditPackId::from_ulid(ulid(org, at, 500 + n)),
        org_id: org.clone(),
        name: name.to_owned(),
        description: (n == 1).then(|| "A first pack".to_owned()),
        credits: 100 * i64::from(n),
        price: Cents(1_000 * i64::from(n)),
        is_active: n != 2,
        created_at: at,
        updated_at: at,
    }
}

pub async fn packs_read_back_and_live_names_are_unique_in_any_case(store: Arc<dyn Store>) {
    let org = organization(&*store, "credit packs").await;
    let other = organization(&*store, "other credit packs").await;
    let packs = vec![pack(&org, 1, "Starter"), pack(&org, 2, "Paused")];
    let theirs = pack(&other, 1, "Starter");
    let (job_packs, job_theirs) = (packs.clone(), theirs.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            for p in job_packs.iter().chain([&job_theirs]) {
                tx.insert_credit_pack(p).await?;
            }
            Ok(())
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.credit_packs(&org).await.unwrap(),
        packs,
        "oldest first, inactive ones too"
    );
    assert_eq!(
        db.credit_pack(&org, &packs[0].id, Lock::None)
            .await
            .unwrap(),
        Some(packs[0].clone())
    );
    assert_eq!(
        db.credit_pack(&org, &theirs.id, Lock::None).await.unwrap(),
        None
    );

    let (job_org, job_first) = (org.clone(), packs[0].clone());
    let outcomes = commit(&*store, move |tx| {
        Box::pin(async move {
            let clash = CreditPack {
                id: CreditPackId::from_stored("cpk_01J00000000000000000000099".into()),
                name: "STARTER".into(),
                ..job_first.clone()
            };
            tx.savepoint("a").await?;
            let taken = tx.insert_credit_pack(&clash).await;
            tx.rollback_to_savepoint("a").await?;
            tx.delete_credit_pack(&job_org, &job_first.id, T0.plus_millis(9))
                .await?;
            // Once the first is deleted its name is free again.
            let reused = tx.insert_credit_pack(&clash).await;
            Ok((taken, reused))
        })
    })
    .await;
    assert!(
        matches!(&outcomes.0, Err(StoreError::Conflict { constraint }) if constraint == constraints::CREDIT_PACK_NAME),
        "{:?}",
        outcomes.0
    );
    assert!(outcomes.1.is_ok(), "{:?}", outcomes.1);
    let mut db = read(&*store).await;
    let names: Vec<_> = db
        .credit_packs(&org)
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, ["STARTER", "Paused"]);
    assert_eq!(db.credit_packs(&other).await.unwrap(), vec![theirs]);
}
