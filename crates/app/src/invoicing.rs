//! Issuing invoices (`balance.md` §5, `seats.md` §5): the first invoice of a paid subscription,
//! the recurring invoice at each renewal (plan base, the ended period's seat true-ups, extra
//! seats in advance), a final invoice for true-ups left at cancellation; and invoice reads and
//! status changes. Invoices are issued `paid` (Tally takes no payments).

use crate::outbox::Outbox;
use crate::{App, AppError, Caller, Command, IdSource, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use tally_domain::billing::{
    Invoice, InvoiceLine, InvoiceStatus, LineType, credit_applied, discount_amount, invoice_number,
    plan_base_line, seat_advance_line, subtotal,
};
use tally_domain::catalog::{FeatureType, PlanPrice};
use tally_domain::customer_credits::apply_oldest_first;
use tally_domain::money::{AmountTooLarge, Cents};
use tally_domain::page::{Page, PageRequest};
use tally_domain::period::BillingPeriod;
use tally_domain::seats::billable_extra;
use tally_domain::subscription::{FeatureSnapshot, Subscription};
use tally_domain::{Customer, DomainError, Timestamp};
use tally_store::{InvoiceFilter, Lock, Tx};

/// The one currency Tally bills in so far.
pub(crate) const CURRENCY: &str = "usd";

/// Extra seats (then extra quota units) held now, billed in advance, one line per feature by
/// code; refused when a line would exceed `MONEY_MAX`.
pub(crate) fn advance_lines(
    snapshot: &[FeatureSnapshot],
    seats: &BTreeMap<String, i64>,
) -> Result<Vec<InvoiceLine>, AmountTooLarge> {
    let is_quota = |f: &FeatureSnapshot| f.feature_type == FeatureType::Quota;
    let mut features: Vec<&FeatureSnapshot> = snapshot
        .iter()
        .filter(|f| f.enabled && (f.feature_type == FeatureType::Seats || is_quota(f)))
        .collect();
    features.sort_by(|a, b| (is_quota(a), &a.code).cmp(&(is_quota(b), &b.code)));
    features
        .into_iter()
        .filter_map(|f| {
            let count = seats.get(&f.code).copied().unwrap_or(0);
            let unit_price = f.overage.unit_price?;
            let extra = billable_extra(count, f);
            let line = seat_advance_line(
                &f.code,
                &f.name,
                f.included_amount,
                count,
                extra,
                unit_price,
                None,
            );
            line.map(|line| {
                line.map(|mut line| {
                    if is_quota(f) {
                        line.line_type = LineType::FeatureQuota;
                        line.description =
                            format!("{extra} × {} above {} included", f.code, f.included_amount);
                    }
                    line
                })
            })
            .transpose()
        })
        .collect()
}

/// The total of a period's opening invoice, computed in memory before anything is written, so
/// a request can be refused with the field to blame: the plan base, the given charges
/// (true-ups) and extra seats in advance. `AmountTooLarge` above `MONEY_MAX`.
pub(crate) fn next_invoice_total(
    base: Option<Cents>,
    charges: &[Cents],
    snapshot: &[FeatureSnapshot],
    seats: &BTreeMap<String, i64>,
) -> Result<Cents, AmountTooLarge> {
    advance_lines(snapshot, seats)?
        .iter()
        .map(|line| line.amount)
        .chain(charges.iter().copied())
        .chain(base)
        .try_fold(Cents(0), Cents::checked_add)
}

/// What an invoice is for.
pub(crate) struct InvoiceRequest<'a> {
    pub customer: &'a Customer,
    pub subscription: &'a Subscription,
    pub plan_name: &'a str,
    pub lines: Vec<InvoiceLine>,
    pub period: BillingPeriod,
    pub now: Timestamp,
    /// `recurring`, or `balance_topup`.
    pub invoice_type: &'static str,
    pub status: InvoiceStatus,
    /// Whether the subscription's pending true-ups are on this invoice and now billed; an
    /// invoice that leaves them for the next recurring one says no.
    pub settles_true_ups: bool,
}

/// Numbers, stores and announces (`invoice.created`) one invoice.
pub(crate) async fn issue_invoice(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    request: InvoiceRequest<'_>,
) -> Result<Invoice, AppError> {
    let org = &request.subscription.org_id;
    let mut lines = request.lines;
    // Callers that can blame a request field check the total first; this is the backstop that
    // keeps an amount above `MONEY_MAX` out of the books whatever the path.
    let subtotal = subtotal(&lines).map_err(DomainError::from)?;
    // Customer credits pay what recurring and plan-change invoices still owe, oldest grant
    // first, after the proration credit (`commerce.md` §5).
    let mut uses = Vec::new();
    let currency = request.subscription.currency.clone();
    let due = Cents(subtotal.0 - discount_amount(&lines).0 - credit_applied(&lines).0);
    if matches!(request.invoice_type, "recurring" | "plan_change") && due.0 > 0 {
        let credits = tx
            .customer_credits(org, &request.customer.id, Some(&currency), Lock::ForUpdate)
            .await?;
        uses = apply_oldest_first(&credits, due, request.now);
        lines.extend(uses.iter().map(|u| u.line.clone()));
    }
    let invoice = Invoice {
        id: format!("inv_{}", ids.ulid()),
        org_id: org.clone(),
        customer_id: request.customer.id.clone(),
        subscription_id: Some(request.subscription.id.clone()),
        number: String::new(),
        status: request.status,
        invoice_type: request.invoice_type.to_owned(),
        subtotal,
        discount_amount: discount_amount(&lines),
        credit_applied: credit_applied(&lines),
        period: request.period,
        issue_date: request.now,
        plan_name: Some(request.plan_name.to_owned()),
        currency,
        memo: None,
        metadata: Default::default(),
        lines,
        created_at: request.now,
        updated_at: request.now,
    };
    let invoice = record_invoice(tx, ids, request.customer, invoice).await?;
    for used in &uses {
        tx.use_customer_credit(org, &used.credit, &invoice.id, used.amount)
            .await?;
    }
    if request.settles_true_ups {
        tx.mark_true_ups_invoiced(org, &request.subscription.id, &invoice.id)
            .await?;
    }
    Ok(invoice)
}

/// Gives `invoice` the organization's next number, stores it and announces it
/// (`invoice.created`): the one way every invoice, of a subscription or not, enters the books.
pub(crate) async fn record_invoice(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    customer: &Customer,
    mut invoice: Invoice,
) -> Result<Invoice, AppError> {
    invoice.number = invoice_number(tx.next_invoice_number(&invoice.org_id).await?);
    tx.insert_invoice(&invoice).await?;
    let mut outbox = Outbox::new(ids, customer, invoice.created_at);
    let data = invoice_event_data(&invoice, outbox.customer_ref());
    outbox.push("invoice.created", data);
    tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(invoice)
}

/// `invoice.created` / `invoice.voided` data (`balance.md` §5.2), which `invoice.sent` extends.
pub(crate) fn invoice_event_data(invoice: &Invoice, customer_ref: &str) -> serde_json::Value {
    json!({
        "invoiceId": invoice.id,
        "invoiceNumber": invoice.number,
        "invoiceStatus": invoice.status.as_str(),
        "periodStart": invoice.period.start.to_rfc3339(),
        "periodEnd": invoice.period.end.to_rfc3339(),
        "issueDate": invoice.issue_date.to_rfc3339(),
        "dueDate": invoice.issue_date.to_rfc3339(),
        "currency": invoice.currency,
        "subtotal": invoice.subtotal.0,
        "total": invoice.total().0,
        "customerId": customer_ref,
        "subscriptionId": invoice.subscription_id.as_ref().map(|s| s.as_str().to_owned()),
    })
}

/// `subscription.activated` after the first invoice, and its state change (`webhooks.md` §5.1).
pub(crate) async fn announce_activation(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    customer: &Customer,
    subscription: &Subscription,
    invoice: &Invoice,
    now: Timestamp,
    provider: Option<&str>,
) -> Result<(), AppError> {
    let mut outbox = Outbox::new(ids, customer, now);
    let data = json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": outbox.customer_ref(),
        "status": subscription.status.as_str(),
        "currentPeriodStart": subscription.current_period.map(|p| p.start.to_rfc3339()),
        "currentPeriodEnd": subscription.current_period.map(|p| p.end.to_rfc3339()),
        "name": subscription.name,
        "invoiceId": invoice.id,
        "invoiceNumber": invoice.number,
        "invoiceTotal": invoice.total().0,
        "invoiceCurrency": invoice.currency,
        "provider": provider,
    });
    outbox.push("subscription.activated", data);
    outbox.state_changed("subscription_activated");
    tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(())
}

/// The lines of a period's opening invoice: plan base, then (renewals) the ended period's
/// true-ups, then extra seats in advance, then the active add-ons.
pub(crate) async fn period_invoice_lines(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    price: &PlanPrice,
    plan_name: &str,
) -> Result<Vec<InvoiceLine>, AppError> {
    let period = subscription.current_period.unwrap_or(BillingPeriod {
        start: subscription.start_date,
        end: subscription.start_date,
    });
    // The base in the subscription's currency (`commerce.md` §2), re-read at every period.
    let (_, base) = crate::markets::billed_base(tx, subscription, price).await?;
    let mut lines = vec![plan_base_line(plan_name, base, &period)];
    // Offers take their discount off the plan base only (`commerce.md` §4.6).
    lines.extend(crate::offers::discount_lines(tx, subscription, base, period.start).await?);
    let org = &subscription.org_id;
    // Seat true-ups, then quota ones, each in the order they accrued (`usage.md` §5).
    let mut true_ups = tx.pending_true_ups(org, &subscription.id).await?;
    true_ups.sort_by_key(|t| t.is_quota());
    lines.extend(true_ups.iter().map(|t| t.line()));
    let snapshot = tx.subscription_features(org, &subscription.id).await?;
    let seats = tx
        .seat_balances(org, &subscription.id)
        .await?
        .into_iter()
        .map(|b| (b.feature_code, b.current))
        .collect();
    lines.extend(advance_lines(&snapshot, &seats).map_err(DomainError::from)?);
    lines.extend(crate::addons::renewal_addon_lines(tx, subscription).await?);
    Ok(lines)
}

/// `PUT`/`PATCH /invoices/{id}/status`: draft or outstanding → paid or void.
pub struct SetInvoiceStatus {
    pub id: String,
    pub status: InvoiceStatus,
}

#[async_trait]
impl Command for SetInvoiceStatus {
    type Output = Invoice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Invoice, AppError> {
        let org = ctx.caller.org();
        let mut invoice = ctx
            .tx
            .invoice(org, &self.id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        if !invoice.status.can_become(self.status) {
            return Err(DomainError::field(
                "status",
                format!(
                    "a {} invoice cannot become {}",
                    invoice.status.as_str(),
                    self.status.as_str()
                ),
            )
            .into());
        }
        ctx.tx
            .update_invoice_status(org, &invoice.id, self.status, ctx.now)
            .await?;
        invoice.status = self.status;
        invoice.updated_at = ctx.now;
        if self.status == InvoiceStatus::Void {
            // The customer credits it used are given back (`commerce.md` §5).
            ctx.tx
                .reverse_customer_credit_uses(org, &invoice.id)
                .await?;
        }
        if self.status == InvoiceStatus::Void
            && let Some(customer) = ctx
                .tx
                .customer(org, &invoice.customer_id, Lock::None)
                .await?
        {
            let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
            let data = invoice_event_data(&invoice, outbox.customer_ref());
            outbox.push("invoice.voided", data);
            ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        }
        Ok(invoice)
    }
}

impl App {
    pub async fn invoices(
        &self,
        caller: &Caller,
        filter: &InvoiceFilter,
        page: &PageRequest,
    ) -> Result<Page<Invoice>, AppError> {
        Ok(self
            .reader(caller)
            .await?
            .0
            .invoices(caller.org(), filter, page)
            .await?)
    }

    pub async fn invoice(&self, caller: &Caller, id: &str) -> Result<Invoice, AppError> {
        self.reader(caller)
            .await?
            .0
            .invoice(caller.org(), id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))
    }
}
