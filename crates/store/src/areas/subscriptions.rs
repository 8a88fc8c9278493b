//! Subscriptions, their feature snapshots and their deadlines (renewals, trial ends).

use crate::{DueDeadline, Lock, StoreError};
use async_trait::async_trait;
use tally_domain::catalog::PlanId;
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::{
    DeadlineFailure, FeatureSnapshot, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::{CustomerId, OrgId, Timestamp};

#[async_trait]
pub trait Subscriptions {
    async fn subscription(
        &mut self,
        org: &OrgId,
        id: &SubscriptionId,
        lock: Lock,
    ) -> Result<Option<Subscription>, StoreError>;

    /// The customer's live (not canceled) subscription, if any.
    async fn live_subscription(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        lock: Lock,
    ) -> Result<Option<Subscription>, StoreError>;

    /// Subscriptions of `org`, newest first.
    async fn subscriptions(
        &mut self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        status: Option<SubscriptionStatus>,
        page: &PageRequest,
    ) -> Result<Page<Subscription>, StoreError>;

    /// Live subscriptions on a plan (for catalog changes that apply at once).
    async fn live_subscriptions_of_plan(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<SubscriptionId>, StoreError>;

    /// Inserts a subscription with its next deadline; a second live one for the customer is
    /// `Conflict` on `subscriptions_live_customer`.
    async fn insert_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// Saves a subscription with its next deadline. A saved subscription's deadline is tried
    /// afresh: any recorded deadline failure is cleared.
    async fn update_subscription(
        &mut self,
        subscription: &Subscription,
        next_deadline: Option<Timestamp>,
    ) -> Result<(), StoreError>;

    /// The failure recorded against the subscription's deadline, if any.
    async fn deadline_failure(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Option<DeadlineFailure>, StoreError>;

    /// Records that the subscription's deadline failed; `due_deadlines` skips it until
    /// `failure.retry_at`. `NotFound` when the subscription is not the organization's.
    async fn record_deadline_failure(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        failure: &DeadlineFailure,
    ) -> Result<(), StoreError>;

    /// The subscription's feature snapshot, in plan order.
    async fn subscription_features(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<FeatureSnapshot>, StoreError>;

    async fn replace_subscription_features(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        features: &[FeatureSnapshot],
    ) -> Result<(), StoreError>;

    /// Deadlines due at or before `until`, earliest first: of `org` only, or (with `None`) of
    /// every organization that runs on real time (no active test clock). A deadline with a
    /// recorded failure is left out until its retry time (at or before `until`).
    async fn due_deadlines(
        &mut self,
        org: Option<&OrgId>,
        until: Timestamp,
        limit: u32,
    ) -> Result<Vec<DueDeadline>, StoreError>;
}
