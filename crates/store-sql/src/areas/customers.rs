//! The customers area, for both engines.

use crate::SqlDb;
use crate::query::{keyset_page, query};
use crate::rows::{CustomerRow, json_text};
use async_trait::async_trait;
use tally_domain::page::{Page, PageRequest};
use tally_domain::{Customer, CustomerId, OrgId};
use tally_store::{Customers, Lock, StoreError};

const CUSTOMER_COLUMNS: &str = "id, org_id, external_id, full_name, email, tax_document, timezone, \
     metadata, address, created_at_ms, updated_at_ms";

#[async_trait]
impl Customers for SqlDb {
    async fn customer(
        &mut self,
        org: &OrgId,
        id: &CustomerId,
        lock: Lock,
    ) -> Result<Option<Customer>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<CustomerRow> = query(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 AND id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn customer_by_external_id(
        &mut self,
        org: &OrgId,
        external_id: &str,
        lock: Lock,
    ) -> Result<Option<Customer>, StoreError> {
        let conn = &mut self.conn;
        let lock = conn.lock(lock);
        let row: Option<CustomerRow> = query(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 AND external_id = $2{lock}"
        ))
        .bind(org.as_str())
        .bind(external_id)
        .fetch_optional(&mut *conn)
        .await?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn newest_customer_by_email(
        &mut self,
        org: &OrgId,
        email: &str,
    ) -> Result<Option<Customer>, StoreError> {
        let row: Option<CustomerRow> = query(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 \
             AND lower(email) = lower($2) ORDER BY created_at_ms DESC, id DESC LIMIT 1"
        ))
        .bind(org.as_str())
        .bind(email)
        .fetch_optional(&mut self.conn)
        .await?;
        row.map(CustomerRow::into_domain).transpose()
    }

    async fn customers(
        &mut self,
        org: &OrgId,
        external_id: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<Customer>, StoreError> {
        let conn = &mut self.conn;
        let rows: Vec<CustomerRow> = query(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM customers \
             WHERE org_id = $1 AND (CAST($2 AS TEXT) IS NULL OR external_id = $2) AND {}",
            keyset_page("created_at_ms", 3)
        ))
        .bind(org.as_str())
        .bind(external_id)
        .bind_page(page)
        .fetch_all(conn)
        .await?;
        let customers = rows
            .into_iter()
            .map(CustomerRow::into_domain)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(customers, page.limit))
    }

    async fn search_customers(
        &mut self,
        org: &OrgId,
        text: &str,
        limit: u32,
    ) -> Result<Vec<Customer>, StoreError> {
        // A union rather than one OR: each arm is an index lookup on both engines. It is
        // sorted outside: with the ORDER BY on the union itself, SQLite reads the e-mail arm
        // through the creation-order index to skip the sort, a scan of every customer.
        let rows: Vec<CustomerRow> = query(format!(
            "SELECT {CUSTOMER_COLUMNS} FROM ( \
                 SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 AND id = $2 \
                 UNION SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 AND external_id = $2 \
                 UNION SELECT {CUSTOMER_COLUMNS} FROM customers WHERE org_id = $1 AND email = $2 \
             ) AS found ORDER BY created_at_ms DESC, id DESC LIMIT $3"
        ))
        .bind(org.as_str())
        .bind(text)
        .bind(i64::from(limit))
        .fetch_all(&mut self.conn)
        .await?;
        rows.into_iter().map(CustomerRow::into_domain).collect()
    }

    async fn insert_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(format!(
            "INSERT INTO customers ({CUSTOMER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(customer.id.as_str())
        .bind(customer.org_id.as_str())
        .bind(&customer.external_id)
        .bind(&customer.full_name)
        .bind(&customer.email)
        .bind(&customer.tax_document)
        .bind(&customer.timezone)
        .bind(json_text(customer.metadata.as_ref()))
        .bind(json_text(customer.address.as_ref()))
        .bind(customer.created_at.as_millis())
        .bind(customer.updated_at.as_millis())
        .execute(&mut *conn)
        .await?;
        Ok(())
    }

    async fn update_customer(&mut self, customer: &Customer) -> Result<(), StoreError> {
        let conn = &mut self.conn;
        query(
            "UPDATE customers SET external_id = $1, full_name = $2, email = $3, tax_document = $4, \
                 timezone = $5, metadata = $6, address = $7, updated_at_ms = $8 \
             WHERE org_id = $9 AND id = $10",
        )
        .bind(&customer.external_id)
        .bind(&customer.full_name)
        .bind(&customer.email)
        .bind(&customer.tax_document)
        .bind(&customer.timezone)
        .bind(json_text(customer.metadata.as_ref()))
        .bind(json_text(customer.address.as_ref()))
        .bind(customer.updated_at.as_millis())
        .bind(customer.org_id.as_str())
        .bind(customer.id.as_str())
        .execute_one(&mut *conn)
        .await
    }
}
