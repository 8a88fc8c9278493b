//! The dashboard's credential and sessions, and the customer search it uses.

use super::fixtures::{T0, commit, customer, insert_customer, organization, read};
use crate::{KeyStanding, Store, StoreError};
use std::sync::Arc;
use tally_domain::dashboard::DashboardSession;
use tally_domain::{ApiKeyId, OrgId};

fn session(id: &str, home: &OrgId, org: &OrgId) -> DashboardSession {
    DashboardSession {
        id: ApiKeyId::from_stored(format!("dsess_{id}")),
        home_org_id: home.clone(),
        org_id: org.clone(),
        created_at: T0,
        expires_at: T0.plus_millis(1_000),
        ended_at: None,
    }
}

async fn standing(store: &dyn Store, org: &OrgId, id: &ApiKeyId) -> Option<KeyStanding> {
    read(store).await.key_standing(org, id).await.unwrap()
}

/// A session reads back by its secret's hash, stands only in the organization it looks at
/// (moving it moves its standing), and stands nowhere once ended or once the credential is
/// replaced; the credential reads back replaced.
pub async fn sessions_stand_where_they_look_until_ended(store: Arc<dyn Store>) {
    let live = organization(&*store, "dashboard live").await;
    let sandbox = organization(&*store, "dashboard sandbox").await;
    let first = session("first", &live, &sandbox);
    let second = session("second", &live, &sandbox);
    let (a, b, home) = (first.clone(), second.clone(), live.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.set_dashboard_credential(&home, "hash-one", T0).await?;
            tx.insert_dashboard_session(&a, "secret-a").await?;
            tx.insert_dashboard_session(&b, "secret-b").await
        })
    })
    .await;
    assert_eq!(
        read(&*store)
            .await
            .dashboard_session("secret-a")
            .await
            .unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        read(&*store).await.dashboard_session("nope").await.unwrap(),
        None
    );
    assert!(standing(&*store, &sandbox, &first.id).await.is_some());
    assert_eq!(
        standing(&*store, &live, &first.id).await,
        None,
        "not the side it looks at"
    );

    let (id, home, to) = (first.id.clone(), live.clone(), live.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.move_dashboard_session(&home, &id, &to).await })
    })
    .await;
    assert!(standing(&*store, &live, &first.id).await.is_some());
    assert_eq!(
        standing(&*store, &sandbox, &first.id).await,
        None,
        "moved away"
    );

    let (id, home) = (first.id.clone(), live.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.end_dashboard_session(&home, &id, T0.plus_millis(5))
                .await
        })
    })
    .await;
    let ended = read(&*store)
        .await
        .dashboard_session("secret-a")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ended.ended_at, Some(T0.plus_millis(5)));
    assert_eq!(standing(&*store, &live, &first.id).await, None, "ended");
    // An ended session is not moved again.
    let (id, home, to) = (first.id.clone(), live.clone(), sandbox.clone());
    let moved = store
        .submit(Box::new(move |tx| {
            Box::pin(async move {
                match tx.move_dashboard_session(&home, &id, &to).await {
                    Err(StoreError::NotFound) => crate::JobEnd::Commit,
                    _ => crate::JobEnd::Rollback,
                }
            })
        }))
        .await;
    assert!(moved.is_ok());
    assert_eq!(standing(&*store, &sandbox, &first.id).await, None);

    let home = live.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.set_dashboard_credential(&home, "hash-two", T0).await })
    })
    .await;
    assert_eq!(
        read(&*store)
            .await
            .dashboard_credential(&live)
            .await
            .unwrap()
            .as_deref(),
        Some("hash-two")
    );
    assert_eq!(
        standing(&*store, &sandbox, &second.id).await,
        None,
        "signed out by the new credential"
    );
    assert_eq!(
        read(&*store)
            .await
            .dashboard_credential(&sandbox)
            .await
            .unwrap(),
        None
    );
}

/// The search finds a customer of the organization by id, externalId or e-mail, exactly, and
/// never another organization's.
pub async fn the_customer_search_matches_exactly_within_the_organization(store: Arc<dyn Store>) {
    let org = organization(&*store, "search").await;
    let other = organization(&*store, "other search").await;
    let ada = customer(&org, 1, Some("ext_ada"), T0);
    let bob = customer(&org, 2, None, T0.plus_millis(1));
    let foreign = customer(&other, 1, Some("ext_ada"), T0);
    for c in [&ada, &bob, &foreign] {
        insert_customer(&*store, c).await;
    }
    let find = |text: String| {
        let (store, org) = (store.clone(), org.clone());
        async move {
            read(&*store)
                .await
                .search_customers(&org, &text, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|c| c.id)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(find("ext_ada".to_owned()).await, vec![ada.id.clone()]);
    assert_eq!(find(bob.email.clone()).await, vec![bob.id.clone()]);
    assert_eq!(find(ada.id.as_str().to_owned()).await, vec![ada.id.clone()]);
    assert!(find("ext_ad".to_owned()).await.is_empty(), "exact only");
    assert!(
        find(foreign.id.as_str().to_owned()).await.is_empty(),
        "another organization's"
    );
}
