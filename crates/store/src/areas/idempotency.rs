//! Idempotency records: a key recorded with the response it replays.

use crate::{IdempotencyRecord, StoreError, StoredResponse};
use async_trait::async_trait;
use tally_domain::{ApiKeyId, OrgId, Timestamp};

/// Whose idempotency keys a call reads or writes: those one API key of an organization sent.
/// Another API key of the same organization has a key space of its own, so it never sees (or
/// collides with) this key's answers.
#[derive(Debug, Clone, Copy)]
pub struct IdempotencyScope<'a> {
    pub org: &'a OrgId,
    pub api_key: &'a ApiKeyId,
}

#[async_trait]
pub trait Idempotency {
    /// The record for `key` in `scope`, expired or not; the caller decides what expiry means.
    async fn idempotency_record(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Records `key` in `scope` with its final response, in the transaction that did the work:
    /// `true`, or `false` when the key is already recorded (read it with
    /// `idempotency_record`). A concurrent record of the same key waits for the other
    /// transaction to end and then gets `false` if it committed. One statement on the common
    /// path, where the key is new.
    async fn record_idempotency(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn delete_idempotency(
        &mut self,
        scope: IdempotencyScope<'_>,
        key: &str,
    ) -> Result<(), StoreError>;

    /// Deletes the records of every organization that expired before `now`; returns how many.
    async fn purge_idempotency(&mut self, now: Timestamp) -> Result<u64, StoreError>;
}
