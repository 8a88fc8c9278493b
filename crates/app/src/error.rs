//! What an operation can answer besides success. The API maps each variant to a documented
//! code exactly once (`tally_api::error`).

use tally_domain::DomainError;
use tally_store::StoreError;

/// Which kind of thing was not found, so the API can name the right code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    Customer,
    ApiKey,
    Feature,
    Plan,
    PlanGroup,
    Addon,
    Price,
    Subscription,
    /// The customer has no live subscription (`no_active_subscription`).
    ActiveSubscription,
    Webhook,
    Invoice,
    /// A customer credit (`not_found`: the contract has no code of its own for it).
    CustomerCredit,
    CreditPack,
    Offer,
    PromoCode,
    Market,
    /// A plan grant (`not_found`: the contract has no code of its own for it).
    PlanGrant,
    Payment,
    Transaction,
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    #[error("{0:?} not found")]
    NotFound(NotFound),
    /// Not found, naming the request field that referred to it.
    #[error("{0:?} not found ({1})")]
    NotFoundAt(NotFound, String),
    /// A sandbox-only operation called with a live key.
    #[error("this operation is only available with a sandbox key")]
    SandboxOnly,
    /// A unique value (externalId, plan code…) is taken by another object.
    #[error("{field} is already used by another object")]
    Duplicate { field: &'static str },
    /// A usage event key (`eventId`, legacy `idempotencyKey`) the organization already used
    /// (`usage.md` §6); `event_id` is the event recorded under it.
    #[error("{param} was already used by usage event {event_id}")]
    DuplicateUsageEvent {
        param: &'static str,
        event_id: String,
    },
    #[error("missing or invalid API key")]
    Unauthorized,
    /// A country another market holds (`duplicate`, naming both).
    #[error("country {country} belongs to market {market_id}")]
    CountryInMarket { country: String, market_id: String },
    /// A market a price or a live subscription names (`market_in_use`).
    #[error("the market is in use")]
    MarketInUse,
    /// A price entry a live subscription is priced from (`price_in_use`); names the field.
    #[error("a live subscription is priced from this entry ({0})")]
    PriceInUse(String),
    /// A subscription in a currency the plan has no amount in for what it bills
    /// (`missing_regional_price`).
    #[error("no {currency} amount for {what}")]
    MissingRegionalPrice { currency: String, what: String },
    /// A promo code where the price's introductory offer applies (`intro_offer_active`).
    #[error("the price's introductory offer applies; a promo code cannot replace it")]
    IntroOfferActive,
    /// A promo code past its `expiresAt` (`promo_code_expired`).
    #[error("the promo code has expired")]
    PromoCodeExpired,
    /// An offer or code that cannot be used here (`offer_not_applicable`); `param` names the
    /// request field.
    #[error("the offer does not apply: {reason:?}")]
    OfferNotApplicable {
        reason: tally_domain::offers::NotApplicable,
        param: String,
    },
    /// A signed link (an invoice download) whose signature does not hold or that has expired.
    #[error("this link is not valid or has expired")]
    LinkRefused,
    /// Money would move where the organization has no processor (`provider_unsupported`);
    /// `operation` is the SDK method.
    #[error("no payment processor is configured for this live organization")]
    ProviderUnsupported { operation: &'static str },
    /// `payments.charge` for a customer without a subscription that may be charged.
    #[error("the customer has no active, trialing or past-due subscription")]
    SubscriptionRequired,
    /// An off-session charge for a customer without a default card.
    #[error("the customer has no default payment method")]
    NoPaymentMethod,
    /// A manual attempt at a past-due invoice for a customer without a default card; the
    /// answer names the recovery page (`payments.md` §6).
    #[error("the customer has no default payment method")]
    NoPaymentMethodFor { recovery_url: String },
    /// More manual attempts at past-due invoices than a customer may make in a day
    /// (`rate_limited`, without `Retry-After`).
    #[error("at most {limit} payment attempts a day")]
    ManualAttemptsExhausted {
        limit: usize,
        resets_at: tally_domain::Timestamp,
    },
    /// A retry of a transaction that is not a failed attempt at a past-due invoice.
    #[error("only a failed attempt at a past-due invoice can be retried")]
    NotRetryable,
    /// A retry of an attempt whose invoice is paid meanwhile (`no_outstanding_invoice`).
    #[error("the invoice is already paid")]
    NoOutstandingInvoice,
    /// An operation whose charge the processor declined; nothing was applied
    /// (`charge_failed`).
    #[error("the charge was declined: {}", .0.message)]
    ChargeDeclined(tally_domain::payments::Decline),
    /// A claim link for an organization that was not provisioned headless
    /// (`claim_not_pending`).
    #[error("this organization has no claim pending")]
    ClaimNotPending,
    /// A claim link for an organization pair already claimed.
    #[error("this organization has already been claimed")]
    AlreadyClaimed,
    /// A succeeded payment, or a charge, asked to be canceled.
    #[error("this payment can no longer be canceled")]
    PaymentNotCancelable,
    /// A transaction refunded before (`duplicate`, naming the refund).
    #[error("this transaction was already refunded ({refund_id})")]
    AlreadyRefunded { refund_id: String },
    /// A transaction that did not succeed cannot be refunded.
    #[error("only a succeeded transaction can be refunded")]
    NotRefundable,
    /// A payout with no default bank account to go to (`forbidden`, reason
    /// `no_payout_bank_account`).
    #[error("add a payout bank account first")]
    NoPayoutBankAccount,
    /// A payout above what is available (`insufficient_balance`).
    #[error("the payout is above the available balance")]
    InsufficientPayoutBalance {
        available: tally_domain::money::Cents,
        requested: tally_domain::money::Cents,
    },
    /// An endpoint the resolved version has retired (`endpoint_deprecated`).
    #[error("this endpoint is deprecated in this API version")]
    EndpointDeprecated,
    /// A hosted page refused its token or its form.
    #[error("the page refused the request: {0:?}")]
    Page(crate::payments::PageRefusal),
    #[error("this idempotency key was used with a different request")]
    IdempotencyKeyMismatch,
    #[error("a request with this idempotency key is still being processed")]
    IdempotencyInProgress,
    #[error("the idempotency store is unavailable")]
    IdempotencyUnavailable,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AppError {
    /// True for failures that say nothing about the request itself (the database was busy or
    /// down, or a bug): their responses are not stored under an idempotency key, so a retry
    /// runs the operation again.
    pub fn is_internal(&self) -> bool {
        matches!(self, AppError::Store(_) | AppError::IdempotencyUnavailable)
    }
}
