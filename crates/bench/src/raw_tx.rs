//! The floor: the seat write's database transaction run directly through the storage layer,
//! with no HTTP, no routing, no auth and no rendering, at the same concurrency and duration.
//!
//! The shape, per call, as one write job, statement for statement what the HTTP seat write's
//! transaction does: `customer_by_external_id` (locked) → `live_subscription` (locked) →
//! `features` → `subscription_features` → `seat_balances` → `apply_seat_change` (pure) →
//! `save_seat_balance` → `append_seat_event` → `insert_seat_true_up` (the extra seat is paid
//! for, prorated) → `insert_webhook_events` (two events, one statement) → `record_idempotency`
//! → commit (grouped with other jobs on SQLite). Like `App::write`, a `StoreError::Retry`
//! reruns the whole transaction a bounded number of times.

use crate::fixture::{BenchCustomer, FEATURE_CODE};
use crate::http::{SumCheck, expected_total, index};
use crate::load::{self, LoadShape, Measured};
use anyhow::Context;
use serde_json::json;
use std::sync::Arc;
use tally_app::write::{IDEMPOTENCY_RETENTION_MS, TX_ATTEMPTS_MAX};
use tally_app::{Clock, IdSource, RandomIds, SystemClock};
use tally_domain::billing::{SeatTrueUp, true_up};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::page::PageRequest;
use tally_domain::seats::{SeatBalance, SeatChange, SeatEventId, apply_seat_change};
use tally_domain::{ApiKeyId, Mode, OrgId};
use tally_store::{IdempotencyScope, Lock, Store, StoreError, StoredResponse, Tx, write_for};

/// Runs the raw seat transaction under `shape`, customers in turn as the HTTP phase does.
pub async fn seat_writes(
    store: Arc<dyn Store>,
    (org, api_key): (OrgId, ApiKeyId),
    customers: &[BenchCustomer],
    shape: LoadShape,
) -> Measured {
    let run = RandomIds.uuid();
    let customers: Arc<Vec<BenchCustomer>> = Arc::new(customers.to_vec());
    let org = Arc::new(org);
    let api_key = Arc::new(api_key);
    load::run(shape, move |n| {
        let store = store.clone();
        let org = org.clone();
        let api_key = api_key.clone();
        let customers = customers.clone();
        let key = format!("{run}-{n}");
        async move {
            let customer = &customers[index(n, customers.len())];
            let mut attempt = 0;
            loop {
                attempt += 1;
                let job = (
                    org.as_ref().clone(),
                    api_key.as_ref().clone(),
                    customer.external_id.clone(),
                    key.clone(),
                );
                let written = write_for(&*store, &org, &api_key, move |tx| {
                    Box::pin(async move { seat_write(tx, (&job.0, &job.1), &job.2, &job.3).await })
                })
                .await;
                match written {
                    Err(RawError::Store(StoreError::Retry)) if attempt < TX_ATTEMPTS_MAX => {}
                    outcome => return outcome.map_err(|e| e.to_string()),
                }
            }
        }
    })
    .await
}

/// The sandbox organization the server created at first start, and its key.
pub async fn sandbox_key(store: &dyn Store) -> anyhow::Result<(OrgId, ApiKeyId)> {
    let mut db = store.read().await?;
    let org = db
        .oldest_organization(Mode::Sandbox)
        .await?
        .context("the server created a sandbox organization")?
        .id;
    let key = db
        .api_keys(
            &org,
            &PageRequest {
                limit: 1,
                after: None,
            },
        )
        .await?
        .items
        .pop()
        .context("the sandbox organization has a key")?
        .id;
    Ok((org, key))
}

pub async fn balance_check(
    store: &dyn Store,
    org: &OrgId,
    customers: &[BenchCustomer],
    successful_adds: u64,
) -> anyhow::Result<SumCheck> {
    let mut found = 0;
    let mut db = store.read().await?;
    for customer in customers {
        let subscription = db
            .live_subscription(org, &customer.id, Lock::None)
            .await?
            .context("every bench customer has a live subscription")?;
        found += db
            .seat_balances(org, &subscription.id)
            .await?
            .iter()
            .filter(|b| b.feature_code == FEATURE_CODE)
            .map(|b| b.current)
            .sum::<i64>();
    }
    Ok(SumCheck {
        expected: expected_total(customers.len(), successful_adds),
        found,
    })
}

#[derive(Debug)]
enum RawError {
    Store(StoreError),
    Refused(String),
}

impl std::fmt::Display for RawError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RawError::Store(error) => write!(f, "store: {error}"),
            RawError::Refused(why) => write!(f, "refused: {why}"),
        }
    }
}

impl From<StoreError> for RawError {
    fn from(error: StoreError) -> Self {
        RawError::Store(error)
    }
}

/// One seat write's transaction. Builds the domain values the way `tally_app::seats` does.
async fn seat_write(
    tx: &mut dyn Tx,
    (org, api_key): (&OrgId, &ApiKeyId),
    external_id: &str,
    key: &str,
) -> Result<(), RawError> {
    tx.key_standing(org, api_key)
        .await?
        .ok_or_else(|| RawError::Refused("the bench key was revoked".to_owned()))?;
    let ids = RandomIds;
    let now = SystemClock.now();
    // The HTTP path's fingerprint is a SHA-256 hex digest: same length here.
    let fingerprint = format!("{:064x}", hash_of(key));
    let customer = tx
        .customer_by_external_id(org, external_id, Lock::ForUpdate)
        .await?
        .ok_or_else(|| RawError::Refused(format!("no customer {external_id}")))?
        .id;
    let customer = &customer;
    let subscription = tx
        .live_subscription(org, customer, Lock::ForUpdate)
        .await?
        .ok_or_else(|| RawError::Refused(format!("{customer:?} has no live subscription")))?;
    let features = tx.features(org).await?;
    if !features.iter().any(|f| f.code == FEATURE_CODE) {
        return Err(RawError::Refused(format!(
            "{FEATURE_CODE} is not a feature"
        )));
    }
    let snapshot = tx.subscription_features(org, &subscription.id).await?;
    let feature = snapshot
        .into_iter()
        .find(|f| f.code == FEATURE_CODE && f.enabled)
        .ok_or_else(|| RawError::Refused(format!("{FEATURE_CODE} is not in the plan")))?;
    let balance = tx
        .seat_balances(org, &subscription.id)
        .await?
        .into_iter()
        .find(|b| b.feature_code == FEATURE_CODE)
        .unwrap_or_else(|| SeatBalance {
            subscription_id: subscription.id.clone(),
            feature_code: FEATURE_CODE.to_owned(),
            current: 0,
            paid_extra: 0,
            peak: 0,
            updated_at: subscription.start_date,
        });
    let applied = apply_seat_change(
        &balance,
        SeatChange::Add(1),
        &feature,
        (SeatEventId::from_ulid(ids.ulid()), org, customer),
        now,
    )
    .map_err(|e| RawError::Refused(format!("{e:?}")))?;
    tx.save_seat_balance(org, &applied.balance).await?;
    tx.append_seat_event(&applied.event).await?;
    if let (Some(period), Some(unit_price)) =
        (subscription.current_period, feature.overage.unit_price)
        && applied.newly_paid_extra > 0
    {
        let (amount, days_left, period_days) =
            true_up(applied.newly_paid_extra, unit_price, &period, now)
                .map_err(|e| RawError::Refused(e.to_string()))?;
        let paid = SeatTrueUp {
            seat_event_id: applied.event.id.as_str().to_owned(),
            subscription_id: subscription.id.clone(),
            feature_code: feature.code.clone(),
            feature_name: feature.name.clone(),
            units: applied.newly_paid_extra,
            unit_price,
            days_left,
            period_days,
            amount,
            created_at: now,
        };
        tx.insert_seat_true_up(org, &paid).await?;
    }
    let event = &applied.event;
    let webhook = |event_type: &str, data: serde_json::Value| WebhookEvent {
        id: WebhookEventId::from_ulid(ids.ulid()),
        org_id: org.clone(),
        event_type: event_type.to_owned(),
        customer_id: Some(customer.clone()),
        data,
        created_at: now,
    };
    let customer_ref = customer.as_str();
    tx.insert_webhook_events(&[
        webhook(
            "seats.updated",
            json!({
                "customerId": customer_ref,
                "subscriptionId": subscription.id.as_str(),
                "featureCode": event.feature_code,
                "previousSeats": event.previous_balance,
                "currentSeats": event.new_balance,
            }),
        ),
        webhook(
            "customer.state_changed",
            json!({ "customerId": customer_ref, "trigger": "seats_updated" }),
        ),
    ])
    .await?;
    // The response the HTTP path would store: the seat event as 2026-08-27 renders it.
    let body = json!({
        "id": event.id.as_str(),
        "customerId": customer_ref,
        "featureCode": event.feature_code,
        "previousBalance": event.previous_balance,
        "newBalance": event.new_balance,
        "ts": event.ts.to_rfc3339(),
        "createdAt": event.ts.to_rfc3339(),
        "object": "seat_event",
        "livemode": false,
    });
    let recorded = tx
        .record_idempotency(
            IdempotencyScope { org, api_key },
            key,
            &fingerprint,
            &StoredResponse {
                status: 200,
                body: body.to_string(),
            },
            now,
            now.plus_millis(IDEMPOTENCY_RETENTION_MS),
        )
        .await?;
    if recorded {
        Ok(())
    } else {
        Err(RawError::Refused(format!("key {key} was already used")))
    }
}

/// A cheap, stable stand-in for a digest (the floor should not spend its time hashing).
fn hash_of(text: &str) -> u128 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u128, |hash, byte| {
        (hash ^ u128::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}
