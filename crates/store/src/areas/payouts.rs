//! The merchant's balance, payout bank accounts and payouts (`payments.md` §9).

use crate::StoreError;
use async_trait::async_trait;
use tally_domain::ids::{PayoutBankAccountId, PayoutId};
use tally_domain::payouts::{MerchantBalance, Payout, PayoutBankAccount};
use tally_domain::{OrgId, Timestamp};

/// The record of a payout account's verification (2026-07-11 `completeVerification`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutVerification {
    pub org_id: OrgId,
    pub provider_account_id: String,
    pub business_type: String,
    pub country: String,
    pub email: String,
    pub created_at: Timestamp,
}

#[async_trait]
pub trait Payouts {
    /// The sums behind the merchant's balance in `currency` at `now`: charges paid by then,
    /// refunds, and (for `usd`) payouts that did not fail.
    async fn merchant_balance(
        &mut self,
        org: &OrgId,
        currency: &str,
        now: Timestamp,
    ) -> Result<MerchantBalance, StoreError>;

    /// Saves an account; when it is the default, the previous default stops being one.
    async fn insert_bank_account(&mut self, account: &PayoutBankAccount) -> Result<(), StoreError>;

    /// The organization's accounts, oldest first.
    async fn bank_accounts(&mut self, org: &OrgId) -> Result<Vec<PayoutBankAccount>, StoreError>;

    async fn bank_account(
        &mut self,
        org: &OrgId,
        id: &PayoutBankAccountId,
    ) -> Result<Option<PayoutBankAccount>, StoreError>;

    async fn insert_payout(&mut self, payout: &Payout) -> Result<(), StoreError>;

    /// Writes the payout's status, failure and update time.
    async fn update_payout(&mut self, payout: &Payout) -> Result<(), StoreError>;

    async fn payout(&mut self, org: &OrgId, id: &PayoutId) -> Result<Option<Payout>, StoreError>;

    async fn payout_verification(
        &mut self,
        org: &OrgId,
    ) -> Result<Option<PayoutVerification>, StoreError>;

    async fn insert_payout_verification(
        &mut self,
        verification: &PayoutVerification,
    ) -> Result<(), StoreError>;
}
