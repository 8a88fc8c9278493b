//! Who is calling: an API key resolves to its organization, which decides `livemode`.
//!
//! Contract: `wire.md` §4. Keys are stored as SHA-256 hashes; the secret is never kept.

use crate::{App, AppError};
use sha2::{Digest, Sha256};
use tally_domain::api_key::ApiKey;
use tally_domain::{ApiKeyId, OrgId, Organization, Timestamp};
use tally_store::StoreError;
use tracing::warn;

/// `lastUsedAt` is refreshed at most this often per key, so reads stay reads.
pub const KEY_TOUCH_INTERVAL_MS: i64 = 60_000;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub organization: Organization,
    pub key_id: ApiKeyId,
}

impl Caller {
    pub fn org(&self) -> &OrgId {
        &self.organization.id
    }

    pub fn is_live(&self) -> bool {
        self.organization.mode.is_live()
    }
}

/// The stored form of a secret: lowercase hex SHA-256. Secrets carry 190 bits of randomness,
/// so a fast hash is enough (no password-style stretching needed).
pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl App {
    /// Resolves an `x-api-key` value. Missing, unknown, revoked and expired keys are all
    /// `Unauthorized`: the caller learns nothing about which.
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, AppError> {
        if !secret.starts_with("ck_") {
            return Err(AppError::Unauthorized);
        }
        let Some(found) = self
            .store
            .read()
            .await?
            .key_by_secret_hash(&secret_hash(secret))
            .await?
        else {
            return Err(AppError::Unauthorized);
        };
        let now = self.clock.now();
        // Real time, not the organization's: a key is a credential (`api_keys::CreateApiKey`).
        if found.key.is_expired(now) {
            return Err(AppError::Unauthorized);
        }
        let unless_after = Timestamp::from_millis(now.as_millis() - KEY_TOUCH_INTERVAL_MS);
        // The lookup already says when the key was last recorded: write only when that is
        // stale, so a read stays a read (on SQLite it would otherwise wait for the one writer).
        let is_stale = found.key.last_used_at.is_none_or(|at| at <= unless_after);
        if is_stale && let Err(error) = self.touch_key(&found.key, now, unless_after).await {
            // Decision: a failed lastUsedAt update must not fail the request it describes.
            warn!(%error, key = %found.key.id, "could not record API key use");
        }
        Ok(Caller {
            organization: found.organization,
            key_id: found.key.id,
        })
    }

    /// Records `lastUsedAt` in a write job of its own.
    async fn touch_key(
        &self,
        key: &ApiKey,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError> {
        let (org, id) = (key.org_id.clone(), key.id.clone());
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { tx.touch_api_key(&org, &id, now, unless_after).await })
        })
        .await
    }
}
