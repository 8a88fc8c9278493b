//! Why the domain refused something. No status codes: the API maps these once.

/// A problem with one input field, named as the caller spelled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A request that is well-formed but conflicts with the current state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    AlreadyHasActiveSubscription,
    NoPricesConfigured,
    SubscriptionAlreadyCanceled,
    NotScheduledForCancellation,
    OneTimeSubscriptionNotCancelable,
    FeatureAlreadyExists,
    FeatureInUse,
    /// A plan code, or a price for a billing interval, that is taken.
    Duplicate,
    /// The subscription's state blocks the operation until something else is resolved
    /// (`invalid_subscription_status`); the text says what.
    InvalidStatus(&'static str),
    /// The add-on is already active on the subscription (`lifecycle.md` §5).
    AddonAlreadyActive,
    /// A pause is already scheduled or in effect (`lifecycle.md` §6).
    AlreadyScheduled,
    /// The plan or price a canceled subscription would come back on is gone
    /// (`plan_unavailable`, 422).
    PlanUnavailable,
    /// The add-on is active on some subscription and cannot be deleted.
    AddonHasActivations,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The input breaks a documented rule; each problem names its field.
    #[error("invalid input: {}", .0.first().map(|e| e.message.as_str()).unwrap_or("no details"))]
    Validation(Vec<FieldError>),
    /// The state refuses the change.
    #[error("refused: {0:?}")]
    Conflict(Conflict),
    /// A seats (or other) feature that the subscription's plan does not include; `param` names
    /// the field that mentioned it.
    #[error("feature {code} is not part of the customer's plan")]
    FeatureNotInPlan { code: String, param: String },
    /// Usage sent in the other form than the feature's pricing mode (`usage.md` §3.2): token
    /// counts for a per-unit feature, or a value for a per-model one; `param` is the field sent.
    #[error("feature {code} takes its usage in another form")]
    PricingModeMismatch { code: String, param: &'static str },
    /// A model no price is known for (`usage.md` §3.2): Tally has no model price catalog.
    #[error("no price is known for model {model}")]
    ModelNotFound { model: String },
    /// A feature the plan lists but disables (`usage.md` §3.1 step 6).
    #[error("feature {code} is disabled on the customer's plan")]
    FeatureDisabled { code: String, param: String },
    /// A negative adjustment larger than what is left (`balance.md` §2).
    #[error("cannot remove {requested}; {remaining} left")]
    InsufficientFunds {
        /// Credits (whole credits) or balance (rate scale).
        is_credits: bool,
        remaining: i64,
        requested: i64,
    },
    /// A seat count above the included amount where extra seats cannot be sold, with seat caps
    /// enforced (`seats.md` §3.7).
    #[error("{feature_code} is limited to {included} included seats")]
    IncludedLimitReached {
        feature_code: String,
        current: i64,
        included: i64,
        requested: i64,
    },
    /// A metered track past a hard included limit (`usage.md` §3.2).
    #[error("{feature_code} is limited to {included} included units this period")]
    UsageLimitReached {
        feature_code: String,
        current: i64,
        included: i64,
        remaining: i64,
        requested: i64,
    },
    /// A track its credits or blocking balance cannot pay for (`usage.md` §3.2): `required`
    /// and `available` are credits, or rate-scale amounts.
    #[error("{feature_code}: {requested} units need {required}, {available} available")]
    UsageUnaffordable {
        feature_code: String,
        is_credits: bool,
        requested: i64,
        required: i64,
        available: i64,
    },
    /// The subscription's status does not allow the operation (`subscription_not_active`).
    #[error("the subscription is not active")]
    NotActive,
    /// A quota removal of more units than the balance holds (`usage.md` §3.5).
    #[error("cannot remove {requested} {feature_code}; the quota balance is {current}")]
    InsufficientQuota {
        feature_code: String,
        current: i64,
        requested: i64,
    },
    /// Deactivating an add-on that is not active on the subscription (`lifecycle.md` §5).
    #[error("the add-on is not active on the subscription")]
    AddonNotActive,
    /// A plan change the rules refuse (`lifecycle.md` §4.1).
    #[error("plan change refused: {0:?}")]
    PlanChange(PlanChangeRefusal),
    /// A removal of more seats than the balance holds (`seats.md` §3.3).
    #[error("cannot remove {requested} {feature_code} seats; current balance is {current}")]
    InsufficientSeats {
        feature_code: String,
        current: i64,
        requested: i64,
    },
}

/// Why a plan change (or its preview) is refused; `param` names the request field to blame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanChangeRefusal {
    /// The two plans are not in one plan group (`plans_not_in_same_group`).
    NotInSameGroup { param: &'static str },
    /// The target is the current plan and interval (`no_change_requested`).
    NoChange { param: &'static str },
    /// A free plan has no interval to change (`free_plan_change_not_supported`).
    FreePlanInterval,
    /// The target plan cannot sell the seats held (`seat_limit_exceeded`).
    SeatLimitExceeded {
        feature_code: String,
        current: i64,
        included: i64,
        param: &'static str,
    },
    /// A preview of a change that would wait for the renewal (`plan_change_scheduled`).
    Scheduled {
        change_type: &'static str,
        scheduled_for: crate::Timestamp,
    },
}

impl From<Conflict> for DomainError {
    fn from(conflict: Conflict) -> Self {
        DomainError::Conflict(conflict)
    }
}

impl DomainError {
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Validation(vec![FieldError::new(field, message)])
    }
}
