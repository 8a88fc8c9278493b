//! Customer credits (`commerce.md` §5): money a customer holds against future invoices, as
//! grants used oldest first. A plan change whose credit exceeds its charge leaves the rest here
//! (`lifecycle.md` §4.3).

use crate::billing::{ChargeType, InvoiceLine, LineType};
use crate::ids::CustomerCreditId;
use crate::money::Cents;
use crate::{CustomerId, DomainError, FieldError, OrgId, Timestamp};

/// Where a grant came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CreditSource {
    Api,
    PlanChange,
}

impl CreditSource {
    pub fn as_str(self) -> &'static str {
        match self {
            CreditSource::Api => "api",
            CreditSource::PlanChange => "plan_change",
        }
    }

    pub fn parse(text: &str) -> Option<CreditSource> {
        [CreditSource::Api, CreditSource::PlanChange]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerCredit {
    pub id: CustomerCreditId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub currency: String,
    pub amount: Cents,
    /// Taken by invoices.
    pub applied: Cents,
    /// Given back by voided invoices.
    pub reversed: Cents,
    pub revoked: Cents,
    pub reason: String,
    pub source: CreditSource,
    pub expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

impl CustomerCredit {
    /// What is left to use at `at`: nothing once expired.
    pub fn remaining(&self, at: Timestamp) -> Cents {
        if self.expires_at.is_some_and(|expiry| expiry <= at) {
            return Cents(0);
        }
        Cents((self.amount.0 - self.applied.0 + self.reversed.0 - self.revoked.0).max(0))
    }
}

/// The currencies Commet prices in (`commerce.md` §2); Tally bills in `usd` so far.
pub const CURRENCIES: [&str; 21] = [
    "usd", "ars", "brl", "clp", "cop", "pen", "uyu", "pyg", "bob", "mxn", "cad", "eur", "gbp",
    "jpy", "cny", "krw", "hkd", "sgd", "twd", "inr", "thb",
];

/// The largest grant a caller may make, in minor units.
pub const CREDIT_AMOUNT_MAX: i64 = 100_000_000_000;
pub const CREDIT_REASON_CHARS_MAX: usize = 500;

/// A currency code as sent (any case), lower-cased; `None` for one Commet does not know.
pub fn parse_currency(text: &str) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    CURRENCIES.contains(&lower.as_str()).then_some(lower)
}

/// What a caller may grant: 1 to 10¹¹ minor units, a reason of 1–500 characters, an expiry
/// after now (`commerce.md` §5).
pub fn check_grant(
    amount: i64,
    reason: &str,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<(), DomainError> {
    let mut problems = Vec::new();
    if !(1..=CREDIT_AMOUNT_MAX).contains(&amount) {
        problems.push(FieldError::new(
            "amount",
            format!("amount must be an integer from 1 to {CREDIT_AMOUNT_MAX}"),
        ));
    }
    let length = reason.trim().chars().count();
    if length == 0 || length > CREDIT_REASON_CHARS_MAX {
        problems.push(FieldError::new(
            "reason",
            format!("reason must be 1 to {CREDIT_REASON_CHARS_MAX} characters"),
        ));
    }
    if expires_at.is_some_and(|at| at <= now) {
        problems.push(FieldError::new(
            "expiresAt",
            "expiresAt must be in the future",
        ));
    }
    crate::catalog::problems_or(problems)
}

impl CustomerCredit {
    /// Revokes what is left at `at`; revoking again changes nothing (`commerce.md` §5).
    pub fn revoke(&self, at: Timestamp) -> CustomerCredit {
        let mut next = self.clone();
        next.revoked = Cents(self.revoked.0 + self.remaining(at).0);
        next
    }
}

/// One grant's part of an invoice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreditUse {
    pub credit: CustomerCreditId,
    pub amount: Cents,
    pub line: InvoiceLine,
}

/// Covers `due` with the grants, oldest first (the caller passes them in that order), each as
/// far as it goes: one `credit` line per grant used.
pub fn apply_oldest_first(credits: &[CustomerCredit], due: Cents, at: Timestamp) -> Vec<CreditUse> {
    let mut left = due.0.max(0);
    let mut uses = Vec::new();
    for credit in credits {
        if left == 0 {
            break;
        }
        let take = credit.remaining(at).0.min(left);
        if take <= 0 {
            continue;
        }
        left -= take;
        uses.push(CreditUse {
            credit: credit.id.clone(),
            amount: Cents(take),
            line: InvoiceLine::single(
                LineType::Credit,
                ChargeType::Standard,
                format!("Credit: {}", credit.reason),
                Cents(-take),
            ),
        });
    }
    uses
}

/// What the grants still hold at `at`.
pub fn balance(credits: &[CustomerCredit], at: Timestamp) -> Cents {
    Cents(credits.iter().map(|c| c.remaining(at).0).sum())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(n: u8, amount: i64, applied: i64, expires_at: Option<i64>) -> CustomerCredit {
        CustomerCredit {
            id: CustomerCreditId::from_stored(format!("crd_{n}")),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            currency: "usd".into(),
            amount: Cents(amount),
            applied: Cents(applied),
            reversed: Cents(0),
            revoked: Cents(0),
            reason: format!("grant {n}"),
            source: CreditSource::Api,
            expires_at: expires_at.map(Timestamp::from_millis),
            created_at: Timestamp::from_millis(i64::from(n)),
        }
    }

    #[test]
    fn grants_cover_what_is_due_oldest_first_and_expired_ones_hold_nothing() {
        let now = Timestamp::from_millis(100);
        let grants = [
            grant(1, 1_000, 400, None),
            grant(2, 5_000, 0, Some(50)),
            grant(3, 2_500, 0, None),
        ];
        let uses = apply_oldest_first(&grants, Cents(2_000), now);
        let taken: Vec<_> = uses
            .iter()
            .map(|u| (u.credit.as_str(), u.amount.0))
            .collect();
        assert_eq!(taken, [("crd_1", 600), ("crd_3", 1_400)]);
        assert_eq!(uses[1].line.amount, Cents(-1_400));
        assert_eq!(uses[1].line.description, "Credit: grant 3");
        assert_eq!(balance(&grants, now), Cents(3_100));
        assert!(apply_oldest_first(&grants, Cents(0), now).is_empty());
        let all: i64 = apply_oldest_first(&grants, Cents(99_999), now)
            .iter()
            .map(|u| u.amount.0)
            .sum();
        assert_eq!(all, 3_100);
    }

    #[test]
    fn a_revocation_takes_what_is_left_once_and_grants_are_checked() {
        let now = Timestamp::from_millis(100);
        let revoked = grant(1, 1_000, 400, None).revoke(now);
        assert_eq!(
            (revoked.revoked, revoked.remaining(now)),
            (Cents(600), Cents(0))
        );
        assert_eq!(revoked.revoke(now), revoked);
        assert_eq!(parse_currency("EUR").as_deref(), Some("eur"));
        assert_eq!(parse_currency("xyz"), None);
        assert!(check_grant(2_500, "Goodwill", None, now).is_ok());
        for (amount, reason, expiry) in [(0, "x", None), (1, "", None), (1, "x", Some(100))] {
            assert!(check_grant(amount, reason, expiry.map(Timestamp::from_millis), now).is_err());
        }
    }
}
