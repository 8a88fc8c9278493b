//! Markets, market and regional prices, and each subscription's pricing source
//! (`commerce.md` §2, §7).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::catalog::PlanId;
use tally_domain::markets::{
    ExchangeRate, Market, MarketPrice, PlanRegional, RegionalOverage, RegionalPrice,
};
use tally_domain::page::{Page, PageRequest};

/// A subscription's currency and where its amount comes from: a market (`Some(id)`) or the
/// price's regional entry in that currency (`None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionPricing {
    pub currency: String,
    pub market_id: Option<String>,
}

#[async_trait]
pub trait Markets {
    /// Inserts a market and its countries; `Conflict { constraint: "market_countries_pkey" }`
    /// when another market of the organization holds one of them.
    async fn insert_market(&mut self, market: &Market) -> Result<(), StoreError>;

    /// Replaces a market's name, countries and metadata.
    async fn update_market(&mut self, market: &Market) -> Result<(), StoreError>;

    async fn delete_market(&mut self, org: &OrgId, id: &str) -> Result<(), StoreError>;

    async fn market(&mut self, org: &OrgId, id: &str) -> Result<Option<Market>, StoreError>;

    /// Markets, newest first.
    async fn markets(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<Market>, StoreError>;

    /// The market holding `country`, if any.
    async fn market_of_country(
        &mut self,
        org: &OrgId,
        country: &str,
    ) -> Result<Option<Market>, StoreError>;

    /// Whether a price or a live subscription names the market.
    async fn market_in_use(&mut self, org: &OrgId, id: &str) -> Result<bool, StoreError>;

    /// Replaces a price's market entries.
    async fn replace_market_prices(
        &mut self,
        org: &OrgId,
        price_id: &str,
        entries: &[MarketPrice],
    ) -> Result<(), StoreError>;

    async fn set_exchange_rate(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        currency: &str,
        rate: ExchangeRate,
    ) -> Result<(), StoreError>;

    /// Adds or replaces a price's manual entry for `entry.currency`.
    async fn upsert_price_override(
        &mut self,
        org: &OrgId,
        price_id: &str,
        entry: &RegionalPrice,
    ) -> Result<(), StoreError>;

    /// Drops every manual entry of a price.
    async fn delete_price_overrides(
        &mut self,
        org: &OrgId,
        price_id: &str,
    ) -> Result<(), StoreError>;

    /// Adds or replaces a feature's manual overage entry on a plan.
    async fn upsert_feature_override(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        feature_id: &str,
        entry: &RegionalOverage,
    ) -> Result<(), StoreError>;

    /// The regional pricing of each of `plans` (plans without any get an empty one).
    async fn plan_regional(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<(PlanId, PlanRegional)>, StoreError>;

    async fn insert_subscription_pricing(
        &mut self,
        org: &OrgId,
        subscription: &str,
        pricing: &SubscriptionPricing,
    ) -> Result<(), StoreError>;

    async fn subscription_pricing(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Option<SubscriptionPricing>, StoreError>;

    /// Live subscriptions on `price_id` priced from market `market` (any market: `None`) or,
    /// with `currency`, from the price's regional entry in it.
    async fn subscriptions_priced_by(
        &mut self,
        org: &OrgId,
        price_id: &str,
        market: Option<&str>,
        currency: Option<&str>,
    ) -> Result<u64, StoreError>;
}
