//! Usage metering and feature access (`usage.md`): track and set for usage features, each one
//! transaction with its counter, ledger, event and outbox rows; the check dry run and the
//! feature-access reads, which write nothing.
//!
//! Every operation follows the pipeline of `usage.md` §3.1: customer, live subscription,
//! feature of the operation's type, feature in the subscription's plan and enabled, then the
//! change. Writes lock the subscription's row first, so concurrent tracks for one customer
//! queue and a hard limit is never overshot.

use crate::balance::push_ledger_crossings;
use crate::outbox::Outbox;
use crate::subscriptions::save;
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use std::sync::Arc;
use tally_domain::catalog::{ConsumptionModel, Feature, FeatureType, Plan};
use tally_domain::money::{RATE_PER_CENT, Rate};
use tally_domain::organization::org_now;
use tally_domain::period::BillingPeriod;
use tally_domain::seats::SeatBalance;
use tally_domain::subscription::{FeatureSnapshot, LedgerKind, Subscription, SubscriptionStatus};
use tally_domain::usage::{
    Consumption, Denial, Meter, UsageCounter, UsageEvent, UsageEventId, UsageEventKind,
    UsageProperty, balance_after, balance_blocks, crossings, overage_billable, spent_after,
    usage_period,
};
use tally_domain::{Customer, CustomerRef, DomainError, OrgId, Timestamp};
use tally_store::{Db, Lock};
use tally_wire::usage::{AccessFigures, AccessParts, BaseAccess};

/// What a usage request names, and the request fields to blame for each.
#[derive(Debug, Clone)]
pub struct UsageTarget {
    pub customer: String,
    pub feature: String,
    /// `featureCode`, or the legacy `feature`.
    pub feature_param: &'static str,
}

/// Everything a usage decision reads, in one snapshot (a write's, under its row locks).
#[derive(Clone)]
pub(crate) struct Loaded {
    customer: Customer,
    subscription: Subscription,
    plan: Plan,
    features: Vec<Feature>,
    snapshot: Vec<FeatureSnapshot>,
    /// The base plan's own snapshot while a plan grant runs (`commerce.md` §6).
    base: Option<Vec<FeatureSnapshot>>,
    /// A read presents a period end that was due but not processed: the billing period moved.
    period_rolled: bool,
}

/// Loads for a write: a period end that is due but not processed yet (scheduler lag, a legacy
/// test clock before `process-billing`) is processed first, in this transaction, with the code
/// the scheduler runs, so the write lands in the new period with refilled ledgers.
async fn load_for_write(ctx: &mut WriteCtx<'_>, customer: &str) -> Result<Loaded, AppError> {
    let org = ctx.caller.org().clone();
    let loaded = load(ctx.tx, &org, customer, Lock::ForUpdate).await?;
    if !loaded.subscription.has_due_deadline(ctx.now) {
        return Ok(loaded);
    }
    crate::subscriptions::pass_due_deadlines(
        ctx.tx,
        ctx.ids,
        ctx.billing,
        &org,
        &loaded.subscription.id,
        ctx.now,
        crate::deadlines::DEADLINES_PER_BATCH,
    )
    .await?;
    load(ctx.tx, &org, customer, Lock::ForUpdate).await
}

async fn load(
    db: &mut dyn Db,
    org: &OrgId,
    customer: &str,
    lock: Lock,
) -> Result<Loaded, AppError> {
    let not_found = || AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned());
    let customer = match CustomerRef::parse(customer).ok_or_else(not_found)? {
        CustomerRef::Id(id) => db.customer(org, &id, lock).await?,
        CustomerRef::External(external) => db.customer_by_external_id(org, &external, lock).await?,
    }
    .ok_or_else(not_found)?;
    let subscription = db
        .live_subscription(org, &customer.id, lock)
        .await?
        .ok_or_else(|| {
            AppError::NotFoundAt(NotFound::ActiveSubscription, "customerId".to_owned())
        })?;
    let plan = db
        .plan_any(org, &subscription.plan_id)
        .await?
        .ok_or_else(|| {
            AppError::Store(tally_store::StoreError::other("subscription plan missing"))
        })?;
    let features = db.features(org).await?;
    // Access decisions see a running plan grant (`commerce.md` §6).
    let base = db.subscription_features(org, &subscription.id).await?;
    let (snapshot, base) = crate::plan_grants::effective_features(db, &subscription, base).await?;
    Ok(Loaded {
        customer,
        subscription,
        plan,
        features,
        snapshot,
        base,
        period_rolled: false,
    })
}

impl Loaded {
    /// The catalog feature a code (or id) names, of the operation's type (`feature_not_found`).
    fn catalog_feature(
        &self,
        key: &str,
        kind: FeatureType,
        param: &str,
    ) -> Result<&Feature, AppError> {
        self.features
            .iter()
            .find(|f| f.feature_type == kind && (f.code == key || f.id.as_str() == key))
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, param.to_owned()))
    }

    /// The feature's entry in the current snapshot, enabled (`feature_not_in_plan`,
    /// `feature_disabled`).
    fn plan_feature(&self, feature: &Feature, param: &str) -> Result<FeatureSnapshot, AppError> {
        match self.snapshot.iter().find(|f| f.feature_id == feature.id) {
            None => Err(DomainError::FeatureNotInPlan {
                code: feature.code.clone(),
                param: param.to_owned(),
            }
            .into()),
            Some(f) if !f.enabled => Err(DomainError::FeatureDisabled {
                code: feature.code.clone(),
                param: param.to_owned(),
            }
            .into()),
            Some(f) => Ok(f.clone()),
        }
    }

    /// Steps 5 and 6 of the pipeline for a usage feature, then the status check writes and
    /// checks share: a subscription that cannot move (paused, pending) refuses them.
    fn usage_feature(&self, target: &UsageTarget) -> Result<FeatureSnapshot, AppError> {
        let feature =
            self.catalog_feature(&target.feature, FeatureType::Usage, target.feature_param)?;
        let snapshot = self.plan_feature(feature, target.feature_param)?;
        if !self.subscription.may_adjust() {
            return Err(DomainError::NotActive.into());
        }
        Ok(snapshot)
    }

    fn period(&self, now: Timestamp) -> Result<BillingPeriod, AppError> {
        usage_period(&self.subscription, now).ok_or_else(|| DomainError::NotActive.into())
    }

    fn meter<'a>(&self, feature: &'a FeatureSnapshot, used: i64) -> Meter<'a> {
        let credits = self.subscription.credits;
        Meter {
            feature,
            model: self.plan.consumption(),
            used,
            overage_billable: overage_billable(feature, &self.plan, &self.subscription),
            credits_per_unit: feature.credits_per_unit.unwrap_or(1).max(1),
            credits_total: credits.map_or(0, |c| c.remaining),
            balance: self.subscription.balance.map_or(0, |b| b.remaining.0),
            balance_blocks: balance_blocks(&self.plan, &self.subscription),
        }
    }
}

/// The counter of `code` in `period`, or an empty one.
async fn counter_of(
    db: &mut dyn Db,
    org: &OrgId,
    subscription: &Subscription,
    code: &str,
    period: BillingPeriod,
) -> Result<UsageCounter, AppError> {
    Ok(db
        .usage_counters(org, &subscription.id, period.start)
        .await?
        .into_iter()
        .find(|c| c.feature_code == code)
        .unwrap_or_else(|| UsageCounter::empty(&subscription.id, code, period)))
}

/// Refuses an event key the organization has already used (`usage.md` §6).
async fn check_event_key(
    db: &mut dyn Db,
    org: &OrgId,
    key: Option<&str>,
    param: &'static str,
) -> Result<(), AppError> {
    if let Some(key) = key
        && let Some(existing) = db.usage_event_with_key(org, key).await?
    {
        return Err(AppError::DuplicateUsageEvent {
            param,
            event_id: existing.as_str().to_owned(),
        });
    }
    Ok(())
}

/// `POST /usage/events`.
pub struct TrackUsage {
    pub target: UsageTarget,
    pub value: i64,
    pub event_key: Option<String>,
    /// `eventId`, or the legacy `idempotencyKey`.
    pub key_param: &'static str,
    pub ts: Option<Timestamp>,
    pub properties: Vec<UsageProperty>,
    /// The model of a track sent as model token counts (`usage.md` §3.2). Tally prices no
    /// models: on an `ai_model` feature the model is `model_not_found`, on a `fixed` one the
    /// form is `pricing_mode_mismatch`.
    pub model: Option<String>,
}

/// A recorded event with the customer it is for.
pub struct Recorded {
    pub event: UsageEvent,
    pub customer: Customer,
}

#[async_trait]
impl Command for TrackUsage {
    type Output = Recorded;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Recorded, AppError> {
        let org = ctx.caller.org().clone();
        let loaded = load_for_write(ctx, &self.target.customer).await?;
        let feature = loaded.usage_feature(&self.target)?;
        let per_model = feature.pricing_mode == "ai_model";
        match (&self.model, per_model) {
            (Some(model), true) => {
                return Err(DomainError::ModelNotFound {
                    model: model.clone(),
                }
                .into());
            }
            (Some(_), false) => {
                let (code, param) = (feature.code, "model");
                return Err(DomainError::PricingModeMismatch { code, param }.into());
            }
            (None, true) => {
                let (code, param) = (feature.code, "value");
                return Err(DomainError::PricingModeMismatch { code, param }.into());
            }
            (None, false) => {}
        }
        check_event_key(ctx.tx, &org, self.event_key.as_deref(), self.key_param).await?;
        let period = loaded.period(ctx.now)?;
        let before = counter_of(ctx.tx, &org, &loaded.subscription, &feature.code, period).await?;
        let meter = loaded.meter(&feature, before.used);
        let verdict = meter.judge(self.value).map_err(|e| e.at("value"))?;
        if let Some(denial) = verdict.denial {
            return Err(meter.refusal(denial, self.value, verdict.cost).into());
        }

        let mut counter = before.clone();
        counter.used = before
            .used
            .checked_add(self.value)
            .ok_or_else(|| DomainError::field("value", "the period's usage is too large"))?;
        counter.updated_at = ctx.now;
        let crossed = crossings(&before, before.used, counter.used, &meter);
        counter.threshold_fired |= crossed.threshold;
        counter.exceeded_fired |= crossed.exceeded;

        let mut subscription = loaded.subscription.clone();
        let mut ledger_move = None;
        let consumption = match meter.model {
            ConsumptionModel::Metered => None,
            ConsumptionModel::Credits => {
                let credits =
                    subscription
                        .credits
                        .get_or_insert(tally_domain::subscription::Credits {
                            remaining: 0,
                            included: 0,
                            purchased: 0,
                        });
                let previous = credits.remaining;
                credits.remaining = previous - verdict.cost;
                // Plan credits go first, then purchased ones (`balance.md` §1).
                credits.purchased = credits.purchased.min(credits.remaining);
                counter.spent =
                    spent_after(counter.spent, verdict.cost).map_err(|e| e.at("value"))?;
                ledger_move = Some((
                    LedgerKind::Credits,
                    credits.included,
                    previous,
                    credits.remaining,
                ));
                Some(credits.remaining)
            }
            ConsumptionModel::Balance => {
                let balance = subscription.balance.get_or_insert(
                    tally_domain::subscription::PrepaidBalance {
                        remaining: Rate(0),
                        included: Rate(0),
                    },
                );
                let previous = balance.remaining.0;
                balance.remaining =
                    balance_after(balance.remaining, verdict.cost).map_err(|e| e.at("value"))?;
                counter.spent =
                    spent_after(counter.spent, verdict.cost).map_err(|e| e.at("value"))?;
                ledger_move = Some((
                    LedgerKind::Balance,
                    balance.included.0,
                    previous,
                    balance.remaining.0,
                ));
                Some(balance.remaining.0)
            }
        }
        .map(|remaining| {
            // Would one more unit now be refused, with the ledgers as they are after this one?
            let after = Meter {
                used: counter.used,
                credits_total: remaining,
                balance: remaining,
                ..meter
            };
            Consumption {
                model: meter.model,
                deducted: verdict.cost,
                remaining,
                blocked: !after.allows_one_more(),
            }
        });
        if ledger_move.is_some() {
            subscription.updated_at = ctx.now;
            save(ctx.tx, &subscription).await?;
        }
        ctx.tx.save_usage_counter(&org, &counter).await?;
        let event = UsageEvent {
            id: UsageEventId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: loaded.customer.id.clone(),
            subscription_id: subscription.id.clone(),
            feature_code: feature.code.clone(),
            kind: UsageEventKind::Track,
            value: self.value,
            event_key: self.event_key.clone(),
            reason: None,
            properties: self.properties.clone(),
            consumption,
            ts: self.ts.unwrap_or(ctx.now),
            created_at: ctx.now,
            period_start: period.start,
        };
        ctx.tx
            .append_usage_event(&event)
            .await
            .map_err(|e| duplicate_key(e, self.key_param))?;

        let mut outbox = Outbox::new(ctx.ids, &loaded.customer, ctx.now);
        let customer_ref = outbox.customer_ref().to_owned();
        let wants_recorded = ctx
            .tx
            .all_webhook_endpoints(&org)
            .await?
            .iter()
            .any(|e| e.wants("usage.recorded"));
        if wants_recorded {
            outbox.push(
                "usage.recorded",
                json!({
                    "subscriptionId": subscription.id.as_str(),
                    "customerId": customer_ref,
                    "usageEventId": event.id.as_str(),
                    "featureCode": feature.code,
                    "value": self.value,
                    "ts": event.ts.to_rfc3339(),
                }),
            );
        }
        push_quota_crossings(&mut outbox, &subscription, &counter, &meter, crossed);
        if let Some((kind, grant, previous, new)) = ledger_move {
            push_ledger_crossings(&mut outbox, &subscription, kind, grant, previous, new);
        }
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(Recorded {
            event,
            customer: loaded.customer,
        })
    }
}

/// `quota.threshold_reached` / `quota.exceeded` (and the state change a hard limit causes).
fn push_quota_crossings(
    outbox: &mut Outbox<'_>,
    subscription: &Subscription,
    counter: &UsageCounter,
    meter: &Meter<'_>,
    crossed: tally_domain::usage::Crossings,
) {
    if !crossed.threshold && !crossed.exceeded {
        return;
    }
    let mut data = json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": outbox.customer_ref(),
        "featureCode": counter.feature_code,
        "currentUsage": counter.used,
        "includedAmount": meter.feature.included_amount,
        "periodStart": counter.period.start.to_rfc3339(),
    });
    if crossed.threshold {
        outbox.push("quota.threshold_reached", data);
        return;
    }
    data["overageEnabled"] = json!(meter.overage_billable);
    outbox.push("quota.exceeded", data);
    if !meter.overage_billable {
        outbox.state_changed("quota_exceeded");
    }
}

/// A key another request took between the check and the insert is the same refusal.
fn duplicate_key(error: tally_store::StoreError, param: &'static str) -> AppError {
    if error.is_conflict_on(tally_store::constraints::USAGE_EVENT_KEY) {
        AppError::DuplicateUsageEvent {
            param,
            event_id: String::new(),
        }
    } else {
        error.into()
    }
}

/// `PUT /usage`: the current period's counter becomes `value` (`usage.md` §3.4).
pub struct SetUsage {
    pub target: UsageTarget,
    pub value: i64,
    pub reason: Option<String>,
    pub event_key: Option<String>,
    /// `eventId`, or the legacy `idempotencyKey`.
    pub key_param: &'static str,
}

#[async_trait]
impl Command for SetUsage {
    type Output = Recorded;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Recorded, AppError> {
        let org = ctx.caller.org().clone();
        let loaded = load_for_write(ctx, &self.target.customer).await?;
        let feature = loaded.usage_feature(&self.target)?;
        check_event_key(ctx.tx, &org, self.event_key.as_deref(), self.key_param).await?;
        let period = loaded.period(ctx.now)?;
        let before = counter_of(ctx.tx, &org, &loaded.subscription, &feature.code, period).await?;
        let meter = loaded.meter(&feature, before.used);
        let mut counter = before.clone();
        counter.used = self.value;
        counter.updated_at = ctx.now;
        // Only upward moves announce anything.
        let crossed = if self.value > before.used {
            crossings(&before, before.used, self.value, &meter)
        } else {
            tally_domain::usage::Crossings::default()
        };
        counter.threshold_fired |= crossed.threshold;
        counter.exceeded_fired |= crossed.exceeded;
        ctx.tx.save_usage_counter(&org, &counter).await?;
        let event = UsageEvent {
            id: UsageEventId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: loaded.customer.id.clone(),
            subscription_id: loaded.subscription.id.clone(),
            feature_code: feature.code.clone(),
            kind: UsageEventKind::Set {
                previous: before.used,
            },
            value: self.value,
            event_key: self.event_key.clone(),
            reason: self.reason.clone(),
            properties: Vec::new(),
            consumption: None,
            ts: ctx.now,
            created_at: ctx.now,
            period_start: period.start,
        };
        ctx.tx
            .append_usage_event(&event)
            .await
            .map_err(|e| duplicate_key(e, self.key_param))?;
        let mut outbox = Outbox::new(ctx.ids, &loaded.customer, ctx.now);
        push_quota_crossings(&mut outbox, &loaded.subscription, &counter, &meter, crossed);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(Recorded {
            event,
            customer: loaded.customer,
        })
    }
}

/// The answer to `POST /usage/check` (`usage.md` §3.3): the verdict on `quantity` more units
/// and the figures it was reached with.
#[derive(Debug, Clone)]
pub struct UsageCheck {
    pub customer: Customer,
    pub status: SubscriptionStatus,
    pub feature: FeatureSnapshot,
    pub model: ConsumptionModel,
    pub quantity: i64,
    pub denial: Option<Denial>,
    pub used: i64,
    pub remaining: i64,
    pub overage_billable: bool,
    pub cost: i64,
    pub credits_per_unit: i64,
    /// Plan credits left, purchased credits left, and their total.
    pub plan_credits: i64,
    pub purchased_credits: i64,
    pub total_credits: i64,
    pub unit_price: i64,
    pub balance: i64,
    pub balance_blocks: bool,
    /// The subscription's currency, that unit prices and balances are in.
    pub currency: String,
}

/// One feature as feature access shows it (`usage.md` §3.6, §4).
#[derive(Debug, Clone)]
pub struct Access {
    pub code: String,
    pub name: String,
    pub unit_name: Option<String>,
    pub feature_type: FeatureType,
    pub allowed: bool,
    /// Why one more unit would be refused, when it would.
    pub reason: Option<&'static str>,
    /// Whether one more unit is charged beyond the plan (`canUse`).
    pub will_be_charged: bool,
    pub detail: AccessDetail,
    /// The base plan's own access while a plan grant runs (`commerce.md` §6).
    pub base: Option<BaseAccess>,
    /// The subscription's currency, that unit prices and amounts are in.
    pub currency: String,
}

#[derive(Debug, Clone)]
pub enum AccessDetail {
    Boolean {
        enabled: bool,
    },
    /// Seats, quota, and metered usage: a count against an included amount.
    Counted {
        /// Usage: the usage period; seats and quota: the billing period.
        period: Option<BillingPeriod>,
        used: i64,
        included: i64,
        unlimited: bool,
        overage_enabled: bool,
        /// Rate scale; only when overage is billable.
        unit_price: Option<i64>,
        /// Quota: the period's high-water mark.
        billed: Option<i64>,
        /// Usage features: `metered`.
        metered: bool,
    },
    Credits {
        period: Option<BillingPeriod>,
        used: i64,
        credits_per_unit: i64,
        credits_consumed: i64,
        available_units: i64,
    },
    Balance {
        period: Option<BillingPeriod>,
        used: i64,
        /// Rate scale.
        spent: i64,
        available_units: Option<i64>,
        /// Rate scale, when above zero.
        unit_price: Option<i64>,
        blocks: bool,
    },
}

impl Access {
    /// The figures the wire renders (feature access, and `customer.state_changed` features):
    /// `is_lookup` for a single feature's answer, `will_be_charged` for `canUse`.
    pub fn wire_parts(&self, is_lookup: bool, will_be_charged: Option<bool>) -> AccessParts<'_> {
        let figures = match self.detail {
            AccessDetail::Boolean { enabled } => AccessFigures::Boolean { enabled },
            AccessDetail::Counted {
                period,
                used,
                included,
                unlimited,
                overage_enabled,
                unit_price,
                billed,
                metered,
            } => AccessFigures::Counted {
                period,
                used,
                included,
                remaining: self.detail.remaining(),
                over_units: self.detail.over_units(),
                unlimited,
                overage_enabled,
                unit_price,
                billed,
                metered,
            },
            AccessDetail::Credits {
                period,
                used,
                credits_per_unit,
                credits_consumed,
                available_units,
            } => AccessFigures::Credits {
                period,
                used,
                credits_per_unit,
                credits_consumed,
                available_units,
            },
            AccessDetail::Balance {
                period,
                used,
                spent,
                available_units,
                unit_price,
                blocks,
            } => AccessFigures::Balance {
                period,
                used,
                // Rate scale to cents, half up (`usage.md` §4).
                spent_cents: (spent + RATE_PER_CENT / 2).div_euclid(RATE_PER_CENT),
                available_units,
                unit_price,
                blocks,
            },
        };
        AccessParts {
            code: &self.code,
            name: &self.name,
            unit_name: self.unit_name.as_deref(),
            feature_type: self.feature_type,
            allowed: self.allowed,
            reason: self.reason,
            will_be_charged,
            is_lookup,
            figures,
            base_access: self.base,
            currency: &self.currency,
        }
    }
}

impl AccessDetail {
    /// `remaining` of the flat (legacy) view: units still included, or units the ledger pays
    /// for; `None` when unlimited or not a number.
    pub fn remaining(&self) -> Option<i64> {
        match self {
            AccessDetail::Boolean { .. } => None,
            AccessDetail::Counted {
                used,
                included,
                unlimited,
                ..
            } => (!unlimited).then(|| (included - used).max(0)),
            AccessDetail::Credits {
                available_units, ..
            } => Some(*available_units),
            AccessDetail::Balance {
                available_units, ..
            } => *available_units,
        }
    }

    /// Units past the included amount (0 when unlimited).
    pub fn over_units(&self) -> i64 {
        match self {
            AccessDetail::Counted {
                used,
                included,
                unlimited: false,
                ..
            } => (used - included).max(0),
            _ => 0,
        }
    }
}

impl App {
    /// `POST /usage/check`: track's verdict without writing anything (`usage.md` §3.3, §8).
    pub async fn check_usage(
        &self,
        caller: &Caller,
        target: &UsageTarget,
        quantity: i64,
    ) -> Result<UsageCheck, AppError> {
        let (state, _) = self.read_state(caller, &target.customer).await?;
        let loaded = &state.loaded;
        let feature = loaded.usage_feature(target)?;
        if state.usage_period.is_none() {
            return Err(DomainError::NotActive.into());
        }
        let counter = UsageCounter {
            used: state.used(&feature.code),
            ..UsageCounter::empty(
                &loaded.subscription.id,
                &feature.code,
                BillingPeriod {
                    start: state.now,
                    end: state.now,
                },
            )
        };
        let meter = loaded.meter(&feature, counter.used);
        let verdict = meter.judge(quantity).map_err(|e| e.at("quantity"))?;
        let credits = loaded.subscription.credits;
        Ok(UsageCheck {
            status: loaded.subscription.status,
            model: meter.model,
            quantity,
            denial: verdict.denial,
            used: counter.used,
            remaining: meter.remaining(),
            overage_billable: meter.overage_billable,
            cost: verdict.cost,
            credits_per_unit: meter.credits_per_unit,
            plan_credits: credits.map_or(0, |c| c.remaining - c.purchased),
            purchased_credits: credits.map_or(0, |c| c.purchased),
            total_credits: meter.credits_total,
            unit_price: meter.unit_price(),
            balance: meter.balance,
            balance_blocks: meter.balance_blocks,
            currency: loaded.subscription.currency.clone(),
            feature,
            customer: loaded.customer.clone(),
        })
    }

    /// `GET /feature-access`: every feature of the current snapshot, by code; none without a
    /// live subscription.
    pub async fn feature_access_list(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(Vec<Access>, Timestamp), AppError> {
        let state = match self.read_state(caller, customer).await {
            Err(AppError::NotFoundAt(NotFound::ActiveSubscription, _)) => {
                let now = self.reader(caller).await?.1;
                return Ok((Vec::new(), now));
            }
            other => other?.0,
        };
        let now = state.now;
        let mut features: Vec<&FeatureSnapshot> = state.loaded.snapshot.iter().collect();
        features.sort_by(|a, b| a.code.cmp(&b.code));
        let access = features
            .into_iter()
            .map(|f| state.access(f, false))
            .collect();
        Ok((access, now))
    }

    /// `GET /feature-access/{code}` (and `canUse`): one feature; a catalog feature the plan
    /// lacks or disables is `allowed: false` with zero counters.
    pub async fn feature_access(
        &self,
        caller: &Caller,
        customer: &str,
        code: &str,
        can_use: bool,
    ) -> Result<(Access, Timestamp), AppError> {
        let (state, now) = self.read_state(caller, customer).await?;
        let feature = state
            .loaded
            .features
            .iter()
            .find(|f| f.code == code || f.id.as_str() == code)
            .cloned()
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, "code".to_owned()))?;
        let access = match state
            .loaded
            .snapshot
            .iter()
            .find(|f| f.feature_id == feature.id)
        {
            Some(f) if f.enabled => state.access(f, can_use),
            found => {
                let reason = if found.is_some() {
                    "feature_disabled"
                } else {
                    "feature_not_in_plan"
                };
                state.unavailable(&feature, reason)
            }
        };
        Ok((access, now))
    }
}

/// What the feature-access reads compute from: the loaded subscription, its usage period's
/// counters and its seat balances.
struct State {
    loaded: Loaded,
    now: Timestamp,
    usage_period: Option<BillingPeriod>,
    counters: Vec<UsageCounter>,
    seats: Vec<SeatBalance>,
}

/// What one customer's hot reads need, read in one go at a generation of the read view
/// (`hot.rs`), and kept there until the next write.
pub(crate) struct CustomerView {
    loaded: Loaded,
    seats: Vec<SeatBalance>,
    counters: Vec<UsageCounter>,
    /// The usage period the counters are of, as of the read.
    counters_period: Option<BillingPeriod>,
}

impl CustomerView {
    /// Reads a customer's hot-read state, its usage counters those of the period current at
    /// `now`.
    async fn read(
        db: &mut dyn Db,
        org: &OrgId,
        customer: &str,
        now: Timestamp,
    ) -> Result<CustomerView, AppError> {
        let loaded = load(db, org, customer, Lock::None).await?;
        let counters_period = usage_period(&loaded.subscription.as_of(now), now);
        let counters = match counters_period {
            Some(period) => {
                db.usage_counters(org, &loaded.subscription.id, period.start)
                    .await?
            }
            None => Vec::new(),
        };
        let seats = db.seat_balances(org, &loaded.subscription.id).await?;
        Ok(CustomerView {
            loaded,
            seats,
            counters,
            counters_period,
        })
    }

    /// What the seat balance reads show: the subscription, the catalog, the snapshot and the
    /// balances.
    pub(crate) fn seat_parts(
        &self,
    ) -> (
        &Subscription,
        &[Feature],
        &[FeatureSnapshot],
        &[SeatBalance],
    ) {
        let loaded = &self.loaded;
        (
            &loaded.subscription,
            &loaded.features,
            &loaded.snapshot,
            &self.seats,
        )
    }

    /// What the quota reads show: the catalog, the plan, the stored subscription, the snapshot
    /// and the balances.
    pub(crate) fn quota_state(
        &self,
    ) -> (
        Vec<Feature>,
        Plan,
        Subscription,
        Vec<FeatureSnapshot>,
        Vec<SeatBalance>,
    ) {
        let loaded = &self.loaded;
        (
            loaded.features.clone(),
            loaded.plan.clone(),
            loaded.subscription.clone(),
            loaded.snapshot.clone(),
            self.seats.clone(),
        )
    }

    /// Whether the counters are still the current period's at `now`.
    fn is_current(&self, now: Timestamp) -> bool {
        usage_period(&self.loaded.subscription.as_of(now), now) == self.counters_period
    }
}

impl App {
    /// The customer's hot-read state, from the read view when it holds a current entry, else
    /// from the database (and remembered). The key's standing is checked either way.
    pub(crate) async fn customer_view(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(Arc<CustomerView>, Timestamp), AppError> {
        if !self.view.enabled() {
            return self.stamped_customer_view(caller, customer).await;
        }
        let org = caller.org();
        // Taken before anything is read: an entry read across a write is never used.
        let generation = self.view.generation();
        let key = (org.clone(), caller.key_id.clone());
        let mut db = None;
        let standing = match self.view.standing(&key, generation) {
            Some(standing) => standing,
            None => {
                let conn = db.insert(self.store().read().await?);
                let standing = conn.key_standing(org, &caller.key_id).await?;
                self.view.remember_standing(key, generation, standing);
                standing
            }
        };
        let standing = standing.ok_or(AppError::Unauthorized)?;
        let now = org_now(standing.test_clock, self.real_now());
        let entry = (org.clone(), customer.to_owned());
        if let Some(view) = self.view.customer(&entry, generation)
            && view.is_current(now)
        {
            return Ok((view, now));
        }
        let mut db = match db {
            Some(db) => db,
            None => self.store().read().await?,
        };
        let view = Arc::new(CustomerView::read(&mut *db, org, customer, now).await?);
        self.view
            .remember_customer(entry, generation, Arc::clone(&view));
        Ok((view, now))
    }

    /// `customer_view` where other nodes write: a fresh stamp (the key's standing and the
    /// customer's versions, which the store may read together with concurrent reads' stamps); the kept
    /// state is used while the stamp is unchanged (`hot`).
    async fn stamped_customer_view(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(Arc<CustomerView>, Timestamp), AppError> {
        let org = caller.org();
        let not_found = || AppError::NotFoundAt(NotFound::Customer, "customerId".to_owned());
        let reference = CustomerRef::parse(customer).ok_or_else(not_found)?;
        let ask = tally_store::StampAsk {
            org: org.clone(),
            key: caller.key_id.clone(),
            customer: reference,
        };
        let stamp = self.store().hot_stamp(ask).await?;
        let standing = stamp.standing.ok_or(AppError::Unauthorized)?;
        let now = org_now(standing.test_clock, self.real_now());
        let id = stamp.customer.ok_or_else(not_found)?;
        let tag = (id, stamp.customer_version, stamp.catalog_version);
        let entry = (org.clone(), customer.to_owned());
        if let Some(view) = self.stamped.get(&entry, &tag)
            && view.is_current(now)
        {
            return Ok((view, now));
        }
        // Read after the stamp: never older than it.
        let mut db = self.store().read().await?;
        let view = Arc::new(CustomerView::read(&mut *db, org, customer, now).await?);
        self.stamped.put(entry, tag, Arc::clone(&view));
        Ok((view, now))
    }

    /// The state the reads present: the customer's view with the subscription as of now (due
    /// deadlines passed in memory, `usage.md` §8).
    async fn read_state(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(State, Timestamp), AppError> {
        let (view, now) = self.customer_view(caller, customer).await?;
        Ok((State::present(&view, now)?, now))
    }
}

/// The enabled features of the customer's live subscription as feature access shows them, by
/// code, read in `db` as of `now` (`customer.state_changed`, `webhooks.md` §5.3: its usage and
/// quota values are those of feature access).
pub(crate) async fn features_as_accessed(
    db: &mut dyn Db,
    org: &OrgId,
    customer: &str,
    now: Timestamp,
) -> Result<Vec<Access>, AppError> {
    let view = CustomerView::read(db, org, customer, now).await?;
    let state = State::present(&view, now)?;
    let mut features: Vec<&FeatureSnapshot> =
        state.loaded.snapshot.iter().filter(|f| f.enabled).collect();
    features.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(features
        .into_iter()
        .map(|f| state.access(f, false))
        .collect())
}

impl State {
    /// What the reads present of `view` at `now`: the subscription as of now (due deadlines
    /// passed in memory, `usage.md` §8); `no_active_subscription` when it is not live.
    fn present(view: &CustomerView, now: Timestamp) -> Result<State, AppError> {
        let mut loaded = view.loaded.clone();
        let presented = loaded.subscription.as_of(now);
        loaded.period_rolled = presented.current_period != loaded.subscription.current_period;
        loaded.subscription = presented;
        if !loaded.subscription.status.is_live() {
            return Err(AppError::NotFoundAt(
                NotFound::ActiveSubscription,
                "customerId".to_owned(),
            ));
        }
        let mut seats = view.seats.clone();
        if loaded.period_rolled {
            // A new period's peak starts at what is held.
            for balance in &mut seats {
                balance.peak = balance.current;
            }
        }
        Ok(State {
            loaded,
            now,
            usage_period: view.counters_period,
            counters: view.counters.clone(),
            seats,
        })
    }
}

impl State {
    fn used(&self, code: &str) -> i64 {
        self.counters
            .iter()
            .find(|c| c.feature_code == code)
            .map_or(0, |c| c.used)
    }

    fn spent(&self, code: &str) -> i64 {
        self.counters
            .iter()
            .find(|c| c.feature_code == code)
            .map_or(0, |c| c.spent)
    }

    /// The billing period the reads present: the current one, as of now.
    fn billing_period(&self) -> Option<BillingPeriod> {
        let s = &self.loaded.subscription;
        match s.current_period {
            Some(p) if self.now >= p.end => s
                .billing_interval
                .unwrap_or(tally_domain::period::BillingInterval::Monthly)
                .period_at(s.anchor, self.now)
                .map(|(_, p)| p),
            other => other,
        }
    }

    fn access(&self, f: &FeatureSnapshot, can_use: bool) -> Access {
        let loaded = &self.loaded;
        let (detail, meter_allowed, charged, denial) = match f.feature_type {
            FeatureType::Boolean => (
                AccessDetail::Boolean { enabled: f.enabled },
                true,
                false,
                None,
            ),
            FeatureType::Seats | FeatureType::Quota => {
                // Seat and quota balances share the ledger.
                let balance = self.seats.iter().find(|b| b.feature_code == f.code);
                let used = balance.map_or(0, |b| b.current);
                let billable = overage_billable(f, &loaded.plan, &loaded.subscription);
                // Seats: one more is allowed while overage is on (`seats.md` §6); a quota only
                // while extra units can be sold (`usage.md` §2.4).
                let sellable = if f.feature_type == FeatureType::Seats {
                    f.overage.enabled
                } else {
                    billable
                };
                let allowed = f.unlimited || sellable || used < f.included_amount;
                let detail = AccessDetail::Counted {
                    period: self.billing_period(),
                    used,
                    included: f.included_amount,
                    unlimited: f.unlimited,
                    // Seats report the plan's overage switch (`seats.md` §6); a quota whether
                    // extra units are sold (`usage.md` §2.4).
                    overage_enabled: if f.feature_type == FeatureType::Quota {
                        billable
                    } else {
                        f.overage.enabled
                    },
                    unit_price: f
                        .overage
                        .enabled
                        .then_some(f.overage.unit_price.map(|r| r.0))
                        .flatten(),
                    billed: (f.feature_type == FeatureType::Quota)
                        .then(|| balance.map_or(0, |b| b.peak.max(b.current))),
                    metered: false,
                };
                // Charged when one more unit raises the extra units already paid for.
                let paid_extra = balance.map_or(0, |b| b.paid_extra);
                let charged = billable
                    && tally_domain::seats::billable_extra(used.saturating_add(1), f) > paid_extra;
                (
                    detail,
                    allowed,
                    charged,
                    (!allowed).then_some(Denial::IncludedLimitReached),
                )
            }
            FeatureType::Usage => {
                let used = self.used(&f.code);
                let meter = loaded.meter(f, used);
                let verdict = meter.judge(1).ok();
                let denial = verdict.and_then(|v| v.denial);
                let detail = match meter.model {
                    ConsumptionModel::Metered => AccessDetail::Counted {
                        period: self.usage_period,
                        used,
                        included: f.included_amount,
                        unlimited: f.unlimited,
                        overage_enabled: meter.overage_billable,
                        unit_price: meter
                            .overage_billable
                            .then_some(f.overage.unit_price.map(|r| r.0))
                            .flatten(),
                        billed: None,
                        metered: true,
                    },
                    ConsumptionModel::Credits => AccessDetail::Credits {
                        period: self.usage_period,
                        used,
                        credits_per_unit: meter.credits_per_unit,
                        credits_consumed: self.spent(&f.code),
                        available_units: meter.available_units().unwrap_or(0),
                    },
                    ConsumptionModel::Balance => AccessDetail::Balance {
                        period: self.usage_period,
                        used,
                        spent: self.spent(&f.code),
                        available_units: meter.available_units(),
                        unit_price: (meter.unit_price() > 0).then_some(meter.unit_price()),
                        blocks: meter.balance_blocks,
                    },
                };
                (
                    detail,
                    denial.is_none() && verdict.is_some(),
                    meter.one_more_is_charged(),
                    denial,
                )
            }
        };
        // A paused subscription answers with every feature refused.
        let live = loaded.subscription.may_adjust();
        let allowed = f.enabled && live && meter_allowed;
        let reason = if !f.enabled {
            Some("feature_disabled")
        } else {
            denial.map(Denial::as_str)
        };
        Access {
            code: f.code.clone(),
            name: f.name.clone(),
            unit_name: f.unit_name.clone(),
            feature_type: f.feature_type,
            allowed,
            reason: (!allowed).then_some(reason.unwrap_or("subscription_not_active")),
            will_be_charged: can_use && allowed && charged,
            detail,
            base: loaded.base.as_ref().map(|base| {
                let own = base.iter().find(|b| b.feature_id == f.feature_id);
                match f.feature_type {
                    FeatureType::Boolean => BaseAccess::Enabled(own.is_some_and(|b| b.enabled)),
                    _ => BaseAccess::Units {
                        included: own.filter(|b| b.enabled).map_or(0, |b| b.included_amount),
                        unlimited: own.is_some_and(|b| b.enabled && b.unlimited),
                    },
                }
            }),
            currency: loaded.subscription.currency.clone(),
        }
    }

    /// A catalog feature the plan lacks or disables: refused, with zero counters.
    fn unavailable(&self, feature: &Feature, reason: &'static str) -> Access {
        let model = self.loaded.plan.consumption();
        let period = match feature.feature_type {
            FeatureType::Usage => self.usage_period,
            _ => self.billing_period(),
        };
        let detail = match (feature.feature_type, model) {
            (FeatureType::Boolean, _) => AccessDetail::Boolean { enabled: false },
            (FeatureType::Usage, ConsumptionModel::Credits) => AccessDetail::Credits {
                period,
                used: 0,
                credits_per_unit: 1,
                credits_consumed: 0,
                available_units: 0,
            },
            (FeatureType::Usage, ConsumptionModel::Balance) => AccessDetail::Balance {
                period,
                used: 0,
                spent: 0,
                available_units: None,
                unit_price: None,
                blocks: true,
            },
            (kind, _) => AccessDetail::Counted {
                period,
                used: 0,
                included: 0,
                unlimited: false,
                overage_enabled: false,
                unit_price: None,
                billed: (kind == FeatureType::Quota).then_some(0),
                metered: kind == FeatureType::Usage,
            },
        };
        Access {
            code: feature.code.clone(),
            name: feature.name.clone(),
            unit_name: feature.unit_name.clone(),
            feature_type: feature.feature_type,
            allowed: false,
            reason: Some(reason),
            will_be_charged: false,
            detail,
            base: None,
            currency: self.loaded.subscription.currency.clone(),
        }
    }
}

/// What the usage period that `unbilled` lies in owes in arrears (`usage.md` §5), read before
/// the deadline refills the ledgers and a renewal replaces the feature snapshot: metered units
/// past the included amount at the period's own prices (`feature_overage`, by code), and a
/// balance plan's deficit (`balance_overage`). Free plans and trials owe nothing. Usage periods
/// never outlast a billing period's deadlines (`Subscription::next_deadline`), so `unbilled`
/// (`Subscription::unbilled_usage`) is one usage period or the part of it before a cancellation.
pub(crate) async fn arrears_lines(
    tx: &mut dyn tally_store::Tx,
    subscription: &Subscription,
    plan: &Plan,
    unbilled: BillingPeriod,
) -> Result<Vec<tally_domain::billing::InvoiceLine>, AppError> {
    use tally_domain::billing::{balance_overage_line, usage_overage_line};
    use tally_domain::usage::overage_units;
    if plan.is_free || subscription.is_free() || subscription.status == SubscriptionStatus::Trialing
    {
        return Ok(Vec::new());
    }
    let org = &subscription.org_id;
    let mut lines = Vec::new();
    match plan.consumption() {
        ConsumptionModel::Metered => {
            let mut snapshot = tx.subscription_features(org, &subscription.id).await?;
            snapshot.retain(|f| f.enabled && f.feature_type == FeatureType::Usage);
            snapshot.sort_by(|a, b| a.code.cmp(&b.code));
            if snapshot.is_empty() {
                return Ok(lines);
            }
            let Some(period) = usage_period(subscription, unbilled.start) else {
                return Ok(lines);
            };
            let counters = tx
                .usage_counters(org, &subscription.id, period.start)
                .await?;
            for feature in &snapshot {
                let Some(unit_price) = feature.overage.unit_price else {
                    continue;
                };
                let billable = overage_billable(feature, plan, subscription);
                let used = counters
                    .iter()
                    .find(|c| c.feature_code == feature.code)
                    .map_or(0, |c| c.used);
                let units = overage_units(used, feature, billable);
                let line = usage_overage_line(
                    &feature.code,
                    &feature.name,
                    (feature.included_amount, used, units),
                    unit_price,
                )
                .map_err(DomainError::from)?;
                lines.extend(line);
            }
        }
        ConsumptionModel::Balance => {
            if let Some(balance) = subscription.balance {
                lines.extend(balance_overage_line(balance.remaining).map_err(DomainError::from)?);
            }
        }
        ConsumptionModel::Credits => {}
    }
    Ok(lines)
}
