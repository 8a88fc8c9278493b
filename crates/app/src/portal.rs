//! The customer portal (`payments.md` §10): `portal.getUrl` opens a session and hands out its
//! page, where the customer sees their subscription, seats, card and invoices (each with a PDF
//! link), changes their card, and cancels at the period's end or takes that back. The page's
//! actions run the same commands as the API.

use crate::hosted_tokens::PageSigner;
use crate::payments::{PageRefusal, customer_ref, processor_for, save_card};
use crate::processors::{ProcessorError, SetupOutcome};
use crate::subscriptions::{CancelSubscription, SubscriptionDetail, UncancelSubscription};
use crate::{App, AppError, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use serde_json::json;
use tally_domain::billing::Invoice;
use tally_domain::events::{WebhookEvent, WebhookEventId};
use tally_domain::ids::PortalSessionId;
use tally_domain::page::PageRequest;
use tally_domain::payments::{CardInfo, Decline, check_card};
use tally_domain::portal::PortalSession;
use tally_domain::{Customer, CustomerRef, FieldError, Mode, Organization, Timestamp};
use tally_store::{InvoiceFilter, Lock};

/// The page kind of portal links.
pub const PORTAL_PAGE: &str = "portal";
/// Invoices the portal lists, newest first.
const PORTAL_INVOICES: u32 = 24;

/// Who the portal is for: by id or externalId, or the newest customer with an e-mail.
#[derive(Debug, Clone)]
pub enum PortalCustomer {
    Reference(String),
    Email(String),
}

/// `POST /portal/request-access` and `/portal/sessions`.
pub struct OpenPortal {
    pub customer: PortalCustomer,
    pub return_url: Option<String>,
    pub signer: PageSigner,
}

#[async_trait]
impl Command for OpenPortal {
    /// The portal's URL.
    type Output = String;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<String, AppError> {
        let org = ctx.caller.org().clone();
        let param = match &self.customer {
            PortalCustomer::Reference(_) => "customerId",
            PortalCustomer::Email(_) => "email",
        };
        let not_found = || AppError::NotFoundAt(NotFound::Customer, param.to_owned());
        let customer = match &self.customer {
            PortalCustomer::Reference(reference) => {
                let reference = CustomerRef::parse(reference).ok_or_else(not_found)?;
                crate::customers::lock_customer_ref(ctx.tx, &org, &reference).await?
            }
            PortalCustomer::Email(email) => ctx.tx.newest_customer_by_email(&org, email).await?,
        }
        .ok_or_else(not_found)?;
        let session = PortalSession {
            id: PortalSessionId::from_ulid(ctx.ids.ulid()),
            org_id: org.clone(),
            customer_id: customer.id,
            return_url: self.return_url.clone(),
            created_at: ctx.now,
            last_seen_at: ctx.now,
        };
        ctx.tx.insert_portal_session(&session).await?;
        let token = self.signer.token(
            PORTAL_PAGE,
            &org,
            session.id.as_str(),
            ctx.now,
            Some(session.ends_at()),
            session.id.as_str(),
        );
        Ok(self.signer.url(PORTAL_PAGE, &token))
    }
}

/// One invoice as the portal lists it.
#[derive(Debug, Clone)]
pub struct PortalInvoice {
    pub invoice: Invoice,
    /// A signed link to its PDF.
    pub pdf_url: String,
}

/// What the portal page shows.
#[derive(Debug, Clone)]
pub struct PortalPage {
    pub organization: Organization,
    pub customer: Customer,
    pub return_url: Option<String>,
    /// The live subscription, else the newest ended one.
    pub subscription: Option<SubscriptionDetail>,
    pub card: Option<CardInfo>,
    pub invoices: Vec<PortalInvoice>,
    /// Whether card actions are offered (the organization has a processor).
    pub payments: bool,
    /// Where the customer pays what the subscription waits for: its checkout while
    /// `pending_payment`, the recovery page of its unpaid invoice while `past_due`.
    pub pay_url: Option<String>,
    /// What the last action refused, if it did.
    pub error: Option<Decline>,
    pub now: Timestamp,
}

/// An action on the portal.
#[derive(Debug, Clone)]
pub enum PortalAction {
    /// Cancel at the end of the current period.
    Cancel,
    Uncancel,
    /// Save a new card as the default.
    UpdateCard {
        number: String,
        exp_month: String,
        exp_year: String,
        cvc: String,
    },
}

impl App {
    /// The session a portal token names, open at the organization's now, with that now.
    async fn portal_session(
        &self,
        token: &str,
    ) -> Result<(Organization, PortalSession, Timestamp), AppError> {
        let (target, mut db) = self.page_target(PORTAL_PAGE, token).await?;
        let not_found = || AppError::Page(PageRefusal::NotFound);
        let id = PortalSessionId::parse(&target.claims.subject).ok_or_else(not_found)?;
        let session = db
            .portal_session(&target.organization.id, &id)
            .await?
            .ok_or_else(not_found)?;
        if !session.is_open_at(target.now) {
            return Err(AppError::Page(PageRefusal::Gone));
        }
        Ok((target.organization, session, target.now))
    }

    /// The portal for `token`; viewing it keeps the session open.
    pub async fn portal_page(&self, token: &str) -> Result<PortalPage, AppError> {
        let (organization, session, _) = self.portal_session(token).await?;
        self.page_write(&organization, TouchPortal(session.id.clone()))
            .await?;
        self.portal_view(&organization, &session, None).await
    }

    /// Runs a portal action as the API would, then shows the portal again.
    pub async fn portal_action(
        &self,
        token: &str,
        action: PortalAction,
    ) -> Result<PortalPage, AppError> {
        let (organization, session, now) = self.portal_session(token).await?;
        self.page_write(&organization, TouchPortal(session.id.clone()))
            .await?;
        let live = {
            let mut db = self.store.read().await?;
            db.live_subscription(&organization.id, &session.customer_id, Lock::None)
                .await?
        };
        let refused = match action {
            PortalAction::Cancel | PortalAction::Uncancel => {
                let Some(subscription) = live else {
                    return Err(AppError::Page(PageRefusal::Gone));
                };
                let id = subscription.id.as_str().to_owned();
                let outcome = match action {
                    PortalAction::Cancel => self
                        .page_write(
                            &organization,
                            CancelSubscription {
                                id,
                                reason: Some("Canceled in the customer portal".to_owned()),
                                immediate: false,
                            },
                        )
                        .await
                        .map(|_| ()),
                    _ => self
                        .page_write(&organization, UncancelSubscription(id))
                        .await
                        .map(|_| ()),
                };
                match outcome {
                    Ok(()) => None,
                    Err(AppError::Domain(refusal)) => Some(Decline {
                        code: "refused".to_owned(),
                        message: refusal.to_string(),
                    }),
                    Err(other) => return Err(other),
                }
            }
            PortalAction::UpdateCard {
                number,
                exp_month,
                exp_year,
                cvc,
            } => {
                let entry = check_card(&number, &exp_month, &exp_year, &cvc, now)
                    .map_err(|e| AppError::Page(PageRefusal::Form(e)))?;
                let command = SaveCard {
                    customer: session.customer_id.clone(),
                    entry,
                    operation: "portal.updateCard",
                };
                self.page_write(&organization, command).await?
            }
        };
        self.portal_view(&organization, &session, refused).await
    }

    async fn portal_view(
        &self,
        organization: &Organization,
        session: &PortalSession,
        error: Option<Decline>,
    ) -> Result<PortalPage, AppError> {
        let org = &organization.id;
        let now = organization.now(self.clock.now());
        let mut db = self.store.read().await?;
        let customer = db
            .customer(org, &session.customer_id, Lock::None)
            .await?
            .ok_or(AppError::Page(PageRefusal::NotFound))?;
        let subscription = match db.live_subscription(org, &customer.id, Lock::None).await? {
            Some(live) => Some(live),
            None => db
                .subscriptions(org, Some(&customer.id), None, &first(1))
                .await?
                .items
                .into_iter()
                .next(),
        };
        let signer = self.page_signer().await?;
        let subscription = match subscription {
            Some(s) => {
                Some(crate::subscriptions::detail_in(&mut *db, s.as_of(now), now, &signer).await?)
            }
            None => None,
        };
        let pay_url = subscription.as_ref().and_then(|detail| {
            let s = &detail.subscription;
            match (&detail.checkout_url, &s.dunning) {
                (Some(checkout), _) => Some(checkout.clone()),
                (None, Some(dunning))
                    if s.status == tally_domain::subscription::SubscriptionStatus::PastDue =>
                {
                    Some(crate::collection::recovery_url_of(
                        &signer,
                        (org, &dunning.invoice_id),
                        session.id.as_str(),
                        now,
                    ))
                }
                _ => None,
            }
        });
        let card = db.default_card(org, &customer.id).await?.map(|c| c.card);
        let filter = InvoiceFilter {
            customer: Some(customer.id.clone()),
            subscription: None,
            status: None,
        };
        let found = db.invoices(org, &filter, &first(PORTAL_INVOICES)).await?;
        drop(db);
        let mut invoices = Vec::with_capacity(found.items.len());
        for invoice in found.items {
            let link = self.signed_link(org, &invoice.id, now).await?;
            invoices.push(PortalInvoice {
                invoice,
                pdf_url: link.url,
            });
        }
        Ok(PortalPage {
            pay_url,
            payments: organization.mode == Mode::Sandbox,
            organization: organization.clone(),
            customer,
            return_url: session.return_url.clone(),
            subscription,
            card,
            invoices,
            error,
            now,
        })
    }
}

fn first(limit: u32) -> PageRequest {
    PageRequest { limit, after: None }
}

/// Keeps a portal session open.
struct TouchPortal(PortalSessionId);

#[async_trait]
impl Command for TouchPortal {
    type Output = ();

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<(), AppError> {
        let org = ctx.caller.org().clone();
        ctx.tx.touch_portal_session(&org, &self.0, ctx.now).await?;
        Ok(())
    }
}

/// Saves the typed card as the customer's default (`payment_method.updated`); a refused card
/// changes nothing and is answered.
pub(crate) struct SaveCard {
    pub customer: tally_domain::CustomerId,
    pub entry: tally_domain::payments::CardEntry,
    /// What `provider_unsupported` names.
    pub operation: &'static str,
}

#[async_trait]
impl Command for SaveCard {
    type Output = Option<Decline>;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<Option<Decline>, AppError> {
        let customer = ctx
            .tx
            .customer(ctx.caller.org(), &self.customer, Lock::ForUpdate)
            .await?
            .ok_or(AppError::Page(PageRefusal::NotFound))?;
        if let Some(decline) =
            save_default_card(ctx, &customer, &self.entry, (self.operation, None)).await?
        {
            return Ok(Some(decline));
        }
        // A past-due invoice is tried once with the new card (`payments.md` §6); its outcome
        // shows on the subscription, not here.
        crate::collection::retry_after_card_saved(
            ctx.tx,
            ctx.ids,
            &ctx.caller.organization,
            &ctx.billing.signer,
            &customer,
            ctx.now,
        )
        .await?;
        Ok(None)
    }
}

/// Saves a typed card as the customer's default through the processor (no charge), with
/// `payment_method.updated` (`payment_method.attached`, naming the subscription, when a trial's
/// checkout saves it); a card the processor refuses is answered and nothing changes.
pub(crate) async fn save_default_card(
    ctx: &mut WriteCtx<'_>,
    customer: &tally_domain::Customer,
    entry: &tally_domain::payments::CardEntry,
    (operation, attached_to): (
        &'static str,
        Option<&tally_domain::subscription::SubscriptionId>,
    ),
) -> Result<Option<Decline>, AppError> {
    let processor = processor_for(&ctx.caller.organization, operation)?;
    let card = match processor.setup(entry).await {
        Ok(SetupOutcome::Saved(card)) => card,
        Ok(SetupOutcome::RequiresAction(_)) => {
            return Ok(Some(Decline {
                code: "authentication_required".to_owned(),
                message: "This card asks for authentication, which the portal cannot do yet: use another card.".to_owned(),
            }));
        }
        Ok(SetupOutcome::Declined(decline)) => return Ok(Some(decline)),
        Err(ProcessorError::UnknownCard) => {
            return Err(AppError::Page(PageRefusal::Form(FieldError::new(
                "cardNumber",
                "Use a sandbox test card.",
            ))));
        }
        Err(other) => {
            return Err(AppError::Store(tally_store::StoreError::other(
                other.to_string(),
            )));
        }
    };
    keep_default_card(ctx, customer, &card, attached_to).await?;
    Ok(None)
}

/// Keeps a card the processor accepted as the customer's default, with
/// `payment_method.updated` (`payment_method.attached`, naming the subscription, when a
/// checkout saves it).
pub(crate) async fn keep_default_card(
    ctx: &mut WriteCtx<'_>,
    customer: &tally_domain::Customer,
    card: &crate::processors::ProcessedCard,
    attached_to: Option<&tally_domain::subscription::SubscriptionId>,
) -> Result<(), AppError> {
    let org = ctx.caller.org().clone();
    save_card(ctx, customer, card, true).await?;
    let event = WebhookEvent {
        id: WebhookEventId::from_ulid(ctx.ids.ulid()),
        org_id: org,
        event_type: match attached_to {
            Some(_) => "payment_method.attached",
            None => "payment_method.updated",
        }
        .to_owned(),
        customer_id: Some(customer.id.clone()),
        data: {
            let mut data = json!({
                "customerId": customer_ref(customer),
                "card": {"brand": card.card.brand, "last4": card.card.last4, "expMonth": card.card.exp_month, "expYear": card.card.exp_year},
                "paymentMethod": "card",
            });
            if let Some(subscription) = attached_to {
                data["subscriptionId"] = json!(subscription.as_str());
            }
            data
        },
        created_at: ctx.now,
    };
    ctx.tx.insert_webhook_events(&[event]).await?;
    Ok(())
}
