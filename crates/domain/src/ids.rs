//! Identifiers: organization UUIDs and prefixed ULIDs (`cus_01J…`) for everything else.
//!
//! Contract: `wire.md` §10. A prefixed id is the prefix followed by a 26-character Crockford
//! ULID. Ids are minted outside the domain (the app's id source) and parsed here at the edge.

use std::fmt;

/// An organization id: a lowercase hyphenated UUID, minted by the app layer.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrgId(String);

impl OrgId {
    /// Wraps an id read from storage or minted by the app; no parsing beyond non-emptiness is
    /// needed because organization ids never arrive from API input.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            /// Builds an id from a freshly minted ULID.
            pub fn from_ulid(ulid: ::ulid::Ulid) -> Self {
                Self(format!("{}{}", $prefix, ulid))
            }

            /// Parses `<prefix><26-char ULID>`; anything else is not one of ours.
            pub fn parse(text: &str) -> Option<Self> {
                let rest = text.strip_prefix($prefix)?;
                ::ulid::Ulid::from_string(rest).ok()?;
                Some(Self(text.to_owned()))
            }

            /// Wraps an id read back from storage, where it was valid when written.
            pub fn from_stored(text: String) -> Self {
                Self(text)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

pub(crate) use prefixed_id;

prefixed_id!(
    /// A customer, `cus_…`.
    CustomerId,
    "cus_"
);
prefixed_id!(
    /// An add-on, `adn_…` (`lifecycle.md` §5).
    AddonId,
    "adn_"
);
prefixed_id!(
    /// A credit pack, `cpk_…` (`commerce.md` §3).
    CreditPackId,
    "cpk_"
);
prefixed_id!(
    /// A customer credit grant, `crd_…` (`commerce.md` §5).
    CustomerCreditId,
    "crd_"
);
prefixed_id!(
    /// An API key record (not the secret), `key_…`.
    ApiKeyId,
    "key_"
);
prefixed_id!(
    /// A payment link or charge, `pay_…` (`payments.md` §3).
    PaymentId,
    "pay_"
);
prefixed_id!(
    /// One charge attempt, `txn_…` (`payments.md` §3).
    TransactionId,
    "txn_"
);
prefixed_id!(
    /// A refund, `re_…` (`payments.md` §3).
    RefundId,
    "re_"
);
prefixed_id!(
    /// A card a customer saved, `pm_…` (internal: never on the wire).
    SavedCardId,
    "pm_"
);
prefixed_id!(
    /// A customer portal session, `ps_…` (`payments.md` §10).
    PortalSessionId,
    "ps_"
);
prefixed_id!(
    /// A payout, `po_…` (`payments.md` §3).
    PayoutId,
    "po_"
);
prefixed_id!(
    /// A payout bank account, `pba_…` (`payments.md` §3).
    PayoutBankAccountId,
    "pba_"
);

#[cfg(test)]
mod tests {
    use super::*;
    use ulid::Ulid;

    #[test]
    fn a_prefixed_id_round_trips_through_parse() {
        let id = CustomerId::from_ulid(Ulid::from_parts(1_750_000_000_000, 42));

        assert_eq!(CustomerId::parse(id.as_str()), Some(id.clone()));
        assert_eq!(id.as_str().len(), 4 + 26);
    }

    #[test]
    fn parse_refuses_other_prefixes_and_bad_ulids() {
        let ulid = Ulid::from_parts(1_750_000_000_000, 42).to_string();

        assert_eq!(CustomerId::parse(&format!("key_{ulid}")), None);
        assert_eq!(CustomerId::parse("cus_not-a-ulid"), None);
        assert_eq!(CustomerId::parse(""), None);
    }
}
