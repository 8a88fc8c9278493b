//! Borrowed bundles of domain values that one view needs together.

use std::collections::BTreeMap;
use tally_domain::Timestamp;
use tally_domain::catalog::{Feature, Plan, PlanFeature, PlanPrice};
use tally_domain::subscription::{FeatureSnapshot, Subscription};
use tally_domain::test_clock::TestClockRun;

/// A plan with its active prices and attached features.
#[derive(Clone, Copy)]
pub struct PlanParts<'a> {
    pub plan: &'a Plan,
    pub prices: &'a [PlanPrice],
    pub features: &'a [(PlanFeature, Feature)],
    /// Exchange rates, market and regional entries (`commerce.md` §7).
    pub regional: &'a tally_domain::markets::PlanRegional,
    /// Introductory offers by price id (`commerce.md` §4.6).
    pub intro_offers: &'a [(String, tally_domain::offers::Offer)],
}

/// A subscription with its plan, price, feature snapshot, seat balances and the instant
/// `daysRemaining` is counted from.
#[derive(Clone, Copy)]
pub struct SubscriptionParts<'a> {
    pub subscription: &'a Subscription,
    pub plan: &'a Plan,
    pub price: Option<&'a PlanPrice>,
    pub features: &'a [FeatureSnapshot],
    /// Current counts by feature code: seat and quota balances, usage this usage period.
    pub seats: &'a BTreeMap<String, i64>,
    pub now: Timestamp,
    /// The plan a scheduled change switches to (`lifecycle.md` §4.4).
    pub scheduled_plan: Option<&'a Plan>,
    /// The offers placed on the subscription, oldest first (`commerce.md` §4.4).
    pub offers: &'a [tally_domain::offers::OfferApplication],
    /// A plan grant running on the subscription (`commerce.md` §6).
    pub grant: Option<&'a tally_domain::plan_grants::GrantAccess>,
    /// The checkout page of a subscription waiting for it (`payments.md` §5).
    pub checkout_url: Option<&'a str>,
}

/// The test clock as `GET /test-clock` shows it.
#[derive(Clone, Copy)]
pub struct ClockParts<'a> {
    pub simulated_time: Option<Timestamp>,
    pub now: Timestamp,
    pub latest_run: Option<&'a TestClockRun>,
}
