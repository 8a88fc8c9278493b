//! Idempotency records: a key recorded with the response it replays.

use super::fixtures::{T0, commit, organization, read, roll_back, scope, sender};
use crate::{IdempotencyRecord, Store, StoreError, StoredResponse, write};
use std::sync::Arc;
use std::time::Duration;
use tally_domain::{ApiKeyId, OrgId};

fn response(status: u16) -> StoredResponse {
    StoredResponse {
        status,
        body: format!(r#"{{"status":{status}}}"#),
    }
}

/// Records `key` of `org` (sent with the `sender` API key) with `answer` in one job; whether it
/// was new.
async fn record(store: &dyn Store, org: &OrgId, key: &'static str, answer: StoredResponse) -> bool {
    record_by(store, org, &sender(), key, answer).await
}

async fn record_by(
    store: &dyn Store,
    org: &OrgId,
    api_key: &ApiKeyId,
    key: &'static str,
    answer: StoredResponse,
) -> bool {
    let (org, api_key) = (org.clone(), api_key.clone());
    commit(store, move |tx| {
        Box::pin(async move {
            tx.record_idempotency(
                scope(&org, &api_key),
                key,
                "fp",
                &answer,
                T0,
                T0.plus_millis(1_000),
            )
            .await
        })
    })
    .await
}

async fn record_of(store: &dyn Store, org: &OrgId, key: &str) -> Option<IdempotencyRecord> {
    record_of_key(store, org, &sender(), key).await
}

async fn record_of_key(
    store: &dyn Store,
    org: &OrgId,
    api_key: &ApiKeyId,
    key: &str,
) -> Option<IdempotencyRecord> {
    read(store)
        .await
        .idempotency_record(scope(org, api_key), key)
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
                    .record_idempotency(
                        scope(&org, &sender()),
                        "same",
                        "fp",
                        &response(status),
                        T0,
                        T0,
                    )
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
            let (answer, sender) = (response(200), sender());
            let (org, other) = (scope(&job_org, &sender), scope(&job_other, &sender));
            tx.record_idempotency(org, "old", "fp", &answer, T0, T0.plus_millis(10))
                .await?;
            tx.record_idempotency(other, "old", "fp", &answer, T0, T0.plus_millis(500))
                .await?;
            tx.record_idempotency(org, "new", "fp", &answer, T0, T0.plus_millis(1_000))
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
            let sender = sender();
            let org = scope(&job_org, &sender);
            tx.record_idempotency(org, "new", "fp", &response(409), T0, T0)
                .await?;
            tx.delete_idempotency(org, "done").await?;
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
            let sender = sender();
            let mine = scope(&job_mine, &sender);
            tx.delete_idempotency(mine, "done").await?;
            // The same key is free in another organization.
            tx.record_idempotency(mine, "done", "mine", &response(500), T0, T0)
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

pub async fn another_api_keys_idempotency_keys_are_never_read_or_changed(store: Arc<dyn Store>) {
    // Goal: a key belongs to the API key that sent it, so another key of the same organization
    // never reads its answer (which could be anything that key was shown) and has a key space
    // of its own. Method: one API key records a key; another reads, deletes and records the
    // same key name.
    let org = organization(&*store, "two keys").await;
    let (first, second) = (
        ApiKeyId::from_stored("key_first".to_owned()),
        ApiKeyId::from_stored("key_second".to_owned()),
    );
    record_by(&*store, &org, &first, "shared", response(201)).await;
    let before = record_of_key(&*store, &org, &first, "shared").await;

    let read_by_second = record_of_key(&*store, &org, &second, "shared").await;
    let (job_org, job_second) = (org.clone(), second.clone());
    let recorded_by_second = commit(&*store, move |tx| {
        Box::pin(async move {
            let second = scope(&job_org, &job_second);
            tx.delete_idempotency(second, "shared").await?;
            tx.record_idempotency(second, "shared", "second", &response(200), T0, T0)
                .await
        })
    })
    .await;

    assert_eq!(read_by_second, None);
    assert!(
        recorded_by_second,
        "the same key name is free for another API key"
    );
    assert!(
        before
            .as_ref()
            .is_some_and(|r| r.response == Some(response(201)))
    );
    assert_eq!(record_of_key(&*store, &org, &first, "shared").await, before);
    assert_eq!(
        record_of_key(&*store, &org, &second, "shared")
            .await
            .map(|r| r.fingerprint),
        Some("second".to_owned())
    );
}
