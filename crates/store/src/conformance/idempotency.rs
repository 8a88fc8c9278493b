//! Idempotency records: a key recorded with the response it replays.

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

/// Records `key` of `org` with `answer` in one job; whether it was new.
async fn record(store: &dyn Store, org: &OrgId, key: &'static str, answer: StoredResponse) -> bool {
    let org = org.clone();
    commit(store, move |tx| {
        Box::pin(async move {
            tx.record_idempotency(&org, key, "fp", &answer, T0, T0.plus_millis(1_000))
                .await
        })
    })
    .await
}

async fn record_of(store: &dyn Store, org: &OrgId, key: &str) -> Option<IdempotencyRecord> {
    read(store)
        .await
        .idempotency_record(org, key)
        .await
        .unwrap()
}

pub async fn an_idempotency_record_reads_back_as_written(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem").await;
    let answer = StoredResponse {
        status: 201,
        body: r#"{"ok":true}"#.to_owned(),
    };

    let recorded = record(&*store, &org, "k1", answer.clone()).await;
    let done = record_of(&*store, &org, "k1").await.unwrap();

    assert!(recorded);
    assert_eq!(done.fingerprint, "fp");
    assert_eq!(done.response, Some(answer));
    assert_eq!(done.created_at, T0);
    assert_eq!(done.expires_at, T0.plus_millis(1_000));
}

pub async fn a_second_record_of_a_committed_key_is_refused(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem2").await;
    let first = record(&*store, &org, "k", response(200)).await;

    let second = record(&*store, &org, "k", response(409)).await;

    assert!(first);
    assert!(!second, "the key was already recorded");
    assert_eq!(
        record_of(&*store, &org, "k").await.and_then(|r| r.response),
        Some(response(200)),
        "the first answer stays"
    );
}

pub async fn concurrent_records_of_one_key_let_exactly_one_win(store: Arc<dyn Store>) {
    // Goal: two jobs that record the same key at once; exactly one records it, and the other
    // is told the key is taken (after waiting for the first to commit), never both and never
    // neither.
    let org = organization(&*store, "race").await;
    let attempt = |store: Arc<dyn Store>, org: OrgId, status: u16| async move {
        write(&*store, move |tx| {
            Box::pin(async move {
                let recorded = tx
                    .record_idempotency(&org, "same", "fp", &response(status), T0, T0)
                    .await?;
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<bool, StoreError>(recorded)
            })
        })
        .await
    };

    let (a, b) = tokio::join!(
        tokio::spawn(attempt(store.clone(), org.clone(), 200)),
        tokio::spawn(attempt(store.clone(), org.clone(), 201))
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
            let answer = response(200);
            tx.record_idempotency(&job_org, "old", "fp", &answer, T0, T0.plus_millis(10))
                .await?;
            tx.record_idempotency(&job_other, "old", "fp", &answer, T0, T0.plus_millis(500))
                .await?;
            tx.record_idempotency(&job_org, "new", "fp", &answer, T0, T0.plus_millis(1_000))
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
    record(&*store, &org, "done", response(201)).await;
    let before = record_of(&*store, &org, "done").await;

    let job_org = org.clone();
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.record_idempotency(&job_org, "new", "fp", &response(409), T0, T0)
                .await?;
            tx.delete_idempotency(&job_org, "done").await?;
            // Only "new" is left, and it has expired by then.
            assert_eq!(tx.purge_idempotency(T0.plus_millis(5_000)).await?, 1);
            Ok(())
        })
    })
    .await;

    assert_eq!(record_of(&*store, &org, "new").await, None);
    assert_eq!(record_of(&*store, &org, "done").await, before);
    assert!(before.is_some_and(|r| r.response == Some(response(201))));
}

pub async fn another_organizations_idempotency_keys_are_never_read_or_changed(
    store: Arc<dyn Store>,
) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    record(&*store, &theirs, "done", response(200)).await;
    let before = record_of(&*store, &theirs, "done").await;

    let read_through_mine = record_of(&*store, &mine, "done").await;
    let job_mine = mine.clone();
    let recorded_in_mine = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.delete_idempotency(&job_mine, "done").await?;
            // The same key is free in another organization.
            tx.record_idempotency(&job_mine, "done", "mine", &response(500), T0, T0)
                .await
        })
    })
    .await;

    assert_eq!(read_through_mine, None);
    assert!(recorded_in_mine);
    assert_eq!(record_of(&*store, &theirs, "done").await, before);
    assert_eq!(
        record_of(&*store, &mine, "done")
            .await
            .map(|r| r.fingerprint),
        Some("mine".to_owned())
    );
}
