//! Quota features (`usage.md` §3.5): a durable balance of units per subscription, moved by
//! add, set and remove, carried over between periods and billed like seats (extra units in
//! advance, prorated true-ups for extra units added during a period). Quota balances share the
//! seat ledger; their events are `qev_…`.

use crate::seats::{SeatTarget, Units};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::catalog::{FeatureType, Plan};
use tally_domain::seats::{SeatBalance, SeatChange, SeatEvent};
use tally_domain::subscription::{FeatureSnapshot, Subscription};
use tally_domain::usage::overage_billable;
use tally_domain::{CustomerRef, DomainError, Timestamp};

/// `POST`, `PUT`, `DELETE /usage/quota` and `POST /usage/quota/remove`.
pub struct ChangeQuota {
    pub customer: CustomerRef,
    pub feature: String,
    pub change: SeatChange,
    /// The legacy body `idempotencyKey`: unique in the organization forever (`usage.md` §6).
    pub event_key: Option<String>,
}

#[async_trait]
impl Command for ChangeQuota {
    type Output = SeatEvent;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SeatEvent, AppError> {
        let target = SeatTarget::lock(ctx, &self.customer).await?;
        let (code, feature) = target.quota_feature(&self.feature, "featureCode")?;
        if !target.subscription.may_adjust() {
            return Err(DomainError::NotActive.into());
        }
        let org = ctx.caller.org().clone();
        if let Some(key) = &self.event_key
            && let Some(existing) = ctx.tx.quota_event_with_key(&org, key).await?
        {
            return Err(AppError::DuplicateUsageEvent {
                param: "idempotencyKey",
                event_id: existing,
            });
        }
        let mut applied = target
            .apply(ctx, &[(code, feature, self.change)], "count", Units::Quota)
            .await
            .map_err(|error| match error {
                // Removing more than is held is `insufficient_balance` for a quota.
                AppError::Domain(DomainError::InsufficientSeats {
                    feature_code,
                    current,
                    requested,
                }) => DomainError::InsufficientQuota {
                    feature_code,
                    current,
                    requested,
                }
                .into(),
                other => other,
            })?;
        let event = applied.remove(0);
        if let Some(key) = &self.event_key {
            ctx.tx
                .record_quota_event_key(&org, key, event.id.as_str(), ctx.now)
                .await
                .map_err(|error| {
                    if error.is_conflict_on(tally_store::constraints::QUOTA_EVENT_KEY) {
                        AppError::DuplicateUsageEvent {
                            param: "idempotencyKey",
                            event_id: String::new(),
                        }
                    } else {
                        error.into()
                    }
                })?;
        }
        Ok(event)
    }
}

/// One quota as `GET /usage/quota` shows it.
#[derive(Debug, Clone)]
pub struct QuotaView {
    pub feature_code: String,
    pub current: i64,
    pub included: i64,
    pub unlimited: bool,
    pub overage_billable: bool,
    /// The period's peak, included units counted (`billedQuantity`).
    pub billed: i64,
    /// When the balance last changed; `None` before its first change.
    pub as_of: Option<Timestamp>,
}

impl QuotaView {
    pub fn remaining(&self) -> Option<i64> {
        (!self.unlimited).then(|| (self.included - self.current).max(0))
    }
}

fn view(
    feature: &FeatureSnapshot,
    plan: &Plan,
    subscription: &Subscription,
    balances: &[SeatBalance],
) -> QuotaView {
    let balance = balances.iter().find(|b| b.feature_code == feature.code);
    QuotaView {
        feature_code: feature.code.clone(),
        current: balance.map_or(0, |b| b.current),
        included: feature.included_amount,
        unlimited: feature.unlimited,
        overage_billable: overage_billable(feature, plan, subscription),
        billed: balance.map_or(0, |b| b.peak.max(b.current)),
        as_of: balance.map(|b| b.updated_at),
    }
}

impl App {
    /// `GET /usage/quota`: one quota feature of the customer's live subscription.
    pub async fn quota(
        &self,
        caller: &Caller,
        customer: &str,
        feature: &str,
    ) -> Result<QuotaView, AppError> {
        let (features, plan, subscription, snapshot, balances) =
            self.quota_state(caller, customer).await?;
        let code = features
            .iter()
            .find(|f| {
                f.feature_type == FeatureType::Quota
                    && (f.code == feature || f.id.as_str() == feature)
            })
            .map(|f| f.code.clone())
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, "featureCode".to_owned()))?;
        let entry = match snapshot.iter().find(|f| f.code == code) {
            Some(f) if f.enabled => f,
            Some(_) => {
                return Err(DomainError::FeatureDisabled {
                    code,
                    param: "featureCode".to_owned(),
                }
                .into());
            }
            None => {
                return Err(DomainError::FeatureNotInPlan {
                    code,
                    param: "featureCode".to_owned(),
                }
                .into());
            }
        };
        Ok(view(entry, &plan, &subscription, &balances))
    }

    /// `GET /usage/quota/all`: every enabled quota feature of the snapshot, by code.
    pub async fn quotas(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<Vec<QuotaView>, AppError> {
        let (_, plan, subscription, snapshot, balances) =
            self.quota_state(caller, customer).await?;
        let mut features: Vec<&FeatureSnapshot> = snapshot
            .iter()
            .filter(|f| f.enabled && f.feature_type == FeatureType::Quota)
            .collect();
        features.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(features
            .into_iter()
            .map(|f| view(f, &plan, &subscription, &balances))
            .collect())
    }

    #[allow(clippy::type_complexity)]
    async fn quota_state(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<
        (
            Vec<tally_domain::catalog::Feature>,
            Plan,
            Subscription,
            Vec<FeatureSnapshot>,
            Vec<SeatBalance>,
        ),
        AppError,
    > {
        // The hot read view (`hot`): from memory between writes on SQLite.
        let (view, now) = self.customer_view(caller, customer).await?;
        let (features, plan, stored, snapshot, balances) = view.quota_state();
        let no_subscription =
            || AppError::NotFoundAt(NotFound::ActiveSubscription, "customerId".to_owned());
        // As of now: a period end not processed yet is shown as processed (`usage.md` §8).
        let subscription = stored.as_of(now);
        if !subscription.status.is_live() {
            return Err(no_subscription());
        }
        let rolled = subscription.current_period != stored.current_period;
        let mut balances = balances;
        if rolled {
            // A new period's peak starts at what is held.
            for balance in &mut balances {
                balance.peak = balance.current;
            }
        }
        Ok((features, plan, subscription, snapshot, balances))
    }
}
