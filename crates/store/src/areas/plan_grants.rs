//! Plan grants and the target features they pin (`commerce.md` §6).

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::plan_grants::PlanGrant;
use tally_domain::subscription::FeatureSnapshot;
use tally_domain::{CustomerId, OrgId, Timestamp};

#[async_trait]
pub trait PlanGrants {
    /// Inserts a grant with the target features it pins.
    async fn insert_plan_grant(
        &mut self,
        grant: &PlanGrant,
        target: &[FeatureSnapshot],
    ) -> Result<(), StoreError>;

    /// Stores a grant's status, expiry, duration, reason, revocation and history.
    async fn update_plan_grant(&mut self, grant: &PlanGrant) -> Result<(), StoreError>;

    async fn plan_grant(
        &mut self,
        org: &OrgId,
        id: &str,
        lock: Lock,
    ) -> Result<Option<PlanGrant>, StoreError>;

    /// A customer's grants, newest first.
    async fn plan_grants(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Vec<PlanGrant>, StoreError>;

    /// The subscription's grant recorded as active (it may be past its expiry), with its
    /// target features.
    async fn active_plan_grant(
        &mut self,
        org: &OrgId,
        subscription: &str,
    ) -> Result<Option<(PlanGrant, Vec<FeatureSnapshot>)>, StoreError>;

    /// Active grants past their expiry at `now`, oldest expiry first, up to `limit`: of one
    /// organization, or (`None`) of every organization without a test clock.
    async fn due_plan_grants(
        &mut self,
        org: Option<&OrgId>,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PlanGrant>, StoreError>;
}
