//! Customers, API keys and deleted objects in 2026-07-11.

use crate::{BatchItemView, Livemode};
use serde::Serialize;
use serde_json::Value;
use tally_domain::Customer;
use tally_domain::api_key::ApiKey;
use tally_domain::customer::Metadata;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerOut<'a> {
    pub id: &'a str,
    pub external_id: Option<&'a str>,
    pub full_name: Option<&'a str>,
    pub email: &'a str,
    pub tax_document: Option<&'a str>,
    /// Tax is out of scope, so there is never a document type (`catalog.md` §2).
    pub document_type: Option<&'a str>,
    pub timezone: Option<&'a str>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<&'a Metadata>,
    pub created_at: String,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> CustomerOut<'a> {
    pub fn new(customer: &'a Customer, livemode: Livemode) -> Self {
        Self {
            id: customer.id.as_str(),
            external_id: customer.external_id.as_deref(),
            full_name: customer.full_name.as_deref(),
            email: &customer.email,
            tax_document: customer.tax_document.as_deref(),
            document_type: None,
            timezone: customer.timezone.as_deref(),
            metadata: customer.metadata.as_ref(),
            created_at: customer.created_at.to_rfc3339(),
            updated_at: customer.updated_at.to_rfc3339(),
            object: "customer",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchSuccessOut<'a> {
    pub id: &'a str,
    pub external_id: Option<&'a str>,
    pub email: &'a str,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchFailureOut<'a> {
    pub index: usize,
    pub error: String,
    pub data: &'a Value,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CustomerBatchOut<'a> {
    pub successful: Vec<BatchSuccessOut<'a>>,
    pub failed: Vec<BatchFailureOut<'a>>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> CustomerBatchOut<'a> {
    pub fn new(items: &'a [BatchItemView<'a>], livemode: Livemode) -> Self {
        Self::with_object(items, livemode, "customer")
    }

    /// Shared with later versions, which only rename `object`.
    pub fn with_object(
        items: &'a [BatchItemView<'a>],
        livemode: Livemode,
        object: &'static str,
    ) -> Self {
        let mut successful = Vec::new();
        let mut failed = Vec::new();
        for (index, data, outcome) in items {
            match outcome {
                Ok(customer) => successful.push(BatchSuccessOut {
                    id: customer.id.as_str(),
                    external_id: customer.external_id.as_deref(),
                    email: &customer.email,
                }),
                Err(refusal) => failed.push(BatchFailureOut {
                    index: *index,
                    error: refusal.to_string(),
                    data,
                }),
            }
        }
        Self {
            successful,
            failed,
            object,
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiKeyOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub prefix: &'a str,
    pub expires_at: Option<String>,
    pub last_used_at: Option<String>,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> ApiKeyOut<'a> {
    pub fn new(key: &'a ApiKey, livemode: Livemode) -> Self {
        Self {
            id: key.id.as_str(),
            name: &key.name,
            prefix: &key.prefix,
            expires_at: key.expires_at.map(|t| t.to_rfc3339()),
            last_used_at: key.last_used_at.map(|t| t.to_rfc3339()),
            created_at: key.created_at.to_rfc3339(),
            object: "api_key",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedApiKeyOut<'a> {
    pub id: &'a str,
    pub name: &'a str,
    /// `null` in a replay: the secret is shown once and never kept.
    pub api_key: Option<&'a str>,
    pub prefix: &'a str,
    pub expires_at: Option<String>,
    pub created_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> CreatedApiKeyOut<'a> {
    pub fn new(key: &'a ApiKey, secret: Option<&'a str>, livemode: Livemode) -> Self {
        Self {
            id: key.id.as_str(),
            name: &key.name,
            api_key: secret,
            prefix: &key.prefix,
            expires_at: key.expires_at.map(|t| t.to_rfc3339()),
            created_at: key.created_at.to_rfc3339(),
            object: "api_key",
            livemode: livemode.0,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeletedOut<'a> {
    pub id: &'a str,
    pub deleted: bool,
    pub object: &'a str,
    pub livemode: bool,
}

impl<'a> DeletedOut<'a> {
    pub fn new(id: &'a str, object: &'a str, livemode: Livemode) -> Self {
        Self {
            id,
            deleted: true,
            object,
            livemode: livemode.0,
        }
    }
}
