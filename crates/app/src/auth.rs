//! Who is calling: an API key resolves to its organization, which decides `livemode`.
//!
//! Keys are stored as SHA-256 hashes; the secret is never kept. Each node keeps what never
//! changes about a key it has seen (its id, expiry and organization, by secret hash), so a
//! request does not wait for a lookup of its own. What can change (revocation, the sandbox test
//! clock) is the key's *standing*, read fresh in the connection or transaction of the operation
//! itself: `App::reader` for reads, the write job's first read for writes. A revoked key is
//! therefore refused by every node from the moment the revocation commits. See the README's
//! Decisions.

use crate::{App, AppError};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Mutex;
use tally_domain::organization::org_now;
use tally_domain::{ApiKeyId, OrgId, Organization, Timestamp};
use tally_store::{Db, KeyLookup, StoreError};
use tracing::warn;

/// The key id the writes of Tally's hosted pages run under: a page carries a signed token, not
/// an API key, and no key has this id.
pub static PAGE_KEY: std::sync::LazyLock<ApiKeyId> =
    std::sync::LazyLock::new(|| ApiKeyId::from_stored("key_hosted_page".to_owned()));

/// `lastUsedAt` is refreshed at most this often per key and node, so reads stay reads.
pub const KEY_TOUCH_INTERVAL_MS: i64 = 60_000;
/// Keys a node remembers; when full it starts over (a lookup per key refills it).
pub const KNOWN_KEYS_MAX: usize = 10_000;

/// The authenticated caller of one request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// What never changes about the organization. Its `test_clock` is not kept here (it moves):
    /// the organization's now comes with the key's standing.
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

/// The keys this node has seen, by secret hash.
#[derive(Default)]
pub(crate) struct KnownKeys {
    entries: Mutex<HashMap<String, Known>>,
}

#[derive(Clone)]
struct Known {
    lookup: KeyLookup,
    /// When this node last recorded the key's use.
    touched_at: Option<Timestamp>,
}

impl KnownKeys {
    fn get(&self, hash: &str) -> Option<Known> {
        self.lock().get(hash).cloned()
    }

    fn remember(&self, hash: String, lookup: KeyLookup) -> Known {
        let known = Known {
            touched_at: lookup.key.last_used_at,
            lookup,
        };
        let mut entries = self.lock();
        if entries.len() >= KNOWN_KEYS_MAX {
            entries.clear();
        }
        entries.insert(hash, known.clone());
        known
    }

    fn touched(&self, hash: &str, at: Timestamp) {
        if let Some(known) = self.lock().get_mut(hash) {
            known.touched_at = Some(at);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl App {
    /// Resolves an `x-api-key` value. Missing, unknown, revoked and expired keys are all
    /// `Unauthorized`: the caller learns nothing about which. A key this node knows already is
    /// not looked up again; the operation checks its standing (see the module docs).
    pub async fn authenticate(&self, secret: &str) -> Result<Caller, AppError> {
        if !secret.starts_with("ck_") {
            return Err(AppError::Unauthorized);
        }
        let hash = secret_hash(secret);
        let known = match self.known_keys.get(&hash) {
            Some(known) => known,
            None => {
                let found = self.store.read().await?.key_by_secret_hash(&hash).await?;
                let Some(found) = found else {
                    return Err(AppError::Unauthorized);
                };
                self.known_keys.remember(hash.clone(), found)
            }
        };
        let now = self.clock.now();
        // Real time, not the organization's: a key is a credential (`api_keys::CreateApiKey`).
        if known.lookup.key.is_expired(now) {
            return Err(AppError::Unauthorized);
        }
        let unless_after = Timestamp::from_millis(now.as_millis() - KEY_TOUCH_INTERVAL_MS);
        if known.touched_at.is_none_or(|at| at <= unless_after) {
            self.known_keys.touched(&hash, now);
            let (org, id) = (known.lookup.key.org_id.clone(), known.lookup.key.id.clone());
            if let Err(error) = self.touch_key(org, id.clone(), now, unless_after).await {
                // Decision: a failed lastUsedAt update must not fail the request it describes.
                warn!(%error, key = %id, "could not record API key use");
            }
        }
        let KeyLookup {
            key,
            mut organization,
        } = known.lookup;
        organization.test_clock = None;
        Ok(Caller {
            organization,
            key_id: key.id,
        })
    }

    /// A read connection for `caller`'s operation and the organization's now, once the key's
    /// standing has been read on that connection: a revoked key is `Unauthorized`.
    pub(crate) async fn reader(
        &self,
        caller: &Caller,
    ) -> Result<(Box<dyn Db>, Timestamp), AppError> {
        let mut db = self.store.read().await?;
        let standing = db
            .key_standing(caller.org(), &caller.key_id)
            .await?
            .ok_or(AppError::Unauthorized)?;
        Ok((db, org_now(standing.test_clock, self.clock.now())))
    }

    /// Records `lastUsedAt` in a write job of its own.
    async fn touch_key(
        &self,
        org: OrgId,
        id: ApiKeyId,
        now: Timestamp,
        unless_after: Timestamp,
    ) -> Result<(), StoreError> {
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { tx.touch_api_key(&org, &id, now, unless_after).await })
        })
        .await
    }
}
