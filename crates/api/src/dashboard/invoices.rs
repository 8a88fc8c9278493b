//! One invoice: its lines, its PDF, and voiding it.

use super::{Posted, Signed, failure, money, notice_markup, outcome, page, when};
use crate::AppState;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use maud::html;
use std::collections::HashMap;
use tally_app::invoicing::SetInvoiceStatus;
use tally_domain::billing::InvoiceStatus;

pub async fn show(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let caller = &signed.operator.caller;
    let invoice = match state.app.invoice(caller, &id).await {
        Ok(invoice) => invoice,
        Err(error) => return failure(&error),
    };
    let (link, notice) = tokio::join!(
        state.app.invoice_download_link(caller, &id),
        outcome(&state, &signed, params.get("done").map(String::as_str)),
    );
    let currency = invoice.currency.as_str();
    let voidable = invoice.status.can_become(InvoiceStatus::Void);
    let content = html! {
        p { a href=(format!("/dashboard/customers/{}", invoice.customer_id.as_str())) { "← Customer" } }
        h1 { "Invoice " (invoice.number) }
        (notice_markup(notice.as_ref()))
        section {
            dl {
                dt { "Status" } dd id="invoice-status" { (invoice.status.as_str()) }
                dt { "Type" } dd { (invoice.invoice_type) }
                dt { "Period" } dd { (when(invoice.period.start)) " → " (when(invoice.period.end)) }
                dt { "Issued" } dd { (when(invoice.issue_date)) }
                dt { "Total" } dd id="invoice-total" { (money(invoice.total().0, currency)) }
            }
            @if let Ok(link) = &link {
                p { a id="invoice-pdf" href=(link.url) { "Download the PDF" } }
            }
            @if voidable {
                form method="post" action=(format!("/dashboard/invoices/{}/void", invoice.id)) class="row" {
                    (signed.form_fields(&state))
                    button type="submit" class="danger" id="void-invoice" { "Void invoice" }
                }
            }
        }
        section {
            h2 { "Lines" }
            table id="invoice-lines" {
                thead { tr { th { "Description" } th { "Type" } th class="num" { "Quantity" } th class="num" { "Unit" } th class="num" { "Amount" } } }
                tbody {
                    @for line in &invoice.lines {
                        tr {
                            td { (line.description) }
                            td { (line.line_type.as_str()) }
                            td class="num" { (line.quantity) }
                            td class="num" { (money(line.unit_amount.0, currency)) }
                            td class="num" { (money(line.amount.0, currency)) }
                        }
                    }
                }
            }
        }
    };
    page(
        &state,
        &signed,
        &format!("Invoice {}", invoice.number),
        &content,
    )
}

/// `POST /dashboard/invoices/{id}/void`, as `PUT /invoices/{id}/status` with `void`.
pub async fn void(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted,
) -> Response {
    let command = SetInvoiceStatus {
        id: id.clone(),
        status: InvoiceStatus::Void,
    };
    let back = format!("/dashboard/invoices/{id}");
    posted
        .act(
            &state,
            command,
            |invoice| format!("Invoice {} is void.", invoice.number),
            &back,
        )
        .await
}
