//! Invoice e-mail (`commerce.md` §8.3): a worker that hands queued sends to a mail server
//! through `lettre`, a few at a time, with the attempts and waits `tally_domain` sets.

use async_trait::async_trait;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tally_app::invoice_sends::{InvoiceEmail, Mailer};
use tally_app::{App, AppError};
use tally_domain::invoice_sends::EmailDelivery;
use tokio::sync::watch;
use tracing::info;

/// Sends claimed at once by one worker.
const SENDS_PER_PASS: u32 = 8;
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// An SMTP server, as `--smtp-url` names it.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// `url`: `smtp://…` or `smtps://…` (lettre's URL form); `from`: `Name <address>` or an
    /// address.
    pub fn new(url: &str, from: &str) -> Result<Self, String> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("the SMTP URL is not usable: {e}"))?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        let from = from
            .parse()
            .map_err(|e| format!("the sender {from:?} is not an e-mail address: {e}"))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, email: &InvoiceEmail) -> Result<(), String> {
        let to: Mailbox = email
            .to
            .parse()
            .map_err(|e| format!("the recipient {:?} is not an e-mail address: {e}", email.to))?;
        let pdf = ContentType::parse("application/pdf").expect("a valid content type");
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&email.subject)
            .multipart(
                MultiPart::mixed()
                    .singlepart(SinglePart::plain(email.text.clone()))
                    .singlepart(
                        Attachment::new(email.attachment_name.clone()).body(email.pdf.clone(), pdf),
                    ),
            )
            .map_err(|e| format!("the message could not be built: {e}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|e| e.to_string())
    }
}

/// Delivers queued invoice e-mails.
pub struct Mailing {
    app: App,
    poll: Duration,
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MailReport {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

impl Mailing {
    pub fn new(app: App, poll: Duration) -> Self {
        Self { app, poll }
    }

    /// One pass: every e-mail due now, a few at a time.
    pub async fn run_once(&self) -> Result<MailReport, AppError> {
        let mut report = MailReport::default();
        loop {
            let claimed = self.app.claim_due_invoice_emails(SENDS_PER_PASS).await?;
            if claimed.is_empty() {
                return Ok(report);
            }
            for send in claimed {
                let after = self.app.deliver_invoice_email(&send).await?;
                let outcome = match after.delivery {
                    EmailDelivery::Delivered => {
                        report.delivered += 1;
                        "delivered"
                    }
                    EmailDelivery::Failed => {
                        report.failed += 1;
                        "failed"
                    }
                    _ => {
                        report.retried += 1;
                        "retried"
                    }
                };
                metrics::counter!("tally_invoice_emails_total", "outcome" => outcome).increment(1);
            }
        }
    }

    pub async fn run(self, stop: watch::Receiver<bool>) {
        crate::repeat(
            self.poll,
            stop,
            "invoice e-mail",
            || self.run_once(),
            |report| {
                if report != MailReport::default() {
                    info!(?report, "invoice e-mails sent");
                }
            },
        )
        .await;
    }
}
