//! Customer portal sessions (`payments.md` §10).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::ids::PortalSessionId;
use tally_domain::portal::PortalSession;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Portal {
    async fn insert_portal_session(&mut self, session: &PortalSession) -> Result<(), StoreError>;

    async fn portal_session(
        &mut self,
        org: &OrgId,
        id: &PortalSessionId,
    ) -> Result<Option<PortalSession>, StoreError>;

    /// Records a view or an action at `at`, which keeps the session open.
    async fn touch_portal_session(
        &mut self,
        org: &OrgId,
        id: &PortalSessionId,
        at: Timestamp,
    ) -> Result<(), StoreError>;
}
