//! The payment-processor interface (`payments.md` §2) and its one implementation, the sandbox
//! processor. Billing talks to processors only through [`PaymentProcessor`]: a real processor
//! (the contract sketches one on a card network's API) implements the same calls, keyed by
//! Tally's own transaction ids so that a repeated call never charges twice.
//!
//! Decision: the sandbox answers at once and deterministically, so Tally calls it inside the
//! write transaction that records the outcome. A processor that answers later would record a
//! `pending` transaction first and finish it from its events; that path is not built yet.

use async_trait::async_trait;
use tally_domain::money::Cents;
use tally_domain::payments::{
    CardEntry, CardInfo, Decline, SANDBOX_PROVIDER, SandboxCard, authentication_failed,
};

/// What pays: a card typed into one of Tally's pages, or a card saved earlier.
#[derive(Debug, Clone, Copy)]
pub enum PaymentSource<'a> {
    Typed(&'a CardEntry),
    /// The processor's handle of a saved card.
    Saved(&'a str),
}

#[derive(Debug, Clone, Copy)]
pub struct ChargeRequest<'a> {
    /// Tally's transaction id: the processor's idempotency key.
    pub idempotency_key: &'a str,
    pub amount: Cents,
    pub currency: &'a str,
    pub source: PaymentSource<'a>,
    /// A charge without the holder (renewals, retries, `payments.charge`).
    pub off_session: bool,
}

/// A card as the processor keeps it: its handle and what may be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessedCard {
    pub method_ref: String,
    pub card: CardInfo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChargeOutcome {
    Succeeded {
        charge_ref: String,
        card: ProcessedCard,
    },
    /// The holder must authenticate on the page; `complete_action` finishes the charge.
    RequiresAction {
        charge_ref: String,
        card: ProcessedCard,
    },
    Declined {
        charge_ref: String,
        card: Option<ProcessedCard>,
        decline: Decline,
    },
}

#[derive(Debug, Clone, Copy)]
pub struct ActionRequest<'a> {
    pub charge_ref: &'a str,
    pub method_ref: &'a str,
    /// Whether the holder passed the authentication step.
    pub approved: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct RefundRequest<'a> {
    /// Tally's refund id.
    pub idempotency_key: &'a str,
    pub charge_ref: &'a str,
    pub amount: Cents,
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ProcessorError {
    /// A typed number this processor does not take (the sandbox takes its test cards only).
    #[error("use a sandbox test card")]
    UnknownCard,
    /// The processor could not be reached or refused the request as malformed.
    #[error("the payment processor failed: {0}")]
    Unavailable(String),
}

/// What saving a card (no charge) came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupOutcome {
    Saved(ProcessedCard),
    /// The holder must authenticate first.
    RequiresAction(ProcessedCard),
    Declined(Decline),
}

#[async_trait]
pub trait PaymentProcessor: Send + Sync {
    /// The `provider` the wire shows for what this processor handled.
    fn provider(&self) -> &'static str;

    async fn charge(&self, request: ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError>;

    /// Saves a typed card for later charges without charging it.
    async fn setup(&self, card: &CardEntry) -> Result<SetupOutcome, ProcessorError>;

    /// Finishes a charge that waited for the holder's authentication.
    async fn complete_action(
        &self,
        request: ActionRequest<'_>,
    ) -> Result<ChargeOutcome, ProcessorError>;

    /// Refunds a charge in full; answers the processor's reference of the refund.
    async fn refund(&self, request: RefundRequest<'_>) -> Result<String, ProcessorError>;
}

/// The built-in processor of every sandbox organization: nothing leaves the server, no fees,
/// and each test card always does what `payments.md` §2.2 says.
pub struct SandboxProcessor;

impl SandboxProcessor {
    fn card_of(source: PaymentSource<'_>) -> Result<(SandboxCard, ProcessedCard), ProcessorError> {
        match source {
            PaymentSource::Typed(entry) => {
                let (card, brand) =
                    SandboxCard::of(&entry.number).ok_or(ProcessorError::UnknownCard)?;
                Ok((
                    card,
                    ProcessedCard {
                        method_ref: card.method_ref().to_owned(),
                        card: CardInfo {
                            brand: brand.to_owned(),
                            last4: entry.number[entry.number.len() - 4..].to_owned(),
                            exp_month: entry.exp_month,
                            exp_year: entry.exp_year,
                        },
                    },
                ))
            }
            PaymentSource::Saved(method_ref) => {
                let card = SandboxCard::from_method_ref(method_ref).ok_or_else(|| {
                    ProcessorError::Unavailable(format!("unknown saved card {method_ref}"))
                })?;
                // Only the behaviour matters for a saved card; what is shown is kept by Tally.
                Ok((
                    card,
                    ProcessedCard {
                        method_ref: method_ref.to_owned(),
                        card: CardInfo {
                            brand: String::new(),
                            last4: String::new(),
                            exp_month: 0,
                            exp_year: 0,
                        },
                    },
                ))
            }
        }
    }
}

fn charge_ref(key: &str) -> String {
    format!("ch_sandbox_{}", key.rsplit('_').next().unwrap_or(key))
}

#[async_trait]
impl PaymentProcessor for SandboxProcessor {
    fn provider(&self) -> &'static str {
        SANDBOX_PROVIDER
    }

    async fn charge(&self, request: ChargeRequest<'_>) -> Result<ChargeOutcome, ProcessorError> {
        let (card, processed) = Self::card_of(request.source)?;
        let charge_ref = charge_ref(request.idempotency_key);
        if !request.off_session && card.needs_authentication() {
            return Ok(ChargeOutcome::RequiresAction {
                charge_ref,
                card: processed,
            });
        }
        let verdict = if request.off_session {
            card.charge_off_session()
        } else {
            card.charge_on_session()
        };
        Ok(match verdict {
            Ok(()) => ChargeOutcome::Succeeded {
                charge_ref,
                card: processed,
            },
            Err(decline) => ChargeOutcome::Declined {
                charge_ref,
                // A card refused when saving never reaches the wallet.
                card: card.setup().ok().map(|()| processed),
                decline,
            },
        })
    }

    async fn setup(&self, entry: &CardEntry) -> Result<SetupOutcome, ProcessorError> {
        let (card, processed) = Self::card_of(PaymentSource::Typed(entry))?;
        Ok(match card.setup() {
            Err(decline) => SetupOutcome::Declined(decline),
            Ok(()) if card.needs_authentication() => SetupOutcome::RequiresAction(processed),
            Ok(()) => SetupOutcome::Saved(processed),
        })
    }

    async fn complete_action(
        &self,
        request: ActionRequest<'_>,
    ) -> Result<ChargeOutcome, ProcessorError> {
        let (card, processed) = Self::card_of(PaymentSource::Saved(request.method_ref))?;
        let charge_ref = request.charge_ref.to_owned();
        Ok(match (request.approved, card.charge_on_session()) {
            (true, Ok(())) => ChargeOutcome::Succeeded {
                charge_ref,
                card: processed,
            },
            (true, Err(decline)) => ChargeOutcome::Declined {
                charge_ref,
                card: None,
                decline,
            },
            (false, _) => ChargeOutcome::Declined {
                charge_ref,
                card: None,
                decline: authentication_failed(),
            },
        })
    }

    async fn refund(&self, request: RefundRequest<'_>) -> Result<String, ProcessorError> {
        Ok(format!(
            "re_sandbox_{}",
            request
                .idempotency_key
                .rsplit('_')
                .next()
                .unwrap_or(request.idempotency_key)
        ))
    }
}
