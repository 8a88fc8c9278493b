//! Markets, market and regional prices, and subscriptions' pricing sources.

use super::fixtures::{T0, commit, first_page, organization, read, subscribed};
use crate::{Store, StoreError, SubscriptionPricing, constraints, write};
use std::sync::Arc;
use tally_domain::markets::{ExchangeRate, Market, MarketPrice, RegionalOverage, RegionalPrice};
use tally_domain::money::{Cents, Rate};

fn market(org: &tally_domain::OrgId, n: u32, countries: &[&str]) -> Market {
    Market {
        id: format!("pmg_{n}"),
        org_id: org.clone(),
        name: format!("Market {n}"),
        country_codes: countries.iter().map(|c| (*c).to_owned()).collect(),
        metadata: Default::default(),
        created_at: T0.plus_millis(i64::from(n)),
        updated_at: T0.plus_millis(i64::from(n)),
    }
}

pub async fn markets_prices_and_pricing_sources_read_back_and_a_country_has_one_market(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "markets").await;
    let (south, north) = (market(&s.org, 1, &["AR", "UY"]), market(&s.org, 2, &["MX"]));
    let price = s.seat_plan.price.clone();
    let plan = s.seat_plan.plan.id.clone();
    let feature = s.seat_plan.feature.id.as_str().to_owned();
    let entry = MarketPrice {
        market_id: south.id.clone(),
        currency: "ars".into(),
        price: Cents(6_490_000),
    };
    let manual = RegionalPrice {
        currency: "brl".into(),
        price: Cents(19_900),
        included_balance: Some(Rate(5)),
        auto_synced: false,
    };
    let overage = RegionalOverage {
        currency: "brl".into(),
        overage_unit_price: Some(Rate(1_250_000)),
        auto_synced: false,
    };
    let subscription = s.subscription.id.as_str().to_owned();
    let (m1, m2, e, r, o, p, f, sub) = (
        south.clone(),
        north.clone(),
        entry.clone(),
        manual.clone(),
        overage.clone(),
        plan.clone(),
        feature.clone(),
        subscription.clone(),
    );
    let price_id = price.id.as_str().to_owned();
    let pid = price_id.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            let org = m1.org_id.clone();
            tx.insert_market(&m1).await?;
            tx.insert_market(&m2).await?;
            tx.replace_market_prices(&org, &pid, std::slice::from_ref(&e))
                .await?;
            tx.set_exchange_rate(&org, &p, "brl", ExchangeRate { rate: 5_000_000 })
                .await?;
            tx.set_exchange_rate(&org, &p, "brl", ExchangeRate { rate: 6_000_000 })
                .await?;
            tx.upsert_price_override(&org, &pid, &r).await?;
            tx.upsert_feature_override(&org, &p, &f, &o).await?;
            tx.insert_subscription_pricing(
                &org,
                &sub,
                &SubscriptionPricing {
                    currency: "ars".into(),
                    market_id: Some(m1.id.clone()),
                },
            )
            .await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.market(&s.org, &south.id).await.unwrap(),
        Some(south.clone())
    );
    assert_eq!(
        db.market_of_country(&s.org, "UY").await.unwrap(),
        Some(south.clone())
    );
    assert_eq!(db.market_of_country(&s.org, "BR").await.unwrap(), None);
    let listed = db.markets(&s.org, &first_page(10)).await.unwrap();
    assert_eq!(
        listed.items,
        vec![north.clone(), south.clone()],
        "newest first"
    );
    let regional = db
        .plan_regional(&s.org, std::slice::from_ref(&plan))
        .await
        .unwrap();
    let regional = &regional[0].1;
    assert_eq!(
        regional.rates,
        vec![("brl".to_owned(), ExchangeRate { rate: 6_000_000 })],
        "a rate is replaced"
    );
    assert_eq!(regional.market_prices_of(&price_id), vec![entry.clone()]);
    assert_eq!(regional.overrides_of(&price_id), vec![manual.clone()]);
    assert_eq!(
        regional.feature_overrides,
        vec![(feature.clone(), overage.clone())]
    );
    assert_eq!(
        db.subscription_pricing(&s.org, &subscription)
            .await
            .unwrap(),
        Some(SubscriptionPricing {
            currency: "ars".into(),
            market_id: Some(south.id.clone())
        })
    );
    assert!(db.market_in_use(&s.org, &south.id).await.unwrap());
    assert!(!db.market_in_use(&s.org, &north.id).await.unwrap());
    assert_eq!(
        db.subscriptions_priced_by(&s.org, &price_id, Some(&south.id), None)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.subscriptions_priced_by(&s.org, &price_id, None, Some("ars"))
            .await
            .unwrap(),
        0,
        "priced by the market, not the regional entry"
    );
    drop(db);

    // A country another market holds is a named conflict; an update moves the countries.
    let clash = market(&s.org, 3, &["UY"]);
    let outcome = write(&*store, move |tx| {
        Box::pin(async move { tx.insert_market(&clash).await })
    })
    .await;
    assert!(
        matches!(&outcome, Err(StoreError::Conflict { constraint }) if constraint == constraints::MARKET_COUNTRY),
        "{outcome:?}"
    );
    let moved = Market {
        country_codes: vec!["AR".into(), "PY".into()],
        ..south.clone()
    };
    let (m, org, pid) = (moved.clone(), s.org.clone(), price_id.clone());
    let north_id = north.id.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_market(&m).await?;
            tx.delete_price_overrides(&org, &pid).await?;
            tx.delete_market(&org, &north_id).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(db.market_of_country(&s.org, "UY").await.unwrap(), None);
    assert_eq!(
        db.market_of_country(&s.org, "PY").await.unwrap(),
        Some(moved)
    );
    assert_eq!(db.market(&s.org, &north.id).await.unwrap(), None);
    let regional = db
        .plan_regional(&s.org, std::slice::from_ref(&plan))
        .await
        .unwrap();
    assert!(regional[0].1.overrides_of(&price_id).is_empty());
    let elsewhere = organization(&*store, "markets elsewhere").await;
    assert_eq!(db.market(&elsewhere, &south.id).await.unwrap(), None);
    assert_eq!(db.market_of_country(&elsewhere, "AR").await.unwrap(), None);
    assert_eq!(
        db.subscription_pricing(&elsewhere, &subscription)
            .await
            .unwrap(),
        None
    );
}
