//! Usage counters and the usage event trail (`usage.md` §2, §3).

use crate::{HotStamp, StampAsk, StoreError};
use async_trait::async_trait;
use tally_domain::subscription::SubscriptionId;
use tally_domain::usage::{UsageCounter, UsageEvent, UsageEventId};
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Usage {
    /// The counters of one usage period of a subscription, by feature code; features nothing
    /// was tracked for in that period have none.
    async fn usage_counters(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        period_start: Timestamp,
    ) -> Result<Vec<UsageCounter>, StoreError>;

    /// Inserts or replaces one counter of a subscription of `org` (`NotFound` otherwise).
    async fn save_usage_counter(
        &mut self,
        org: &OrgId,
        counter: &UsageCounter,
    ) -> Result<(), StoreError>;

    /// The organization's event recorded under this key, if any.
    async fn usage_event_with_key(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<UsageEventId>, StoreError>;

    /// Appends an event of a subscription of the event's organization and customer (`NotFound`
    /// otherwise); a key the organization already used is `Conflict` on
    /// `constraints::USAGE_EVENT_KEY`.
    async fn append_usage_event(&mut self, event: &UsageEvent) -> Result<(), StoreError>;

    /// The stamps kept copies of customers' hot-read state are checked against, one per ask and
    /// in the asks' order, all read in one statement. Any committed change to a customer, its
    /// subscriptions, their snapshots, balances or usage counters moves its `customer_version`
    /// on; any change to an organization's catalog (features, plans, plan features) moves its
    /// `catalog_version` on.
    async fn hot_stamps(&mut self, asks: &[StampAsk]) -> Result<Vec<HotStamp>, StoreError>;

    /// The quota event (`qev_…`) recorded under this legacy body key, if any.
    async fn quota_event_with_key(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<String>, StoreError>;

    /// Records that `key` named the quota event `event_id` of `org`; a key the organization
    /// already used is `Conflict` on `constraints::QUOTA_EVENT_KEY`.
    async fn record_quota_event_key(
        &mut self,
        org: &OrgId,
        key: &str,
        event_id: &str,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
