//! Idempotency records: a key recorded with the response it replays.

use crate::{IdempotencyRecord, StoreError, StoredResponse};
use async_trait::async_trait;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait Idempotency {
    /// The record for `key`, expired or not; the caller decides what expiry means.
    async fn idempotency_record(
        &mut self,
        org: &OrgId,
        key: &str,
    ) -> Result<Option<IdempotencyRecord>, StoreError>;

    /// Records `key` with its final response, in the transaction that did the work: `true`, or
    /// `false` when the key is already recorded (read it with `idempotency_record`). A
    /// concurrent record of the same key waits for the other transaction to end and then gets
    /// `false` if it committed. One statement on the common path, where the key is new.
    async fn record_idempotency(
        &mut self,
        org: &OrgId,
        key: &str,
        fingerprint: &str,
        response: &StoredResponse,
        now: Timestamp,
        expires_at: Timestamp,
    ) -> Result<bool, StoreError>;

    async fn delete_idempotency(&mut self, org: &OrgId, key: &str) -> Result<(), StoreError>;

    /// Deletes the records of every organization that expired before `now`; returns how many.
    async fn purge_idempotency(&mut self, now: Timestamp) -> Result<u64, StoreError>;
}
