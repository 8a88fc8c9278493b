//! `subscriptions.updatePaymentMethod` (`payments.md` §6): a page where the customer of an
//! active, trialing or past-due subscription saves a new card, which becomes the default card
//! that pays all their subscriptions.

use crate::hosted_tokens::PageSigner;
use crate::payments::{PageRefusal, processor_for};
use crate::portal::SaveCard;
use crate::subscriptions::lock_subscription;
use crate::{App, AppError, Command, WriteCtx};
use async_trait::async_trait;
use tally_domain::payments::{CardInfo, Decline, check_card};
use tally_domain::subscription::{Subscription, SubscriptionId, SubscriptionStatus};
use tally_domain::{DomainError, Mode, Organization, Timestamp};
use tally_store::Lock;

/// The page kind of card updates, and the path their pages are served on.
pub const CARD_PAGE: &str = "payment_method";
pub const CARD_PATH: &str = "payment-method";
/// How long a card-update link works (organization clock).
pub const CARD_LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// Whether a subscription in `status` may have its card updated.
fn updatable(status: SubscriptionStatus) -> bool {
    matches!(
        status,
        SubscriptionStatus::Active | SubscriptionStatus::Trialing | SubscriptionStatus::PastDue
    )
}

/// `POST /subscriptions/{id}/payment-method/update`: the page's URL.
pub struct StartCardUpdate {
    pub subscription: String,
    pub success_url: Option<String>,
    pub signer: PageSigner,
}

#[async_trait]
impl Command for StartCardUpdate {
    type Output = String;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<String, AppError> {
        let subscription = lock_subscription(ctx.tx, ctx.caller.org(), &self.subscription).await?;
        processor_for(
            &ctx.caller.organization,
            "subscriptions.updatePaymentMethod",
        )?;
        if !updatable(subscription.as_of(ctx.now).status) {
            return Err(DomainError::NotActive.into());
        }
        let token = self.signer.token_to(
            CARD_PAGE,
            ctx.caller.org(),
            subscription.id.as_str(),
            (ctx.now, Some(ctx.now.plus_millis(CARD_LINK_TTL_MS))),
            &ctx.ids.base62(12),
            self.success_url.as_deref(),
        );
        Ok(self.signer.url(CARD_PATH, &token))
    }
}

/// What the card-update page shows.
#[derive(Debug, Clone)]
pub struct CardPage {
    pub organization: Organization,
    pub subscription: Subscription,
    pub plan_name: String,
    pub card: Option<CardInfo>,
    /// Saved: where the page sends the customer (`successUrl`).
    pub saved: bool,
    pub redirect: Option<String>,
    pub error: Option<Decline>,
}

impl App {
    /// The subscription a card-update token names, when the link still works.
    async fn card_subject(
        &self,
        token: &str,
    ) -> Result<(Organization, Subscription, Option<String>, Timestamp), AppError> {
        let (target, mut db) = self.page_target(CARD_PAGE, token).await?;
        let not_found = || AppError::Page(PageRefusal::NotFound);
        let id = SubscriptionId::parse(&target.claims.subject).ok_or_else(not_found)?;
        let subscription = db
            .subscription(&target.organization.id, &id, Lock::None)
            .await?
            .ok_or_else(not_found)?;
        if target.expired() || !updatable(subscription.as_of(target.now).status) {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        Ok((
            target.organization,
            subscription,
            target.claims.redirect,
            target.now,
        ))
    }

    async fn card_view(
        &self,
        organization: Organization,
        subscription: Subscription,
        redirect: Option<String>,
        outcome: Option<Option<Decline>>,
    ) -> Result<CardPage, AppError> {
        let mut db = self.store.read().await?;
        let org = &organization.id;
        // Read again: saving a card may have paid a past-due invoice meanwhile.
        let subscription = db
            .subscription(org, &subscription.id, Lock::None)
            .await?
            .unwrap_or(subscription);
        let plan_name = db
            .plan_any(org, &subscription.plan_id)
            .await?
            .map(|p| p.name)
            .unwrap_or_default();
        let card = db
            .default_card(org, &subscription.customer_id)
            .await?
            .map(|c| c.card);
        Ok(CardPage {
            saved: matches!(outcome, Some(None)),
            error: outcome.flatten(),
            organization,
            subscription,
            plan_name,
            card,
            redirect,
        })
    }

    /// The card-update page for `token`.
    pub async fn card_page(&self, token: &str) -> Result<CardPage, AppError> {
        let (organization, subscription, redirect, _) = self.card_subject(token).await?;
        self.card_view(organization, subscription, redirect, None)
            .await
    }

    /// Saves the typed card as the customer's default.
    pub async fn save_card_on_page(
        &self,
        token: &str,
        (number, exp_month, exp_year, cvc): (&str, &str, &str, &str),
    ) -> Result<CardPage, AppError> {
        let (organization, subscription, redirect, now) = self.card_subject(token).await?;
        if organization.mode == Mode::Live {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        let entry = check_card(number, exp_month, exp_year, cvc, now)
            .map_err(|e| AppError::Page(PageRefusal::Form(e)))?;
        let command = SaveCard {
            customer: subscription.customer_id.clone(),
            entry,
            operation: "subscriptions.updatePaymentMethod",
        };
        let refused = self.page_write(&organization, command).await?;
        self.card_view(organization, subscription, redirect, Some(refused))
            .await
    }
}
