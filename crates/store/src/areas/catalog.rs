//! The catalog: features, plans, their prices and the features plans attach.

use crate::{Lock, PlanFeatureEntry, PlanVisibility, StoreError};
use async_trait::async_trait;
use tally_domain::catalog::{Feature, FeatureId, Plan, PlanFeature, PlanId, PlanPrice, PriceId};
use tally_domain::page::{Page, PageRequest};
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Catalog {
    /// Every feature of `org`, oldest first.
    async fn features(&mut self, org: &OrgId) -> Result<Vec<Feature>, StoreError>;

    /// A page of the features of `org`, oldest first.
    async fn features_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<Feature>, StoreError>;

    async fn feature_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
        lock: Lock,
    ) -> Result<Option<Feature>, StoreError>;

    /// Inserts a feature; a taken code or name is `Conflict` on `features_code` / `features_name`.
    async fn insert_feature(&mut self, feature: &Feature) -> Result<(), StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_feature(&mut self, feature: &Feature) -> Result<(), StoreError>;

    /// Deletes a feature and its attachments to plans.
    async fn delete_feature(&mut self, org: &OrgId, id: &FeatureId) -> Result<(), StoreError>;

    /// Whether any non-deleted plan attaches the feature.
    async fn feature_is_attached(
        &mut self,
        org: &OrgId,
        id: &FeatureId,
    ) -> Result<bool, StoreError>;

    /// A page of the non-deleted plans of `org`, oldest first.
    async fn plans_page(
        &mut self,
        org: &OrgId,
        visibility: PlanVisibility,
        page: &PageRequest,
    ) -> Result<Page<Plan>, StoreError>;

    /// The active prices of several plans of `org`, each plan's oldest first, in one read (a
    /// page of plans costs a constant number of queries).
    async fn prices_of_plans(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<PlanPrice>, StoreError>;

    /// The attached features of several plans of `org`, each plan's oldest first, in one read.
    async fn features_of_plans(
        &mut self,
        org: &OrgId,
        plans: &[PlanId],
    ) -> Result<Vec<PlanFeatureEntry>, StoreError>;

    /// A non-deleted plan by id.
    async fn plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        lock: Lock,
    ) -> Result<Option<Plan>, StoreError>;

    /// A non-deleted plan by code.
    async fn plan_by_code(
        &mut self,
        org: &OrgId,
        code: &str,
        lock: Lock,
    ) -> Result<Option<Plan>, StoreError>;

    /// A plan by id, deleted or not (subscriptions keep showing their plan).
    async fn plan_any(&mut self, org: &OrgId, id: &PlanId) -> Result<Option<Plan>, StoreError>;

    /// Inserts a plan; a taken code is `Conflict` on `plans_code`.
    async fn insert_plan(&mut self, plan: &Plan) -> Result<(), StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_plan(&mut self, plan: &Plan) -> Result<(), StoreError>;

    /// Soft-deletes a plan.
    async fn delete_plan(
        &mut self,
        org: &OrgId,
        id: &PlanId,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The active (not archived) prices of a plan, oldest first.
    async fn plan_prices(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanPrice>, StoreError>;

    /// A price by id, archived or not (subscriptions keep using archived prices).
    async fn price(&mut self, org: &OrgId, id: &PriceId) -> Result<Option<PlanPrice>, StoreError>;

    /// Inserts a price of a plan of `org` (`NotFound` otherwise); an active price for the same
    /// interval is `Conflict` on `plan_prices_interval`.
    async fn insert_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_price(&mut self, org: &OrgId, price: &PlanPrice) -> Result<(), StoreError>;

    async fn archive_price(
        &mut self,
        org: &OrgId,
        id: &PriceId,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// The features attached to a plan, in the order they were attached.
    async fn plan_features(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
    ) -> Result<Vec<PlanFeatureEntry>, StoreError>;

    /// Attaches a feature of `org` to a plan of `org` (`NotFound` otherwise); an attached
    /// feature is `Conflict` on `plan_features_pkey`.
    async fn insert_plan_feature(
        &mut self,
        org: &OrgId,
        plan_feature: &PlanFeature,
    ) -> Result<(), StoreError>;

    async fn update_plan_feature(
        &mut self,
        org: &OrgId,
        plan_feature: &PlanFeature,
    ) -> Result<(), StoreError>;

    async fn delete_plan_feature(
        &mut self,
        org: &OrgId,
        plan: &PlanId,
        feature: &FeatureId,
    ) -> Result<(), StoreError>;
}
