//! Offers, promo codes and the discounts they give (`commerce.md` §4): an offer is a sequence
//! of phases (a free trial, then discounts for some billing cycles); a promo code redeems one
//! at subscription creation; an application is an offer placed on one subscription, its phases
//! laid out in time. Only the plan's base price of a period's opening invoice is discounted.

use crate::billing::{ChargeType, InvoiceLine, LineType};
use crate::customer::{METADATA_KEYS_MAX, Metadata};
use crate::customer_credits::parse_currency;
use crate::money::Cents;
use crate::period::BillingInterval;
use crate::{DomainError, FieldError, OrgId, Timestamp};

pub const PHASES_MAX: usize = 10;
pub const TRIAL_DAYS_MAX: i64 = 730;
pub const BASIS_POINTS_MAX: i64 = 10_000;
pub const NAME_CHARS_MAX: usize = 100;
pub const CODE_CHARS_MAX: usize = 64;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// An amount in one currency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyAmount {
    pub currency: String,
    pub amount: i64,
}

/// One step of an offer. `cycles: None` lasts forever (only the last phase may).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    FreeTrial {
        days: i64,
    },
    /// Basis points off the base price.
    Percentage {
        cycles: Option<i64>,
        basis_points: i64,
    },
    AmountOff {
        cycles: Option<i64>,
        amounts: Vec<CurrencyAmount>,
    },
    /// The base price replaced by a price, for cycles of `interval` (else the subscription's).
    FixedPrice {
        cycles: Option<i64>,
        interval: Option<BillingInterval>,
        prices: Vec<CurrencyAmount>,
    },
}

/// A phase as a request spells it, before it is checked.
#[derive(Debug, Clone, Default)]
pub struct PhaseFields {
    pub phase_type: Option<String>,
    pub duration_days: Option<i64>,
    pub duration_cycles: Option<i64>,
    pub duration_interval: Option<String>,
    pub percentage: Option<i64>,
    /// `amounts` (amount_off) or `prices` (fixed_price).
    pub amounts: Option<Vec<(Option<String>, Option<i64>)>>,
    pub prices: Option<Vec<(Option<String>, Option<i64>)>>,
}

impl Phase {
    pub fn type_name(&self) -> &'static str {
        match self {
            Phase::FreeTrial { .. } => "free_trial",
            Phase::Percentage { .. } => "percentage",
            Phase::AmountOff { .. } => "amount_off",
            Phase::FixedPrice { .. } => "fixed_price",
        }
    }

    pub fn cycles(&self) -> Option<i64> {
        match self {
            Phase::FreeTrial { .. } => None,
            Phase::Percentage { cycles, .. }
            | Phase::AmountOff { cycles, .. }
            | Phase::FixedPrice { cycles, .. } => *cycles,
        }
    }

    pub fn interval(&self) -> Option<BillingInterval> {
        match self {
            Phase::FixedPrice { interval, .. } => *interval,
            _ => None,
        }
    }

    pub fn is_discount(&self) -> bool {
        !matches!(self, Phase::FreeTrial { .. })
    }

    /// Whether the phase can be applied in `currency` (amounts are per currency).
    fn has_currency(&self, currency: &str) -> bool {
        match self {
            Phase::AmountOff { amounts: list, .. } | Phase::FixedPrice { prices: list, .. } => {
                list.iter().any(|a| a.currency == currency)
            }
            _ => true,
        }
    }

    /// What this phase takes off base price `base` in `currency` (`commerce.md` §4.6):
    /// percentage rounded half away from zero, an amount never more than the base, a fixed
    /// price never below zero. `None` for a trial or a currency the phase has no amount in.
    pub fn discount(&self, base: Cents, currency: &str) -> Option<Cents> {
        let in_currency = |list: &[CurrencyAmount]| {
            list.iter()
                .find(|a| a.currency == currency)
                .map(|a| a.amount)
        };
        match self {
            Phase::FreeTrial { .. } => None,
            Phase::Percentage { basis_points, .. } => {
                let product = i128::from(base.0) * i128::from(*basis_points);
                let rounded = (product + 5_000) / 10_000;
                Some(Cents(i64::try_from(rounded).unwrap_or(base.0)))
            }
            Phase::AmountOff { amounts, .. } => {
                in_currency(amounts).map(|amount| Cents(amount.min(base.0)))
            }
            Phase::FixedPrice { prices, .. } => {
                in_currency(prices).map(|price| Cents((base.0 - price).max(0)))
            }
        }
    }

    /// One phase from its fields; problems are named `phases.<index>.<field>`.
    pub fn parse(
        index: usize,
        fields: &PhaseFields,
        problems: &mut Vec<FieldError>,
    ) -> Option<Phase> {
        let at = |field: &str| format!("phases.{index}.{field}");
        let mut bad =
            |field: &str, message: String| problems.push(FieldError::new(at(field), message));
        let cycles = match fields.duration_cycles {
            Some(n) if n < 1 => {
                bad(
                    "durationCycles",
                    "durationCycles must be at least 1, or null for ever".to_owned(),
                );
                return None;
            }
            other => other,
        };
        let interval = match fields.duration_interval.as_deref() {
            None => None,
            Some(text) => {
                match BillingInterval::parse(text).filter(|i| i.is_recurring()) {
                    Some(interval) => Some(interval),
                    None => {
                        bad("durationInterval", "durationInterval must be weekly, monthly, quarterly, semiannual or yearly".to_owned());
                        return None;
                    }
                }
            }
        };
        let phase_type = fields.phase_type.as_deref().unwrap_or_default();
        if interval.is_some() && phase_type != "fixed_price" {
            bad(
                "durationInterval",
                "only a fixed_price phase may set durationInterval".to_owned(),
            );
            return None;
        }
        let mut amounts =
            |list: &Option<Vec<(Option<String>, Option<i64>)>>, name: &str, least: i64| {
                let Some(list) = list.as_ref().filter(|l| !l.is_empty()) else {
                    bad(
                        name,
                        format!("{name} needs at least one {{currency, amount}}"),
                    );
                    return None;
                };
                let mut parsed: Vec<CurrencyAmount> = Vec::new();
                for (i, (currency, amount)) in list.iter().enumerate() {
                    let currency = currency.as_deref().and_then(parse_currency);
                    match (currency, amount) {
                        (Some(currency), Some(amount))
                            if *amount >= least && *amount <= crate::money::MONEY_MAX =>
                        {
                            if parsed.iter().any(|p| p.currency == currency) {
                                bad(
                                    &format!("{name}.{i}.currency"),
                                    "each currency may appear once".to_owned(),
                                );
                                return None;
                            }
                            parsed.push(CurrencyAmount {
                                currency,
                                amount: *amount,
                            });
                        }
                        (None, _) => {
                            bad(
                                &format!("{name}.{i}.currency"),
                                "currency is not one Commet prices in".to_owned(),
                            );
                            return None;
                        }
                        _ => {
                            bad(
                                &format!("{name}.{i}.amount"),
                                format!("amount must be an integer of at least {least}"),
                            );
                            return None;
                        }
                    }
                }
                Some(parsed)
            };
        match phase_type {
            "free_trial" => match fields.duration_days {
                Some(days) if (1..=TRIAL_DAYS_MAX).contains(&days) => {
                    Some(Phase::FreeTrial { days })
                }
                _ => {
                    bad(
                        "durationDays",
                        format!("durationDays must be 1 to {TRIAL_DAYS_MAX}"),
                    );
                    None
                }
            },
            "percentage" => match fields.percentage {
                Some(bp) if (1..=BASIS_POINTS_MAX).contains(&bp) => Some(Phase::Percentage {
                    cycles,
                    basis_points: bp,
                }),
                _ => {
                    bad(
                        "percentage",
                        "percentage must be 1 to 10000 basis points".to_owned(),
                    );
                    None
                }
            },
            "amount_off" => amounts(&fields.amounts, "amounts", 1)
                .map(|amounts| Phase::AmountOff { cycles, amounts }),
            "fixed_price" => amounts(&fields.prices, "prices", 0).map(|prices| Phase::FixedPrice {
                cycles,
                interval,
                prices,
            }),
            _ => {
                bad(
                    "type",
                    "type must be free_trial, percentage, amount_off or fixed_price".to_owned(),
                );
                None
            }
        }
    }
}

/// Checks a whole sequence: 1–10 phases, a free trial only first, every phase but the last
/// finite.
pub fn parse_phases(fields: &[PhaseFields]) -> Result<Vec<Phase>, DomainError> {
    if fields.is_empty() || fields.len() > PHASES_MAX {
        return Err(DomainError::field(
            "phases",
            format!("an offer has 1 to {PHASES_MAX} phases"),
        ));
    }
    let mut problems = Vec::new();
    let phases: Vec<Phase> = fields
        .iter()
        .enumerate()
        .filter_map(|(i, f)| Phase::parse(i, f, &mut problems))
        .collect();
    if !problems.is_empty() {
        return Err(DomainError::Validation(problems));
    }
    for (i, phase) in phases.iter().enumerate() {
        if matches!(phase, Phase::FreeTrial { .. }) && i > 0 {
            return Err(DomainError::field(
                format!("phases.{i}.type"),
                "a free_trial phase may only come first",
            ));
        }
        let last = i + 1 == phases.len();
        if phase.is_discount() && phase.cycles().is_none() && !last {
            return Err(DomainError::field(
                format!("phases.{i}.durationCycles"),
                "only the last phase may last for ever (durationCycles null)",
            ));
        }
    }
    if phases.len() == 1 && matches!(phases[0], Phase::FreeTrial { .. }) {
        // A lone trial is a valid offer; it simply discounts nothing.
    }
    Ok(phases)
}

/// An offer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub id: String,
    pub org_id: OrgId,
    pub name: String,
    pub phases: Vec<Phase>,
    pub metadata: Metadata,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub active: bool,
    pub deleted: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// What a create or update sets (update replaces name and phases).
#[derive(Debug, Clone)]
pub struct OfferFields {
    pub name: String,
    pub phases: Vec<Phase>,
    pub metadata: Option<Metadata>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub active: Option<bool>,
}

impl OfferFields {
    /// Name 1–100 characters, `endsAt` after `startsAt`, at most 50 metadata keys.
    pub fn check(&self) -> Result<(), DomainError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > NAME_CHARS_MAX {
            return Err(DomainError::field(
                "name",
                format!("name must be 1 to {NAME_CHARS_MAX} characters"),
            ));
        }
        if let (Some(starts), Some(ends)) = (self.starts_at, self.ends_at)
            && ends <= starts
        {
            return Err(DomainError::field(
                "endsAt",
                "endsAt must be after startsAt",
            ));
        }
        if self
            .metadata
            .as_ref()
            .is_some_and(|m| m.len() > METADATA_KEYS_MAX)
        {
            return Err(DomainError::field(
                "metadata",
                format!("metadata may have at most {METADATA_KEYS_MAX} keys"),
            ));
        }
        Ok(())
    }
}

impl Offer {
    /// Active, not deleted, inside its window at `now`, and priced in `currency` wherever it
    /// names amounts (`commerce.md` §4.1).
    pub fn is_selectable(&self, now: Timestamp, currency: &str) -> bool {
        self.active
            && !self.deleted
            && self.starts_at.is_none_or(|s| s <= now)
            && self.ends_at.is_none_or(|e| now < e)
            && self.phases.iter().all(|p| p.has_currency(currency))
    }

    /// What a promo code may redeem: an optional leading trial, then at least one discount.
    pub fn suits_promo_code(&self) -> bool {
        self.phases.iter().any(Phase::is_discount)
    }

    pub fn trial_days(&self) -> Option<i64> {
        match self.phases.first() {
            Some(Phase::FreeTrial { days }) => Some(*days),
            _ => None,
        }
    }
}

/// A promo code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PromoCode {
    pub id: String,
    pub org_id: OrgId,
    /// As created; matched in any case.
    pub code: String,
    pub offer_id: String,
    pub billing_interval: Option<BillingInterval>,
    pub max_redemptions: Option<i64>,
    pub expires_at: Option<Timestamp>,
    pub active: bool,
    pub redemption_count: i64,
    /// Empty: every plan.
    pub plan_ids: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `^[A-Za-z0-9_-]{1,64}$`.
pub fn check_code(code: &str) -> Result<(), DomainError> {
    let ok = !code.is_empty()
        && code.chars().count() <= CODE_CHARS_MAX
        && code
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if ok {
        Ok(())
    } else {
        Err(DomainError::field(
            "code",
            "code must be 1 to 64 letters, digits, _ or -",
        ))
    }
}

/// Why a code or offer cannot be used where it was sent (`offer_not_applicable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotApplicable {
    MaxRedemptionsReached,
    PlanNotEligible,
    IntervalNotEligible,
    OfferNotSelectable,
    FreePlan,
    /// Apply-offer only: the offer starts with a trial, or another discount is still to come.
    Conflicting,
    /// Remove-offer only: no offer waits to start.
    NothingToRemove,
}

impl NotApplicable {
    pub fn reason(self) -> &'static str {
        match self {
            Self::MaxRedemptionsReached => "max_redemptions_reached",
            Self::PlanNotEligible => "plan_not_eligible",
            Self::IntervalNotEligible => "interval_not_eligible",
            Self::OfferNotSelectable => "offer_not_selectable",
            Self::FreePlan => "free_plan",
            Self::Conflicting => "offer_conflict",
            Self::NothingToRemove => "nothing_to_remove",
        }
    }
}

/// Where a code stands for a subscription to `plan_id` at `interval` at `now`: usable, expired,
/// or not applicable (and why). Expiry is checked first (`commerce.md` §4.3).
pub enum Redemption {
    Usable,
    Expired,
    NotApplicable(NotApplicable),
}

impl PromoCode {
    pub fn redemption(
        &self,
        plan_id: &str,
        interval: Option<BillingInterval>,
        now: Timestamp,
    ) -> Redemption {
        if self.expires_at.is_some_and(|e| e <= now) {
            return Redemption::Expired;
        }
        if self
            .max_redemptions
            .is_some_and(|max| self.redemption_count >= max)
        {
            return Redemption::NotApplicable(NotApplicable::MaxRedemptionsReached);
        }
        if !self.plan_ids.is_empty() && !self.plan_ids.iter().any(|p| p == plan_id) {
            return Redemption::NotApplicable(NotApplicable::PlanNotEligible);
        }
        if self.billing_interval.is_some() && self.billing_interval != interval {
            return Redemption::NotApplicable(NotApplicable::IntervalNotEligible);
        }
        Redemption::Usable
    }
}

/// The legacy view of a code's terms (`commerce.md` §4.2): its offer's first phase as a
/// percentage or a US-dollar amount, with its cycles; `None` when that phase is neither.
pub fn legacy_terms(offer: &Offer) -> Option<(&'static str, i64, Option<i64>)> {
    match offer.phases.first()? {
        Phase::Percentage {
            cycles,
            basis_points,
        } => Some(("percentage", *basis_points, *cycles)),
        Phase::AmountOff { cycles, amounts } => amounts
            .iter()
            .find(|a| a.currency == "usd")
            .map(|a| ("amount", a.amount, *cycles)),
        _ => None,
    }
}

/// The offer a legacy code creation describes: one percentage phase (1–9999 basis points) or
/// one US-dollar amount off.
pub fn legacy_phase(
    discount_type: &str,
    value: i64,
    cycles: Option<i64>,
) -> Result<Phase, DomainError> {
    if cycles.is_some_and(|c| c < 1) {
        return Err(DomainError::field(
            "durationCycles",
            "durationCycles must be at least 1, or null for ever",
        ));
    }
    match discount_type {
        "percentage" if (1..BASIS_POINTS_MAX).contains(&value) => Ok(Phase::Percentage {
            cycles,
            basis_points: value,
        }),
        "percentage" => Err(DomainError::field(
            "discountValue",
            "a percentage is 1 to 9999 basis points (below 100 %)",
        )),
        "amount" if (1..=crate::money::MONEY_MAX).contains(&value) => Ok(Phase::AmountOff {
            cycles,
            amounts: vec![CurrencyAmount {
                currency: "usd".to_owned(),
                amount: value,
            }],
        }),
        "amount" => Err(DomainError::field(
            "discountValue",
            "an amount is at least 1 cent",
        )),
        _ => Err(DomainError::field(
            "discountType",
            "discountType must be percentage or amount",
        )),
    }
}

/// How an application came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Direct,
    PromoCode,
    /// The price's introductory offer, applied when nothing else was chosen.
    Introductory,
    /// Terms given inline at creation (legacy `introOffer`), replacing the price's.
    Custom,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Direct => "direct",
            Self::PromoCode => "promo_code",
            Self::Introductory => "introductory",
            Self::Custom => "custom",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Direct,
            Self::PromoCode,
            Self::Introductory,
            Self::Custom,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }
}

/// The name of an application of custom terms.
pub const CUSTOM_NAME: &str = "Custom discount";

/// What an introductory offer may hold (`commerce.md` §4.6): an optional leading trial and at
/// most one finite percentage or amount-off phase.
pub fn suits_intro(phases: &[Phase]) -> bool {
    let discounts: Vec<&Phase> = phases.iter().filter(|p| p.is_discount()).collect();
    discounts.len() <= 1
        && discounts.iter().all(|p| {
            p.cycles().is_some() && matches!(p, Phase::Percentage { .. } | Phase::AmountOff { .. })
        })
}

/// A phase placed in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedPhase {
    pub phase: Phase,
    pub starts_at: Timestamp,
    /// `None`: for ever.
    pub ends_at: Option<Timestamp>,
}

impl PlacedPhase {
    fn covers(&self, at: Timestamp) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

/// Lays `phases` out from `anchor`: a trial for its days, a discount for its cycles of its
/// interval (else `interval`), counted like billing periods; a phase for ever ends the layout.
pub fn place_phases(
    phases: &[Phase],
    anchor: Timestamp,
    interval: BillingInterval,
) -> Vec<PlacedPhase> {
    let mut placed = Vec::with_capacity(phases.len());
    let mut start = Some(anchor);
    for phase in phases {
        let Some(starts_at) = start else { break };
        let ends_at = match phase {
            Phase::FreeTrial { days } => Some(starts_at.plus_millis(days * DAY_MS)),
            _ => phase.cycles().and_then(|n| {
                let every = phase.interval().unwrap_or(interval);
                every.boundary(starts_at, u32::try_from(n).unwrap_or(u32::MAX))
            }),
        };
        placed.push(PlacedPhase {
            phase: phase.clone(),
            starts_at,
            ends_at,
        });
        start = ends_at;
    }
    placed
}

/// An offer placed on a subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferApplication {
    pub id: String,
    pub org_id: OrgId,
    pub subscription_id: String,
    pub offer_id: Option<String>,
    /// The offer's name.
    pub name: String,
    /// The code redeemed, for `promo_code` applications: the discount's name.
    pub promo_code: Option<String>,
    pub source: Source,
    pub currency: String,
    pub price_id: Option<String>,
    pub phases: Vec<PlacedPhase>,
    pub applied_at: Timestamp,
    /// Stored only (apply-offer).
    pub expires_at: Option<Timestamp>,
    /// Set when the application was ended early: cancellation, removal, an immediate plan
    /// change.
    pub ended_at: Option<Timestamp>,
    /// The first discounted period: plan base, discount, what is left.
    pub first_period: Option<(Cents, Cents, Cents)>,
}

impl OfferApplication {
    /// `expired` once ended or past its last phase, else `applied`.
    pub fn status(&self, now: Timestamp) -> &'static str {
        let over = self
            .phases
            .last()
            .and_then(|p| p.ends_at)
            .is_some_and(|end| end <= now);
        if self.ended_at.is_some() || over {
            "expired"
        } else {
            "applied"
        }
    }

    /// The name discount lines and views carry: the code for a promo code, else the offer's.
    pub fn discount_name(&self) -> &str {
        self.promo_code.as_deref().unwrap_or(&self.name)
    }

    /// The discount phase that prices a period starting at `period_start`.
    pub fn phase_for(&self, period_start: Timestamp) -> Option<&PlacedPhase> {
        if self.ended_at.is_some_and(|end| end <= period_start) {
            return None;
        }
        self.phases
            .iter()
            .find(|p| p.phase.is_discount() && p.covers(period_start))
    }

    /// The discount phase covering `now`, else the next one to start (the legacy `discount`).
    pub fn current_or_next(&self, now: Timestamp) -> Option<&PlacedPhase> {
        if self.ended_at.is_some() {
            return None;
        }
        let discounts = || self.phases.iter().filter(|p| p.phase.is_discount());
        discounts()
            .find(|p| p.covers(now))
            .or_else(|| discounts().find(|p| p.starts_at > now))
    }

    /// Whether a discount of this application is running or still to come at `now`.
    pub fn has_discount_ahead(&self, now: Timestamp) -> bool {
        self.current_or_next(now).is_some()
    }

    /// The discount line for base `base` on a period starting at `period_start`, if any.
    pub fn discount_line(&self, base: Cents, period_start: Timestamp) -> Option<InvoiceLine> {
        let placed = self.phase_for(period_start)?;
        let off = placed.phase.discount(base, &self.currency)?;
        if off.0 <= 0 {
            return None;
        }
        let (line_type, discount_type, value) = match &placed.phase {
            Phase::Percentage { basis_points, .. } => {
                (self.line_type(), "percentage", *basis_points)
            }
            _ => (self.line_type(), "amount", off.0),
        };
        let mut line = InvoiceLine::single(
            line_type,
            ChargeType::Advance,
            format!("Discount: {}", self.discount_name()),
            Cents(-off.0),
        );
        line.discount = Some(crate::billing::LineDiscount {
            discount_type,
            value,
            name: self.discount_name().to_owned(),
        });
        Some(line)
    }

    fn line_type(&self) -> LineType {
        match self.source {
            Source::PromoCode => LineType::PromoCodeDiscount,
            Source::Direct | Source::Introductory | Source::Custom => LineType::Discount,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn percentage(cycles: Option<i64>, bp: i64) -> Phase {
        Phase::Percentage {
            cycles,
            basis_points: bp,
        }
    }

    #[test]
    fn discounts_follow_the_contracts_examples() {
        // (a) 50 % of 9900; (b) 20 % of 10000; (c) a fixed 2900 on 9900.
        assert_eq!(
            percentage(Some(3), 5_000).discount(Cents(9_900), "usd"),
            Some(Cents(4_950))
        );
        assert_eq!(
            percentage(None, 2_000).discount(Cents(10_000), "usd"),
            Some(Cents(2_000))
        );
        let fixed = Phase::FixedPrice {
            cycles: Some(1),
            interval: None,
            prices: vec![CurrencyAmount {
                currency: "usd".into(),
                amount: 2_900,
            }],
        };
        assert_eq!(fixed.discount(Cents(9_900), "usd"), Some(Cents(7_000)));
        assert_eq!(fixed.discount(Cents(1_000), "usd"), Some(Cents(0)));
        assert_eq!(fixed.discount(Cents(9_900), "eur"), None);
        let off = Phase::AmountOff {
            cycles: Some(1),
            amounts: vec![CurrencyAmount {
                currency: "usd".into(),
                amount: 20_000,
            }],
        };
        assert_eq!(
            off.discount(Cents(9_900), "usd"),
            Some(Cents(9_900)),
            "never more than the base"
        );
        // Half away from zero: 1 bp of 50 cents is 0.005 → 0; 50 bp of 101 → 0.505 → 1.
        assert_eq!(
            percentage(None, 1).discount(Cents(50), "usd"),
            Some(Cents(0))
        );
        assert_eq!(
            percentage(None, 50).discount(Cents(101), "usd"),
            Some(Cents(1))
        );
    }

    #[test]
    fn phases_chain_from_the_anchor_by_billing_periods() {
        let sept = Timestamp::parse_rfc3339("2026-09-01T00:00:00.000Z").unwrap();
        let placed = place_phases(
            &[
                Phase::FreeTrial { days: 14 },
                percentage(Some(3), 5_000),
                percentage(None, 1_000),
            ],
            sept,
            BillingInterval::Monthly,
        );
        let at = |text| Timestamp::parse_rfc3339(text).unwrap();
        assert_eq!(placed[0].ends_at, Some(at("2026-09-15T00:00:00.000Z")));
        assert_eq!(placed[1].ends_at, Some(at("2026-12-15T00:00:00.000Z")));
        assert_eq!(
            (placed[2].starts_at, placed[2].ends_at),
            (at("2026-12-15T00:00:00.000Z"), None)
        );
    }

    #[test]
    fn sequences_are_checked_as_a_whole() {
        let trial = PhaseFields {
            phase_type: Some("free_trial".into()),
            duration_days: Some(7),
            ..PhaseFields::default()
        };
        let forever = PhaseFields {
            phase_type: Some("percentage".into()),
            percentage: Some(1_000),
            ..PhaseFields::default()
        };
        assert!(parse_phases(&[trial.clone(), forever.clone()]).is_ok());
        assert!(
            parse_phases(&[forever.clone(), trial.clone()]).is_err(),
            "a trial comes first"
        );
        assert!(
            parse_phases(&[forever.clone(), forever.clone()]).is_err(),
            "only the last is for ever"
        );
        assert!(parse_phases(&[]).is_err());
        let bad_interval = PhaseFields {
            duration_interval: Some("monthly".into()),
            ..forever.clone()
        };
        assert!(
            parse_phases(&[bad_interval]).is_err(),
            "only fixed_price sets an interval"
        );
        let too_much = PhaseFields {
            percentage: Some(10_001),
            ..forever
        };
        assert!(parse_phases(&[too_much]).is_err());
        assert!(
            legacy_phase("percentage", 10_000, None).is_err(),
            "legacy codes stay below 100 %"
        );
    }
}
