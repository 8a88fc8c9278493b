//! The storage conformance suite: plain async cases over `Arc<dyn Store>`, run against every
//! engine by `conformance_suite!`. The hard cases (concurrency, rollback, isolation, a caller
//! that goes away) live here so both engines are held to exactly the same behaviour.

use crate::{Lock, Store, StoreError, StoredResponse, constraints, write};
use std::sync::Arc;
use tally_domain::api_key::ApiKey;
use tally_domain::page::{PagePosition, PageRequest};
use tally_domain::{
    ApiKeyId, ApiVersion, Customer, CustomerId, Mode, OrgId, Organization, Timestamp,
};

/// Expands to one `#[tokio::test]` per case, each on a fresh store from `$fresh`, a future of
/// `Option<(Arc<dyn Store>, guard)>` (`None` = engine not configured, already reported).
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:expr) => {
        $crate::conformance_suite!(@cases $fresh;
            idempotency_claims_complete_and_read_back,
            a_second_claim_of_a_committed_key_conflicts,
            concurrent_claims_of_one_key_let_exactly_one_commit,
            a_dropped_transaction_leaves_no_trace,
            one_organization_never_reads_another_organizations_rows,
            customers_page_newest_first_and_filter_by_external_id,
            a_taken_external_id_is_a_named_conflict,
            api_keys_are_found_by_hash_until_revoked,
            expired_idempotency_records_are_purged,
            a_job_runs_to_its_end_when_its_caller_goes_away,
            a_refused_part_of_a_job_is_undone_by_its_savepoint,
        );
    };
    (@cases $fresh:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some((store, _guard)) = $fresh.await else { return };
                $crate::conformance::$case(store).await;
            }
        )*
    };
}

const T0: Timestamp = Timestamp::from_millis(1_780_000_000_000);

async fn organization(store: &dyn Store, name: &str) -> OrgId {
    let org = Organization {
        id: OrgId::new(format!(
            "00000000-0000-4000-8000-{:012x}",
            fastrand_suffix(name)
        )),
        name: name.to_owned(),
        mode: Mode::Sandbox,
        paired_org_id: None,
        api_version: ApiVersion::CURRENT,
        test_clock: None,
        created_at: T0,
    };
    let id = org.id.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_organization(&org).await })
    })
    .await;
    id
}

/// Runs one write job that must commit.
async fn commit<T, F>(store: &dyn Store, work: F) -> T
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn crate::Tx) -> crate::TxFuture<'t, Result<T, StoreError>>
        + Send
        + 'static,
{
    write(store, work).await.expect("the write job commits")
}

/// A stable, distinct number per fixture name (no randomness in the suite).
fn fastrand_suffix(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) & 0xffff_ffff_ffff
}

fn customer(org: &OrgId, n: u64, external_id: Option<&str>, created_at: Timestamp) -> Customer {
    Customer {
        id: CustomerId::from_ulid(ulid::Ulid::from_parts(
            created_at.as_millis() as u64,
            n.into(),
        )),
        org_id: org.clone(),
        external_id: external_id.map(str::to_owned),
        full_name: Some(format!("Customer {n}")),
        email: format!("c{n}@example.com"),
        tax_document: None,
        timezone: Some("UTC".to_owned()),
        metadata: Some(serde_json::Map::from_iter([(
            "plan".to_owned(),
            serde_json::json!("pro"),
        )])),
        address: None,
        created_at,
        updated_at: created_at,
    }
}

async fn insert_customer(store: &dyn Store, customer: &Customer) {
    let customer = customer.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_customer(&customer).await })
    })
    .await;
}

fn first_page(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
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
    let done = store
        .read()
        .await
        .unwrap()
        .idempotency_record(&org, "k1")
        .await
        .unwrap()
        .unwrap();

    assert_eq!(pending.response, None);
    assert_eq!(done.fingerprint, "fp");
    assert_eq!(done.response, Some(response));
    assert_eq!(done.created_at, T0);
    assert_eq!(done.expires_at, T0.plus_millis(1_000));
}

pub async fn a_second_claim_of_a_committed_key_conflicts(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem2").await;
    let job_org = org.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.claim_idempotency(&job_org, "k", "fp", T0, T0).await })
    })
    .await;

    let second = write(&*store, move |tx| {
        Box::pin(async move { tx.claim_idempotency(&org, "k", "fp", T0, T0).await })
    })
    .await;

    assert!(
        matches!(&second, Err(e) if e.is_conflict_on(constraints::IDEMPOTENCY_KEY)),
        "{second:?}"
    );
}

pub async fn concurrent_claims_of_one_key_let_exactly_one_commit(store: Arc<dyn Store>) {
    // Goal: two jobs that record the same key at once; one commits, the other is told
    // `Conflict` (after waiting for the first), never both and never neither.
    let org = organization(&*store, "race").await;
    let attempt = |store: Arc<dyn Store>, org: OrgId| async move {
        write(&*store, move |tx| {
            Box::pin(async move {
                tx.claim_idempotency(&org, "same", "fp", T0, T0).await?;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                Ok(())
            })
        })
        .await
    };

    let (a, b) = tokio::join!(
        tokio::spawn(attempt(store.clone(), org.clone())),
        tokio::spawn(attempt(store.clone(), org.clone()))
    );
    let outcomes: [Result<(), StoreError>; 2] = [a.unwrap(), b.unwrap()];

    let committed = outcomes.iter().filter(|o| o.is_ok()).count();
    let conflicts = outcomes
        .iter()
        .filter(|o| matches!(o, Err(e) if e.is_conflict_on(constraints::IDEMPOTENCY_KEY)))
        .count();
    assert_eq!((committed, conflicts), (1, 1), "{outcomes:?}");
}

pub async fn a_dropped_transaction_leaves_no_trace(store: Arc<dyn Store>) {
    let org = organization(&*store, "rollback").await;
    let ghost = customer(&org, 1, Some("ghost"), T0);

    let (job_org, job_ghost) = (org.clone(), ghost.clone());
    let refused: Result<(), StoreError> = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&job_ghost).await?;
            tx.claim_idempotency(&job_org, "k", "fp", T0, T0).await?;
            Err(StoreError::other("the job changes its mind"))
        })
    })
    .await;

    assert!(refused.is_err());
    let mut db = store.read().await.unwrap();
    assert_eq!(
        db.customer(&org, &ghost.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(db.idempotency_record(&org, "k").await.unwrap(), None);
}

pub async fn one_organization_never_reads_another_organizations_rows(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_customer = customer(&theirs, 1, Some("shared-ext"), T0);
    insert_customer(&*store, &their_customer).await;

    let mut db = store.read().await.unwrap();
    let by_id = db
        .customer(&mine, &their_customer.id, Lock::None)
        .await
        .unwrap();
    let by_external = db
        .customer_by_external_id(&mine, "shared-ext", Lock::None)
        .await
        .unwrap();
    let listed = db.customers(&mine, None, &first_page(100)).await.unwrap();
    let (job_mine, their_id) = (mine.clone(), their_customer.id.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            let locked = tx.customer(&job_mine, &their_id, Lock::ForUpdate).await?;
            // The same external id is free in another organization.
            tx.insert_customer(&customer(&job_mine, 2, Some("shared-ext"), T0))
                .await?;
            Ok(locked)
        })
    })
    .await;

    assert_eq!(by_id, None);
    assert_eq!(by_external, None);
    assert!(listed.items.is_empty());
    assert_eq!(locked, None);
}

pub async fn customers_page_newest_first_and_filter_by_external_id(store: Arc<dyn Store>) {
    let org = organization(&*store, "paging").await;
    let mut inserted = Vec::new();
    for n in 0..5_u64 {
        // Two share a timestamp, so the id tie-break is exercised.
        let at = T0.plus_millis(i64::try_from(n.min(3)).unwrap() * 1_000);
        let c = customer(&org, n, Some(&format!("ext-{n}")), at);
        insert_customer(&*store, &c).await;
        inserted.push(c);
    }
    let mut expected: Vec<_> = inserted.clone();
    expected.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));

    let mut db = store.read().await.unwrap();
    let first = db.customers(&org, None, &first_page(2)).await.unwrap();
    let last_of_first = first.items.last().unwrap();
    let second = db
        .customers(
            &org,
            None,
            &PageRequest {
                limit: 10,
                after: Some(PagePosition {
                    created_at: last_of_first.created_at,
                    id: last_of_first.id.as_str().to_owned(),
                }),
            },
        )
        .await
        .unwrap();
    let filtered = db
        .customers(&org, Some("ext-3"), &first_page(10))
        .await
        .unwrap();

    assert!(first.has_more);
    assert!(!second.has_more);
    let seen: Vec<_> = first.items.iter().chain(&second.items).cloned().collect();
    assert_eq!(seen, expected);
    assert_eq!(filtered.items, vec![inserted[3].clone()]);
}

pub async fn a_taken_external_id_is_a_named_conflict(store: Arc<dyn Store>) {
    let org = organization(&*store, "dup").await;
    insert_customer(&*store, &customer(&org, 1, Some("same"), T0)).await;

    let second = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&customer(&org, 2, Some("same"), T0))
                .await
        })
    })
    .await;

    assert!(
        matches!(&second, Err(e) if e.is_conflict_on(constraints::CUSTOMER_EXTERNAL_ID)),
        "{second:?}"
    );
}

pub async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    let org = organization(&*store, "keys").await;
    let key = ApiKey {
        id: ApiKeyId::from_ulid(ulid::Ulid::from_parts(1, 7)),
        org_id: org.clone(),
        name: "ci".to_owned(),
        prefix: "ck_sandbox_abcd".to_owned(),
        expires_at: None,
        last_used_at: None,
        created_at: T0,
    };
    let job_key = key.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.insert_api_key(&job_key, "hash-1").await })
    })
    .await;

    let found = store
        .read()
        .await
        .unwrap()
        .key_by_secret_hash("hash-1")
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
    let touched = store
        .read()
        .await
        .unwrap()
        .key_by_secret_hash("hash-1")
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
    let mut db = store.read().await.unwrap();
    assert_eq!(db.key_by_secret_hash("hash-1").await.unwrap(), None);
    assert!(db.key_by_secret_hash("unknown").await.unwrap().is_none());
}

pub async fn expired_idempotency_records_are_purged(store: Arc<dyn Store>) {
    let org = organization(&*store, "purge").await;
    let job_org = org.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.claim_idempotency(&job_org, "old", "fp", T0, T0.plus_millis(10))
                .await?;
            tx.claim_idempotency(&job_org, "new", "fp", T0, T0.plus_millis(1_000))
                .await
        })
    })
    .await;

    let purged = commit(&*store, |tx| {
        Box::pin(async move { tx.purge_idempotency(T0.plus_millis(500)).await })
    })
    .await;

    let mut db = store.read().await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(db.idempotency_record(&org, "old").await.unwrap(), None);
    assert!(db.idempotency_record(&org, "new").await.unwrap().is_some());
}

pub async fn a_job_runs_to_its_end_when_its_caller_goes_away(store: Arc<dyn Store>) {
    // Goal: an HTTP client that disconnects drops the future waiting for its write; the job
    // must still run to its end and commit, never stop halfway or leave a transaction open.
    // Method: start a slow job, drop its future mid-way, then check its writes and that the
    // store still takes new writes.
    let org = organization(&*store, "abandoned").await;
    let (job_org, first) = (org.clone(), customer(&org, 1, Some("first"), T0));
    let second = customer(&org, 2, Some("second"), T0);
    let job_second = second.clone();
    let abandoned = write(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&first).await?;
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            tx.insert_customer(&job_second).await?;
            tx.claim_idempotency(&job_org, "abandoned", "fp", T0, T0)
                .await
        })
    });

    let timed_out = tokio::time::timeout(std::time::Duration::from_millis(50), abandoned).await;
    let later = customer(&org, 3, Some("later"), T0);
    insert_customer(&*store, &later).await;

    assert!(timed_out.is_err(), "the job was still running when dropped");
    // PostgreSQL runs jobs side by side, so the abandoned one may still be sleeping: wait for
    // its commit, with a deadline.
    let mut db = store.read().await.unwrap();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while db
        .idempotency_record(&org, "abandoned")
        .await
        .unwrap()
        .is_none()
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let listed = db.customers(&org, None, &first_page(10)).await.unwrap();
    assert_eq!(listed.items.len(), 3, "{:?}", listed.items);
    assert!(
        db.idempotency_record(&org, "abandoned")
            .await
            .unwrap()
            .is_some()
    );
}

pub async fn a_refused_part_of_a_job_is_undone_by_its_savepoint(store: Arc<dyn Store>) {
    // Goal: the write path keeps a refusal under its idempotency key while undoing the refused
    // command's writes, in one transaction: a savepoint rolls back part of a job.
    let org = organization(&*store, "savepoint").await;
    let (job_org, kept, undone) = (
        org.clone(),
        customer(&org, 1, Some("kept"), T0),
        customer(&org, 2, Some("undone"), T0),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&kept).await?;
            tx.savepoint("command").await?;
            tx.insert_customer(&undone).await?;
            // A unique violation inside the savepoint: PostgreSQL aborts the transaction until
            // the savepoint is rolled back, SQLite only the statement.
            let clash = tx
                .insert_customer(&customer(&job_org, 3, Some("kept"), T0))
                .await;
            assert!(clash.is_err());
            tx.rollback_to_savepoint("command").await?;
            tx.release_savepoint("command").await?;
            tx.claim_idempotency(&job_org, "refused", "fp", T0, T0)
                .await
        })
    })
    .await;

    let mut db = store.read().await.unwrap();
    let listed = db.customers(&org, None, &first_page(10)).await.unwrap();
    let names: Vec<_> = listed.items.iter().map(|c| c.external_id.clone()).collect();
    assert_eq!(names, vec![Some("kept".to_owned())]);
    assert!(
        db.idempotency_record(&org, "refused")
            .await
            .unwrap()
            .is_some()
    );
}
