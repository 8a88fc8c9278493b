//! The operator dashboard's credential and sessions (`dashboard.md`).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::dashboard::DashboardSession;
use tally_domain::{ApiKeyId, OrgId, Timestamp};

#[async_trait]
pub trait Dashboard {
    /// The hash of the operator credential of the pair `org` (its live side) holds, if set.
    async fn dashboard_credential(&mut self, org: &OrgId) -> Result<Option<String>, StoreError>;

    /// Sets (or replaces) the pair's credential and ends every session signed in with the one
    /// before it.
    async fn set_dashboard_credential(
        &mut self,
        org: &OrgId,
        credential_hash: &str,
        now: Timestamp,
    ) -> Result<(), StoreError>;

    async fn insert_dashboard_session(
        &mut self,
        session: &DashboardSession,
        secret_hash: &str,
    ) -> Result<(), StoreError>;

    /// The session whose secret hashes to `secret_hash`, ended or not. Not scoped: the secret
    /// is what names the organization.
    async fn dashboard_session(
        &mut self,
        secret_hash: &str,
    ) -> Result<Option<DashboardSession>, StoreError>;

    /// Points an open session of `home` at `org` (a side of its pair; the caller checks).
    async fn move_dashboard_session(
        &mut self,
        home: &OrgId,
        id: &ApiKeyId,
        org: &OrgId,
    ) -> Result<(), StoreError>;

    /// Ends a session of `home` (signing out); nothing when it has ended already.
    async fn end_dashboard_session(
        &mut self,
        home: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}
