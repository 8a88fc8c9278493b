//! The merchant's money and its payouts (`payments.md` §9): what succeeded charges brought in,
//! less refunds and payouts, paid out to a bank account. The sandbox pays every payout at once,
//! except to the account number that always fails.

use crate::ids::{PayoutBankAccountId, PayoutId};
use crate::money::Cents;
use crate::{FieldError, OrgId, Timestamp};

/// The smallest payout, in cents.
pub const PAYOUT_MIN: i64 = 1_000;
pub const HOLDER_NAME_CHARS_MAX: usize = 200;
pub const PAYOUT_DESCRIPTION_CHARS_MAX: usize = 500;
/// The sandbox's account number whose payouts always fail (`account_closed`).
pub const FAILING_ACCOUNT: &str = "000111111116";
pub const SANDBOX_BANK: &str = "Tally Sandbox Bank";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayoutBankAccount {
    pub id: PayoutBankAccountId,
    pub org_id: OrgId,
    pub holder_name: String,
    pub last4: String,
    /// SHA-256 of the number: the same number twice is refused without keeping it.
    pub number_hash: String,
    /// Whether payouts to it fail (the sandbox's failing number).
    pub fails: bool,
    pub account_type: Option<String>,
    pub is_default: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayoutStatus {
    Pending,
    InTransit,
    Paid,
    Failed,
    Canceled,
}

impl PayoutStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::InTransit => "in_transit",
            PayoutStatus::Paid => "paid",
            PayoutStatus::Failed => "failed",
            PayoutStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use PayoutStatus::*;
        [Pending, InTransit, Paid, Failed, Canceled]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payout {
    pub id: PayoutId,
    pub org_id: OrgId,
    pub bank_account_id: PayoutBankAccountId,
    pub amount: Cents,
    pub description: Option<String>,
    pub status: PayoutStatus,
    pub provider_transfer_id: String,
    pub failure_code: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A new bank account's fields, checked (`payments.md` §1): a number of 4 to 17 digits, a
/// holder name of 1 to 200 characters, a routing number of 9 digits, `checking` or `savings`.
pub fn check_bank_account(
    account_number: &str,
    holder_name: &str,
    routing_number: Option<&str>,
    account_type: Option<&str>,
) -> Result<(), Vec<FieldError>> {
    let digits = |text: &str, range: std::ops::RangeInclusive<usize>| {
        range.contains(&text.len()) && text.bytes().all(|b| b.is_ascii_digit())
    };
    let mut problems = Vec::new();
    if !digits(account_number, 4..=17) {
        problems.push(FieldError::new(
            "accountNumber",
            "accountNumber must be 4 to 17 digits",
        ));
    }
    let name = holder_name.trim().chars().count();
    if name == 0 || name > HOLDER_NAME_CHARS_MAX {
        problems.push(FieldError::new(
            "accountHolderName",
            format!("accountHolderName must be 1 to {HOLDER_NAME_CHARS_MAX} characters"),
        ));
    }
    if routing_number.is_some_and(|r| !digits(r, 9..=9)) {
        problems.push(FieldError::new(
            "routingNumber",
            "routingNumber must be 9 digits",
        ));
    }
    if account_type.is_some_and(|t| t != "checking" && t != "savings") {
        problems.push(FieldError::new(
            "accountType",
            "accountType must be checking or savings",
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// A payout request's fields: at least 1000 cents, a description of at most 500 characters.
pub fn check_payout(amount: i64, description: Option<&str>) -> Result<(), Vec<FieldError>> {
    let mut problems = Vec::new();
    if !(PAYOUT_MIN..=crate::money::MONEY_MAX).contains(&amount) {
        problems.push(FieldError::new(
            "amount",
            format!("amount must be an integer of at least {PAYOUT_MIN}"),
        ));
    }
    if description.is_some_and(|d| d.chars().count() > PAYOUT_DESCRIPTION_CHARS_MAX) {
        problems.push(FieldError::new(
            "description",
            format!("description must be at most {PAYOUT_DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems)
    }
}

/// The merchant's figures in one currency (`payments.md` §9), from the sums the books hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MerchantBalance {
    /// Charges paid, refunded since or not, whose funds are released.
    pub released: Cents,
    pub refunded: Cents,
    /// Payouts that did not fail.
    pub paid_out: Cents,
}

impl MerchantBalance {
    /// What may be paid out: released funds less refunds and payouts (may be negative after a
    /// refund).
    pub fn available(self) -> Cents {
        Cents(self.released.0 - self.refunded.0 - self.paid_out.0)
    }

    /// Whether `amount` can be paid out now.
    pub fn covers(self, amount: Cents) -> bool {
        amount.0 <= self.available().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn available_is_released_less_refunds_and_payouts() {
        let balance = MerchantBalance {
            released: Cents(49_800),
            refunded: Cents(25_000),
            paid_out: Cents(20_000),
        };
        assert_eq!(balance.available(), Cents(4_800));
        assert!(balance.covers(Cents(4_800)));
        assert!(!balance.covers(Cents(4_801)));
    }

    #[test]
    fn bank_accounts_and_payouts_name_their_problems() {
        assert!(
            check_bank_account(
                "000123456789",
                "Jane Doe",
                Some("110000000"),
                Some("checking")
            )
            .is_ok()
        );
        let fields = |r: Result<(), Vec<FieldError>>| {
            r.unwrap_err()
                .into_iter()
                .map(|p| p.field)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(check_bank_account(
                "12a",
                " ",
                Some("1100"),
                Some("brokerage")
            )),
            [
                "accountNumber",
                "accountHolderName",
                "routingNumber",
                "accountType"
            ]
        );
        assert!(check_payout(1_000, None).is_ok());
        assert_eq!(fields(check_payout(999, None)), ["amount"]);
    }
}
