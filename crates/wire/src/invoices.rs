//! Invoices (`balance.md` §5.2): the same fields in every version; lists leave out the lines
//! (and, in direct versions, the get-only fields).

use crate::{Livemode, to_value};
use serde::Serialize;
use serde_json::{Map, Value};
use tally_domain::billing::{Invoice, InvoiceLine};
use tally_domain::{ApiVersion, Generation};

#[derive(Serialize)]
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
    pub discount_type: Option<()>,
    pub discount_value: Option<()>,
    pub discount_name: Option<()>,
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
            discount_type: None,
            discount_value: None,
            discount_name: None,
            charge_type: line.charge_type.as_str(),
            seat_event_id: line.seat_event_id.as_deref(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InvoiceOut<'a> {
    id: &'a str,
    customer_id: &'a str,
    subscription_id: Option<&'a str>,
    invoice_number: &'a str,
    status: &'static str,
    invoice_type: &'a str,
    currency: &'static str,
    subtotal: i64,
    discount_amount: i64,
    tax_amount: i64,
    total: i64,
    period_start: String,
    period_end: String,
    issue_date: String,
    due_date: String,
    memo: Option<()>,
    metadata: Map<String, Value>,
    created_at: String,
    updated_at: String,
    credit_applied: i64,
    plan_name: Option<&'a str>,
    po_number: Option<()>,
    reference: Option<()>,
    line_items: Vec<LineOut<'a>>,
    object: &'static str,
    livemode: bool,
}

/// The full invoice, with its lines.
pub fn invoice(invoice: &Invoice, livemode: Livemode) -> Value {
    to_value(InvoiceOut {
        id: &invoice.id,
        customer_id: invoice.customer_id.as_str(),
        subscription_id: invoice.subscription_id.as_ref().map(|s| s.as_str()),
        invoice_number: &invoice.number,
        status: invoice.status.as_str(),
        invoice_type: &invoice.invoice_type,
        currency: "usd",
        subtotal: invoice.subtotal.0,
        discount_amount: 0,
        tax_amount: 0,
        total: invoice.total().0,
        period_start: invoice.period.start.to_rfc3339(),
        period_end: invoice.period.end.to_rfc3339(),
        issue_date: invoice.issue_date.to_rfc3339(),
        due_date: invoice.issue_date.to_rfc3339(),
        memo: None,
        metadata: Map::new(),
        created_at: invoice.created_at.to_rfc3339(),
        updated_at: invoice.updated_at.to_rfc3339(),
        credit_applied: 0,
        plan_name: invoice.plan_name.as_deref(),
        po_number: None,
        reference: None,
        line_items: invoice.lines.iter().map(LineOut::new).collect(),
        object: "invoice",
        livemode: livemode.0,
    })
}

/// A list item: legacy invoices without `lineItems`; direct `InvoiceListItem`s also without the
/// get-only `creditApplied`, `planName`, `poNumber` and `reference`.
pub fn invoice_list_item(version: ApiVersion, item: &Invoice, livemode: Livemode) -> Value {
    let mut value = invoice(item, livemode);
    let object = value.as_object_mut().expect("an invoice is an object");
    object.remove("lineItems");
    if version.generation() == Generation::Direct {
        for key in ["creditApplied", "planName", "poNumber", "reference"] {
            object.remove(key);
        }
    }
    value
}

/// The legacy answer to a status change: `{id, status, updatedAt, object, livemode}`.
pub fn invoice_status(version: ApiVersion, item: &Invoice, livemode: Livemode) -> Value {
    match version.generation() {
        Generation::Legacy => serde_json::json!({
            "id": item.id, "status": item.status.as_str(), "updatedAt": item.updated_at.to_rfc3339(),
            "object": "invoice", "livemode": livemode.0,
        }),
        Generation::Direct => invoice(item, livemode),
    }
}
