//! Customers.

use super::fixtures::{
    PAGED, T0, commit, customer, every_page, expected_pages, first_page, insert_customer, n_of,
    organization, page_numbers, paged_at, read, roll_back,
};
use crate::{Lock, Store, StoreError, constraints, write};
use std::sync::Arc;
use tally_domain::Customer;
use tally_domain::page::PagePosition;

fn position(customer: &Customer) -> PagePosition {
    PagePosition {
        created_at: customer.created_at,
        id: customer.id.as_str().to_owned(),
    }
}

pub async fn a_customer_reads_back_as_written_and_updates_in_place(store: Arc<dyn Store>) {
    let org = organization(&*store, "customers").await;
    let written = Customer {
        tax_document: Some("123.456.789-00".to_owned()),
        address: Some(serde_json::json!({ "city": "Lisbon", "country": "PT" })),
        ..customer(&org, 1, Some("ext-1"), T0)
    };
    insert_customer(&*store, &written).await;
    let updated = Customer {
        external_id: Some("ext-renamed".to_owned()),
        email: "renamed@example.com".to_owned(),
        metadata: None,
        updated_at: T0.plus_millis(1_000),
        ..written.clone()
    };

    let read_back = read(&*store)
        .await
        .customer(&org, &written.id, Lock::None)
        .await
        .unwrap();
    let job_updated = updated.clone();
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_customer(&job_updated).await?;
            tx.customer_by_external_id(&job_updated.org_id, "ext-renamed", Lock::ForUpdate)
                .await
        })
    })
    .await;

    assert_eq!(read_back, Some(written));
    assert_eq!(locked, Some(updated.clone()));
    let mut db = read(&*store).await;
    assert_eq!(
        db.customer_by_external_id(&org, "ext-1", Lock::None)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        db.customer(&org, &updated.id, Lock::None).await.unwrap(),
        Some(updated)
    );
}

pub async fn customers_page_newest_first_and_filter_by_external_id(store: Arc<dyn Store>) {
    let org = organization(&*store, "paging").await;
    let mut inserted = Vec::new();
    for n in PAGED {
        let c = customer(&org, n, Some(&format!("ext-{n}")), paged_at(n));
        insert_customer(&*store, &c).await;
        inserted.push(c);
    }

    let mut db = read(&*store).await;
    let pages = every_page(2, position, async |page| {
        db.customers(&org, None, &page).await.unwrap()
    })
    .await;
    let filtered = db
        .customers(&org, Some("ext-3"), &first_page(10))
        .await
        .unwrap();

    assert_eq!(
        page_numbers(&pages, |c| n_of(c.id.as_str())),
        expected_pages()
    );
    assert_eq!(
        pages[0].items[0],
        customer(&org, 4, Some("ext-4"), paged_at(4))
    );
    assert_eq!(filtered.items, vec![inserted[0].clone()]);
    assert!(!filtered.has_more);
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

pub async fn a_rolled_back_job_leaves_no_customer_change(store: Arc<dyn Store>) {
    let org = organization(&*store, "rolled back customers").await;
    let kept = customer(&org, 1, Some("kept"), T0);
    insert_customer(&*store, &kept).await;
    let ghost = customer(&org, 2, Some("ghost"), T0);

    let (job_kept, job_ghost) = (kept.clone(), ghost.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_customer(&job_ghost).await?;
            tx.update_customer(&Customer {
                email: "changed@example.com".to_owned(),
                ..job_kept
            })
            .await
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.customer(&org, &ghost.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.customer(&org, &kept.id, Lock::None).await.unwrap(),
        Some(kept)
    );
}

pub async fn one_organization_never_reads_another_organizations_rows(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_customer = customer(&theirs, 1, Some("shared-ext"), T0);
    insert_customer(&*store, &their_customer).await;

    let mut db = read(&*store).await;
    let by_id = db
        .customer(&mine, &their_customer.id, Lock::None)
        .await
        .unwrap();
    let by_external = db
        .customer_by_external_id(&mine, "shared-ext", Lock::None)
        .await
        .unwrap();
    let listed = db.customers(&mine, None, &first_page(100)).await.unwrap();
    let filtered = db
        .customers(&mine, Some("shared-ext"), &first_page(100))
        .await
        .unwrap();
    let (job_mine, their_id) = (mine.clone(), their_customer.id.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            let locked = tx.customer(&job_mine, &their_id, Lock::ForUpdate).await?;
            let locked_by_external = tx
                .customer_by_external_id(&job_mine, "shared-ext", Lock::ForUpdate)
                .await?;
            // The same external id is free in another organization.
            tx.insert_customer(&customer(&job_mine, 2, Some("shared-ext"), T0))
                .await?;
            Ok((locked, locked_by_external))
        })
    })
    .await;

    assert_eq!(by_id, None);
    assert_eq!(by_external, None);
    assert!(listed.items.is_empty());
    assert!(filtered.items.is_empty());
    assert_eq!(locked, (None, None));
}

pub async fn another_organizations_customer_is_never_updated(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let theirs = organization(&*store, "theirs").await;
    let their_customer = customer(&theirs, 1, Some("theirs"), T0);
    insert_customer(&*store, &their_customer).await;

    let hijacked = Customer {
        org_id: mine.clone(),
        email: "hijacked@example.com".to_owned(),
        ..their_customer.clone()
    };
    let updated: Result<(), StoreError> = write(&*store, move |tx| {
        Box::pin(async move { tx.update_customer(&hijacked).await })
    })
    .await;

    assert!(matches!(updated, Err(StoreError::NotFound)), "{updated:?}");
    assert_eq!(
        read(&*store)
            .await
            .customer(&theirs, &their_customer.id, Lock::None)
            .await
            .unwrap(),
        Some(their_customer)
    );
}
