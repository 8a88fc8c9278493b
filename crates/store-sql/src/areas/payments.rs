//! The payments area, for both engines.

use crate::SqlDb;
use crate::decode::sql_row;
use crate::query::{keyset_page, query};
use crate::rows::{json_text, parse_json, text_error};
use async_trait::async_trait;
use tally_domain::dunning::Recovery;
use tally_domain::ids::{CustomerId, PaymentId, RefundId, SavedCardId, TransactionId};
use tally_domain::money::Cents;
use tally_domain::page::{Page, PageRequest};
use tally_domain::payments::{
    CardInfo, Decline, Payment, PaymentKind, PaymentStatus, Refund, SavedCard, Transaction,
    TransactionStatus,
};
use tally_domain::{OrgId, Timestamp};
use tally_store::{Lock, Payments, StoreError};

const PAYMENT_COLUMNS: &str = "id, org_id, customer_id, kind, status, amount, currency, \
     description, metadata, success_url, expires_at_ms, invoice_id, created_at_ms, updated_at_ms";
const TRANSACTION_COLUMNS: &str = "id, org_id, customer_id, payment_id, invoice_id, amount, \
     currency, status, provider, charge_ref, method_ref, customer_email, customer_name, reason, failure_code, \
     failure_message, attempt, paid_at_ms, created_at_ms, updated_at_ms, recovery, \
     recovery_attempt";
const CARD_COLUMNS: &str = "id, org_id, customer_id, method_ref, brand, last4, exp_month, \
     exp_year, is_default, created_at_ms";

sql_row! {
    struct PaymentRow {
        id: String,
        org_id: String,
        customer_id: Option<String>,
        kind: String,
        status: String,
        amount: i64,
        currency: String,
        description: String,
        metadata: Option<String>,
        success_url: Option<String>,
        expires_at_ms: Option<i64>,
        invoice_id: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl PaymentRow {
    fn into_domain(self) -> Result<Payment, StoreError> {
        Ok(Payment {
            id: PaymentId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: self.customer_id.map(CustomerId::from_stored),
            kind: PaymentKind::parse(&self.kind)
                .ok_or_else(|| text_error("payment kind", &self.kind))?,
            status: PaymentStatus::parse(&self.status)
                .ok_or_else(|| text_error("payment status", &self.status))?,
            amount: Cents(self.amount),
            currency: self.currency,
            description: self.description,
            metadata: parse_json(self.metadata.as_deref())?,
            success_url: self.success_url,
            expires_at: self.expires_at_ms.map(Timestamp::from_millis),
            invoice_id: self.invoice_id,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

sql_row! {
    struct TransactionRow {
        id: String,
        org_id: String,
        customer_id: Option<String>,
        payment_id: Option<String>,
        invoice_id: Option<String>,
        amount: i64,
        currency: String,
        status: String,
        provider: String,
        charge_ref: Option<String>,
        method_ref: Option<String>,
        customer_email: String,
        customer_name: Option<String>,
        reason: String,
        failure_code: Option<String>,
        failure_message: Option<String>,
        attempt: Option<String>,
        paid_at_ms: Option<i64>,
        created_at_ms: i64,
        updated_at_ms: i64,
        recovery: Option<String>,
        recovery_attempt: Option<i64>,
    }
}

impl TransactionRow {
    fn into_domain(self) -> Result<Transaction, StoreError> {
        Ok(Transaction {
            id: TransactionId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: self.customer_id.map(CustomerId::from_stored),
            payment_id: self.payment_id.map(PaymentId::from_stored),
            invoice_id: self.invoice_id,
            amount: Cents(self.amount),
            currency: self.currency,
            status: TransactionStatus::parse(&self.status)
                .ok_or_else(|| text_error("transaction status", &self.status))?,
            provider: self.provider,
            charge_ref: self.charge_ref,
            method_ref: self.method_ref,
            customer_email: self.customer_email,
            customer_name: self.customer_name,
            reason: self.reason,
            failure: match (self.failure_code, self.failure_message) {
                (Some(code), Some(message)) => Some(Decline { code, message }),
                _ => None,
            },
            attempt: self.attempt,
            recovery: match self.recovery.as_deref() {
                Some(kind) => Some(
                    Recovery::from_stored(kind, self.recovery_attempt)
                        .ok_or_else(|| text_error("transaction recovery", kind))?,
                ),
                None => None,
            },
            paid_at: self.paid_at_ms.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

sql_row! {
    struct RefundRow {
        id: String,
        org_id: String,
        transaction_id: String,
        amount: i64,
        currency: String,
        charge_ref: String,
        created_at_ms: i64,
    }
}

sql_row! {
    struct CardRow {
        id: String,
        org_id: String,
        customer_id: String,
        method_ref: String,
        brand: String,
        last4: String,
        exp_month: i64,
        exp_year: i64,
        is_default: bool,
        created_at_ms: i64,
    }
}

impl CardRow {
    fn into_domain(self) -> SavedCard {
        SavedCard {
            id: SavedCardId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            customer_id: CustomerId::from_stored(self.customer_id),
            method_ref: self.method_ref,
            card: CardInfo {
                brand: self.brand,
                last4: self.last4,
                exp_month: u32::try_from(self.exp_month).unwrap_or(0),
                exp_year: u32::try_from(self.exp_year).unwrap_or(0),
            },
            is_default: self.is_default,
            created_at: Timestamp::from_millis(self.created_at_ms),
        }
    }
}

fn transactions_from(rows: Vec<TransactionRow>) -> Result<Vec<Transaction>, StoreError> {
    rows.into_iter().map(TransactionRow::into_domain).collect()
}

#[async_trait]
impl Payments for SqlDb {
    async fn insert_payment(&mut self, p: &Payment) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO payments ({PAYMENT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
        ))
        .bind(p.id.as_str())
        .bind(p.org_id.as_str())
        .bind(p.customer_id.as_ref().map(CustomerId::as_str))
        .bind(p.kind.as_str())
        .bind(p.status.as_str())
        .bind(p.amount.0)
        .bind(&p.currency)
        .bind(&p.description)
        .bind(json_text(p.metadata.as_ref()))
        .bind(&p.success_url)
        .bind(p.expires_at)
        .bind(&p.invoice_id)
        .bind(p.created_at)
        .bind(p.updated_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_payment(&mut self, p: &Payment) -> Result<(), StoreError> {
        query(
            "UPDATE payments SET status = $3, invoice_id = $4, customer_id = $5, \
                 updated_at_ms = $6 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(p.org_id.as_str())
        .bind(p.id.as_str())
        .bind(p.status.as_str())
        .bind(&p.invoice_id)
        .bind(p.customer_id.as_ref().map(CustomerId::as_str))
        .bind(p.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn payment(
        &mut self,
        org: &OrgId,
        id: &PaymentId,
        lock: Lock,
    ) -> Result<Option<Payment>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<PaymentRow> = query(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(PaymentRow::into_domain).transpose()
    }

    async fn payments(
        &mut self,
        org: &OrgId,
        customer: Option<&CustomerId>,
        page: &PageRequest,
    ) -> Result<Page<Payment>, StoreError> {
        let rows: Vec<PaymentRow> = query(format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE org_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR customer_id = $2) AND {}",
            keyset_page("created_at_ms", 3)
        ))
        .bind(org.as_str())
        .bind(customer.map(CustomerId::as_str))
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        let payments = rows
            .into_iter()
            .map(PaymentRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(payments, page.limit))
    }

    async fn insert_transaction(&mut self, t: &Transaction) -> Result<(), StoreError> {
        query(format!(
            "INSERT INTO transactions ({TRANSACTION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, \
             $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22)"
        ))
        .bind(t.id.as_str())
        .bind(t.org_id.as_str())
        .bind(t.customer_id.as_ref().map(CustomerId::as_str))
        .bind(t.payment_id.as_ref().map(PaymentId::as_str))
        .bind(&t.invoice_id)
        .bind(t.amount.0)
        .bind(&t.currency)
        .bind(t.status.as_str())
        .bind(&t.provider)
        .bind(&t.charge_ref)
        .bind(&t.method_ref)
        .bind(&t.customer_email)
        .bind(&t.customer_name)
        .bind(&t.reason)
        .bind(t.failure.as_ref().map(|f| f.code.clone()))
        .bind(t.failure.as_ref().map(|f| f.message.clone()))
        .bind(&t.attempt)
        .bind(t.paid_at)
        .bind(t.created_at)
        .bind(t.updated_at)
        .bind(t.recovery.map(Recovery::kind))
        .bind(t.recovery.and_then(Recovery::attempt).map(i64::from))
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn update_transaction(&mut self, t: &Transaction) -> Result<(), StoreError> {
        query(
            "UPDATE transactions SET status = $3, invoice_id = $4, charge_ref = $5, \
                 failure_code = $6, failure_message = $7, paid_at_ms = $8, updated_at_ms = $9 \
             WHERE org_id = $1 AND id = $2",
        )
        .bind(t.org_id.as_str())
        .bind(t.id.as_str())
        .bind(t.status.as_str())
        .bind(&t.invoice_id)
        .bind(&t.charge_ref)
        .bind(t.failure.as_ref().map(|f| f.code.clone()))
        .bind(t.failure.as_ref().map(|f| f.message.clone()))
        .bind(t.paid_at)
        .bind(t.updated_at)
        .execute_one(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn transaction(
        &mut self,
        org: &OrgId,
        id: &TransactionId,
        lock: Lock,
    ) -> Result<Option<Transaction>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<TransactionRow> = query(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
        row.map(TransactionRow::into_domain).transpose()
    }

    async fn transactions(
        &mut self,
        org: &OrgId,
        status: Option<TransactionStatus>,
        email: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Transaction>, StoreError> {
        let rows: Vec<TransactionRow> = query(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions WHERE org_id = $1 \
             AND (CAST($2 AS TEXT) IS NULL OR status = $2) \
             AND (CAST($3 AS TEXT) IS NULL OR lower(customer_email) = lower($3)) AND {}",
            keyset_page("created_at_ms", 4)
        ))
        .bind(org.as_str())
        .bind(status.map(TransactionStatus::as_str))
        .bind(email)
        .bind_page(page)
        .fetch_all(&mut self.conn)
        .await?;
        Ok(Page::from_overfetch(transactions_from(rows)?, page.limit))
    }

    async fn expired_links(
        &mut self,
        org: Option<&OrgId>,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError> {
        let columns = PAYMENT_COLUMNS
            .split(", ")
            .map(|c| format!("p.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<PaymentRow> = query(format!(
            "SELECT {columns} FROM payments p JOIN organizations o ON o.id = p.org_id \
             WHERE p.kind = 'link' AND p.status IN ('pending', 'failed', 'requires_action') \
               AND p.expires_at_ms <= $1 \
               AND ((CAST($2 AS TEXT) IS NOT NULL AND p.org_id = $2) \
                 OR (CAST($2 AS TEXT) IS NULL AND o.test_clock_ms IS NULL)) \
             ORDER BY p.expires_at_ms, p.id LIMIT $3"
        ))
        .bind(now)
        .bind(org.map(OrgId::as_str))
        .bind(i64::from(limit))
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter().map(PaymentRow::into_domain).collect()
    }

    async fn payment_transactions(
        &mut self,
        org: &OrgId,
        payment: &PaymentId,
    ) -> Result<Vec<Transaction>, StoreError> {
        let rows: Vec<TransactionRow> = query(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions \
             WHERE org_id = $1 AND payment_id = $2 ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(payment.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        transactions_from(rows)
    }

    async fn invoice_transactions(
        &mut self,
        org: &OrgId,
        invoice: &str,
    ) -> Result<Vec<Transaction>, StoreError> {
        let rows: Vec<TransactionRow> = query(format!(
            "SELECT {TRANSACTION_COLUMNS} FROM transactions \
             WHERE org_id = $1 AND invoice_id = $2 ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(invoice)
        .fetch_all(&mut self.conn)
        .await?;
        transactions_from(rows)
    }

    async fn manual_attempts_since(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
        since: Timestamp,
    ) -> Result<Vec<Timestamp>, StoreError> {
        let rows: Vec<(i64,)> = query(
            "SELECT created_at_ms FROM transactions WHERE org_id = $1 AND customer_id = $2 \
               AND recovery = 'payment_recovery' AND created_at_ms > $3 ORDER BY created_at_ms",
        )
        .bind(org.as_str())
        .bind(customer.as_str())
        .bind(since)
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(at,)| Timestamp::from_millis(at))
            .collect())
    }

    async fn insert_refund(&mut self, r: &Refund) -> Result<(), StoreError> {
        query(
            "INSERT INTO refunds (id, org_id, transaction_id, amount, currency, charge_ref, \
                 created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(r.id.as_str())
        .bind(r.org_id.as_str())
        .bind(r.transaction_id.as_str())
        .bind(r.amount.0)
        .bind(&r.currency)
        .bind(&r.charge_ref)
        .bind(r.created_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn refund_of(
        &mut self,
        org: &OrgId,
        transaction: &TransactionId,
    ) -> Result<Option<Refund>, StoreError> {
        let row: Option<RefundRow> = query(
            "SELECT id, org_id, transaction_id, amount, currency, charge_ref, created_at_ms \
             FROM refunds WHERE org_id = $1 AND transaction_id = $2",
        )
        .bind(org.as_str())
        .bind(transaction.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(|r| Refund {
            id: RefundId::from_stored(r.id),
            org_id: OrgId::new(r.org_id),
            transaction_id: TransactionId::from_stored(r.transaction_id),
            amount: Cents(r.amount),
            currency: r.currency,
            charge_ref: r.charge_ref,
            created_at: Timestamp::from_millis(r.created_at_ms),
        }))
    }

    async fn insert_saved_card(&mut self, c: &SavedCard) -> Result<(), StoreError> {
        if c.is_default {
            query(
                "UPDATE saved_cards SET is_default = FALSE \
                 WHERE org_id = $1 AND customer_id = $2 AND is_default",
            )
            .bind(c.org_id.as_str())
            .bind(c.customer_id.as_str())
            .execute(&mut self.conn)
            .await?;
        }
        query(format!(
            "INSERT INTO saved_cards ({CARD_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ))
        .bind(c.id.as_str())
        .bind(c.org_id.as_str())
        .bind(c.customer_id.as_str())
        .bind(&c.method_ref)
        .bind(&c.card.brand)
        .bind(&c.card.last4)
        .bind(i64::from(c.card.exp_month))
        .bind(i64::from(c.card.exp_year))
        .bind(c.is_default)
        .bind(c.created_at)
        .execute(&mut self.conn)
        .await?;
        Ok(())
    }

    async fn saved_cards(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Vec<SavedCard>, StoreError> {
        let rows: Vec<CardRow> = query(format!(
            "SELECT {CARD_COLUMNS} FROM saved_cards \
             WHERE org_id = $1 AND customer_id = $2 ORDER BY created_at_ms, id"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .fetch_all(&mut self.conn)
        .await?;
        Ok(rows.into_iter().map(CardRow::into_domain).collect())
    }

    async fn default_card(
        &mut self,
        org: &OrgId,
        customer: &CustomerId,
    ) -> Result<Option<SavedCard>, StoreError> {
        let row: Option<CardRow> = query(format!(
            "SELECT {CARD_COLUMNS} FROM saved_cards \
             WHERE org_id = $1 AND customer_id = $2 AND is_default"
        ))
        .bind(org.as_str())
        .bind(customer.as_str())
        .fetch_optional(&mut self.conn)
        .await?;
        Ok(row.map(CardRow::into_domain))
    }
}
