//! Claims of organization pairs provisioned headless (`payments.md` §10.2).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::OrgId;
use tally_domain::claims::OrgClaim;

#[async_trait]
pub trait Claims {
    async fn insert_org_claim(&mut self, claim: &OrgClaim) -> Result<(), StoreError>;

    /// `None` for an organization that was never headless.
    async fn org_claim(&mut self, org: &OrgId) -> Result<Option<OrgClaim>, StoreError>;

    /// Writes the version and the owner (`NotFound` for an organization without a claim).
    async fn update_org_claim(&mut self, claim: &OrgClaim) -> Result<(), StoreError>;
}
