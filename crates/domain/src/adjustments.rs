//! Adjustment invoices (`commerce.md` §8.2): one-off invoices a merchant issues by hand, for
//! a charge (positive) or a credit note (negative). They stand alone: plans, periods and
//! renewals never see them, and a credit note moves no money (customer credits do that).

use crate::DomainError;
use crate::billing::{ChargeType, InvoiceLine, LineType};
use crate::customer::{METADATA_KEYS_MAX, Metadata};
use crate::money::Cents;

/// The largest magnitude of an adjustment, in minor units.
pub const ADJUSTMENT_AMOUNT_MAX: i64 = 100_000_000_000;
pub const DESCRIPTION_CHARS_MAX: usize = 500;
/// The `invoiceType` of an adjustment.
pub const ADJUSTMENT: &str = "adjustment";

/// What a caller asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Adjustment {
    pub amount: Cents,
    pub description: String,
    pub metadata: Metadata,
}

impl Adjustment {
    /// A non-zero amount of at most 10¹¹ minor units either way, a description of 1–500
    /// characters (trimmed) and at most 50 metadata keys.
    pub fn parse(
        amount: i64,
        description: &str,
        metadata: Option<Metadata>,
    ) -> Result<Self, DomainError> {
        if amount == 0 || amount.unsigned_abs() > ADJUSTMENT_AMOUNT_MAX.unsigned_abs() {
            return Err(DomainError::field(
                "amount",
                format!(
                    "amount must be a non-zero number of minor units, at most {ADJUSTMENT_AMOUNT_MAX} either way"
                ),
            ));
        }
        let description = description.trim();
        if description.is_empty() || description.chars().count() > DESCRIPTION_CHARS_MAX {
            return Err(DomainError::field(
                "description",
                format!("description must be 1 to {DESCRIPTION_CHARS_MAX} characters"),
            ));
        }
        let metadata = metadata.unwrap_or_default();
        if metadata.len() > METADATA_KEYS_MAX {
            return Err(DomainError::field(
                "metadata",
                format!("metadata may have at most {METADATA_KEYS_MAX} keys"),
            ));
        }
        Ok(Self {
            amount: Cents(amount),
            description: description.to_owned(),
            metadata,
        })
    }

    /// The invoice's one line: the signed amount, once.
    pub fn line(&self) -> InvoiceLine {
        InvoiceLine::single(
            LineType::OneTime,
            ChargeType::Standard,
            self.description.clone(),
            self.amount,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_must_be_non_zero_and_bounded_either_way() {
        assert!(Adjustment::parse(0, "x", None).is_err());
        assert!(Adjustment::parse(ADJUSTMENT_AMOUNT_MAX + 1, "x", None).is_err());
        assert!(Adjustment::parse(-ADJUSTMENT_AMOUNT_MAX - 1, "x", None).is_err());
        let credit = Adjustment::parse(-ADJUSTMENT_AMOUNT_MAX, " Refund ", None).unwrap();
        assert_eq!(credit.description, "Refund");
        assert_eq!(credit.line().amount, Cents(-ADJUSTMENT_AMOUNT_MAX));
        assert_eq!(credit.line().unit_amount, credit.line().amount);
    }

    #[test]
    fn descriptions_are_one_to_five_hundred_characters() {
        assert!(Adjustment::parse(1, "   ", None).is_err());
        assert!(Adjustment::parse(1, &"é".repeat(500), None).is_ok());
        assert!(Adjustment::parse(1, &"é".repeat(501), None).is_err());
    }
}
