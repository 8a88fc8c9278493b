//! What the cases build on: deterministic domain values (ids from fixed ULIDs, times from `T0`)
//! made with the domain's own types, and small helpers that write them or read them back.
//! No randomness: a failing case fails the same way every time.

use crate::{Db, Store, StoreError, Tx, TxFuture, write};
use tally_domain::api_key::ApiKey;
use tally_domain::billing::{
    Invoice, InvoiceStatus, SeatTrueUp, invoice_number, plan_base_line, subtotal, true_up,
};
use tally_domain::catalog::{
    Feature, FeatureId, FeatureType, Overage, Plan, PlanFeature, PlanId, PlanPrice, PriceId,
};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PagePosition, PageRequest};
use tally_domain::period::BillingInterval;
use tally_domain::seats::{SeatBalance, SeatEvent, SeatEventId};
use tally_domain::subscription::{FeatureSnapshot, NewSubscription, Subscription, SubscriptionId};
use tally_domain::test_clock::{RunItem, TestClockRun, TestClockRunId};
use tally_domain::webhooks::{Delivery, DeliveryStatus, EventBody, WebhookEndpoint};
use tally_domain::{
    ApiKeyId, ApiVersion, Customer, CustomerId, Mode, OrgId, Organization, Timestamp,
};

pub(super) const T0: Timestamp = Timestamp::from_millis(1_780_000_000_000);
pub(super) const DAY_MS: i64 = tally_domain::time::MILLIS_PER_DAY;

/// The fixtures every paged list is tried with, in the order they are inserted (not the order
/// they list in); each is made at `paged_at(n)`.
pub(super) const PAGED: [u32; 5] = [3, 0, 4, 1, 2];

/// The API key the idempotency cases record keys for: any id does (the record names no key row).
pub(super) fn sender() -> ApiKeyId {
    ApiKeyId::from_stored("key_sender".to_owned())
}

/// The idempotency keys `api_key` of `org` sent.
pub(super) fn scope<'a>(org: &'a OrgId, api_key: &'a ApiKeyId) -> crate::IdempotencyScope<'a> {
    crate::IdempotencyScope { org, api_key }
}

/// When the `PAGED` fixture `n` was made: one second apart, except that 2, 3 and 4 tie.
pub(super) fn paged_at(n: u32) -> Timestamp {
    let seconds = i64::from(n.min(2));
    T0.plus_millis(seconds * 1_000)
}

/// A fixed ULID for fixture `n` of `org`: `created_at` in its time part (so ids sort like times),
/// then the organization (ids are unique across organizations), then `n` (so ids made at the
/// same time sort by `n`).
pub(super) fn ulid(org: &OrgId, created_at: Timestamp, n: u32) -> ulid::Ulid {
    let millis = u64::try_from(created_at.as_millis()).expect("fixture times are after 1970");
    let random = (u128::from(name_number(org.as_str())) << 32) | u128::from(n);
    ulid::Ulid::from_parts(millis, random)
}

/// Runs one write job that must commit.
pub(super) async fn commit<T, F>(store: &dyn Store, work: F) -> T
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<T, StoreError>> + Send + 'static,
{
    write(store, work).await.expect("the write job commits")
}

const CHANGED_ITS_MIND: &str = "the job changes its mind";

/// Runs `work` in a job that then fails, and checks that it failed for that reason alone (so
/// every write of `work` really happened before the rollback).
pub(super) async fn roll_back<F>(store: &dyn Store, work: F)
where
    F: for<'t> FnOnce(&'t mut dyn Tx) -> TxFuture<'t, Result<(), StoreError>> + Send + 'static,
{
    let outcome: Result<(), StoreError> = write(store, move |tx| {
        Box::pin(async move {
            work(tx).await?;
            Err(StoreError::other(CHANGED_ITS_MIND))
        })
    })
    .await;

    assert!(
        matches!(&outcome, Err(StoreError::Other(e)) if e.to_string() == CHANGED_ITS_MIND),
        "the job's own writes failed: {outcome:?}"
    );
}

/// A read connection.
pub(super) async fn read(store: &dyn Store) -> Box<dyn Db> {
    store.read().await.expect("a read connection opens")
}

pub(super) fn first_page(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
}

/// Reads a list page by page, `limit` at a time, each page resuming after the last item of the
/// one before (where `position` says that item stands), until a page says there is no more.
pub(super) async fn every_page<T>(
    limit: u32,
    position: impl Fn(&T) -> PagePosition,
    mut read_page: impl AsyncFnMut(PageRequest) -> Page<T>,
) -> Vec<Page<T>> {
    let mut pages: Vec<Page<T>> = Vec::new();
    let mut after = None;
    loop {
        let page = read_page(PageRequest { limit, after }).await;
        let has_more = page.has_more;
        after = page.items.last().map(&position);
        pages.push(page);
        if !has_more {
            return pages;
        }
        assert!(pages.len() < 50, "the pages never end");
    }
}

/// What each page holds, as the `n` each item was made from.
pub(super) fn page_numbers<T>(pages: &[Page<T>], n: impl Fn(&T) -> u32) -> Vec<Vec<u32>> {
    pages
        .iter()
        .map(|page| page.items.iter().map(&n).collect())
        .collect()
}

/// The `n` a fixture id was made from (the low bits of its ULID, which ends the id).
pub(super) fn n_of(id: &str) -> u32 {
    let text = &id[id.len() - 26..];
    let random = ulid::Ulid::from_string(text)
        .expect("fixture ids end in a ULID")
        .random();
    u32::try_from(random & 0xffff_ffff).expect("masked to 32 bits")
}

/// How the `PAGED` fixtures list, newest first, two to a page: 2, 3 and 4 share a timestamp and
/// the first page ends between them, so the second must resume by id within that timestamp.
pub(super) fn expected_pages() -> Vec<Vec<u32>> {
    vec![vec![4, 3], vec![2, 1], vec![0]]
}

// --- Organizations and keys -------------------------------------------------------------------

/// A stable, distinct 48-bit number per fixture name.
fn name_number(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    }) & 0xffff_ffff_ffff
}

pub(super) fn new_organization(name: &str, mode: Mode, created_at: Timestamp) -> Organization {
    Organization {
        id: OrgId::new(format!(
            "00000000-0000-4000-8000-{:012x}",
            name_number(name)
        )),
        name: name.to_owned(),
        mode,
        paired_org_id: None,
        api_version: ApiVersion::CURRENT,
        test_clock: None,
        created_at,
    }
}

/// Inserts a sandbox organization named `name`.
pub(super) async fn organization(store: &dyn Store, name: &str) -> OrgId {
    let org = new_organization(name, Mode::Sandbox, T0);
    let id = org.id.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_organization(&org).await })
    })
    .await;
    id
}

pub(super) fn api_key(org: &OrgId, n: u32, created_at: Timestamp) -> ApiKey {
    ApiKey {
        id: ApiKeyId::from_ulid(ulid(org, created_at, n)),
        org_id: org.clone(),
        name: format!("key {n}"),
        prefix: "ck_sandbox_abcd".to_owned(),
        expires_at: None,
        last_used_at: None,
        created_at,
    }
}

/// The hash a fixture key is stored under (unique across organizations, as secrets are).
pub(super) fn key_hash(key: &ApiKey) -> String {
    format!("hash-{}", key.id)
}

pub(super) async fn insert_api_key(store: &dyn Store, key: &ApiKey) {
    let key = key.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_api_key(&key, &key_hash(&key)).await })
    })
    .await;
}

// --- Customers --------------------------------------------------------------------------------

pub(super) fn customer(
    org: &OrgId,
    n: u32,
    external_id: Option<&str>,
    created_at: Timestamp,
) -> Customer {
    Customer {
        id: CustomerId::from_ulid(ulid(org, created_at, n)),
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

pub(super) async fn insert_customer(store: &dyn Store, customer: &Customer) {
    let customer = customer.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_customer(&customer).await })
    })
    .await;
}

// --- Catalog ----------------------------------------------------------------------------------

pub(super) fn feature(org: &OrgId, n: u32, code: &str, created_at: Timestamp) -> Feature {
    Feature {
        id: FeatureId::from_ulid(ulid(org, created_at, n)),
        org_id: org.clone(),
        code: code.to_owned(),
        name: format!("{code} seats"),
        feature_type: FeatureType::Seats,
        description: Some(format!("Seats of {code}")),
        unit_name: Some("seat".to_owned()),
        created_at,
        updated_at: created_at,
    }
}

pub(super) fn plan(org: &OrgId, n: u32, code: &str, created_at: Timestamp) -> Plan {
    Plan {
        id: PlanId::from_ulid(ulid(org, created_at, n)),
        org_id: org.clone(),
        code: code.to_owned(),
        name: format!("Plan {code}"),
        description: None,
        consumption_model: None,
        is_public: true,
        is_free: false,
        block_on_exhaustion: None,
        metadata: Some(serde_json::Map::from_iter([(
            "tier".to_owned(),
            serde_json::json!(n),
        )])),
        group: None,
        sort_order: 0,
        created_at,
        updated_at: created_at,
    }
}

pub(super) fn price(
    plan: &Plan,
    n: u32,
    interval: BillingInterval,
    created_at: Timestamp,
) -> PlanPrice {
    PlanPrice {
        id: PriceId::from_ulid(ulid(&plan.org_id, created_at, n)),
        plan_id: plan.id.clone(),
        billing_interval: interval,
        price: Cents(4_900),
        is_default: true,
        trial_days: 0,
        included_balance: None,
        included_credits: None,
        metadata: serde_json::Map::new(),
        created_at,
        updated_at: created_at,
    }
}

pub(super) fn plan_feature(
    plan: &Plan,
    feature: &Feature,
    included_amount: i64,
    created_at: Timestamp,
) -> PlanFeature {
    PlanFeature {
        plan_id: plan.id.clone(),
        feature_id: feature.id.clone(),
        enabled: true,
        included_amount,
        unlimited: false,
        overage: Overage {
            enabled: true,
            unit_price: Some(Rate(250_000)),
        },
        credits_per_unit: None,
        pricing_mode: "fixed".to_owned(),
        margin: None,
        created_at,
    }
}

/// A monthly plan with one seats feature (`editor_<n>`, 5 included), as the catalog stores it.
#[derive(Debug, Clone)]
pub(super) struct SeatPlan {
    pub feature: Feature,
    pub plan: Plan,
    pub price: PlanPrice,
    pub plan_feature: PlanFeature,
}

impl SeatPlan {
    pub fn new(org: &OrgId, n: u32) -> Self {
        let feature = feature(org, n, &format!("editor_{n}"), T0);
        let plan = plan(org, n, &format!("pro-{n}"), T0);
        let price = price(&plan, n, BillingInterval::Monthly, T0);
        let plan_feature = plan_feature(&plan, &feature, 5, T0);
        Self {
            feature,
            plan,
            price,
            plan_feature,
        }
    }

    /// The feature as a subscription holds it (what `app` snapshots at subscribe time).
    pub fn snapshot(&self) -> FeatureSnapshot {
        FeatureSnapshot {
            feature_id: self.feature.id.clone(),
            code: self.feature.code.clone(),
            name: self.feature.name.clone(),
            feature_type: self.feature.feature_type,
            unit_name: self.feature.unit_name.clone(),
            enabled: self.plan_feature.enabled,
            included_amount: self.plan_feature.included_amount,
            unlimited: self.plan_feature.unlimited,
            overage: self.plan_feature.overage,
            credits_per_unit: None,
            pricing_mode: "fixed".to_owned(),
        }
    }

    /// A new subscription of `customer` to this plan's price, started at `at`.
    pub fn subscription(&self, customer: &Customer, n: u32, at: Timestamp) -> Subscription {
        NewSubscription {
            id: SubscriptionId::from_ulid(ulid(&customer.org_id, at, n)),
            org_id: customer.org_id.clone(),
            customer_id: customer.id.clone(),
            plan_id: self.plan.id.clone(),
            price_id: Some(self.price.id.clone()),
            name: self.plan.name.clone(),
            description: None,
            billing_interval: Some(self.price.billing_interval),
            trial_days: self.price.trial_days,
            start_date: at,
            credits: None,
            balance: None,
            currency: "usd".to_owned(),
        }
        .start(at)
    }
}

/// Inserts the seat plan `n` of `org`.
pub(super) async fn insert_seat_plan(store: &dyn Store, org: &OrgId, n: u32) -> SeatPlan {
    let seat_plan = SeatPlan::new(org, n);
    let (job_org, rows) = (org.clone(), seat_plan.clone());
    commit(store, move |tx| {
        Box::pin(async move {
            tx.insert_feature(&rows.feature).await?;
            tx.insert_plan(&rows.plan).await?;
            tx.insert_price(&job_org, &rows.price).await?;
            tx.insert_plan_feature(&job_org, &rows.plan_feature).await
        })
    })
    .await;
    seat_plan
}

/// Inserts a subscription with its next deadline and its feature snapshot, as `app` does.
pub(super) async fn insert_subscription(
    store: &dyn Store,
    subscription: &Subscription,
    features: Vec<FeatureSnapshot>,
) {
    let subscription = subscription.clone();
    commit(store, move |tx| {
        Box::pin(async move {
            let deadline = subscription.next_deadline().map(|(at, _)| at);
            tx.insert_subscription(&subscription, deadline).await?;
            tx.replace_subscription_features(&subscription.org_id, &subscription.id, &features)
                .await
        })
    })
    .await;
}

/// An organization with a customer subscribed to a seat plan: what most areas hang off.
#[derive(Debug, Clone)]
pub(super) struct Subscribed {
    pub org: OrgId,
    pub customer: Customer,
    pub seat_plan: SeatPlan,
    pub subscription: Subscription,
}

pub(super) async fn subscribed(store: &dyn Store, name: &str) -> Subscribed {
    let org = organization(store, name).await;
    let customer = customer(&org, 1, Some("subscriber"), T0);
    insert_customer(store, &customer).await;
    let seat_plan = insert_seat_plan(store, &org, 1).await;
    let subscription = seat_plan.subscription(&customer, 1, T0);
    insert_subscription(store, &subscription, vec![seat_plan.snapshot()]).await;
    Subscribed {
        org,
        customer,
        seat_plan,
        subscription,
    }
}

// --- Seats ------------------------------------------------------------------------------------

pub(super) fn seat_balance(
    subscription: &Subscription,
    code: &str,
    current: i64,
    at: Timestamp,
) -> SeatBalance {
    SeatBalance {
        subscription_id: subscription.id.clone(),
        feature_code: code.to_owned(),
        current,
        paid_extra: 0,
        peak: current,
        updated_at: at,
    }
}

pub(super) fn seat_event(
    subscription: &Subscription,
    n: u32,
    code: &str,
    new_balance: i64,
    ts: Timestamp,
) -> SeatEvent {
    SeatEvent {
        id: SeatEventId::from_ulid(ulid(&subscription.org_id, ts, n)),
        org_id: subscription.org_id.clone(),
        customer_id: subscription.customer_id.clone(),
        subscription_id: subscription.id.clone(),
        feature_code: code.to_owned(),
        previous_balance: new_balance - 1,
        new_balance,
        ts,
    }
}

// --- Invoices ---------------------------------------------------------------------------------

/// An invoice for the subscription's current period, with a plan base line.
pub(super) fn invoice(
    subscription: &Subscription,
    n: u32,
    status: InvoiceStatus,
    created_at: Timestamp,
) -> Invoice {
    let period = subscription
        .current_period
        .expect("fixture subscriptions are monthly");
    let lines = vec![plan_base_line("Pro", Cents(4_900), &period)];
    Invoice {
        id: format!("inv_{}", ulid(&subscription.org_id, created_at, n)),
        org_id: subscription.org_id.clone(),
        customer_id: subscription.customer_id.clone(),
        subscription_id: Some(subscription.id.clone()),
        number: invoice_number(i64::from(n)),
        status,
        invoice_type: "recurring".to_owned(),
        subtotal: subtotal(&lines).expect("one small line"),
        discount_amount: Cents(0),
        credit_applied: Cents(0),
        period,
        issue_date: created_at,
        plan_name: Some("Pro".to_owned()),
        currency: "usd".to_owned(),
        memo: None,
        metadata: Default::default(),
        lines,
        created_at,
        updated_at: created_at,
    }
}

/// The prorated charge for the extra seats `event` added, as `app` accrues it.
pub(super) fn seat_true_up(subscription: &Subscription, event: &SeatEvent) -> SeatTrueUp {
    let period = subscription
        .current_period
        .expect("fixture subscriptions are monthly");
    let units = event.new_balance - event.previous_balance;
    let unit_price = Rate(250_000);
    let (amount, days_left, period_days) =
        true_up(units, unit_price, &period, event.ts).expect("a few seats at $25");
    SeatTrueUp {
        seat_event_id: event.id.as_str().to_owned(),
        subscription_id: subscription.id.clone(),
        feature_code: event.feature_code.clone(),
        feature_name: "Editor seats".to_owned(),
        units,
        unit_price,
        days_left,
        period_days,
        amount,
        created_at: event.ts,
    }
}

// --- Webhooks ---------------------------------------------------------------------------------

pub(super) fn endpoint(org: &OrgId, n: u32, created_at: Timestamp) -> WebhookEndpoint {
    WebhookEndpoint {
        id: format!("whe_{}", ulid(org, created_at, n)),
        org_id: org.clone(),
        url: format!("https://example.com/hooks/{n}"),
        events: vec!["seats.updated".to_owned()],
        description: Some(format!("Endpoint {n}")),
        is_active: true,
        api_version: None,
        secret: format!("whsec_{n:032}"),
        consecutive_failures: 0,
        created_at,
        updated_at: created_at,
    }
}

pub(super) fn webhook_event(org: &OrgId, n: u32, created_at: Timestamp) -> WebhookEvent {
    WebhookEvent {
        id: WebhookEventId::from_ulid(ulid(org, created_at, n)),
        org_id: org.clone(),
        event_type: "seats.updated".to_owned(),
        customer_id: None,
        data: serde_json::json!({ "n": n }),
        created_at,
    }
}

/// A pending delivery to `endpoint`, first due at `due_at`.
pub(super) fn delivery(
    endpoint: &WebhookEndpoint,
    n: u32,
    due_at: Timestamp,
    created_at: Timestamp,
) -> Delivery {
    Delivery {
        id: format!("whd_{}", ulid(&endpoint.org_id, created_at, n)),
        org_id: endpoint.org_id.clone(),
        endpoint_id: endpoint.id.clone(),
        event_id: format!("whev_{}", ulid(&endpoint.org_id, created_at, n)),
        event_type: "seats.updated".to_owned(),
        body_id: format!("whb_{}", ulid(&endpoint.org_id, created_at, n)),
        body: format!(r#"{{"n":{n}}}"#),
        signature: format!("{n:064x}"),
        timestamp: created_at.to_rfc3339(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        next_attempt_at: due_at,
        created_at,
    }
}

pub(super) async fn insert_endpoint(store: &dyn Store, endpoint: &WebhookEndpoint) {
    let endpoint = endpoint.clone();
    commit(store, move |tx| {
        Box::pin(async move { tx.insert_webhook_endpoint(&endpoint).await })
    })
    .await;
}

/// The stored body `delivery` names, as the fan-out would have stored it.
pub(super) fn event_body(delivery: &Delivery) -> EventBody {
    EventBody {
        id: delivery.body_id.clone(),
        org_id: delivery.org_id.clone(),
        event_id: delivery.event_id.clone(),
        body: delivery.body.clone(),
        created_at: delivery.created_at,
    }
}

/// Stores the deliveries, each after the body it names (once per body).
pub(super) async fn insert_deliveries(store: &dyn Store, deliveries: Vec<Delivery>) {
    commit(store, move |tx| {
        Box::pin(async move {
            let mut stored = std::collections::BTreeSet::new();
            for delivery in &deliveries {
                if stored.insert(delivery.body_id.clone()) {
                    tx.insert_event_body(&event_body(delivery)).await?;
                }
                tx.insert_delivery(delivery).await?;
            }
            Ok(())
        })
    })
    .await;
}

// --- Test clock -------------------------------------------------------------------------------

pub(super) fn clock_run(
    org: &OrgId,
    n: u32,
    subscription: &SubscriptionId,
    target: Timestamp,
    created_at: Timestamp,
) -> TestClockRun {
    TestClockRun {
        id: TestClockRunId::from_ulid(ulid(org, created_at, n)),
        started_at_time: T0,
        target_time: target,
        items: vec![RunItem {
            kind: tally_domain::test_clock::RunItemKind::DunningRetry,
            due_at: target,
            subscription_id: subscription.clone(),
            customer_name: Some(format!("Customer {n}")),
            outcome: Some("renewed".to_owned()),
            error: None,
            invoice_number: Some(invoice_number(1)),
            invoice_id: Some(format!("inv_{}", ulid(org, created_at, n))),
        }],
        completed_count: 1,
        failed_count: 0,
        created_at,
    }
}
