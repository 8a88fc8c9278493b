//! Money as integers with its scale in the type (`wire.md` §10): `Cents` for prices and invoice
//! amounts, `Rate` (10 000 = 1.00) for unit prices and prepaid balances. The two never mix by
//! accident; conversions say which way they round.
//!
//! Every amount Tally bills or holds stays within `MONEY_MAX`: products and sums of amounts are
//! computed wide and checked, so they never wrap, and one that would pass the bound is refused
//! (`AmountTooLarge`) before anything is billed or stored.

use crate::DomainError;

/// The largest amount, in its own scale's units, that Tally bills or holds: an invoice line, an
/// invoice total, a seat true-up, a prepaid balance (rate units) or a credit balance.
///
/// Decision: 10^15. In cents that is ten trillion dollars, far beyond any real invoice, yet it
/// is exactly representable as a JSON number in every SDK (JavaScript numbers are exact up to
/// 2^53 ≈ 9.007 × 10^15), and 9 000 times below `i64::MAX`, so sums of bounded amounts are
/// checked long before they could wrap.
pub const MONEY_MAX: i64 = 1_000_000_000_000_000;

/// A product or sum of amounts that would exceed `MONEY_MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the amount would exceed {MONEY_MAX}, the largest amount Tally bills or holds")]
pub struct AmountTooLarge;

impl AmountTooLarge {
    /// The refusal of a request whose `field` would lead to such an amount.
    pub fn at(self, field: impl Into<String>) -> DomainError {
        let field = field.into();
        DomainError::field(
            field.clone(),
            format!(
                "{field} would lead to an amount above {MONEY_MAX} (cents, or 1/10000 units on the rate scale), the largest amount Tally bills or holds"
            ),
        )
    }
}

/// Where no request field is to blame (a renewal), the refusal names the amount itself.
impl From<AmountTooLarge> for DomainError {
    fn from(error: AmountTooLarge) -> Self {
        DomainError::field("amount", error.to_string())
    }
}

/// `value` when its magnitude is at most `MONEY_MAX`.
pub fn bounded(value: i128) -> Result<i64, AmountTooLarge> {
    if value.unsigned_abs() <= MONEY_MAX.unsigned_abs().into() {
        Ok(i64::try_from(value).expect("bounded by MONEY_MAX, which fits i64"))
    } else {
        Err(AmountTooLarge)
    }
}

/// An amount in cents (minor units of `usd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Cents(pub i64);

/// An amount on the rate scale: 10 000 = 1.00 major unit, so 100 = one cent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Rate(pub i64);

/// Rate units per cent.
pub const RATE_PER_CENT: i64 = 100;

impl Rate {
    /// Rounds down to whole cents. Used where a fraction of a cent must not be charged.
    pub fn to_cents_floor(self) -> Cents {
        Cents(self.0.div_euclid(RATE_PER_CENT))
    }
}

impl Cents {
    /// `self + other`, refused above `MONEY_MAX`.
    pub fn checked_add(self, other: Cents) -> Result<Cents, AmountTooLarge> {
        bounded(i128::from(self.0) + i128::from(other.0)).map(Cents)
    }

    /// `self × quantity`, refused above `MONEY_MAX`.
    pub fn checked_times(self, quantity: i64) -> Result<Cents, AmountTooLarge> {
        bounded(i128::from(self.0) * i128::from(quantity)).map(Cents)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_to_cents_rounds_down() {
        assert_eq!(Rate(250_000).to_cents_floor(), Cents(2_500));
        assert_eq!(Rate(199).to_cents_floor(), Cents(1));
    }

    #[test]
    fn sums_and_products_stop_at_the_bound_instead_of_wrapping() {
        let max = Cents(MONEY_MAX);

        assert_eq!(max.checked_add(Cents(0)), Ok(max));
        assert_eq!(max.checked_add(Cents(1)), Err(AmountTooLarge));
        assert_eq!(
            Cents(i64::MAX).checked_add(Cents(i64::MAX)),
            Err(AmountTooLarge)
        );
        assert_eq!(Cents(10_000_000_000).checked_times(100_000), Ok(max));
        assert_eq!(
            Cents(10_000_000_000).checked_times(100_001),
            Err(AmountTooLarge)
        );
        assert_eq!(Cents(i64::MAX).checked_times(i64::MAX), Err(AmountTooLarge));
        assert_eq!(bounded(-i128::from(MONEY_MAX)), Ok(-MONEY_MAX));
    }
}

/// Digits after the decimal point of `currency`'s minor unit (`commerce.md` §2): none for
/// `clp`, `jpy`, `krw` and `pyg`, two for every other currency Commet prices in.
pub fn currency_exponent(currency: &str) -> u32 {
    match currency {
        "clp" | "jpy" | "krw" | "pyg" => 0,
        _ => 2,
    }
}

/// `amount` minor units of `currency` as a person reads it on an invoice: the symbol where
/// one is unambiguous, thousands grouped, the code after it, an ASCII `-` before a negative
/// amount (`$124.00 USD`, `-$50.00 USD`, `¥7,350 JPY`, `R$245.00 BRL`).
pub fn format_money(amount: i64, currency: &str) -> String {
    let exponent = currency_exponent(currency);
    let scale = 10_u64.pow(exponent);
    let magnitude = amount.unsigned_abs();
    let (major, minor) = (magnitude / scale, magnitude % scale);
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let number = if exponent == 0 {
        grouped
    } else {
        format!("{grouped}.{minor:0width$}", width = exponent as usize)
    };
    let symbol = match currency {
        "usd" | "ars" | "clp" | "cop" | "mxn" | "uyu" => "$",
        "brl" => "R$",
        "cad" => "CA$",
        "eur" => "€",
        "gbp" => "£",
        "jpy" | "cny" => "¥",
        "krw" => "₩",
        "hkd" => "HK$",
        "sgd" => "S$",
        "twd" => "NT$",
        "inr" => "₹",
        "thb" => "฿",
        "pen" => "S/",
        "pyg" => "₲",
        "bob" => "Bs",
        _ => "",
    };
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}{symbol}{number} {}", currency.to_ascii_uppercase())
}

#[cfg(test)]
mod format_tests {
    use super::format_money;

    #[test]
    fn amounts_read_as_on_an_invoice() {
        assert_eq!(format_money(12_400, "usd"), "$124.00 USD");
        assert_eq!(format_money(-5_000, "usd"), "-$50.00 USD");
        assert_eq!(format_money(7_350, "jpy"), "¥7,350 JPY");
        assert_eq!(format_money(24_500, "brl"), "R$245.00 BRL");
        assert_eq!(format_money(0, "usd"), "$0.00 USD");
        assert_eq!(format_money(123_456_789, "usd"), "$1,234,567.89 USD");
        assert_eq!(format_money(6_490_000, "ars"), "$64,900.00 ARS");
        assert_eq!(format_money(-5, "usd"), "-$0.05 USD");
    }
}
