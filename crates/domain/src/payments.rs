//! Payments without a card network (`payments.md`): payment links and off-session charges, the
//! transactions every charge attempt leaves, refunds, the cards customers save, and the sandbox
//! processor's deterministic test cards. Everything here is pure: the app calls a processor and
//! records what it answered.

use crate::customer::Metadata;
use crate::ids::{CustomerId, PaymentId, RefundId, SavedCardId, TransactionId};
use crate::money::Cents;
use crate::{FieldError, OrgId, Timestamp};

/// Smallest and largest amount of a payment link or charge, in cents.
pub const PAYMENT_AMOUNT_MIN: i64 = 50;
pub const PAYMENT_AMOUNT_MAX: i64 = 99_999_999;
pub const DESCRIPTION_CHARS_MAX: usize = 500;
/// A payment link can be paid for a day of the organization's clock.
pub const LINK_TTL_MS: i64 = 24 * 60 * 60 * 1000;
/// The only currency links and charges are taken in (`payments.md` §1).
pub const PAYMENT_CURRENCY: &str = "usd";
/// `provider` of everything the sandbox processor handles.
pub const SANDBOX_PROVIDER: &str = "commet";

/// A payment link (paid on Tally's page) or an off-session charge of a saved card.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentKind {
    Link,
    Charge,
}

impl PaymentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentKind::Link => "link",
            PaymentKind::Charge => "charge",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [PaymentKind::Link, PaymentKind::Charge]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PaymentStatus {
    Pending,
    Processing,
    Succeeded,
    RequiresAction,
    Failed,
    Canceled,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Processing => "processing",
            PaymentStatus::Succeeded => "succeeded",
            PaymentStatus::RequiresAction => "requires_action",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use PaymentStatus::*;
        [
            Pending,
            Processing,
            Succeeded,
            RequiresAction,
            Failed,
            Canceled,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether a link in this status can still be paid (and canceled): `payments.md` §4, §7.
    pub fn is_open(self) -> bool {
        matches!(
            self,
            PaymentStatus::Pending | PaymentStatus::Failed | PaymentStatus::RequiresAction
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payment {
    pub id: PaymentId,
    pub org_id: OrgId,
    pub customer_id: Option<CustomerId>,
    pub kind: PaymentKind,
    pub status: PaymentStatus,
    pub amount: Cents,
    pub currency: String,
    pub description: String,
    pub metadata: Option<Metadata>,
    pub success_url: Option<String>,
    /// When an unpaid link stops working (org clock); `None` for charges.
    pub expires_at: Option<Timestamp>,
    /// The invoice a successful payment issued.
    pub invoice_id: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Payment {
    /// Whether a link can be paid at `now`: open, and not past its expiry.
    pub fn payable_at(&self, now: Timestamp) -> bool {
        self.kind == PaymentKind::Link
            && self.status.is_open()
            && self.expires_at.is_none_or(|end| now < end)
    }
}

/// Keys a payment's metadata holds at most, and their sizes.
pub const METADATA_KEYS_MAX: usize = 50;
pub const METADATA_KEY_CHARS_MAX: usize = 40;
pub const METADATA_VALUE_CHARS_MAX: usize = 500;
pub const URL_CHARS_MAX: usize = 2048;

/// What a request asks of a payment: checked alike for links and charges (`payments.md` §1).
pub fn check_payment_fields(
    amount: Option<i64>,
    currency: Option<&str>,
    description: Option<&str>,
    problems: &mut Vec<FieldError>,
) {
    if amount.is_some_and(|a| !(PAYMENT_AMOUNT_MIN..=PAYMENT_AMOUNT_MAX).contains(&a)) {
        problems.push(FieldError::new(
            "amount",
            format!("amount must be an integer from {PAYMENT_AMOUNT_MIN} to {PAYMENT_AMOUNT_MAX}"),
        ));
    }
    if currency.is_some_and(|c| !c.eq_ignore_ascii_case(PAYMENT_CURRENCY)) {
        problems.push(FieldError::new(
            "currency",
            "payments are taken in usd only",
        ));
    }
    if description.is_some_and(|d| {
        let length = d.trim().chars().count();
        length == 0 || length > DESCRIPTION_CHARS_MAX
    }) {
        problems.push(FieldError::new(
            "description",
            format!("description must be 1 to {DESCRIPTION_CHARS_MAX} characters"),
        ));
    }
}

/// A payment's metadata: at most 50 string values, keys of at most 40 characters, values of at
/// most 500.
pub fn check_payment_metadata(metadata: &Metadata, problems: &mut Vec<FieldError>) {
    if metadata.len() > METADATA_KEYS_MAX {
        problems.push(FieldError::new(
            "metadata",
            format!("metadata may have at most {METADATA_KEYS_MAX} keys"),
        ));
    }
    for (key, value) in metadata {
        let fits = value
            .as_str()
            .is_some_and(|v| v.chars().count() <= METADATA_VALUE_CHARS_MAX);
        if key.chars().count() > METADATA_KEY_CHARS_MAX || !fits {
            problems.push(FieldError::new(
                format!("metadata.{key}"),
                format!(
                    "metadata keys have at most {METADATA_KEY_CHARS_MAX} characters and values are strings of at most {METADATA_VALUE_CHARS_MAX}"
                ),
            ));
        }
    }
}

/// A redirect the caller names (`successUrl`, `returnUrl`): an absolute http(s) URL of at most
/// 2048 characters.
pub fn check_redirect_url(url: &str, field: &str, problems: &mut Vec<FieldError>) {
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let host_ok = url
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok
        || !host_ok
        || url.chars().count() > URL_CHARS_MAX
        || url.contains(char::is_whitespace)
    {
        problems.push(FieldError::new(
            field,
            format!(
                "{field} must be an absolute http(s) URL of at most {URL_CHARS_MAX} characters"
            ),
        ));
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransactionStatus {
    Pending,
    Succeeded,
    Failed,
    Refunded,
    Disputed,
}

impl TransactionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransactionStatus::Pending => "pending",
            TransactionStatus::Succeeded => "succeeded",
            TransactionStatus::Failed => "failed",
            TransactionStatus::Refunded => "refunded",
            TransactionStatus::Disputed => "disputed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        use TransactionStatus::*;
        [Pending, Succeeded, Failed, Refunded, Disputed]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One charge attempt of an invoice or a link. A retry adds a row; a failed one is never
/// changed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub id: TransactionId,
    pub org_id: OrgId,
    pub customer_id: Option<CustomerId>,
    pub payment_id: Option<PaymentId>,
    /// The invoice paid; `None` for attempts that failed before one existed (link declines).
    pub invoice_id: Option<String>,
    pub amount: Cents,
    pub currency: String,
    pub status: TransactionStatus,
    pub provider: String,
    /// The processor's reference of the charge (`ch_sandbox_…`).
    pub charge_ref: Option<String>,
    /// The processor's handle of the card charged.
    pub method_ref: Option<String>,
    pub customer_email: String,
    pub customer_name: Option<String>,
    /// `paymentContext.reason` (`one_time_payment`, `recurring_billing`, …).
    pub reason: String,
    /// `paymentContext.recovery`: set on attempts at a past-due invoice.
    pub recovery: Option<crate::dunning::Recovery>,
    pub failure: Option<Decline>,
    /// The page's attempt nonce: a repeated attempt replays the first outcome.
    pub attempt: Option<String>,
    pub paid_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A full refund of a succeeded transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refund {
    pub id: RefundId,
    pub org_id: OrgId,
    pub transaction_id: TransactionId,
    pub amount: Cents,
    pub currency: String,
    pub charge_ref: String,
    pub created_at: Timestamp,
}

/// A card a customer saved; only what may be shown of it is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedCard {
    pub id: SavedCardId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    /// The processor's handle of the card.
    pub method_ref: String,
    pub card: CardInfo,
    pub is_default: bool,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    pub brand: String,
    pub last4: String,
    pub exp_month: u32,
    pub exp_year: u32,
}

/// Why a processor refused a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decline {
    pub code: String,
    pub message: String,
}

impl Decline {
    fn new(code: &str, message: &str) -> Self {
        Self {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }

    /// Only a card that needs its holder present cannot be retried off-session.
    pub fn retryable(&self) -> bool {
        self.code != "authentication_required"
    }
}

// ---------------------------------------------------------------------------------------------
// Card entry

/// Card details typed into a page, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardEntry {
    /// Digits only.
    pub number: String,
    pub exp_month: u32,
    /// Four digits.
    pub exp_year: u32,
}

/// Checks what a page's form sent (`payments.md` §2.2): digits (spaces allowed) passing the
/// Luhn check, an expiry month not before the organization clock's month (two- or four-digit
/// year), a three-digit CVC. Problems are named by the form's field.
pub fn check_card(
    number: &str,
    exp_month: &str,
    exp_year: &str,
    cvc: &str,
    now: Timestamp,
) -> Result<CardEntry, FieldError> {
    let digits: String = number.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() < 12 || digits.len() > 19 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new("cardNumber", "Enter the card's number."));
    }
    if !luhn(&digits) {
        return Err(FieldError::new(
            "cardNumber",
            "The card number is not valid.",
        ));
    }
    let month: u32 = exp_month
        .trim()
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| FieldError::new("expMonth", "Enter the expiry month (1 to 12)."))?;
    let year: u32 = match exp_year.trim().parse::<u32>() {
        Ok(y) if exp_year.trim().len() == 2 => 2000 + y,
        Ok(y) if exp_year.trim().len() == 4 => y,
        _ => return Err(FieldError::new("expYear", "Enter the expiry year.")),
    };
    let (this_year, this_month) = year_month(now);
    if (year, month) < (this_year, this_month) {
        return Err(FieldError::new("expYear", "The card has expired."));
    }
    let cvc = cvc.trim();
    if cvc.len() != 3 || !cvc.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FieldError::new(
            "cvc",
            "Enter the three-digit security code.",
        ));
    }
    Ok(CardEntry {
        number: digits,
        exp_month: month,
        exp_year: year,
    })
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

fn year_month(now: Timestamp) -> (u32, u32) {
    use chrono::Datelike;
    let date = chrono::DateTime::from_timestamp_millis(now.as_millis()).unwrap_or_default();
    (u32::try_from(date.year()).unwrap_or(0), date.month())
}

// ---------------------------------------------------------------------------------------------
// The sandbox processor's cards

/// The sandbox's test cards (`payments.md` §2.2), each with its fixed behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxCard {
    Visa,
    Mastercard,
    /// Declined whenever it is used; never saved.
    Declined,
    /// Saved, then every charge lacks funds.
    InsufficientFunds,
    /// Expired; never saved.
    Expired,
    /// Saved, then every charge is declined (for dunning).
    DeclinesAfterSaving,
    /// Needs authentication on the page, then behaves like a good card.
    Authenticates,
    /// Needs authentication on the page; off-session charges need the holder back.
    AuthenticatesOnSessionOnly,
}

/// Card numbers the sandbox knows, with their brand.
const SANDBOX_CARDS: [(&str, SandboxCard, &str); 8] = [
    ("4242424242424242", SandboxCard::Visa, "visa"),
    ("5555555555554444", SandboxCard::Mastercard, "mastercard"),
    ("4000000000000002", SandboxCard::Declined, "visa"),
    ("4000000000009995", SandboxCard::InsufficientFunds, "visa"),
    ("4000000000000069", SandboxCard::Expired, "visa"),
    ("4000000000000341", SandboxCard::DeclinesAfterSaving, "visa"),
    ("4000002500003155", SandboxCard::Authenticates, "visa"),
    (
        "4000000000003220",
        SandboxCard::AuthenticatesOnSessionOnly,
        "visa",
    ),
];

/// The numbers a sandbox page lists for its users.
pub fn sandbox_card_numbers() -> impl Iterator<Item = (&'static str, SandboxCard)> {
    SANDBOX_CARDS
        .iter()
        .map(|(number, card, _)| (*number, *card))
}

impl SandboxCard {
    /// The card a number names, with its brand; other numbers are not sandbox cards.
    pub fn of(number: &str) -> Option<(SandboxCard, &'static str)> {
        SANDBOX_CARDS
            .iter()
            .find(|(n, _, _)| *n == number)
            .map(|(_, card, brand)| (*card, *brand))
    }

    /// The handle a saved card of this kind gets: the processor finds its behaviour again from
    /// it, without the number.
    pub fn method_ref(self) -> &'static str {
        match self {
            SandboxCard::Visa => "pm_sandbox_visa",
            SandboxCard::Mastercard => "pm_sandbox_mastercard",
            SandboxCard::Declined => "pm_sandbox_declined",
            SandboxCard::InsufficientFunds => "pm_sandbox_insufficient_funds",
            SandboxCard::Expired => "pm_sandbox_expired",
            SandboxCard::DeclinesAfterSaving => "pm_sandbox_declines",
            SandboxCard::Authenticates => "pm_sandbox_3ds",
            SandboxCard::AuthenticatesOnSessionOnly => "pm_sandbox_3ds_required",
        }
    }

    pub fn from_method_ref(text: &str) -> Option<SandboxCard> {
        SANDBOX_CARDS
            .iter()
            .map(|(_, card, _)| *card)
            .find(|card| card.method_ref() == text)
    }

    /// What the card does, for the sandbox banner of the pages.
    pub fn summary(self) -> &'static str {
        match self {
            SandboxCard::Visa | SandboxCard::Mastercard => "succeeds",
            SandboxCard::Declined => "is declined",
            SandboxCard::InsufficientFunds => "is saved, then has insufficient funds",
            SandboxCard::Expired => "has expired",
            SandboxCard::DeclinesAfterSaving => "is saved, then every charge is declined",
            SandboxCard::Authenticates => "asks for authentication, then succeeds",
            SandboxCard::AuthenticatesOnSessionOnly => {
                "asks for authentication; charges without the holder need it again"
            }
        }
    }

    /// Whether a page asks the holder to authenticate before it goes on.
    pub fn needs_authentication(self) -> bool {
        matches!(
            self,
            SandboxCard::Authenticates | SandboxCard::AuthenticatesOnSessionOnly
        )
    }

    /// Saving the card (no charge): refused cards never reach the customer's wallet.
    pub fn setup(self) -> Result<(), Decline> {
        match self {
            SandboxCard::Declined => Err(declined()),
            SandboxCard::Expired => Err(expired()),
            _ => Ok(()),
        }
    }

    /// A charge with the holder on the page (after any authentication).
    pub fn charge_on_session(self) -> Result<(), Decline> {
        match self {
            SandboxCard::Visa
            | SandboxCard::Mastercard
            | SandboxCard::Authenticates
            | SandboxCard::AuthenticatesOnSessionOnly => Ok(()),
            SandboxCard::Declined | SandboxCard::DeclinesAfterSaving => Err(declined()),
            SandboxCard::InsufficientFunds => Err(insufficient_funds()),
            SandboxCard::Expired => Err(expired()),
        }
    }

    /// A charge of the saved card without the holder (renewals, retries, `payments.charge`).
    pub fn charge_off_session(self) -> Result<(), Decline> {
        match self {
            SandboxCard::AuthenticatesOnSessionOnly => Err(Decline::new(
                "authentication_required",
                "This payment requires customer authentication.",
            )),
            other => other.charge_on_session(),
        }
    }
}

fn declined() -> Decline {
    Decline::new("card_declined", "Your card was declined.")
}

fn insufficient_funds() -> Decline {
    Decline::new("insufficient_funds", "Your card has insufficient funds.")
}

fn expired() -> Decline {
    Decline::new("expired_card", "Your card has expired.")
}

/// The holder failed the sandbox's authentication step.
pub fn authentication_failed() -> Decline {
    Decline::new("authentication_failed", "Customer authentication failed.")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEP_2026: Timestamp = Timestamp::from_millis(1_788_220_800_000);

    #[test]
    fn cards_are_checked_as_a_form_would_send_them() {
        let card = check_card("4242 4242 4242 4242", "12", "34", "123", SEP_2026).unwrap();
        assert_eq!(
            (card.number.as_str(), card.exp_month, card.exp_year),
            ("4242424242424242", 12, 2034)
        );
        assert_eq!(
            check_card("4242424242424242", "9", "2026", "123", SEP_2026)
                .unwrap()
                .exp_year,
            2026
        );
        for (number, month, year, cvc, field) in [
            ("4242424242424241", "12", "34", "123", "cardNumber"),
            ("4242", "12", "34", "123", "cardNumber"),
            ("4242424242424242", "13", "34", "123", "expMonth"),
            ("4242424242424242", "8", "2026", "123", "expYear"),
            ("4242424242424242", "12", "203", "123", "expYear"),
            ("4242424242424242", "12", "34", "12", "cvc"),
        ] {
            assert_eq!(
                check_card(number, month, year, cvc, SEP_2026)
                    .unwrap_err()
                    .field,
                field,
                "{number} {month}/{year} {cvc}"
            );
        }
    }

    #[test]
    fn every_sandbox_number_passes_luhn_and_behaves_as_the_table_says() {
        for (number, _) in sandbox_card_numbers() {
            assert!(luhn(number), "{number}");
        }
        let (visa, brand) = SandboxCard::of("4242424242424242").unwrap();
        assert_eq!((visa, brand), (SandboxCard::Visa, "visa"));
        assert_eq!(SandboxCard::of("4111111111111111"), None);
        assert_eq!(
            SandboxCard::Declined.setup().unwrap_err().code,
            "card_declined"
        );
        assert_eq!(
            SandboxCard::Expired.setup().unwrap_err().code,
            "expired_card"
        );
        assert!(SandboxCard::InsufficientFunds.setup().is_ok());
        assert_eq!(
            SandboxCard::InsufficientFunds
                .charge_off_session()
                .unwrap_err()
                .code,
            "insufficient_funds"
        );
        assert!(SandboxCard::DeclinesAfterSaving.setup().is_ok());
        assert_eq!(
            SandboxCard::DeclinesAfterSaving
                .charge_off_session()
                .unwrap_err()
                .code,
            "card_declined"
        );
        assert!(SandboxCard::Authenticates.charge_off_session().is_ok());
        let required = SandboxCard::AuthenticatesOnSessionOnly
            .charge_off_session()
            .unwrap_err();
        assert!(!required.retryable());
        assert!(
            SandboxCard::AuthenticatesOnSessionOnly
                .charge_on_session()
                .is_ok()
        );
        for (_, card) in sandbox_card_numbers() {
            assert_eq!(SandboxCard::from_method_ref(card.method_ref()), Some(card));
        }
    }

    #[test]
    fn payment_fields_name_their_problems() {
        let mut problems = Vec::new();
        check_payment_fields(Some(49), Some("eur"), Some(" "), &mut problems);
        let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["amount", "currency", "description"]);
        let mut problems = Vec::new();
        check_payment_fields(
            Some(25_000),
            Some("USD"),
            Some("Annual report"),
            &mut problems,
        );
        assert!(problems.is_empty());
    }
}
