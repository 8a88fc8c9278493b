//! The customer credits area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::query;
use crate::rows::text_error;
use async_trait::async_trait;
use tally_domain::customer_credits::{CreditSource, CustomerCredit};
use tally_domain::ids::CustomerCreditId;
use tally_domain::money::Cents;
use tally_domain::{CustomerId, OrgId, Timestamp};
use tally_store::{CustomerCredits, Lock, StoreError};

const CREDIT_COLUMNS: &str = "id, org_id, customer_id, currency, amount, applied, reversed, \
     revoked, reason, source, expires_at_ms, created_at_ms";

sql_row! {
    struct CreditRow {
        id: String,
        org_id: String,
        customer_id: String,
        currency: String,
        amount: i64,
        applied: i64,
        reversed: i64,
        revoked: i64,
        reason: String,
        source: String,
        expires_at_ms: Option<i64>,
        created_at_ms: i64,
    }
}

impl CreditRow {
    fn into_domain(self) -> Result<CustomerCredit, StoreError> {
        Ok(CustomerCredit {
            source: CreditSource::parse(&self.source)
                .ok_or_else(|| text_error("credit source", &self.source))?,
            id: CustomerCreditId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            currency: self.currency,
            amount: Cents(self.amount),
            applied: Cents(self.applied),
            reversed: Cents(self.reversed),
            revoked: Cents(self.revoked),
            reason: self.reason,
            expires_at: self.expires_at_ms.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(self.created_at_ms),
        })
    }
}

#[async_trait]
impl CustomerCredits for SqlDb {
    async fn insert_customer_credit(&mut self, c: &CustomerCredit) -> Result<(), StoreError> {
        // Only for a customer of the same organization.
        query(format!(
            "INSERT INTO customer_credits ({CREDIT_COLUMNS}) \
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 \
             WHERE EXISTS (SELECT 1 FROM customers WHERE org_id = $2 AND id = $3)"
        ))
        .bind(c.id.as_str())
        .bind(c.org_id.as_str())
        .bind(c.customer_id.as_str())
        .bind(&c.currency)
        .bind(c.amount.0)
        .bind(c.applied.0)
        .bind(c.reversed.0)
        .bind(c.revoked.0)
        .bind(&c.reason)
        .bind(c.source.as_str())
        .bind(c.expires_at)
        .bind(c.created_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn customer_credits(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        currency: Option<&str>,
        lock: Lock,
    ) -> Result<Vec<CustomerCredit>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let rows: Vec<CreditRow> = query(format!(
            "SELECT {CREDIT_COLUMNS} FROM customer_credits \
             WHERE org_id = $1 AND customer_id = $2 AND ($3 IS NULL OR currency = $3) \
             ORDER BY created_at_ms, id{lock}"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .bind(currency)
        .fetch_all(conn)
        .await?;
        rows.into_iter().map(CreditRow::into_domain).collect()
    }

    async fn customer_credit(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        id: &CustomerCreditId,
        lock: Lock,
    ) -> Result<Option<CustomerCredit>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<CreditRow> = query(format!(
            "SELECT {CREDIT_COLUMNS} FROM customer_credits \
             WHERE org_id = $1 AND customer_id = $2 AND id = $3{lock}"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(CreditRow::into_domain).transpose()
    }

    async fn revoke_customer_credit(
        &mut self,
        org: &OrgId,
        id: &CustomerCreditId,
        revoked: Cents,
    ) -> Result<(), StoreError> {
        query("UPDATE customer_credits SET revoked = $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(id.as_str())
            .bind(revoked.0)
            .execute_one(&mut self.conn)
            .await?;
        Ok(())
    }

    async fn use_customer_credit(
        &mut self,
        org: &OrgId,
        credit: &CustomerCreditId,
        invoice: &str,
        amount: Cents,
    ) -> Result<(), StoreError> {
        query("UPDATE customer_credits SET applied = applied + $3 WHERE org_id = $1 AND id = $2")
            .bind(org.as_str())
            .bind(credit.as_str())
            .bind(amount.0)
            .execute_one(&mut self.conn)
            .await?;
        query(
            "INSERT INTO customer_credit_uses (credit_id, invoice_id, org_id, amount) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(credit.as_str())
        .bind(invoice)
        .bind(org.as_str())
        .bind(amount.0)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn reverse_customer_credit_uses(
        &mut self,
        org: &OrgId,
        invoice: &str,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE customer_credits SET reversed = reversed + \
                 (SELECT u.amount FROM customer_credit_uses u \
                  WHERE u.invoice_id = $2 AND u.credit_id = customer_credits.id) \
             WHERE org_id = $1 AND id IN \
                 (SELECT credit_id FROM customer_credit_uses WHERE org_id = $1 AND invoice_id = $2)",
        )
        .bind(org.as_str())
        .bind(invoice)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }
}
