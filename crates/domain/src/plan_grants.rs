//! Plan grants (`commerce.md` §6): a customer gets the access of a higher plan of the same
//! group for a while, without anything about billing changing. The grant's target features
//! (pinned when it is made) are merged into what access decisions see; invoices, seats billed
//! and periods keep following the base plan.

use crate::catalog::FeatureType;
use crate::period::BillingInterval;
use crate::subscription::{FeatureSnapshot, Subscription};
use crate::{CustomerId, DomainError, OrgId, Timestamp};

pub const REASON_CHARS_MAX: usize = 500;
pub const CYCLES_MAX: i64 = 36;

/// How long a grant lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duration {
    /// Until the end of the N-th billing period, the current one counting as the first.
    Cycles(i64),
    UntilDate(Timestamp),
    UntilRevoked,
}

impl Duration {
    pub fn name(self) -> &'static str {
        match self {
            Duration::Cycles(_) => "cycles",
            Duration::UntilDate(_) => "until_date",
            Duration::UntilRevoked => "until_revoked",
        }
    }

    pub fn cycles(self) -> Option<i64> {
        match self {
            Duration::Cycles(n) => Some(n),
            _ => None,
        }
    }

    /// A duration as a request gives it: `cycles` with `durationCycles` (1–36), `until_date`
    /// with `expiresAt` (after now), `until_revoked` with neither.
    pub fn parse(
        name: &str,
        cycles: Option<i64>,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Self, DomainError> {
        match (name, cycles, expires_at) {
            ("cycles", Some(n), None) if (1..=CYCLES_MAX).contains(&n) => Ok(Duration::Cycles(n)),
            ("cycles", _, None) => Err(DomainError::field(
                "durationCycles",
                format!("durationCycles must be 1 to {CYCLES_MAX} for a duration of cycles"),
            )),
            ("until_date", None, Some(at)) if at > now => Ok(Duration::UntilDate(at)),
            ("until_date", None, _) => Err(DomainError::field(
                "expiresAt",
                "expiresAt must be a future date-time for a duration until_date",
            )),
            ("until_revoked", None, None) => Ok(Duration::UntilRevoked),
            ("cycles" | "until_date" | "until_revoked", Some(_), _) => Err(DomainError::field(
                "durationCycles",
                "durationCycles goes with a duration of cycles only",
            )),
            ("cycles" | "until_revoked", _, Some(_)) => Err(DomainError::field(
                "expiresAt",
                "expiresAt goes with a duration until_date only",
            )),
            _ => Err(DomainError::field(
                "duration",
                "duration must be cycles, until_date or until_revoked",
            )),
        }
    }

    /// When a grant of this duration on `subscription`, started at `start`, ends: the end of
    /// the N-th period counting the one `start` falls in as the first, the given date, or
    /// never. An update keeps the start, so cycles never re-anchor.
    pub fn expires_at(self, subscription: &Subscription, start: Timestamp) -> Option<Timestamp> {
        match self {
            Duration::Cycles(n) => {
                let interval = subscription
                    .billing_interval
                    .filter(|i| i.is_recurring())
                    .unwrap_or(BillingInterval::Monthly);
                let (index, _) = interval.period_at(subscription.anchor, start)?;
                interval.boundary(subscription.anchor, index + u32::try_from(n).ok()?)
            }
            Duration::UntilDate(at) => Some(at),
            Duration::UntilRevoked => None,
        }
    }
}

/// `active`, `expired` or `revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Active,
    Expired,
    Revoked,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Expired => "expired",
            Status::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [Status::Active, Status::Expired, Status::Revoked]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// One entry of a grant's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantEvent {
    pub id: String,
    /// `created`, `updated`, `expired` or `revoked`.
    pub event_type: String,
    pub reason: String,
    /// `api` or `system`.
    pub source: String,
    pub previous_expires_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub duration: String,
    pub duration_cycles: Option<i64>,
    pub requested_expires_at: Option<Timestamp>,
    pub created_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanGrant {
    pub id: String,
    pub org_id: OrgId,
    pub customer_id: CustomerId,
    pub subscription_id: String,
    pub base_plan_id: String,
    pub plan_id: String,
    pub plan_release_id: String,
    pub status: Status,
    pub duration: String,
    pub duration_cycles: Option<i64>,
    pub starts_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub reason: String,
    pub revoked_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub events: Vec<GrantEvent>,
}

impl PlanGrant {
    /// The status as of `now`: an active grant past `expiresAt` reads as expired before the
    /// sweep records it.
    pub fn status_at(&self, now: Timestamp) -> Status {
        match self.status {
            Status::Active if self.expires_at.is_some_and(|e| e <= now) => Status::Expired,
            status => status,
        }
    }

    pub fn is_active_at(&self, now: Timestamp) -> bool {
        self.status_at(now) == Status::Active
    }
}

/// A grant running on a subscription, with what its views show: the target plan's name and
/// the base plan's own access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantAccess {
    pub grant: PlanGrant,
    pub target_plan_name: String,
    pub base: Vec<FeatureSnapshot>,
}

/// A reason of 1–500 characters.
pub fn check_reason(reason: &str) -> Result<String, DomainError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > REASON_CHARS_MAX {
        return Err(DomainError::field(
            "reason",
            format!("reason must be 1 to {REASON_CHARS_MAX} characters"),
        ));
    }
    Ok(reason.to_owned())
}

/// What a subscription's access is while a grant runs (`commerce.md` §6): a feature is on if
/// either plan has it on; included is the larger; unlimited if either is; overage only ever
/// from the base; the target's other features are added.
pub fn effective_snapshot(
    base: &[FeatureSnapshot],
    target: &[FeatureSnapshot],
) -> Vec<FeatureSnapshot> {
    let mut merged: Vec<FeatureSnapshot> = base
        .iter()
        .map(
            |b| match target.iter().find(|t| t.feature_id == b.feature_id) {
                None => b.clone(),
                Some(t) => FeatureSnapshot {
                    enabled: b.enabled || t.enabled,
                    included_amount: b.included_amount.max(t.included_amount),
                    unlimited: b.unlimited || t.unlimited,
                    ..b.clone()
                },
            },
        )
        .collect();
    for t in target {
        if !base.iter().any(|b| b.feature_id == t.feature_id) {
            let mut added = t.clone();
            added.overage.enabled = false;
            added.overage.unit_price = None;
            merged.push(added);
        }
    }
    merged
}

/// Why a plan cannot be granted: neither plan may bill credits or a balance, sell overage, or
/// price by AI model (`commerce.md` §6).
pub fn check_grantable(
    base: &[FeatureSnapshot],
    target: &[FeatureSnapshot],
) -> Result<(), DomainError> {
    let blocked = base.iter().chain(target).find(|f| {
        (f.enabled && f.overage.enabled && f.feature_type != FeatureType::Boolean)
            || f.pricing_mode == "ai_model"
    });
    match blocked {
        Some(f) => Err(DomainError::field(
            "planId",
            format!(
                "{} sells overage or prices by AI model; plan grants need plans without either",
                f.code
            ),
        )),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{FeatureId, Overage};

    fn feature(code: &str, kind: FeatureType, enabled: bool, included: i64) -> FeatureSnapshot {
        FeatureSnapshot {
            feature_id: FeatureId::from_stored(format!("ftr_{code}")),
            code: code.into(),
            name: code.into(),
            feature_type: kind,
            unit_name: None,
            enabled,
            included_amount: included,
            unlimited: false,
            overage: Overage {
                enabled: false,
                unit_price: None,
            },
            credits_per_unit: None,
            pricing_mode: "fixed".into(),
        }
    }

    #[test]
    fn access_is_the_better_of_the_two_plans() {
        let base = vec![
            feature("sso", FeatureType::Boolean, false, 0),
            feature("editor", FeatureType::Seats, true, 3),
        ];
        let target = vec![
            feature("sso", FeatureType::Boolean, true, 0),
            feature("editor", FeatureType::Seats, true, 10),
            feature("api", FeatureType::Usage, true, 1000),
        ];
        let merged = effective_snapshot(&base, &target);
        let of = |code: &str| merged.iter().find(|f| f.code == code).unwrap().clone();
        assert!(of("sso").enabled);
        assert_eq!(of("editor").included_amount, 10);
        assert_eq!(
            of("api").included_amount,
            1000,
            "the target's own features are added"
        );
        assert_eq!(merged.len(), 3);
    }

    #[test]
    fn durations_name_their_field_when_wrong() {
        let now = Timestamp::from_millis(0);
        assert_eq!(
            Duration::parse("cycles", Some(2), None, now).unwrap(),
            Duration::Cycles(2)
        );
        assert!(Duration::parse("cycles", Some(37), None, now).is_err());
        assert!(Duration::parse("cycles", None, None, now).is_err());
        assert!(Duration::parse("until_date", None, Some(now), now).is_err());
        assert!(Duration::parse("until_revoked", Some(1), None, now).is_err());
        assert!(Duration::parse("forever", None, None, now).is_err());
    }
}
