//! Add-ons (`lifecycle.md` §5): a feature sold on top of a plan for a price per period. An
//! add-on's terms say how its feature is consumed; activating one mid-period charges the days
//! left, and each renewal bills it in advance.

use crate::billing::{ChargeType, InvoiceLine, LineType, days_left, period_days};
use crate::catalog::{
    AMOUNT_MAX, ConsumptionModel, Feature, FeatureId, FeatureType, Overage, check_name,
};
use crate::ids::AddonId;
use crate::money::{AmountTooLarge, Cents, Rate};
use crate::period::BillingPeriod;
use crate::subscription::{FeatureSnapshot, SubscriptionId};
use crate::{DomainError, FieldError, OrgId, Timestamp};

/// How an add-on's feature is consumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddonModel {
    Boolean,
    Metered,
    Credits,
    Balance,
}

impl AddonModel {
    pub fn as_str(self) -> &'static str {
        match self {
            AddonModel::Boolean => "boolean",
            AddonModel::Metered => "metered",
            AddonModel::Credits => "credits",
            AddonModel::Balance => "balance",
        }
    }

    pub fn parse(text: &str) -> Option<AddonModel> {
        [
            AddonModel::Boolean,
            AddonModel::Metered,
            AddonModel::Credits,
            AddonModel::Balance,
        ]
        .into_iter()
        .find(|m| m.as_str() == text)
    }

    /// The plan consumption model a non-boolean add-on must match.
    pub fn plan_model(self) -> Option<ConsumptionModel> {
        match self {
            AddonModel::Boolean => None,
            AddonModel::Metered => Some(ConsumptionModel::Metered),
            AddonModel::Credits => Some(ConsumptionModel::Credits),
            AddonModel::Balance => Some(ConsumptionModel::Balance),
        }
    }
}

/// What an add-on grants: included units, the overage rate (rate scale), credits per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AddonTerms {
    pub model: AddonModel,
    pub included_units: Option<i64>,
    pub overage_rate: Option<Rate>,
    pub credit_cost: Option<i64>,
}

impl AddonTerms {
    /// The combinations each model takes (`lifecycle.md` §5): `boolean` none; `metered` an
    /// overage rate and optional included units; `credits` a credit cost; `balance` an
    /// overage rate.
    pub fn check(&self) -> Result<(), DomainError> {
        let (units, rate, cost) = (
            self.included_units.is_some(),
            self.overage_rate.is_some(),
            self.credit_cost.is_some(),
        );
        let fits = match self.model {
            AddonModel::Boolean => !units && !rate && !cost,
            AddonModel::Metered => rate && !cost,
            AddonModel::Credits => cost && !units && !rate,
            AddonModel::Balance => rate && !units && !cost,
        };
        let mut problems = Vec::new();
        if !fits {
            problems.push(FieldError::new(
                "consumptionModel",
                "boolean add-ons take none of includedUnits, overageRate, creditCost; metered ones overageRate (and includedUnits); credits ones creditCost; balance ones overageRate",
            ));
        }
        bounded("includedUnits", self.included_units, 0, &mut problems);
        bounded(
            "overageRate",
            self.overage_rate.map(|r| r.0),
            0,
            &mut problems,
        );
        bounded("creditCost", self.credit_cost, 1, &mut problems);
        crate::catalog::problems_or(problems)
    }

    /// The feature type the model needs.
    pub fn feature_type(&self) -> FeatureType {
        match self.model {
            AddonModel::Boolean => FeatureType::Boolean,
            _ => FeatureType::Usage,
        }
    }
}

fn bounded(field: &str, value: Option<i64>, min: i64, problems: &mut Vec<FieldError>) {
    if value.is_some_and(|v| !(min..=AMOUNT_MAX).contains(&v)) {
        problems.push(FieldError::new(
            field,
            format!("{field} must be an integer from {min} to {AMOUNT_MAX}"),
        ));
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addon {
    pub id: AddonId,
    pub org_id: OrgId,
    pub name: String,
    /// Made from the name at creation, unique in the organization, never changed.
    pub slug: String,
    pub description: Option<String>,
    /// US cents per period.
    pub base_price: Cents,
    pub feature_id: FeatureId,
    pub terms: AddonTerms,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// An add-on with the feature it sells.
pub type AddonEntry = (Addon, Feature);

/// Name and price checks shared by create and update.
pub fn check_addon_fields(
    name: Option<&str>,
    base_price: Option<i64>,
    problems: &mut Vec<FieldError>,
) {
    if let Some(name) = name {
        check_name(name, "name", problems);
    }
    bounded("basePrice", base_price, 0, problems);
}

/// `SSO Plus!` → `sso-plus`: lower case, every run of other characters one `-`, none at the
/// ends; `addon` when nothing is left.
pub fn slug_of(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() {
        "addon".to_owned()
    } else {
        slug
    }
}

/// `base`, or `base-2`, `base-3`… — the first one not `taken`.
pub fn unique_slug(base: &str, taken: &[String]) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_owned();
    }
    (2..)
        .map(|n| format!("{base}-{n}"))
        .find(|candidate| !taken.contains(candidate))
        .expect("some suffix is free")
}

/// An add-on on a subscription, from its activation until its deactivation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activation {
    pub subscription_id: SubscriptionId,
    pub addon_id: AddonId,
    pub activated_at: Timestamp,
    pub deactivated_at: Option<Timestamp>,
}

/// The feature an active add-on grants, as the subscription holds it (`lifecycle.md` §2):
/// boolean ones enabled; metered ones with their included units and overage rate; credits
/// ones at their credit cost; balance ones at their rate.
pub fn addon_snapshot(addon: &Addon, feature: &Feature) -> FeatureSnapshot {
    let terms = addon.terms;
    FeatureSnapshot {
        feature_id: feature.id.clone(),
        code: feature.code.clone(),
        name: feature.name.clone(),
        feature_type: feature.feature_type,
        unit_name: feature.unit_name.clone(),
        enabled: true,
        included_amount: terms.included_units.unwrap_or(0),
        unlimited: false,
        overage: Overage {
            enabled: terms.overage_rate.is_some(),
            unit_price: terms.overage_rate,
        },
        credits_per_unit: terms.credit_cost,
        pricing_mode: "fixed".to_owned(),
    }
}

/// `round_half_up(basePrice × d / P)` for the days left of the period (`lifecycle.md` §5).
pub fn prorated_charge(
    base_price: Cents,
    period: &BillingPeriod,
    at: Timestamp,
) -> Result<(Cents, i64, i64), AmountTooLarge> {
    let total = period_days(period);
    let days = days_left(period, at).clamp(0, total);
    let numerator = i128::from(base_price.0.max(0)) * i128::from(days);
    let charge = (2 * numerator + i128::from(total)) / (2 * i128::from(total));
    let charge = i64::try_from(charge).map_err(|_| AmountTooLarge)?;
    Ok((Cents(charge), days, total))
}

/// The `addon_base` line: the add-on for a whole period (renewals), or its prorated part.
pub fn addon_line(addon: &Addon, amount: Cents, days: Option<(i64, i64)>) -> InvoiceLine {
    let description = match days {
        Some((left, total)) => format!("{}, {left}/{total} days", addon.name),
        None => addon.name.clone(),
    };
    InvoiceLine {
        line_type: LineType::AddonBase,
        charge_type: ChargeType::Advance,
        feature_name: None,
        description,
        quantity: 1,
        unit_amount: addon.base_price,
        amount,
        included_amount: None,
        used_amount: None,
        overage_amount: None,
        seat_event_id: None,
        discount: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_lower_case_runs_and_clashes_get_a_number() {
        assert_eq!(slug_of("SSO"), "sso");
        assert_eq!(
            slug_of("  Priority Support+ 24/7 "),
            "priority-support-24-7"
        );
        assert_eq!(slug_of("!!!"), "addon");
        let taken = ["sso".to_owned(), "sso-2".to_owned()];
        assert_eq!(unique_slug("sso", &taken), "sso-3");
        assert_eq!(unique_slug("audit", &taken), "audit");
    }

    #[test]
    fn each_model_takes_its_own_terms() {
        let terms = |model, included_units, overage_rate: Option<i64>, credit_cost| AddonTerms {
            model,
            included_units,
            overage_rate: overage_rate.map(Rate),
            credit_cost,
        };
        use AddonModel::{Balance, Boolean, Credits, Metered};
        for ok in [
            terms(Boolean, None, None, None),
            terms(Metered, None, Some(10), None),
            terms(Metered, Some(100), Some(10), None),
            terms(Credits, None, None, Some(2)),
            terms(Balance, None, Some(5), None),
        ] {
            assert!(ok.check().is_ok(), "{ok:?}");
        }
        for refused in [
            terms(Boolean, Some(1), None, None),
            terms(Metered, Some(100), None, None),
            terms(Credits, None, None, Some(0)),
            terms(Balance, Some(1), Some(5), None),
            terms(Metered, Some(-1), Some(10), None),
        ] {
            assert!(refused.check().is_err(), "{refused:?}");
        }
    }

    #[test]
    fn activation_on_day_12_of_31_charges_20_days() {
        let period = BillingPeriod {
            start: Timestamp::parse_rfc3339("2026-01-01T00:00:00Z").unwrap(),
            end: Timestamp::parse_rfc3339("2026-02-01T00:00:00Z").unwrap(),
        };
        let at = Timestamp::parse_rfc3339("2026-01-12T00:00:00Z").unwrap();
        assert_eq!(
            prorated_charge(Cents(5_000), &period, at),
            Ok((Cents(3_226), 20, 31))
        );
        assert_eq!(
            prorated_charge(Cents(5_000), &period, period.start),
            Ok((Cents(5_000), 31, 31))
        );
    }
}
