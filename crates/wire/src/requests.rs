//! Request bodies (`…In`), the same in every version implemented so far. Unknown fields are
//! ignored (`wire.md` §2.2); a JSON `null` in an optional field counts as absent.

use serde::Deserialize;
use serde_json::Value;
use tally_domain::DomainError;
use tally_domain::api_key::NewApiKey;
use tally_domain::customer::{CustomerFields, CustomerPatch, Metadata, NewCustomer};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateCustomerIn {
    pub email: Option<String>,
    /// The merchant's own identifier; stored as `externalId` (`catalog.md` §2).
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    pub address: Option<serde_json::Map<String, Value>>,
    pub address_id: Option<String>,
    pub timezone: Option<String>,
    pub metadata: Option<Metadata>,
}

impl CreateCustomerIn {
    pub fn into_domain(self) -> Result<NewCustomer, DomainError> {
        let external_id = match (self.id, self.external_id) {
            (Some(id), Some(external)) if id != external => {
                return Err(DomainError::field(
                    "externalId",
                    "id and externalId name the same field; send one, or the same value in both",
                ));
            }
            (id, external) => external.or(id),
        };
        NewCustomer::parse(CustomerFields {
            email: self.email,
            external_id,
            full_name: self.full_name,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata: self.metadata,
            address: address(self.address, self.address_id),
        })
    }
}

/// Keeps whichever address form was sent; neither is echoed back.
fn address(
    address: Option<serde_json::Map<String, Value>>,
    address_id: Option<String>,
) -> Option<Value> {
    address
        .map(Value::Object)
        .or_else(|| address_id.map(|id| serde_json::json!({ "addressId": id })))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateCustomerIn {
    pub email: Option<String>,
    pub external_id: Option<String>,
    pub full_name: Option<String>,
    pub tax_document: Option<String>,
    pub timezone: Option<String>,
    pub metadata: Option<Metadata>,
    pub address: Option<serde_json::Map<String, Value>>,
}

impl UpdateCustomerIn {
    pub fn into_domain(self) -> Result<CustomerPatch, DomainError> {
        CustomerPatch::parse(CustomerFields {
            email: self.email,
            external_id: self.external_id,
            full_name: self.full_name,
            tax_document: self.tax_document,
            timezone: self.timezone,
            metadata: self.metadata,
            address: self.address.map(Value::Object),
        })
    }
}

/// `{customers: [...]}`; items stay raw JSON so each one can fail on its own and be echoed.
#[derive(Debug, Deserialize)]
pub struct CustomerBatchIn {
    pub customers: Vec<Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateApiKeyIn {
    pub name: Option<String>,
    pub expires_in_days: Option<i64>,
    /// Restricted keys are out of scope (`catalog.md` §1): any value is refused.
    pub permissions: Option<Value>,
}

impl CreateApiKeyIn {
    pub fn into_domain(self) -> Result<NewApiKey, DomainError> {
        if self.permissions.is_some() {
            return Err(DomainError::field(
                "permissions",
                "restricted keys are not supported; omit permissions for a full-access key",
            ));
        }
        let Some(name) = self.name else {
            return Err(DomainError::field("name", "name is required"));
        };
        NewApiKey::parse(&name, self.expires_in_days)
    }
}
