//! Idempotency records: the claim of a key and the response it replays.

use super::fixtures::{T0, commit, organization, read, roll_back};
use crate::{IdempotencyRecord, Store, StoreError, StoredResponse, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::OrgId;

fn response(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        body: format!(r#"{{"status":{status}}}"#),
    }
}

/// Claims `key` of `org` and, with a response, completes it, in one job.
async fn record(store: &dyn Store, org: &OrgId, key: &'static str, done: Option<StoredResponse>) {
    let org = org.clone();
    commit(store, move |tx| {
        Box::pin(async move {
            tx.claim_idempotency(&org, key, "fp", T0, T0.plus_millis(1_000))
                .await?;
            match &done {
                Some(response) => tx.complete_idempotency(&org, key, response).await,
                None => Ok(()),
            }
        })
    })
    .await;
}

async fn record_of(store: &dyn Store, org: &OrgId, key: &str) -> Option<IdempotencyRecord> {
    read(store)
        .await
        .idempotency_record(org, key)
        .await
        .unwrap()
}

pub async fn idempotency_claims_complete_and_read_back(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem").await;
    let response = StoredResponse {
        status: 201,
        body: r#"{"ok":true}"#.to_owned(),
    };

    let (job_org, stored) = (org.clone(), response.clone());
    let pending = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.claim_idempotency(&job_org, "k1", "fp", T0, T0.plus_millis(1_000))
                .await?;
            let pending = tx.idempotency_record(&job_org, "k1").await?;
            tx.complete_idempotency(&job_org, "k1", &stored).await?;
            Ok(pending)
        })
    })
    .await
    .unwrap();
    let done = record_of(&*store, &org, "k1").await.unwrap();

    assert_eq!(pending.response, None);
    assert_eq!(done.fingerprint, "fp");
    assert_eq!(done.response, Some(response));
    assert_eq!(done.created_at, T0);
    assert_eq!(done.expires_at, T0.plus_millis(1_000));
}

pub async fn a_second_claim_of_a_committed_key_is_refused(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem2").await;
    let job_org = org.clone();
    let first = commit(&*store, move |tx| {
        Box::pin(async move { tx.claim_idempotency(&job_org, "k", "fp", T0, T0).await })
    })
    .await;

    let second = commit(&*store, move |tx| {
        Box::pin(async move { tx.claim_idempotency(&org, "k", "other", T0, T0).await })
    })
    .await;

    assert!(first);
    assert!(!second, "the key was already recorded");
}

pub async fn concurrent_claims_of_one_key_let_exactly_one_win(store: Arc<dyn Store>) {
    // Goal: two jobs that claim the same key at once; exactly one gets it, and the other is
    // told the key is taken (after waiting for the first to commit), never both and never
    // neither.
    let org = organization(&*store, "race").await;
    let attempt = |store: Arc<dyn Store>, org: OrgId| async move {
        write(&*store, move |tx| {
            Box::pin(async move {
                let claimed = tx.claim_idempotency(&org, "same", "fp", T0, T0).await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<bool, StoreError>(claimed)
            })
        })
        .await
    };

    let (a, b) = tokio::join!(
        tokio::spawn(attempt(store.clone(), org.clone())),
        tokio::spawn(attempt(store.clone(), org.clone()))
    );
    let mut outcomes = [a.unwrap().unwrap(), b.unwrap().unwrap()];

    outcomes.sort_unstable();
    assert_eq!(outcomes, [false, true]);
}

pub async fn expired_idempotency_records_are_purged(store: Arc<dyn Store>) {
    let org = organization(&*store, "purge").await;
    let other = organization(&*store, "purge other").await;
    let (job_org, job_other) = (org.clone(), other.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.claim_idempotency(&job_org, "old", "fp", T0, T0.plus_millis(10))
                .await?;
            tx.claim_idempotency(&job_other, "old", "fp", T0, T0.plus_millis(500))
                .await?;
            tx.claim_idempotency(&job_org, "new", "fp", T0, T0.plus_millis(1_000))
                .await
        })
    })
    .await;

    // Of every organization; a record that expires at the purge's instant is expired.
    let purged = commit(&*store, |tx| {
        Box::pin(async move { tx.purge_idempotency(T0.plus_millis(500)).await })
    })
    .await;

    assert_eq!(purged, 2);
    assert_eq!(record_of(&*store, &org, "old").await, None);
    assert_eq!(record_of(&*store, &other, "old").await, None);
    assert!(record_of(&*store, &org, "new").await.is_some());
}

pub async fn a_rolled_back_job_leaves_no_idempotency_change(store: Arc<dyn Store>) {
    let org = organization(&*store, "idempotency rollback").await;
    record(&*store, &org, "done", Some(response(201))).await;
    record(&*store, &org, "pending", None).await;
    let before = (
        record_of(&*store, &org, "done").await,
        record_of(&*store, &org, "pending").await,
    );

    let job_org = org.clone();
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.claim_idempotency(&job_org, "new", "fp", T0, T0).await?;
            tx.complete_idempotency(&job_org, "pending", &response(409))
                .await?;
            tx.delete_idempotency(&job_org, "done").await?;
            assert_eq!(tx.purge_idempotency(T0.plus_millis(5_000)).await?, 2);
            Ok(())
        })
    })
    .await;

    assert_eq!(record_of(&*store, &org, "new").await, None);
    let after = (
        record_of(&*store, &org, "done").await,
        record_of(&*store, &org, "pending").await,
    );
    assert_eq!(after, before);
    assert!(before.0.is_some_and(|r| r.response == Some(response(201))));
    assert!(before.1.is_some_and(|r| r.response.is_none()));
}

pub async fn another_organizations_idempotency_keys_are_never_read_or_changed(
    store: Arc<dyn Store>,
) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    record(&*store, &theirs, "pending", None).await;
    record(&*store, &theirs, "done", Some(response(200))).await;
    let before = (
        record_of(&*store, &theirs, "pending").await,
        record_of(&*store, &theirs, "done").await,
    );

    let read_through_mine = record_of(&*store, &mine, "pending").await;
    let job_mine = mine.clone();
    let completed = commit(&*store, move |tx| {
        Box::pin(async move {
            let completed = tx
                .complete_idempotency(&job_mine, "pending", &response(500))
                .await;
            tx.delete_idempotency(&job_mine, "done").await?;
            // The same key is free in another organization.
            tx.claim_idempotency(&job_mine, "pending", "mine", T0, T0)
                .await?;
            Ok(completed)
        })
    })
    .await;

    assert_eq!(read_through_mine, None);
    assert!(
        matches!(completed, Err(StoreError::NotFound)),
        "{completed:?}"
    );
    let after = (
        record_of(&*store, &theirs, "pending").await,
        record_of(&*store, &theirs, "done").await,
    );
    assert_eq!(after, before);
    assert_eq!(
        record_of(&*store, &mine, "pending")
            .await
            .map(|r| r.fingerprint),
        Some("mine".to_owned())
    );
}
