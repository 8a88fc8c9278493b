//! Seat billing and invoice lines (`seats.md` §5, `balance.md` §5): the plan base and extra
//! seats in advance for each period, day-prorated true-ups for extra seats added during one.
//! Money is integer cents; the one rounding rule is stated where it happens. Every line and
//! total is computed wide and checked against `MONEY_MAX`, never wrapped.

use crate::Timestamp;
use crate::money::{AmountTooLarge, Cents, RATE_PER_CENT, Rate, bounded};
use crate::period::BillingPeriod;
use crate::time::MILLIS_PER_DAY;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineType {
    PlanBase,
    FeatureSeats,
    OneTime,
    /// Extra units of a quota feature, billed like seats (`usage.md` §5).
    FeatureQuota,
    /// Metered units past the included amount, billed in arrears (`usage.md` §5).
    FeatureOverage,
    /// A balance plan's deficit at period end (`usage.md` §5).
    BalanceOverage,
    /// An amount taken off the invoice: the unused time of a plan left behind by an immediate
    /// plan change (`lifecycle.md` §4.3). Always negative.
    Credit,
    /// An add-on for a period, in advance (`lifecycle.md` §5).
    AddonBase,
    /// What an offer takes off the plan base (`commerce.md` §4.6). Always negative.
    Discount,
    /// The same, for an offer redeemed with a promo code.
    PromoCodeDiscount,
}

impl LineType {
    pub fn as_str(self) -> &'static str {
        match self {
            LineType::PlanBase => "plan_base",
            LineType::FeatureSeats => "feature_seats",
            LineType::OneTime => "one_time",
            LineType::FeatureQuota => "feature_quota",
            LineType::FeatureOverage => "feature_overage",
            LineType::BalanceOverage => "balance_overage",
            LineType::Credit => "credit",
            LineType::AddonBase => "addon_base",
            LineType::Discount => "discount",
            LineType::PromoCodeDiscount => "promo_code_discount",
        }
    }

    /// A discount line (`discount` or `promo_code_discount`).
    pub fn is_discount(self) -> bool {
        matches!(self, LineType::Discount | LineType::PromoCodeDiscount)
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::PlanBase,
            Self::FeatureSeats,
            Self::OneTime,
            Self::FeatureQuota,
            Self::FeatureOverage,
            Self::BalanceOverage,
            Self::Credit,
            Self::AddonBase,
            Self::Discount,
            Self::PromoCodeDiscount,
        ]
        .into_iter()
        .find(|t| t.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChargeType {
    Standard,
    Advance,
    TrueUp,
}

impl ChargeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChargeType::Standard => "standard",
            ChargeType::Advance => "advance",
            ChargeType::TrueUp => "true_up",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Self::Standard, Self::Advance, Self::TrueUp]
            .into_iter()
            .find(|t| t.as_str() == text)
    }
}

/// One invoice line. `seat_event_id` names the seat event a seat line comes from, so every
/// charge can be traced to the change that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceLine {
    pub line_type: LineType,
    pub charge_type: ChargeType,
    pub feature_name: Option<String>,
    pub description: String,
    pub quantity: i64,
    pub unit_amount: Cents,
    pub amount: Cents,
    pub included_amount: Option<i64>,
    pub used_amount: Option<i64>,
    pub overage_amount: Option<i64>,
    pub seat_event_id: Option<String>,
    /// The terms of a discount line.
    pub discount: Option<LineDiscount>,
}

/// What a discount line shows of its terms (`commerce.md` §4.6).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineDiscount {
    /// `percentage` or `amount`.
    pub discount_type: &'static str,
    /// Basis points, or the amount taken off.
    pub value: i64,
    pub name: String,
}

impl LineDiscount {
    /// `percentage` or `amount` as stored.
    pub fn parse_type(text: &str) -> Option<&'static str> {
        ["percentage", "amount"].into_iter().find(|t| *t == text)
    }
}

impl InvoiceLine {
    /// One unit at `amount` (signed), with no feature or usage figures: a one-off charge, a
    /// credit, a top-up, a deficit.
    pub fn single(
        line_type: LineType,
        charge_type: ChargeType,
        description: String,
        amount: Cents,
    ) -> Self {
        Self {
            line_type,
            charge_type,
            feature_name: None,
            description,
            quantity: 1,
            unit_amount: amount,
            amount,
            included_amount: None,
            used_amount: None,
            overage_amount: None,
            seat_event_id: None,
            discount: None,
        }
    }
}

/// An invoice's subtotal: the sum of its charge lines (no tax in Tally), refused above
/// `MONEY_MAX`. Credit and discount lines are not part of it: they are `credit_applied` and
/// `discount_amount`.
pub fn subtotal(lines: &[InvoiceLine]) -> Result<Cents, AmountTooLarge> {
    lines
        .iter()
        .filter(|line| line.line_type != LineType::Credit && !line.line_type.is_discount())
        .try_fold(Cents(0), |sum, line| sum.checked_add(line.amount))
}

/// What an invoice's discount lines take off its subtotal, as a positive amount.
pub fn discount_amount(lines: &[InvoiceLine]) -> Cents {
    Cents(
        lines
            .iter()
            .filter(|line| line.line_type.is_discount())
            .map(|line| line.amount.0.saturating_neg())
            .fold(0_i64, i64::saturating_add),
    )
}

/// The base price an invoice that opened a period charged: its `plan_base` lines less the
/// discounts on them. Seats and other lines are not part of it, so a plan change never credits
/// them (`lifecycle.md` §4.3).
pub fn base_paid(lines: &[InvoiceLine]) -> Cents {
    Cents(
        lines
            .iter()
            .filter(|line| line.line_type == LineType::PlanBase || line.line_type.is_discount())
            .map(|line| line.amount.0)
            .fold(0_i64, i64::saturating_add)
            .max(0),
    )
}

/// What an invoice's credit lines take off its subtotal, as a positive amount.
pub fn credit_applied(lines: &[InvoiceLine]) -> Cents {
    Cents(
        lines
            .iter()
            .filter(|line| line.line_type == LineType::Credit)
            .map(|line| line.amount.0.saturating_neg())
            .fold(0_i64, i64::saturating_add),
    )
}

/// `a / b` rounded half up, for non-negative `a` and positive `b`.
fn div_round_half_up(a: i128, b: i128) -> i128 {
    (2 * a + b) / (2 * b)
}

/// The price of one seat for a whole period, in cents. Decision: a unit price on the rate scale
/// that is not a whole number of cents rounds half up (a charge is stated in whole cents).
pub fn seat_unit_cents(unit_price: Rate) -> Cents {
    let cents = div_round_half_up(i128::from(unit_price.0.max(0)), i128::from(RATE_PER_CENT));
    Cents(i64::try_from(cents).expect("an i64 divided by 100 fits i64"))
}

/// Whole days in a period (`seats.md` §5 `periodDays`), at least 1.
pub fn period_days(period: &BillingPeriod) -> i64 {
    ((period.end.as_millis() - period.start.as_millis()) / MILLIS_PER_DAY).max(1)
}

/// Days left at `at`, rounded up (`seats.md` §5 `daysLeft`).
pub fn days_left(period: &BillingPeriod, at: Timestamp) -> i64 {
    period.days_remaining(at)
}

/// The prorated charge for `units` extra seats added at `at`:
/// `round_half_up(units × unitPrice × daysLeft / periodDays / 100)` cents (`seats.md` §5).
/// Half up because the contract's formula says so; a charge never exceeds the full period's.
/// Returns the charge, `daysLeft` and `periodDays`; a charge above `MONEY_MAX` is refused.
pub fn true_up(
    units: i64,
    unit_price: Rate,
    period: &BillingPeriod,
    at: Timestamp,
) -> Result<(Cents, i64, i64), AmountTooLarge> {
    let days = period_days(period);
    let left = days_left(period, at).clamp(0, days);
    // Checked even in i128: seat counts and prices are bounded at the edge, but the rule does
    // not rely on callers for that.
    let numerator = i128::from(units.max(0))
        .checked_mul(i128::from(unit_price.0.max(0)))
        .and_then(|n| n.checked_mul(i128::from(left)))
        .ok_or(AmountTooLarge)?;
    let denominator = i128::from(days) * i128::from(RATE_PER_CENT);
    let cents = bounded(div_round_half_up(numerator, denominator))?;
    Ok((Cents(cents), left, days))
}

/// An upper bound, in cents, of the true-ups a period has accrued when `paid_extra_seats`
/// extra seats (all features together) became paid in it: each seat charged at most a whole
/// period at the largest unit price the catalog accepts, plus half a cent of rounding. Lets a
/// seat write skip reading the true-ups when even this bound keeps the invoice within
/// `MONEY_MAX`.
pub fn true_ups_ceiling(paid_extra_seats: i64) -> i128 {
    let per_seat = i128::from(crate::catalog::AMOUNT_MAX / RATE_PER_CENT) + 1;
    i128::from(paid_extra_seats.max(0)) * per_seat
}

/// The plan base line for a period, described as the contract's examples do:
/// `Pro (Oct 1 – Nov 1, 2026)`.
pub fn plan_base_line(plan_name: &str, price: Cents, period: &BillingPeriod) -> InvoiceLine {
    InvoiceLine {
        line_type: LineType::PlanBase,
        charge_type: ChargeType::Advance,
        feature_name: None,
        description: format!(
            "{plan_name} ({} – {})",
            period.start.month_day(),
            period.end.month_day_year()
        ),
        quantity: 1,
        unit_amount: price,
        amount: price,
        included_amount: None,
        used_amount: None,
        overage_amount: None,
        seat_event_id: None,
        discount: None,
    }
}

/// Extra seats held going into a period, billed in advance; `None` when there are none, and
/// refused when the line would exceed `MONEY_MAX`.
pub fn seat_advance_line(
    feature_code: &str,
    feature_name: &str,
    included: i64,
    count: i64,
    extra: i64,
    unit_price: Rate,
    seat_event_id: Option<String>,
) -> Result<Option<InvoiceLine>, AmountTooLarge> {
    let unit = seat_unit_cents(unit_price);
    let amount = unit.checked_times(extra.max(0))?;
    Ok((extra > 0 && amount.0 > 0).then(|| InvoiceLine {
        line_type: LineType::FeatureSeats,
        charge_type: ChargeType::Advance,
        feature_name: Some(feature_name.to_owned()),
        description: format!("{extra} × {feature_code} seat above {included} included"),
        quantity: extra,
        unit_amount: unit,
        amount,
        included_amount: Some(included),
        used_amount: Some(count),
        overage_amount: Some(extra),
        seat_event_id,
        discount: None,
    }))
}

/// A true-up line for extra seats added during the period that just ended:
/// `1 × editor seat added Sep 16, 15/30 days`.
pub fn seat_true_up_line(true_up: &SeatTrueUp) -> InvoiceLine {
    let SeatTrueUp {
        feature_code,
        feature_name,
        units,
        unit_price,
        amount,
        ..
    } = true_up;
    let (units, unit_price, amount) = (*units, *unit_price, *amount);
    InvoiceLine {
        line_type: LineType::FeatureSeats,
        charge_type: ChargeType::TrueUp,
        feature_name: Some(feature_name.to_owned()),
        description: format!(
            "{units} × {feature_code} seat added {}, {}/{} days",
            true_up.created_at.month_day(),
            true_up.days_left,
            true_up.period_days
        ),
        quantity: units,
        unit_amount: seat_unit_cents(unit_price),
        amount,
        included_amount: None,
        used_amount: None,
        overage_amount: None,
        seat_event_id: Some(true_up.seat_event_id.clone()),
        discount: None,
    }
}

/// A metered feature's units past its included amount in a usage period that ended (`usage.md`
/// §5): `amount = round_half_up(units × unitPrice / 100)` cents, exact; `unitAmount` is the unit
/// price rounded to a cent, for display (a sub-cent price would otherwise read as 0). `None` when
/// nothing is owed.
pub fn usage_overage_line(
    feature_code: &str,
    feature_name: &str,
    (included, used, units): (i64, i64, i64),
    unit_price: Rate,
) -> Result<Option<InvoiceLine>, AmountTooLarge> {
    let price = i128::from(unit_price.0.max(0));
    let amount = Cents(bounded(div_round_half_up(
        i128::from(units.max(0)) * price,
        i128::from(RATE_PER_CENT),
    ))?);
    Ok((units > 0 && amount.0 > 0).then(|| InvoiceLine {
        line_type: LineType::FeatureOverage,
        charge_type: ChargeType::Standard,
        feature_name: Some(feature_name.to_owned()),
        description: format!(
            "{units} × {feature_code} above {included} included, at {} per unit",
            rate_text(unit_price)
        ),
        quantity: units,
        unit_amount: seat_unit_cents(unit_price),
        amount,
        included_amount: Some(included),
        used_amount: Some(used),
        overage_amount: Some(units),
        seat_event_id: None,
        discount: None,
    }))
}

/// The exact price of a unit on the rate scale, as dollars: `$0.0125`.
fn rate_text(rate: Rate) -> String {
    let whole = rate.0 / 10_000;
    let fraction = format!("{:04}", rate.0 % 10_000);
    let fraction = fraction.trim_end_matches('0');
    let fraction = if fraction.len() < 2 {
        format!("{fraction:0<2}")
    } else {
        fraction.to_owned()
    };
    format!("${whole}.{fraction}")
}

/// A balance below zero at the end of a period, billed in arrears (`usage.md` §5):
/// `round_half_up(−balance / 100)` cents. `None` when the balance is not negative.
pub fn balance_overage_line(balance: Rate) -> Result<Option<InvoiceLine>, AmountTooLarge> {
    if balance.0 >= 0 {
        return Ok(None);
    }
    let owed = -i128::from(balance.0);
    let amount = Cents(bounded(div_round_half_up(owed, i128::from(RATE_PER_CENT)))?);
    Ok((amount.0 > 0).then(|| {
        InvoiceLine::single(
            LineType::BalanceOverage,
            ChargeType::Standard,
            "Usage beyond the prepaid balance".to_owned(),
            amount,
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_overage_and_balance_deficits_are_billed_to_the_cent() {
        // usage.md §5: 2000 calls over at $0.01 → 2000 cents.
        let line = usage_overage_line("api_calls", "API calls", (10_000, 12_000, 2_000), Rate(100))
            .unwrap()
            .unwrap();
        assert_eq!(
            (line.quantity, line.unit_amount, line.amount),
            (2_000, Cents(1), Cents(2_000))
        );
        assert!(line.description.contains("$0.01"), "{}", line.description);
        // A sub-cent price: 3 units at $0.0125 = 3.75 cents, half up to 4.
        let small = usage_overage_line("t", "T", (0, 3, 3), Rate(125))
            .unwrap()
            .unwrap();
        assert_eq!(small.amount, Cents(4));
        assert!(
            small.description.contains("$0.0125"),
            "{}",
            small.description
        );
        assert_eq!(
            usage_overage_line("t", "T", (5, 5, 0), Rate(100)).unwrap(),
            None
        );
        // usage.md §5 scenario D: a balance of −25 000 (rate scale) is 250 cents.
        let deficit = balance_overage_line(Rate(-25_000)).unwrap().unwrap();
        assert_eq!(deficit.amount, Cents(250));
        assert_eq!(balance_overage_line(Rate(0)).unwrap(), None);
    }

    fn period(start: &str, end: &str) -> BillingPeriod {
        BillingPeriod {
            start: Timestamp::parse_rfc3339(start).unwrap(),
            end: Timestamp::parse_rfc3339(end).unwrap(),
        }
    }

    #[test]
    fn the_worked_examples_of_the_contract_come_out_to_the_cent() {
        // seats.md §5 example 1: 3 extra seats at $25 in advance.
        let advance = seat_advance_line("editor", "Editor seats", 5, 8, 3, Rate(250_000), None)
            .unwrap()
            .unwrap();
        assert_eq!(advance.amount, Cents(7_500));
        // Example 2: one seat added with 15 of 30 days left.
        let september = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let (amount, left, days) = true_up(
            1,
            Rate(250_000),
            &september,
            Timestamp::parse_rfc3339("2026-09-16T00:00:00Z").unwrap(),
        )
        .unwrap();
        assert_eq!((amount, left, days), (Cents(1_250), 15, 30));
        let october = period("2026-10-01T00:00:00Z", "2026-11-01T00:00:00Z");
        let added = SeatTrueUp {
            seat_event_id: "sev_1".into(),
            subscription_id: crate::subscription::SubscriptionId::from_stored("sub_1".into()),
            feature_code: "editor".into(),
            feature_name: "Editor seats".into(),
            units: 1,
            unit_price: Rate(250_000),
            days_left: left,
            period_days: days,
            amount,
            created_at: Timestamp::parse_rfc3339("2026-09-16T00:00:00Z").unwrap(),
        };
        let lines = [
            plan_base_line("Pro", Cents(9_900), &october),
            added.line(),
            seat_advance_line("editor", "Editor seats", 5, 7, 2, Rate(250_000), None)
                .unwrap()
                .unwrap(),
        ];
        // The descriptions of examples.md scenario 5.
        let descriptions: Vec<_> = lines.iter().map(|l| l.description.as_str()).collect();
        assert_eq!(
            descriptions,
            [
                "Pro (Oct 1 – Nov 1, 2026)",
                "1 × editor seat added Sep 16, 15/30 days",
                "2 × editor seat above 5 included"
            ]
        );
        assert_eq!(subtotal(&lines), Ok(Cents(16_150)));
    }

    #[test]
    fn a_true_up_rounds_half_up_and_never_exceeds_the_whole_period() {
        let month = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let start = month.start;

        let (whole, _, _) = true_up(1, Rate(250_000), &month, start).unwrap();
        let (odd, _, _) = true_up(
            1,
            Rate(10_001),
            &month,
            start.plus_millis(29 * MILLIS_PER_DAY),
        )
        .unwrap();

        assert_eq!(whole, Cents(2_500));
        // 10001 × 1 / 30 / 100 = 3.3337 cents → 3.
        assert_eq!(odd, Cents(3));
        assert!(
            true_up(2, Rate(250_000), &month, start.plus_millis(-MILLIS_PER_DAY))
                .unwrap()
                .0
                <= Cents(5_000)
        );
    }

    #[test]
    fn the_true_ups_ceiling_covers_every_true_up_of_the_paid_seats() {
        let month = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let largest = Rate(crate::catalog::AMOUNT_MAX);
        // Whole periods at the largest unit price, and at one whose cents round up.
        let whole = true_up(3, largest, &month, month.start).unwrap().0;
        let odd = true_up(1, Rate(crate::catalog::AMOUNT_MAX - 1), &month, month.start)
            .unwrap()
            .0;

        assert!(i128::from(whole.0) <= true_ups_ceiling(3));
        assert!(i128::from(odd.0) <= true_ups_ceiling(1));
        assert_eq!(true_ups_ceiling(-5), 0);
    }

    #[test]
    fn amounts_above_the_money_bound_are_refused_instead_of_wrapping() {
        // The reported shape: many seat features at a huge unit price and a large seat count,
        // whose plain i64 sum wrapped to a negative subtotal.
        let month = period("2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z");
        let huge = Rate(1_000_000_000_000);
        let line = |extra| seat_advance_line("editor", "Editor seats", 0, extra, extra, huge, None);
        let largest = line(100_000).unwrap().unwrap();
        let lines = vec![largest.clone(); 1_000];

        assert_eq!(largest.amount, Cents(crate::money::MONEY_MAX));
        assert_eq!(line(100_001), Err(AmountTooLarge));
        assert_eq!(subtotal(&lines[..1]), Ok(largest.amount));
        assert_eq!(subtotal(&lines), Err(AmountTooLarge));
        assert_eq!(
            true_up(1_000_000, huge, &month, month.start),
            Err(AmountTooLarge)
        );
        assert_eq!(
            true_up(i64::MAX, Rate(i64::MAX), &month, month.start),
            Err(AmountTooLarge)
        );
    }

    #[test]
    fn no_extra_seats_no_line() {
        assert_eq!(
            seat_advance_line("editor", "Editor seats", 5, 5, 0, Rate(250_000), None),
            Ok(None)
        );
        assert_eq!(seat_unit_cents(Rate(250_050)), Cents(2_501));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvoiceStatus {
    Draft,
    Outstanding,
    Paid,
    Void,
    Uncollectible,
}

impl InvoiceStatus {
    pub const ALL: [InvoiceStatus; 5] = [
        InvoiceStatus::Draft,
        InvoiceStatus::Outstanding,
        InvoiceStatus::Paid,
        InvoiceStatus::Void,
        InvoiceStatus::Uncollectible,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            InvoiceStatus::Draft => "draft",
            InvoiceStatus::Outstanding => "outstanding",
            InvoiceStatus::Paid => "paid",
            InvoiceStatus::Void => "void",
            InvoiceStatus::Uncollectible => "uncollectible",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Paid and void invoices are final (`balance.md` §5.1): only draft and outstanding ones
    /// may become `paid` or `void`.
    pub fn can_become(self, next: InvoiceStatus) -> bool {
        matches!(self, InvoiceStatus::Draft | InvoiceStatus::Outstanding)
            && matches!(next, InvoiceStatus::Paid | InvoiceStatus::Void)
    }
}

/// An issued invoice. Its lines and amounts never change; only the status may.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invoice {
    pub id: String,
    pub org_id: crate::OrgId,
    pub customer_id: crate::CustomerId,
    pub subscription_id: Option<crate::subscription::SubscriptionId>,
    pub number: String,
    pub status: InvoiceStatus,
    /// `recurring`, `balance_topup`, `adjustment`, … (`balance.md` §5.2).
    pub invoice_type: String,
    pub subtotal: Cents,
    /// What discount lines take off the subtotal.
    pub discount_amount: Cents,
    /// What credit lines take off the subtotal (never more than it).
    pub credit_applied: Cents,
    pub period: BillingPeriod,
    pub issue_date: Timestamp,
    pub plan_name: Option<String>,
    /// Lower-case ISO code; `usd` until markets decide otherwise (`commerce.md` §2).
    pub currency: String,
    /// The description of an adjustment (`commerce.md` §8.2); `None` on every other invoice.
    pub memo: Option<String>,
    pub metadata: crate::customer::Metadata,
    /// Empty when read for a list (lists do not show lines).
    pub lines: Vec<InvoiceLine>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Invoice {
    /// Tax is always 0 in Tally: the total is the subtotal less discounts and credits. Below
    /// zero only for a negative adjustment (a credit note).
    pub fn total(&self) -> Cents {
        Cents(self.subtotal.0 - self.discount_amount.0 - self.credit_applied.0)
    }
}

/// The `INV-000001` spelling of an invoice's number in its organization's sequence.
pub fn invoice_number(sequence: i64) -> String {
    format!("INV-{sequence:06}")
}

/// A prorated charge accrued when extra seats became paid mid-period, billed on the next
/// invoice; keyed by the seat event that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatTrueUp {
    pub seat_event_id: String,
    pub subscription_id: crate::subscription::SubscriptionId,
    pub feature_code: String,
    pub feature_name: String,
    pub units: i64,
    pub unit_price: Rate,
    pub days_left: i64,
    pub period_days: i64,
    pub amount: Cents,
    pub created_at: Timestamp,
}

impl SeatTrueUp {
    /// The true-up's line: a seat line, or a quota line for a quota change (`qev_…`).
    pub fn line(&self) -> InvoiceLine {
        let mut line = seat_true_up_line(self);
        if self.is_quota() {
            line.line_type = LineType::FeatureQuota;
            line.description = line.description.replacen(" seat added", " added", 1);
        }
        line
    }

    pub fn is_quota(&self) -> bool {
        self.seat_event_id.starts_with("qev_")
    }
}
