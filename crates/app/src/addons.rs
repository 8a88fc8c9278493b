//! Add-ons (`lifecycle.md` §5): the catalog of add-ons, and activating them on subscriptions.
//! An active add-on's feature is part of the subscription's feature snapshot, so access, usage
//! and the views treat it like the plan's own features; it is charged for the days left when
//! activated and in advance at each renewal.

use crate::catalog::FeatureRef;
use crate::invoicing::{CURRENCY, InvoiceRequest, issue_invoice};
use crate::outbox::Outbox;
use crate::subscriptions::{lock_current_subscription, subscription_customer};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use tally_domain::addons::{
    Activation, Addon, AddonEntry, AddonTerms, addon_line, addon_snapshot, prorated_charge,
    slug_of, unique_slug,
};
use tally_domain::billing::InvoiceLine;
use tally_domain::catalog::Feature;
use tally_domain::ids::AddonId;
use tally_domain::money::{Cents, RATE_PER_CENT, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::subscription::{FeatureSnapshot, Subscription, SubscriptionStatus};
use tally_domain::{Conflict, DomainError, OrgId, Timestamp};
use tally_store::{Db, Lock, StoreError, Tx, constraints};

#[derive(Debug, Clone)]
pub struct NewAddon {
    pub name: String,
    pub description: Option<String>,
    pub base_price: Cents,
    pub feature: FeatureRef,
    pub terms: AddonTerms,
}

pub struct CreateAddon(pub NewAddon);

#[async_trait]
impl Command for CreateAddon {
    type Output = AddonEntry;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<AddonEntry, AppError> {
        let org = ctx.caller.org();
        let new = &self.0;
        let feature = addon_feature(ctx.tx, org, &new.feature, &new.terms).await?;
        if ctx.tx.addon_of_feature(org, &feature.id).await?.is_some() {
            return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
        }
        let base = slug_of(&new.name);
        let taken = ctx.tx.addon_slugs(org, &base).await?;
        let addon = Addon {
            id: AddonId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            name: new.name.trim().to_owned(),
            slug: unique_slug(&base, &taken),
            description: new.description.clone(),
            base_price: new.base_price,
            feature_id: feature.id.clone(),
            terms: new.terms,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        match ctx.tx.insert_addon(&addon).await {
            Err(error) if error.is_conflict_on(constraints::ADDON_FEATURE) => {
                return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
            }
            other => other?,
        }
        Ok((addon, feature))
    }
}

/// The feature an add-on sells: boolean for a boolean add-on, a usage feature otherwise.
async fn addon_feature(
    tx: &mut dyn Tx,
    org: &OrgId,
    reference: &FeatureRef,
    terms: &AddonTerms,
) -> Result<Feature, AppError> {
    let not_found = || AppError::NotFoundAt(NotFound::Feature, "featureId".to_owned());
    let feature = match reference {
        FeatureRef::Code(code) => tx.feature_by_code(org, code, Lock::ForUpdate).await?,
        FeatureRef::Id(id) => tx.features(org).await?.into_iter().find(|f| &f.id == id),
    }
    .ok_or_else(not_found)?;
    let wanted = terms.feature_type();
    if feature.feature_type != wanted {
        return Err(DomainError::field(
            "featureId",
            format!(
                "a {} add-on sells a {} feature; this one is {}",
                terms.model.as_str(),
                wanted.as_str(),
                feature.feature_type.as_str()
            ),
        )
        .into());
    }
    Ok(feature)
}

/// Changes the sent fields; the terms are checked again as a whole. Running subscriptions get
/// the new terms and price at their next renewal.
pub struct UpdateAddon {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub base_price: Option<Cents>,
    pub included_units: Option<Option<i64>>,
    pub overage_rate: Option<Option<Rate>>,
}

#[async_trait]
impl Command for UpdateAddon {
    type Output = AddonEntry;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<AddonEntry, AppError> {
        let (mut addon, feature) = lock_addon(ctx.tx, ctx.caller.org(), &self.id, None).await?;
        let before = addon.clone();
        if let Some(name) = &self.name {
            addon.name = name.trim().to_owned();
        }
        if let Some(description) = &self.description {
            addon.description.clone_from(description);
        }
        if let Some(price) = self.base_price {
            addon.base_price = price;
        }
        if let Some(units) = self.included_units {
            addon.terms.included_units = units;
        }
        if let Some(rate) = self.overage_rate {
            addon.terms.overage_rate = rate;
        }
        addon.terms.check()?;
        if addon != before {
            addon.updated_at = ctx.now;
            ctx.tx.update_addon(&addon).await?;
        }
        Ok((addon, feature))
    }
}

/// Soft-deletes an add-on no subscription has active.
pub struct DeleteAddon(pub String);

#[async_trait]
impl Command for DeleteAddon {
    type Output = AddonId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<AddonId, AppError> {
        let org = ctx.caller.org();
        let (addon, _) = lock_addon(ctx.tx, org, &self.0, None).await?;
        if ctx.tx.addon_is_active_anywhere(org, &addon.id).await? {
            return Err(DomainError::from(Conflict::AddonHasActivations).into());
        }
        ctx.tx.delete_addon(org, &addon.id, ctx.now).await?;
        Ok(addon.id)
    }
}

/// An add-on by id or slug; `param` names the request field that named it.
async fn lock_addon(
    tx: &mut dyn Tx,
    org: &OrgId,
    id_or_slug: &str,
    param: Option<&str>,
) -> Result<AddonEntry, AppError> {
    tx.addon(org, id_or_slug, Lock::ForUpdate)
        .await?
        .ok_or_else(|| match param {
            Some(param) => AppError::NotFoundAt(NotFound::Addon, param.to_owned()),
            None => AppError::NotFound(NotFound::Addon),
        })
}

/// What an activation answers: the add-on and what it cost for the rest of the period.
#[derive(Debug, Clone)]
pub struct Activated {
    pub addon: Addon,
    pub prorated_charge: Cents,
}

/// `POST /subscriptions/{id}/addons`.
pub struct ActivateAddon {
    pub subscription: String,
    pub addon: String,
}

#[async_trait]
impl Command for ActivateAddon {
    type Output = Activated;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Activated, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_current_subscription(ctx, &self.subscription).await?;
        if !matches!(
            subscription.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ) {
            return Err(DomainError::NotActive.into());
        }
        crate::markets::usd_only(&subscription, "add-ons")?;
        let (addon, feature) = lock_addon(ctx.tx, &org, &self.addon, Some("addonId")).await?;
        let active = ctx.tx.active_addons(&org, &subscription.id).await?;
        if active.iter().any(|(_, (a, _))| a.id == addon.id) {
            return Err(DomainError::from(Conflict::AddonAlreadyActive).into());
        }
        let plan = ctx
            .tx
            .plan_any(&org, &subscription.plan_id)
            .await?
            .ok_or_else(|| AppError::Store(StoreError::other("subscription plan missing")))?;
        if let Some(model) = addon.terms.model.plan_model()
            && model != plan.consumption()
        {
            return Err(DomainError::field(
                "addonId",
                format!(
                    "a {} add-on fits {} plans; this plan is {}",
                    addon.terms.model.as_str(),
                    model.as_str(),
                    plan.consumption().as_str()
                ),
            )
            .into());
        }
        let mut snapshot = ctx.tx.subscription_features(&org, &subscription.id).await?;
        if snapshot
            .iter()
            .any(|f| f.feature_id == feature.id && f.enabled)
        {
            return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
        }
        let period = subscription.current_period.ok_or(DomainError::NotActive)?;
        let (charge, days, total) =
            prorated_charge(addon.base_price, &period, ctx.now).map_err(|e| e.at("addonId"))?;
        let customer = subscription_customer(ctx.tx, &subscription).await?;
        if charge.0 > 0 {
            let request = InvoiceRequest {
                customer: &customer,
                subscription: &subscription,
                plan_name: &plan.name,
                lines: vec![addon_line(&addon, charge, Some((days, total)))],
                period: tally_domain::period::BillingPeriod {
                    start: ctx.now,
                    end: period.end,
                },
                now: ctx.now,
                invoice_type: "addon_activation",
                status: ctx.billing.issue_status(&ctx.caller.organization),
                settles_true_ups: false,
            };
            let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
            crate::collection::settle_at_once(
                ctx,
                &customer,
                &subscription,
                &invoice,
                "addon_activation",
            )
            .await?;
        }
        let activation = Activation {
            subscription_id: subscription.id.clone(),
            addon_id: addon.id.clone(),
            activated_at: ctx.now,
            deactivated_at: None,
        };
        match ctx.tx.insert_activation(&org, &activation).await {
            Err(error) if error.is_conflict_on(constraints::ACTIVE_ADDON) => {
                return Err(DomainError::from(Conflict::AddonAlreadyActive).into());
            }
            other => other?,
        }
        snapshot.push(addon_snapshot(&addon, &feature));
        ctx.tx
            .replace_subscription_features(&org, &subscription.id, &snapshot)
            .await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let mut data = addon_event(outbox.customer_ref(), &subscription, &addon, &feature);
        data["proratedPrice"] = json!(charge.0.saturating_mul(RATE_PER_CENT));
        data["currency"] = json!(CURRENCY);
        outbox.push("addon.activated", data);
        outbox.state_changed("addon_activated");
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(Activated {
            addon,
            prorated_charge: charge,
        })
    }
}

/// `DELETE /subscriptions/{id}/addons/{addonId}`: the feature stops at once; nothing is
/// refunded and nothing more is billed.
pub struct DeactivateAddon {
    pub subscription: String,
    pub addon: String,
}

#[async_trait]
impl Command for DeactivateAddon {
    type Output = (AddonId, Timestamp);

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(AddonId, Timestamp), AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_current_subscription(ctx, &self.subscription).await?;
        let active = ctx.tx.active_addons(&org, &subscription.id).await?;
        let Some((_, (addon, feature))) = active
            .into_iter()
            .find(|(_, (a, _))| a.id.as_str() == self.addon || a.slug == self.addon)
        else {
            // An unknown add-on is not found; a known one that is not active is refused.
            lock_addon(ctx.tx, &org, &self.addon, Some("addonId")).await?;
            return Err(DomainError::AddonNotActive.into());
        };
        end_activation(ctx.tx, &subscription, &addon, &feature, ctx.now).await?;
        let customer = subscription_customer(ctx.tx, &subscription).await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let data = addon_event(outbox.customer_ref(), &subscription, &addon, &feature);
        outbox.push("addon.deactivated", data);
        outbox.state_changed("addon_deactivated");
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok((addon.id, ctx.now))
    }
}

/// Ends an activation and takes its feature out of the subscription's snapshot.
pub(crate) async fn end_activation(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    addon: &Addon,
    feature: &Feature,
    at: Timestamp,
) -> Result<(), AppError> {
    let org = &subscription.org_id;
    tx.end_activation(org, &subscription.id, &addon.id, at)
        .await?;
    let mut snapshot = tx.subscription_features(org, &subscription.id).await?;
    snapshot.retain(|f| f.feature_id != feature.id);
    tx.replace_subscription_features(org, &subscription.id, &snapshot)
        .await?;
    Ok(())
}

/// Ends every activation of a subscription whose cancellation took effect, without events
/// (`lifecycle.md` §5).
pub(crate) async fn end_all_activations(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    at: Timestamp,
) -> Result<(), AppError> {
    for (_, (addon, _)) in tx
        .active_addons(&subscription.org_id, &subscription.id)
        .await?
    {
        tx.end_activation(&subscription.org_id, &subscription.id, &addon.id, at)
            .await?;
    }
    Ok(())
}

/// A plan's snapshot with the features of the subscription's active add-ons after it, at the
/// add-ons' current terms.
pub(crate) async fn with_addon_features(
    db: &mut dyn Db,
    subscription: &Subscription,
    mut snapshot: Vec<FeatureSnapshot>,
) -> Result<Vec<FeatureSnapshot>, AppError> {
    for (_, (addon, feature)) in db
        .active_addons(&subscription.org_id, &subscription.id)
        .await?
    {
        if !snapshot.iter().any(|f| f.feature_id == feature.id) {
            snapshot.push(addon_snapshot(&addon, &feature));
        }
    }
    Ok(snapshot)
}

/// The `addon_base` lines of a renewal: each active add-on for the new period, at its current
/// price.
pub(crate) async fn renewal_addon_lines(
    db: &mut dyn Db,
    subscription: &Subscription,
) -> Result<Vec<InvoiceLine>, AppError> {
    Ok(db
        .active_addons(&subscription.org_id, &subscription.id)
        .await?
        .into_iter()
        .filter(|(_, (addon, _))| addon.base_price.0 > 0)
        .map(|(_, (addon, _))| addon_line(&addon, addon.base_price, None))
        .collect())
}

fn addon_event(
    customer_ref: &str,
    subscription: &Subscription,
    addon: &Addon,
    feature: &Feature,
) -> serde_json::Value {
    json!({
        "subscriptionId": subscription.id.as_str(),
        "customerId": customer_ref,
        "addon": {"id": addon.id.as_str(), "name": addon.name},
        "featureCode": feature.code,
    })
}

/// An active add-on as `listActive` shows it.
#[derive(Debug, Clone)]
pub struct ActiveAddon {
    pub addon: Addon,
    pub feature: Feature,
    pub activated_at: Timestamp,
}

impl App {
    /// A page of add-ons, newest first.
    pub async fn addons(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<AddonEntry>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.addons_page(caller.org(), page).await?)
    }

    pub async fn addon(&self, caller: &Caller, id_or_slug: &str) -> Result<AddonEntry, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        db.addon(caller.org(), id_or_slug, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Addon))
    }

    /// The add-ons active on the customer's live subscription, oldest first; none without one.
    pub async fn active_addons(
        &self,
        caller: &Caller,
        customer: &str,
    ) -> Result<Vec<ActiveAddon>, AppError> {
        let org = caller.org();
        let (mut db, _) = self.reader(caller).await?;
        let customer = crate::customers::find_customer_for_param(&mut *db, org, customer).await?;
        let Some(subscription) = db.live_subscription(org, &customer.id, Lock::None).await? else {
            return Ok(Vec::new());
        };
        Ok(db
            .active_addons(org, &subscription.id)
            .await?
            .into_iter()
            .map(|(activation, (addon, feature))| ActiveAddon {
                addon,
                feature,
                activated_at: activation.activated_at,
            })
            .collect())
    }
}
