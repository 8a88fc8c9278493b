//! Pause and resume (`lifecycle.md` §6): the four 2026-08-27 calls, and what a resume does
//! whether a caller or the scheduler (at `resumeAt`) makes it.

use crate::invoicing::{InvoiceRequest, announce_activation, issue_invoice, period_invoice_lines};
use crate::outbox::Outbox;
use crate::subscriptions::{
    SubscriptionDetail, detail_in, lock_subscription, save, start_seat_period,
    subscription_customer,
};
use crate::{AppError, Command, IdSource, WriteCtx};
use async_trait::async_trait;
use serde_json::{Value, json};
use tally_domain::billing::{Invoice, InvoiceStatus};
use tally_domain::events::WebhookEvent;
use tally_domain::pause::{Pause, PauseMode};
use tally_domain::subscription::{Subscription, SubscriptionStatus};
use tally_domain::{Customer, Timestamp};
use tally_store::Tx;

fn pause_data(customer_ref: &str, subscription: &Subscription, pause: &Pause) -> Value {
    json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": customer_ref,
        "status": subscription.status.as_str(),
        "mode": pause.mode.as_str(),
        "effectiveAt": pause.effective_at.to_rfc3339(),
        "resumeAt": pause.resume_at.map(Timestamp::to_rfc3339),
    })
}

/// `subscription.paused` and its state change, for a pause that took effect.
pub(crate) fn announce_paused(outbox: &mut Outbox<'_>, subscription: &Subscription) {
    if let Some(pause) = &subscription.pause {
        let data = pause_data(outbox.customer_ref(), subscription, pause);
        outbox.push("subscription.paused", data);
        outbox.state_changed("subscription_paused");
    }
}

/// `POST /subscriptions/{id}/pause`.
pub struct PauseSubscription {
    pub id: String,
    pub mode: PauseMode,
    pub duration_days: Option<i64>,
}

#[async_trait]
impl Command for PauseSubscription {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.id).await?;
        let next = current.pause(self.mode, self.duration_days, ctx.now)?;
        save(ctx.tx, &next).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        match self.mode {
            PauseMode::Immediate => announce_paused(&mut outbox, &next),
            PauseMode::PeriodEnd => {
                let pause = next.pause.as_ref().expect("just scheduled");
                let data = pause_data(outbox.customer_ref(), &next, pause);
                outbox.push("subscription.pause_scheduled", data);
            }
        }
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await
    }
}

/// `PATCH /subscriptions/{id}/pause`: a new duration.
pub struct UpdatePause {
    pub id: String,
    pub duration_days: Option<i64>,
}

#[async_trait]
impl Command for UpdatePause {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.id).await?;
        let next = current.update_pause(self.duration_days, ctx.now)?;
        save(ctx.tx, &next).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let pause = next.pause.as_ref().expect("updated");
        let mut data = pause_data(outbox.customer_ref(), &next, pause);
        data.as_object_mut().map(|d| d.remove("mode"));
        outbox.push("subscription.pause_updated", data);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await
    }
}

/// `DELETE /subscriptions/{id}/pause`: withdraws a scheduled pause.
pub struct RevokePause(pub String);

#[async_trait]
impl Command for RevokePause {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.0).await?;
        let next = current.revoke_pause(ctx.now)?;
        save(ctx.tx, &next).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let data = json!({
            "subscriptionId": next.id.as_str(),
            "customerId": outbox.customer_ref(),
            "status": next.status.as_str(),
        });
        outbox.push("subscription.pause_revoked", data);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await
    }
}

/// What a resume answers: the subscription and the invoice it issued, if any.
#[derive(Debug, Clone)]
pub struct Resumed {
    pub subscription: Subscription,
    pub invoice: Option<Invoice>,
}

/// `POST /subscriptions/{id}/resume`.
pub struct ResumeSubscription(pub String);

#[async_trait]
impl Command for ResumeSubscription {
    type Output = Resumed;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Resumed, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.0).await?;
        let (next, billed) = current.resume(ctx.now)?;
        let pause = current.pause.expect("a paused subscription has its pause");
        save(ctx.tx, &next).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let (invoice, events) = finish_resume(
            ctx.tx,
            ctx.ids,
            ctx.billing.issue_status(&ctx.caller.organization),
            &customer,
            &next,
            (&pause, billed),
            ctx.now,
        )
        .await?;
        ctx.tx.insert_webhook_events(&events).await?;
        if let Some(invoice) = &invoice {
            crate::collection::settle_at_once(ctx, &customer, &next, invoice, SUBSCRIPTION_RESUME)
                .await?;
        }
        Ok(Resumed {
            subscription: next,
            invoice,
        })
    }
}

/// `paymentContext.reason` of a resume's invoice.
pub(crate) const SUBSCRIPTION_RESUME: &str = "subscription_resume";

/// A resume's effects once the subscription is saved (`lifecycle.md` §6). A pause from the
/// period end resumes into a new period billed like a renewal (`resume` invoice: base price,
/// extra seats and add-ons in advance, the plan's current features); an immediate pause gives
/// back its days without a charge. A trial paused at its end is charged here for the first time,
/// which also activates it. Returns the invoice and the events to record.
pub(crate) async fn finish_resume(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    invoice_status: InvoiceStatus,
    customer: &Customer,
    resumed: &Subscription,
    (ended, billed): (&Pause, bool),
    at: Timestamp,
) -> Result<(Option<Invoice>, Vec<WebhookEvent>), AppError> {
    let org = &resumed.org_id;
    let mut invoice = None;
    if billed {
        let snapshot = crate::catalog::plan_snapshot(tx, org, &resumed.plan_id).await?;
        let snapshot = crate::addons::with_addon_features(tx, resumed, snapshot).await?;
        let snapshot = crate::markets::hold_features(tx, resumed, snapshot).await?;
        start_seat_period(tx, org, &resumed.id, &snapshot).await?;
        let price = match &resumed.price_id {
            Some(id) => tx.price(org, id).await?,
            None => None,
        };
        let plan = tx.plan_any(org, &resumed.plan_id).await?;
        if let (Some(price), Some(period), Some(plan)) = (price, resumed.current_period, plan) {
            let lines = period_invoice_lines(tx, resumed, &price, &plan.name).await?;
            let request = InvoiceRequest {
                customer,
                subscription: resumed,
                plan_name: &plan.name,
                lines,
                period,
                now: at,
                invoice_type: "resume",
                status: invoice_status,
                settles_true_ups: true,
            };
            let issued = issue_invoice(tx, ids, request).await?;
            if ended.status_before == SubscriptionStatus::Trialing {
                announce_activation(tx, ids, customer, resumed, &issued, at, None).await?;
            }
            invoice = Some(issued);
        }
    }
    let mut outbox = Outbox::new(ids, customer, at);
    let data = json!({
        "subscriptionId": resumed.id.as_str(),
        "customerId": outbox.customer_ref(),
        "status": resumed.status.as_str(),
        "mode": ended.mode.as_str(),
        "resumedAt": at.to_rfc3339(),
        "invoiceId": invoice.as_ref().map(|i| i.id.as_str()),
    });
    outbox.push("subscription.resumed", data);
    outbox.state_changed("subscription_resumed");
    Ok((invoice, outbox.into_events()))
}
