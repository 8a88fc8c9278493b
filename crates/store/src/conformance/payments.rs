//! Payments, transactions, refunds and saved cards.

use super::fixtures::{
    T0, commit, customer, first_page, insert_customer, organization, read, ulid,
};
use crate::{Lock, Store};
use std::sync::Arc;
use tally_domain::dunning::Recovery;
use tally_domain::ids::{PaymentId, RefundId, SavedCardId, TransactionId};
use tally_domain::money::Cents;
use tally_domain::payments::{
    CardInfo, Decline, Payment, PaymentKind, PaymentStatus, Refund, SavedCard, Transaction,
    TransactionStatus,
};
use tally_domain::{CustomerId, OrgId, Timestamp};

fn link(org: &OrgId, n: u32, customer: Option<&CustomerId>) -> Payment {
    let at = T0.plus_millis(i64::from(n));
    Payment {
        id: PaymentId::from_ulid(ulid(org, at, 700 + n)),
        org_id: org.clone(),
        customer_id: customer.cloned(),
        kind: PaymentKind::Link,
        status: PaymentStatus::Pending,
        amount: Cents(2_500 * i64::from(n)),
        currency: "usd".to_owned(),
        description: format!("Order {n}"),
        metadata: (n == 1)
            .then(|| serde_json::Map::from_iter([("order".to_owned(), "A-1".into())])),
        success_url: None,
        expires_at: Some(at.plus_millis(86_400_000)),
        invoice_id: None,
        created_at: at,
        updated_at: at,
    }
}

fn attempt(payment: &Payment, n: u32, status: TransactionStatus, email: &str) -> Transaction {
    let at: Timestamp = payment.created_at.plus_millis(i64::from(n));
    Transaction {
        id: TransactionId::from_ulid(ulid(&payment.org_id, at, 800 + n)),
        org_id: payment.org_id.clone(),
        customer_id: payment.customer_id.clone(),
        payment_id: Some(payment.id.clone()),
        invoice_id: None,
        amount: payment.amount,
        currency: "usd".to_owned(),
        status,
        provider: "commet".to_owned(),
        charge_ref: Some(format!("ch_sandbox_{n}")),
        method_ref: Some("pm_sandbox_visa".to_owned()),
        customer_email: email.to_owned(),
        customer_name: None,
        reason: "one_time_payment".to_owned(),
        recovery: None,
        failure: (status == TransactionStatus::Failed).then(|| Decline {
            code: "card_declined".to_owned(),
            message: "Your card was declined.".to_owned(),
        }),
        attempt: Some(format!("attempt-{n}")),
        paid_at: (status == TransactionStatus::Succeeded).then_some(at),
        created_at: at,
        updated_at: at,
    }
}

fn card(org: &OrgId, customer: &CustomerId, n: u32, default: bool) -> SavedCard {
    let at = T0.plus_millis(i64::from(n));
    SavedCard {
        id: SavedCardId::from_ulid(ulid(org, at, 900 + n)),
        org_id: org.clone(),
        customer_id: customer.clone(),
        method_ref: format!("pm_sandbox_{n}"),
        card: CardInfo {
            brand: "visa".to_owned(),
            last4: format!("424{n}"),
            exp_month: 12,
            exp_year: 2034,
        },
        is_default: default,
        created_at: at,
    }
}

pub async fn payments_transactions_refunds_and_cards_read_back_per_organization(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "payments").await;
    let other = organization(&*store, "other payments").await;
    let buyer = customer(&org, 1, Some("buyer"), T0);
    insert_customer(&*store, &buyer).await;
    let first = link(&org, 1, Some(&buyer.id));
    let second = link(&org, 2, None);
    let theirs = link(&other, 1, None);
    let failed = attempt(&first, 1, TransactionStatus::Failed, "Buyer@Example.com");
    let paid = attempt(&first, 2, TransactionStatus::Succeeded, "buyer@example.com");
    let refund = Refund {
        id: RefundId::from_ulid(ulid(&org, T0, 999)),
        org_id: org.clone(),
        transaction_id: paid.id.clone(),
        amount: paid.amount,
        currency: "usd".to_owned(),
        charge_ref: "ch_sandbox_2".to_owned(),
        created_at: T0,
    };
    let cards = [
        card(&org, &buyer.id, 1, true),
        card(&org, &buyer.id, 2, true),
    ];
    let job = (
        [first.clone(), second.clone(), theirs.clone()],
        [failed.clone(), paid.clone()],
        refund.clone(),
        cards.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (payments, attempts, refund, cards) = job;
            for p in &payments {
                tx.insert_payment(p).await?;
            }
            for t in &attempts {
                tx.insert_transaction(t).await?;
            }
            tx.insert_refund(&refund).await?;
            // The second default card takes over from the first.
            for c in &cards {
                tx.insert_saved_card(c).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.payment(&org, &first.id, Lock::None).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(
        db.payment(&org, &theirs.id, Lock::None).await.unwrap(),
        None,
        "another organization's payment is never read"
    );
    let all = db.payments(&org, None, &first_page(10)).await.unwrap();
    assert_eq!(all.items, [second.clone(), first.clone()], "newest first");
    let buyers = db
        .payments(&org, Some(&buyer.id), &first_page(10))
        .await
        .unwrap();
    assert_eq!(buyers.items, std::slice::from_ref(&first));
    assert_eq!(
        db.payment_transactions(&org, &first.id).await.unwrap(),
        [failed.clone(), paid.clone()],
        "oldest first"
    );
    let by_email = db
        .transactions(&org, None, Some("BUYER@example.com"), &first_page(10))
        .await
        .unwrap();
    assert_eq!(
        by_email.items,
        [paid.clone(), failed.clone()],
        "any case, newest first"
    );
    let failures = db
        .transactions(&org, Some(TransactionStatus::Failed), None, &first_page(10))
        .await
        .unwrap();
    assert_eq!(failures.items, std::slice::from_ref(&failed));
    assert!(
        db.transactions(&other, None, None, &first_page(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // Links still open past their day, soonest first; another organization's only on the
    // real-time sweep.
    let later = T0.plus_millis(2 * 86_400_000);
    assert_eq!(
        db.expired_links(Some(&org), later, 10).await.unwrap(),
        [first.clone(), second.clone()]
    );
    assert!(
        db.expired_links(Some(&org), T0, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let everyone = db.expired_links(None, later, 10).await.unwrap();
    assert!(
        everyone.contains(&theirs) && everyone.contains(&first),
        "{everyone:?}"
    );
    assert_eq!(db.refund_of(&org, &paid.id).await.unwrap(), Some(refund));
    assert_eq!(db.refund_of(&other, &paid.id).await.unwrap(), None);
    let wallet = db.saved_cards(&org, &buyer.id).await.unwrap();
    assert_eq!(
        wallet.iter().map(|c| c.is_default).collect::<Vec<_>>(),
        [false, true],
        "one default card per customer"
    );
    assert_eq!(
        db.default_card(&org, &buyer.id).await.unwrap(),
        Some(cards[1].clone())
    );
    drop(db);

    // Updates change what they name, and only in the organization that owns the row.
    let succeeded = Payment {
        status: PaymentStatus::Succeeded,
        invoice_id: Some("inv_1".to_owned()),
        updated_at: T0.plus_millis(50),
        ..first.clone()
    };
    let refunded = Transaction {
        status: TransactionStatus::Refunded,
        updated_at: T0.plus_millis(50),
        ..paid.clone()
    };
    let hijack = Payment {
        org_id: org.clone(),
        ..theirs.clone()
    };
    let job = (succeeded.clone(), refunded.clone(), hijack);
    let refused = commit(&*store, move |tx| {
        Box::pin(async move {
            let (payment, transaction, hijack) = job;
            tx.update_payment(&payment).await?;
            tx.update_transaction(&transaction).await?;
            Ok::<_, crate::StoreError>(tx.update_payment(&hijack).await.is_err())
        })
    })
    .await;
    assert!(refused, "another organization's payment is never updated");
    let mut db = read(&*store).await;
    assert_eq!(
        db.payment(&org, &first.id, Lock::None).await.unwrap(),
        Some(succeeded)
    );
    assert_eq!(
        db.transaction(&org, &paid.id, Lock::None).await.unwrap(),
        Some(refunded)
    );
    assert_eq!(
        db.payment(&other, &theirs.id, Lock::None).await.unwrap(),
        Some(theirs)
    );
}

pub async fn the_merchant_balance_sums_paid_charges_less_refunds_and_payouts(
    store: Arc<dyn Store>,
) {
    use tally_domain::ids::{PayoutBankAccountId, PayoutId};
    use tally_domain::payouts::{Payout, PayoutBankAccount, PayoutStatus};
    let org = organization(&*store, "merchant").await;
    let other = organization(&*store, "other merchant").await;
    let buyer = customer(&org, 1, None, T0);
    insert_customer(&*store, &buyer).await;
    let sale = link(&org, 1, Some(&buyer.id));
    let theirs = link(&other, 1, None);
    // 2500 paid and refunded, 5000 paid, 2500 failed, 2500 paid later than `now`.
    let refunded = Transaction {
        status: TransactionStatus::Refunded,
        ..attempt(&sale, 1, TransactionStatus::Succeeded, "b@example.com")
    };
    let paid = Transaction {
        amount: Cents(5_000),
        ..attempt(&sale, 2, TransactionStatus::Succeeded, "b@example.com")
    };
    let failed = attempt(&sale, 3, TransactionStatus::Failed, "b@example.com");
    let later = Transaction {
        paid_at: Some(T0.plus_millis(86_400_000)),
        ..attempt(&sale, 4, TransactionStatus::Succeeded, "b@example.com")
    };
    let not_mine = attempt(&theirs, 1, TransactionStatus::Succeeded, "x@example.com");
    let refund = Refund {
        id: RefundId::from_ulid(ulid(&org, T0, 990)),
        org_id: org.clone(),
        transaction_id: refunded.id.clone(),
        amount: refunded.amount,
        currency: "usd".to_owned(),
        charge_ref: "ch_sandbox_1".to_owned(),
        created_at: T0,
    };
    let account = PayoutBankAccount {
        id: PayoutBankAccountId::from_ulid(ulid(&org, T0, 991)),
        org_id: org.clone(),
        holder_name: "Jane".to_owned(),
        last4: "6789".to_owned(),
        number_hash: "h".to_owned(),
        fails: false,
        account_type: None,
        is_default: true,
        created_at: T0,
    };
    let payout = |n: u32, status: PayoutStatus| Payout {
        id: PayoutId::from_ulid(ulid(&org, T0, 992 + n)),
        org_id: org.clone(),
        bank_account_id: account.id.clone(),
        amount: Cents(1_000),
        description: None,
        status,
        provider_transfer_id: format!("tr_sandbox_{n}"),
        failure_code: None,
        created_at: T0,
        updated_at: T0,
    };
    let payouts = [
        payout(1, PayoutStatus::Paid),
        payout(2, PayoutStatus::Failed),
    ];
    let job = (
        [sale.clone(), theirs.clone()],
        [refunded, paid, failed, later, not_mine],
        refund,
        account.clone(),
        payouts.clone(),
    );
    commit(&*store, move |tx| {
        Box::pin(async move {
            let (payments, attempts, refund, account, payouts) = job;
            for p in &payments {
                tx.insert_payment(p).await?;
            }
            for t in &attempts {
                tx.insert_transaction(t).await?;
            }
            tx.insert_refund(&refund).await?;
            tx.insert_bank_account(&account).await?;
            for p in &payouts {
                tx.insert_payout(p).await?;
            }
            Ok(())
        })
    })
    .await;
    let mut db = read(&*store).await;
    let now = T0.plus_millis(1_000);
    let balance = db.merchant_balance(&org, "usd", now).await.unwrap();
    assert_eq!(
        (balance.released, balance.refunded, balance.paid_out),
        (Cents(7_500), Cents(2_500), Cents(1_000)),
        "paid by now (refunded ones too), refunds, payouts that did not fail"
    );
    assert_eq!(balance.available(), Cents(4_000));
    assert_eq!(
        db.merchant_balance(&org, "eur", now)
            .await
            .unwrap()
            .available(),
        Cents(0)
    );
    assert_eq!(
        db.merchant_balance(&other, "usd", now)
            .await
            .unwrap()
            .released,
        Cents(2_500)
    );
    assert_eq!(
        db.bank_accounts(&org).await.unwrap(),
        std::slice::from_ref(&account)
    );
    assert!(db.bank_accounts(&other).await.unwrap().is_empty());
    assert_eq!(
        db.payout(&org, &payouts[1].id).await.unwrap(),
        Some(payouts[1].clone())
    );
    assert_eq!(db.payout(&other, &payouts[1].id).await.unwrap(), None);
}

/// An attempt at a subscription invoice (no payment), `n` milliseconds after `T0`.
fn invoice_attempt(
    org: &OrgId,
    customer: &CustomerId,
    invoice: &str,
    n: u32,
    recovery: Option<Recovery>,
) -> Transaction {
    let at = T0.plus_millis(i64::from(n));
    Transaction {
        id: TransactionId::from_ulid(ulid(org, at, 900 + n)),
        org_id: org.clone(),
        customer_id: Some(customer.clone()),
        payment_id: None,
        invoice_id: Some(invoice.to_owned()),
        amount: Cents(12_400),
        currency: "usd".to_owned(),
        status: TransactionStatus::Failed,
        provider: "commet".to_owned(),
        charge_ref: Some(format!("ch_sandbox_{n}")),
        method_ref: Some("pm_sandbox_visa".to_owned()),
        customer_email: "payer@example.com".to_owned(),
        customer_name: None,
        reason: "recurring_billing".to_owned(),
        recovery,
        failure: Some(Decline {
            code: "card_declined".to_owned(),
            message: "Your card was declined.".to_owned(),
        }),
        attempt: None,
        paid_at: None,
        created_at: at,
        updated_at: at,
    }
}

pub async fn attempts_at_an_invoice_and_manual_attempts_read_back_per_organization(
    store: Arc<dyn Store>,
) {
    let org = organization(&*store, "dunning").await;
    let other = organization(&*store, "other dunning").await;
    let payer = customer(&org, 1, Some("payer"), T0);
    let theirs = customer(&other, 1, Some("payer"), T0);
    insert_customer(&*store, &payer).await;
    insert_customer(&*store, &theirs).await;
    let renewal = invoice_attempt(&org, &payer.id, "inv_renewal", 1, None);
    let retry = invoice_attempt(
        &org,
        &payer.id,
        "inv_renewal",
        2,
        Some(Recovery::Scheduled { attempt: 1 }),
    );
    let manual = invoice_attempt(&org, &payer.id, "inv_renewal", 3, Some(Recovery::Manual));
    let elsewhere = invoice_attempt(&other, &theirs.id, "inv_renewal", 4, Some(Recovery::Manual));
    let job = [
        manual.clone(),
        renewal.clone(),
        retry.clone(),
        elsewhere.clone(),
    ];
    commit(&*store, move |tx| {
        Box::pin(async move {
            for t in &job {
                tx.insert_transaction(t).await?;
            }
            Ok(())
        })
    })
    .await;

    let mut db = read(&*store).await;
    assert_eq!(
        db.invoice_transactions(&org, "inv_renewal").await.unwrap(),
        [renewal.clone(), retry.clone(), manual.clone()],
        "oldest first, with what each attempt recovered, of this organization only"
    );
    assert_eq!(
        db.manual_attempts_since(&org, &payer.id, T0).await.unwrap(),
        [manual.created_at],
        "only manual attempts count towards the day's limit"
    );
    assert!(
        db.manual_attempts_since(&org, &payer.id, manual.created_at)
            .await
            .unwrap()
            .is_empty(),
        "an attempt at the window's start is outside it"
    );
    assert_eq!(
        db.manual_attempts_since(&other, &theirs.id, T0)
            .await
            .unwrap(),
        [elsewhere.created_at]
    );
}

pub async fn claims_of_headless_organizations_read_back_and_change(store: Arc<dyn Store>) {
    let org = organization(&*store, "headless").await;
    let other = organization(&*store, "owned").await;
    let pending = tally_domain::claims::OrgClaim::pending(org.clone());
    let job = pending.clone();
    commit(&*store, move |tx| {
        Box::pin(async move { tx.insert_org_claim(&job).await })
    })
    .await;
    let mut db = read(&*store).await;
    assert_eq!(db.org_claim(&org).await.unwrap(), Some(pending.clone()));
    assert_eq!(db.org_claim(&other).await.unwrap(), None, "never headless");
    drop(db);

    let owner = tally_domain::claims::Owner {
        email: "jane@acme.test".to_owned(),
        name: "Jane Doe".to_owned(),
    };
    let claimed = pending.reissued().claimed_by(&owner, T0.plus_millis(5));
    let stranger = tally_domain::claims::OrgClaim::pending(other.clone());
    let job = (claimed.clone(), stranger);
    let refused = commit(&*store, move |tx| {
        Box::pin(async move {
            let (claimed, stranger) = job;
            tx.update_org_claim(&claimed).await?;
            Ok::<_, crate::StoreError>(tx.update_org_claim(&stranger).await.is_err())
        })
    })
    .await;
    assert!(
        refused,
        "an organization without a claim has none to update"
    );
    let mut db = read(&*store).await;
    assert_eq!(db.org_claim(&org).await.unwrap(), Some(claimed));
}
