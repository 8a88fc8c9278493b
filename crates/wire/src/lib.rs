//! The Commet API's JSON, one module per API version.
//!
//! Views (`…Out`) are built from domain values by small functions; request bodies (`…In`) parse
//! into domain values with `into_domain`. A newer version module reuses the older views and
//! overrides only what the contract says changed; once a version ships its module is frozen.
//! Envelopes (legacy `{success,data}` vs direct) are the API crate's job, not this one's.

pub mod addons;
pub mod balance;
pub mod credit_packs;
pub mod customer_credits;
pub mod invoices;
pub mod markets;
pub mod offers;
mod parts;
pub mod payments;
pub mod plan_changes;
pub mod plan_grants;
pub mod plan_groups;
pub mod requests;
pub mod schema;
pub mod usage;
pub mod v2026_07_11;
pub mod v2026_07_31;
pub mod v2026_08_27;
pub mod webhooks;

use serde::Serialize;
use serde_json::Value;
use tally_domain::api_key::ApiKey;
use tally_domain::catalog::{Feature, PlanFeature, PlanPrice};
use tally_domain::seats::SeatEvent;
use tally_domain::test_clock::TestClockRun;
use tally_domain::{ApiVersion, Customer, DomainError, Generation, Timestamp};

pub use parts::{ClockParts, PlanParts, SubscriptionParts};

/// Whether the objects belong to a live organization (`livemode` on every object).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Livemode(pub bool);

/// One customer batch item's outcome, as the batch view needs it.
pub type BatchItemView<'a> = (usize, &'a Value, Result<&'a Customer, &'a DomainError>);

fn to_value(view: impl Serialize) -> Value {
    serde_json::to_value(view).expect("views are plain data and always serialize")
}

pub fn customer(version: ApiVersion, customer: &Customer, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::CustomerOut::new(customer, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::CustomerOut::new(customer, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::CustomerOut::new(customer, livemode)),
    }
}

pub fn customer_batch(
    version: ApiVersion,
    items: &[BatchItemView<'_>],
    livemode: Livemode,
) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::CustomerBatchOut::new(items, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::customer_batch_out(items, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::customer_batch_out(items, livemode)),
    }
}

pub fn api_key(version: ApiVersion, key: &ApiKey, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::ApiKeyOut::new(key, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::ApiKeyOut::new(key, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::ApiKeyOut::new(key, livemode)),
    }
}

/// A new key with its secret; `secret` is `None` in the answer kept for replays, where
/// `apiKey` is then `null` (the secret is shown once).
pub fn created_api_key(
    version: ApiVersion,
    key: &ApiKey,
    secret: Option<&str>,
    livemode: Livemode,
) -> Value {
    match version {
        ApiVersion::V2026_07_11 => {
            to_value(v2026_07_11::CreatedApiKeyOut::new(key, secret, livemode))
        }
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::CreatedApiKeyOut::new(key, secret, livemode))
        }
        ApiVersion::V2026_08_27 => {
            to_value(v2026_08_27::CreatedApiKeyOut::new(key, secret, livemode))
        }
    }
}

/// `{id, deleted: true, object, livemode}` (`catalog.md` §1).
pub fn deleted(version: ApiVersion, id: &str, object: &str, livemode: Livemode) -> Value {
    match version {
        ApiVersion::V2026_07_11 => to_value(v2026_07_11::DeletedOut::new(id, object, livemode)),
        ApiVersion::V2026_07_24 | ApiVersion::V2026_07_31 => {
            to_value(v2026_07_31::DeletedOut::new(id, object, livemode))
        }
        ApiVersion::V2026_08_27 => to_value(v2026_08_27::DeletedOut::new(id, object, livemode)),
    }
}

pub fn feature(_version: ApiVersion, feature: &Feature, livemode: Livemode) -> Value {
    // Identical in every version (`catalog.md` §3).
    to_value(v2026_07_11::FeatureOut::new(feature, livemode))
}

pub fn plan(version: ApiVersion, parts: PlanParts<'_>, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::PlanOut::new(parts, livemode)),
        Generation::Direct => to_value(v2026_07_31::plan_out(parts, livemode)),
    }
}

pub fn plan_feature(version: ApiVersion, pf: &PlanFeature, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::PlanFeatureOut::new(pf, livemode)),
        Generation::Direct => to_value(v2026_07_31::plan_feature_out(pf, livemode)),
    }
}

pub fn plan_price(
    version: ApiVersion,
    price: &PlanPrice,
    (market_prices, intro): (
        &[tally_domain::markets::MarketPrice],
        Option<&tally_domain::offers::Offer>,
    ),
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::PlanPriceOut::new(price, intro, livemode)),
        Generation::Direct => to_value(v2026_07_31::PlanPriceOut::new(
            price,
            (market_prices, intro),
            livemode,
        )),
    }
}

/// `PUT /plans/{id}/visibility`: a small object in legacy, the plan in direct.
pub fn plan_visibility(version: ApiVersion, parts: PlanParts<'_>, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::plan_visibility(parts.plan, livemode)),
        Generation::Direct => plan(version, parts, livemode),
    }
}

/// `PUT …/prices/{priceId}/default`: a small object in legacy, the price in direct.
pub fn default_price(
    version: ApiVersion,
    price: &PlanPrice,
    extras: (
        &[tally_domain::markets::MarketPrice],
        Option<&tally_domain::offers::Offer>,
    ),
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::default_price(price, livemode)),
        Generation::Direct => plan_price(version, price, extras, livemode),
    }
}

/// Object names that differ by generation (`wire.md` §3.5).
pub fn object_name(
    version: ApiVersion,
    legacy: &'static str,
    direct: &'static str,
) -> &'static str {
    match version.generation() {
        Generation::Legacy => legacy,
        Generation::Direct => direct,
    }
}

pub fn removed_plan_feature(version: ApiVersion, feature_id: &str, livemode: Livemode) -> Value {
    to_value(v2026_07_11::removed_plan_feature(
        feature_id,
        object_name(version, "plan", "plan_feature"),
        livemode,
    ))
}

fn subscription_extras(version: ApiVersion) -> v2026_07_31::Extras {
    match version {
        ApiVersion::V2026_07_24 => v2026_07_31::Extras {
            discount: true,
            pause: false,
        },
        ApiVersion::V2026_08_27 => v2026_08_27::EXTRAS,
        _ => v2026_07_31::Extras::default(),
    }
}

/// The full subscription: legacy `Subscription` or direct `Subscription`.
pub fn subscription(
    version: ApiVersion,
    parts: SubscriptionParts<'_>,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::SubscriptionOut::new(parts, livemode)),
        Generation::Direct => to_value(v2026_07_31::SubscriptionOut::new(
            parts,
            livemode,
            subscription_extras(version),
        )),
    }
}

/// The answer to create: legacy `Subscription`, direct `CreatedSubscription`.
pub fn created_subscription(
    version: ApiVersion,
    parts: SubscriptionParts<'_>,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => subscription(version, parts, livemode),
        Generation::Direct => to_value(v2026_07_31::CreatedSubscriptionOut::new(
            parts,
            livemode,
            subscription_extras(version),
        )),
    }
}

/// A list item: legacy `Subscription`, direct `SubscriptionSummary`.
pub fn subscription_list_item(
    version: ApiVersion,
    parts: SubscriptionParts<'_>,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => subscription(version, parts, livemode),
        Generation::Direct => to_value(v2026_07_31::SubscriptionSummaryOut::new(
            parts,
            livemode,
            subscription_extras(version),
        )),
    }
}

/// The answer to cancel: legacy `CanceledSubscription`, direct `Subscription`.
pub fn canceled_subscription(
    version: ApiVersion,
    parts: SubscriptionParts<'_>,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::CanceledSubscriptionOut::new(
            parts.subscription,
            livemode,
        )),
        Generation::Direct => subscription(version, parts, livemode),
    }
}

/// The answer to uncancel: legacy `UncanceledSubscription`, direct `Subscription`.
pub fn uncanceled_subscription(
    version: ApiVersion,
    parts: SubscriptionParts<'_>,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::UncanceledSubscriptionOut::new(
            parts.subscription,
            livemode,
        )),
        Generation::Direct => subscription(version, parts, livemode),
    }
}

pub fn test_clock(version: ApiVersion, clock: ClockParts<'_>) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::TestClockOut::new(clock)),
        Generation::Direct => to_value(v2026_07_31::TestClockOut::new(clock)),
    }
}

pub fn test_clock_run(run: &TestClockRun) -> Value {
    to_value(v2026_07_11::TestClockRunOut::new(run))
}

/// The legacy `process-billing` answer: subscriptions with a deadline passed, billing
/// deadlines passed, failures, and the dunning retries run and declined.
pub fn test_clock_billing(counts: [usize; 5]) -> Value {
    let [
        customers_found,
        enqueued,
        failed,
        dunning_retried,
        dunning_failed,
    ] = counts;
    to_value(v2026_07_11::TestClockBillingOut {
        dunning_retried,
        dunning_failed,
        ..v2026_07_11::TestClockBillingOut::new(customers_found, enqueued, failed)
    })
}

pub fn seat_event(version: ApiVersion, event: &SeatEvent, livemode: Livemode) -> Value {
    let object = object_name(version, "seat", "seat_event");
    to_value(v2026_07_11::SeatEventOut::with(
        event, livemode, object, true,
    ))
}

/// The bulk result's items: legacy `BulkSeatUpdate` (no `customerId`), direct `SeatEvent`.
pub fn bulk_seat_event(version: ApiVersion, event: &SeatEvent, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::SeatEventOut::with(
            event, livemode, "seat", false,
        )),
        Generation::Direct => seat_event(version, event, livemode),
    }
}

pub fn seat_balance(
    version: ApiVersion,
    current: i64,
    as_of: Timestamp,
    livemode: Livemode,
) -> Value {
    let object = object_name(version, "seat", "seat_balance");
    to_value(v2026_07_11::SeatBalanceOut::new(
        current, as_of, livemode, object,
    ))
}

/// All balances by feature code (`seats.md` §4.4).
pub fn seat_balances(
    version: ApiVersion,
    balances: &[(String, i64, Timestamp)],
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::seat_balances(balances, livemode)),
        Generation::Direct => to_value(v2026_07_31::seat_balances(balances, livemode)),
    }
}

/// The answer to a reactivation (`lifecycle.md` §7): legacy `{id, retryInitiated}`, direct
/// `{subscriptionId, invoiceId, status}`.
pub fn reactivated(
    version: ApiVersion,
    subscription_id: &str,
    invoice_id: &str,
    livemode: Livemode,
) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(v2026_07_11::ReactivatedOut {
            id: subscription_id,
            retry_initiated: true,
            object: "subscription",
            livemode: livemode.0,
        }),
        Generation::Direct => to_value(v2026_08_27::ReactivationOut {
            subscription_id,
            invoice_id,
            status: "succeeded",
            object: "subscription_reactivation",
            livemode: livemode.0,
        }),
    }
}
