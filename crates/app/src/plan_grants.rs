//! Plan grants (`commerce.md` §6): made, changed and revoked through the API, expired by the
//! scheduler or the test clock at `expiresAt` and with the subscription's cancellation. What
//! they change is access only: `effective_features` is the one place access is merged.

use crate::customers::lock_customer_ref;
use crate::outbox::Outbox;
use crate::{App, AppError, Caller, Command, IdSource, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::{Value, json};
use tally_domain::catalog::ConsumptionModel;
use tally_domain::plan_grants::{
    Duration, GrantEvent, PlanGrant, Status, check_grantable, check_reason, effective_snapshot,
};
use tally_domain::subscription::{FeatureSnapshot, Subscription, SubscriptionStatus};
use tally_domain::{
    Conflict, Customer, CustomerRef, DomainError, OrgId, PlanChangeRefusal, Timestamp,
};
use tally_store::{Db, Lock, Tx};

/// A grant's duration as a request gives it.
#[derive(Debug, Clone)]
pub struct DurationInput {
    pub name: String,
    pub cycles: Option<i64>,
    pub expires_at: Option<Timestamp>,
}

/// The access a subscription has now: its snapshot, merged with its active grant's target
/// features, and (while a grant runs) the base snapshot beside it. Billing never reads this;
/// access decisions and views do.
pub(crate) async fn effective_features(
    db: &mut dyn Db,
    subscription: &Subscription,
    base: Vec<FeatureSnapshot>,
) -> Result<(Vec<FeatureSnapshot>, Option<Vec<FeatureSnapshot>>), AppError> {
    match db
        .active_plan_grant(&subscription.org_id, subscription.id.as_str())
        .await?
    {
        Some((_, target)) => Ok((effective_snapshot(&base, &target), Some(base))),
        None => Ok((base, None)),
    }
}

fn grant_data(grant: &PlanGrant, customer_ref: &str) -> Value {
    let time = |t: Option<Timestamp>| t.map(Timestamp::to_rfc3339);
    json!({
        "id": grant.id,
        "customerId": customer_ref,
        "subscriptionId": grant.subscription_id,
        "basePlanId": grant.base_plan_id,
        "targetPlanId": grant.plan_id,
        "targetPlanReleaseId": grant.plan_release_id,
        "status": grant.status.as_str(),
        "duration": grant.duration,
        "durationCycles": grant.duration_cycles,
        "startsAt": grant.starts_at.to_rfc3339(),
        "expiresAt": time(grant.expires_at),
        "reason": grant.reason,
        "source": "api",
        "revokedAt": time(grant.revoked_at),
        "createdAt": grant.created_at.to_rfc3339(),
        "updatedAt": grant.updated_at.to_rfc3339(),
    })
}

/// Records `grant`, appends `event` and announces it (`plan_grant.<event>`, and the state
/// change `trigger` when access moved).
async fn record(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    customer: &Customer,
    grant: &PlanGrant,
    (event, trigger): (&str, Option<&str>),
    now: Timestamp,
) -> Result<(), AppError> {
    tx.update_plan_grant(grant).await?;
    let mut outbox = Outbox::new(ids, customer, now);
    let data = grant_data(grant, outbox.customer_ref());
    outbox.push(&format!("plan_grant.{event}"), data);
    if let Some(trigger) = trigger {
        outbox.state_changed(trigger);
    }
    tx.insert_webhook_events(&outbox.into_events()).await?;
    Ok(())
}

fn event(
    ids: &dyn IdSource,
    grant: &PlanGrant,
    (kind, source, reason): (&str, &str, &str),
    previous: Option<Timestamp>,
    requested: Option<Timestamp>,
    now: Timestamp,
) -> GrantEvent {
    GrantEvent {
        id: format!("pge_{}", ids.ulid()),
        event_type: kind.to_owned(),
        reason: reason.to_owned(),
        source: source.to_owned(),
        previous_expires_at: previous,
        expires_at: grant.expires_at,
        duration: grant.duration.clone(),
        duration_cycles: grant.duration_cycles,
        requested_expires_at: requested,
        created_at: now,
    }
}

/// Ends a grant for the system (its expiry, or the subscription's end).
async fn expire(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    customer: &Customer,
    mut grant: PlanGrant,
    now: Timestamp,
) -> Result<(), AppError> {
    grant.status = Status::Expired;
    grant.updated_at = now;
    let entry = event(
        ids,
        &grant,
        ("expired", "system", "expired"),
        grant.expires_at,
        None,
        now,
    );
    grant.events.push(entry);
    record(
        tx,
        ids,
        customer,
        &grant,
        ("expired", Some("plan_access_ended")),
        now,
    )
    .await
}

async fn lock_customer(ctx: &mut WriteCtx<'_>, reference: &str) -> Result<Customer, AppError> {
    let not_found = || AppError::NotFound(NotFound::Customer);
    let reference = CustomerRef::parse(reference).ok_or_else(not_found)?;
    lock_customer_ref(ctx.tx, ctx.caller.org(), &reference)
        .await?
        .ok_or_else(not_found)
}

pub struct CreatePlanGrant {
    pub customer: String,
    pub subscription: String,
    pub plan: String,
    pub reason: String,
    pub duration: DurationInput,
}

#[async_trait]
impl Command for CreatePlanGrant {
    type Output = PlanGrant;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGrant, AppError> {
        let reason = check_reason(&self.reason)?;
        let d = &self.duration;
        let duration = Duration::parse(&d.name, d.cycles, d.expires_at, ctx.now)?;
        let customer = lock_customer(ctx, &self.customer).await?;
        let org = customer.org_id.clone();
        let subscription = crate::subscriptions::lock_current_subscription(ctx, &self.subscription)
            .await
            .ok()
            .filter(|s| s.customer_id == customer.id)
            .ok_or_else(|| {
                AppError::NotFoundAt(NotFound::Subscription, "subscriptionId".to_owned())
            })?;
        if subscription.status != SubscriptionStatus::Active {
            return Err(DomainError::NotActive.into());
        }
        if subscription.billing_interval == Some(tally_domain::period::BillingInterval::OneTime) {
            return Err(DomainError::from(Conflict::InvalidStatus(
                "a one-time subscription has no periods to grant a plan for",
            ))
            .into());
        }
        let base = ctx
            .tx
            .plan_any(&org, &subscription.plan_id)
            .await?
            .ok_or(AppError::NotFound(NotFound::Plan))?;
        let target =
            crate::catalog::lock_plan(ctx.tx, &org, &crate::catalog::PlanRef::parse(&self.plan))
                .await
                .map_err(|_| AppError::NotFoundAt(NotFound::Plan, "planId".to_owned()))?;
        if base.group.is_none() || base.group != target.group {
            return Err(DomainError::PlanChange(PlanChangeRefusal::NotInSameGroup {
                param: "planId",
            })
            .into());
        }
        let refuse =
            |why: &str| -> AppError { DomainError::field("planId", why.to_owned()).into() };
        if target.sort_order <= base.sort_order {
            return Err(refuse(
                "a grant is for a plan above the base plan in its group",
            ));
        }
        let sells_units = |p: &tally_domain::catalog::Plan| {
            matches!(
                p.consumption(),
                ConsumptionModel::Credits | ConsumptionModel::Balance
            )
        };
        if sells_units(&base) || sells_units(&target) {
            return Err(refuse("plans on credits or a balance cannot be granted"));
        }
        let base_features = ctx.tx.subscription_features(&org, &subscription.id).await?;
        let target_features = crate::catalog::plan_snapshot(ctx.tx, &org, &target.id).await?;
        check_grantable(&base_features, &target_features)?;
        if !ctx
            .tx
            .active_addons(&org, &subscription.id)
            .await?
            .is_empty()
        {
            return Err(refuse(
                "a subscription with an active add-on cannot be granted a plan",
            ));
        }
        if let Some((existing, _)) = ctx
            .tx
            .active_plan_grant(&org, subscription.id.as_str())
            .await?
        {
            if existing.is_active_at(ctx.now) {
                return Err(AppError::Duplicate { field: "planId" });
            }
            expire(ctx.tx, ctx.ids, &customer, existing, ctx.now).await?;
        }
        let mut grant = PlanGrant {
            id: format!("grt_{}", ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: customer.id.clone(),
            subscription_id: subscription.id.as_str().to_owned(),
            base_plan_id: base.id.as_str().to_owned(),
            plan_id: target.id.as_str().to_owned(),
            plan_release_id: format!("plr_{}", ctx.ids.ulid()),
            status: Status::Active,
            duration: duration.name().to_owned(),
            duration_cycles: duration.cycles(),
            starts_at: ctx.now,
            expires_at: duration.expires_at(&subscription, ctx.now),
            reason: reason.clone(),
            revoked_at: None,
            created_at: ctx.now,
            updated_at: ctx.now,
            events: Vec::new(),
        };
        let created = event(
            ctx.ids,
            &grant,
            ("created", "api", &reason),
            None,
            d.expires_at,
            ctx.now,
        );
        grant.events.push(created);
        ctx.tx.insert_plan_grant(&grant, &target_features).await?;
        record(
            ctx.tx,
            ctx.ids,
            &customer,
            &grant,
            ("created", Some("plan_access_granted")),
            ctx.now,
        )
        .await?;
        Ok(grant)
    }
}

async fn lock_grant(
    ctx: &mut WriteCtx<'_>,
    customer: &Customer,
    id: &str,
) -> Result<PlanGrant, AppError> {
    let not_found = || AppError::NotFoundAt(NotFound::PlanGrant, "grantId".to_owned());
    let grant = ctx
        .tx
        .plan_grant(&customer.org_id, id, Lock::ForUpdate)
        .await?
        .filter(|g| g.customer_id == customer.id)
        .ok_or_else(not_found)?;
    if !grant.is_active_at(ctx.now) {
        return Err(DomainError::field("grantId", "only an active grant can be changed").into());
    }
    Ok(grant)
}

/// Changes a grant's duration and reason; cycles count from the grant's start.
pub struct UpdatePlanGrant {
    pub customer: String,
    pub grant: String,
    pub reason: String,
    pub duration: DurationInput,
}

#[async_trait]
impl Command for UpdatePlanGrant {
    type Output = PlanGrant;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGrant, AppError> {
        let reason = check_reason(&self.reason)?;
        let d = &self.duration;
        let duration = Duration::parse(&d.name, d.cycles, d.expires_at, ctx.now)?;
        let customer = lock_customer(ctx, &self.customer).await?;
        let mut grant = lock_grant(ctx, &customer, &self.grant).await?;
        let subscription =
            crate::subscriptions::lock_current_subscription(ctx, &grant.subscription_id).await?;
        let previous = grant.expires_at;
        grant.duration = duration.name().to_owned();
        grant.duration_cycles = duration.cycles();
        grant.expires_at = duration.expires_at(&subscription, grant.starts_at);
        if grant.expires_at.is_some_and(|e| e <= ctx.now) {
            return Err(
                DomainError::field("durationCycles", "the grant would end in the past").into(),
            );
        }
        grant.reason = reason.clone();
        grant.updated_at = ctx.now;
        let updated = event(
            ctx.ids,
            &grant,
            ("updated", "api", &reason),
            previous,
            d.expires_at,
            ctx.now,
        );
        grant.events.push(updated);
        record(
            ctx.tx,
            ctx.ids,
            &customer,
            &grant,
            ("updated", None),
            ctx.now,
        )
        .await?;
        Ok(grant)
    }
}

pub struct RevokePlanGrant {
    pub customer: String,
    pub grant: String,
    pub reason: String,
}

#[async_trait]
impl Command for RevokePlanGrant {
    type Output = PlanGrant;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanGrant, AppError> {
        let reason = check_reason(&self.reason)?;
        let customer = lock_customer(ctx, &self.customer).await?;
        let mut grant = lock_grant(ctx, &customer, &self.grant).await?;
        grant.status = Status::Revoked;
        grant.revoked_at = Some(ctx.now);
        grant.updated_at = ctx.now;
        let revoked = event(
            ctx.ids,
            &grant,
            ("revoked", "api", &reason),
            grant.expires_at,
            None,
            ctx.now,
        );
        grant.events.push(revoked);
        record(
            ctx.tx,
            ctx.ids,
            &customer,
            &grant,
            ("revoked", Some("plan_access_ended")),
            ctx.now,
        )
        .await?;
        Ok(grant)
    }
}

/// Ends the subscription's grant when it ends (cancellation), for the system.
pub(crate) async fn end_with_subscription(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    subscription: &Subscription,
    now: Timestamp,
) -> Result<(), AppError> {
    let org = &subscription.org_id;
    if let Some((grant, _)) = tx.active_plan_grant(org, subscription.id.as_str()).await? {
        let customer = tx
            .customer(org, &subscription.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        expire(tx, ids, &customer, grant, now).await?;
    }
    Ok(())
}

/// How many grants one sweep expires at most.
const EXPIRIES_PER_SWEEP: u32 = 100;

/// Records, in `tx`, the expiry of grants past `expiresAt` at `now`: of `org` (on its test
/// clock), or of every organization on real time. Returns how many expired.
pub(crate) async fn expire_due(
    tx: &mut dyn Tx,
    ids: &dyn IdSource,
    org: Option<&OrgId>,
    now: Timestamp,
) -> Result<usize, AppError> {
    let due = tx.due_plan_grants(org, now, EXPIRIES_PER_SWEEP).await?;
    let count = due.len();
    for grant in due {
        let customer = tx
            .customer(&grant.org_id, &grant.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        let at = grant.expires_at.unwrap_or(now);
        expire(tx, ids, &customer, grant, at).await?;
    }
    Ok(count)
}

impl App {
    /// The scheduler's sweep: grants of organizations on real time whose expiry has passed.
    pub async fn expire_due_plan_grants(&self) -> Result<usize, AppError> {
        let now = self.clock.now();
        let ids = std::sync::Arc::clone(&self.ids);
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { expire_due(tx, &*ids, None, now).await })
        })
        .await
    }

    /// A customer's grants, newest first, as of the organization's now.
    pub async fn plan_grants(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<(Vec<PlanGrant>, Timestamp), AppError> {
        let org = caller.org();
        let (mut db, now) = self.reader(caller).await?;
        let customer = crate::customers::find_customer(&mut *db, org, customer).await?;
        Ok((db.plan_grants(org, &customer.id).await?, now))
    }
}
