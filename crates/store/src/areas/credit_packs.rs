//! Credit packs (`commerce.md` §3).

use crate::{Lock, StoreError};
use async_trait::async_trait;
use tally_domain::credit_packs::CreditPack;
use tally_domain::ids::CreditPackId;
use tally_domain::{OrgId, Timestamp};

#[async_trait]
pub trait CreditPacks {
    /// The live packs of `org`, active or not, oldest first.
    async fn credit_packs(&mut self, org: &OrgId) -> Result<Vec<CreditPack>, StoreError>;

    /// A live pack by id.
    async fn credit_pack(
        &mut self,
        org: &OrgId,
        id: &CreditPackId,
        lock: Lock,
    ) -> Result<Option<CreditPack>, StoreError>;

    /// Inserts a pack; a name a live pack has (in any case) is `Conflict` on
    /// `credit_packs_name`.
    async fn insert_credit_pack(&mut self, pack: &CreditPack) -> Result<(), StoreError>;

    /// Updates the one live row of the organization the value names (`NotFound` otherwise);
    /// a taken name is `Conflict` on `credit_packs_name`.
    async fn update_credit_pack(&mut self, pack: &CreditPack) -> Result<(), StoreError>;

    async fn delete_credit_pack(
        &mut self,
        org: &OrgId,
        id: &CreditPackId,
        now: Timestamp,
    ) -> Result<(), StoreError>;
}
