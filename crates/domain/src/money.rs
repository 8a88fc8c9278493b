//! Money as integers with its scale in the type (`wire.md` §10): `Cents` for prices and invoice
//! amounts, `Rate` (10 000 = 1.00) for unit prices and prepaid balances. The two never mix by
//! accident; conversions say which way they round.

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
    pub fn to_rate(self) -> Rate {
        Rate(self.0 * RATE_PER_CENT)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_to_cents_rounds_down() {
        assert_eq!(Rate(250_000).to_cents_floor(), Cents(2_500));
        assert_eq!(Rate(199).to_cents_floor(), Cents(1));
        assert_eq!(Cents(3).to_rate(), Rate(300));
    }
}
