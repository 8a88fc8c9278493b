//! Customer credits, the invoices that use them, and what a plan change reads and writes on a
//! subscription.

use super::fixtures::{DAY_MS, T0, commit, invoice, read, subscribed};
use crate::{Lock, Store};
use std::sync::Arc;
use tally_domain::billing::InvoiceStatus;
use tally_domain::catalog::PriceId;
use tally_domain::customer_credits::{CreditSource, CustomerCredit};
use tally_domain::ids::CustomerCreditId;
use tally_domain::money::Cents;
use tally_domain::period::BillingInterval;
use tally_domain::plan_change::{ChangeType, ScheduledChange};

fn grant(s: &super::fixtures::Subscribed, n: u32, amount: i64, currency: &str) -> CustomerCredit {
    CustomerCredit {
        id: CustomerCreditId::from_ulid(super::fixtures::ulid(&s.org, T0, 200 + n)),
        org_id: s.org.clone(),
        customer_id: s.customer.id.clone(),
        currency: currency.to_owned(),
        amount: Cents(amount),
        applied: Cents(0),
        reversed: Cents(0),
        revoked: Cents(0),
        reason: format!("Grant {n}"),
        source: if n == 1 {
            CreditSource::PlanChange
        } else {
            CreditSource::Api
        },
        expires_at: (n == 2).then(|| T0.plus_millis(DAY_MS)),
        created_at: T0.plus_millis(i64::from(n)),
    }
}

pub async fn credits_read_back_oldest_first_and_an_invoice_takes_and_gives_back(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "customer credits").await;
    let other = subscribed(&*store, "other customer credits").await;
    let grants = vec![
        grant(&s, 1, 10_000, "usd"),
        grant(&s, 2, 500, "usd"),
        grant(&s, 3, 700, "eur"),
    ];
    let theirs = grant(&other, 1, 99, "usd");
    let issued = invoice(&s.subscription, 1, InvoiceStatus::Outstanding, T0);
    let (job_grants, job_theirs, job_invoice) = (grants.clone(), theirs.clone(), issued.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            for credit in job_grants.iter().chain([&job_theirs]) {
                tx.insert_customer_credit(credit).await?;
            }
            tx.insert_invoice(&job_invoice).await?;
            tx.use_customer_credit(
                &job_invoice.org_id,
                &job_grants[0].id,
                &job_invoice.id,
                Cents(4_000),
            )
            .await?;
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    let usd = db
        .customer_credits(&s.org, &s.customer.id, Some("usd"), Lock::None)
        .await
        .unwrap();
    let taken = CustomerCredit {
        applied: Cents(4_000),
        ..grants[0].clone()
    };
    assert_eq!(usd, vec![taken.clone(), grants[1].clone()]);
    let eur = db
        .customer_credits(&s.org, &s.customer.id, Some("eur"), Lock::None)
        .await
        .unwrap();
    assert_eq!(eur, vec![grants[2].clone()]);
    // Another organization's grants are never read through this one.
    assert!(
        db.customer_credits(&s.org, &other.customer.id, Some("usd"), Lock::None)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        db.customer_credits(&other.org, &other.customer.id, Some("usd"), Lock::None)
            .await
            .unwrap(),
        vec![theirs]
    );
    // The invoice opened the subscription's period.
    let period_start = s.subscription.current_period.unwrap().start;
    assert_eq!(
        db.period_opening_invoice(&s.org, &s.subscription.id, period_start)
            .await
            .unwrap(),
        Some(issued.id.clone())
    );

    // Voiding the invoice gives the grant back what it took.
    let (org, id) = (s.org.clone(), issued.id.clone());
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.update_invoice_status(&org, &id, InvoiceStatus::Void, T0)
                .await?;
            tx.reverse_customer_credit_uses(&org, &id).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    let usd = db
        .customer_credits(&s.org, &s.customer.id, Some("usd"), Lock::None)
        .await
        .unwrap();
    assert_eq!(
        usd[0],
        CustomerCredit {
            reversed: Cents(4_000),
            ..taken
        }
    );
    assert_eq!(usd[0].remaining(T0), Cents(10_000));
    assert_eq!(
        db.period_opening_invoice(&s.org, &s.subscription.id, period_start)
            .await
            .unwrap(),
        None,
        "a void invoice opened nothing"
    );
}

pub async fn a_scheduled_change_and_a_new_plan_read_back_on_the_subscription(
    store: Arc<dyn Store>,
) {
    let s = subscribed(&*store, "scheduled change").await;
    let mut changed = s.subscription.clone();
    changed.scheduled_change = Some(ScheduledChange {
        change_type: ChangeType::IntervalChange,
        plan_id: s.subscription.plan_id.clone(),
        price_id: Some(PriceId::from_stored("pp_weekly".into())),
        billing_interval: Some(BillingInterval::Weekly),
        requested_at: T0.plus_millis(5),
        effective_at: T0.plus_millis(30 * DAY_MS),
    });
    changed.updated_at = T0.plus_millis(5);
    let job = changed.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.update_subscription(&job, None).await })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.subscription(&s.org, &s.subscription.id, Lock::None)
            .await
            .unwrap(),
        Some(changed.clone())
    );
    // An immediate change switches the plan, price and interval in place.
    let other_plan = super::fixtures::plan(&s.org, 2, "other", T0);
    let switched =
        changed.switch_plan_now(other_plan.id.clone(), None, None, T0.plus_millis(DAY_MS));
    let job = switched.clone();
    commit(&*store, move |tx| {
        Box::pin(async move {
            tx.insert_plan(&other_plan).await?;
            tx.update_subscription(&job, None).await
        })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(
        db.subscription(&s.org, &s.subscription.id, Lock::None)
            .await
            .unwrap(),
        Some(switched)
    );
}
