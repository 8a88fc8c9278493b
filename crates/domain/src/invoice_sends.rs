//! Sending an invoice (`commerce.md` §8.3): every send is recorded with its recipient and
//! time; an e-mail goes out only when the server has SMTP, asynchronously, with a bounded
//! number of attempts.

use crate::billing::InvoiceStatus;
use crate::{DomainError, OrgId, Timestamp};

/// Attempts at an invoice's e-mail before its send is marked `failed`.
pub const EMAIL_ATTEMPTS_MAX: i64 = 3;
/// The wait after the first failed attempt; each later one waits twice as long.
pub const EMAIL_RETRY_FIRST_MS: i64 = 30_000;

/// Where an invoice's e-mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailDelivery {
    /// Waiting for a mailer (or for its next attempt).
    Queued,
    Delivered,
    /// Every attempt failed; the last error is kept.
    Failed,
    /// The server had no SMTP when the invoice was sent: nothing goes out.
    NotConfigured,
}

impl EmailDelivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
            Self::NotConfigured => "not_configured",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Queued,
            Self::Delivered,
            Self::Failed,
            Self::NotConfigured,
        ]
        .into_iter()
        .find(|d| d.as_str() == text)
    }
}

/// One send of one invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceSend {
    pub id: String,
    pub org_id: OrgId,
    pub invoice_id: String,
    pub recipient_email: String,
    /// The organization's now at the send.
    pub sent_at: Timestamp,
    pub delivery: EmailDelivery,
    pub attempts: i64,
    /// Real time: e-mail goes out by the wall clock whatever the test clock says.
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
}

impl InvoiceSend {
    /// The send after an attempt that failed with `error` at `now`: queued again after a
    /// doubling wait, or `failed` once the attempts are used up.
    pub fn after_failure(&self, error: &str, now: Timestamp) -> Self {
        let attempts = self.attempts + 1;
        let (delivery, next) = if attempts >= EMAIL_ATTEMPTS_MAX {
            (EmailDelivery::Failed, now)
        } else {
            let wait = EMAIL_RETRY_FIRST_MS << (attempts - 1).clamp(0, 16);
            (EmailDelivery::Queued, now.plus_millis(wait))
        };
        Self {
            attempts,
            delivery,
            next_attempt_at: next,
            last_error: Some(error.to_owned()),
            ..self.clone()
        }
    }

    /// The send after its e-mail was accepted by the SMTP server.
    pub fn after_delivery(&self) -> Self {
        Self {
            attempts: self.attempts + 1,
            delivery: EmailDelivery::Delivered,
            last_error: None,
            ..self.clone()
        }
    }
}

/// Drafts and void invoices are not sent.
pub fn check_sendable(status: InvoiceStatus) -> Result<(), DomainError> {
    match status {
        InvoiceStatus::Draft | InvoiceStatus::Void => Err(DomainError::field(
            "id",
            format!("a {} invoice cannot be sent", status.as_str()),
        )),
        _ => Ok(()),
    }
}

/// The subject of an invoice's e-mail.
pub fn email_subject(invoice_number: &str, seller: &str) -> String {
    format!("Invoice {invoice_number} from {seller}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send() -> InvoiceSend {
        InvoiceSend {
            id: "isn_1".to_owned(),
            org_id: OrgId::new("org_1".to_owned()),
            invoice_id: "inv_1".to_owned(),
            recipient_email: "a@example.com".to_owned(),
            sent_at: Timestamp::from_millis(0),
            delivery: EmailDelivery::Queued,
            attempts: 0,
            next_attempt_at: Timestamp::from_millis(0),
            last_error: None,
        }
    }

    #[test]
    fn three_failures_end_a_send_and_the_waits_double() {
        let now = Timestamp::from_millis(1_000_000);
        let first = send().after_failure("refused", now);
        assert_eq!(first.delivery, EmailDelivery::Queued);
        assert_eq!(first.next_attempt_at, now.plus_millis(EMAIL_RETRY_FIRST_MS));
        let second = first.after_failure("refused", now);
        assert_eq!(
            second.next_attempt_at,
            now.plus_millis(2 * EMAIL_RETRY_FIRST_MS)
        );
        let third = second.after_failure("still refused", now);
        assert_eq!(third.delivery, EmailDelivery::Failed);
        assert_eq!(third.attempts, EMAIL_ATTEMPTS_MAX);
        assert_eq!(third.last_error.as_deref(), Some("still refused"));
        assert_eq!(send().after_delivery().delivery, EmailDelivery::Delivered);
    }

    #[test]
    fn drafts_and_void_invoices_are_not_sent() {
        assert!(check_sendable(InvoiceStatus::Draft).is_err());
        assert!(check_sendable(InvoiceStatus::Void).is_err());
        assert!(check_sendable(InvoiceStatus::Paid).is_ok());
        assert!(check_sendable(InvoiceStatus::Outstanding).is_ok());
    }
}
