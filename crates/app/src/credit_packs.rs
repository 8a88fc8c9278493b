//! Credit packs (`commerce.md` §3): the catalog of packs, and buying one for a credits-plan
//! subscription, which is invoiced at once and grants credits that never expire.

use crate::invoicing::{InvoiceRequest, issue_invoice};
use crate::outbox::Outbox;
use crate::subscriptions::{lock_subscription, save, subscription_customer};
use crate::{App, AppError, Caller, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use tally_domain::billing::InvoiceStatus;
use tally_domain::catalog::ConsumptionModel;
use tally_domain::credit_packs::{CreditPack, purchase_line};
use tally_domain::ids::CreditPackId;
use tally_domain::money::Cents;
use tally_domain::period::BillingPeriod;
use tally_domain::subscription::SubscriptionStatus;
use tally_domain::{DomainError, OrgId};
use tally_store::{Lock, StoreError, Tx, constraints};

#[derive(Debug, Clone)]
pub struct NewCreditPack {
    pub name: String,
    pub description: Option<String>,
    pub credits: i64,
    pub price: Cents,
    pub is_active: bool,
}

fn name_taken(error: StoreError) -> AppError {
    if error.is_conflict_on(constraints::CREDIT_PACK_NAME) {
        AppError::Duplicate { field: "name" }
    } else {
        error.into()
    }
}

pub struct CreateCreditPack(pub NewCreditPack);

#[async_trait]
impl Command for CreateCreditPack {
    type Output = CreditPack;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CreditPack, AppError> {
        let new = &self.0;
        let pack = CreditPack {
            id: CreditPackId::from_ulid(ctx.ids.ulid()),
            org_id: ctx.caller.org().clone(),
            name: new.name.trim().to_owned(),
            description: new.description.clone(),
            credits: new.credits,
            price: new.price,
            is_active: new.is_active,
            created_at: ctx.now,
            updated_at: ctx.now,
        };
        ctx.tx.insert_credit_pack(&pack).await.map_err(name_taken)?;
        Ok(pack)
    }
}

/// Changes the sent fields; past purchases keep what they bought.
pub struct UpdateCreditPack {
    pub id: String,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub credits: Option<i64>,
    pub price: Option<Cents>,
    pub is_active: Option<bool>,
}

#[async_trait]
impl Command for UpdateCreditPack {
    type Output = CreditPack;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CreditPack, AppError> {
        let mut pack = lock_pack(ctx.tx, ctx.caller.org(), &self.id, None).await?;
        let before = pack.clone();
        if let Some(name) = &self.name {
            pack.name = name.trim().to_owned();
        }
        if let Some(description) = &self.description {
            pack.description.clone_from(description);
        }
        if let Some(credits) = self.credits {
            pack.credits = credits;
        }
        if let Some(price) = self.price {
            pack.price = price;
        }
        if let Some(active) = self.is_active {
            pack.is_active = active;
        }
        if pack != before {
            pack.updated_at = ctx.now;
            ctx.tx.update_credit_pack(&pack).await.map_err(name_taken)?;
        }
        Ok(pack)
    }
}

pub struct DeleteCreditPack(pub String);

#[async_trait]
impl Command for DeleteCreditPack {
    type Output = CreditPackId;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<CreditPackId, AppError> {
        let org = ctx.caller.org();
        let pack = lock_pack(ctx.tx, org, &self.0, None).await?;
        ctx.tx.delete_credit_pack(org, &pack.id, ctx.now).await?;
        Ok(pack.id)
    }
}

async fn lock_pack(
    tx: &mut dyn Tx,
    org: &OrgId,
    id: &str,
    param: Option<&str>,
) -> Result<CreditPack, AppError> {
    let not_found = || match param {
        Some(param) => AppError::NotFoundAt(NotFound::CreditPack, param.to_owned()),
        None => AppError::NotFound(NotFound::CreditPack),
    };
    let id = CreditPackId::parse(id).ok_or_else(not_found)?;
    tx.credit_pack(org, &id, Lock::ForUpdate)
        .await?
        .ok_or_else(not_found)
}

/// `POST /subscriptions/{id}/credits`: buys a pack. The `credit_purchase` invoice is paid when
/// issued; the credits join the purchased pool, which never expires (`commerce.md` §3).
pub struct PurchaseCredits {
    pub subscription: String,
    pub pack: String,
}

#[async_trait]
impl Command for PurchaseCredits {
    /// The credits granted.
    type Output = i64;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<i64, AppError> {
        let org = ctx.caller.org().clone();
        let subscription = lock_subscription(ctx.tx, &org, &self.subscription).await?;
        let pack = lock_pack(ctx.tx, &org, &self.pack, Some("creditPackId")).await?;
        if !pack.is_active {
            return Err(AppError::NotFoundAt(
                NotFound::CreditPack,
                "creditPackId".to_owned(),
            ));
        }
        if !matches!(
            subscription.status,
            SubscriptionStatus::Active | SubscriptionStatus::Trialing
        ) {
            return Err(DomainError::NotActive.into());
        }
        let plan = ctx
            .tx
            .plan_any(&org, &subscription.plan_id)
            .await?
            .ok_or_else(|| AppError::Store(StoreError::other("subscription plan missing")))?;
        let (Some(mut credits), ConsumptionModel::Credits) =
            (subscription.credits, plan.consumption())
        else {
            return Err(DomainError::field(
                "creditPackId",
                "credit packs are for subscriptions on a credits plan",
            )
            .into());
        };
        let grant = |value: i64| {
            value
                .checked_add(pack.credits)
                .filter(|v| *v <= tally_domain::money::MONEY_MAX)
                .ok_or_else(|| {
                    DomainError::field(
                        "creditPackId",
                        "the credits would exceed the largest amount Tally holds",
                    )
                })
        };
        credits.remaining = grant(credits.remaining)?;
        credits.purchased = grant(credits.purchased)?;
        let mut next = subscription.clone();
        next.credits = Some(credits);
        next.updated_at = ctx.now;
        save(ctx.tx, &next).await?;
        let customer = subscription_customer(ctx.tx, &next).await?;
        let request = InvoiceRequest {
            customer: &customer,
            subscription: &next,
            plan_name: &plan.name,
            lines: vec![purchase_line(&pack)],
            period: BillingPeriod {
                start: ctx.now,
                end: ctx.now,
            },
            now: ctx.now,
            invoice_type: "credit_purchase",
            // Paid when made, like a balance top-up: there is nothing to settle later, unless
            // invoices are collected, when it is charged now (`payments.md` §5).
            status: match ctx.billing.collects(&ctx.caller.organization) {
                true => InvoiceStatus::Outstanding,
                false => InvoiceStatus::Paid,
            },
            settles_true_ups: false,
        };
        let invoice = issue_invoice(ctx.tx, ctx.ids, request).await?;
        crate::collection::settle_at_once(ctx, &customer, &next, &invoice, "one_time_payment")
            .await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let data = json!({
            "subscriptionId": next.id.as_str(),
            "customerId": outbox.customer_ref(),
            "invoiceId": invoice.id,
            "invoiceNumber": invoice.number,
            "creditPackName": pack.name,
            "credits": pack.credits,
        });
        outbox.push("credits.purchased", data);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(pack.credits)
    }
}

impl App {
    /// The packs on sale (live and active), oldest first.
    pub async fn credit_packs(&self, caller: &Caller) -> Result<Vec<CreditPack>, AppError> {
        let (mut db, _) = self.reader(caller).await?;
        let packs = db.credit_packs(caller.org()).await?;
        Ok(packs.into_iter().filter(|p| p.is_active).collect())
    }
}
