//! Add-ons and their activations on subscriptions (`lifecycle.md` §5).

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::addons::{Activation, Addon, AddonEntry};
use tally_domain::catalog::FeatureId;
use tally_domain::ids::AddonId;
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::SubscriptionId;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Addons {
    /// A page of the non-deleted add-ons of `org` with their features, newest first.
    async fn addons_page(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<AddonEntry>, StoreError>;

    /// A non-deleted add-on by id or by slug, with its feature.
    async fn addon(
        &mut self,
        org: &OrgId,
        id_or_slug: &str,
        lock: Lock,
    ) -> Result<Option<AddonEntry>, StoreError>;

    /// The slugs of `org` that are `base` or `base-…`, deleted add-ons' too.
    async fn addon_slugs(&mut self, org: &OrgId, base: &str) -> Result<Vec<String>, StoreError>;

    /// The non-deleted add-on that sells a feature, if any.
    async fn addon_of_feature(
        &mut self,
        org: &OrgId,
        feature: &FeatureId,
    ) -> Result<Option<Addon>, StoreError>;

    /// Inserts an add-on; a taken slug is `Conflict` on `addons_slug`, a feature already sold
    /// `Conflict` on `addons_feature`.
    async fn insert_addon(&mut self, addon: &Addon) -> Result<(), StoreError>;

    /// Updates the one row of the organization the value names; `NotFound` when it has none.
    async fn update_addon(&mut self, addon: &Addon) -> Result<(), StoreError>;

    async fn delete_addon(
        &mut self,
        org: &OrgId,
        id: &AddonId,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    /// Whether any subscription has the add-on active.
    async fn addon_is_active_anywhere(
        &mut self,
        org: &OrgId,
        id: &AddonId,
    ) -> Result<bool, StoreError>;

    /// The add-ons active on a subscription, oldest activation first, with their features
    /// (deleted add-ons included: an activation outlives a deletion it blocked).
    async fn active_addons(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
    ) -> Result<Vec<(Activation, AddonEntry)>, StoreError>;

    /// Records an activation of an add-on of `org` on a subscription of `org` (`NotFound`
    /// otherwise); one already active is `Conflict` on `subscription_addons_active`.
    async fn insert_activation(
        &mut self,
        org: &OrgId,
        activation: &Activation,
    ) -> Result<(), StoreError>;

    /// Ends the add-on's activation on the subscription; `NotFound` when it is not active.
    async fn end_activation(
        &mut self,
        org: &OrgId,
        subscription: &SubscriptionId,
        addon: &AddonId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
