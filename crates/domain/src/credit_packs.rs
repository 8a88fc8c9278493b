//! Credit packs (`commerce.md` §3): credits a credits-plan subscription buys on top of its plan's
//! grant. Purchased credits never expire and survive resets.

use crate::catalog::AMOUNT_MAX;
use crate::ids::CreditPackId;
use crate::money::Cents;
use crate::{FieldError, OrgId, Timestamp};

pub const PACK_NAME_CHARS_MAX: usize = 100;
pub const PACK_DESCRIPTION_CHARS_MAX: usize = 500;
pub const PACK_CREDITS_MAX: i64 = 1_000_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditPack {
    pub id: CreditPackId,
    pub org_id: OrgId,
    pub name: String,
    pub description: Option<String>,
    /// Credits one purchase grants.
    pub credits: i64,
    /// US cents.
    pub price: Cents,
    pub is_active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The fields a create or update sends, checked alike: a name of 1–100 characters, a
/// description of at most 500, 1 to 10⁹ credits, a price of at least 0.
pub fn check_pack_fields(
    name: Option<&str>,
    description: Option<&str>,
    credits: Option<i64>,
    price: Option<i64>,
    problems: &mut Vec<FieldError>,
) {
    if let Some(name) = name {
        let length = name.trim().chars().count();
        if length == 0 || length > PACK_NAME_CHARS_MAX {
            problems.push(FieldError::new(
                "name",
                format!("name must be 1 to {PACK_NAME_CHARS_MAX} characters"),
            ));
        }
    }
    if description.is_some_and(|d| d.chars().count() > PACK_DESCRIPTION_CHARS_MAX) {
        problems.push(FieldError::new(
            "description",
            format!("description must be at most {PACK_DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
    if credits.is_some_and(|c| !(1..=PACK_CREDITS_MAX).contains(&c)) {
        problems.push(FieldError::new(
            "credits",
            format!("credits must be an integer from 1 to {PACK_CREDITS_MAX}"),
        ));
    }
    if price.is_some_and(|p| !(0..=AMOUNT_MAX).contains(&p)) {
        problems.push(FieldError::new(
            "price",
            format!("price must be an integer from 0 to {AMOUNT_MAX}"),
        ));
    }
}

/// The invoice line of a purchase: `Starter Pack — 100 credits`.
pub fn purchase_line(pack: &CreditPack) -> crate::billing::InvoiceLine {
    use crate::billing::{ChargeType, InvoiceLine, LineType};
    InvoiceLine::single(
        LineType::OneTime,
        ChargeType::Standard,
        format!("{} — {} credits", pack.name, pack.credits),
        pack.price,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_fields_are_bounded() {
        let check = |name, description: Option<&str>, credits, price| {
            let mut problems = Vec::new();
            check_pack_fields(name, description, credits, price, &mut problems);
            problems.into_iter().map(|p| p.field).collect::<Vec<_>>()
        };
        assert!(check(Some("Starter"), None, Some(100), Some(1_000)).is_empty());
        assert_eq!(
            check(Some(""), None, Some(0), Some(-1)),
            ["name", "credits", "price"]
        );
        assert_eq!(
            check(None, Some(&"d".repeat(501)), None, None),
            ["description"]
        );
    }
}
