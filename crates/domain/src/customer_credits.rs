//! Customer credits (`commerce.md` §5): money a customer holds against future invoices, as
//! grants used oldest first. A plan change whose credit exceeds its charge leaves the rest here
//! (`lifecycle.md` §4.3).

use crate::billing::{ChargeType, InvoiceLine, LineType};
use crate::ids::CustomerCreditId;
use crate::money::Cents;
use crate::{CustomerId, OrgId, Timestamp};

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
            line: InvoiceLine {
                line_type: LineType::Credit,
                charge_type: ChargeType::Standard,
                feature_name: None,
                description: format!("Credit: {}", credit.reason),
                quantity: 1,
                unit_amount: Cents(-take),
                amount: Cents(-take),
                included_amount: None,
                used_amount: None,
                overage_amount: None,
                seat_event_id: None,
            },
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
            id: CustomerCreditId::from_stored(format!("ccr_{n}")),
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
        assert_eq!(taken, [("ccr_1", 600), ("ccr_3", 1_400)]);
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
}
