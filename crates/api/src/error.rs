//! The error catalogue and its rendering (`wire.md` §5).
//!
//! Every documented code, with its `type` and HTTP status, is in one `match`
//! (`ErrorCode::type_and_status`); every business refusal becomes a code in one other `match`
//! (`From<AppError>`). Rendering depends on the resolved API version, which a handler's error
//! does not know: `into_response` parks the `ApiError` in the response extensions and the edge
//! middleware, which knows the version, writes the body.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};
use tally_app::{AppError, NotFound};
use tally_domain::{ApiVersion, Conflict, DomainError, FieldError, Generation, PlanChangeRefusal};
use tally_store::StoreError;
use utoipa::ToSchema;

/// `Retry-After` on a 503: long enough for a database restart to get somewhere, short enough
/// that a client's retries land soon after it is back.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u64 = 2;

/// Documented error codes used by Tally (`wire.md` §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    ValidationError,
    InvalidJson,
    PayloadTooLarge,
    Unauthorized,
    Forbidden,
    SandboxOnly,
    NotFound,
    CustomerNotFound,
    FeatureNotFound,
    PlanNotFound,
    PlanGroupNotFound,
    AddonNotFound,
    CreditPackNotFound,
    OfferNotFound,
    PromoCodeNotFound,
    PromoCodeExpired,
    IntroOfferActive,
    OfferNotApplicable,
    MarketNotFound,
    MarketInUse,
    MissingRegionalPrice,
    PriceNotFound,
    SubscriptionNotFound,
    NoActiveSubscription,
    InvoiceNotFound,
    WebhookNotFound,
    ApiKeyNotFound,
    EndpointDeprecated,
    AlreadyHasActiveSubscription,
    NoPricesConfigured,
    SubscriptionNotActive,
    InvalidSubscriptionStatus,
    SubscriptionAlreadyCanceled,
    NotScheduledForCancellation,
    OneTimeSubscriptionNotCancelable,
    Duplicate,
    FeatureAlreadyExists,
    FeatureInUse,
    PriceInUse,
    IdempotencyKeyMismatch,
    IdempotencyInProgress,
    PlanUnavailable,
    FeatureNotInPlan,
    FeatureDisabled,
    PricingModeMismatch,
    ModelNotFound,
    InsufficientSeats,
    IncludedLimitReached,
    SeatLimitExceeded,
    PlansNotInSameGroup,
    PlanChangeScheduled,
    NoChangeRequested,
    FreePlanChangeNotSupported,
    AddonNotActive,
    AddonAlreadyActive,
    AddonHasActivations,
    AlreadyScheduled,
    EndpointNotAvailable,
    InsufficientBalance,
    InsufficientCredits,
    SubscriptionCreationFailed,
    IdempotencyUnavailable,
    ServiceUnavailable,
    RateLimited,
    ProviderUnsupported,
    PaymentNotFound,
    TransactionNotFound,
    PaymentNotCancelable,
    SubscriptionRequired,
    NoPaymentMethod,
    PaymentFailed,
    ChargeFailed,
    NoOutstandingInvoice,
    ClaimNotPending,
    OrganizationAlreadyClaimed,
    InternalError,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 76] = [
        ErrorCode::ValidationError,
        ErrorCode::InvalidJson,
        ErrorCode::PayloadTooLarge,
        ErrorCode::Unauthorized,
        ErrorCode::Forbidden,
        ErrorCode::SandboxOnly,
        ErrorCode::NotFound,
        ErrorCode::CustomerNotFound,
        ErrorCode::FeatureNotFound,
        ErrorCode::PlanNotFound,
        ErrorCode::PlanGroupNotFound,
        ErrorCode::AddonNotFound,
        ErrorCode::CreditPackNotFound,
        ErrorCode::OfferNotFound,
        ErrorCode::PromoCodeNotFound,
        ErrorCode::PromoCodeExpired,
        ErrorCode::IntroOfferActive,
        ErrorCode::OfferNotApplicable,
        ErrorCode::MarketNotFound,
        ErrorCode::MarketInUse,
        ErrorCode::MissingRegionalPrice,
        ErrorCode::PriceNotFound,
        ErrorCode::SubscriptionNotFound,
        ErrorCode::NoActiveSubscription,
        ErrorCode::InvoiceNotFound,
        ErrorCode::WebhookNotFound,
        ErrorCode::ApiKeyNotFound,
        ErrorCode::EndpointDeprecated,
        ErrorCode::AlreadyHasActiveSubscription,
        ErrorCode::NoPricesConfigured,
        ErrorCode::SubscriptionNotActive,
        ErrorCode::InvalidSubscriptionStatus,
        ErrorCode::SubscriptionAlreadyCanceled,
        ErrorCode::NotScheduledForCancellation,
        ErrorCode::OneTimeSubscriptionNotCancelable,
        ErrorCode::Duplicate,
        ErrorCode::FeatureAlreadyExists,
        ErrorCode::FeatureInUse,
        ErrorCode::PriceInUse,
        ErrorCode::IdempotencyKeyMismatch,
        ErrorCode::IdempotencyInProgress,
        ErrorCode::PlanUnavailable,
        ErrorCode::FeatureNotInPlan,
        ErrorCode::FeatureDisabled,
        ErrorCode::PricingModeMismatch,
        ErrorCode::ModelNotFound,
        ErrorCode::InsufficientSeats,
        ErrorCode::IncludedLimitReached,
        ErrorCode::SeatLimitExceeded,
        ErrorCode::PlansNotInSameGroup,
        ErrorCode::PlanChangeScheduled,
        ErrorCode::NoChangeRequested,
        ErrorCode::FreePlanChangeNotSupported,
        ErrorCode::AddonNotActive,
        ErrorCode::AddonAlreadyActive,
        ErrorCode::AddonHasActivations,
        ErrorCode::AlreadyScheduled,
        ErrorCode::EndpointNotAvailable,
        ErrorCode::InsufficientBalance,
        ErrorCode::InsufficientCredits,
        ErrorCode::SubscriptionCreationFailed,
        ErrorCode::IdempotencyUnavailable,
        ErrorCode::ServiceUnavailable,
        ErrorCode::RateLimited,
        ErrorCode::ProviderUnsupported,
        ErrorCode::PaymentNotFound,
        ErrorCode::TransactionNotFound,
        ErrorCode::PaymentNotCancelable,
        ErrorCode::SubscriptionRequired,
        ErrorCode::NoPaymentMethod,
        ErrorCode::PaymentFailed,
        ErrorCode::ChargeFailed,
        ErrorCode::NoOutstandingInvoice,
        ErrorCode::ClaimNotPending,
        ErrorCode::OrganizationAlreadyClaimed,
        ErrorCode::InternalError,
    ];

    /// The code's `type` and HTTP status: the whole catalogue in one place.
    pub fn type_and_status(self) -> (&'static str, u16) {
        use ErrorCode as C;
        match self {
            C::ValidationError
            | C::InvalidJson
            | C::PlansNotInSameGroup
            | C::PlanChangeScheduled
            | C::NoChangeRequested
            | C::OfferNotApplicable
            | C::FreePlanChangeNotSupported => ("validation_error", 400),
            // Decision: not in the contract's catalogue, which has no code for a body over the
            // server's size limit; a validation error (of the body) with HTTP's own status.
            C::PayloadTooLarge => ("validation_error", 413),
            C::Unauthorized => ("authentication_error", 401),
            C::Forbidden | C::SandboxOnly => ("authentication_error", 403),
            C::NotFound
            | C::ClaimNotPending
            | C::PaymentNotFound
            | C::TransactionNotFound
            | C::CustomerNotFound
            | C::FeatureNotFound
            | C::PlanNotFound
            | C::PlanGroupNotFound
            | C::AddonNotFound
            | C::CreditPackNotFound
            | C::OfferNotFound
            | C::PromoCodeNotFound
            | C::MarketNotFound
            | C::EndpointNotAvailable
            | C::PriceNotFound
            | C::SubscriptionNotFound
            | C::NoActiveSubscription
            | C::InvoiceNotFound
            | C::WebhookNotFound
            | C::ApiKeyNotFound
            | C::ModelNotFound => ("not_found_error", 404),
            C::EndpointDeprecated => ("not_found_error", 410),
            C::AlreadyHasActiveSubscription
            | C::NoPricesConfigured
            | C::SubscriptionNotActive
            | C::InvalidSubscriptionStatus
            | C::SubscriptionAlreadyCanceled
            | C::NotScheduledForCancellation
            | C::OneTimeSubscriptionNotCancelable
            | C::Duplicate
            | C::FeatureAlreadyExists
            | C::FeatureInUse
            | C::PriceInUse
            | C::IdempotencyKeyMismatch
            | C::IdempotencyInProgress
            | C::AddonAlreadyActive
            | C::AddonHasActivations
            | C::PromoCodeExpired
            | C::IntroOfferActive
            | C::MarketInUse
            | C::ProviderUnsupported
            | C::PaymentNotCancelable
            | C::SubscriptionRequired
            | C::NoOutstandingInvoice
            | C::OrganizationAlreadyClaimed
            | C::AlreadyScheduled => ("conflict_error", 409),
            C::PlanUnavailable | C::NoPaymentMethod => ("conflict_error", 422),
            C::PaymentFailed | C::ChargeFailed => ("billing_error", 402),
            C::FeatureNotInPlan
            | C::FeatureDisabled
            | C::PricingModeMismatch
            | C::InsufficientSeats
            | C::IncludedLimitReached
            | C::SeatLimitExceeded
            | C::AddonNotActive
            | C::InsufficientBalance
            | C::MissingRegionalPrice
            | C::InsufficientCredits => ("billing_error", 400),
            C::SubscriptionCreationFailed | C::InternalError => ("internal_error", 500),
            C::IdempotencyUnavailable | C::ServiceUnavailable => ("internal_error", 503),
            C::RateLimited => ("rate_limit_error", 429),
        }
    }

    pub fn as_str(self) -> &'static str {
        use ErrorCode as C;
        match self {
            C::ValidationError => "validation_error",
            C::InvalidJson => "invalid_json",
            C::PayloadTooLarge => "payload_too_large",
            C::Unauthorized => "unauthorized",
            C::Forbidden => "forbidden",
            C::SandboxOnly => "sandbox_only",
            C::NotFound => "not_found",
            C::CustomerNotFound => "customer_not_found",
            C::FeatureNotFound => "feature_not_found",
            C::PlanNotFound => "plan_not_found",
            C::PlanGroupNotFound => "plan_group_not_found",
            C::AddonNotFound => "addon_not_found",
            C::CreditPackNotFound => "credit_pack_not_found",
            C::OfferNotFound => "offer_not_found",
            C::PromoCodeNotFound => "promo_code_not_found",
            C::PromoCodeExpired => "promo_code_expired",
            C::IntroOfferActive => "intro_offer_active",
            C::OfferNotApplicable => "offer_not_applicable",
            C::MarketNotFound => "market_not_found",
            C::MarketInUse => "market_in_use",
            C::MissingRegionalPrice => "missing_regional_price",
            C::AddonNotActive => "addon_not_active",
            C::AddonAlreadyActive => "addon_already_active",
            C::AddonHasActivations => "addon_has_activations",
            C::AlreadyScheduled => "already_scheduled",
            C::EndpointNotAvailable => "endpoint_not_available",
            C::PriceNotFound => "price_not_found",
            C::SubscriptionNotFound => "subscription_not_found",
            C::NoActiveSubscription => "no_active_subscription",
            C::InvoiceNotFound => "invoice_not_found",
            C::WebhookNotFound => "webhook_not_found",
            C::ApiKeyNotFound => "api_key_not_found",
            C::EndpointDeprecated => "endpoint_deprecated",
            C::AlreadyHasActiveSubscription => "already_has_active_subscription",
            C::NoPricesConfigured => "no_prices_configured",
            C::SubscriptionNotActive => "subscription_not_active",
            C::InvalidSubscriptionStatus => "invalid_subscription_status",
            C::SubscriptionAlreadyCanceled => "subscription_already_canceled",
            C::NotScheduledForCancellation => "not_scheduled_for_cancellation",
            C::OneTimeSubscriptionNotCancelable => "one_time_subscription_not_cancelable",
            C::Duplicate => "duplicate",
            C::FeatureAlreadyExists => "feature_already_exists",
            C::FeatureInUse => "feature_in_use",
            C::PriceInUse => "price_in_use",
            C::IdempotencyKeyMismatch => "idempotency_key_mismatch",
            C::IdempotencyInProgress => "idempotency_in_progress",
            C::PlanUnavailable => "plan_unavailable",
            C::FeatureNotInPlan => "feature_not_in_plan",
            C::FeatureDisabled => "feature_disabled",
            C::PricingModeMismatch => "pricing_mode_mismatch",
            C::ModelNotFound => "model_not_found",
            C::InsufficientSeats => "insufficient_seats",
            C::IncludedLimitReached => "included_limit_reached",
            C::SeatLimitExceeded => "seat_limit_exceeded",
            C::PlansNotInSameGroup => "plans_not_in_same_group",
            C::PlanChangeScheduled => "plan_change_scheduled",
            C::NoChangeRequested => "no_change_requested",
            C::FreePlanChangeNotSupported => "free_plan_change_not_supported",
            C::InsufficientBalance => "insufficient_balance",
            C::InsufficientCredits => "insufficient_credits",
            C::SubscriptionCreationFailed => "subscription_creation_failed",
            C::IdempotencyUnavailable => "idempotency_unavailable",
            C::ServiceUnavailable => "service_unavailable",
            C::RateLimited => "rate_limited",
            C::ProviderUnsupported => "provider_unsupported",
            C::PaymentNotFound => "payment_not_found",
            C::TransactionNotFound => "transaction_not_found",
            C::PaymentNotCancelable => "payment_not_cancelable",
            C::SubscriptionRequired => "subscription_required",
            C::NoPaymentMethod => "no_payment_method",
            C::PaymentFailed => "payment_failed",
            C::ChargeFailed => "charge_failed",
            C::NoOutstandingInvoice => "no_outstanding_invoice",
            C::ClaimNotPending => "claim_not_pending",
            C::OrganizationAlreadyClaimed => "organization_already_claimed",
            C::InternalError => "internal_error",
        }
    }
}

/// One error response before rendering.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub param: Option<String>,
    pub details: Option<Value>,
    /// The cause of an internal error, for the log line only; never sent to the client.
    pub cause: Option<String>,
    /// Whole seconds for the `Retry-After` header, on answers a client should retry.
    pub retry_after_secs: Option<u64>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            param: None,
            details: None,
            cause: None,
            retry_after_secs: None,
        }
    }

    /// Tells the client to retry after `secs` whole seconds (at least 1: both SDKs ignore 0).
    pub fn with_retry_after(mut self, secs: u64) -> Self {
        self.retry_after_secs = Some(secs.max(1));
        self
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// A `validation_error` naming one field, with the `details` array both SDKs read.
    pub fn validation(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::from_field_errors(
            ErrorCode::ValidationError,
            &[FieldError::new(field, message)],
        )
    }

    pub fn from_field_errors(code: ErrorCode, problems: &[FieldError]) -> Self {
        let first = problems.first();
        let details = problems
            .iter()
            .map(|p| json!({ "field": p.field, "message": p.message }))
            .collect();
        Self {
            code,
            message: first.map_or_else(|| "Invalid request".to_owned(), |p| p.message.clone()),
            param: first.map(|p| p.field.clone()),
            details: Some(Value::Array(details)),
            cause: None,
            retry_after_secs: None,
        }
    }

    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            cause: Some(cause.to_string()),
            ..Self::new(
                ErrorCode::InternalError,
                "An internal error occurred; it has been logged",
            )
        }
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.type_and_status().1)
            .expect("the catalogue holds only valid HTTP statuses")
    }

    /// The body for `version`: all six keys, always (`wire.md` §5.1).
    pub fn body(&self, version: ApiVersion, doc_url_base: &str) -> Value {
        let (error_type, _) = self.code.type_and_status();
        let error = ErrorObject {
            error_type,
            code: self.code.as_str(),
            message: &self.message,
            param: self.param.as_deref(),
            details: self.details.as_ref(),
            doc_url: format!(
                "{doc_url_base}/{}/errors/{}.md",
                version.as_str(),
                self.code.as_str()
            ),
        };
        match version.generation() {
            Generation::Legacy => json!({ "success": false, "error": error }),
            Generation::Direct => json!({ "error": error }),
        }
    }
}

/// The `error` object of every error body, in every version.
#[derive(Serialize, ToSchema)]
pub struct ErrorObject<'a> {
    #[serde(rename = "type")]
    #[schema(value_type = String)]
    pub error_type: &'static str,
    pub code: &'static str,
    pub message: &'a str,
    pub param: Option<&'a str>,
    /// Per-field problems for validation errors; the figures behind a billing refusal.
    pub details: Option<&'a Value>,
    pub doc_url: String,
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        ApiError::from(&error)
    }
}

impl From<&AppError> for ApiError {
    fn from(error: &AppError) -> Self {
        match error {
            AppError::Domain(DomainError::Validation(problems)) => {
                ApiError::from_field_errors(ErrorCode::ValidationError, problems)
            }
            AppError::Domain(DomainError::Conflict(conflict)) => conflict_error(*conflict),
            AppError::Domain(DomainError::InsufficientQuota {
                feature_code,
                current,
                requested,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "current": current,
                    "requested": requested,
                })),
                ..ApiError::new(
                    ErrorCode::InsufficientBalance,
                    format!("Cannot remove {requested} {feature_code}; the quota balance is {current}"),
                )
                .with_param("count")
            },
            AppError::Domain(DomainError::PricingModeMismatch { code, param }) => ApiError::new(
                ErrorCode::PricingModeMismatch,
                if *param == "model" {
                    format!("Feature {code} is priced per unit: send value, not model token counts")
                } else {
                    format!("Feature {code} is priced per model: send model and token counts, not value")
                },
            )
            .with_param(*param),
            AppError::Domain(DomainError::ModelNotFound { model }) => ApiError::new(
                ErrorCode::ModelNotFound,
                format!("No price is known for model {model}"),
            )
            .with_param("model"),
            AppError::Domain(DomainError::FeatureDisabled { code, param }) => ApiError::new(
                ErrorCode::FeatureDisabled,
                format!("Feature {code} is disabled on the customer's plan"),
            )
            .with_param(param.clone()),
            AppError::Domain(DomainError::UsageLimitReached {
                feature_code,
                current,
                included,
                remaining,
                requested,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "current": current,
                    "included": included,
                    "remaining": remaining,
                    "requested": requested,
                })),
                ..ApiError::new(
                    ErrorCode::IncludedLimitReached,
                    format!("{feature_code} is limited to {included} included units this period; {remaining} left"),
                )
                .with_param("value")
            },
            AppError::Domain(DomainError::UsageUnaffordable {
                feature_code,
                is_credits: true,
                requested,
                required,
                available,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "requested": requested,
                    "creditsRequired": required,
                    "creditsAvailable": available,
                })),
                ..ApiError::new(
                    ErrorCode::InsufficientCredits,
                    format!("{requested} {feature_code} units need {required} credits; {available} available"),
                )
                .with_param("value")
            },
            AppError::Domain(DomainError::UsageUnaffordable {
                feature_code,
                is_credits: false,
                requested,
                required,
                available,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "requested": requested,
                    "amountRequired": required,
                    "currentBalance": available,
                })),
                ..ApiError::new(
                    ErrorCode::InsufficientBalance,
                    format!("{requested} {feature_code} units cost {required}; the balance is {available}"),
                )
                .with_param("value")
            },
            AppError::DuplicateUsageEvent { param, event_id } => ApiError {
                details: (!event_id.is_empty()).then(|| json!({ "usageEventId": event_id })),
                ..ApiError::new(
                    ErrorCode::Duplicate,
                    format!("A usage event was already recorded with this {param}"),
                )
                .with_param(*param)
            },
            AppError::Domain(DomainError::FeatureNotInPlan { code, param }) => ApiError::new(
                ErrorCode::FeatureNotInPlan,
                format!("Feature {code} is not part of the customer's plan"),
            )
            .with_param(param.clone()),
            AppError::Domain(DomainError::InsufficientSeats {
                feature_code,
                current,
                requested,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "current": current,
                    "requested": requested,
                })),
                ..ApiError::new(ErrorCode::InsufficientSeats, format!("Cannot remove {requested} {feature_code} seats; current balance is {current}"))
                    .with_param("count")
            },
            AppError::Domain(DomainError::InsufficientFunds {
                is_credits,
                remaining,
                requested,
            }) => ApiError {
                details: Some(json!({ "remaining": remaining, "requested": requested })),
                ..ApiError::new(
                    if *is_credits { ErrorCode::InsufficientCredits } else { ErrorCode::InsufficientBalance },
                    format!("Cannot remove {requested}; {remaining} left"),
                )
                .with_param("amount")
            },
            AppError::Domain(DomainError::IncludedLimitReached {
                feature_code,
                current,
                included,
                requested,
            }) => ApiError {
                details: Some(json!({
                    "featureCode": feature_code,
                    "current": current,
                    "included": included,
                    "requested": requested,
                })),
                ..ApiError::new(
                    ErrorCode::IncludedLimitReached,
                    format!("{feature_code} is limited to {included} included units on this subscription"),
                )
                .with_param("count")
            },
            AppError::Domain(DomainError::PlanChange(refusal)) => plan_change_error(refusal),
            AppError::Domain(DomainError::AddonNotActive) => ApiError::new(
                ErrorCode::AddonNotActive,
                "The add-on is not active on this subscription",
            )
            .with_param("addonId"),
            AppError::Domain(DomainError::NotActive) => ApiError::new(
                ErrorCode::SubscriptionNotActive,
                "The subscription's status does not allow this operation",
            ),
            AppError::NotFound(kind) => not_found(*kind),
            AppError::NotFoundAt(kind, param) => not_found(*kind).with_param(param.clone()),
            AppError::SandboxOnly => ApiError::new(
                ErrorCode::SandboxOnly,
                "The test clock exists only in sandbox: use a ck_sandbox_ key",
            ),
            AppError::Duplicate { field } => {
                ApiError::new(ErrorCode::Duplicate, format!("{field} is already in use"))
                    .with_param(*field)
            }
            AppError::Unauthorized => ApiError::new(
                ErrorCode::Unauthorized,
                "Missing or invalid API key: send a valid key in the x-api-key header",
            ),
            AppError::CountryInMarket { country, market_id } => ApiError {
                details: Some(json!({ "country": country, "marketId": market_id })),
                ..ApiError::new(
                    ErrorCode::Duplicate,
                    format!("{country} already belongs to market {market_id}"),
                )
                .with_param("countryCodes")
            },
            AppError::MarketInUse => ApiError::new(
                ErrorCode::MarketInUse,
                "A price or a live subscription uses this market",
            ),
            AppError::PriceInUse(param) => ApiError::new(
                ErrorCode::PriceInUse,
                "A live subscription is priced from this entry",
            )
            .with_param(param.clone()),
            AppError::MissingRegionalPrice { currency, what } => ApiError::new(
                ErrorCode::MissingRegionalPrice,
                format!("The plan has no {currency} amount for {what}"),
            )
            .with_param("customerId"),
            AppError::IntroOfferActive => ApiError::new(
                ErrorCode::IntroOfferActive,
                "This price's introductory offer applies to new subscriptions; a promo code cannot replace it",
            )
            .with_param("promoCode"),
            AppError::PromoCodeExpired => ApiError::new(
                ErrorCode::PromoCodeExpired,
                "This promo code has expired",
            )
            .with_param("promoCode"),
            AppError::OfferNotApplicable { reason, param } => ApiError {
                details: Some(json!({ "reason": reason.reason() })),
                ..ApiError::new(
                    ErrorCode::OfferNotApplicable,
                    format!("The offer cannot be used here ({})", reason.reason()),
                )
                .with_param(param.clone())
            },
            AppError::ProviderUnsupported { operation } => ApiError {
                details: Some(json!({ "mode": "live", "operation": operation })),
                ..ApiError::new(
                    ErrorCode::ProviderUnsupported,
                    "No payment processor is configured for this live organization.",
                )
            },
            AppError::SubscriptionRequired => ApiError::new(
                ErrorCode::SubscriptionRequired,
                "The customer has no active, trialing or past-due subscription to charge against",
            )
            .with_param("customerId"),
            AppError::NoPaymentMethod => ApiError::new(
                ErrorCode::NoPaymentMethod,
                "The customer has no default card: they save one on a payment page first",
            )
            .with_param("customerId"),
            AppError::NoPaymentMethodFor { recovery_url } => ApiError {
                details: Some(json!({ "recoveryUrl": recovery_url })),
                ..ApiError::new(
                    ErrorCode::NoPaymentMethod,
                    "The customer has no default card: send them the recovery page",
                )
            },
            // No Retry-After: the SDKs would retry at once, and a customer's card should not be
            // tried again before the day is over (`payments.md` §6).
            AppError::ManualAttemptsExhausted { limit, resets_at } => ApiError {
                details: Some(json!({ "limit": limit, "resetsAt": resets_at.to_rfc3339() })),
                ..ApiError::new(
                    ErrorCode::RateLimited,
                    format!("At most {limit} payment attempts a day for one customer"),
                )
            },
            AppError::ChargeDeclined(decline) => ApiError {
                details: Some(json!({
                    "failureCode": decline.code,
                    "failureMessage": decline.message,
                })),
                ..ApiError::new(ErrorCode::ChargeFailed, decline.message.clone())
            },
            AppError::ClaimNotPending => ApiError::new(
                ErrorCode::ClaimNotPending,
                "This organization was not provisioned headless: it has no claim pending",
            ),
            AppError::AlreadyClaimed => ApiError::new(
                ErrorCode::OrganizationAlreadyClaimed,
                "This organization has already been claimed",
            ),
            AppError::NotRetryable => ApiError::validation(
                "id",
                "only a failed attempt at an invoice a past-due subscription still owes can be retried",
            ),
            AppError::NoOutstandingInvoice => ApiError::new(
                ErrorCode::NoOutstandingInvoice,
                "The invoice of this transaction is already paid",
            )
            .with_param("id"),
            AppError::PaymentNotCancelable => ApiError::new(
                ErrorCode::PaymentNotCancelable,
                "Only a pending, failed or requires_action payment link can be canceled",
            ),
            AppError::AlreadyRefunded { refund_id } => ApiError {
                details: Some(json!({ "refundId": refund_id })),
                ..ApiError::new(ErrorCode::Duplicate, "This transaction was already refunded")
                    .with_param("id")
            },
            AppError::NoPayoutBankAccount => ApiError {
                details: Some(json!({ "reason": "no_payout_bank_account" })),
                ..ApiError::new(
                    ErrorCode::Forbidden,
                    "Add a payout bank account before requesting a payout",
                )
            },
            AppError::InsufficientPayoutBalance {
                available,
                requested,
            } => ApiError {
                details: Some(json!({ "available": available.0, "requested": requested.0 })),
                ..ApiError::new(
                    ErrorCode::InsufficientBalance,
                    format!(
                        "The available balance is {}; {} was requested",
                        available.0, requested.0
                    ),
                )
                .with_param("amount")
            },
            AppError::EndpointDeprecated => ApiError::new(
                ErrorCode::EndpointDeprecated,
                "Payout accounts are verified through the dashboard from this API version on",
            ),
            AppError::NotRefundable => ApiError::from_field_errors(
                ErrorCode::ValidationError,
                &[FieldError::new(
                    "id",
                    "Only a succeeded transaction can be refunded",
                )],
            ),
            // Pages answer their refusals themselves; through the API one is not found.
            AppError::Page(_) => ApiError::new(ErrorCode::NotFound, "Not found"),
            AppError::LinkRefused => ApiError::new(
                ErrorCode::Forbidden,
                "This link's signature does not hold or it has expired: ask for a new link",
            ),
            AppError::IdempotencyKeyMismatch => ApiError::new(
                ErrorCode::IdempotencyKeyMismatch,
                "This Idempotency-Key was already used with a different request",
            )
            .with_param("Idempotency-Key"),
            AppError::IdempotencyInProgress => ApiError::new(
                ErrorCode::IdempotencyInProgress,
                "A request with this Idempotency-Key is still being processed; retry shortly",
            )
            .with_param("Idempotency-Key"),
            AppError::IdempotencyUnavailable => ApiError {
                cause: Some("idempotency store unavailable".to_owned()),
                ..ApiError::new(
                    ErrorCode::IdempotencyUnavailable,
                    "Idempotency records cannot be checked right now; retry shortly",
                )
                .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECS)
            },
            // Decision: a database that is unreachable or restarting is temporary: 503 with
            // Retry-After, which both SDKs retry. 500 stays for bugs.
            AppError::Store(StoreError::Unavailable(cause)) => ApiError {
                cause: Some(format!("database unavailable: {cause}")),
                ..ApiError::new(
                    ErrorCode::ServiceUnavailable,
                    "The database is unavailable right now; retry shortly",
                )
                .with_retry_after(UNAVAILABLE_RETRY_AFTER_SECS)
            },
            AppError::Store(error) => ApiError::internal(error),
        }
    }
}

fn not_found(kind: NotFound) -> ApiError {
    let (code, message) = match kind {
        NotFound::Customer => (
            ErrorCode::CustomerNotFound,
            "No customer has that id or externalId",
        ),
        NotFound::ApiKey => (ErrorCode::ApiKeyNotFound, "No API key has that id"),
        NotFound::Feature => (ErrorCode::FeatureNotFound, "No feature has that id or code"),
        NotFound::Plan => (ErrorCode::PlanNotFound, "No plan has that id or code"),
        NotFound::PlanGroup => (ErrorCode::PlanGroupNotFound, "No plan group has that id"),
        NotFound::Addon => (ErrorCode::AddonNotFound, "No add-on has that id or slug"),
        NotFound::Price => (
            ErrorCode::PriceNotFound,
            "No active price of this plan has that id",
        ),
        NotFound::Subscription => (
            ErrorCode::SubscriptionNotFound,
            "No subscription has that id",
        ),
        NotFound::ActiveSubscription => (
            ErrorCode::NoActiveSubscription,
            "The customer has no active subscription",
        ),
        NotFound::Invoice => (ErrorCode::InvoiceNotFound, "No invoice has that id"),
        NotFound::Payment => (ErrorCode::PaymentNotFound, "No payment has that id"),
        NotFound::Transaction => (ErrorCode::TransactionNotFound, "No transaction has that id"),
        NotFound::CreditPack => (
            ErrorCode::CreditPackNotFound,
            "No credit pack on sale has that id",
        ),
        NotFound::Offer => (ErrorCode::OfferNotFound, "No offer has that id"),
        NotFound::Market => (ErrorCode::MarketNotFound, "No market has that id"),
        NotFound::PlanGrant => (
            ErrorCode::NotFound,
            "The customer has no plan grant with that id",
        ),
        NotFound::PromoCode => (
            ErrorCode::PromoCodeNotFound,
            "No active promo code has that id or code",
        ),
        NotFound::CustomerCredit => (
            ErrorCode::NotFound,
            "The customer has no credit with that id",
        ),
        NotFound::Webhook => (
            ErrorCode::WebhookNotFound,
            "No webhook endpoint has that id",
        ),
    };
    ApiError::new(code, message)
}

fn plan_change_error(refusal: &PlanChangeRefusal) -> ApiError {
    match refusal {
        PlanChangeRefusal::NotInSameGroup { param } => ApiError::new(
            ErrorCode::PlansNotInSameGroup,
            "A plan can only change to another plan of its plan group",
        )
        .with_param(*param),
        PlanChangeRefusal::NoChange { param } => ApiError::new(
            ErrorCode::NoChangeRequested,
            "The subscription is already on that plan and billing interval",
        )
        .with_param(*param),
        PlanChangeRefusal::FreePlanInterval => ApiError::new(
            ErrorCode::FreePlanChangeNotSupported,
            "A free plan has no billing interval to change",
        )
        .with_param("billingInterval"),
        PlanChangeRefusal::SeatLimitExceeded {
            feature_code,
            current,
            included,
            param,
        } => ApiError {
            details: Some(json!({
                "featureCode": feature_code,
                "currentSeats": current,
                "included": included,
            })),
            ..ApiError::new(
                ErrorCode::SeatLimitExceeded,
                format!("{current} {feature_code} seats are held; the target plan includes {included} and sells no more"),
            )
            .with_param(*param)
        },
        PlanChangeRefusal::Scheduled {
            change_type,
            scheduled_for,
        } => ApiError {
            details: Some(json!({
                "changeType": change_type,
                "scheduledFor": scheduled_for.to_rfc3339(),
            })),
            ..ApiError::new(
                ErrorCode::PlanChangeScheduled,
                "This change would take effect at the end of the period, not now; there is nothing to preview",
            )
        },
    }
}

fn conflict_error(conflict: Conflict) -> ApiError {
    let (code, message, param) = match conflict {
        Conflict::AlreadyHasActiveSubscription => (
            ErrorCode::AlreadyHasActiveSubscription,
            "The customer already has a live subscription",
            Some("customerId"),
        ),
        Conflict::NoPricesConfigured => (
            ErrorCode::NoPricesConfigured,
            "The plan has no active price for that billing interval",
            Some("billingInterval"),
        ),
        Conflict::SubscriptionAlreadyCanceled => (
            ErrorCode::SubscriptionAlreadyCanceled,
            "The subscription is already canceled",
            None,
        ),
        Conflict::NotScheduledForCancellation => (
            ErrorCode::NotScheduledForCancellation,
            "The subscription is not scheduled for cancellation",
            None,
        ),
        Conflict::OneTimeSubscriptionNotCancelable => (
            ErrorCode::OneTimeSubscriptionNotCancelable,
            "One-time subscriptions cannot be canceled",
            None,
        ),
        Conflict::FeatureAlreadyExists => (
            ErrorCode::FeatureAlreadyExists,
            "A feature with that code or name already exists, or the feature is already on the plan",
            None,
        ),
        Conflict::FeatureInUse => (
            ErrorCode::FeatureInUse,
            "The feature is attached to a plan; remove it from every plan first",
            None,
        ),
        Conflict::Duplicate => (ErrorCode::Duplicate, "That value is already in use", None),
        Conflict::InvalidStatus(why) => (ErrorCode::InvalidSubscriptionStatus, why, None),
        Conflict::AddonAlreadyActive => (
            ErrorCode::AddonAlreadyActive,
            "The add-on is already active on this subscription",
            Some("addonId"),
        ),
        Conflict::PlanUnavailable => (
            ErrorCode::PlanUnavailable,
            "The subscription's plan or price is no longer available",
            None,
        ),
        Conflict::AlreadyScheduled => (
            ErrorCode::AlreadyScheduled,
            "A pause is already scheduled or in effect",
            None,
        ),
        Conflict::AddonHasActivations => (
            ErrorCode::AddonHasActivations,
            "The add-on is active on subscriptions; deactivate it there first",
            None,
        ),
    };
    let error = ApiError::new(code, message);
    match param {
        Some(param) => error.with_param(param),
        None => error,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The edge middleware renders the body once it knows the API version.
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_renders_all_six_keys_in_both_generations() {
        for code in ErrorCode::ALL {
            let error = ApiError::new(code, "m");
            let legacy = error.body(ApiVersion::V2026_07_11, "https://docs");
            let direct = error.body(ApiVersion::V2026_08_27, "https://docs");

            assert_eq!(legacy["success"], json!(false), "{code:?}");
            assert_eq!(legacy["error"], {
                let mut e = direct["error"].clone();
                e["doc_url"] = json!(format!(
                    "https://docs/2026-07-11/errors/{}.md",
                    code.as_str()
                ));
                e
            });
            assert_eq!(direct.as_object().unwrap().len(), 1, "{code:?}");
            let keys: Vec<_> = direct["error"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            assert_eq!(
                keys,
                ["type", "code", "message", "param", "details", "doc_url"]
            );
            assert_eq!(direct["error"]["code"], json!(code.as_str()));
            assert!(error.status().is_client_error() || error.status().is_server_error());
        }
    }

    #[test]
    fn codes_are_distinct() {
        let mut names: Vec<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
    }
}
