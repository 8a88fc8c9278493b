//! Sending invoices (`commerce.md` §8.3): the send is recorded, and announced
//! (`invoice.sent`), in the request's transaction; when the server has SMTP the e-mail is
//! queued there too and a mailer delivers it afterwards (`claim_due_invoice_emails`,
//! `deliver_invoice_email`), so the response never waits for a mail server and a restart
//! loses no e-mail.

use crate::invoice_files::render_invoice;
use crate::invoicing::invoice_event_data;
use crate::outbox::Outbox;
use crate::{App, AppError, Command, NotFound, WriteCtx};
use async_trait::async_trait;
use std::sync::Arc;
use tally_domain::Timestamp;
use tally_domain::invoice_sends::{EmailDelivery, InvoiceSend, check_sendable, email_subject};
use tally_store::Lock;

/// How long a mailer holds the sends it claimed before another may try them.
pub const EMAIL_LEASE_MS: i64 = 60_000;

/// One invoice e-mail, ready for a mail server.
#[derive(Debug, Clone)]
pub struct InvoiceEmail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub attachment_name: String,
    pub pdf: Vec<u8>,
}

/// Delivers e-mail (SMTP in the server; a recorder in tests).
#[async_trait]
pub trait Mailer: Send + Sync {
    /// `Err` carries what the mail server (or the connection to it) said.
    async fn send(&self, email: &InvoiceEmail) -> Result<(), String>;
}

pub struct SendInvoice {
    pub id: String,
}

/// What a send answers: when it was recorded.
#[derive(Debug, Clone, Copy)]
pub struct SentInvoice {
    pub sent_at: Timestamp,
}

#[async_trait]
impl Command for SendInvoice {
    type Output = SentInvoice;

    async fn run(&self, ctx: &mut WriteCtx<'_>) -> Result<SentInvoice, AppError> {
        let org = ctx.caller.org().clone();
        let invoice = ctx
            .tx
            .invoice(&org, &self.id, Lock::ForUpdate)
            .await?
            .ok_or(AppError::NotFound(NotFound::Invoice))?;
        check_sendable(invoice.status)?;
        let customer = ctx
            .tx
            .customer(&org, &invoice.customer_id, Lock::None)
            .await?
            .ok_or(AppError::NotFound(NotFound::Customer))?;
        let delivery = if ctx.email {
            EmailDelivery::Queued
        } else {
            EmailDelivery::NotConfigured
        };
        let send = InvoiceSend {
            id: format!("isn_{}", ctx.ids.ulid()),
            org_id: org,
            invoice_id: invoice.id.clone(),
            recipient_email: customer.email.clone(),
            sent_at: ctx.now,
            delivery,
            attempts: 0,
            next_attempt_at: ctx.real_now,
            last_error: None,
        };
        ctx.tx.insert_invoice_send(&send).await?;
        let mut outbox = Outbox::new(ctx.ids, &customer, ctx.now);
        let mut data = invoice_event_data(&invoice, outbox.customer_ref());
        data["sentAt"] = ctx.now.to_rfc3339().into();
        data["recipientEmail"] = customer.email.clone().into();
        data["emailDelivery"] = if ctx.email { "smtp" } else { "not_configured" }.into();
        outbox.push("invoice.sent", data);
        ctx.tx.insert_webhook_events(&outbox.into_events()).await?;
        Ok(SentInvoice { sent_at: ctx.now })
    }
}

impl App {
    /// Sends invoice e-mails through `mailer`; without one, sends are recorded only.
    pub fn with_mailer(mut self, mailer: Arc<dyn Mailer>) -> Self {
        self.mailer = Some(mailer);
        self
    }

    /// Reserves up to `limit` due invoice e-mails, of every organization, for one lease.
    pub async fn claim_due_invoice_emails(&self, limit: u32) -> Result<Vec<InvoiceSend>, AppError> {
        let now = self.clock.now();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move {
                let mut due = tx.due_invoice_sends(now, limit).await?;
                for send in &mut due {
                    send.next_attempt_at = now.plus_millis(EMAIL_LEASE_MS);
                    tx.update_invoice_send(send).await?;
                }
                Ok::<_, AppError>(due)
            })
        })
        .await
    }

    /// Renders and sends one claimed e-mail, then records how it went: delivered, queued
    /// again after a wait, or failed for good after its last attempt.
    pub async fn deliver_invoice_email(&self, send: &InvoiceSend) -> Result<InvoiceSend, AppError> {
        let Some(mailer) = self.mailer.clone() else {
            return Ok(send.clone());
        };
        let email = self.invoice_email(send).await?;
        let outcome = match email {
            Some(email) => mailer.send(&email).await,
            None => Err("the invoice no longer exists".to_owned()),
        };
        let now = self.clock.now();
        let next = match outcome {
            Ok(()) => send.after_delivery(),
            Err(error) => {
                tracing::warn!(send = %send.id, invoice = %send.invoice_id, %error, "an invoice e-mail was not accepted");
                send.after_failure(&error, now)
            }
        };
        let stored = next.clone();
        tally_store::write(&*self.store, move |tx| {
            Box::pin(async move { tx.update_invoice_send(&stored).await })
        })
        .await?;
        Ok(next)
    }

    /// The e-mail of `send`: the invoice as it stands now, attached, with a fresh link.
    async fn invoice_email(&self, send: &InvoiceSend) -> Result<Option<InvoiceEmail>, AppError> {
        let mut db = self.store.read().await?;
        let Some(org) = db.organization(&send.org_id, Lock::None).await? else {
            return Ok(None);
        };
        let Some(invoice) = db.invoice(&org.id, &send.invoice_id, Lock::None).await? else {
            return Ok(None);
        };
        let Some(customer) = db
            .customer(&org.id, &invoice.customer_id, Lock::None)
            .await?
        else {
            return Ok(None);
        };
        drop(db);
        let file = render_invoice(&invoice, &customer, &org)?;
        let link = self
            .signed_link(&org.id, &invoice.id, org.now(self.clock.now()))
            .await?;
        let seller = org.name.clone();
        let text = format!(
            "Hello,\n\nplease find invoice {number} from {seller} attached, for {total}.\n\
             You can also download it here until {expires}:\n{url}\n",
            number = invoice.number,
            total = tally_domain::money::format_money(invoice.total().0, &invoice.currency),
            expires = link.expires_at.month_day_year(),
            url = link.url,
        );
        Ok(Some(InvoiceEmail {
            to: send.recipient_email.clone(),
            subject: email_subject(&invoice.number, &seller),
            text,
            attachment_name: file.filename,
            pdf: file.pdf,
        }))
    }
}
