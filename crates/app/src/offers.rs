//! Offers, promo codes and offers placed on subscriptions (`commerce.md` §4): the catalog of
//! offers and codes, the choice of terms when a subscription is created, apply and remove on a
//! live subscription, and the discount lines of a period's opening invoice.

use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use tally_domain::billing::InvoiceLine;
use tally_domain::catalog::{Plan, PlanPrice};
use tally_domain::money::Cents;
use tally_domain::offers::{
    NotApplicable, Offer, OfferApplication, OfferFields, Phase, PromoCode, Redemption, Source,
    check_code, legacy_phase, legacy_terms, place_phases,
};
use tally_domain::page::{Page, PageRequest};
use tally_domain::period::BillingInterval;
use tally_domain::subscription::{Subscription, SubscriptionStatus};
use tally_domain::{DomainError, OrgId, Timestamp};
use tally_store::{Lock, Tx};

async fn lock_offer(tx: &mut dyn Tx, org: &OrgId, id: &str) -> Result<Offer, AppError> {
    tx.offer(org, id, Lock::ForUpdate)
        .await?
        .filter(|o| !o.deleted)
        .ok_or(AppError::NotFound(NotFound::Offer))
}

pub struct CreateOffer(pub OfferFields);

#[async_trait]
impl Command for CreateOffer {
    type Output = Offer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Offer, AppError> {
        let fields = &self.0;
        fields.check()?;
        let offer = Offer {
            id: format!("ofr_{}", ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            name: fields.name.trim().to_owned(),
            phases: fields.phases.clone(),
            metadata: fields.metadata.clone().unwrap_or_default(),
            starts_at: fields.starts_at,
            ends_at: fields.ends_at,
            active: fields.active.unwrap_or(true),
            deleted: false,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_offer(&offer).await?;
        Ok(offer)
    }
}

/// Replaces an offer's name and phases (and the other sent fields); applications already
/// made keep the phases they were given.
pub struct UpdateOffer {
    pub id: String,
    pub fields: OfferFields,
}

#[async_trait]
impl Command for UpdateOffer {
    type Output = Offer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Offer, AppError> {
        self.fields.check()?;
        let org = ctx.caller.org().clone();
        let mut offer = lock_offer(ctx.tx, &org, &self.id).await?;
        let next = Offer {
            name: self.fields.name.trim().to_owned(),
            phases: self.fields.phases.clone(),
            ..offer.clone()
        };
        // Decision: a code keeps redeeming what it was made for; phases it could not redeem
        // are refused while a code points at the offer.
        if !next.suits_promo_code() && codes_of(ctx.tx, &org, &offer.id).await? {
            return Err(DomainError::field(
                "phases",
                "a promo code redeems this offer, so it needs a discount phase",
            )
            .into());
        }
        if !tally_domain::offers::suits_intro(&next.phases)
            && ctx.tx.offer_is_intro(&org, &offer.id).await?
        {
            return Err(DomainError::field(
                "phases",
                "a price offers this as its introductory offer: an optional trial and one finite percentage or amount off",
            )
            .into());
        }
        offer.name = next.name;
        offer.phases = next.phases;
        if let Some(metadata) = &self.fields.metadata {
            offer.metadata = metadata.clone();
        }
        if self.fields.starts_at.is_some() {
            offer.starts_at = self.fields.starts_at;
        }
        if self.fields.ends_at.is_some() {
            offer.ends_at = self.fields.ends_at;
        }
        if let Some(active) = self.fields.active {
            offer.active = active;
        }
        if let (Some(starts), Some(ends)) = (offer.starts_at, offer.ends_at)
            && ends <= starts
        {
            return Err(DomainError::field("endsAt", "endsAt must be after startsAt").into());
        }
        offer.updated_at = ctx.now;
        ctx.tx.update_offer(&offer).await?;
        Ok(offer)
    }
}

/// Whether any promo code of `org` redeems `offer` (a scan of the organization's codes: they
/// are few).
async fn codes_of(tx: &mut dyn Tx, org: &OrgId, offer: &str) -> Result<bool, AppError> {
    let mut page = PageRequest {
        limit: 100,
        after: None,
    };
    loop {
        let codes = tx.promo_codes(org, &page).await?;
        if codes.items.iter().any(|c| c.offer_id == offer) {
            return Ok(true);
        }
        match codes.items.last() {
            Some(last) if codes.has_more => {
                page.after = Some(tally_domain::page::PagePosition {
                    created_at: last.created_at,
                    id: last.id.clone(),
                });
            }
            _ => return Ok(false),
        }
    }
}

/// Deletes an offer: no longer listed, selectable or redeemable; applications stay.
pub struct DeleteOffer {
    pub id: String,
}

#[async_trait]
impl Command for DeleteOffer {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let mut offer = lock_offer(ctx.tx, ctx.caller.org(), &self.id).await?;
        offer.deleted = true;
        offer.updated_at = ctx.now;
        ctx.tx.update_offer(&offer).await?;
        Ok(())
    }
}

/// What a new code redeems: an existing offer (direct versions) or the terms a legacy body
/// describes, which become an offer of their own named after the code.
#[derive(Debug, Clone)]
pub enum CodeTerms {
    Offer(String),
    Legacy(Phase),
}

#[derive(Debug, Clone)]
pub struct NewPromoCode {
    pub code: String,
    pub terms: CodeTerms,
    pub billing_interval: Option<BillingInterval>,
    pub max_redemptions: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub plan_ids: Vec<String>,
}

pub struct CreatePromoCode(pub NewPromoCode);

/// The answer for a code: the code and the offer it redeems.
pub type CodeWithOffer = (PromoCode, Offer);

async fn check_code_fields(
    ctx: &mut WriteCtx<'_>,
    max_redemptions: Option<i64>,
    expires_at: Option<Timestamp>,
    plan_ids: &[String],
) -> Result<(), AppError> {
    if max_redemptions.is_some_and(|m| m < 1) {
        return Err(
            DomainError::field("maxRedemptions", "maxRedemptions must be at least 1").into(),
        );
    }
    if expires_at.is_some_and(|e| e <= ctx.now) {
        return Err(DomainError::field("expiresAt", "expiresAt must be in the future").into());
    }
    let org = ctx.caller.org().clone();
    for id in plan_ids {
        let found = match tally_domain::catalog::PlanId::parse(id) {
            Some(plan) => ctx.tx.plan(&org, &plan, Lock::None).await?.is_some(),
            None => false,
        };
        if !found {
            return Err(AppError::NotFoundAt(NotFound::Plan, "planIds".to_owned()));
        }
    }
    Ok(())
}

#[async_trait]
impl Command for CreatePromoCode {
    type Output = CodeWithOffer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CodeWithOffer, AppError> {
        let new = &self.0;
        check_code(&new.code)?;
        check_code_fields(ctx, new.max_redemptions, new.expires_at, &new.plan_ids).await?;
        let org = ctx.caller.org().clone();
        let offer = match &new.terms {
            CodeTerms::Offer(id) => {
                let offer = lock_offer(ctx.tx, &org, id)
                    .await
                    .map_err(|_| AppError::NotFoundAt(NotFound::Offer, "offerId".to_owned()))?;
                if !offer.suits_promo_code() {
                    return Err(AppError::NotFoundAt(NotFound::Offer, "offerId".to_owned()));
                }
                offer
            }
            CodeTerms::Legacy(phase) => {
                let offer = Offer {
                    id: format!("ofr_{}", ctx.ids.ulid()),
                    org_id: org.clone(),
                    name: new.code.clone(),
                    phases: vec![phase.clone()],
                    metadata: Default::default(),
                    starts_at: None,
                    ends_at: None,
                    active: true,
                    deleted: false,
                    created_at: ctx.now,
                    updated_at: ctx.now,
                };
                ctx.tx.insert_offer(&offer).await?;
                offer
            }
        };
        let code = PromoCode {
            id: format!("prc_{}", ctx.ids.ulid()),
            org_id: org,
            code: new.code.clone(),
            offer_id: offer.id.clone(),
            billing_interval: new.billing_interval,
            max_redemptions: new.max_redemptions,
            expires_at: new.expires_at,
            active: true,
            redemption_count: 0,
            plan_ids: new.plan_ids.clone(),
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        match ctx.tx.insert_promo_code(&code).await {
            Err(error) if error.is_conflict_on(tally_store::constraints::PROMO_CODE) => {
                return Err(AppError::Duplicate { field: "code" });
            }
            other => other?,
        }
        Ok((code, offer))
    }
}

/// Changes the sent fields of a code; the offer it redeems stays.
#[derive(Debug, Clone, Default)]
pub struct PromoCodePatch {
    pub billing_interval: Option<Option<BillingInterval>>,
    pub max_redemptions: Option<Option<i64>>,
    pub expires_at: Option<Option<Timestamp>>,
    pub active: Option<bool>,
    pub plan_ids: Option<Vec<String>>,
}

pub struct UpdatePromoCode {
    pub id: String,
    pub patch: PromoCodePatch,
}

#[async_trait]
impl Command for UpdatePromoCode {
    type Output = CodeWithOffer;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CodeWithOffer, AppError> {
        let org = ctx.caller.org().clone();
        let mut code = ctx
            .tx
            .promo_code(&org, &self.id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::PromoCode))?;
        let patch = &self.patch;
        check_code_fields(
            ctx,
            patch.max_redemptions.flatten(),
            patch.expires_at.flatten(),
            patch.plan_ids.as_deref().unwrap_or_default(),
        )
        .await?;
        if let Some(interval) = patch.billing_interval {
            code.billing_interval = interval;
        }
        if let Some(max) = patch.max_redemptions {
            code.max_redemptions = max;
        }
        if let Some(expires) = patch.expires_at {
            code.expires_at = expires;
        }
        if let Some(active) = patch.active {
            code.active = active;
        }
        if let Some(plans) = &patch.plan_ids {
            code.plan_ids.clone_from(plans);
        }
        code.updated_at = ctx.now;
        ctx.tx.update_promo_code(&code).await?;
        let offer = ctx
            .tx
            .offer(&org, &code.offer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::PromoCode))?;
        Ok((code, offer))
    }
}

/// The terms a subscription is created with (`commerce.md` §4.3).
#[derive(Debug, Clone)]
pub enum Terms {
    PromoCode(String),
    Offer(String),
    /// Legacy `introOffer`: terms of its own, replacing the price's introductory offer.
    Custom(Phase),
}

/// An offer chosen for a new subscription, checked against its plan and price.
pub(crate) struct Chosen {
    pub offer: Offer,
    pub code: Option<PromoCode>,
    pub source: Source,
}

fn not_applicable(why: NotApplicable, param: &str) -> AppError {
    AppError::OfferNotApplicable {
        reason: why,
        param: param.to_owned(),
    }
}

/// Checks `terms` for a subscription to `plan` at `price`, in that order of failures
/// (`commerce.md` §4.3). Locks the code, whose redemption count the creation moves on.
pub(crate) async fn choose(
    tx: &mut dyn Tx,
    org: &OrgId,
    terms: &Terms,
    (plan, price, currency): (&Plan, Option<&PlanPrice>, &str),
    now: Timestamp,
) -> Result<Chosen, AppError> {
    match terms {
        Terms::PromoCode(text) => {
            let param = "promoCode";
            let missing = || AppError::NotFoundAt(NotFound::PromoCode, param.to_owned());
            let code = tx
                .promo_code(org, text, Lock::ForUpdate)
                .await?
                .filter(|c| c.active)
                .ok_or_else(missing)?;
            let offer = tx
                .offer(org, &code.offer_id, Lock::None)
                .await?
                .filter(|o| !o.deleted)
                .ok_or_else(missing)?;
            match code.redemption(plan.id.as_str(), price.map(|p| p.billing_interval), now) {
                Redemption::Expired => return Err(AppError::PromoCodeExpired),
                Redemption::NotApplicable(why) => return Err(not_applicable(why, param)),
                Redemption::Usable => {}
            }
            if !offer.is_selectable(now, currency) {
                return Err(not_applicable(NotApplicable::OfferNotSelectable, param));
            }
            if price.is_none() {
                return Err(not_applicable(NotApplicable::FreePlan, param));
            }
            Ok(Chosen {
                offer,
                code: Some(code),
                source: Source::PromoCode,
            })
        }
        Terms::Custom(phase) => {
            if price.is_none() {
                return Err(not_applicable(NotApplicable::FreePlan, "introOffer"));
            }
            Ok(Chosen {
                offer: Offer {
                    id: String::new(),
                    org_id: org.clone(),
                    name: tally_domain::offers::CUSTOM_NAME.to_owned(),
                    phases: vec![phase.clone()],
                    metadata: Default::default(),
                    starts_at: None,
                    ends_at: None,
                    active: true,
                    deleted: false,
                    created_at: now,
                    updated_at: now,
                },
                code: None,
                source: Source::Custom,
            })
        }
        Terms::Offer(id) => {
            let param = "offerId";
            let offer = tx
                .offer(org, id, Lock::None)
                .await?
                .filter(|o| !o.deleted)
                .ok_or_else(|| AppError::NotFoundAt(NotFound::Offer, param.to_owned()))?;
            if !offer.is_selectable(now, currency) {
                return Err(not_applicable(NotApplicable::OfferNotSelectable, param));
            }
            if price.is_none() {
                return Err(not_applicable(NotApplicable::FreePlan, param));
            }
            Ok(Chosen {
                offer,
                code: None,
                source: Source::Direct,
            })
        }
    }
}

/// The price's introductory offer when it can apply now in `currency` (`commerce.md` §4.3).
pub(crate) async fn intro_offer(
    tx: &mut dyn Tx,
    org: &OrgId,
    price: &PlanPrice,
    currency: &str,
    now: Timestamp,
) -> Result<Option<Offer>, AppError> {
    Ok(tx
        .price_intro_offers(org, &[price.id.as_str().to_owned()])
        .await?
        .into_iter()
        .map(|(_, offer)| offer)
        .find(|offer| offer.is_selectable(now, currency)))
}

/// Legacy `introOffer` on a price (`commerce.md` §4.6): `Some(phase)` makes (or replaces the
/// terms of) the offer `<plan name> intro` and attaches it; `None` detaches it.
pub(crate) async fn set_intro_offer(
    tx: &mut dyn Tx,
    ids: &dyn crate::IdSource,
    plan: &Plan,
    price: &PlanPrice,
    phase: Option<&Phase>,
    now: Timestamp,
) -> Result<(), AppError> {
    let org = &plan.org_id;
    let price_id = price.id.as_str().to_owned();
    let Some(phase) = phase else {
        tx.set_price_intro_offer(org, &price_id, None).await?;
        return Ok(());
    };
    let existing = tx
        .price_intro_offers(org, std::slice::from_ref(&price_id))
        .await?
        .into_iter()
        .next();
    let offer = match existing {
        Some((_, mut offer)) => {
            offer.phases = vec![phase.clone()];
            offer.updated_at = now;
            tx.update_offer(&offer).await?;
            offer
        }
        None => {
            let offer = Offer {
                id: format!("ofr_{}", ids.ulid()),
                org_id: org.clone(),
                name: format!("{} intro", plan.name),
                phases: vec![phase.clone()],
                metadata: Default::default(),
                starts_at: None,
                ends_at: None,
                active: true,
                deleted: false,
                created_at: now,
                updated_at: now,
            };
            tx.insert_offer(&offer).await?;
            offer
        }
    };
    tx.set_price_intro_offer(org, &price_id, Some(&offer.id))
        .await?;
    Ok(())
}

/// Places `offer` on `subscription` from `anchor`, at `price`; the first discounted period's
/// figures come from the price's base.
pub(crate) fn application(
    id: String,
    subscription: &Subscription,
    (offer, code, source): (&Offer, Option<&PromoCode>, Source),
    (price, base, currency): (&PlanPrice, Cents, &str),
    anchor: Timestamp,
    now: Timestamp,
) -> OfferApplication {
    let interval = price.billing_interval;
    let phases = place_phases(&offer.phases, anchor, interval);
    let currency = currency.to_owned();
    let first_period = phases
        .iter()
        .find(|p| p.phase.is_discount())
        .and_then(|p| p.phase.discount(base, &currency))
        .map(|off| (base, off, Cents(base.0 - off.0)));
    OfferApplication {
        id,
        org_id: subscription.org_id.clone(),
        subscription_id: subscription.id.as_str().to_owned(),
        offer_id: (source != Source::Custom).then(|| offer.id.clone()),
        name: offer.name.clone(),
        promo_code: code.map(|c| c.code.clone()),
        source,
        currency,
        price_id: Some(price.id.as_str().to_owned()),
        phases,
        applied_at: now,
        expires_at: None,
        ended_at: None,
        first_period,
    }
}

/// The discount lines of a period's opening invoice: what the subscription's offers take off
/// `base` for the period starting at `period_start`.
pub(crate) async fn discount_lines(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    base: Cents,
    period_start: Timestamp,
) -> Result<Vec<InvoiceLine>, AppError> {
    let applications = tx
        .offer_applications(&subscription.org_id, subscription.id.as_str())
        .await?;
    Ok(applications
        .iter()
        .filter_map(|a| a.discount_line(base, period_start))
        .collect())
}

/// Ends, at `now`, the offers of a subscription that still have a discount ahead (a
/// cancellation, an immediate plan change).
pub(crate) async fn end_applications(
    tx: &mut dyn Tx,
    subscription: &Subscription,
    now: Timestamp,
) -> Result<(), AppError> {
    for mut application in tx
        .offer_applications(&subscription.org_id, subscription.id.as_str())
        .await?
    {
        if application.ended_at.is_none() && application.has_discount_ahead(now) {
            application.ended_at = Some(now);
            tx.end_offer_application(&application).await?;
        }
    }
    Ok(())
}

/// `PUT /subscriptions/{id}/offer`: a direct offer from the end of the current period.
pub struct ApplyOffer {
    pub subscription: String,
    pub offer: String,
    pub expires_at: Option<Timestamp>,
}

/// `DELETE /subscriptions/{id}/offer`: ends a direct offer that has not started.
pub struct RemoveOffer {
    pub subscription: String,
}

async fn lock_active(ctx: &mut WriteCtx<'_>, id: &str) -> Result<Subscription, AppError> {
    let subscription = crate::subscriptions::lock_current_subscription(ctx, id).await?;
    if subscription.status != SubscriptionStatus::Active {
        return Err(DomainError::NotActive.into());
    }
    Ok(subscription)
}

#[async_trait]
impl Command for ApplyOffer {
    type Output = crate::subscriptions::SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Self::Output, AppError> {
        let subscription = lock_active(ctx, &self.subscription).await?;
        let org = subscription.org_id.clone();
        let param = "offerId";
        let offer = ctx
            .tx
            .offer(&org, &self.offer, Lock::None)
            .await?
            .filter(|o| !o.deleted)
            .ok_or_else(|| AppError::NotFoundAt(NotFound::Offer, param.to_owned()))?;
        let price = match &subscription.price_id {
            Some(id) => ctx.tx.price(&org, id).await?,
            None => None,
        };
        let Some(price) = price else {
            return Err(not_applicable(NotApplicable::FreePlan, param));
        };
        if offer.trial_days().is_some() {
            return Err(not_applicable(NotApplicable::Conflicting, param));
        }
        let existing = ctx
            .tx
            .offer_applications(&org, subscription.id.as_str())
            .await?;
        if existing.iter().any(|a| a.has_discount_ahead(ctx.now)) {
            return Err(not_applicable(NotApplicable::Conflicting, param));
        }
        let (currency, base) = crate::markets::billed_base(ctx.tx, &subscription, &price).await?;
        if !offer.is_selectable(ctx.now, &currency) {
            return Err(not_applicable(NotApplicable::OfferNotSelectable, param));
        }
        let anchor = subscription
            .current_period
            .map_or(ctx.now, |period| period.end);
        let mut placed = application(
            format!("ofa_{}", ctx.ids.ulid()),
            &subscription,
            (&offer, None, Source::Direct),
            (&price, base, &currency),
            anchor,
            ctx.now,
        );
        placed.expires_at = self.expires_at;
        ctx.tx.insert_offer_application(&placed).await?;
        crate::subscriptions::detail_in(ctx.tx, subscription, ctx.now, &ctx.billing.signer).await
    }
}

#[async_trait]
impl Command for RemoveOffer {
    type Output = crate::subscriptions::SubscriptionDetail;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Self::Output, AppError> {
        let subscription =
            crate::subscriptions::lock_current_subscription(ctx, &self.subscription).await?;
        let org = subscription.org_id.clone();
        let waiting = ctx
            .tx
            .offer_applications(&org, subscription.id.as_str())
            .await?
            .into_iter()
            .find(|a| {
                a.source == Source::Direct
                    && a.ended_at.is_none()
                    && a.phases.first().is_some_and(|p| p.starts_at > ctx.now)
            });
        let Some(mut waiting) = waiting else {
            return Err(not_applicable(NotApplicable::NothingToRemove, "id"));
        };
        waiting.ended_at = Some(ctx.now);
        ctx.tx.end_offer_application(&waiting).await?;
        crate::subscriptions::detail_in(ctx.tx, subscription, ctx.now, &ctx.billing.signer).await
    }
}

impl App {
    pub async fn offers(
        &self,
        caller: &Caller,
        active: Option<bool>,
        page: &PageRequest,
    ) -> Result<Page<Offer>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        Ok(db.offers(caller.org(), active, page).await?)
    }

    pub async fn offer(&self, caller: &Caller, id: &str) -> Result<Offer, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        db.offer(caller.org(), id, Lock::None)
            .await?
            .filter(|o| !o.deleted)
            .ok_or(AppError::NotFound(NotFound::Offer))
    }

    /// Codes newest first, each with its offer; `legacy_only` leaves out the codes the legacy
    /// shape cannot show.
    pub async fn promo_codes(
        &self,
        caller: &Caller,
        page: &PageRequest,
        legacy_only: bool,
    ) -> Result<Page<CodeWithOffer>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let codes = db.promo_codes(caller.org(), page).await?;
        let mut items = Vec::with_capacity(codes.items.len());
        for code in codes.items {
            let Some(offer) = db.offer(caller.org(), &code.offer_id, Lock::None).await? else {
                continue;
            };
            if legacy_only && legacy_terms(&offer).is_none() {
                continue;
            }
            items.push((code, offer));
        }
        Ok(Page {
            items,
            has_more: codes.has_more,
        })
    }

    /// A code by id or by the code itself, with its offer; not found for the legacy shape
    /// when it cannot show the code's terms.
    pub async fn promo_code(
        &self,
        caller: &Caller,
        id: &str,
        legacy: bool,
    ) -> Result<CodeWithOffer, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let code = db
            .promo_code(caller.org(), id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::PromoCode))?;
        let offer = db
            .offer(caller.org(), &code.offer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::PromoCode))?;
        if legacy && legacy_terms(&offer).is_none() {
            return Err(AppError::NotFound(NotFound::PromoCode));
        }
        Ok((code, offer))
    }
}

/// The legacy creation's terms (`discountType`, `discountValue`, `durationCycles`).
pub fn legacy_code_terms(
    discount_type: &str,
    value: i64,
    cycles: Option<i64>,
) -> Result<CodeTerms, DomainError> {
    legacy_phase(discount_type, value, cycles).map(CodeTerms::Legacy)
}
