//! Invoices (`balance.md` §5.2): the same fields in every version; lists leave out the lines
//! (and, in direct versions, the get-only fields).

use crate::{Livemode, object_name, to_value};
use serde::Serialize;
use serde_json::{Map, Value};
use tally_domain::Timestamp;
use tally_domain::billing::{Invoice, InvoiceLine};
use tally_domain::{ApiVersion, Generation};
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LineOut<'a> {
    pub line_type: &'static str,
    pub feature_name: Option<&'a str>,
    pub description: &'a str,
    pub quantity: i64,
    pub unit_amount: i64,
    pub amount: i64,
    pub included_amount: Option<i64>,
    pub used_amount: Option<i64>,
    pub overage_amount: Option<i64>,
    pub discount_type: Option<&'static str>,
    pub discount_value: Option<i64>,
    pub discount_name: Option<&'a str>,
    pub charge_type: &'static str,
    /// Tally extension: the seat event a seat line was billed for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seat_event_id: Option<&'a str>,
}

impl<'a> LineOut<'a> {
    pub fn new(line: &'a InvoiceLine) -> Self {
        Self {
            line_type: line.line_type.as_str(),
            feature_name: line.feature_name.as_deref(),
            description: &line.description,
            quantity: line.quantity,
            unit_amount: line.unit_amount.0,
            amount: line.amount.0,
            included_amount: line.included_amount,
            used_amount: line.used_amount,
            overage_amount: line.overage_amount,
            discount_type: line.discount.as_ref().map(|d| d.discount_type),
            discount_value: line.discount.as_ref().map(|d| d.value),
            discount_name: line.discount.as_ref().map(|d| d.name.as_str()),
            charge_type: line.charge_type.as_str(),
            seat_event_id: line.seat_event_id.as_deref(),
        }
    }
}

/// An invoice. The get-only fields (`creditApplied`, `planName`, `poNumber`, `reference`) are
/// absent from direct list items, `lineItems` from every list item.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceOut<'a> {
    pub id: &'a str,
    pub customer_id: &'a str,
    pub subscription_id: Option<&'a str>,
    pub invoice_number: &'a str,
    pub status: &'static str,
    pub invoice_type: &'a str,
    pub currency: &'a str,
    pub subtotal: i64,
    pub discount_amount: i64,
    pub tax_amount: i64,
    pub total: i64,
    pub period_start: String,
    pub period_end: String,
    pub issue_date: String,
    pub due_date: String,
    pub memo: Option<&'a str>,
    #[schema(value_type = Object)]
    pub metadata: &'a Map<String, Value>,
    pub created_at: String,
    pub updated_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_applied: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub plan_name: Option<Option<&'a str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::schema::Null)]
    pub po_number: Option<Option<()>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = crate::schema::Null)]
    pub reference: Option<Option<()>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line_items: Option<Vec<LineOut<'a>>>,
    pub object: &'static str,
    pub livemode: bool,
}

impl<'a> InvoiceOut<'a> {
    /// The full invoice, with its lines.
    pub fn full(invoice: &'a Invoice, livemode: Livemode) -> Self {
        Self {
            id: &invoice.id,
            customer_id: invoice.customer_id.as_str(),
            subscription_id: invoice.subscription_id.as_ref().map(|s| s.as_str()),
            invoice_number: &invoice.number,
            status: invoice.status.as_str(),
            invoice_type: &invoice.invoice_type,
            currency: &invoice.currency,
            subtotal: invoice.subtotal.0,
            discount_amount: invoice.discount_amount.0,
            tax_amount: 0,
            total: invoice.total().0,
            period_start: invoice.period.start.to_rfc3339(),
            period_end: invoice.period.end.to_rfc3339(),
            issue_date: invoice.issue_date.to_rfc3339(),
            due_date: invoice.issue_date.to_rfc3339(),
            memo: invoice.memo.as_deref(),
            metadata: &invoice.metadata,
            created_at: invoice.created_at.to_rfc3339(),
            updated_at: invoice.updated_at.to_rfc3339(),
            credit_applied: Some(invoice.credit_applied.0),
            plan_name: Some(invoice.plan_name.as_deref()),
            po_number: Some(None),
            reference: Some(None),
            line_items: Some(invoice.lines.iter().map(LineOut::new).collect()),
            object: "invoice",
            livemode: livemode.0,
        }
    }

    /// A list item: legacy invoices without `lineItems`; direct `InvoiceListItem`s also without
    /// the get-only fields.
    pub fn list_item(version: ApiVersion, invoice: &'a Invoice, livemode: Livemode) -> Self {
        let full = Self {
            line_items: None,
            ..Self::full(invoice, livemode)
        };
        match version.generation() {
            Generation::Legacy => full,
            Generation::Direct => Self {
                credit_applied: None,
                plan_name: None,
                po_number: None,
                reference: None,
                ..full
            },
        }
    }
}

/// The legacy answer to a status change.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceStatusOut<'a> {
    pub id: &'a str,
    pub status: &'static str,
    pub updated_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn invoice(invoice: &Invoice, livemode: Livemode) -> Value {
    to_value(InvoiceOut::full(invoice, livemode))
}

pub fn invoice_list_item(version: ApiVersion, item: &Invoice, livemode: Livemode) -> Value {
    to_value(InvoiceOut::list_item(version, item, livemode))
}

/// The answer to a status change: legacy `{id, status, updatedAt, object, livemode}`, direct
/// the invoice.
pub fn invoice_status(version: ApiVersion, item: &Invoice, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => to_value(InvoiceStatusOut {
            id: &item.id,
            status: item.status.as_str(),
            updated_at: item.updated_at.to_rfc3339(),
            object: "invoice",
            livemode: livemode.0,
        }),
        Generation::Direct => invoice(item, livemode),
    }
}

/// The answer to a send: `{sent, sentAt}` (`commerce.md` §8.3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SentInvoiceOut {
    pub sent: bool,
    pub sent_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn sent_invoice(version: ApiVersion, sent_at: Timestamp, livemode: Livemode) -> Value {
    to_value(SentInvoiceOut {
        sent: true,
        sent_at: sent_at.to_rfc3339(),
        object: object_name(version, "invoice", "invoice_delivery"),
        livemode: livemode.0,
    })
}

/// A download link: `{url, expiresAt}` (`commerce.md` §8.3).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InvoiceDownloadOut<'a> {
    pub url: &'a str,
    pub expires_at: String,
    pub object: &'static str,
    pub livemode: bool,
}

pub fn invoice_download(
    version: ApiVersion,
    url: &str,
    expires_at: Timestamp,
    livemode: Livemode,
) -> Value {
    to_value(InvoiceDownloadOut {
        url,
        expires_at: expires_at.to_rfc3339(),
        object: object_name(version, "invoice", "invoice_download_link"),
        livemode: livemode.0,
    })
}
