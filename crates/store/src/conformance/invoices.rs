//! Invoices with their lines, the invoice number sequence, and seat true-ups.

use super::fixtures::{
    DAY_MS, PAGED, Subscribed, T0, commit, customer, every_page, expected_pages, first_page,
    insert_customer, insert_subscription, invoice, n_of, organization, page_numbers, paged_at,
    read, roll_back, seat_event, seat_true_up, subscribed,
};
use crate::{InvoiceFilter, Lock, Store, StoreError};
use std::sync::Arc;
use tally_domain::OrgId;
use tally_domain::billing::{Invoice, InvoiceStatus, SeatTrueUp};
use tally_domain::page::PagePosition;
use tally_domain::seats::SeatEvent;
use tally_domain::subscription::Subscription;

fn position(invoice: &Invoice) -> PagePosition {
    PagePosition {
        created_at: invoice.created_at,
        id: invoice.id.clone(),
    }
}

/// Takes the organization's next invoice number in a job of its own.
async fn next_number(store: &dyn Store, org: &OrgId) -> i64 {
    let org = org.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.next_invoice_number(&org).await })
    })
    .await
}

async fn insert_invoices(store: &dyn Store, invoices: Vec<Invoice>) {
    commit(store, move |tx| {
        Box::pin(async move {
            for invoice in &invoices {
                tx.insert_invoice(invoice).await?;
            }
            Ok(())
        })
    })
    .await;
}

/// A seat event adding a seat at `T0 + days`, and the true-up it accrues; both inserted.
async fn accrue(
    store: &dyn Store,
    subscription: &Subscription,
    n: u32,
    days: i64,
) -> (SeatEvent, SeatTrueUp) {
    let at = T0.plus_millis(days * DAY_MS);
    let event = seat_event(subscription, n, "editor", 6, at);
    let true_up = seat_true_up(subscription, &event);
    let (job_event, job_true_up) = (event.clone(), true_up.clone());
    commit(store, move |tx| {
        Box::pin(async move {
            tx.append_seat_event(&job_event).await?;
            tx.insert_seat_true_up(&job_event.org_id, &job_true_up)
                .await
        })
    })
    .await;
    (event, true_up)
}

/// A second customer of the same organization, subscribed to the same plan.
async fn second_subscriber(store: &dyn Store, s: &Subscribed) -> Subscription {
    let other = customer(&s.org, 2, Some("second"), T0);
    insert_customer(store, &other).await;
    let subscription = s.seat_plan.subscription(&other, 2, T0);
    insert_subscription(store, &subscription, vec![s.seat_plan.snapshot()]).await;
    subscription
}

pub async fn invoice_numbers_count_up_per_organization(store: Arc<dyn Store>) {
    let org = organization(&*store, "numbers").await;
    let other = organization(&*store, "other numbers").await;

    let first = next_number(&*store, &org).await;
    let second = next_number(&*store, &org).await;
    let job_org = org.clone();
    let within_one_job = commit(&*store, move |tx| {
        Box::pin(async move {
            let a = tx.next_invoice_number(&job_org).await?;
            let b = tx.next_invoice_number(&job_org).await?;
            Ok((a, b))
        })
    })
    .await;
    let others_first = next_number(&*store, &other).await;

    assert_eq!((first, second), (1, 2));
    assert_eq!(within_one_job, (3, 4));
    assert_eq!(others_first, 1);
}

pub async fn concurrent_jobs_never_take_the_same_invoice_number(store: Arc<dyn Store>) {
    // Goal: renewals of one organization that run at once (PostgreSQL runs their jobs side by
    // side) each get their own number, with no gap.
    const JOBS: i64 = 10;
    let org = organization(&*store, "number race").await;

    let jobs: Vec<_> = (0..JOBS)
        .map(|_| {
            let (store, org) = (store.clone(), org.clone());
            tokio::spawn(async move { next_number(&*store, &org).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for job in jobs {
        numbers.push(job.await.expect("the job's task ends"));
    }

    numbers.sort_unstable();
    assert_eq!(numbers, (1..=JOBS).collect::<Vec<_>>());
}

pub async fn an_invoice_reads_back_with_its_lines_and_only_its_status_changes(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "invoice").await;
    let (_, true_up) = accrue(&*store, &s.subscription, 1, 3).await;
    let mut issued = invoice(&s.subscription, 1, InvoiceStatus::Outstanding, T0);
    issued.lines.push(true_up.line());
    // A credit line (a plan change's unused time) is taken off the subtotal.
    let credit = tally_domain::billing::InvoiceLine {
        line_type: tally_domain::billing::LineType::Credit,
        charge_type: tally_domain::billing::ChargeType::Standard,
        feature_name: None,
        description: "Unused time on Pro, 15/30 days".to_owned(),
        quantity: 1,
        unit_amount: tally_domain::money::Cents(-2_450),
        amount: tally_domain::money::Cents(-2_450),
        included_amount: None,
        used_amount: None,
        overage_amount: None,
        seat_event_id: None,
        discount: None,
    };
    issued.lines.push(credit);
    issued.subtotal = tally_domain::billing::subtotal(&issued.lines).expect("small lines");
    issued.credit_applied = tally_domain::billing::credit_applied(&issued.lines);
    assert_eq!(issued.credit_applied.0, 2_450);
    insert_invoices(&*store, vec![issued.clone()]).await;
    let paid_at = T0.plus_millis(DAY_MS);

    let read_back = read(&*store)
        .await
        .invoice(&s.org, &issued.id, Lock::None)
        .await
        .unwrap();
    let (job_org, job_id) = (s.org.clone(), issued.id.clone());
    let locked = commit(&*store, move |tx| {
        Box::pin(async move {
            let locked = tx.invoice(&job_org, &job_id, Lock::ForUpdate).await?;
            tx.update_invoice_status(&job_org, &job_id, InvoiceStatus::Paid, paid_at)
                .await?;
            Ok(locked)
        })
    })
    .await;

    assert_eq!(read_back, Some(issued.clone()));
    assert_eq!(locked, Some(issued.clone()));
    let paid = Invoice {
        status: InvoiceStatus::Paid,
        updated_at: paid_at,
        ..issued
    };
    let mut db = read(&*store).await;
    assert_eq!(
        db.invoice(&s.org, &paid.id, Lock::None).await.unwrap(),
        Some(paid.clone())
    );
    // Lists leave the lines out.
    let listed = db
        .invoices(&s.org, &InvoiceFilter::default(), &first_page(10))
        .await
        .unwrap();
    assert_eq!(
        listed.items,
        vec![Invoice {
            lines: vec![],
            ..paid
        }]
    );
}

pub async fn invoices_page_newest_first_and_filter_by_customer_subscription_and_status(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "invoice pages").await;
    let second = second_subscriber(&*store, &s).await;
    let elsewhere = subscribed(&*store, "elsewhere").await;
    // Even ones bill the first subscription, odd ones the second; 0 and 3 are paid; 4 is a
    // top-up of the first customer, outside any subscription.
    let invoices = PAGED
        .iter()
        .map(|&n| {
            let subscription = if n % 2 == 0 { &s.subscription } else { &second };
            let status = if n == 0 || n == 3 {
                InvoiceStatus::Paid
            } else {
                InvoiceStatus::Outstanding
            };
            let mut made = invoice(subscription, n, status, paged_at(n));
            if n == 4 {
                made.subscription_id = None;
                made.invoice_type = "balance_topup".to_owned();
            }
            made
        })
        .chain([invoice(&elsewhere.subscription, 1, InvoiceStatus::Paid, T0)])
        .collect();
    insert_invoices(&*store, invoices).await;

    let mut db = read(&*store).await;
    let pages = every_page(2, position, async |page| {
        db.invoices(&s.org, &InvoiceFilter::default(), &page)
            .await
            .unwrap()
    })
    .await;
    let mut listed = async |filter: InvoiceFilter| {
        let page = db.invoices(&s.org, &filter, &first_page(10)).await.unwrap();
        page.items.iter().map(|i| n_of(&i.id)).collect::<Vec<_>>()
    };
    let first_customer = Some(s.customer.id.clone());
    let of_first_customer = listed(InvoiceFilter {
        customer: first_customer.clone(),
        ..InvoiceFilter::default()
    })
    .await;
    let of_first_subscription = listed(InvoiceFilter {
        subscription: Some(s.subscription.id.clone()),
        ..InvoiceFilter::default()
    })
    .await;
    let of_second_subscription = listed(InvoiceFilter {
        subscription: Some(second.id.clone()),
        ..InvoiceFilter::default()
    })
    .await;
    let paid = listed(InvoiceFilter {
        status: Some(InvoiceStatus::Paid),
        ..InvoiceFilter::default()
    })
    .await;
    let paid_of_first_customer = listed(InvoiceFilter {
        customer: first_customer,
        status: Some(InvoiceStatus::Paid),
        ..InvoiceFilter::default()
    })
    .await;
    let outstanding_of_second_subscription = listed(InvoiceFilter {
        subscription: Some(second.id.clone()),
        status: Some(InvoiceStatus::Outstanding),
        ..InvoiceFilter::default()
    })
    .await;
    let void = listed(InvoiceFilter {
        status: Some(InvoiceStatus::Void),
        ..InvoiceFilter::default()
    })
    .await;

    assert_eq!(page_numbers(&pages, |i| n_of(&i.id)), expected_pages());
    assert!(
        pages
            .iter()
            .all(|p| p.items.iter().all(|i| i.lines.is_empty()))
    );
    assert_eq!(of_first_customer, vec![4, 2, 0]);
    assert_eq!(of_first_subscription, vec![2, 0]);
    assert_eq!(of_second_subscription, vec![3, 1]);
    assert_eq!(paid, vec![3, 0]);
    assert_eq!(paid_of_first_customer, vec![0]);
    assert_eq!(outstanding_of_second_subscription, vec![1]);
    assert!(void.is_empty());
}

pub async fn pending_true_ups_are_billed_once(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "true-ups").await;
    let second = second_subscriber(&*store, &s).await;
    // Accrued out of order: pending ones list oldest first.
    let (_, later) = accrue(&*store, &s.subscription, 2, 5).await;
    let (_, earlier) = accrue(&*store, &s.subscription, 1, 2).await;
    let (_, of_second) = accrue(&*store, &second, 3, 1).await;
    let billed = invoice(&s.subscription, 1, InvoiceStatus::Paid, T0);
    insert_invoices(&*store, vec![billed.clone()]).await;

    let pending_before = read(&*store)
        .await
        .pending_true_ups(&s.org, &s.subscription.id)
        .await
        .unwrap();
    let (job_org, job_subscription, job_invoice) =
        (s.org.clone(), s.subscription.id.clone(), billed.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.mark_true_ups_invoiced(&job_org, &job_subscription, &job_invoice)
                .await
        })
    })
    .await;
    let (_, accrued_after) = accrue(&*store, &s.subscription, 4, 6).await;

    assert_eq!(pending_before, vec![earlier, later]);
    let mut db = read(&*store).await;
    assert_eq!(
        db.pending_true_ups(&s.org, &s.subscription.id)
            .await
            .unwrap(),
        vec![accrued_after],
        "billed ones are not pending any more; later ones are"
    );
    assert_eq!(
        db.pending_true_ups(&s.org, &second.id).await.unwrap(),
        vec![of_second],
        "another subscription's stay pending"
    );
}

pub async fn a_rolled_back_job_leaves_no_invoice_number_invoice_or_true_up(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "invoice rollback").await;
    let first = next_number(&*store, &s.org).await;
    let kept = invoice(&s.subscription, 1, InvoiceStatus::Outstanding, T0);
    insert_invoices(&*store, vec![kept.clone()]).await;
    let (_, pending) = accrue(&*store, &s.subscription, 1, 1).await;
    let ghost = invoice(&s.subscription, 2, InvoiceStatus::Paid, T0);

    let (job, job_kept, job_ghost) = (s.clone(), kept.clone(), ghost.clone());
    roll_back(&*store, move |tx| {
        Box::pin(async move {
            let org = &job.org;
            assert_eq!(tx.next_invoice_number(org).await?, 2);
            tx.insert_invoice(&job_ghost).await?;
            let event = seat_event(&job.subscription, 2, "editor", 7, T0.plus_millis(DAY_MS));
            tx.append_seat_event(&event).await?;
            tx.insert_seat_true_up(org, &seat_true_up(&job.subscription, &event))
                .await?;
            tx.mark_true_ups_invoiced(org, &job.subscription.id, &job_ghost.id)
                .await?;
            tx.update_invoice_status(org, &job_kept.id, InvoiceStatus::Void, T0)
                .await
        })
    })
    .await;

    let next = next_number(&*store, &s.org).await;
    assert_eq!(
        (first, next),
        (1, 2),
        "the rolled-back number is taken again"
    );
    let mut db = read(&*store).await;
    assert_eq!(
        db.invoice(&s.org, &ghost.id, Lock::None).await.unwrap(),
        None
    );
    assert_eq!(
        db.invoice(&s.org, &kept.id, Lock::None).await.unwrap(),
        Some(kept)
    );
    assert_eq!(
        db.pending_true_ups(&s.org, &s.subscription.id)
            .await
            .unwrap(),
        vec![pending]
    );
}

pub async fn another_organizations_invoices_are_never_read_or_changed(store: Arc<dyn Store>) {
    let mine = organization(&*store, "mine").await;
    let their = subscribed(&*store, "theirs").await;
    let their_number = next_number(&*store, &their.org).await;
    let their_invoice = invoice(&their.subscription, 1, InvoiceStatus::Outstanding, T0);
    insert_invoices(&*store, vec![their_invoice.clone()]).await;
    let (_, their_true_up) = accrue(&*store, &their.subscription, 1, 1).await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.invoice(&mine, &their_invoice.id, Lock::None)
            .await
            .unwrap(),
        None
    );
    for filter in [
        InvoiceFilter::default(),
        InvoiceFilter {
            customer: Some(their.customer.id.clone()),
            subscription: Some(their.subscription.id.clone()),
            status: Some(InvoiceStatus::Outstanding),
        },
    ] {
        let listed = db.invoices(&mine, &filter, &first_page(10)).await.unwrap();
        assert!(listed.items.is_empty(), "{filter:?}");
    }
    assert!(
        db.pending_true_ups(&mine, &their.subscription.id)
            .await
            .unwrap()
            .is_empty()
    );
    let (job_mine, job_their, job_invoice) =
        (mine.clone(), their.clone(), their_invoice.id.clone());
    let (locked, status_change, my_number) = commit(&*store, move |tx| {
        Box::pin(async move {
            let locked = tx.invoice(&job_mine, &job_invoice, Lock::ForUpdate).await?;
            let status_change = tx
                .update_invoice_status(&job_mine, &job_invoice, InvoiceStatus::Void, T0)
                .await;
            tx.mark_true_ups_invoiced(&job_mine, &job_their.subscription.id, &job_invoice)
                .await?;
            let my_number = tx.next_invoice_number(&job_mine).await?;
            Ok((locked, status_change, my_number))
        })
    })
    .await;

    assert_eq!(locked, None);
    assert!(
        matches!(status_change, Err(StoreError::NotFound)),
        "{status_change:?}"
    );
    assert_eq!(
        (their_number, my_number),
        (1, 1),
        "one sequence per organization"
    );
    let mut db = read(&*store).await;
    assert_eq!(
        db.invoice(&their.org, &their_invoice.id, Lock::None)
            .await
            .unwrap(),
        Some(their_invoice)
    );
    assert_eq!(
        db.pending_true_ups(&their.org, &their.subscription.id)
            .await
            .unwrap(),
        vec![their_true_up]
    );
    assert_eq!(next_number(&*store, &their.org).await, 2);
}

pub async fn a_credit_note_reads_back_below_zero_with_its_memo_and_metadata(store: Arc<dyn Store>) {
    let s = subscribed(&*store, "credit note").await;
    let adjustment = tally_domain::adjustments::Adjustment::parse(
        -5_000,
        "Refund for outage",
        Some(
            serde_json::json!({"ticket": "T-1"})
                .as_object()
                .unwrap()
                .clone(),
        ),
    )
    .unwrap();
    let lines = vec![adjustment.line()];
    let note = Invoice {
        subscription_id: None,
        invoice_type: tally_domain::adjustments::ADJUSTMENT.to_owned(),
        subtotal: tally_domain::billing::subtotal(&lines).unwrap(),
        plan_name: None,
        currency: "usd".to_owned(),
        memo: Some(adjustment.description.clone()),
        metadata: adjustment.metadata.clone(),
        lines,
        ..invoice(&s.subscription, 1, InvoiceStatus::Paid, T0)
    };
    assert_eq!(note.total().0, -5_000);
    insert_invoices(&*store, vec![note.clone()]).await;
    let read_back = read(&*store)
        .await
        .invoice(&s.org, &note.id, Lock::None)
        .await
        .unwrap();
    assert_eq!(read_back, Some(note.clone()));
    // A download link names the invoice alone; its organization is found from it.
    let mut db = read(&*store).await;
    assert_eq!(db.invoice_org(&note.id).await.unwrap(), Some(s.org.clone()));
    assert_eq!(db.invoice_org("inv_unknown").await.unwrap(), None);
}

pub async fn sends_read_back_and_only_due_queued_ones_are_handed_out_soonest_first(
    store: Arc<dyn Store>,
) {
    use tally_domain::invoice_sends::{EmailDelivery, InvoiceSend};
    let s = subscribed(&*store, "sends").await;
    let issued = invoice(&s.subscription, 1, InvoiceStatus::Paid, T0);
    insert_invoices(&*store, vec![issued.clone()]).await;
    let send = |n: u32, delivery: EmailDelivery, due_in_days: i64| InvoiceSend {
        id: format!("isn_{n}"),
        org_id: s.org.clone(),
        invoice_id: issued.id.clone(),
        recipient_email: "billing@example.com".to_owned(),
        sent_at: T0.plus_millis(i64::from(n)),
        delivery,
        attempts: 0,
        next_attempt_at: T0.plus_millis(due_in_days * DAY_MS),
        last_error: None,
    };
    let sends = vec![
        send(1, EmailDelivery::Queued, 2),
        send(2, EmailDelivery::Queued, 1),
        send(3, EmailDelivery::NotConfigured, 0),
        send(4, EmailDelivery::Queued, 5),
    ];
    let job_sends = sends.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            for send in &job_sends {
                tx.insert_invoice_send(send).await?;
            }
            Ok(())
        })
    })
    .await;
    let at = T0.plus_millis(3 * DAY_MS);
    let due = commit(&*store, move |tx| {
        Box::pin(async move { tx.due_invoice_sends(at, 10).await })
    })
    .await;
    assert_eq!(due, vec![sends[1].clone(), sends[0].clone()]);
    // A failed attempt moves the next one later; a delivered send is never handed out again.
    let (failed, delivered) = (
        sends[1].after_failure("connection refused", at),
        sends[0].after_delivery(),
    );
    let (job_failed, job_delivered) = (failed.clone(), delivered.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_invoice_send(&job_failed).await?;
            tx.update_invoice_send(&job_delivered).await
        })
    })
    .await;
    let later = failed.next_attempt_at;
    let due = commit(&*store, move |tx| {
        Box::pin(async move { tx.due_invoice_sends(later, 10).await })
    })
    .await;
    assert_eq!(due, vec![failed.clone()]);
    let all = read(&*store)
        .await
        .invoice_sends(&s.org, &issued.id)
        .await
        .unwrap();
    assert_eq!(
        all,
        vec![delivered, failed, sends[2].clone(), sends[3].clone()]
    );
    // Another organization reads none of them.
    let elsewhere = organization(&*store, "sends elsewhere").await;
    assert!(
        read(&*store)
            .await
            .invoice_sends(&elsewhere, &issued.id)
            .await
            .unwrap()
            .is_empty()
    );
}

pub async fn a_server_secret_is_stored_once_and_kept(store: Arc<dyn Store>) {
    let first = commit(&*store, move |tx| {
        Box::pin(async move { tx.server_secret_or_insert("links", "first").await })
    })
    .await;
    let second = commit(&*store, move |tx| {
        Box::pin(async move { tx.server_secret_or_insert("links", "second").await })
    })
    .await;
    let other = commit(&*store, move |tx| {
        Box::pin(async move { tx.server_secret_or_insert("other", "third").await })
    })
    .await;
    assert_eq!((first.as_str(), second.as_str()), ("first", "first"));
    assert_eq!(other, "third");
}
