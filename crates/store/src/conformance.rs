//! The storage conformance suite: plain async cases over `&dyn Store`, run against every backend
//! by `conformance_suite!`. The hard cases (concurrency, rollback, isolation) live here so both
//! backends are held to exactly the same behaviour.

use crate::{Store, StoredResponse, constraints};
use std::sync::Arc;
use tally_domain::api_key::ApiKey;
use tally_domain::page::{PagePosition, PageRequest};
use tally_domain::{
    ApiKeyId, ApiVersion, Customer, CustomerId, Mode, OrgId, Organization, Timestamp,
};

/// Expands to one `#[tokio::test]` per case, each on a fresh store from `$fresh`, an async fn
/// returning `Option<(Arc<dyn Store>, guard)>` (`None` = backend not configured, already reported).
#[macro_export]
macro_rules! conformance_suite {
    ($fresh:path) => {
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
        );
    };
    (@cases $fresh:path; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                let Some((store, _guard)) = $fresh().await else { return };
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
    let mut tx = store.begin().await.unwrap();
    tx.insert_organization(&org).await.unwrap();
    tx.commit().await.unwrap();
    org.id
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
    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(customer).await.unwrap();
    tx.commit().await.unwrap();
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

    let mut tx = store.begin().await.unwrap();
    tx.claim_idempotency(&org, "k1", "fp", T0, T0.plus_millis(1_000))
        .await
        .unwrap();
    let pending = tx.idempotency_record(&org, "k1").await.unwrap().unwrap();
    tx.complete_idempotency(&org, "k1", &response)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut tx = store.begin().await.unwrap();
    let done = tx.idempotency_record(&org, "k1").await.unwrap().unwrap();

    assert_eq!(pending.response, None);
    assert_eq!(done.fingerprint, "fp");
    assert_eq!(done.response, Some(response));
    assert_eq!(done.created_at, T0);
    assert_eq!(done.expires_at, T0.plus_millis(1_000));
}

pub async fn a_second_claim_of_a_committed_key_conflicts(store: Arc<dyn Store>) {
    let org = organization(&*store, "idem2").await;
    let mut tx = store.begin().await.unwrap();
    tx.claim_idempotency(&org, "k", "fp", T0, T0).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = store.begin().await.unwrap();
    let second = tx.claim_idempotency(&org, "k", "fp", T0, T0).await;

    assert!(
        matches!(&second, Err(e) if e.is_conflict_on(constraints::IDEMPOTENCY_KEY)),
        "{second:?}"
    );
}

pub async fn concurrent_claims_of_one_key_let_exactly_one_commit(store: Arc<dyn Store>) {
    // Goal: two transactions that record the same key at once; one commits, the other is told
    // `Conflict` (after waiting for the first), never both and never neither.
    let org = organization(&*store, "race").await;
    let attempt = |store: Arc<dyn Store>, org: OrgId| async move {
        let mut tx = store.begin().await?;
        tx.claim_idempotency(&org, "same", "fp", T0, T0).await?;
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        tx.commit().await
    };

    let (a, b) = tokio::join!(
        tokio::spawn(attempt(store.clone(), org.clone())),
        tokio::spawn(attempt(store.clone(), org.clone()))
    );
    let outcomes = [a.unwrap(), b.unwrap()];

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

    let mut tx = store.begin().await.unwrap();
    tx.insert_customer(&ghost).await.unwrap();
    tx.claim_idempotency(&org, "k", "fp", T0, T0).await.unwrap();
    drop(tx);

    assert_eq!(store.customer(&org, &ghost.id).await.unwrap(), None);
    let mut tx = store.begin().await.unwrap();
    assert_eq!(tx.idempotency_record(&org, "k").await.unwrap(), None);
}

pub async fn one_organization_never_reads_another_organizations_rows(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_customer = customer(&theirs, 1, Some("shared-ext"), T0);
    insert_customer(&*store, &their_customer).await;

    let by_id = store.customer(&mine, &their_customer.id).await.unwrap();
    let by_external = store
        .customer_by_external_id(&mine, "shared-ext")
        .await
        .unwrap();
    let listed = store
        .customers(&mine, None, &first_page(100))
        .await
        .unwrap();
    let mut tx = store.begin().await.unwrap();
    let locked = tx.lock_customer(&mine, &their_customer.id).await.unwrap();

    assert_eq!(by_id, None);
    assert_eq!(by_external, None);
    assert!(listed.items.is_empty());
    assert_eq!(locked, None);
    // The same external id is free in another organization.
    tx.insert_customer(&customer(&mine, 2, Some("shared-ext"), T0))
        .await
        .unwrap();
    tx.commit().await.unwrap();
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

    let first = store.customers(&org, None, &first_page(2)).await.unwrap();
    let last_of_first = first.items.last().unwrap();
    let second = store
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
    let filtered = store
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

    let mut tx = store.begin().await.unwrap();
    let second = tx
        .insert_customer(&customer(&org, 2, Some("same"), T0))
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
    let mut tx = store.begin().await.unwrap();
    tx.insert_api_key(&key, "hash-1").await.unwrap();
    tx.commit().await.unwrap();

    let found = store.key_by_secret_hash("hash-1").await.unwrap().unwrap();
    store
        .touch_api_key(&key.id, T0.plus_millis(5), T0)
        .await
        .unwrap();
    store
        .touch_api_key(&key.id, T0.plus_millis(9), T0)
        .await
        .unwrap();
    let touched = store.key_by_secret_hash("hash-1").await.unwrap().unwrap();
    let mut tx = store.begin().await.unwrap();
    let revoked = tx.revoke_api_key(&org, &key.id, T0).await.unwrap();
    let revoked_again = tx.revoke_api_key(&org, &key.id, T0).await.unwrap();
    tx.commit().await.unwrap();

    assert_eq!(found.key, key);
    assert_eq!(found.organization.id, org);
    // The second touch is skipped: the stored time is newer than its `unless_after`.
    assert_eq!(touched.key.last_used_at, Some(T0.plus_millis(5)));
    assert!(revoked);
    assert!(!revoked_again);
    assert_eq!(store.key_by_secret_hash("hash-1").await.unwrap(), None);
    assert!(store.key_by_secret_hash("unknown").await.unwrap().is_none());
}

pub async fn expired_idempotency_records_are_purged(store: Arc<dyn Store>) {
    let org = organization(&*store, "purge").await;
    let mut tx = store.begin().await.unwrap();
    tx.claim_idempotency(&org, "old", "fp", T0, T0.plus_millis(10))
        .await
        .unwrap();
    tx.claim_idempotency(&org, "new", "fp", T0, T0.plus_millis(1_000))
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let purged = store.purge_idempotency(T0.plus_millis(500)).await.unwrap();

    let mut tx = store.begin().await.unwrap();
    assert_eq!(purged, 1);
    assert_eq!(tx.idempotency_record(&org, "old").await.unwrap(), None);
    assert!(tx.idempotency_record(&org, "new").await.unwrap().is_some());
}
