//! Rows as both engines return them, and their conversion into domain values.
//!
//! The SQLite and PostgreSQL schemas use the same column names and portable types (text,
//! 64-bit integers), so one generic `FromRow` per row serves both.
//! Columns that hold JSON are text; a row that fails to convert is reported as a store error,
//! never a panic.

mod catalog;
mod usage;
mod webhooks;

pub use catalog::{
    DeadlineFailureRow, DueRow, FeatureRow, InvoiceLineRow, InvoiceRow, PlanFeatureRow,
    PlanGroupRow, PlanRow, PriceRow, RunRow, SeatBalanceRow, SeatEventRow, SnapshotRow,
    SubscriptionRow, TrueUpRow, run_body,
};
pub use usage::{HotStampRow, UsageCounterRow, usage_properties_text};
pub use webhooks::{AttemptRow, DeliveryRow, EndpointRow, EventRow};

use crate::decode::{DecodeRow, RowRef, sql_row};
use tally_domain::api_key::ApiKey;
use tally_domain::customer::Metadata;
use tally_domain::{
    ApiKeyId, ApiVersion, Customer, CustomerId, Mode, OrgId, Organization, Timestamp,
};
use tally_store::{IdempotencyRecord, KeyLookup, StoreError, StoredResponse};

sql_row! {
    pub struct OrganizationRow {
        id: String,
        name: String,
        mode: String,
        paired_org_id: Option<String>,
        api_version: String,
        test_clock_ms: Option<i64>,
        created_at_ms: i64,
    }
}

impl OrganizationRow {
    pub fn into_domain(self) -> Result<Organization, StoreError> {
        Ok(Organization {
            id: OrgId::new(self.id),
            name: self.name,
            mode: parse_mode(&self.mode)?,
            paired_org_id: self.paired_org_id.map(OrgId::new),
            api_version: ApiVersion::from_pin(&self.api_version),
            test_clock: self.test_clock_ms.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(self.created_at_ms),
        })
    }
}

sql_row! {
    pub struct ApiKeyRow {
        id: String,
        org_id: String,
        name: String,
        prefix: String,
        expires_at_ms: Option<i64>,
        last_used_at_ms: Option<i64>,
        created_at_ms: i64,
    }
}

impl ApiKeyRow {
    pub fn into_domain(self) -> ApiKey {
        ApiKey {
            id: ApiKeyId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            name: self.name,
            prefix: self.prefix,
            expires_at: self.expires_at_ms.map(Timestamp::from_millis),
            last_used_at: self.last_used_at_ms.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(self.created_at_ms),
        }
    }
}

/// A key joined with its organization (the authentication query).
pub struct KeyLookupRow {
    key: ApiKeyRow,
    org_name: String,
    mode: String,
    paired_org_id: Option<String>,
    api_version: String,
    test_clock_ms: Option<i64>,
    org_created_at_ms: i64,
}

impl DecodeRow for KeyLookupRow {
    fn decode(row: &RowRef<'_, '_>) -> Result<Self, StoreError> {
        Ok(Self {
            key: ApiKeyRow::decode(row)?,
            org_name: row.get("org_name")?,
            mode: row.get("mode")?,
            paired_org_id: row.get("paired_org_id")?,
            api_version: row.get("api_version")?,
            test_clock_ms: row.get("test_clock_ms")?,
            org_created_at_ms: row.get("org_created_at_ms")?,
        })
    }
}

impl KeyLookupRow {
    pub fn into_lookup(self) -> Result<KeyLookup, StoreError> {
        let key = self.key.into_domain();
        let organization = OrganizationRow {
            id: key.org_id.as_str().to_owned(),
            name: self.org_name,
            mode: self.mode,
            paired_org_id: self.paired_org_id,
            api_version: self.api_version,
            test_clock_ms: self.test_clock_ms,
            created_at_ms: self.org_created_at_ms,
        }
        .into_domain()?;
        Ok(KeyLookup { key, organization })
    }
}

sql_row! {
    pub struct IdempotencyRow {
        fingerprint: String,
        response_status: Option<i32>,
        response_body: Option<String>,
        created_at_ms: i64,
        expires_at_ms: i64,
    }
}

impl IdempotencyRow {
    pub fn into_record(self) -> IdempotencyRecord {
        let response = match (self.response_status, self.response_body) {
            (Some(status), Some(body)) => u16::try_from(status)
                .ok()
                .map(|status| StoredResponse { status, body }),
            _ => None,
        };
        IdempotencyRecord {
            fingerprint: self.fingerprint,
            response,
            created_at: Timestamp::from_millis(self.created_at_ms),
            expires_at: Timestamp::from_millis(self.expires_at_ms),
        }
    }
}

sql_row! {
    pub struct CustomerRow {
        id: String,
        org_id: String,
        external_id: Option<String>,
        full_name: Option<String>,
        email: String,
        tax_document: Option<String>,
        timezone: Option<String>,
        metadata: Option<String>,
        address: Option<String>,
        created_at_ms: i64,
        updated_at_ms: i64,
    }
}

impl CustomerRow {
    pub fn into_domain(self) -> Result<Customer, StoreError> {
        let metadata: Option<Metadata> = parse_json(self.metadata.as_deref())?;
        Ok(Customer {
            id: CustomerId::from_stored(self.id),
            org_id: OrgId::new(self.org_id),
            external_id: self.external_id,
            full_name: self.full_name,
            email: self.email,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata,
            address: parse_json(self.address.as_deref())?,
            created_at: Timestamp::from_millis(self.created_at_ms),
            updated_at: Timestamp::from_millis(self.updated_at_ms),
        })
    }
}

/// JSON columns are text in both backends; `None` stays SQL NULL.
pub fn json_text<T: serde::Serialize + ?Sized>(value: Option<&T>) -> Option<String> {
    value.map(|v| serde_json::to_string(v).expect("JSON values always serialize"))
}

/// A stored text value that no longer parses: corrupt or from a newer version.
pub(crate) fn text_error(what: &str, text: &str) -> StoreError {
    StoreError::other(format!("unknown {what} {text:?} in storage"))
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(
    text: Option<&str>,
) -> Result<Option<T>, StoreError> {
    text.map(|t| serde_json::from_str(t).map_err(|e| StoreError::Other(Box::new(e))))
        .transpose()
}

fn parse_mode(text: &str) -> Result<Mode, StoreError> {
    Mode::parse(text)
        .ok_or_else(|| StoreError::other(format!("unknown organization mode {text:?}")))
}
