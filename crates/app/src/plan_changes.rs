//! Plan changes and their preview (`lifecycle.md` §4): upgrades take effect at once, with the
//! unused base price credited and the new period billed in advance; downgrades, shorter
//! intervals and moves to a free plan wait for the renewal. The preview runs the same checks and
//! arithmetic on a read connection and changes nothing.

const PLAN_CHANGE: &str = "plan_change";

use crate::catalog::{PlanRef, plan_snapshot};
use crate::invoicing::{InvoiceRequest, advance_lines, issue_invoice};
use crate::markets::LocalPrice;
use crate::outbox::Outbox;
use crate::subscriptions::{
    SubscriptionDetail, detail_in, lock_current_subscription, save, start_seat_period,
    subscription_customer,
};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tally_domain::addons::{AddonEntry, addon_line, addon_snapshot};
use tally_domain::billing::{
    ChargeType, Invoice, InvoiceLine, LineType, base_paid, plan_base_line,
};
use tally_domain::catalog::{ConsumptionModel, FeatureType, Plan, PlanPrice};
use tally_domain::customer_credits::{CreditSource, CustomerCredit, balance as credit_balance};
use tally_domain::ids::CustomerCreditId;
use tally_domain::money::{Cents, Rate};
use tally_domain::period::{BillingInterval, BillingPeriod};
use tally_domain::plan_change::{
    ChangeAmounts, ChangeType, ScheduledChange, Timing, check_changeable, immediate_amounts, timing,
};
use tally_domain::plan_groups::same_group;
use tally_domain::subscription::{
    Credits, FeatureSnapshot, PrepaidBalance, Subscription, SubscriptionId, SubscriptionStatus,
};
use tally_domain::{Conflict, Customer, DomainError, PlanChangeRefusal, Timestamp};
use tally_store::{Db, Lock, StoreError};

/// A validated change or preview request. `param` is the field that names the plan:
/// `newPlanId` for a change, `planId` for a preview.
#[derive(Debug, Clone)]
pub struct PlanChangeRequest {
    pub subscription: String,
    pub plan: Option<PlanRef>,
    pub billing_interval: Option<BillingInterval>,
    pub param: &'static str,
}

/// A target seats feature that includes fewer seats than are held and sells no more: the
/// change still runs, the excess is just not billed (`lifecycle.md` §4.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatLimitWarning {
    pub feature_code: String,
    pub feature_name: String,
    pub current: i64,
    pub included: i64,
}

/// What a change does, decided before anything is written.
struct Decision {
    subscription: Subscription,
    current_plan: Plan,
    target_plan: Plan,
    target_price: Option<PlanPrice>,
    /// The target price in the subscription's currency.
    target_local: Option<LocalPrice>,
    kind: DecidedKind,
}

enum DecidedKind {
    Immediate {
        amounts: ChangeAmounts,
        snapshot: Vec<FeatureSnapshot>,
        seats: BTreeMap<String, i64>,
        /// The customer's credits before the change.
        credit_balance: Cents,
        /// The active add-ons the target plan keeps, and those it ends.
        addons: (Vec<AddonEntry>, Vec<AddonEntry>),
    },
    Scheduled {
        change: ScheduledChange,
        warnings: Vec<SeatLimitWarning>,
    },
}

/// The answer to a change.
#[derive(Debug, Clone)]
pub enum PlanChangeOutcome {
    Completed {
        detail: SubscriptionDetail,
        previous_plan: Plan,
        amounts: ChangeAmounts,
        credits: CreditFigures,
        /// Boxed: an invoice is large beside a scheduled change.
        invoice: Option<Box<Invoice>>,
    },
    Scheduled {
        detail: SubscriptionDetail,
        change: ScheduledChange,
        target_plan: Plan,
        warning: Option<SeatLimitWarning>,
    },
}

/// The customer credits a change uses and leaves (`lifecycle.md` §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreditFigures {
    /// Customer credits that paid part of the change.
    pub applied: Cents,
    /// The customer's credits afterwards, the change's excess included.
    pub remaining: Cents,
}

impl CreditFigures {
    /// What the customer pays: the net amount less the credits applied.
    pub fn total_charged(&self, amounts: &ChangeAmounts) -> Cents {
        Cents(amounts.net.0 - self.applied.0)
    }

    /// Before the change is made: credits cover the net amount as far as they go.
    fn expected(amounts: &ChangeAmounts, balance: Cents) -> Self {
        let applied = Cents(balance.0.min(amounts.net.0));
        CreditFigures {
            applied,
            remaining: Cents(balance.0 - applied.0 + amounts.excess.0),
        }
    }
}

/// The answer to a preview of an immediate change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanChangePreview {
    /// The subscription's currency, that the amounts are in.
    pub currency: String,
    pub amounts: ChangeAmounts,
    pub credits: CreditFigures,
    pub effective_at: Timestamp,
}

/// Runs the checks of `lifecycle.md` §4.1 in their order and classifies the change.
async fn decide(
    db: &mut dyn Db,
    subscription: Subscription,
    request: &PlanChangeRequest,
    now: Timestamp,
) -> Result<Decision, AppError> {
    let org = subscription.org_id.clone();
    check_changeable(&subscription)?;
    let current_plan = db
        .plan_any(&org, &subscription.plan_id)
        .await?
        .ok_or_else(|| AppError::Store(StoreError::other("subscription plan missing")))?;
    let not_found = || AppError::NotFoundAt(NotFound::Plan, request.param.to_owned());
    let target_plan = match &request.plan {
        Some(PlanRef::Id(id)) => db.plan(&org, id, Lock::None).await?.ok_or_else(not_found)?,
        Some(PlanRef::Code(code)) => db
            .plan_by_code(&org, code, Lock::None)
            .await?
            .ok_or_else(not_found)?,
        None => current_plan.clone(),
    };
    let same_plan = target_plan.id == current_plan.id;
    let target_price = target_price(db, &subscription, &target_plan, request).await?;
    if same_plan && subscription.is_free() && request.billing_interval.is_some() {
        return Err(DomainError::PlanChange(PlanChangeRefusal::FreePlanInterval).into());
    }
    let target_interval = target_price.as_ref().map(|p| p.billing_interval);
    if same_plan && target_interval == subscription.billing_interval {
        return Err(no_change(request.param));
    }
    if !same_plan && !same_group(&current_plan, &target_plan) {
        return Err(DomainError::PlanChange(PlanChangeRefusal::NotInSameGroup {
            param: request.param,
        })
        .into());
    }
    // The target's amounts in the subscription's currency (`commerce.md` §2).
    let target_local = match &target_price {
        Some(price) => Some(crate::markets::local_price_of(db, &subscription, price).await?),
        None => None,
    };
    let snapshot = plan_snapshot(db, &org, &target_plan.id).await?;
    let snapshot =
        crate::markets::local_features(db, &org, &target_plan.id, &subscription.currency, snapshot)
            .await?;
    let seats: BTreeMap<String, i64> = db
        .seat_balances(&org, &subscription.id)
        .await?
        .into_iter()
        .map(|b| (b.feature_code, b.current))
        .collect();
    let over = seats_over_limit(&snapshot, &seats);
    let kind = match timing(
        &current_plan,
        subscription.billing_interval,
        &target_plan,
        target_interval,
    ) {
        Timing::Immediate => {
            if let Some(first) = over.into_iter().next() {
                return Err(
                    DomainError::PlanChange(PlanChangeRefusal::SeatLimitExceeded {
                        feature_code: first.feature_code,
                        current: first.current,
                        included: first.included,
                        param: request.param,
                    })
                    .into(),
                );
            }
            let paid_base = paid_base(db, &subscription).await?;
            let (kept_addons, dropped_addons) =
                addons_across(db, &subscription, &target_plan, &snapshot).await?;
            let addon_base = kept_addons
                .iter()
                .map(|(addon, _)| addon.base_price)
                .try_fold(Cents(0), Cents::checked_add)
                .map_err(|e| e.at(request.param))?;
            let charge = advance_charge(target_local.as_ref(), &snapshot, &seats)?
                .checked_add(addon_base)
                .map_err(|e| e.at(request.param))?;
            let amounts = immediate_amounts(paid_base, subscription.current_period, now, charge)
                .map_err(|e| e.at(request.param))?;
            let credits = db
                .customer_credits(
                    &org,
                    &subscription.customer_id,
                    Some(&subscription.currency),
                    Lock::None,
                )
                .await?;
            DecidedKind::Immediate {
                amounts,
                snapshot,
                seats,
                credit_balance: credit_balance(&credits, now),
                addons: (kept_addons, dropped_addons),
            }
        }
        Timing::Scheduled => {
            let effective_at = subscription.current_period.map_or(now, |period| period.end);
            let change = ScheduledChange {
                change_type: if same_plan {
                    ChangeType::IntervalChange
                } else {
                    ChangeType::PlanDowngrade
                },
                plan_id: target_plan.id.clone(),
                price_id: target_price.as_ref().map(|p| p.id.clone()),
                billing_interval: target_interval,
                requested_at: now,
                effective_at,
            };
            DecidedKind::Scheduled {
                change,
                warnings: over,
            }
        }
    };
    Ok(Decision {
        subscription,
        current_plan,
        target_plan,
        target_price,
        target_local,
        kind,
    })
}

/// The base price paid for the current period: 0 in a trial or on a free plan (`lifecycle.md`
/// §4.3), else what the invoice that opened the period charged for it.
async fn paid_base(db: &mut dyn Db, subscription: &Subscription) -> Result<Cents, AppError> {
    let period = match (subscription.status, subscription.current_period) {
        (SubscriptionStatus::Active, Some(period)) if !subscription.is_free() => period,
        _ => return Ok(Cents(0)),
    };
    let org = &subscription.org_id;
    let Some(id) = db
        .period_opening_invoice(org, &subscription.id, period.start)
        .await?
    else {
        return Ok(Cents(0));
    };
    let invoice = db.invoice(org, &id, Lock::None).await?;
    Ok(invoice.map_or(Cents(0), |i| base_paid(&i.lines)))
}

/// The active add-ons a target plan keeps, and those it ends: one whose feature the plan has,
/// or whose (non-boolean) model is not the plan's (`lifecycle.md` §4.3).
pub(crate) async fn addons_across(
    db: &mut dyn Db,
    subscription: &Subscription,
    target: &Plan,
    target_snapshot: &[FeatureSnapshot],
) -> Result<(Vec<AddonEntry>, Vec<AddonEntry>), AppError> {
    let active = db
        .active_addons(&subscription.org_id, &subscription.id)
        .await?;
    Ok(active
        .into_iter()
        .map(|(_, entry)| entry)
        .partition(|(addon, feature)| {
            let feature_on_plan = target_snapshot
                .iter()
                .any(|f| f.feature_id == feature.id && f.enabled);
            let model_fits = addon
                .terms
                .model
                .plan_model()
                .is_none_or(|model| model == target.consumption());
            !feature_on_plan && model_fits
        }))
}

fn no_change(param: &'static str) -> AppError {
    DomainError::PlanChange(PlanChangeRefusal::NoChange { param }).into()
}

/// The target plan's price: for the interval asked, else the current interval if the plan has
/// it, else its default; none → `no_prices_configured`. Free plans have none.
async fn target_price(
    db: &mut dyn Db,
    subscription: &Subscription,
    plan: &Plan,
    request: &PlanChangeRequest,
) -> Result<Option<PlanPrice>, AppError> {
    if plan.is_free {
        return Ok(None);
    }
    let prices = db.plan_prices(&plan.org_id, &plan.id).await?;
    let wanted = request.billing_interval.or(subscription.billing_interval);
    let chosen = match (request.billing_interval, wanted) {
        (Some(interval), _) => prices.iter().find(|p| p.billing_interval == interval),
        (None, Some(interval)) => prices
            .iter()
            .find(|p| p.billing_interval == interval)
            .or_else(|| prices.iter().find(|p| p.is_default)),
        (None, None) => prices.iter().find(|p| p.is_default),
    };
    chosen
        .cloned()
        .map(Some)
        .ok_or_else(|| DomainError::from(Conflict::NoPricesConfigured).into())
}

/// Seats features of the target that include fewer seats than are held and sell no extra
/// ones, by code.
fn seats_over_limit(
    snapshot: &[FeatureSnapshot],
    seats: &BTreeMap<String, i64>,
) -> Vec<SeatLimitWarning> {
    let mut over: Vec<SeatLimitWarning> = snapshot
        .iter()
        .filter(|f| {
            f.feature_type == FeatureType::Seats && f.enabled && !f.unlimited && !f.overage.enabled
        })
        .filter_map(|f| {
            let current = seats.get(&f.code).copied().unwrap_or(0);
            (current > f.included_amount).then(|| SeatLimitWarning {
                feature_code: f.code.clone(),
                feature_name: f.name.clone(),
                current,
                included: f.included_amount,
            })
        })
        .collect();
    over.sort_by(|a, b| a.feature_code.cmp(&b.feature_code));
    over
}

/// What the new period costs in advance: the base price and the extra seats held, at the
/// target plan's pricing.
fn advance_charge(
    price: Option<&LocalPrice>,
    snapshot: &[FeatureSnapshot],
    seats: &BTreeMap<String, i64>,
) -> Result<Cents, DomainError> {
    let Some(price) = price else {
        return Ok(Cents(0));
    };
    advance_lines(snapshot, seats)
        .map_err(DomainError::from)?
        .iter()
        .map(|line| line.amount)
        .try_fold(price.base, Cents::checked_add)
        .map_err(DomainError::from)
}

/// `POST /subscriptions/{id}/change-plan`.
pub struct ChangePlan(pub PlanChangeRequest);

#[async_trait]
impl Command for ChangePlan {
    type Output = PlanChangeOutcome;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanChangeOutcome, AppError> {
        // A period end the scheduler has not reached yet is passed first, so the change
        // applies to the period running now.
        let subscription = lock_current_subscription(ctx, &self.0.subscription).await?;
        let decision = decide(ctx.tx, subscription, &self.0, ctx.now).await?;
        let customer = subscription_customer(ctx.tx, &decision.subscription).await?;
        match decision.kind {
            DecidedKind::Scheduled { change, warnings } => {
                schedule(
                    ctx,
                    &customer,
                    decision.subscription,
                    &decision.current_plan,
                    decision.target_plan,
                    change,
                    warnings,
                )
                .await
            }
            DecidedKind::Immediate {
                amounts,
                snapshot,
                seats,
                credit_balance,
                addons: (kept_addons, dropped_addons),
            } => {
                let target = Target {
                    plan: decision.target_plan,
                    price: decision.target_price,
                    local: decision.target_local,
                    snapshot,
                    seats,
                    kept_addons,
                    dropped_addons,
                };
                switch_now(
                    ctx,
                    &customer,
                    decision.subscription,
                    decision.current_plan,
                    target,
                    (amounts, credit_balance),
                )
                .await
            }
        }
    }
}

struct Target {
    plan: Plan,
    price: Option<PlanPrice>,
    /// `price` in the subscription's currency.
    local: Option<LocalPrice>,
    /// The target plan's features (add-ons' not included).
    snapshot: Vec<FeatureSnapshot>,
    seats: BTreeMap<String, i64>,
    kept_addons: Vec<AddonEntry>,
    dropped_addons: Vec<AddonEntry>,
}

/// Records a scheduled change. Asking for the pending change again changes nothing; another
/// one replaces it (`lifecycle.md` §4.4).
async fn schedule(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    current: Subscription,
    current_plan: &Plan,
    target_plan: Plan,
    change: ScheduledChange,
    warnings: Vec<SeatLimitWarning>,
) -> Result<PlanChangeOutcome, AppError> {
    let warning = warnings.into_iter().next();
    if let Some(pending) = current
        .scheduled_change
        .clone()
        .filter(|pending| pending.same_target(&change))
    {
        let detail = detail_in(ctx.tx, current, ctx.now, &ctx.billing.signer).await?;
        return Ok(PlanChangeOutcome::Scheduled {
            detail,
            change: pending,
            target_plan,
            warning,
        });
    }
    let mut next = current.clone();
    next.scheduled_change = Some(change.clone());
    next.updated_at = ctx.now;
    save(ctx.tx, &next).await?;
    let mut outbox = Outbox::new(ctx.ids, customer, ctx.now);
    if let Some(replaced) = &current.scheduled_change {
        let revoked = revoked_data(
            ctx.tx,
            outbox.customer_ref(),
            &current,
            current_plan,
            replaced,
        )
        .await?;
        outbox.push("subscription.plan_change_revoked", revoked);
    }
    let data = json!({
        "subscriptionId": next.id.as_str(),
        "customerId": outbox.customer_ref(),
        "status": next.status.as_str(),
        "currentPlan": plan_ref(current_plan),
        "scheduledPlan": plan_ref(&target_plan),
        "billingInterval": next.billing_interval.map(BillingInterval::as_str),
        "scheduledBillingInterval": change.billing_interval.map(BillingInterval::as_str),
        "effectiveAt": change.effective_at.to_rfc3339(),
    });
    outbox.push("subscription.plan_change_scheduled", data);
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    let detail = detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await?;
    Ok(PlanChangeOutcome::Scheduled {
        detail,
        change,
        target_plan,
        warning,
    })
}

fn plan_ref(plan: &Plan) -> Value {
    json!({"id": plan.id.as_str(), "name": plan.name})
}

/// `subscription.plan_change_revoked` data for a pending change that is dropped.
pub(crate) async fn revoked_data(
    db: &mut dyn Db,
    customer_ref: &str,
    subscription: &Subscription,
    current_plan: &Plan,
    revoked: &ScheduledChange,
) -> Result<Value, AppError> {
    let revoked_plan = db.plan_any(&subscription.org_id, &revoked.plan_id).await?;
    Ok(json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": customer_ref,
        "status": subscription.status.as_str(),
        "currentPlan": plan_ref(current_plan),
        "revokedPlan": revoked_plan.as_ref().map(plan_ref),
        "billingInterval": subscription.billing_interval.map(BillingInterval::as_str),
        "revokedBillingInterval": revoked.billing_interval.map(BillingInterval::as_str),
    }))
}

/// An immediate change (`lifecycle.md` §4.3), in one transaction: the usage period it cuts
/// short is billed, the plan switches and the cycle restarts now, and the new period is
/// invoiced in advance with the unused old base price credited.
async fn switch_now(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    current: Subscription,
    current_plan: Plan,
    target: Target,
    (amounts, credit_balance): (ChangeAmounts, Cents),
) -> Result<PlanChangeOutcome, AppError> {
    let org = ctx.caller.org().clone();
    // Usage of the period cut short, billed at its end like a usage reset (README Decisions).
    if let Some(period) = current.current_period {
        let unbilled = current.unbilled_usage(ctx.now.max(period.start));
        let arrears =
            crate::usage::arrears_lines(ctx.tx, &current, &current_plan, unbilled).await?;
        if !arrears.is_empty() {
            let request = InvoiceRequest {
                customer,
                subscription: &current,
                plan_name: &current_plan.name,
                lines: arrears,
                period: unbilled,
                now: ctx.now,
                invoice_type: "overage",
                status: ctx.billing.issue_status(&ctx.caller.organization),
                settles_true_ups: false,
            };
            let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
            crate::collection::settle_at_once(ctx, customer, &current, &invoice, PLAN_CHANGE)
                .await?;
        }
    }
    // An offer was made for the plan left behind: it ends with it (`commerce.md` §4.4).
    crate::offers::end_applications(ctx.tx, &current, ctx.now).await?;
    let was_trial = current.status == SubscriptionStatus::Trialing;
    let mut next = current.switch_plan_now(
        target.plan.id.clone(),
        target.price.as_ref().map(|p| p.id.clone()),
        target.price.as_ref().map(|p| p.billing_interval),
        ctx.now,
    );
    let previous_credits = next.credits;
    grant_ledgers(
        &mut next,
        &target.plan,
        target.price.as_ref(),
        target.local.as_ref(),
    );
    for (addon, _) in &target.dropped_addons {
        ctx.tx
            .end_activation(&org, &next.id, &addon.id, ctx.now)
            .await?;
    }
    let mut features = target.snapshot.clone();
    features.extend(
        target
            .kept_addons
            .iter()
            .map(|(addon, feature)| addon_snapshot(addon, feature)),
    );
    ctx.tx
        .replace_subscription_features(&org, &next.id, &features)
        .await?;
    start_seat_period(ctx.tx, &org, &next.id, &target.snapshot).await?;
    save(ctx.tx, &next).await?;

    let mut outbox = Outbox::new(ctx.ids, customer, ctx.now);
    let customer_ref = outbox.customer_ref().to_owned();
    if let Some(dropped) = &current.scheduled_change {
        let revoked = revoked_data(ctx.tx, &customer_ref, &current, &current_plan, dropped).await?;
        outbox.push("subscription.plan_change_revoked", revoked);
    }
    for (addon, feature) in &target.dropped_addons {
        outbox.push(
            "addon.deactivated",
            json!({
                "subscriptionId": next.id.as_str(),
                "customerId": customer_ref,
                "addon": {"id": addon.id.as_str(), "name": addon.name},
                "featureCode": feature.code,
            }),
        );
    }
    ledger_events(&mut outbox, &next, previous_credits);
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;

    let invoice = match (target.local.as_ref(), next.current_period) {
        (Some(price), Some(period)) if amounts.charge.0 > 0 => {
            let lines = change_invoice_lines(&target, price, &period, &current_plan, amounts)?;
            let request = InvoiceRequest {
                customer,
                subscription: &next,
                plan_name: &target.plan.name,
                lines,
                period,
                now: ctx.now,
                invoice_type: "plan_change",
                status: ctx.billing.issue_status(&ctx.caller.organization),
                settles_true_ups: false,
            };
            let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
            crate::collection::settle_at_once(ctx, customer, &next, &invoice, PLAN_CHANGE).await?;
            Some(invoice)
        }
        _ => None,
    };
    // Customer credits the invoice used: its credit lines besides the proration credit.
    let proration = amounts.credit.0.min(amounts.charge.0);
    let applied = Cents(
        invoice
            .as_ref()
            .map_or(0, |i| i.credit_applied.0 - proration),
    );
    // What the credit exceeds the charge by stays the customer's, for later invoices.
    if amounts.excess.0 > 0 {
        let credit = CustomerCredit {
            id: CustomerCreditId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: customer.id.clone(),
            currency: next.currency.clone(),
            amount: amounts.excess,
            applied: Cents(0),
            reversed: Cents(0),
            revoked: Cents(0),
            reason: format!("Unused time on {}", current_plan.name),
            source: CreditSource::PlanChange,
            expires_at: None,
            created_at: ctx.now,
        };
        ctx.tx.insert_customer_credit(&credit).await?;
    }
    let credits = CreditFigures {
        applied,
        remaining: Cents(credit_balance.0 - applied.0 + amounts.excess.0),
    };

    let mut outbox = Outbox::new(ctx.ids, customer, ctx.now);
    outbox.push(
        "subscription.plan_changed",
        json!({
            "subscriptionId": next.id.as_str(),
            "customerId": customer_ref,
            "previousPlan": plan_ref(&current_plan),
            "currentPlan": plan_ref(&target.plan),
            "billingInterval": next.billing_interval.map(BillingInterval::as_str),
            "credit": amounts.credit.0,
            "charge": amounts.charge.0,
            "totalCharged": credits.total_charged(&amounts).0,
        }),
    );
    if was_trial {
        outbox.push(
            "trial.converted",
            json!({
                "subscriptionId": next.id.as_str(),
                "customerId": customer_ref,
                "status": next.status.as_str(),
                "planId": target.plan.id.as_str(),
                "planName": target.plan.name,
            }),
        );
        outbox.state_changed("trial_converted");
    } else {
        outbox.state_changed("plan_change");
    }
    ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    let detail = detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await?;
    Ok(PlanChangeOutcome::Completed {
        detail,
        previous_plan: current_plan,
        amounts,
        credits,
        invoice: invoice.map(Box::new),
    })
}

/// The plan-change invoice: the new base, extra seats and add-ons in advance, then the credit
/// for the unused old base (never more than the charge).
fn change_invoice_lines(
    target: &Target,
    price: &LocalPrice,
    period: &BillingPeriod,
    previous_plan: &Plan,
    amounts: ChangeAmounts,
) -> Result<Vec<InvoiceLine>, AppError> {
    let mut lines = vec![plan_base_line(&target.plan.name, price.base, period)];
    lines.extend(advance_lines(&target.snapshot, &target.seats).map_err(DomainError::from)?);
    lines.extend(
        target
            .kept_addons
            .iter()
            .filter(|(addon, _)| addon.base_price.0 > 0)
            .map(|(addon, _)| addon_line(addon, addon.base_price, None)),
    );
    let credit = Cents(amounts.credit.0.min(amounts.charge.0));
    if credit.0 > 0 {
        lines.push(InvoiceLine::single(
            LineType::Credit,
            ChargeType::Standard,
            format!(
                "Unused time on {}, {}/{} days",
                previous_plan.name, amounts.days_left, amounts.period_days
            ),
            Cents(-credit.0),
        ));
    }
    Ok(lines)
}

/// The new plan's ledgers: credits and balance start at the new price's grants (the balance
/// in the subscription's currency, `local`); purchased credits carry over (`balance.md` §1).
pub(crate) fn grant_ledgers(
    subscription: &mut Subscription,
    plan: &Plan,
    price: Option<&PlanPrice>,
    local: Option<&LocalPrice>,
) {
    let purchased = subscription.credits.map_or(0, |c| c.purchased);
    subscription.credits = (plan.consumption() == ConsumptionModel::Credits).then(|| {
        let included = price.and_then(|p| p.included_credits).unwrap_or(0);
        Credits {
            remaining: included + purchased,
            included,
            purchased,
        }
    });
    subscription.balance = (plan.consumption() == ConsumptionModel::Balance).then(|| {
        let included = local.and_then(|p| p.included_balance).unwrap_or(Rate(0));
        PrepaidBalance {
            remaining: included,
            included,
        }
    });
}

/// Credits granted by the new plan, and the unused plan credits that expire with the old one.
fn ledger_events(outbox: &mut Outbox<'_>, next: &Subscription, before: Option<Credits>) {
    let customer_ref = outbox.customer_ref().to_owned();
    if let Some(before) = before {
        let unused = before.remaining - before.purchased;
        if unused > 0 {
            outbox.push(
                "credits.expired",
                json!({"subscriptionId": next.id.as_str(), "customerId": customer_ref, "expiredCredits": unused}),
            );
        }
    }
    if let Some(after) = next.credits {
        outbox.push(
            "credits.granted",
            json!({"subscriptionId": next.id.as_str(), "customerId": customer_ref,
                   "credits": after.included, "reason": "plan_change"}),
        );
    }
}

impl App {
    /// `POST /subscriptions/{id}/preview-change`: the figures of an immediate change, or
    /// `plan_change_scheduled` for one that would wait.
    pub async fn preview_plan_change(
        &self,
        caller: &Caller,
        request: &PlanChangeRequest,
    ) -> Result<PlanChangePreview, AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let subscription = match SubscriptionId::parse(&request.subscription) {
            Some(id) => db.subscription(org, &id, Lock::None).await?,
            None => None,
        }
        .ok_or(AppError::NotFound(NotFound::Subscription))?;
        // A period end the scheduler has not reached yet is presented as passed.
        let subscription = subscription.as_of(now);
        let currency = subscription.currency.clone();
        let decision = decide(&mut *db, subscription, request, now).await?;
        match decision.kind {
            DecidedKind::Immediate {
                amounts,
                credit_balance,
                ..
            } => Ok(PlanChangePreview {
                currency,
                amounts,
                credits: CreditFigures::expected(&amounts, credit_balance),
                effective_at: now,
            }),
            DecidedKind::Scheduled { change, .. } => {
                Err(DomainError::PlanChange(PlanChangeRefusal::Scheduled {
                    change_type: change.change_type.as_str(),
                    scheduled_for: change.effective_at,
                })
                .into())
            }
        }
    }
}
