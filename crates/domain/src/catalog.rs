//! Features, plans, plan prices and plan features (`catalog.md` §3–§4).
//!
//! Amounts: plan prices are cents; overage unit prices and included balances are on the rate
//! scale (10 000 = 1.00); included credits are whole credits (`wire.md` §10).

use crate::customer::Metadata;
use crate::money::{Cents, Rate};
use crate::period::BillingInterval;
use crate::{DomainError, FieldError, OrgId, Timestamp};
use std::fmt;

pub const CODE_CHARS_MAX: usize = 64;
pub const NAME_CHARS_MAX: usize = 255;
pub const DESCRIPTION_CHARS_MAX: usize = 2_000;
pub const TRIAL_DAYS_MAX: i64 = 730;
/// The largest catalog amount: a plan price (cents), an overage unit price or included balance
/// (rate scale), included credits. Far above any real price; what is billed from these amounts
/// (seats × unit price, the sum of a period's lines) is bounded separately, by
/// `money::MONEY_MAX`.
pub const AMOUNT_MAX: i64 = 1_000_000_000_000;
pub const INCLUDED_AMOUNT_MAX: i64 = 1_000_000_000;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn from_ulid(ulid: ulid::Ulid) -> Self {
                Self(format!("{}{}", $prefix, ulid))
            }

            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix($prefix)?;
                ulid::Ulid::from_string(rest).ok()?;
                Some(Self(text.to_owned()))
            }

            pub fn from_stored(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A feature, `ftr_…`.
    FeatureId,
    "ftr_"
);
id_type!(
    /// A plan, `pln_…`.
    PlanId,
    "pln_"
);
id_type!(
    /// A plan group, `plg_…` (`lifecycle.md` §3).
    PlanGroupId,
    "plg_"
);
id_type!(
    /// A plan price, `pp_…`.
    PriceId,
    "pp_"
);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FeatureType {
    Boolean,
    Usage,
    Seats,
    /// Accepted, no behaviour yet (`catalog.md` §3).
    Quota,
}

impl FeatureType {
    pub fn as_str(self) -> &'static str {
        match self {
            FeatureType::Boolean => "boolean",
            FeatureType::Usage => "usage",
            FeatureType::Seats => "seats",
            FeatureType::Quota => "quota",
        }
    }

    pub fn parse(text: &str) -> Option<FeatureType> {
        [
            FeatureType::Boolean,
            FeatureType::Usage,
            FeatureType::Seats,
            FeatureType::Quota,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feature {
    pub id: FeatureId,
    pub org_id: OrgId,
    pub code: String,
    pub name: String,
    pub feature_type: FeatureType,
    pub description: Option<String>,
    pub unit_name: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Feature codes: `^[a-z0-9_]+$`, 1–64 characters, not `object` or `livemode` (`catalog.md` §3).
pub fn check_feature_code(code: &str, field: &str) -> Result<(), DomainError> {
    let shaped = !code.is_empty()
        && code.len() <= CODE_CHARS_MAX
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !shaped {
        return Err(DomainError::field(
            field,
            format!(
                "{field} must be 1 to {CODE_CHARS_MAX} lowercase letters, digits or underscores"
            ),
        ));
    }
    if code == "object" || code == "livemode" {
        return Err(DomainError::field(
            field,
            format!("{field} {code:?} is reserved"),
        ));
    }
    Ok(())
}

/// Plan codes: `^[a-z0-9_-]{1,64}$` (`catalog.md` §4.1).
pub fn check_plan_code(code: &str) -> Result<(), DomainError> {
    let shaped = !code.is_empty()
        && code.len() <= CODE_CHARS_MAX
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if shaped {
        Ok(())
    } else {
        Err(DomainError::field(
            "code",
            format!("code must be 1 to {CODE_CHARS_MAX} lowercase letters, digits, '_' or '-'"),
        ))
    }
}

/// A name: trimmed, 1–255 characters.
pub fn check_name(name: &str, field: &str, problems: &mut Vec<FieldError>) {
    let length = name.trim().chars().count();
    if length == 0 || length > NAME_CHARS_MAX {
        problems.push(FieldError::new(
            field,
            format!("{field} must be 1 to {NAME_CHARS_MAX} characters"),
        ));
    }
}

pub fn check_description(text: Option<&str>, problems: &mut Vec<FieldError>) {
    if text.is_some_and(|t| t.chars().count() > DESCRIPTION_CHARS_MAX) {
        problems.push(FieldError::new(
            "description",
            format!("description must be at most {DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
}

/// Turns collected problems into a result.
pub fn problems_or(problems: Vec<FieldError>) -> Result<(), DomainError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(DomainError::Validation(problems))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumptionModel {
    Metered,
    Credits,
    Balance,
}

impl ConsumptionModel {
    pub fn as_str(self) -> &'static str {
        match self {
            ConsumptionModel::Metered => "metered",
            ConsumptionModel::Credits => "credits",
            ConsumptionModel::Balance => "balance",
        }
    }

    pub fn parse(text: &str) -> Option<ConsumptionModel> {
        [
            ConsumptionModel::Metered,
            ConsumptionModel::Credits,
            ConsumptionModel::Balance,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub id: PlanId,
    pub org_id: OrgId,
    pub code: String,
    pub name: String,
    pub description: Option<String>,
    /// `None` reads as metered (`catalog.md` §4.1).
    pub consumption_model: Option<ConsumptionModel>,
    pub is_public: bool,
    pub is_free: bool,
    pub block_on_exhaustion: Option<bool>,
    pub metadata: Option<Metadata>,
    /// The plan group it belongs to: a plan is in one group at most (`lifecycle.md` §3).
    pub group: Option<PlanGroupId>,
    /// Its rank inside the group, which alone tells upgrades from downgrades; 0 outside one.
    pub sort_order: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Plan {
    pub fn consumption(&self) -> ConsumptionModel {
        self.consumption_model.unwrap_or(ConsumptionModel::Metered)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanPrice {
    pub id: PriceId,
    pub plan_id: PlanId,
    pub billing_interval: BillingInterval,
    pub price: Cents,
    pub is_default: bool,
    pub trial_days: i64,
    pub included_balance: Option<Rate>,
    pub included_credits: Option<i64>,
    pub metadata: Metadata,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Overage pricing of a plan feature: whether extra units are sold and at what unit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overage {
    pub enabled: bool,
    pub unit_price: Option<Rate>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFeature {
    pub plan_id: PlanId,
    pub feature_id: FeatureId,
    pub enabled: bool,
    pub included_amount: i64,
    pub unlimited: bool,
    pub overage: Overage,
    pub credits_per_unit: Option<i64>,
    pub pricing_mode: String,
    pub margin: Option<i64>,
    pub created_at: Timestamp,
}

/// What a plan feature grants, judged for fairness when the catalog changes under running
/// subscriptions (`catalog.md` §4.2): a change that gives the customer more applies at once,
/// one that takes something away waits for renewal.
pub fn is_beneficial_change(before: &PlanFeature, after: &PlanFeature) -> bool {
    let more_or_same_included =
        after.unlimited || (!before.unlimited && after.included_amount >= before.included_amount);
    let still_enabled = after.enabled || !before.enabled;
    let price_not_higher = match (before.overage.unit_price, after.overage.unit_price) {
        (Some(old), Some(new)) => new <= old,
        (None, Some(_)) => false,
        _ => true,
    };
    let overage_unchanged = before.overage.enabled == after.overage.enabled;
    // A unit that costs more credits takes something away.
    let credits_not_higher =
        after.credits_per_unit.unwrap_or(1) <= before.credits_per_unit.unwrap_or(1);
    // How usage is sent is part of the terms: a change waits for the renewal.
    let same_pricing_mode = after.pricing_mode == before.pricing_mode;
    more_or_same_included
        && still_enabled
        && price_not_higher
        && overage_unchanged
        && credits_not_higher
        && same_pricing_mode
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_codes_follow_the_contract() {
        let cases = [
            ("editor", true, "lowercase"),
            ("team_member2", true, "underscore and digit"),
            ("Editor", false, "uppercase"),
            ("a-b", false, "dash"),
            ("", false, "empty"),
            ("object", false, "reserved"),
        ];
        for (code, ok, description) in cases {
            assert_eq!(
                check_feature_code(code, "code").is_ok(),
                ok,
                "{description}"
            );
        }
        assert!(check_feature_code(&"a".repeat(65), "code").is_err());
    }

    #[test]
    fn plan_codes_also_allow_dashes() {
        assert!(check_plan_code("pro-2026").is_ok());
        assert!(check_plan_code("Pro").is_err());
        assert!(check_plan_code("").is_err());
    }

    #[test]
    fn more_included_or_a_lower_price_is_beneficial_and_less_is_not() {
        let base = PlanFeature {
            plan_id: PlanId::from_stored("pln_x".into()),
            feature_id: FeatureId::from_stored("ftr_x".into()),
            enabled: true,
            included_amount: 5,
            unlimited: false,
            overage: Overage {
                enabled: true,
                unit_price: Some(Rate(250_000)),
            },
            credits_per_unit: None,
            pricing_mode: "fixed".into(),
            margin: None,
            created_at: Timestamp::from_millis(0),
        };
        let with = |f: &dyn Fn(&mut PlanFeature)| {
            let mut changed = base.clone();
            f(&mut changed);
            changed
        };

        assert!(is_beneficial_change(
            &base,
            &with(&|p| p.included_amount = 6)
        ));
        assert!(is_beneficial_change(&base, &with(&|p| p.unlimited = true)));
        assert!(is_beneficial_change(
            &base,
            &with(&|p| p.overage.unit_price = Some(Rate(1)))
        ));
        assert!(!is_beneficial_change(
            &base,
            &with(&|p| p.included_amount = 4)
        ));
        assert!(!is_beneficial_change(&base, &with(&|p| p.enabled = false)));
        assert!(!is_beneficial_change(
            &base,
            &with(&|p| p.overage.unit_price = Some(Rate(300_000)))
        ));
        assert!(!is_beneficial_change(
            &base,
            &with(&|p| p.overage.enabled = false)
        ));
    }
}
