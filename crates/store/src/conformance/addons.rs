//! Add-ons and their activations.

use super::fixtures::{Subscribed, T0, commit, first_page, read, subscribed, ulid};
use crate::{Lock, Store, constraints};
use std::sync::Arc;
use tally_domain::addons::{Activation, Addon, AddonModel, AddonTerms};
use tally_domain::catalog::{Feature, FeatureId, FeatureType};
use tally_domain::ids::AddonId;
use tally_domain::money::{Cents, Rate};

fn boolean_feature(s: &Subscribed, n: u32, code: &str) -> Feature {
    Feature {
        id: FeatureId::from_ulid(ulid(&s.org, T0, 300 + n)),
        org_id: s.org.clone(),
        code: code.to_owned(),
        name: code.to_uppercase(),
        feature_type: FeatureType::Boolean,
        description: None,
        unit_name: None,
        created_at: T0,
        updated_at: T0,
    }
}

fn addon(s: &Subscribed, n: u32, slug: &str, feature: &Feature) -> Addon {
    let at = T0.plus_millis(i64::from(n));
    Addon {
        id: AddonId::from_ulid(ulid(&s.org, at, 400 + n)),
        org_id: s.org.clone(),
        name: slug.to_uppercase(),
        slug: slug.to_owned(),
        description: (n == 1).then(|| "Single sign-on".to_owned()),
        base_price: Cents(5_000 + i64::from(n)),
        feature_id: feature.id.clone(),
        terms: AddonTerms {
            model: AddonModel::Boolean,
            included_units: None,
            overage_rate: (n == 3).then_some(Rate(7)),
            credit_cost: None,
        },
        created_at: at,
        updated_at: at,
    }
}

pub async fn addons_read_back_and_activations_follow_their_subscription(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "addons").await;
    let other = subscribed(&*store, "other addons").await;
    let (sso, audit) = (
        boolean_feature(&s, 1, "sso"),
        boolean_feature(&s, 2, "audit"),
    );
    let first = addon(&s, 1, "sso", &sso);
    let second = addon(&s, 2, "audit", &audit);
    let spare = boolean_feature(&s, 3, "spare");
    let theirs_feature = boolean_feature(&other, 1, "sso");
    let theirs = addon(&other, 1, "sso", &theirs_feature);
    let activation = Activation {
        subscription_id: s.subscription.id.clone(),
        addon_id: first.id.clone(),
        activated_at: T0.plus_millis(10),
        deactivated_at: None,
    };
    let rows = (
        vec![
            sso.clone(),
            audit.clone(),
            spare.clone(),
            theirs_feature.clone(),
        ],
        vec![first.clone(), second.clone(), theirs.clone()],
        activation.clone(),
        s.org.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (features, addons, activation, org) = rows;
            for feature in &features {
                tx.insert_feature(feature).await?;
            }
            for addon in &addons {
                tx.insert_addon(addon).await?;
            }
            tx.insert_activation(&org, &activation).await
        })
    })
    .await;

    let mut db = read(&*store).await;
    let page = db.addons_page(&s.org, &first_page(10)).await.unwrap();
    assert_eq!(
        page.items,
        vec![
            (second.clone(), audit.clone()),
            (first.clone(), sso.clone())
        ],
        "newest first, each with its feature"
    );
    assert_eq!(
        db.addon(&s.org, "audit", Lock::None).await.unwrap(),
        Some((second.clone(), audit.clone()))
    );
    assert_eq!(
        db.addon(&s.org, first.id.as_str(), Lock::None)
            .await
            .unwrap(),
        Some((first.clone(), sso.clone()))
    );
    assert_eq!(
        db.addon(&s.org, theirs.id.as_str(), Lock::None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.addon_of_feature(&s.org, &sso.id).await.unwrap(),
        Some(first.clone())
    );
    let mut slugs = db.addon_slugs(&s.org, "sso").await.unwrap();
    slugs.sort();
    assert_eq!(slugs, ["sso"]);
    assert!(
        db.addon_is_active_anywhere(&s.org, &first.id)
            .await
            .unwrap()
    );
    assert!(
        !db.addon_is_active_anywhere(&s.org, &second.id)
            .await
            .unwrap()
    );
    assert_eq!(
        db.active_addons(&s.org, &s.subscription.id).await.unwrap(),
        vec![(activation.clone(), (first.clone(), sso.clone()))]
    );

    // A second add-on on the same feature, a taken slug and a second activation are named
    // conflicts; another organization's subscription cannot get this one's add-on.
    let (org, job_first, job_spare) = (s.org.clone(), first.clone(), spare.clone());
    let (other_sub, job_activation) = (other.subscription.id.clone(), activation.clone());
    let outcomes = commit(&*store, move |tx| {
        Box::pin(async move {
            let same_feature = Addon {
                id: AddonId::from_stored("adn_01J00000000000000000000099".into()),
                slug: "sso-2".into(),
                ..job_first.clone()
            };
            let feature_taken = tx
                .savepoint("a")
                .await
                .and(tx.insert_addon(&same_feature).await);
            tx.rollback_to_savepoint("a").await?;
            let same_slug = Addon {
                id: AddonId::from_stored("adn_01J00000000000000000000098".into()),
                feature_id: job_spare.id.clone(),
                ..job_first.clone()
            };
            let slug_taken = tx
                .savepoint("b")
                .await
                .and(tx.insert_addon(&same_slug).await);
            tx.rollback_to_savepoint("b").await?;
            let twice = tx
                .savepoint("c")
                .await
                .and(tx.insert_activation(&org, &job_activation).await);
            tx.rollback_to_savepoint("c").await?;
            let stranger = Activation {
                subscription_id: other_sub,
                ..job_activation
            };
            let foreign = tx.insert_activation(&org, &stranger).await;
            Ok((feature_taken, slug_taken, twice, foreign))
        })
    })
    .await;
    assert!(
        outcomes
            .0
            .as_ref()
            .is_err_and(|e| e.is_conflict_on(constraints::ADDON_FEATURE)
                || e.is_conflict_on(constraints::ADDON_SLUG)),
        "{:?}",
        outcomes.0
    );
    assert!(
        outcomes
            .1
            .as_ref()
            .is_err_and(|e| e.is_conflict_on(constraints::ADDON_SLUG)),
        "{:?}",
        outcomes.1
    );
    assert!(
        outcomes
            .2
            .as_ref()
            .is_err_and(|e| e.is_conflict_on(constraints::ACTIVE_ADDON)),
        "{:?}",
        outcomes.2
    );
    assert!(outcomes.3.is_err(), "{:?}", outcomes.3);

    // Ending the activation frees the add-on; a deleted one is no longer found.
    let (org, sub, id) = (s.org.clone(), s.subscription.id.clone(), first.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.end_activation(&org, &sub, &id, T0.plus_millis(20))
                .await?;
            tx.delete_addon(&org, &id, T0.plus_millis(30)).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert!(
        db.active_addons(&s.org, &s.subscription.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        !db.addon_is_active_anywhere(&s.org, &first.id)
            .await
            .unwrap()
    );
    assert_eq!(db.addon(&s.org, "sso", Lock::None).await.unwrap(), None);
    assert_eq!(db.addon_of_feature(&s.org, &sso.id).await.unwrap(), None);
    assert_eq!(
        db.addon(&other.org, "sso", Lock::None).await.unwrap(),
        Some((theirs, theirs_feature))
    );
}
