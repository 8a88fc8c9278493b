//! Seat balances and the ledger of seat events (`seats.md` §1, §5–§6). A balance is a
//! non-negative count per subscription and seats feature; every change is an immutable event.
//! Billing keeps, per period, the highest number of paid extra seats (the high-water mark):
//! removals lower the count at once but never the amount already paid.

use crate::subscription::{FeatureSnapshot, SubscriptionId};
use crate::{CustomerId, DomainError, OrgId, Timestamp};

/// Largest seat count accepted in one request or one balance (`seats.md` §2).
pub const SEATS_MAX: i64 = 1_000_000;
/// Most features one bulk request may name (`seats.md` §2).
pub const BULK_FEATURES_MAX: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatEventId(String);

impl SeatEventId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("sev_{ulid}"))
    }

    /// A quota change's id (`qev_…`): quota balances share the seat ledger (`usage.md` §3.5).
    pub fn quota_from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("qev_{ulid}"))
    }

    pub fn is_quota(&self) -> bool {
        self.0.starts_with("qev_")
    }

    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One change of one seat balance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatEvent {
    pub id: SeatEventId,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub subscription_id: SubscriptionId,
    pub feature_code: String,
    pub previous_balance: i64,
    pub new_balance: i64,
    pub ts: Timestamp,
}

/// One change of the seat ledger as a timeline draws it: what changed, from what to what,
/// when (the dashboard's seat timeline, `dashboard.md` §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatPoint {
    pub feature_code: String,
    pub previous_balance: i64,
    pub new_balance: i64,
    pub ts: Timestamp,
}

impl From<&SeatEvent> for SeatPoint {
    fn from(event: &SeatEvent) -> Self {
        SeatPoint {
            feature_code: event.feature_code.clone(),
            previous_balance: event.previous_balance,
            new_balance: event.new_balance,
            ts: event.ts,
        }
    }
}

/// The seats of one feature on one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeatBalance {
    pub subscription_id: SubscriptionId,
    pub feature_code: String,
    pub current: i64,
    /// The most extra seats paid for in the current period (`seats.md` §5 `paidExtra`).
    pub paid_extra: i64,
    /// The highest count held in the current period, included units counted: a quota's
    /// `billedQuantity` (`usage.md` §4).
    pub peak: i64,
    /// When the balance last changed: the `asOf` of balance reads.
    pub updated_at: Timestamp,
}

/// What a request does to one balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeatChange {
    Add(i64),
    Remove(i64),
    Set(i64),
}

/// Extra seats that are billed: none when unlimited or overage is off (`seats.md` §5).
pub fn billable_extra(count: i64, feature: &FeatureSnapshot) -> i64 {
    if feature.unlimited || !feature.overage.enabled {
        0
    } else {
        (count - feature.included_amount).max(0)
    }
}

/// `seats.limit_reached` fires when a change crosses up to or over the included amount
/// (`seats.md` §6).
pub fn crosses_limit(previous: i64, new: i64, feature: &FeatureSnapshot) -> bool {
    !feature.unlimited && previous < feature.included_amount && feature.included_amount <= new
}

/// The outcome of one applied change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedChange {
    pub balance: SeatBalance,
    pub event: SeatEvent,
    /// Extra seats that became paid by this change (billed as a prorated true-up).
    pub newly_paid_extra: i64,
}

/// Applies one change to a balance. Pure: the caller supplies `now` and the new event's id.
///
/// Refuses a removal of more seats than held (`insufficient_seats`) and any balance above
/// `SEATS_MAX`. Paid extra seats only ever rise within a period.
pub fn apply_seat_change(
    balance: &SeatBalance,
    change: SeatChange,
    feature: &FeatureSnapshot,
    event: (SeatEventId, &OrgId, &CustomerId),
    now: Timestamp,
) -> Result<AppliedChange, DomainError> {
    let previous = balance.current;
    let new = match change {
        SeatChange::Add(n) => previous.saturating_add(n),
        SeatChange::Set(n) => n,
        SeatChange::Remove(n) => {
            if n > previous {
                return Err(DomainError::InsufficientSeats {
                    feature_code: balance.feature_code.clone(),
                    current: previous,
                    requested: n,
                });
            }
            previous - n
        }
    };
    if new > SEATS_MAX {
        return Err(DomainError::field(
            "count",
            format!("a seat balance may not exceed {SEATS_MAX}"),
        ));
    }
    let extra = billable_extra(new, feature);
    let newly_paid_extra = (extra - balance.paid_extra).max(0);
    let (id, org_id, customer_id) = event;
    let next = SeatBalance {
        current: new,
        paid_extra: balance.paid_extra.max(extra),
        peak: balance.peak.max(new),
        updated_at: now,
        ..balance.clone()
    };
    debug_assert!(next.current >= 0 && next.paid_extra >= balance.paid_extra);
    Ok(AppliedChange {
        event: SeatEvent {
            id,
            org_id: org_id.clone(),
            customer_id: customer_id.clone(),
            subscription_id: balance.subscription_id.clone(),
            feature_code: balance.feature_code.clone(),
            previous_balance: previous,
            new_balance: new,
            ts: now,
        },
        balance: next,
        newly_paid_extra,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FeatureId, FeatureType, Overage};
    use crate::money::Rate;

    fn editor(included: i64, overage: bool) -> FeatureSnapshot {
        FeatureSnapshot {
            feature_id: FeatureId::from_stored("ftr_1".into()),
            code: "editor".into(),
            name: "Editor seats".into(),
            feature_type: FeatureType::Seats,
            unit_name: None,
            enabled: true,
            included_amount: included,
            unlimited: false,
            overage: Overage {
                enabled: overage,
                unit_price: overage.then_some(Rate(250_000)),
            },
            credits_per_unit: None,
            pricing_mode: "fixed".to_owned(),
        }
    }

    fn balance(current: i64, paid_extra: i64) -> SeatBalance {
        SeatBalance {
            subscription_id: SubscriptionId::from_stored("sub_1".into()),
            feature_code: "editor".into(),
            current,
            paid_extra,
            peak: current,
            updated_at: Timestamp::from_millis(0),
        }
    }

    fn apply(
        b: &SeatBalance,
        change: SeatChange,
        f: &FeatureSnapshot,
    ) -> Result<AppliedChange, DomainError> {
        let org = OrgId::new("org");
        let customer = CustomerId::from_stored("cus_1".into());
        apply_seat_change(
            b,
            change,
            f,
            (SeatEventId::from_stored("sev_1".into()), &org, &customer),
            Timestamp::from_millis(5),
        )
    }

    #[test]
    fn removal_lowers_the_count_but_not_what_was_paid() {
        // seats.md §5 example 3: 8 seats (3 extra paid), remove 2, add 2 back.
        let feature = editor(5, true);
        let removed = apply(&balance(8, 3), SeatChange::Remove(2), &feature).unwrap();
        let re_added = apply(&removed.balance, SeatChange::Add(2), &feature).unwrap();

        assert_eq!(
            (removed.balance.current, removed.balance.paid_extra),
            (6, 3)
        );
        assert_eq!(
            (re_added.balance.current, re_added.balance.paid_extra),
            (8, 3)
        );
        assert_eq!(
            re_added.newly_paid_extra, 0,
            "re-adding paid seats costs nothing"
        );
    }

    #[test]
    fn adding_past_the_paid_extra_pays_the_difference() {
        // seats.md §5 example 2: 6 seats (1 extra paid), add 1.
        let added = apply(&balance(6, 1), SeatChange::Add(1), &editor(5, true)).unwrap();

        assert_eq!(added.event.previous_balance, 6);
        assert_eq!(added.event.new_balance, 7);
        assert_eq!(added.balance.paid_extra, 2);
        assert_eq!(added.newly_paid_extra, 1);
    }

    #[test]
    fn removing_more_than_held_is_refused_with_the_numbers() {
        let refused = apply(&balance(7, 2), SeatChange::Remove(50), &editor(5, true));

        assert_eq!(
            refused,
            Err(DomainError::InsufficientSeats {
                feature_code: "editor".into(),
                current: 7,
                requested: 50
            })
        );
    }

    #[test]
    fn nothing_is_billable_without_overage_and_the_limit_is_crossed_once_upward() {
        let capped = editor(5, false);

        assert_eq!(billable_extra(9, &capped), 0);
        assert!(crosses_limit(4, 5, &capped));
        assert!(crosses_limit(2, 9, &capped));
        assert!(!crosses_limit(5, 6, &capped), "already at the limit");
        assert!(!crosses_limit(6, 4, &capped), "going down");
    }
}
