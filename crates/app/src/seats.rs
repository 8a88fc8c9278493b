//! The seats API (`seats.md`): add, remove, set and bulk set in one transaction each, with the
//! seat ledger and the webhook outbox written alongside; balance reads and the seat history.
//!
//! Every write follows the request pipeline of `seats.md` §2: customer, live subscription,
//! feature (a seats feature of the org), feature in the subscription's plan, then the change.
//! The live subscription's row is locked first, so concurrent writers for one customer queue
//! and none loses an update.

use crate::customers::{find_customer_for_param, lock_customer_ref};
use crate::invoicing::{advance_lines, next_invoice_total};
use crate::seat_codes::resolve_code;
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use std::collections::BTreeMap;
use tally_domain::billing::{SeatTrueUp, true_up, true_ups_ceiling};
use tally_domain::catalog::{AMOUNT_MAX, Feature, FeatureType};
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::money::{AmountTooLarge, Cents, MONEY_MAX};
use tally_domain::page::{Page, PageRequest};
use tally_domain::seats::{
    AppliedChange, SeatBalance, SeatChange, SeatEvent, SeatEventId, apply_seat_change,
    billable_extra, crosses_limit,
};
use tally_domain::subscription::{FeatureSnapshot, Subscription, SubscriptionStatus};
use tally_domain::{Customer, CustomerRef, DomainError, FieldError, Timestamp};
use tally_store::{Lock, SeatEventFilter, Tx};

/// One change to one feature's seats.
pub struct ChangeSeats {
    pub customer: CustomerRef,
    pub feature: String,
    pub change: SeatChange,
}

#[async_trait]
impl Command for ChangeSeats {
    type Output = SeatEvent;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SeatEvent, AppError> {
        let target = SeatTarget::lock(ctx, &self.customer).await?;
        let (code, feature) = target.seats_feature(&self.feature, "featureCode")?;
        let mut applied = target
            .apply(ctx, &[(code, feature, self.change)], "count", Units::Seats)
            .await?;
        Ok(applied.remove(0))
    }
}

/// Sets several features at once (`seats.md` §3.4): every key is checked before anything is
/// written; features not named are left alone; one event per named feature, by code.
pub struct SetAllSeats {
    pub customer: CustomerRef,
    pub seats: Vec<(String, i64)>,
}

#[async_trait]
impl Command for SetAllSeats {
    type Output = Vec<SeatEvent>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Vec<SeatEvent>, AppError> {
        let target = SeatTarget::lock(ctx, &self.customer).await?;
        // Keys are checked in ascending code order, so the first failure is deterministic.
        let mut keys: Vec<(&String, &i64)> = self.seats.iter().map(|(k, v)| (k, v)).collect();
        keys.sort();
        let mut changes: Vec<(String, FeatureSnapshot, SeatChange)> =
            Vec::with_capacity(keys.len());
        for (key, count) in keys {
            let param = format!("seats.{key}");
            let (code, feature) = target.seats_feature(key, &param)?;
            if changes.iter().any(|(seen, _, _)| *seen == code) {
                return Err(DomainError::field(
                    param,
                    format!("seats names {code} more than once"),
                )
                .into());
            }
            changes.push((code, feature, SeatChange::Set(*count)));
        }
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        target.apply(ctx, &changes, "seats", Units::Seats).await
    }
}

/// Which ledger a unit write moves: seats, or a quota feature's balance (`usage.md` §3.5),
/// which works the same way and is billed the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Units {
    Seats,
    Quota,
}

impl Units {
    fn feature_type(self) -> FeatureType {
        match self {
            Units::Seats => FeatureType::Seats,
            Units::Quota => FeatureType::Quota,
        }
    }

    fn event_id(self, ulid: ulid::Ulid) -> SeatEventId {
        match self {
            Units::Seats => SeatEventId::from_ulid(ulid),
            Units::Quota => SeatEventId::quota_from_ulid(ulid),
        }
    }
}

/// Everything a seat write needs, read under the subscription's row lock.
pub(crate) struct SeatTarget {
    customer: Customer,
    pub(crate) subscription: Subscription,
    features: Vec<Feature>,
    snapshot: Vec<FeatureSnapshot>,
    balances: Vec<SeatBalance>,
}

impl SeatTarget {
    /// Locks the customer and its live subscription. A period end that is due but not processed
    /// yet (scheduler lag, a legacy test clock before `process-billing`) is processed first, in
    /// this transaction, so the change lands in the new period (`usage.md` §8).
    pub(crate) async fn lock(
        ctx: &mut WriteCtx<'_>,
        customer: &CustomerRef,
    ) -> Result<Self, AppError> {
        let org = ctx.caller.org().clone();
        let customer = lock_customer_ref(ctx.tx, &org, customer)
            .await?
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned()))?;
        let no_subscription =
            || AppError::NotFoundAt(NotFound::ActiveSubscription, "customerId".to_owned());
        let mut subscription = ctx
            .tx
            .live_subscription(&org, &customer.id, Lock::ForUpdate)
            .await?
            .ok_or_else(no_subscription)?;
        if subscription.has_due_deadline(ctx.now) {
            crate::subscriptions::pass_due_deadlines(
                ctx.tx,
                ctx.ids,
                ctx.billing,
                &org,
                &subscription.id,
                ctx.now,
                crate::deadlines::DEADLINES_PER_BATCH,
            )
            .await?;
            subscription = ctx
                .tx
                .live_subscription(&org, &customer.id, Lock::ForUpdate)
                .await?
                .ok_or_else(no_subscription)?;
        }
        // Seats of a paused subscription stay readable but do not move (`lifecycle.md` §6).
        if subscription.is_paused() {
            return Err(DomainError::NotActive.into());
        }
        let (tx, org) = (&mut *ctx.tx, &org);
        let features = tx.features(org).await?;
        // Seat caps see a running plan grant (`commerce.md` §6); seat billing does not read this.
        let base = tx.subscription_features(org, &subscription.id).await?;
        let (snapshot, _) = crate::plan_grants::effective_features(tx, &subscription, base).await?;
        let balances = tx.seat_balances(org, &subscription.id).await?;
        Ok(Self {
            customer,
            subscription,
            features,
            snapshot,
            balances,
        })
    }

    /// The code a key names; it must be a seats feature of the org (`feature_not_found`).
    fn resolve(&self, key: &str, param: &str) -> Result<String, AppError> {
        self.resolve_units(Units::Seats, key, param)
    }

    fn resolve_units(&self, units: Units, key: &str, param: &str) -> Result<String, AppError> {
        let seat_codes: Vec<&str> = self
            .features
            .iter()
            .filter(|f| f.feature_type == units.feature_type())
            .map(|f| f.code.as_str())
            .collect();
        match resolve_code(key, &seat_codes) {
            Ok(Some(code)) => Ok(code.to_owned()),
            Ok(None) => Err(AppError::NotFoundAt(NotFound::Feature, param.to_owned())),
            Err(message) => Err(DomainError::field(param, message).into()),
        }
    }

    /// A quota feature's entry in the snapshot: `feature_not_in_plan` when missing,
    /// `feature_disabled` when disabled (`usage.md` §3.1).
    pub(crate) fn quota_feature(
        &self,
        key: &str,
        param: &str,
    ) -> Result<(String, FeatureSnapshot), AppError> {
        let code = self.resolve_units(Units::Quota, key, param)?;
        match self.snapshot.iter().find(|f| f.code == code) {
            None => Err(DomainError::FeatureNotInPlan {
                code,
                param: param.to_owned(),
            }
            .into()),
            Some(f) if !f.enabled => Err(DomainError::FeatureDisabled {
                code,
                param: param.to_owned(),
            }
            .into()),
            Some(f) => Ok((code, f.clone())),
        }
    }

    fn seats_feature(&self, key: &str, param: &str) -> Result<(String, FeatureSnapshot), AppError> {
        let code = self.resolve(key, param)?;
        self.seats_feature_by_code(code, param)
    }

    /// The feature's entry in the subscription's current snapshot (`feature_not_in_plan`).
    fn seats_feature_by_code(
        &self,
        code: String,
        param: &str,
    ) -> Result<(String, FeatureSnapshot), AppError> {
        match self.snapshot.iter().find(|f| f.code == code && f.enabled) {
            Some(feature) => Ok((code, feature.clone())),
            None => Err(DomainError::FeatureNotInPlan {
                code,
                param: param.to_owned(),
            }
            .into()),
        }
    }

    pub(crate) fn balance(&self, code: &str) -> SeatBalance {
        self.balances
            .iter()
            .find(|b| b.feature_code == code)
            .cloned()
            .unwrap_or_else(|| SeatBalance {
                subscription_id: self.subscription.id.clone(),
                feature_code: code.to_owned(),
                current: 0,
                paid_extra: 0,
                peak: 0,
                updated_at: self.subscription.start_date,
            })
    }

    /// Applies every change (all checked first, so a refusal leaves nothing written), records
    /// the events and the webhooks of the changed ones. `count_field` is blamed when the
    /// changes would bill more than `MONEY_MAX`.
    pub(crate) async fn apply(
        &self,
        ctx: &mut WriteCtx<'_>,
        changes: &[(String, FeatureSnapshot, SeatChange)],
        count_field: &str,
        units: Units,
    ) -> Result<Vec<SeatEvent>, AppError> {
        let org = ctx.caller.org().clone();
        let mut applied = Vec::with_capacity(changes.len());
        for (code, feature, change) in changes {
            // A quota past its included amount must be sellable; seats only with caps on.
            if units == Units::Quota || ctx.enforce_seat_caps {
                self.check_cap(code, feature, *change)?;
            }
            let id = units.event_id(ctx.ids.ulid());
            let outcome = apply_seat_change(
                &self.balance(code),
                *change,
                feature,
                (id, &org, &self.customer.id),
                ctx.now,
            )?;
            applied.push((outcome, feature));
        }
        let mut true_ups = Vec::with_capacity(applied.len());
        for (outcome, feature) in &applied {
            let true_up = self
                .true_up(outcome, feature, ctx.now)
                .map_err(|e| e.at(count_field))?;
            true_ups.push(true_up);
        }
        if self.bills_more(&applied) {
            self.check_next_invoice(ctx.tx, &applied, &true_ups)
                .await?
                .map_err(|e| e.at(count_field))?;
        }
        let mut webhooks = Vec::new();
        let customer_ref = self
            .customer
            .external_id
            .clone()
            .unwrap_or_else(|| self.customer.id.as_str().to_owned());
        for ((outcome, feature), true_up) in applied.iter().zip(&true_ups) {
            ctx.tx.save_seat_balance(&org, &outcome.balance).await?;
            ctx.tx.append_seat_event(&outcome.event).await?;
            if let Some(true_up) = true_up {
                ctx.tx.insert_seat_true_up(&org, true_up).await?;
            }
            let event = &outcome.event;
            // Quota changes announce nothing (no such events exist, `usage.md` §3.5).
            if event.previous_balance == event.new_balance || units == Units::Quota {
                continue;
            }
            webhooks.push(self.webhook(
                ctx,
                "seats.updated",
                json!({
                    "customerId": customer_ref,
                    "subscriptionId": self.subscription.id.as_str(),
                    "featureCode": event.feature_code,
                    "previousSeats": event.previous_balance,
                    "currentSeats": event.new_balance,
                }),
            ));
            if crosses_limit(event.previous_balance, event.new_balance, feature) {
                webhooks.push(self.webhook(
                    ctx,
                    "seats.limit_reached",
                    json!({
                        "customerId": customer_ref,
                        "subscriptionId": self.subscription.id.as_str(),
                        "featureCode": event.feature_code,
                        "currentSeats": event.new_balance,
                        "includedSeats": feature.included_amount,
                    }),
                ));
            }
        }
        if !webhooks.is_empty() {
            // The state itself is computed when the event is delivered (`webhooks.md` §5.3).
            webhooks.push(self.webhook(
                ctx,
                "customer.state_changed",
                json!({ "customerId": customer_ref, "trigger": "seats_updated" }),
            ));
            ctx.tx.insert_webhook_events(&webhooks).await?;
        }
        Ok(applied
            .into_iter()
            .map(|(outcome, _)| outcome.event)
            .collect())
    }

    /// With seat caps enforced, a count may not rise above the included amount where extra
    /// seats cannot be sold: overage off, a trial, or a free plan (`seats.md` §3.7).
    fn check_cap(
        &self,
        code: &str,
        feature: &FeatureSnapshot,
        change: SeatChange,
    ) -> Result<(), AppError> {
        let current = self.balance(code).current;
        let requested = match change {
            SeatChange::Add(n) => current.saturating_add(n),
            SeatChange::Set(n) => n,
            SeatChange::Remove(_) => return Ok(()),
        };
        let sellable = feature.overage.enabled
            && !self.subscription.is_free()
            && self.subscription.status != SubscriptionStatus::Trialing;
        if feature.unlimited
            || sellable
            || requested <= feature.included_amount
            || requested <= current
        {
            return Ok(());
        }
        Err(DomainError::IncludedLimitReached {
            feature_code: code.to_owned(),
            current,
            included: feature.included_amount,
            requested,
        }
        .into())
    }

    /// The prorated charge for extra seats that became paid now (`seats.md` §5): only on an
    /// active paid subscription; trials are not billed and their first invoice charges the
    /// count held when they end.
    fn true_up(
        &self,
        outcome: &AppliedChange,
        feature: &FeatureSnapshot,
        now: Timestamp,
    ) -> Result<Option<SeatTrueUp>, AmountTooLarge> {
        let subscription = &self.subscription;
        let (Some(period), Some(unit_price)) =
            (subscription.current_period, feature.overage.unit_price)
        else {
            return Ok(None);
        };
        if outcome.newly_paid_extra <= 0
            || subscription.is_free()
            || subscription.status != SubscriptionStatus::Active
        {
            return Ok(None);
        }
        let (amount, days_left, period_days) =
            true_up(outcome.newly_paid_extra, unit_price, &period, now)?;
        Ok(Some(SeatTrueUp {
            seat_event_id: outcome.event.id.as_str().to_owned(),
            subscription_id: subscription.id.clone(),
            feature_code: feature.code.clone(),
            feature_name: feature.name.clone(),
            units: outcome.newly_paid_extra,
            unit_price,
            days_left,
            period_days,
            amount,
            created_at: now,
        }))
    }

    /// Whether the changes raise what a paid subscription's next invoice bills: more extra
    /// seats in advance (and, with them, any true-up). Removals never do, so a subscription
    /// over the bound can always be brought back under it.
    fn bills_more(&self, applied: &[(AppliedChange, &FeatureSnapshot)]) -> bool {
        !self.subscription.is_free()
            && applied.iter().any(|(outcome, feature)| {
                billable_extra(outcome.event.new_balance, feature)
                    > billable_extra(outcome.event.previous_balance, feature)
            })
    }

    /// Whether the subscription's next invoice, as it would stand after the changes (plan base,
    /// the period's true-ups so far and these, extra seats in advance at the current
    /// snapshot's prices), stays within `MONEY_MAX`. A catalog change due at renewal may still
    /// raise it; that renewal then fails on its own and is retried (`deadlines`).
    async fn check_next_invoice(
        &self,
        tx: &mut dyn Tx,
        applied: &[(AppliedChange, &FeatureSnapshot)],
        true_ups: &[Option<SeatTrueUp>],
    ) -> Result<Result<(), AmountTooLarge>, AppError> {
        let mut balances: BTreeMap<&str, &SeatBalance> = self
            .balances
            .iter()
            .map(|b| (b.feature_code.as_str(), b))
            .collect();
        for (outcome, _) in applied {
            balances.insert(outcome.balance.feature_code.as_str(), &outcome.balance);
        }
        let seats: BTreeMap<String, i64> = balances
            .iter()
            .map(|(code, b)| ((*code).to_owned(), b.current))
            .collect();
        let advance = match advance_lines(&self.snapshot, &seats) {
            Ok(lines) => lines,
            Err(too_large) => return Ok(Err(too_large)),
        };
        // Cheap first, from what is loaded: the largest price a plan may have, this advance,
        // and the most the period's true-ups can come to. Nearly every write stops here.
        let paid_extra = balances.values().map(|b| b.paid_extra).sum::<i64>();
        let ceiling = i128::from(AMOUNT_MAX)
            + advance.iter().map(|l| i128::from(l.amount.0)).sum::<i128>()
            + true_ups_ceiling(paid_extra);
        if ceiling <= i128::from(MONEY_MAX) {
            return Ok(Ok(()));
        }
        // Exact: the price and the true-ups so far.
        let subscription = &self.subscription;
        let org = &subscription.org_id;
        let base = match &subscription.price_id {
            Some(price) => tx.price(org, price).await?.map(|p| p.price),
            None => None,
        };
        let mut charges: Vec<Cents> = tx
            .pending_true_ups(org, &subscription.id)
            .await?
            .iter()
            .map(|t| t.amount)
            .collect();
        charges.extend(true_ups.iter().flatten().map(|t| t.amount));
        Ok(next_invoice_total(base, &charges, &self.snapshot, &seats).map(|_| ()))
    }

    fn webhook(
        &self,
        ctx: &WriteCtx<'_>,
        event_type: &str,
        data: serde_json::Value,
    ) -> WebhookEvent {
        WebhookEvent {
            id: WebhookEventId::from_ulid(ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            event_type: event_type.to_owned(),
            customer_id: Some(self.customer.id.clone()),
            data,
            created_at: ctx.now,
        }
    }
}

/// A balance as reads show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BalanceView {
    pub feature_code: String,
    pub current: i64,
    pub as_of: Timestamp,
}

impl App {
    /// `GET /seats/balance`: the same pipeline as writes, without locks.
    pub async fn seat_balance(
        &self,
        caller: &Caller,
        customer: &str,
        feature: &str,
    ) -> Result<BalanceView, AppError> {
        // The hot read view (`hot`): from memory between writes on SQLite.
        let (state, _) = self.customer_view(caller, customer).await?;
        let (subscription, features, snapshot, balances) = state.seat_parts();
        let seat_codes: Vec<&str> = features
            .iter()
            .filter(|f| f.feature_type == FeatureType::Seats)
            .map(|f| f.code.as_str())
            .collect();
        let code = match resolve_code(feature, &seat_codes) {
            Ok(Some(code)) => code.to_owned(),
            Ok(None) => {
                return Err(AppError::NotFoundAt(
                    NotFound::Feature,
                    "featureCode".to_owned(),
                ));
            }
            Err(message) => return Err(DomainError::field("featureCode", message).into()),
        };
        if !snapshot.iter().any(|f| f.code == code && f.enabled) {
            return Err(DomainError::FeatureNotInPlan {
                code,
                param: "featureCode".to_owned(),
            }
            .into());
        }
        Ok(view(subscription, balances, code))
    }

    /// `GET /seats/balances`: every enabled seats feature of the current snapshot, by code.
    pub async fn seat_balances(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<Vec<BalanceView>, AppError> {
        let (state, _) = self.customer_view(caller, customer).await?;
        let (subscription, _, snapshot, balances) = state.seat_parts();
        let mut codes: Vec<String> = snapshot
            .iter()
            .filter(|f| f.enabled && f.feature_type == FeatureType::Seats)
            .map(|f| f.code.clone())
            .collect();
        codes.sort();
        Ok(codes
            .into_iter()
            .map(|code| view(subscription, balances, code))
            .collect())
    }

    /// The newest `limit` seat changes of the customer, newest first, for a timeline.
    pub async fn seat_timeline(
        &self,
        caller: &Caller,
        customer: &str,
        limit: u32,
    ) -> Result<Vec<tally_domain::seats::SeatPoint>, AppError> {
        let org = caller.org();
        let (mut db, _) = self.reader(caller).await?;
        let customer = find_customer_for_param(&mut *db, org, customer).await?;
        Ok(db.seat_timeline(org, &customer.id, limit).await?)
    }

    /// A Tally extension: the customer's seat events, newest first.
    pub async fn seat_history(
        &self,
        caller: &Caller,
        customer: &str,
        filter: &SeatEventFilter,
        page: &PageRequest,
    ) -> Result<Page<SeatEvent>, AppError> {
        let org = caller.org();
        let (mut db, _) = self.reader(caller).await?;
        let customer = find_customer_for_param(&mut *db, org, customer).await?;
        Ok(db.seat_events(org, &customer.id, filter, page).await?)
    }
}

/// `asOf`: when the balance last changed, or the subscription's start (`seats.md` §4.3).
fn view(subscription: &Subscription, balances: &[SeatBalance], code: String) -> BalanceView {
    let balance = balances.iter().find(|b| b.feature_code == code);
    BalanceView {
        current: balance.map_or(0, |b| b.current),
        as_of: balance.map_or(subscription.start_date, |b| b.updated_at),
        feature_code: code,
    }
}

/// Field problems of a seat count, for the API's validation (`seats.md` §2).
pub fn check_count(count: i64, minimum: i64, field: &str) -> Option<FieldError> {
    let max = tally_domain::seats::SEATS_MAX;
    if count < minimum {
        Some(FieldError::new(
            field,
            format!("must be an integer >= {minimum}"),
        ))
    } else if count > max {
        Some(FieldError::new(field, format!("must be at most {max}")))
    } else {
        None
    }
}
