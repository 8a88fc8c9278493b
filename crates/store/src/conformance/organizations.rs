//! Organizations and their API keys.

use super::fixtures::{
    PAGED, T0, api_key, commit, every_page, expected_pages, first_page, insert_api_key, key_hash,
    n_of, new_organization, organization, page_numbers, paged_at, read, roll_back,
};
use crate::{KeyStanding, Lock, Store, StoreError};
use std::sync::Arc;
use tally_domain::page::PagePosition;
use tally_domain::{ApiKeyId, Mode, Organization};

pub async fn organizations_read_back_and_the_oldest_of_a_mode_comes_first(store: Arc<dyn Store>) {
    let newer_sandbox = new_organization("newer sandbox", Mode::Sandbox, T0.plus_millis(2));
    let live = Organization {
        paired_org_id: Some(newer_sandbox.id.clone()),
        test_clock: Some(T0.plus_millis(7)),
        ..new_organization("live", Mode::Live, T0.plus_millis(1))
    };
    let older_sandbox = new_organization("older sandbox", Mode::Sandbox, T0);
    let rows = vec![newer_sandbox.clone(), live.clone(), older_sandbox.clone()];
    commit(&*store, move |tx| {
        Box::pin(async move {
            for org in &rows {
                tx.insert_organization(org).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let count = db.organization_count().await.unwrap();
    let read_live = db.organization(&live.id, Lock::None).await.unwrap();
    let oldest_sandbox = db.oldest_organization(Mode::Sandbox).await.unwrap();
    let oldest_live = db.oldest_organization(Mode::Live).await.unwrap();
    let job_id = live.id.clone();
    let locked = commit(&*store, move |tx| {
        Box::pin(async move { tx.organization(&job_id, Lock::ForUpdate).await })
    })
    .await;

    assert_eq!(count, 3);
    assert_eq!(read_live, Some(live.clone()));
    assert_eq!(locked, Some(live.clone()));
    assert_eq!(oldest_sandbox, Some(older_sandbox));
    assert_eq!(oldest_live, Some(live));
}

pub async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    let org = organization(&*store, "keys").await;
    let key = api_key(&org, 7, T0);
    insert_api_key(&*store, &key).await;

    let found = read(&*store)
        .await
        .key_by_secret_hash(&key_hash(&key))
        .await
        .unwrap()
        .unwrap();
    for touched_at in [5, 9] {
        let (job_org, key_id) = (org.clone(), key.id.clone());
        commit(&*store, move |tx| {
            Box::pin(async move {
                tx.touch_api_key(&job_org, &key_id, T0.plus_millis(touched_at), T0)
                    .await
            })
        })
        .await;
    }
    let touched = read(&*store)
        .await
        .key_by_secret_hash(&key_hash(&key))
        .await
        .unwrap()
        .unwrap();
    let (job_org, key_id) = (org.clone(), key.id.clone());
    let (revoked, revoked_again) = commit(&*store, move |tx| {
        Box::pin(async move {
            let first = tx.revoke_api_key(&job_org, &key_id, T0).await?;
            let second = tx.revoke_api_key(&job_org, &key_id, T0).await?;
            Ok((first, second))
        })
    })
    .await;

    assert_eq!(found.key, key);
    assert_eq!(found.organization.id, org);
    // The second touch is skipped: the stored time is newer than its `unless_after`.
    assert_eq!(touched.key.last_used_at, Some(T0.plus_millis(5)));
    assert!(revoked);
    assert!(!revoked_again);
    let mut db = read(&*store).await;
    assert_eq!(db.key_by_secret_hash(&key_hash(&key)).await.unwrap(), None);
    assert_eq!(db.api_key(&org, &key.id).await.unwrap(), None);
    assert!(db.key_by_secret_hash("unknown").await.unwrap().is_none());
}

pub async fn a_keys_standing_follows_revocation_and_the_test_clock(store: Arc<dyn Store>) {
    let org = organization(&*store, "standing").await;
    let other = organization(&*store, "other standing").await;
    let key = api_key(&org, 8, T0);
    insert_api_key(&*store, &key).await;

    let fresh = read(&*store)
        .await
        .key_standing(&org, &key.id)
        .await
        .unwrap();
    let (job_org, key_id) = (org.clone(), key.id.clone());
    let after_clock = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.set_test_clock(&job_org, T0.plus_millis(42)).await?;
            tx.key_standing(&job_org, &key_id).await
        })
    })
    .await;
    let as_other = read(&*store)
        .await
        .key_standing(&other, &key.id)
        .await
        .unwrap();
    let (job_org, key_id) = (org.clone(), key.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.revoke_api_key(&job_org, &key_id, T0).await })
    })
    .await;
    let revoked = read(&*store)
        .await
        .key_standing(&org, &key.id)
        .await
        .unwrap();

    assert_eq!(fresh, Some(KeyStanding { test_clock: None }));
    assert_eq!(
        after_clock,
        Some(KeyStanding {
            test_clock: Some(T0.plus_millis(42))
        })
    );
    assert_eq!(as_other, None, "a key stands only in its own organization");
    assert_eq!(revoked, None);
}

pub async fn a_job_for_a_key_reads_its_standing_inside_its_transaction(store: Arc<dyn Store>) {
    let org = organization(&*store, "job standing").await;
    let key = api_key(&org, 9, T0);
    let other_key = api_key(&org, 10, T0);
    insert_api_key(&*store, &key).await;
    insert_api_key(&*store, &other_key).await;

    let run_for = |for_key: ApiKeyId, ask: ApiKeyId| {
        let (store, org) = (Arc::clone(&store), org.clone());
        async move {
            let job_org = org.clone();
            crate::write_for::<_, StoreError, _>(&*store, &org, &for_key, move |tx| {
                Box::pin(async move {
                    let first = tx.key_standing(&job_org, &ask).await?;
                    // Asked twice in one job: the second answer is read again, not remembered.
                    tx.set_test_clock(&job_org, T0.plus_millis(7)).await?;
                    let second = tx.key_standing(&job_org, &ask).await?;
                    Ok((first, second))
                })
            })
            .await
            .unwrap()
        }
    };
    let own = run_for(key.id.clone(), key.id.clone()).await;
    // A job that asks about another key than the one it runs for gets that key's standing.
    let (job_org, revoked_id) = (org.clone(), other_key.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.revoke_api_key(&job_org, &revoked_id, T0).await })
    })
    .await;
    let asked_other = run_for(key.id.clone(), other_key.id.clone()).await;
    let revoked = run_for(other_key.id.clone(), other_key.id.clone()).await;

    let clock = Some(KeyStanding {
        test_clock: Some(T0.plus_millis(7)),
    });
    assert_eq!(own, (Some(KeyStanding { test_clock: None }), clock));
    assert_eq!(asked_other, (None, None));
    assert_eq!(revoked, (None, None));
}

pub async fn api_keys_page_newest_first_with_ties_broken_by_id(store: Arc<dyn Store>) {
    let org = organization(&*store, "key pages").await;
    let other = organization(&*store, "other key pages").await;
    for n in PAGED {
        insert_api_key(&*store, &api_key(&org, n, paged_at(n))).await;
    }
    // A revoked key and another organization's key are never listed.
    let revoked = api_key(&org, 9, paged_at(9));
    insert_api_key(&*store, &revoked).await;
    insert_api_key(&*store, &api_key(&other, 8, paged_at(8))).await;
    let (job_org, revoked_id) = (org.clone(), revoked.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move { tx.revoke_api_key(&job_org, &revoked_id, T0).await })
    })
    .await;

    let mut db = read(&*store).await;
    let pages = every_page(
        2,
        |key: &tally_domain::api_key::ApiKey| PagePosition {
            created_at: key.created_at,
            id: key.id.as_str().to_owned(),
        },
        async |page| db.api_keys(&org, &page).await.unwrap(),
    )
    .await;

    assert_eq!(
        page_numbers(&pages, |key| n_of(key.id.as_str())),
        expected_pages()
    );
    assert_eq!(pages[0].items[0], api_key(&org, 4, paged_at(4)));
}

pub async fn a_rolled_back_job_leaves_no_organization_or_key_change(store: Arc<dyn Store>) {
    let org = organization(&*store, "kept").await;
    let kept_key = api_key(&org, 1, T0);
    insert_api_key(&*store, &kept_key).await;
    let ghost = new_organization("ghost", Mode::Sandbox, T0);
    let ghost_key = api_key(&ghost.id, 2, T0);

    let (job_org, job_ghost, job_ghost_key, job_kept_id) = (
        org.clone(),
        ghost.clone(),
        ghost_key.clone(),
        kept_key.id.clone(),
    );
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_organization(&job_ghost).await?;
            tx.insert_api_key(&job_ghost_key, &key_hash(&job_ghost_key))
                .await?;
            tx.touch_api_key(&job_org, &job_kept_id, T0.plus_millis(5), T0)
                .await?;
            assert!(tx.revoke_api_key(&job_org, &job_kept_id, T0).await?);
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(db.organization_count().await.unwrap(), 1);
    assert_eq!(db.organization(&ghost.id, Lock::None).await.unwrap(), None);
    assert_eq!(
        db.key_by_secret_hash(&key_hash(&ghost_key)).await.unwrap(),
        None
    );
    // Neither revoked nor touched.
    assert_eq!(
        db.api_key(&org, &kept_key.id).await.unwrap(),
        Some(kept_key)
    );
}

pub async fn another_organizations_keys_are_never_read_touched_or_revoked(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_key = api_key(&theirs, 1, T0);
    insert_api_key(&*store, &their_key).await;

    let mut db = read(&*store).await;
    let by_id = db.api_key(&mine, &their_key.id).await.unwrap();
    let listed = db.api_keys(&mine, &first_page(10)).await.unwrap();
    let (job_mine, their_id) = (mine.clone(), their_key.id.clone());
    let revoked = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.touch_api_key(&job_mine, &their_id, T0.plus_millis(5), T0)
                .await?;
            tx.revoke_api_key(&job_mine, &their_id, T0).await
        })
    })
    .await;

    assert_eq!(by_id, None);
    assert!(listed.items.is_empty());
    assert!(!revoked);
    // Still live, never touched.
    let mut db = read(&*store).await;
    assert_eq!(
        db.api_key(&theirs, &their_key.id).await.unwrap(),
        Some(their_key.clone())
    );
    let found = db
        .key_by_secret_hash(&key_hash(&their_key))
        .await
        .unwrap()
        .expect("their key still opens their organization");
    assert_eq!(found.organization.id, theirs);
}
