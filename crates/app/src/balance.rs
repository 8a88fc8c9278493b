//! Subscription balance and credits (`balance.md` §2–§4): signed adjustments and paid top-ups,
//! each in one transaction with its ledger change, invoice and webhook events.

use crate::invoicing::{InvoiceRequest, issue_invoice};
use crate::outbox::Outbox;
use crate::subscriptions::{lock_subscription, save};
use crate::{AppError, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use tally_domain::DomainError;
use tally_domain::billing::{ChargeType, InvoiceLine, LineType};
use tally_domain::catalog::ConsumptionModel;
use tally_domain::money::{RATE_PER_CENT, Rate};
use tally_domain::period::BillingPeriod;
use tally_domain::subscription::{LedgerKind, Subscription, SubscriptionStatus};
use tally_store::Lock;

/// What an adjustment did: the signed amount, the ledger's new remaining amount, the reason.
#[derive(Debug, Clone)]
pub struct Adjusted {
    pub amount: i64,
    pub new_balance: i64,
    pub reason: Option<String>,
}

/// `POST /subscriptions/{id}/balance/adjust`.
pub struct AdjustLedger {
    pub subscription: String,
    pub amount: i64,
    pub kind: Option<LedgerKind>,
    pub reason: Option<String>,
}

#[async_trait]
impl Command for AdjustLedger {
    type Output = Adjusted;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Adjusted, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_subscription(ctx.tx, &org, &self.subscription).await?;
        let plan = ctx
            .tx
            .plan_any(&org, &subscription.plan_id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Subscription))?;
        // Decision (`balance.md` §2): the type defaults to the plan's model and must match it.
        let plan_kind = match plan.consumption() {
            ConsumptionModel::Credits => Some(LedgerKind::Credits),
            ConsumptionModel::Balance => Some(LedgerKind::Balance),
            ConsumptionModel::Metered => None,
        };
        let kind = match (self.kind, plan_kind) {
            (None, Some(kind)) => kind,
            (Some(asked), Some(kind)) if asked == kind => kind,
            _ => {
                return Err(DomainError::field(
                    "type",
                    "type must match the plan's consumption model (credits or balance)",
                )
                .into());
            }
        };
        let (next, new_balance) = subscription.adjust(kind, self.amount, ctx.now)?;
        save(ctx.tx, &next).await?;
        let customer = ctx
            .tx
            .customer(&org, &next.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        if kind == LedgerKind::Credits && self.amount > 0 {
            let data = json!({"subscriptionId": next.id.as_str(), "customerId": outbox.customer_ref(),
                              "credits": self.amount, "reason": "manual_adjustment"});
            outbox.push("credits.granted", data);
        }
        let grant = match kind {
            LedgerKind::Credits => subscription.credits.map_or(0, |c| c.included),
            LedgerKind::Balance => subscription.balance.map_or(0, |b| b.included.0),
        };
        let previous = new_balance - self.amount;
        push_ledger_crossings(&mut outbox, &next, kind, grant, previous, new_balance);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(Adjusted {
            amount: self.amount,
            new_balance,
            reason: self.reason.clone(),
        })
    }
}

/// `POST /subscriptions/{id}/balance/topup`: Tally takes no payment, so it issues a paid
/// `balance_topup` invoice and credits the balance (`balance.md` §3).
pub struct TopUpBalance {
    pub subscription: String,
    /// Rate scale, a positive multiple of 100 (whole cents).
    pub amount: i64,
}

#[async_trait]
impl Command for TopUpBalance {
    type Output = i64;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<i64, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_subscription(ctx.tx, &org, &self.subscription).await?;
        if subscription.balance.is_none() {
            return Err(DomainError::field(
                "amount",
                "this subscription's plan has no balance to top up",
            )
            .into());
        }
        if matches!(
            subscription.status,
            SubscriptionStatus::PastDue | SubscriptionStatus::Canceled
        ) {
            return Err(DomainError::NotActive.into());
        }
        let (next, _) = subscription.adjust(LedgerKind::Balance, self.amount, ctx.now)?;
        save(ctx.tx, &next).await?;
        let customer = ctx
            .tx
            .customer(&org, &next.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        let plan_name = ctx
            .tx
            .plan_any(&org, &next.plan_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let cents = Rate(self.amount).to_cents_floor();
        let line = InvoiceLine::single(
            LineType::OneTime,
            ChargeType::Standard,
            format!(
                "Balance top-up of {}.{:02} USD",
                cents.0 / 100,
                cents.0 % 100
            ),
            cents,
        );
        let request = InvoiceRequest {
            customer: &customer,
            subscription: &next,
            plan_name: &plan_name,
            lines: vec![line],
            period: BillingPeriod {
                start: ctx.now,
                end: ctx.now,
            },
            now: ctx.now,
            invoice_type: "balance_topup",
            // A top-up is paid when it is made (`balance.md` §3): there is nothing to settle,
            // unless invoices are collected, when it is charged now (`payments.md` §5).
            status: match ctx.billing.collects(&ctx.caller.organization) {
                true => tally_domain::billing::InvoiceStatus::Outstanding,
                false => tally_domain::billing::InvoiceStatus::Paid,
            },
            // Seat true-ups wait for the subscription's next recurring invoice.
            settles_true_ups: false,
        };
        let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
        crate::collection::settle_at_once(ctx, &customer, &next, &invoice, "one_time_payment")
            .await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let data = json!({
            "subscriptionId": next.id.as_str(),
            "customerId": outbox.customer_ref(),
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "amount": self.amount,
            "currency": next.currency,
        });
        outbox.push("balance.topped_up", data);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(self.amount)
    }
}

/// `credits.low` / `balance.low` when a deduction takes a ledger from at or above its threshold
/// to below it (and still above zero), `credits.depleted` / `balance.depleted` (and their state
/// change) when it reaches zero or below (`balance.md` §4; a balance plan that does not block
/// may go negative, `usage.md` §7). Used by adjustments and by usage tracks.
pub(crate) fn push_ledger_crossings(
    outbox: &mut Outbox<'_>,
    subscription: &Subscription,
    kind: LedgerKind,
    grant: i64,
    previous: i64,
    new: i64,
) {
    if new >= previous {
        return;
    }
    let threshold = low_threshold(grant);
    let low = new > 0 && previous >= threshold && new < threshold;
    let depleted = previous > 0 && new <= 0;
    let sub_id = subscription.id.as_str();
    let currency = subscription.currency.as_str();
    let customer_ref = outbox.customer_ref().to_owned();
    match kind {
        LedgerKind::Credits => {
            if low {
                outbox.push(
                    "credits.low",
                    json!({"subscriptionId": sub_id, "customerId": customer_ref, "remainingCredits": new,
                           "thresholdCredits": threshold, "periodCredits": grant}),
                );
            }
            if depleted {
                outbox.push(
                    "credits.depleted",
                    json!({"subscriptionId": sub_id, "customerId": customer_ref, "remainingCredits": new.max(0)}),
                );
                outbox.state_changed("credits_depleted");
            }
        }
        LedgerKind::Balance => {
            if low {
                outbox.push(
                    "balance.low",
                    json!({"subscriptionId": sub_id, "customerId": customer_ref, "currentBalance": new,
                           "thresholdBalance": threshold, "currency": currency}),
                );
            }
            if depleted {
                outbox.push(
                    "balance.depleted",
                    json!({"subscriptionId": sub_id, "customerId": customer_ref, "currentBalance": new, "currency": currency}),
                );
                outbox.state_changed("balance_depleted");
            }
        }
    }
}

/// `*.low` fires below 10 % of the period's grant (`balance.md` §4). Decision: the grant is the
/// plan's included amount; top-ups and adjustments do not move the threshold.
fn low_threshold(grant: i64) -> i64 {
    grant / 10
}

/// A top-up must be whole cents on the rate scale (`balance.md` §3, decided).
pub fn is_whole_cents(amount: i64) -> bool {
    amount > 0 && amount % RATE_PER_CENT == 0
}
