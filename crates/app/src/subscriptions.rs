//! Subscription operations (`catalog.md` §5): create, get, get active, list, cancel, uncancel,
//! and the deadline processing that renewals, trial ends and scheduled cancellations share.

use crate::catalog::{PlanRef, plan_snapshot};
use crate::customers::{find_customer_for_param, lock_customer_ref};
use crate::invoicing::{
    InvoiceRequest, announce_activation, issue_invoice, next_invoice_total, period_invoice_lines,
};
use crate::outbox::{Outbox, cancellation_data, trial_data};
use crate::{App, AppError, Caller, Command, IdSource, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use tally_domain::billing::{Invoice, InvoiceLine, InvoiceStatus};
use tally_domain::catalog::{ConsumptionModel, FeatureType, Plan, PlanPrice};
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::period::BillingInterval;
use tally_domain::period::BillingPeriod;
use tally_domain::seats::{SeatBalance, SeatEvent, SeatEventId, billable_extra};
use tally_domain::subscription::{
    Credits, DeadlineKind, FeatureSnapshot, NewSubscription, PrepaidBalance, Subscription,
    SubscriptionId, SubscriptionStatus,
};
use tally_domain::test_clock::{RunItem, RunItemKind};
use tally_domain::{Conflict, Customer, CustomerRef, DomainError, OrgId, Timestamp};
use tally_store::{Db, Lock, StoreError, Tx, constraints};

/// A subscription with what its views show: plan, price, feature snapshot and seat balances.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionDetail {
    pub subscription: Subscription,
    pub plan: Plan,
    pub price: Option<PlanPrice>,
    pub features: Vec<FeatureSnapshot>,
    pub seats: BTreeMap<String, i64>,
    /// The instant the views compute `daysRemaining` from.
    pub now: Timestamp,
    /// The plan a scheduled change switches to.
    pub scheduled_plan: Option<Plan>,
    /// The offers placed on the subscription, oldest first.
    pub offers: Vec<tally_domain::offers::OfferApplication>,
    /// A plan grant running on the subscription (`commerce.md` §6).
    pub grant: Option<tally_domain::plan_grants::GrantAccess>,
    /// Where a subscription waiting for its checkout is paid (`payments.md` §5).
    pub checkout_url: Option<String>,
}

impl SubscriptionDetail {
    /// What the subscription views are built from.
    pub fn parts(&self) -> tally_wire::SubscriptionParts<'_> {
        tally_wire::SubscriptionParts {
            subscription: &self.subscription,
            plan: &self.plan,
            price: self.price.as_ref(),
            features: &self.features,
            seats: &self.seats,
            now: self.now,
            scheduled_plan: self.scheduled_plan.as_ref(),
            offers: &self.offers,
            grant: self.grant.as_ref(),
            checkout_url: self.checkout_url.as_deref(),
        }
    }
}

/// A validated create request (`catalog.md` §5.2).
#[derive(Debug, Clone)]
pub struct NewSubscriptionRequest {
    pub customer: CustomerRef,
    pub plan: PlanRef,
    pub billing_interval: Option<BillingInterval>,
    pub price_id: Option<String>,
    /// Seat counts by the key the caller sent (a code, or its camel-cased form).
    pub initial_seats: Vec<(String, i64)>,
    pub skip_trial: bool,
    pub custom_trial_days: Option<i64>,
    pub name: Option<String>,
    pub start_date: Option<Timestamp>,
    /// An offer to start with: a promo code or an offer id (`commerce.md` §4.3).
    pub terms: Option<crate::offers::Terms>,
}

pub struct CreateSubscription(pub NewSubscriptionRequest);

#[async_trait]
impl Command for CreateSubscription {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let request = &self.0;
        let org = ctx.caller.org().clone();
        let customer = lock_customer(ctx.tx, &org, &request.customer).await?;
        let plan = match crate::catalog::lock_plan(ctx.tx, &org, &request.plan).await {
            Err(AppError::NotFound(NotFound::Plan)) => {
                let param = match request.plan {
                    PlanRef::Id(_) => "planId",
                    PlanRef::Code(_) => "planCode",
                };
                return Err(AppError::NotFoundAt(NotFound::Plan, param.to_owned()));
            }
            other => other?,
        };
        let price = choose_price(ctx.tx, &plan, request).await?;
        let waiting = match ctx
            .tx
            .live_subscription(&org, &customer.id, Lock::ForUpdate)
            .await?
        {
            Some(live) if live.status == SubscriptionStatus::PendingPayment => Some(live),
            Some(_) => {
                return Err(DomainError::from(Conflict::AlreadyHasActiveSubscription).into());
            }
            None => None,
        };
        let snapshot = plan_snapshot(ctx.tx, &org, &plan.id).await?;
        let seats = resolve_initial_seats(ctx.tx, &org, &snapshot, &request.initial_seats).await?;
        // A subscription waiting for its checkout is reused when asked for again alike, and
        // replaced by any other (`payments.md` §5).
        if let Some(waiting) = waiting {
            let asked: BTreeMap<String, i64> = seats.iter().cloned().collect();
            let held = seat_counts(ctx.tx.seat_balances(&org, &waiting.id).await?);
            let alike = waiting.plan_id == plan.id
                && waiting.price_id == price.as_ref().map(|p| p.id.clone())
                && held
                    .into_iter()
                    .filter(|(_, n)| *n != 0)
                    .collect::<BTreeMap<_, _>>()
                    == asked.into_iter().filter(|(_, n)| *n != 0).collect();
            if alike {
                return detail_in(ctx.tx, waiting, ctx.now, &ctx.billing.signer).await;
            }
            crate::checkout::end_checkout(ctx.tx, ctx.ids, &waiting, "replaced", ctx.now).await?;
        }

        let start_date = request.start_date.unwrap_or(ctx.now);
        check_start_date(start_date, ctx.now, price.as_ref())?;
        // The currency and base the customer's country decides (`commerce.md` §2).
        let pricing = match &price {
            Some(price) => crate::markets::resolve_pricing(ctx.tx, &customer, &plan, price).await?,
            None => None,
        };
        let (currency, base) = match (&pricing, &price) {
            (Some((p, amount)), _) => (p.currency.clone(), *amount),
            (None, price) => (
                crate::invoicing::CURRENCY.to_owned(),
                price.as_ref().map_or(Cents(0), |p| p.price),
            ),
        };
        // Its overage unit prices and balance in that currency.
        let snapshot =
            crate::markets::local_features(ctx.tx, &org, &plan.id, &currency, snapshot).await?;
        let included_balance = match (&price, &pricing) {
            (Some(price), Some((pricing, _))) => {
                let market = pricing.market_id.as_deref();
                crate::markets::local_price(ctx.tx, &org, &currency, market, price)
                    .await?
                    .included_balance
            }
            (price, _) => price.as_ref().and_then(|p| p.included_balance),
        };
        // The first invoice (now, or when the trial ends) bills these seats in advance; one it
        // could never issue is refused here, naming the field.
        if price.is_some() {
            let counts: BTreeMap<String, i64> = seats.iter().cloned().collect();
            next_invoice_total(Some(base), &[], &snapshot, &counts)
                .map_err(|e| e.at("initialSeats"))?;
        }
        let intro = match &price {
            Some(price) => {
                crate::offers::intro_offer(ctx.tx, &org, price, &currency, ctx.now).await?
            }
            None => None,
        };
        let chosen = match (&request.terms, intro) {
            (Some(crate::offers::Terms::PromoCode(_)), Some(_)) => {
                return Err(AppError::IntroOfferActive);
            }
            (Some(terms), _) => Some(
                crate::offers::choose(
                    ctx.tx,
                    &org,
                    terms,
                    (&plan, price.as_ref(), &currency),
                    ctx.now,
                )
                .await?,
            ),
            (None, Some(offer)) => Some(crate::offers::Chosen {
                offer,
                code: None,
                source: tally_domain::offers::Source::Introductory,
            }),
            (None, None) => None,
        };
        // An offer chosen by code or id defines the whole sequence: its free trial, or none;
        // an introductory offer (or custom terms) without a trial keeps the price's, which
        // `customTrialDays` replaces (`commerce.md` §4.3).
        let price_trial = || {
            request
                .custom_trial_days
                .unwrap_or_else(|| price.as_ref().map_or(0, |p| p.trial_days))
        };
        let trial_days = match &chosen {
            _ if request.skip_trial || price.is_none() => 0,
            Some(chosen)
                if matches!(
                    chosen.source,
                    tally_domain::offers::Source::PromoCode | tally_domain::offers::Source::Direct
                ) =>
            {
                chosen.offer.trial_days().unwrap_or(0)
            }
            Some(chosen) => chosen.offer.trial_days().unwrap_or_else(price_trial),
            None => price_trial(),
        };
        let mut subscription = NewSubscription {
            id: SubscriptionId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: customer.id.clone(),
            plan_id: plan.id.clone(),
            price_id: price.as_ref().map(|p| p.id.clone()),
            name: request.name.clone().unwrap_or_else(|| plan.name.clone()),
            description: plan.description.clone(),
            billing_interval: price.as_ref().map(|p| p.billing_interval),
            trial_days,
            start_date,
            credits: (plan.consumption() == ConsumptionModel::Credits).then(|| {
                let included = price.as_ref().and_then(|p| p.included_credits).unwrap_or(0);
                Credits {
                    remaining: included,
                    included,
                    purchased: 0,
                }
            }),
            balance: (plan.consumption() == ConsumptionModel::Balance).then(|| {
                let included = included_balance.unwrap_or(Rate(0));
                PrepaidBalance {
                    remaining: included,
                    included,
                }
            }),
            currency: currency.clone(),
        }
        .start(ctx.now);

        let deadline = subscription.next_deadline().map(|(at, _)| at);
        match ctx.tx.insert_subscription(&subscription, deadline).await {
            Err(error) if error.is_conflict_on(constraints::LIVE_SUBSCRIPTION) => {
                return Err(DomainError::from(Conflict::AlreadyHasActiveSubscription).into());
            }
            other => other?,
        }
        ctx.tx
            .replace_subscription_features(&org, &subscription.id, &snapshot)
            .await?;
        if let Some((pricing, _)) = &pricing {
            ctx.tx
                .insert_subscription_pricing(&org, subscription.id.as_str(), pricing)
                .await?;
        }
        let mut offers = Vec::new();
        if let (Some(chosen), Some(price)) = (&chosen, &price) {
            let placed = crate::offers::application(
                format!("ofa_{}", ctx.ids.ulid()),
                &subscription,
                (&chosen.offer, chosen.code.as_ref(), chosen.source),
                (price, base, &currency),
                subscription.start_date,
                ctx.now,
            );
            ctx.tx.insert_offer_application(&placed).await?;
            if let Some(code) = &chosen.code {
                let redeemed = tally_domain::offers::PromoCode {
                    redemption_count: code.redemption_count + 1,
                    updated_at: ctx.now,
                    ..code.clone()
                };
                ctx.tx.update_promo_code(&redeemed).await?;
            }
            offers.push(placed);
        }
        let mut balances = BTreeMap::new();
        for (code, count) in seats {
            let feature = snapshot
                .iter()
                .find(|f| f.code == code)
                .expect("resolved against the snapshot");
            // The first invoice bills these extra seats in advance (`seats.md` §5).
            let balance = SeatBalance {
                subscription_id: subscription.id.clone(),
                feature_code: code.clone(),
                current: count,
                paid_extra: billable_extra(count, feature),
                peak: count,
                updated_at: ctx.now,
            };
            ctx.tx.save_seat_balance(&org, &balance).await?;
            ctx.tx
                .append_seat_event(&SeatEvent {
                    id: SeatEventId::from_ulid(ctx.ids.ulid()),
                    org_id: org.clone(),
                    customer_id: customer.id.clone(),
                    subscription_id: subscription.id.clone(),
                    feature_code: code.clone(),
                    previous_balance: 0,
                    new_balance: count,
                    ts: ctx.now,
                })
                .await?;
            balances.insert(code, count);
        }
        // A paid subscription that starts active is invoiced at once: plan base and the extra
        // seats of `initialSeats` in advance (`catalog.md` §5.2). Under `billingMode: charge`
        // the invoice is charged to the customer's default card first, and without one (or on
        // a decline) the subscription waits for its checkout (`payments.md` §5), which its
        // events announce.
        let collects = ctx.billing.collects(&ctx.caller.organization);
        let opens = match (&price, subscription.current_period, subscription.status) {
            (Some(price), Some(period), SubscriptionStatus::Active) => Some((price, period)),
            _ => None,
        };
        let mut charged = None;
        if let (true, Some((price, period))) = (collects, opens) {
            let invoice =
                open_first_period(ctx, &customer, &subscription, (price, period), &plan.name)
                    .await?;
            let charge =
                crate::collection::collect_first_invoice(ctx, &customer, &subscription, &invoice)
                    .await?;
            if let crate::collection::FirstCharge::Checkout(_) = charge {
                subscription = subscription.await_checkout(ctx.now);
                save(ctx.tx, &subscription).await?;
            }
            charged = Some((invoice, charge));
        }
        // A trial needs a card there too: without a default one it waits for its checkout.
        let mut trial_card = None;
        if collects && subscription.status == SubscriptionStatus::Trialing {
            match ctx.tx.default_card(&org, &customer.id).await? {
                Some(card) => trial_card = Some(card.card),
                None => {
                    subscription = subscription.await_trial_checkout(trial_days, ctx.now);
                    save(ctx.tx, &subscription).await?;
                }
            }
        }
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let customer_ref = outbox.customer_ref().to_owned();
        outbox.push(
            "subscription.created",
            json!({
                "subscriptionId": subscription.id.as_str(),
                "customerId": customer_ref,
                "planId": plan.id.as_str(),
                "planName": plan.name,
                "status": subscription.status.as_str(),
                "startDate": subscription.start_date.to_rfc3339(),
                "name": subscription.name,
            }),
        );
        if let Some((invoice, crate::collection::FirstCharge::Checkout(declined))) = &charged {
            let url = crate::checkout::checkout_url(&ctx.billing.signer, &subscription)
                .unwrap_or_default();
            let invoice = invoice.clone();
            crate::checkout::announce_checkout(
                &mut outbox,
                &subscription,
                &invoice,
                &url,
                declined
                    .as_ref()
                    .map(|d| (d, crate::collection::FIRST_SUBSCRIPTION_PAYMENT)),
            );
        }
        if let Some(days) = subscription.checkout_trial_days {
            outbox.push(
                "trial.checkout_ready",
                json!({
                    "subscriptionId": subscription.id.as_str(),
                    "customerId": customer_ref,
                    "planName": plan.name,
                    "trialDays": days,
                    "checkoutUrl": crate::checkout::checkout_url(&ctx.billing.signer, &subscription),
                }),
            );
        }
        outbox.state_changed("subscription_created");
        if let Some(card) = &trial_card {
            outbox.push(
                "payment_method.attached",
                json!({
                    "subscriptionId": subscription.id.as_str(),
                    "customerId": customer_ref,
                    "card": {"brand": card.brand, "last4": card.last4, "expMonth": card.exp_month, "expYear": card.exp_year},
                    "paymentMethod": "card",
                }),
            );
        }
        if subscription.status == SubscriptionStatus::Trialing {
            outbox.push(
                "trial.started",
                trial_data(&customer_ref, &subscription, &plan.name),
            );
            outbox.state_changed("trial_started");
        }
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        let activated = match (charged, opens) {
            (Some((invoice, crate::collection::FirstCharge::Paid(provider))), _) => {
                Some((invoice, provider))
            }
            (None, Some(opening)) => Some((
                open_first_period(ctx, &customer, &subscription, opening, &plan.name).await?,
                None,
            )),
            _ => None,
        };
        if let Some((invoice, provider)) = activated {
            announce_activation(
                ctx.tx,
                ctx.ids,
                &customer,
                &subscription,
                &invoice,
                ctx.now,
                provider,
            )
            .await?;
        }
        let checkout_url = crate::checkout::checkout_url(&ctx.billing.signer, &subscription);
        Ok(SubscriptionDetail {
            subscription,
            plan,
            price,
            features: snapshot,
            seats: balances,
            now: ctx.now,
            scheduled_plan: None,
            offers,
            grant: None,
            checkout_url,
        })
    }
}

/// Issues a new paid subscription's first invoice: the plan base and the seats above the
/// included ones in advance; `outstanding` where it is collected, else as `autoPay` says.
async fn open_first_period(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    subscription: &Subscription,
    (price, period): (&PlanPrice, BillingPeriod),
    plan_name: &str,
) -> Result<Invoice, AppError> {
    let lines = period_invoice_lines(ctx.tx, subscription, price, plan_name).await?;
    let request = InvoiceRequest {
        customer,
        subscription,
        plan_name,
        lines,
        period,
        now: ctx.now,
        invoice_type: "recurring",
        status: match ctx.billing.collects(&ctx.caller.organization) {
            true => InvoiceStatus::Outstanding,
            false => ctx.billing.invoice_status,
        },
        settles_true_ups: true,
    };
    issue_invoice(ctx.tx, ctx.ids, request).await
}

async fn lock_customer(
    tx: &mut dyn Tx,
    org: &OrgId,
    customer: &CustomerRef,
) -> Result<Customer, AppError> {
    lock_customer_ref(tx, org, customer)
        .await?
        .ok_or_else(|| AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned()))
}

/// `priceId` wins, then `billingInterval`, then the default price (`catalog.md` §5.2). Free
/// plans have no price.
async fn choose_price(
    tx: &mut dyn Tx,
    plan: &Plan,
    request: &NewSubscriptionRequest,
) -> Result<Option<PlanPrice>, AppError> {
    if plan.is_free {
        return Ok(None);
    }
    let prices = tx.plan_prices(&plan.org_id, &plan.id).await?;
    if let Some(price_id) = &request.price_id {
        let price = prices
            .into_iter()
            .find(|p| p.id.as_str() == price_id)
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Price, "priceId".to_owned()))?;
        if request
            .billing_interval
            .is_some_and(|interval| interval != price.billing_interval)
        {
            return Err(DomainError::field(
                "billingInterval",
                "billingInterval contradicts the interval of priceId",
            )
            .into());
        }
        return Ok(Some(price));
    }
    let chosen = match request.billing_interval {
        Some(interval) => prices.into_iter().find(|p| p.billing_interval == interval),
        None => prices.into_iter().find(|p| p.is_default),
    };
    chosen
        .map(Some)
        .ok_or_else(|| DomainError::from(Conflict::NoPricesConfigured).into())
}

/// A given start date may lie in the past, but by less than one interval (`catalog.md` §5.2).
fn check_start_date(
    start: Timestamp,
    now: Timestamp,
    price: Option<&PlanPrice>,
) -> Result<(), AppError> {
    let interval = price.map_or(BillingInterval::Monthly, |p| p.billing_interval);
    let earliest_end = interval.boundary(start, 1).unwrap_or(start);
    if start > now || (interval.is_recurring() && earliest_end <= now) {
        return Err(DomainError::field(
            "startDate",
            "startDate must not be in the future nor more than one billing interval ago",
        )
        .into());
    }
    Ok(())
}

/// Matches each `initialSeats` key to a seats feature of the plan (`wire.md` §2.3 for the
/// camel-cased keys the Python SDK sends).
async fn resolve_initial_seats(
    tx: &mut dyn Tx,
    org: &OrgId,
    snapshot: &[FeatureSnapshot],
    requested: &[(String, i64)],
) -> Result<Vec<(String, i64)>, AppError> {
    if requested.is_empty() {
        return Ok(Vec::new());
    }
    let features = tx.features(org).await?;
    let codes: Vec<&str> = features.iter().map(|f| f.code.as_str()).collect();
    let mut resolved = Vec::new();
    for (key, count) in requested {
        let param = format!("initialSeats.{key}");
        let code = crate::seat_codes::resolve_code(key, &codes)
            .map_err(|message| DomainError::field(param.clone(), message))?
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, param.clone()))?;
        let feature = features
            .iter()
            .find(|f| f.code == code)
            .expect("resolved from this list");
        if feature.feature_type != FeatureType::Seats {
            return Err(AppError::NotFoundAt(NotFound::Feature, param));
        }
        if !snapshot.iter().any(|s| s.code == code && s.enabled) {
            return Err(DomainError::FeatureNotInPlan {
                code: code.to_owned(),
                param,
            }
            .into());
        }
        resolved.push((code.to_owned(), *count));
    }
    Ok(resolved)
}

/// Cancels now or at period end (`catalog.md` §5.3).
pub struct CancelSubscription {
    pub id: String,
    pub reason: Option<String>,
    pub immediate: bool,
}

#[async_trait]
impl Command for CancelSubscription {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.id).await?;
        let next = current.cancel(ctx.now, self.reason.clone(), self.immediate)?;
        if next != current {
            save(ctx.tx, &next).await?;
            // A past-due subscription ends at once and its unpaid invoice is given up
            // (`payments.md` §6).
            if let Some(dunning) = &current.dunning {
                ctx.tx
                    .update_invoice_status(
                        ctx.caller.org(),
                        &dunning.invoice_id,
                        InvoiceStatus::Uncollectible,
                        ctx.now,
                    )
                    .await?;
            }
            // A checkout never paid leaves nothing to bill: its invoice is void.
            if let (SubscriptionStatus::PendingPayment, Some(period)) =
                (current.status, current.current_period)
            {
                let customer = subscription_customer(ctx.tx, &current).await?;
                let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
                crate::checkout::void_checkout_invoice(
                    ctx.tx,
                    &current,
                    period.start,
                    ctx.now,
                    &mut outbox,
                )
                .await?;
                ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
            } else if next.status == SubscriptionStatus::Canceled {
                bill_cut_short_period(ctx, &current, &next).await?;
            }
            if next.status == SubscriptionStatus::Canceled {
                crate::addons::end_all_activations(ctx.tx, &next, ctx.now).await?;
                crate::offers::end_applications(ctx.tx, &next, ctx.now).await?;
                crate::plan_grants::end_with_subscription(ctx.tx, ctx.ids, &next, ctx.now).await?;
            }
            let mut outbox = outbox_for(ctx.tx, ctx.ids, &next, ctx.now).await?;
            if let (Some(dropped), None) = (&current.scheduled_change, &next.scheduled_change) {
                let plan = ctx
                    .tx
                    .plan_any(ctx.caller.org(), &current.plan_id)
                    .await?
                    .ok_or_else(|| {
                        AppError::Store(StoreError::other("subscription plan missing"))
                    })?;
                let data = crate::plan_changes::revoked_data(
                    ctx.tx,
                    outbox.customer_ref(),
                    &current,
                    &plan,
                    dropped,
                )
                .await?;
                outbox.push("subscription.plan_change_revoked", data);
            }
            let data = cancellation_data(outbox.customer_ref(), &next);
            if next.status == SubscriptionStatus::Canceled {
                outbox.push("subscription.canceled", data);
                outbox.state_changed("subscription_canceled");
            } else {
                outbox.push("subscription.updated", data.clone());
                let mut scheduled = data;
                scheduled["effectiveAt"] = json!(next.end_date().map(Timestamp::to_rfc3339));
                scheduled.as_object_mut().map(|d| d.remove("endDate"));
                outbox.push("subscription.cancellation_scheduled", scheduled);
                outbox.state_changed("cancellation_scheduled");
            }
            ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        }
        detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await
    }
}

/// A cancellation that takes effect at once bills what the cut-short period still owes
/// (`catalog.md` §5.3, `usage.md` §5): seat and quota true-ups, and usage in arrears up to now.
async fn bill_cut_short_period(
    ctx: &mut WriteCtx<'_>,
    current: &Subscription,
    canceled: &Subscription,
) -> Result<(), AppError> {
    let Some(period) = current.current_period else {
        return Ok(());
    };
    let org = ctx.caller.org().clone();
    let cut = BillingPeriod {
        start: period.start,
        end: ctx.now.max(period.start),
    };
    let plan = ctx.tx.plan_any(&org, &current.plan_id).await?;
    let arrears = match &plan {
        Some(plan) => {
            let unbilled = current.unbilled_usage(cut.end);
            crate::usage::arrears_lines(ctx.tx, current, plan, unbilled).await?
        }
        None => Vec::new(),
    };
    let customer = subscription_customer(ctx.tx, current).await?;
    let plan_name = plan.map(|p| p.name).unwrap_or_default();
    let invoice = invoice_for_deadline(
        ctx.tx,
        ctx.ids,
        ctx.billing.issue_status(&ctx.caller.organization),
        &customer,
        canceled,
        &plan_name,
        DeadlineKind::Cancellation,
        Some(cut),
        arrears,
        ctx.now,
    )
    .await?;
    // A final invoice is charged once; declined, it stays owed, without dunning
    // (`payments.md` §5).
    if let (true, Some(invoice)) = (ctx.billing.collects(&ctx.caller.organization), &invoice) {
        let organization = ctx.caller.organization.clone();
        let mut ended = canceled.clone();
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        crate::collection::collect_deadline_invoice(
            ctx.tx,
            ctx.ids,
            &organization,
            &ctx.billing.signer,
            &customer,
            &mut ended,
            invoice,
            (crate::collection::RECURRING_BILLING, false),
            &mut outbox,
        )
        .await?;
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
    }
    Ok(())
}

pub struct UncancelSubscription(pub String);

#[async_trait]
impl Command for UncancelSubscription {
    type Output = SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SubscriptionDetail, AppError> {
        let current = lock_subscription(ctx.tx, ctx.caller.org(), &self.0).await?;
        let next = current.uncancel(ctx.now)?;
        save(ctx.tx, &next).await?;
        let mut outbox = outbox_for(ctx.tx, ctx.ids, &next, ctx.now).await?;
        let data = json!({
            "subscriptionId": next.id.as_str(),
            "customerId": outbox.customer_ref(),
            "status": next.status.as_str(),
            "currentPeriodEnd": next.current_period.map(|p| p.end.to_rfc3339()),
        });
        outbox.push("subscription.cancellation_revoked", data);
        outbox.state_changed("cancellation_revoked");
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        detail_in(ctx.tx, next, ctx.now, &ctx.billing.signer).await
    }
}

/// Locks a subscription named by its `sub_…` id (`subscription_not_found` otherwise).
pub(crate) async fn lock_subscription(
    tx: &mut dyn Tx,
    org: &OrgId,
    id: &str,
) -> Result<Subscription, AppError> {
    let Some(id) = SubscriptionId::parse(id) else {
        return Err(AppError::NotFound(NotFound::Subscription));
    };
    tx.subscription(org, &id, Lock::ForUpdate)
        .await?
        .ok_or(AppError::NotFound(NotFound::Subscription))
}

/// Locks a subscription (`lock_subscription`) with any period end that is due passed first,
/// so that a change applies to the period running now.
pub(crate) async fn lock_current_subscription(
    ctx: &mut WriteCtx<'_>,
    id: &str,
) -> Result<Subscription, AppError> {
    let org = ctx.caller.org().clone();
    let subscription = lock_subscription(ctx.tx, &org, id).await?;
    if !subscription.has_due_deadline(ctx.now) {
        return Ok(subscription);
    }
    pass_due_deadlines(
        ctx.tx,
        ctx.ids,
        ctx.billing,
        &org,
        &subscription.id,
        ctx.now,
        crate::deadlines::DEADLINES_PER_BATCH,
    )
    .await?;
    lock_subscription(ctx.tx, &org, id).await
}

/// The invoice a deadline issues (`seats.md` §5): a paid subscription's opening invoice of the
/// new period at renewal and trial end, with the ended period's usage in arrears; at
/// cancellation, a final one only if true-ups or usage in arrears accrued.
#[allow(clippy::too_many_arguments)]
async fn invoice_for_deadline(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    invoice_status: InvoiceStatus,
    customer: &Customer,
    subscription: &Subscription,
    plan_name: &str,
    kind: DeadlineKind,
    ended_period: Option<BillingPeriod>,
    arrears: Vec<InvoiceLine>,
    at: Timestamp,
) -> Result<Option<Invoice>, AppError> {
    let (lines, period, invoice_type) = match (kind, &subscription.price_id) {
        // Free plans are not invoiced, except for what a paid period that just ended still
        // owes (a scheduled move to a free plan, `lifecycle.md` §4.4).
        (DeadlineKind::Renewal, None) => {
            let mut lines = true_up_lines(tx, subscription).await?;
            lines.extend(arrears);
            // Active add-ons are billed for each new month of a free plan (`lifecycle.md` §5).
            let addons = crate::addons::renewal_addon_lines(tx, subscription).await?;
            let period = match addons.is_empty() {
                true => ended_period,
                false => subscription.current_period,
            };
            lines.extend(addons);
            match (lines.is_empty(), period) {
                (false, Some(period)) => (lines, period, "recurring"),
                _ => return Ok(None),
            }
        }
        (_, None)
        | (DeadlineKind::Resume | DeadlineKind::DunningRetry | DeadlineKind::CheckoutExpiry, _) => {
            return Ok(None);
        }
        // A pause taking effect: no renewal, only what the ended period still owes.
        (DeadlineKind::PauseStart, Some(_)) => {
            let mut lines = true_up_lines(tx, subscription).await?;
            lines.extend(arrears);
            match (lines.is_empty(), ended_period) {
                (false, Some(period)) => (lines, period, "recurring"),
                _ => return Ok(None),
            }
        }
        (DeadlineKind::Cancellation, Some(_)) => {
            let mut lines = true_up_lines(tx, subscription).await?;
            // Decision: a final invoice with usage lines only is an overage invoice.
            let invoice_type = if lines.is_empty() {
                "overage"
            } else {
                "recurring"
            };
            lines.extend(arrears);
            match (lines.is_empty(), ended_period) {
                (false, Some(period)) => (lines, period, invoice_type),
                _ => return Ok(None),
            }
        }
        // A usage period ending inside the billing period: an invoice of its own, only if it
        // owes something (`usage.md` §5).
        (DeadlineKind::UsageReset, Some(_)) => match (arrears.is_empty(), ended_period) {
            (false, Some(period)) => (arrears, period, "overage"),
            _ => return Ok(None),
        },
        (DeadlineKind::Renewal | DeadlineKind::TrialEnd, Some(price_id)) => {
            let (Some(price), Some(period)) = (
                tx.price(&subscription.org_id, price_id).await?,
                subscription.current_period,
            ) else {
                return Ok(None);
            };
            let mut lines = period_invoice_lines(tx, subscription, &price, plan_name).await?;
            lines.extend(arrears);
            (lines, period, "recurring")
        }
    };
    let request = InvoiceRequest {
        customer,
        subscription,
        plan_name,
        lines,
        period,
        now: at,
        invoice_type,
        status: invoice_status,
        // A usage reset's invoice bills usage only; true-ups wait for the renewal.
        settles_true_ups: kind != DeadlineKind::UsageReset,
    };
    Ok(Some(issue_invoice(tx, ids, request).await?))
}

/// The lines of the subscription's pending seat and quota true-ups, in the order they accrued.
async fn true_up_lines(
    tx: &mut dyn Tx,
    subscription: &Subscription,
) -> Result<Vec<InvoiceLine>, AppError> {
    Ok(tx
        .pending_true_ups(&subscription.org_id, &subscription.id)
        .await?
        .iter()
        .map(|t| t.line())
        .collect())
}

/// The customer a subscription belongs to. Missing is a broken row, never a caller's mistake.
pub(crate) async fn subscription_customer(
    tx: &mut dyn Tx,
    subscription: &Subscription,
) -> Result<Customer, AppError> {
    tx.customer(&subscription.org_id, &subscription.customer_id, Lock::None)
        .await?
        .ok_or_else(|| AppError::Store(StoreError::other("subscription customer missing")))
}

/// An outbox for events about the subscription's customer.
async fn outbox_for<'a>(
    tx: &mut dyn Tx,
    ids: &'a dyn IdSource,
    subscription: &Subscription,
    at: Timestamp,
) -> Result<Outbox<'a>, AppError> {
    let customer = subscription_customer(tx, subscription).await?;
    Ok(Outbox::new(ids, &customer, at))
}

/// Saves a subscription with the deadline it now waits for.
pub(crate) async fn save(tx: &mut dyn Tx, subscription: &Subscription) -> Result<(), StoreError> {
    let deadline = subscription.next_deadline().map(|(at, _)| at);
    tx.update_subscription(subscription, deadline).await
}

/// A subscription with what its views show, read in a write transaction or outside one.
pub(crate) async fn detail_in(
    db: &mut dyn Db,
    subscription: Subscription,
    now: Timestamp,
    signer: &crate::hosted_tokens::PageSigner,
) -> Result<SubscriptionDetail, AppError> {
    let checkout_url = crate::checkout::checkout_url(signer, &subscription);
    let org = subscription.org_id.clone();
    // A soft-deleted plan and an archived price still describe their running subscriptions.
    let plan = db
        .plan_any(&org, &subscription.plan_id)
        .await?
        .ok_or_else(|| AppError::Store(StoreError::other("subscription plan missing")))?;
    let price = match &subscription.price_id {
        Some(id) => db.price(&org, id).await?,
        None => None,
    };
    // The views show the price in the subscription's currency (`plan.basePrice`).
    let price = match price {
        Some(mut price) if subscription.currency != crate::invoicing::CURRENCY => {
            price.price = crate::markets::billed_base(db, &subscription, &price)
                .await?
                .1;
            Some(price)
        }
        other => other,
    };
    let base = db.subscription_features(&org, &subscription.id).await?;
    // A running plan grant shows in the features, with the base plan's own access beside them.
    let (features, grant) = match db.active_plan_grant(&org, subscription.id.as_str()).await? {
        Some((grant, target)) if grant.is_active_at(now) => {
            let target_plan_name = db
                .plan_any(
                    &org,
                    &tally_domain::catalog::PlanId::from_stored(grant.plan_id.clone()),
                )
                .await?
                .map(|p| p.name)
                .unwrap_or_default();
            (
                tally_domain::plan_grants::effective_snapshot(&base, &target),
                Some(tally_domain::plan_grants::GrantAccess {
                    grant,
                    target_plan_name,
                    base,
                }),
            )
        }
        _ => (base, None),
    };
    // Current counts by feature code: seat and quota balances, and usage this usage period.
    let mut seats = seat_counts(db.seat_balances(&org, &subscription.id).await?);
    if let Some(period) = tally_domain::usage::usage_period(&subscription, now) {
        for counter in db
            .usage_counters(&org, &subscription.id, period.start)
            .await?
        {
            seats.insert(counter.feature_code, counter.used);
        }
    }
    let scheduled_plan = match &subscription.scheduled_change {
        Some(change) => db.plan_any(&org, &change.plan_id).await?,
        None => None,
    };
    let offers = db
        .offer_applications(&org, subscription.id.as_str())
        .await?;
    Ok(SubscriptionDetail {
        subscription,
        plan,
        price,
        features,
        seats,
        now,
        scheduled_plan,
        offers,
        grant,
        checkout_url,
    })
}

/// Processes the deadlines of one subscription due at or before `until` (at most `limit`),
/// oldest first, each at its own instant. Renewals take the plan's current features (deferred
/// catalog changes apply here). Returns one run item per deadline; an error leaves the
/// caller to undo what was written (`deadlines::pass_isolated`).
pub(crate) async fn pass_due_deadlines(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    billing: &crate::collection::Billing,
    org: &OrgId,
    id: &SubscriptionId,
    until: Timestamp,
    limit: usize,
) -> Result<Vec<RunItem>, AppError> {
    let Some(mut subscription) = tx.subscription(org, id, Lock::ForUpdate).await? else {
        return Ok(Vec::new());
    };
    // An error, not an empty result: the deadline would otherwise stay due and be found again
    // at once; failing, it is recorded and waits for its retry time.
    let customer = subscription_customer(tx, &subscription).await?;
    let customer_name = customer.full_name.clone();
    let mut plan = tx.plan_any(org, &subscription.plan_id).await?;
    let mut plan_name = plan.as_ref().map(|p| p.name.clone()).unwrap_or_default();
    let organization = tx
        .organization(org, Lock::None)
        .await?
        .ok_or_else(|| AppError::Store(StoreError::other("subscription organization missing")))?;
    let collects = billing.collects(&organization);
    let mut events = Vec::new();
    let mut items = Vec::new();
    while let Some((due_at, kind)) = subscription
        .next_deadline()
        .filter(|(at, _)| *at <= until && items.len() < limit)
    {
        if kind == DeadlineKind::DunningRetry {
            let mut outbox = Outbox::new(ids, &customer, due_at);
            let (outcome, invoice) = crate::collection::run_retry(
                tx,
                ids,
                &organization,
                &billing.signer,
                &customer,
                &mut subscription,
                due_at,
                &mut outbox,
            )
            .await?;
            events.extend(outbox.into_events());
            items.push(RunItem {
                kind: RunItemKind::DunningRetry,
                due_at,
                subscription_id: subscription.id.clone(),
                customer_name: customer_name.clone(),
                outcome: Some(outcome.to_owned()),
                error: None,
                invoice_number: Some(invoice.number),
                invoice_id: Some(invoice.id),
            });
            continue;
        }
        // A usage reset bills the usage period that ends; the other deadlines end the billing
        // period.
        let ended_period = match kind {
            DeadlineKind::UsageReset => Some(subscription.unbilled_usage(due_at)),
            _ => subscription.current_period,
        };
        let previous_credits = subscription.credits;
        // Usage is billed in arrears, from the ended period's snapshot and ledgers, since the
        // last usage reset.
        let arrears = match (&plan, ended_period, kind) {
            (
                Some(plan),
                Some(ended),
                DeadlineKind::Renewal
                | DeadlineKind::Cancellation
                | DeadlineKind::UsageReset
                | DeadlineKind::PauseStart,
            ) => {
                let unbilled = subscription.unbilled_usage(ended.end);
                crate::usage::arrears_lines(tx, &subscription, plan, unbilled).await?
            }
            _ => Vec::new(),
        };
        let mut outbox = Outbox::new(ids, &customer, due_at);
        let previous_plan = plan.clone();
        let changes_plan = matches!(kind, DeadlineKind::Renewal | DeadlineKind::TrialEnd)
            && drop_unrunnable_change(tx, &mut outbox, &mut subscription, previous_plan.as_ref())
                .await?;
        // A resume at `resumeAt`: what the pause was, so that it is billed as its mode says.
        let resuming = (kind == DeadlineKind::Resume)
            .then(|| subscription.pause.clone())
            .flatten();
        subscription = subscription.pass_deadline(kind, due_at);
        if let Some(pause) = resuming {
            save(tx, &subscription).await?;
            let billed = pause.mode == tally_domain::pause::PauseMode::PeriodEnd;
            let (invoice, resumed_events) = crate::pauses::finish_resume(
                tx,
                ids,
                match collects {
                    true => InvoiceStatus::Outstanding,
                    false => billing.invoice_status,
                },
                &customer,
                &subscription,
                (&pause, billed),
                due_at,
            )
            .await?;
            events.extend(resumed_events);
            // A resume opens a period like a renewal, and is collected like one.
            if let (true, Some(invoice)) = (collects, &invoice) {
                let mut outbox = Outbox::new(ids, &customer, due_at);
                crate::collection::collect_deadline_invoice(
                    tx,
                    ids,
                    &organization,
                    &billing.signer,
                    &customer,
                    &mut subscription,
                    invoice,
                    (crate::pauses::SUBSCRIPTION_RESUME, true),
                    &mut outbox,
                )
                .await?;
                events.extend(outbox.into_events());
            }
            items.push(RunItem {
                kind: RunItemKind::BillingCycle,
                due_at,
                subscription_id: subscription.id.clone(),
                customer_name: customer_name.clone(),
                outcome: Some(kind.outcome().to_owned()),
                error: None,
                invoice_number: invoice.as_ref().map(|i| i.number.clone()),
                invoice_id: invoice.map(|i| i.id),
            });
            continue;
        }
        if changes_plan {
            // The scheduled change ran: the new plan's name, features and ledgers from here on.
            plan = tx.plan_any(org, &subscription.plan_id).await?;
            plan_name = plan.as_ref().map(|p| p.name.clone()).unwrap_or_default();
            let price = match &subscription.price_id {
                Some(id) => tx.price(org, id).await?,
                None => None,
            };
            let local = match &price {
                Some(price) => {
                    Some(crate::markets::local_price_of(tx, &subscription, price).await?)
                }
                None => None,
            };
            if let Some(plan) = &plan {
                crate::plan_changes::grant_ledgers(
                    &mut subscription,
                    plan,
                    price.as_ref(),
                    local.as_ref(),
                );
                // Add-ons the new plan cannot carry end with the old plan (`lifecycle.md` §5).
                let target = plan_snapshot(tx, org, &plan.id).await?;
                let (_, dropped) =
                    crate::plan_changes::addons_across(tx, &subscription, plan, &target).await?;
                for (addon, feature) in dropped {
                    tx.end_activation(org, &subscription.id, &addon.id, due_at)
                        .await?;
                    outbox.push(
                        "addon.deactivated",
                        json!({
                            "subscriptionId": subscription.id.as_str(),
                            "customerId": outbox.customer_ref(),
                            "addon": {"id": addon.id.as_str(), "name": addon.name},
                            "featureCode": feature.code,
                        }),
                    );
                }
            }
        }
        if matches!(kind, DeadlineKind::Renewal | DeadlineKind::TrialEnd) {
            if kind == DeadlineKind::Renewal || changes_plan {
                // Deferred catalog changes apply from the new period on.
                let snapshot = plan_snapshot(tx, org, &subscription.plan_id).await?;
                let snapshot =
                    crate::addons::with_addon_features(tx, &subscription, snapshot).await?;
                crate::markets::hold_features(tx, &subscription, snapshot).await?;
            }
            let snapshot = tx.subscription_features(org, &subscription.id).await?;
            start_seat_period(tx, org, &subscription.id, &snapshot).await?;
        }
        save(tx, &subscription).await?;
        // Under `billingMode: charge` the invoice waits for its charge (`payments.md` §5).
        let invoice_status = match collects {
            true => InvoiceStatus::Outstanding,
            false => billing.invoice_status,
        };
        let invoice = invoice_for_deadline(
            tx,
            ids,
            invoice_status,
            &customer,
            &subscription,
            &plan_name,
            kind,
            ended_period,
            arrears,
            due_at,
        )
        .await?;
        if let (true, Some(invoice)) = (collects, &invoice) {
            let dunning = matches!(kind, DeadlineKind::Renewal | DeadlineKind::TrialEnd);
            let reason = match kind {
                DeadlineKind::TrialEnd => crate::collection::TRIAL_CONVERSION,
                _ => crate::collection::RECURRING_BILLING,
            };
            crate::collection::collect_deadline_invoice(
                tx,
                ids,
                &organization,
                &billing.signer,
                &customer,
                &mut subscription,
                invoice,
                (reason, dunning),
                &mut outbox,
            )
            .await?;
        }
        let customer_ref = outbox.customer_ref().to_owned();
        if let (true, Some(previous), Some(current)) = (changes_plan, &previous_plan, &plan) {
            let subtotal = invoice.as_ref().map_or(0, |i| i.subtotal.0);
            let total = invoice.as_ref().map_or(0, |i| i.total().0);
            outbox.push(
                "subscription.plan_changed",
                json!({
                    "subscriptionId": subscription.id.as_str(),
                    "customerId": customer_ref,
                    "previousPlan": {"id": previous.id.as_str(), "name": previous.name},
                    "currentPlan": {"id": current.id.as_str(), "name": current.name},
                    "billingInterval": subscription.billing_interval.map(BillingInterval::as_str),
                    "credit": 0,
                    "charge": subtotal,
                    "totalCharged": total,
                }),
            );
            outbox.state_changed("plan_change");
        }
        match kind {
            DeadlineKind::TrialEnd => {
                outbox.push(
                    "trial.expired",
                    trial_data(&customer_ref, &subscription, &plan_name),
                );
                // A declined first charge announced the state already (`past_due`).
                if subscription.status != SubscriptionStatus::PastDue {
                    outbox.state_changed("trial_expired");
                }
            }
            DeadlineKind::PauseStart => crate::pauses::announce_paused(&mut outbox, &subscription),
            DeadlineKind::Resume | DeadlineKind::DunningRetry => {}
            // A checkout never paid: its invoice is void (`payments.md` §5).
            DeadlineKind::CheckoutExpiry => {
                if let Some(period) = ended_period {
                    crate::checkout::void_checkout_invoice(
                        tx,
                        &subscription,
                        period.start,
                        due_at,
                        &mut outbox,
                    )
                    .await?;
                }
                crate::offers::end_applications(tx, &subscription, due_at).await?;
                outbox.push(
                    "subscription.canceled",
                    cancellation_data(&customer_ref, &subscription),
                );
                outbox.state_changed("subscription_canceled");
            }
            DeadlineKind::Cancellation => {
                crate::addons::end_all_activations(tx, &subscription, due_at).await?;
                crate::offers::end_applications(tx, &subscription, due_at).await?;
                crate::plan_grants::end_with_subscription(tx, ids, &subscription, due_at).await?;
                outbox.push(
                    "subscription.canceled",
                    cancellation_data(&customer_ref, &subscription),
                );
                outbox.state_changed("subscription_canceled");
            }
            DeadlineKind::Renewal | DeadlineKind::UsageReset => {
                // Plan credits are granted afresh; unused ones expire (`balance.md` §4).
                if let (Some(before), Some(after)) = (previous_credits, subscription.credits) {
                    let unused = before.remaining - before.purchased;
                    if unused > 0 {
                        outbox.push(
                            "credits.expired",
                            json!({"subscriptionId": subscription.id.as_str(), "customerId": customer_ref, "expiredCredits": unused}),
                        );
                    }
                    outbox.push(
                        "credits.granted",
                        json!({"subscriptionId": subscription.id.as_str(), "customerId": customer_ref,
                               "credits": after.included, "reason": "period_reset"}),
                    );
                }
            }
        }
        events.extend(outbox.into_events());
        // A trial whose first charge was declined is past due, or waits for a checkout: not
        // activated.
        if let (DeadlineKind::TrialEnd, Some(invoice)) = (kind, &invoice)
            && subscription.status == SubscriptionStatus::Active
        {
            let provider = collects.then_some(tally_domain::payments::SANDBOX_PROVIDER);
            announce_activation(tx, ids, &customer, &subscription, invoice, due_at, provider)
                .await?;
        }
        items.push(RunItem {
            kind: RunItemKind::BillingCycle,
            due_at,
            subscription_id: subscription.id.clone(),
            customer_name: customer_name.clone(),
            outcome: Some(
                if changes_plan {
                    "plan_changed"
                } else if subscription.status == SubscriptionStatus::PastDue {
                    "past_due"
                } else {
                    kind.outcome()
                }
                .to_owned(),
            ),
            error: None,
            invoice_number: invoice.as_ref().map(|i| i.number.clone()),
            invoice_id: invoice.map(|i| i.id),
        });
    }
    save(tx, &subscription).await?;
    if !events.is_empty() {
        tx.insert_webhook_events(&events).await?;
    }
    Ok(items)
}

/// Whether the change scheduled for this deadline can run; a target plan deleted since is
/// dropped with `subscription.plan_change_revoked`, and the renewal goes on as usual
/// (`lifecycle.md` §4.4).
async fn drop_unrunnable_change(
    tx: &mut dyn Tx,
    outbox: &mut Outbox<'_>,
    subscription: &mut Subscription,
    current_plan: Option<&Plan>,
) -> Result<bool, AppError> {
    let Some(change) = subscription.scheduled_change.clone() else {
        return Ok(false);
    };
    let target = tx
        .plan(&subscription.org_id, &change.plan_id, Lock::None)
        .await?;
    if target.is_some() {
        return Ok(true);
    }
    if let Some(current_plan) = current_plan {
        let data = crate::plan_changes::revoked_data(
            tx,
            outbox.customer_ref(),
            subscription,
            current_plan,
            &change,
        )
        .await?;
        outbox.push("subscription.plan_change_revoked", data);
    }
    subscription.scheduled_change = None;
    Ok(false)
}

impl App {
    pub async fn subscription(
        &self,
        caller: &Caller,
        id: &str,
    ) -> Result<SubscriptionDetail, AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let found = match SubscriptionId::parse(id) {
            Some(id) => db.subscription(org, &id, Lock::None).await?,
            None => None,
        };
        let subscription = found.ok_or(AppError::NotFound(NotFound::Subscription))?;
        detail_in(&mut *db, subscription, now, &self.page_signer().await?).await
    }

    /// The customer's live subscription, or `None` (`catalog.md` §5.3).
    pub async fn active_subscription(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<Option<SubscriptionDetail>, AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let customer = find_customer_for_param(&mut *db, org, customer).await?;
        match db.live_subscription(org, &customer.id, Lock::None).await? {
            Some(subscription) => {
                let signer = self.page_signer().await?;
                Ok(Some(detail_in(&mut *db, subscription, now, &signer).await?))
            }
            None => Ok(None),
        }
    }

    pub async fn subscriptions(
        &self,
        caller: &Caller,
        customer: Option<&str>,
        status: Option<SubscriptionStatus>,
        page: &PageRequest,
    ) -> Result<Page<SubscriptionDetail>, AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let customer = match customer {
            Some(reference) => Some(find_customer_for_param(&mut *db, org, reference).await?.id),
            None => None,
        };
        let found = db
            .subscriptions(org, customer.as_ref(), status, page)
            .await?;
        let mut items = Vec::with_capacity(found.items.len());
        let signer = self.page_signer().await?;
        for subscription in found.items {
            items.push(detail_in(&mut *db, subscription, now, &signer).await?);
        }
        Ok(Page {
            items,
            has_more: found.has_more,
        })
    }
}

fn seat_counts(balances: Vec<SeatBalance>) -> BTreeMap<String, i64> {
    balances
        .into_iter()
        .map(|b| (b.feature_code, b.current))
        .collect()
}

/// A new period pays in advance for the extra seats held going into it (`seats.md` §5), so the
/// high-water mark restarts there.
pub(crate) async fn start_seat_period(
    tx: &mut dyn Tx,
    org: &OrgId,
    subscription: &SubscriptionId,
    snapshot: &[FeatureSnapshot],
) -> Result<(), AppError> {
    for mut balance in tx.seat_balances(org, subscription).await? {
        let extra = snapshot
            .iter()
            .find(|f| f.code == balance.feature_code)
            .map_or(0, |f| billable_extra(balance.current, f));
        // A period starts with what is held now: paid extra units and the peak.
        if extra != balance.paid_extra || balance.peak != balance.current {
            balance.paid_extra = extra;
            balance.peak = balance.current;
            tx.save_seat_balance(org, &balance).await?;
        }
    }
    Ok(())
}

/// What a reactivation answers: the subscription and its `reactivation` invoice.
#[derive(Debug, Clone)]
pub struct Reactivated {
    pub subscription: Subscription,
    pub invoice: Invoice,
}

/// `POST /subscriptions/{id}/reactivate` for a canceled paid subscription (`lifecycle.md`
/// §7): the plan's current price and features, the seats kept on the record billed in advance
/// on a `reactivation` invoice, a new period from now. Tally takes no payments, so the invoice
/// is issued in the organization's usual status and the subscription is active at once.
pub struct ReactivateSubscription(pub String);

/// What `reactivate` did: brought a canceled subscription back, or tried a past-due one's
/// invoice again (`payments.md` §6).
#[derive(Debug, Clone)]
pub enum Reactivation {
    Reactivated(Box<Reactivated>),
    Retried(Box<crate::recovery::Retried>),
}

#[async_trait]
impl Command for ReactivateSubscription {
    type Output = Reactivation;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Reactivation, AppError> {
        let org = ctx.caller.org().clone();
        let current = lock_subscription(ctx.tx, &org, &self.0).await?;
        if current.status == SubscriptionStatus::PastDue {
            let retried = crate::recovery::retry_past_due(ctx, current).await?;
            return Ok(Reactivation::Retried(Box::new(retried)));
        }
        let next = current.reactivate(ctx.now)?;
        let unavailable = || AppError::from(DomainError::from(Conflict::PlanUnavailable));
        let plan = ctx
            .tx
            .plan(&org, &next.plan_id, Lock::None)
            .await?
            .ok_or_else(unavailable)?;
        let price_id = next.price_id.clone().ok_or_else(unavailable)?;
        let price = ctx
            .tx
            .plan_prices(&org, &plan.id)
            .await?
            .into_iter()
            .find(|p| p.id == price_id)
            .ok_or_else(unavailable)?;
        if ctx
            .tx
            .live_subscription(&org, &next.customer_id, Lock::ForUpdate)
            .await?
            .is_some()
        {
            return Err(DomainError::from(Conflict::AlreadyHasActiveSubscription).into());
        }
        let mut next = next;
        let local = crate::markets::local_price_of(ctx.tx, &next, &price).await?;
        crate::plan_changes::grant_ledgers(&mut next, &plan, Some(&price), Some(&local));
        match save(ctx.tx, &next).await {
            Err(error) if error.is_conflict_on(constraints::LIVE_SUBSCRIPTION) => {
                return Err(DomainError::from(Conflict::AlreadyHasActiveSubscription).into());
            }
            other => other?,
        }
        let snapshot = plan_snapshot(ctx.tx, &org, &plan.id).await?;
        let snapshot = crate::markets::hold_features(ctx.tx, &next, snapshot).await?;
        start_seat_period(ctx.tx, &org, &next.id, &snapshot).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let period = next
            .current_period
            .ok_or_else(|| AppError::Store(StoreError::other("reactivated without a period")))?;
        let lines = period_invoice_lines(ctx.tx, &next, &price, &plan.name).await?;
        let request = InvoiceRequest {
            customer: &customer,
            subscription: &next,
            plan_name: &plan.name,
            lines,
            period,
            now: ctx.now,
            invoice_type: "reactivation",
            status: ctx.billing.issue_status(&ctx.caller.organization),
            settles_true_ups: true,
        };
        let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
        crate::collection::settle_at_once(ctx, &customer, &next, &invoice, "reactivation").await?;
        let provider = ctx
            .billing
            .collects(&ctx.caller.organization)
            .then_some(tally_domain::payments::SANDBOX_PROVIDER);
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let data = json!({
            "subscriptionId": next.id.as_str(),
            "customerId": outbox.customer_ref(),
            "status": next.status.as_str(),
            "currentPeriodStart": period.start.to_rfc3339(),
            "currentPeriodEnd": period.end.to_rfc3339(),
            "name": next.name,
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "invoiceTotal": invoice.total().0,
            "invoiceCurrency": invoice.currency,
            "provider": provider,
        });
        outbox.push("subscription.reactivated", data);
        outbox.state_changed("subscription_activated");
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(Reactivation::Reactivated(Box::new(Reactivated {
            subscription: next,
            invoice,
        })))
    }
}
