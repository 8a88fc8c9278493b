//! Offers, promo codes and offers placed on subscriptions.

use super::fixtures::{DAY_MS, T0, commit, first_page, organization, read, subscribed};
use crate::{Lock, Store, StoreError, constraints, write};
use std::sync::Arc;
use tally_domain::money::Cents;
use tally_domain::offers::{
    CurrencyAmount, Offer, OfferApplication, Phase, PromoCode, Source, place_phases,
};
use tally_domain::period::BillingInterval;

fn offer(org: &tally_domain::OrgId, n: u32, active: bool) -> Offer {
    Offer {
        id: format!("ofr_{n:026}"),
        org_id: org.clone(),
        name: format!("Offer {n}"),
        phases: vec![
            Phase::FreeTrial { days: 7 },
            Phase::Percentage {
                cycles: Some(3),
                basis_points: 5_000,
            },
            Phase::FixedPrice {
                cycles: None,
                interval: Some(BillingInterval::Yearly),
                prices: vec![CurrencyAmount {
                    currency: "usd".to_owned(),
                    amount: 2_900,
                }],
            },
        ],
        metadata: serde_json::json!({"n": n}).as_object().unwrap().clone(),
        starts_at: None,
        ends_at: Some(T0.plus_millis(30 * DAY_MS)),
        active,
        deleted: false,
        created_at: T0.plus_millis(i64::from(n)),
        updated_at: T0.plus_millis(i64::from(n)),
    }
}

pub async fn offers_codes_and_applications_read_back_and_codes_are_unique_in_any_case(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "offers").await;
    let (first, second) = (offer(&s.org, 1, true), offer(&s.org, 2, false));
    let code = PromoCode {
        id: "prc_1".to_owned(),
        org_id: s.org.clone(),
        code: "Launch50".to_owned(),
        offer_id: first.id.clone(),
        billing_interval: Some(BillingInterval::Monthly),
        max_redemptions: Some(1),
        expires_at: None,
        active: true,
        redemption_count: 0,
        plan_ids: vec!["pln_1".to_owned()],
        created_at: T0,
        updated_at: T0,
    };
    let application = OfferApplication {
        id: "ofa_1".to_owned(),
        org_id: s.org.clone(),
        subscription_id: s.subscription.id.as_str().to_owned(),
        offer_id: Some(first.id.clone()),
        name: first.name.clone(),
        promo_code: Some(code.code.clone()),
        source: Source::PromoCode,
        currency: "usd".to_owned(),
        price_id: None,
        phases: place_phases(&first.phases, T0, BillingInterval::Monthly),
        applied_at: T0,
        expires_at: None,
        ended_at: None,
        first_period: Some((Cents(9_900), Cents(4_950), Cents(4_950))),
    };
    let (o1, o2, c, a) = (
        first.clone(),
        second.clone(),
        code.clone(),
        application.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_offer(&o1).await?;
            tx.insert_offer(&o2).await?;
            tx.insert_promo_code(&c).await?;
            tx.insert_offer_application(&a).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.offer(&s.org, &first.id, Lock::None).await.unwrap(),
        Some(first.clone())
    );
    let listed = db.offers(&s.org, None, &first_page(10)).await.unwrap();
    assert_eq!(
        listed.items,
        vec![second.clone(), first.clone()],
        "newest first"
    );
    let active = db
        .offers(&s.org, Some(true), &first_page(10))
        .await
        .unwrap();
    assert_eq!(active.items, vec![first.clone()]);
    assert_eq!(
        db.promo_code(&s.org, "launch50", Lock::None).await.unwrap(),
        Some(code.clone())
    );
    assert_eq!(
        db.promo_code(&s.org, "prc_1", Lock::None).await.unwrap(),
        Some(code.clone())
    );
    let subscription = s.subscription.id.as_str();
    assert_eq!(
        db.offer_applications(&s.org, subscription).await.unwrap(),
        vec![application.clone()]
    );
    drop(db);

    // A second code that differs only in case is a named conflict; the first is unchanged.
    let twin = PromoCode {
        id: "prc_2".to_owned(),
        code: "LAUNCH50".to_owned(),
        ..code.clone()
    };
    let outcome = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_promo_code(&twin).await })
    })
    .await;
    assert!(
        matches!(&outcome, Err(StoreError::Conflict { constraint }) if constraint == constraints::PROMO_CODE),
        "{outcome:?}"
    );

    // Updates, deletion and ending read back; another organization sees none of it.
    let (mut used, mut gone, mut ended) = (code.clone(), first.clone(), application.clone());
    used.redemption_count = 1;
    used.plan_ids = Vec::new();
    gone.deleted = true;
    gone.updated_at = T0.plus_millis(DAY_MS);
    ended.ended_at = Some(T0.plus_millis(DAY_MS));
    let (u, g, e) = (used.clone(), gone.clone(), ended.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_promo_code(&u).await?;
            tx.update_offer(&g).await?;
            tx.end_offer_application(&e).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.promo_code(&s.org, "prc_1", Lock::None).await.unwrap(),
        Some(used)
    );
    assert_eq!(
        db.offer(&s.org, &first.id, Lock::None).await.unwrap(),
        Some(gone)
    );
    let listed = db.offers(&s.org, None, &first_page(10)).await.unwrap();
    assert_eq!(listed.items, vec![second], "deleted offers are not listed");
    assert_eq!(
        db.offer_applications(&s.org, subscription).await.unwrap(),
        vec![ended]
    );
    let elsewhere = organization(&*store, "offers elsewhere").await;
    assert_eq!(
        db.offer(&elsewhere, &first.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.promo_code(&elsewhere, "launch50", Lock::None)
            .await
            .unwrap(),
        None
    );
    assert!(
        db.offer_applications(&elsewhere, subscription)
            .await
            .unwrap()
            .is_empty()
    );
}
