//! Feature and plan operations (`catalog.md` §3–§4): features, plans, their prices and the
//! features attached to them. Catalog edits that favour customers reach running subscriptions
//! at once; the others wait for each subscription's renewal (`catalog.md` §4.2).

use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::catalog::{
    ConsumptionModel, Feature, FeatureId, FeatureType, Overage, Plan, PlanFeature, PlanId,
    PlanPrice, PriceId, is_beneficial_change,
};
use tally_domain::customer::Metadata;
use tally_domain::money::{Cents, Rate};
use tally_domain::page::{Page, PageRequest};
use tally_domain::period::BillingInterval;
use tally_domain::subscription::FeatureSnapshot;
use tally_domain::{Conflict, DomainError, OrgId};
use tally_store::{Db, Lock, PlanFeatureEntry, PlanVisibility, StoreError, Tx, constraints};

/// A plan with everything its views show.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDetail {
    pub plan: Plan,
    pub prices: Vec<PlanPrice>,
    pub features: Vec<PlanFeatureEntry>,
    /// Exchange rates, market and regional entries (`commerce.md` §7).
    pub regional: tally_domain::markets::PlanRegional,
    /// Introductory offers by price id (`commerce.md` §4.6).
    pub intro_offers: Vec<(String, tally_domain::offers::Offer)>,
}

/// How a caller names a plan: `pln_…` or its code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanRef {
    Id(PlanId),
    Code(String),
}

impl PlanRef {
    pub fn parse(text: &str) -> PlanRef {
        match PlanId::parse(text) {
            Some(id) => PlanRef::Id(id),
            None => PlanRef::Code(text.to_owned()),
        }
    }
}

/// How a caller names a feature: `ftr_…` or its code (`catalog.md` §4.2: code accepted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeatureRef {
    Id(FeatureId),
    Code(String),
}

impl FeatureRef {
    pub fn parse(text: &str) -> FeatureRef {
        match FeatureId::parse(text) {
            Some(id) => FeatureRef::Id(id),
            None => FeatureRef::Code(text.to_owned()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Features

#[derive(Debug, Clone)]
pub struct NewFeature {
    pub name: String,
    pub code: String,
    pub feature_type: FeatureType,
    pub description: Option<String>,
    pub unit_name: Option<String>,
}

pub struct CreateFeature(pub NewFeature);

#[async_trait]
impl Command for CreateFeature {
    type Output = Feature;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Feature, AppError> {
        let org = ctx.caller.org();
        let new = &self.0;
        if ctx
            .tx
            .feature_by_code(org, &new.code, Lock::ForUpdate)
            .await?
            .is_some()
        {
            return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
        }
        let feature = Feature {
            id: FeatureId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            code: new.code.clone(),
            name: new.name.trim().to_owned(),
            feature_type: new.feature_type,
            description: new.description.clone(),
            unit_name: new.unit_name.clone(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx
            .insert_feature(&feature)
            .await
            .map_err(feature_conflict)?;
        Ok(feature)
    }
}

/// A taken code or name is `feature_already_exists` (`catalog.md` §3).
fn feature_conflict(error: StoreError) -> AppError {
    if error.is_conflict_on(constraints::FEATURE_CODE)
        || error.is_conflict_on(constraints::FEATURE_NAME)
    {
        DomainError::from(Conflict::FeatureAlreadyExists).into()
    } else {
        error.into()
    }
}

/// Changes a feature's name, description or unit name; `None` leaves a field alone and
/// `Some(None)` clears it.
pub struct UpdateFeature {
    pub code: String,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub unit_name: Option<Option<String>>,
}

#[async_trait]
impl Command for UpdateFeature {
    type Output = Feature;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Feature, AppError> {
        let mut feature = ctx
            .tx
            .feature_by_code(ctx.caller.org(), &self.code, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Feature))?;
        let before = feature.clone();
        if let Some(name) = &self.name {
            feature.name = name.trim().to_owned();
        }
        if let Some(description) = &self.description {
            feature.description.clone_from(description);
        }
        if let Some(unit_name) = &self.unit_name {
            feature.unit_name.clone_from(unit_name);
        }
        if feature != before {
            feature.updated_at = ctx.now;
            ctx.tx
                .update_feature(&feature)
                .await
                .map_err(feature_conflict)?;
        }
        Ok(feature)
    }
}

/// Deletes a feature no live plan uses (`feature_in_use` otherwise).
pub struct DeleteFeature(pub String);

#[async_trait]
impl Command for DeleteFeature {
    type Output = FeatureId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<FeatureId, AppError> {
        let org = ctx.caller.org();
        let feature = ctx
            .tx
            .feature_by_code(org, &self.0, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Feature))?;
        if ctx.tx.feature_is_attached(org, &feature.id).await?
            || ctx.tx.addon_of_feature(org, &feature.id).await?.is_some()
        {
            return Err(DomainError::from(Conflict::FeatureInUse).into());
        }
        ctx.tx.delete_feature(org, &feature.id).await?;
        Ok(feature.id)
    }
}

// ---------------------------------------------------------------------------------------------
// Plans

#[derive(Debug, Clone)]
pub struct NewPlan {
    pub name: String,
    pub code: String,
    pub description: Option<String>,
    pub consumption_model: Option<ConsumptionModel>,
    pub is_public: bool,
    pub is_free: bool,
    pub block_on_exhaustion: Option<bool>,
    pub metadata: Option<Metadata>,
    /// A plan group to join, after its last plan (`lifecycle.md` §3).
    pub group: Option<String>,
}

pub struct CreatePlan(pub NewPlan);

#[async_trait]
impl Command for CreatePlan {
    type Output = PlanDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanDetail, AppError> {
        let org = ctx.caller.org();
        let new = &self.0;
        if ctx
            .tx
            .plan_by_code(org, &new.code, Lock::ForUpdate)
            .await?
            .is_some()
        {
            return Err(AppError::Duplicate { field: "code" });
        }
        let plan = Plan {
            id: PlanId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            code: new.code.clone(),
            name: new.name.trim().to_owned(),
            description: new.description.clone(),
            consumption_model: new.consumption_model,
            is_public: new.is_public,
            is_free: new.is_free,
            block_on_exhaustion: new.block_on_exhaustion,
            metadata: new.metadata.clone(),
            group: None,
            sort_order: 0,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        let group = match &new.group {
            Some(id) => Some(
                crate::plan_groups::lock_group(ctx.tx, org, id)
                    .await
                    .map_err(|error| match error {
                        AppError::NotFound(kind) => {
                            AppError::NotFoundAt(kind, "planGroupId".into())
                        }
                        other => other,
                    })?
                    .id,
            ),
            None => None,
        };
        match ctx.tx.insert_plan(&plan).await {
            Err(error) if error.is_conflict_on(constraints::PLAN_CODE) => {
                return Err(AppError::Duplicate { field: "code" });
            }
            other => other?,
        }
        let plan = match group {
            Some(group) => crate::plan_groups::join_group(ctx, plan, &group, None).await?,
            None => plan,
        };
        Ok(PlanDetail {
            plan,
            prices: Vec::new(),
            features: Vec::new(),
            regional: Default::default(),
            intro_offers: Vec::new(),
        })
    }
}

/// The plan fields an update may change; `None` leaves a field alone.
#[derive(Debug, Clone, Default)]
pub struct PlanPatch {
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub metadata: Option<Option<Metadata>>,
    pub is_public: Option<bool>,
}

pub struct UpdatePlan {
    pub plan: PlanRef,
    pub patch: PlanPatch,
}

#[async_trait]
impl Command for UpdatePlan {
    type Output = PlanDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanDetail, AppError> {
        let mut plan = lock_plan(ctx.tx, ctx.caller.org(), &self.plan).await?;
        let before = plan.clone();
        let patch = &self.patch;
        if let Some(name) = &patch.name {
            plan.name = name.trim().to_owned();
        }
        if let Some(description) = &patch.description {
            plan.description.clone_from(description);
        }
        if let Some(metadata) = &patch.metadata {
            plan.metadata.clone_from(metadata);
        }
        if let Some(is_public) = patch.is_public {
            plan.is_public = is_public;
        }
        if plan != before {
            plan.updated_at = ctx.now;
            ctx.tx.update_plan(&plan).await?;
        }
        plan_detail_in(ctx.tx, plan).await
    }
}

/// Soft-deletes a plan: running subscriptions keep it, new ones cannot choose it.
pub struct DeletePlan(pub PlanRef);

#[async_trait]
impl Command for DeletePlan {
    type Output = PlanId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanId, AppError> {
        let org = ctx.caller.org();
        let plan = lock_plan(ctx.tx, org, &self.0).await?;
        ctx.tx.delete_plan(org, &plan.id, ctx.now).await?;
        Ok(plan.id)
    }
}

pub(crate) async fn lock_plan(
    tx: &mut dyn Tx,
    org: &OrgId,
    plan: &PlanRef,
) -> Result<Plan, AppError> {
    match plan {
        PlanRef::Id(id) => tx.plan(org, id, Lock::ForUpdate).await?,
        PlanRef::Code(code) => tx.plan_by_code(org, code, Lock::ForUpdate).await?,
    }
    .ok_or(AppError::NotFound(NotFound::Plan))
}

/// Moves the items that match out of `items`, in their order.
fn take_where<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Vec<T> {
    let (taken, kept) = std::mem::take(items)
        .into_iter()
        .partition(|item| matches(item));
    *items = kept;
    taken
}

async fn plan_detail_in(db: &mut dyn Db, plan: Plan) -> Result<PlanDetail, AppError> {
    let prices = db.plan_prices(&plan.org_id, &plan.id).await?;
    let features = db.plan_features(&plan.org_id, &plan.id).await?;
    let regional =
        crate::markets::regional_of_plans(db, &plan.org_id, std::slice::from_ref(&plan.id))
            .await?
            .into_iter()
            .next()
            .map(|(_, r)| r)
            .unwrap_or_default();
    let price_ids: Vec<String> = prices.iter().map(|p| p.id.as_str().to_owned()).collect();
    let intro_offers = db.price_intro_offers(&plan.org_id, &price_ids).await?;
    Ok(PlanDetail {
        plan,
        prices,
        features,
        regional,
        intro_offers,
    })
}

// ---------------------------------------------------------------------------------------------
// Prices

#[derive(Debug, Clone)]
pub struct NewPrice {
    pub billing_interval: BillingInterval,
    pub price: Cents,
    pub trial_days: i64,
    pub is_default: Option<bool>,
    pub included_balance: Option<Rate>,
    pub included_credits: Option<i64>,
    pub metadata: Metadata,
    /// The price's amount per market (`commerce.md` §7), as sent.
    pub market_prices: Vec<crate::markets::MarketPriceInput>,
    /// Legacy `introOffer` terms to attach (`commerce.md` §4.6).
    pub intro: Option<tally_domain::offers::Phase>,
}

/// A price with its market entries and introductory offer, as the price views show it.
pub type PricedPrice = (
    PlanPrice,
    Vec<tally_domain::markets::MarketPrice>,
    Option<tally_domain::offers::Offer>,
);

async fn with_market_prices(
    tx: &mut dyn Tx,
    org: &OrgId,
    price: PlanPrice,
) -> Result<PricedPrice, AppError> {
    let entries = crate::markets::regional_of_plans(tx, org, std::slice::from_ref(&price.plan_id))
        .await?
        .into_iter()
        .next()
        .map(|(_, r)| r.market_prices_of(price.id.as_str()))
        .unwrap_or_default();
    let intro = tx
        .price_intro_offers(org, &[price.id.as_str().to_owned()])
        .await?
        .into_iter()
        .next()
        .map(|(_, offer)| offer);
    Ok((price, entries, intro))
}

pub struct AddPrice {
    pub plan: PlanRef,
    pub price: NewPrice,
}

#[async_trait]
impl Command for AddPrice {
    type Output = PricedPrice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PricedPrice, AppError> {
        let org = ctx.caller.org();
        let plan = lock_plan(ctx.tx, org, &self.plan).await?;
        if plan.is_free {
            return Err(DomainError::field("price", "free plans have no prices").into());
        }
        let existing = ctx.tx.plan_prices(org, &plan.id).await?;
        let new = &self.price;
        if existing
            .iter()
            .any(|p| p.billing_interval == new.billing_interval)
        {
            return Err(AppError::Duplicate {
                field: "billingInterval",
            });
        }
        // Decision (`catalog.md` §4.2): the first price becomes the default.
        let is_default = existing.is_empty() || new.is_default == Some(true);
        if is_default {
            clear_default(ctx, &existing).await?;
        }
        let price = PlanPrice {
            id: PriceId::from_ulid(ctx.ids.ulid()),
            plan_id: plan.id.clone(),
            billing_interval: new.billing_interval,
            price: new.price,
            is_default,
            trial_days: new.trial_days,
            included_balance: new.included_balance,
            included_credits: new.included_credits,
            metadata: new.metadata.clone(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        match ctx.tx.insert_price(org, &price).await {
            Err(error) if error.is_conflict_on(constraints::PRICE_INTERVAL) => {
                return Err(AppError::Duplicate {
                    field: "billingInterval",
                });
            }
            other => other?,
        }
        let org = org.clone();
        let entries = crate::markets::market_prices(ctx.tx, &org, &new.market_prices).await?;
        ctx.tx
            .replace_market_prices(&org, price.id.as_str(), &entries)
            .await?;
        if let Some(phase) = &new.intro {
            crate::offers::set_intro_offer(ctx.tx, ctx.ids, &plan, &price, Some(phase), ctx.now)
                .await?;
        }
        with_market_prices(ctx.tx, &org, price).await
    }
}

async fn clear_default(ctx: &mut WriteCtx<'_>, prices: &[PlanPrice]) -> Result<(), AppError> {
    for price in prices.iter().filter(|p| p.is_default) {
        let mut cleared = price.clone();
        cleared.is_default = false;
        cleared.updated_at = ctx.now;
        ctx.tx.update_price(ctx.caller.org(), &cleared).await?;
    }
    Ok(())
}

async fn lock_price(
    ctx: &mut WriteCtx<'_>,
    plan: &PlanRef,
    price: &str,
) -> Result<(Plan, Vec<PlanPrice>, PlanPrice), AppError> {
    let org = ctx.caller.org();
    let plan = lock_plan(ctx.tx, org, plan).await?;
    let prices = ctx.tx.plan_prices(org, &plan.id).await?;
    let found = prices
        .iter()
        .find(|p| p.id.as_str() == price)
        .cloned()
        .ok_or(AppError::NotFound(NotFound::Price))?;
    Ok((plan, prices, found))
}

/// Price fields an update may change.
#[derive(Debug, Clone, Default)]
pub struct PricePatch {
    pub price: Option<Cents>,
    pub is_default: Option<bool>,
    pub trial_days: Option<i64>,
    pub included_balance: Option<Option<Rate>>,
    pub included_credits: Option<Option<i64>>,
    /// Merged into the existing metadata (`catalog.md` §4.2).
    pub metadata: Option<Metadata>,
    /// Replaces the market entries when sent (`commerce.md` §7).
    pub market_prices: Option<Vec<crate::markets::MarketPriceInput>>,
    /// Legacy `introOffer`: `Some(None)` detaches it, `Some(Some(terms))` sets it.
    pub intro: Option<Option<tally_domain::offers::Phase>>,
}

pub struct UpdatePrice {
    pub plan: PlanRef,
    pub price: String,
    pub patch: PricePatch,
}

#[async_trait]
impl Command for UpdatePrice {
    type Output = PricedPrice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PricedPrice, AppError> {
        let (plan, prices, mut price) = lock_price(ctx, &self.plan, &self.price).await?;
        let patch = &self.patch;
        if let Some(amount) = patch.price {
            price.price = amount;
        }
        if let Some(days) = patch.trial_days {
            price.trial_days = days;
        }
        if let Some(balance) = patch.included_balance {
            price.included_balance = balance;
        }
        if let Some(credits) = patch.included_credits {
            price.included_credits = credits;
        }
        if let Some(metadata) = &patch.metadata {
            price.metadata.extend(metadata.clone());
        }
        if patch.is_default == Some(true) && !price.is_default {
            clear_default(ctx, &prices).await?;
            price.is_default = true;
        }
        price.updated_at = ctx.now;
        let org = ctx.caller.org().clone();
        ctx.tx.update_price(&org, &price).await?;
        if let Some(input) = &patch.market_prices {
            let entries = crate::markets::market_prices(ctx.tx, &org, input).await?;
            crate::markets::replace_market_prices(ctx.tx, &org, &price.id, &entries).await?;
        }
        if let Some(intro) = &patch.intro {
            crate::offers::set_intro_offer(ctx.tx, ctx.ids, &plan, &price, intro.as_ref(), ctx.now)
                .await?;
        }
        with_market_prices(ctx.tx, &org, price).await
    }
}

/// Makes one price the plan's default, unsetting the previous one.
pub struct SetDefaultPrice {
    pub plan: PlanRef,
    pub price: String,
}

#[async_trait]
impl Command for SetDefaultPrice {
    type Output = PricedPrice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PricedPrice, AppError> {
        let (_, prices, mut price) = lock_price(ctx, &self.plan, &self.price).await?;
        if !price.is_default {
            clear_default(ctx, &prices).await?;
            price.is_default = true;
            price.updated_at = ctx.now;
            ctx.tx.update_price(ctx.caller.org(), &price).await?;
        }
        let org = ctx.caller.org().clone();
        with_market_prices(ctx.tx, &org, price).await
    }
}

/// Archives a price: new subscriptions cannot pick it, running ones keep it (`catalog.md` §4.2).
/// Decision: when it was the default, the oldest remaining price becomes the default.
pub struct DeletePrice {
    pub plan: PlanRef,
    pub price: String,
}

#[async_trait]
impl Command for DeletePrice {
    type Output = PriceId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PriceId, AppError> {
        let (_, prices, price) = lock_price(ctx, &self.plan, &self.price).await?;
        ctx.tx
            .archive_price(ctx.caller.org(), &price.id, ctx.now)
            .await?;
        if price.is_default
            && let Some(next) = prices.iter().find(|p| p.id != price.id)
        {
            let mut promoted = next.clone();
            promoted.is_default = true;
            promoted.updated_at = ctx.now;
            ctx.tx.update_price(ctx.caller.org(), &promoted).await?;
        }
        Ok(price.id)
    }
}

// ---------------------------------------------------------------------------------------------
// Plan features

/// The attachment settings of a feature on a plan, before defaults.
#[derive(Debug, Clone, Default)]
pub struct PlanFeatureFields {
    pub enabled: Option<bool>,
    pub included_amount: Option<i64>,
    pub unlimited: Option<bool>,
    pub overage_enabled: Option<bool>,
    pub overage_unit_price: Option<Option<Rate>>,
    pub credits_per_unit: Option<Option<i64>>,
    pub pricing_mode: Option<String>,
    pub margin: Option<Option<i64>>,
}

impl PlanFeatureFields {
    fn apply(&self, base: &PlanFeature) -> PlanFeature {
        let mut next = base.clone();
        if let Some(enabled) = self.enabled {
            next.enabled = enabled;
        }
        if let Some(amount) = self.included_amount {
            next.included_amount = amount;
        }
        if let Some(unlimited) = self.unlimited {
            next.unlimited = unlimited;
        }
        if let Some(enabled) = self.overage_enabled {
            next.overage.enabled = enabled;
        }
        if let Some(price) = self.overage_unit_price {
            next.overage.unit_price = price;
        }
        if let Some(credits) = self.credits_per_unit {
            next.credits_per_unit = credits;
        }
        if let Some(mode) = &self.pricing_mode {
            next.pricing_mode.clone_from(mode);
        }
        if let Some(margin) = self.margin {
            next.margin = margin;
        }
        next
    }
}

/// Overage rules (`catalog.md` §4.2): enabled overage needs a unit price; free plans carry none.
fn check_overage(plan: &Plan, feature: &Feature, pf: &PlanFeature) -> Result<(), AppError> {
    if feature.feature_type == FeatureType::Boolean {
        return Ok(());
    }
    if pf.overage.enabled && plan.is_free {
        return Err(DomainError::field("overage", "free plans cannot charge overage").into());
    }
    if pf.overage.enabled && pf.overage.unit_price.is_none() {
        return Err(DomainError::field(
            "overage.unitPrice",
            "overage.unitPrice (an integer >= 0) is required when overage is enabled",
        )
        .into());
    }
    Ok(())
}

/// Boolean features ignore amounts and overage (`catalog.md` §4.2, decided).
fn normalized(feature: &Feature, mut pf: PlanFeature) -> PlanFeature {
    if feature.feature_type == FeatureType::Boolean {
        pf.included_amount = 0;
        pf.unlimited = false;
        pf.overage = Overage {
            enabled: false,
            unit_price: None,
        };
    }
    pf
}

async fn lock_feature(
    tx: &mut dyn Tx,
    org: &OrgId,
    feature: &FeatureRef,
) -> Result<Feature, AppError> {
    let found = match feature {
        FeatureRef::Code(code) => tx.feature_by_code(org, code, Lock::ForUpdate).await?,
        FeatureRef::Id(id) => tx.features(org).await?.into_iter().find(|f| &f.id == id),
    };
    found.ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, "featureId".to_owned()))
}

pub struct AddPlanFeature {
    pub plan: PlanRef,
    pub feature: FeatureRef,
    pub fields: PlanFeatureFields,
}

#[async_trait]
impl Command for AddPlanFeature {
    type Output = PlanFeature;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanFeature, AppError> {
        let org = ctx.caller.org();
        let plan = lock_plan(ctx.tx, org, &self.plan).await?;
        let feature = lock_feature(ctx.tx, org, &self.feature).await?;
        let attached = ctx.tx.plan_features(org, &plan.id).await?;
        if attached.iter().any(|(pf, _)| pf.feature_id == feature.id) {
            return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
        }
        let base = PlanFeature {
            plan_id: plan.id.clone(),
            feature_id: feature.id.clone(),
            enabled: true,
            included_amount: 0,
            unlimited: false,
            overage: Overage {
                enabled: false,
                unit_price: None,
            },
            credits_per_unit: None,
            pricing_mode: "fixed".to_owned(),
            margin: None,
            created_at: ctx.now,
        };
        let pf = normalized(&feature, self.fields.apply(&base));
        check_overage(&plan, &feature, &pf)?;
        match ctx.tx.insert_plan_feature(org, &pf).await {
            Err(error) if error.is_conflict_on(constraints::PLAN_FEATURE) => {
                return Err(DomainError::from(Conflict::FeatureAlreadyExists).into());
            }
            other => other?,
        }
        // Adding a feature favours customers: running subscriptions get it now.
        if pf.enabled {
            update_running_snapshots(ctx, &plan.id, &feature, Some(&pf)).await?;
        }
        Ok(pf)
    }
}

pub struct UpdatePlanFeature {
    pub plan: PlanRef,
    pub feature: FeatureRef,
    pub fields: PlanFeatureFields,
}

#[async_trait]
impl Command for UpdatePlanFeature {
    type Output = PlanFeature;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<PlanFeature, AppError> {
        let org = ctx.caller.org();
        let plan = lock_plan(ctx.tx, org, &self.plan).await?;
        let feature = lock_feature(ctx.tx, org, &self.feature).await?;
        let attached = ctx.tx.plan_features(org, &plan.id).await?;
        let (before, _) = attached
            .into_iter()
            .find(|(pf, _)| pf.feature_id == feature.id)
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Feature, "featureId".to_owned()))?;
        let after = normalized(&feature, self.fields.apply(&before));
        check_overage(&plan, &feature, &after)?;
        ctx.tx.update_plan_feature(org, &after).await?;
        if is_beneficial_change(&before, &after) && after.enabled {
            update_running_snapshots(ctx, &plan.id, &feature, Some(&after)).await?;
        }
        Ok(after)
    }
}

/// Detaches a feature; running subscriptions keep it until their renewal.
pub struct RemovePlanFeature {
    pub plan: PlanRef,
    pub feature: FeatureRef,
}

#[async_trait]
impl Command for RemovePlanFeature {
    type Output = FeatureId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<FeatureId, AppError> {
        let org = ctx.caller.org();
        let plan = lock_plan(ctx.tx, org, &self.plan).await?;
        let feature = lock_feature(ctx.tx, org, &self.feature).await?;
        let attached = ctx.tx.plan_features(org, &plan.id).await?;
        if !attached.iter().any(|(pf, _)| pf.feature_id == feature.id) {
            return Err(AppError::NotFoundAt(
                NotFound::Feature,
                "featureId".to_owned(),
            ));
        }
        ctx.tx
            .delete_plan_feature(org, &plan.id, &feature.id)
            .await?;
        Ok(feature.id)
    }
}

/// The snapshot entry a plan feature gives a subscription.
pub fn snapshot_of(pf: &PlanFeature, feature: &Feature) -> FeatureSnapshot {
    FeatureSnapshot {
        feature_id: feature.id.clone(),
        code: feature.code.clone(),
        name: feature.name.clone(),
        feature_type: feature.feature_type,
        unit_name: feature.unit_name.clone(),
        enabled: pf.enabled,
        included_amount: pf.included_amount,
        unlimited: pf.unlimited,
        overage: pf.overage,
        credits_per_unit: pf.credits_per_unit,
        pricing_mode: pf.pricing_mode.clone(),
    }
}

/// A plan's features as a subscription would hold them now: what a new period (renewal, plan
/// change, resume, reactivation) starts with.
pub(crate) async fn plan_snapshot(
    db: &mut dyn Db,
    org: &OrgId,
    plan: &PlanId,
) -> Result<Vec<FeatureSnapshot>, AppError> {
    Ok(db
        .plan_features(org, plan)
        .await?
        .iter()
        .map(|(pf, feature)| snapshot_of(pf, feature))
        .collect())
}

/// Writes a beneficial plan-feature change into every live subscription of the plan.
async fn update_running_snapshots(
    ctx: &mut WriteCtx<'_>,
    plan: &PlanId,
    feature: &Feature,
    pf: Option<&PlanFeature>,
) -> Result<(), AppError> {
    let org = ctx.caller.org();
    for id in ctx.tx.live_subscriptions_of_plan(org, plan).await? {
        let Some(subscription) = ctx.tx.subscription(org, &id, Lock::None).await? else {
            continue;
        };
        let changed = pf.map(|pf| snapshot_of(pf, feature)).into_iter().collect();
        // The changed entry in the subscription's currency; the others are held as they are.
        let changed = crate::markets::relocalize(ctx.tx, &subscription, changed).await?;
        let mut snapshot = ctx.tx.subscription_features(org, &id).await?;
        snapshot.retain(|s| s.feature_id != feature.id);
        snapshot.extend(changed);
        ctx.tx
            .replace_subscription_features(org, &id, &snapshot)
            .await?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads

impl App {
    /// A page of the organization's features, oldest first.
    pub async fn features(
        &self,
        caller: &Caller,
        page: &PageRequest,
    ) -> Result<Page<Feature>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.features_page(caller.org(), page).await?)
    }

    pub async fn feature(&self, caller: &Caller, code: &str) -> Result<Feature, AppError> {
        self.reader(caller)
            .await?
            .0
            .feature_by_code(caller.org(), code, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Feature))
    }

    /// A page of plans, oldest first, with their prices and features: three reads whatever
    /// the page holds.
    pub async fn plans(
        &self,
        caller: &Caller,
        include_private: bool,
        page: &PageRequest,
    ) -> Result<Page<PlanDetail>, AppError> {
        let visibility = if include_private {
            PlanVisibility::IncludingPrivate
        } else {
            PlanVisibility::PublicOnly
        };
        let org = caller.org();
        let (mut db, _) = self.reader(caller).await?;
        let plans = db.plans_page(org, visibility, page).await?;
        let ids: Vec<PlanId> = plans.items.iter().map(|p| p.id.clone()).collect();
        let mut prices = db.prices_of_plans(org, &ids).await?;
        let mut features = db.features_of_plans(org, &ids).await?;
        let mut regional = crate::markets::regional_of_plans(&mut *db, org, &ids).await?;
        let price_ids: Vec<String> = prices.iter().map(|p| p.id.as_str().to_owned()).collect();
        let mut intro_offers = db.price_intro_offers(org, &price_ids).await?;
        let items = plans
            .items
            .into_iter()
            .map(|plan| {
                let prices = take_where(&mut prices, |p| p.plan_id == plan.id);
                let intro_offers = take_where(&mut intro_offers, |(price, _)| {
                    prices.iter().any(|p| p.id.as_str() == price)
                });
                (plan, prices, intro_offers)
            })
            .map(|(plan, prices, intro_offers)| PlanDetail {
                prices,
                intro_offers,
                features: take_where(&mut features, |(pf, _)| pf.plan_id == plan.id),
                regional: take_where(&mut regional, |(id, _)| *id == plan.id)
                    .pop()
                    .map(|(_, r)| r)
                    .unwrap_or_default(),
                plan,
            })
            .collect();
        Ok(Page {
            items,
            has_more: plans.has_more,
        })
    }

    /// A non-deleted plan by `pln_…` id or code, private ones included.
    pub async fn plan(&self, caller: &Caller, reference: &str) -> Result<PlanDetail, AppError> {
        let org = caller.org();
        let (mut db, _) = self.reader(caller).await?;
        let plan = match PlanRef::parse(reference) {
            PlanRef::Id(id) => db.plan(org, &id, Lock::None).await?,
            PlanRef::Code(code) => db.plan_by_code(org, &code, Lock::None).await?,
        }
        .ok_or(AppError::NotFound(NotFound::Plan))?;
        plan_detail_in(&mut *db, plan).await
    }
}
