//! Organizations and their API keys.

use crate::{KeyLookup, KeyStanding, Lock, StoreError};
use async_trait::async_trait;
use tally_domain::api_key::ApiKey;
use tally_domain::page::{Page, PageRequest};
use tally_domain::{ApiKeyId, Mode, OrgId, Organization, Timestamp};

#[async_trait]
pub trait Organizations {
    /// How many organizations exist (all of them: start-up and health checks).
    async fn organization_count(&mut self) -> Result<u64, StoreError>;

    /// An organization; `Lock::ForUpdate` serializes test-clock moves and processing per org.
    async fn organization(
        &mut self,
        org: &OrgId,
        lock: Lock,
    ) -> Result<Option<Organization>, StoreError>;

    /// The first organization created with `mode`, of all of them (the one the command line
    /// manages).
    async fn oldest_organization(&mut self, mode: Mode)
    -> Result<Option<Organization>, StoreError>;

    async fn insert_organization(&mut self, org: &Organization) -> Result<(), StoreError>;

    /// Finds a non-revoked key by the SHA-256 hex of its secret, with its organization. Not
    /// scoped: the secret is what names the organization.
    async fn key_by_secret_hash(
        &mut self,
        secret_hash: &str,
    ) -> Result<Option<KeyLookup>, StoreError>;

    /// The standing of a key of `org`: `None` when it is revoked (or not a key of `org`).
    async fn key_standing(
        &mut self,
        org: &OrgId,
        key: &ApiKeyId,
    ) -> Result<Option<KeyStanding>, StoreError>;

    /// Notes that a key was used; skips the write when the stored time is newer than
    /// `unless_after`, so a busy key costs one write a minute rather than one a request.
    async fn touch_api_key(
        &mut self,
        org: &OrgId,
        key: &ApiKeyId,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError>;

    /// Live keys of `org`, newest first.
    async fn api_keys(
        &mut self,
        org: &OrgId,
        page: &PageRequest,
    ) -> Result<Page<ApiKey>, StoreError>;

    async fn api_key(&mut self, org: &OrgId, id: &ApiKeyId) -> Result<Option<ApiKey>, StoreError>;

    async fn insert_api_key(&mut self, key: &ApiKey, secret_hash: &str) -> Result<(), StoreError>;

    /// Revokes a live key of `org`; returns false when there was none.
    async fn revoke_api_key(
        &mut self,
        org: &OrgId,
        id: &ApiKeyId,
        now: Timestamp,
    ) -> Result<bool, StoreError>;
}
