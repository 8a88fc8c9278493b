//! The payouts area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use crate::rows::text_error;
use async_trait::async_trait;
use tally_domain::ids::{PayoutBankAccountId, PayoutId};
use tally_domain::money::Cents;
use tally_domain::payouts::{MerchantBalance, Payout, PayoutBankAccount, PayoutStatus};
use tally_domain::{OrgId, Timestamp};
use tally_store::{PayoutVerification, Payouts, StoreError};

const ACCOUNT_COLUMNS: &str = "id, org_id, holder_name, last4, number_hash, fails, account_type, \
     is_default, created_at_ms";
const PAYOUT_COLUMNS: &str = "id, org_id, bank_account_id, amount, description, status, \
     provider_transfer_id, failure_code, created_at_ms, updated_at_ms";

sql_row! {
    struct AccountRow {
        id: String,
        org_id: String,
        holder_name: String,
        last4: String,
        number_hash: String,
        fails: bool,
        account_type: Option<String>,
        is_default: bool,
        created_at_ms: i64,
    }
}

impl AccountRow {
    fn into_domain(self) -> PayoutBankAccount {
        PayoutBankAccount {
            id: PayoutBankAccountId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            holder_name: self.holder_name,
            last4: self.last4,
            number_hash: self.number_hash,
            fails: self.fails,
            account_type: self.account_type,
            is_default: self.is_default,
            created_at: Timestamp::from_millis(self.created_at_ms),
        }
    }
}

sql_row! {
    struct PayoutRow {
        id: String,
        org_id: String,
        bank_account_id: String,
        amount: i64,
        description: Option<String>,
        status: String,
        provider_transfer_id: String,
        failure_code: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PayoutRow {
    fn into_domain(self) -> Result<Payout, StoreError> {
        Ok(Payout {
            id: PayoutId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            bank_account_id: PayoutBankAccountId::from_stored(self.bank_account_id),
            amount: Cents(self.amount),
            description: self.description,
            status: PayoutStatus::parse(&self.status)
                .ok_or_else(|| text_error("payout status", &self.status))?,
            provider_transfer_id: self.provider_transfer_id,
            failure_code: self.failure_code,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

sql_row! {
    struct SumsRow {
        released: i64,
        refunded: i64,
        paid_out: i64,
    }
}

sql_row! {
    struct VerificationRow {
        org_id: String,
        provider_account_id: String,
        business_type: String,
        country: String,
        email: String,
        created_at_ms: i64,
    }
}

#[async_trait]
impl Payouts for SqlDb {
    async fn merchant_balance(
        &mut self,
        org: &OrgId,
        currency: &str,
        now: Timestamp,
    ) -> Result<MerchantBalance, StoreError> {
        // Payouts are in usd: they draw on no other currency's balance.
        let row: SumsRow = query(
            "SELECT \
               CAST(COALESCE((SELECT SUM(amount) FROM transactions WHERE org_id = $1 \
                 AND currency = $2 AND status IN ('succeeded', 'refunded') \
                 AND paid_at_ms <= $3), 0) AS BIGINT) AS released, \
               CAST(COALESCE((SELECT SUM(amount) FROM refunds WHERE org_id = $1 \
                 AND currency = $2), 0) AS BIGINT) AS refunded, \
               CAST(COALESCE((SELECT SUM(amount) FROM payouts WHERE org_id = $1 \
                 AND $2 = 'usd' AND status NOT IN ('failed', 'canceled')), 0) AS BIGINT) \
                 AS paid_out",
        )
        .bind(org.as_str())
        .bind(currency)
        .bind(now)
        .fetch_one(&mut self.conn)
        .await?;
        Ok(MerchantBalance {
            released: Cents(row.released),
            refunded: Cents(row.refunded),
            paid_out: Cents(row.paid_out),
        })
    }

    async fn insert_bank_account(&mut self, a: &PayoutBankAccount) -> Result<(), StoreError> {
        if a.is_default {
            query(
                "UPDATE payout_bank_accounts SET is_default = FALSE \
                 WHERE org_id = $1 AND is_default",
            )
            .bind(a.org_id.as_str())
            .execute(&mut self.conn)
            .await?;
        }
        query(format!(
            "INSERT INTO payout_bank_accounts ({ACCOUNT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(a.id.as_str())
        .bind(a.org_id.as_str())
        .bind(&a.holder_name)
        .bind(&a.last4)
        .bind(&a.number_hash)
        .bind(a.fails)
        .bind(&a.account_type)
        .bind(a.is_default)
        .bind(a.created_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn bank_accounts(&mut self, org: &OrgId) -> Result<Vec<PayoutBankAccount>, StoreError> {
        let rows: Vec<AccountRow> = query(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM payout_bank_accounts WHERE org_id = $1 \
             ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows.into_iter().map(AccountRow::into_domain).collect())
    }

    async fn bank_account(
        &mut self,
        org: &OrgId,
        id: &PayoutBankAccountId,
    ) -> Result<Option<PayoutBankAccount>, StoreError> {
        let row: Option<AccountRow> = query(format!(
            "SELECT {ACCOUNT_COLUMNS} FROM payout_bank_accounts WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(AccountRow::into_domain))
    }

    async fn insert_payout(&mut self, p: &Payout) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO payouts ({PAYOUT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(p.id.as_str())
        .bind(p.org_id.as_str())
        .bind(p.bank_account_id.as_str())
        .bind(p.amount.0)
        .bind(&p.description)
        .bind(p.status.as_str())
        .bind(&p.provider_transfer_id)
        .bind(&p.failure_code)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_payout(&mut self, p: &Payout) -> Result<(), StoreError> {
        query(
            "UPDATE payouts SET status = $3, failure_code = $4, updated_at_ms = $5 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(p.org_id.as_str())
        .bind(p.id.as_str())
        .bind(p.status.as_str())
        .bind(&p.failure_code)
        .bind(p.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn payout(&mut self, org: &OrgId, id: &PayoutId) -> Result<Option<Payout>, StoreError> {
        let row: Option<PayoutRow> = query(format!(
            "SELECT {PAYOUT_COLUMNS} FROM payouts WHERE org_id = $1 AND id = $2"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(PayoutRow::into_domain).transpose()
    }

    async fn payout_verification(
        &mut self,
        org: &OrgId,
    ) -> Result<Option<PayoutVerification>, StoreError> {
        let row: Option<VerificationRow> = query(
            "SELECT org_id, provider_account_id, business_type, country, email, created_at_ms \
             FROM payout_verifications WHERE org_id = $1",
        )
        .bind(org.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| PayoutVerification {
            org_id: OrgId::new(r.org_id),
            provider_account_id: r.provider_account_id,
            business_type: r.business_type,
            country: r.country,
            email: r.email,
            created_at: Timestamp::from_millis(r.created_at_ms),
        }))
    }

    async fn insert_payout_verification(
        &mut self,
        v: &PayoutVerification,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO payout_verifications (org_id, provider_account_id, business_type, \
                 country, email, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(v.org_id.as_str())
        .bind(&v.provider_account_id)
        .bind(&v.business_type)
        .bind(&v.country)
        .bind(&v.email)
        .bind(v.created_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }
}
