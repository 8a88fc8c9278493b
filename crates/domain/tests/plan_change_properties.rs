//! Properties of plan changes (`lifecycle.md` §4), over random inputs: the credit comes from
//! the base price paid and nothing else (extra seats are never credited), the amount owed is
//! the charge less that credit and never negative, and a scheduled change alters nothing
//! until the renewal it waits for.

use proptest::prelude::*;
use tally_domain::catalog::{PlanId, PriceId};
use tally_domain::money::Cents;
use tally_domain::period::{BillingInterval, BillingPeriod};
use tally_domain::plan_change::{ChangeType, ScheduledChange, immediate_amounts};
use tally_domain::subscription::{DeadlineKind, NewSubscription, SubscriptionId};
use tally_domain::time::MILLIS_PER_DAY;
use tally_domain::{CustomerId, OrgId, Timestamp};

const START_MS: i64 = 1_788_220_800_000; // 2026-09-01T00:00:00Z

fn period(days: i64) -> BillingPeriod {
    BillingPeriod {
        start: Timestamp::from_millis(START_MS),
        end: Timestamp::from_millis(START_MS + days * MILLIS_PER_DAY),
    }
}

proptest! {
    #[test]
    fn the_credit_is_the_unused_share_of_the_base_paid(
        base in 0i64..10_000_000,
        charge in 0i64..10_000_000,
        days in 28i64..366,
        offset_ms in 0i64..(28 * MILLIS_PER_DAY),
    ) {
        let period = period(days);
        let at = Timestamp::from_millis(START_MS + offset_ms);
        let amounts = immediate_amounts(Cents(base), Some(period), at, Cents(charge)).unwrap();
        prop_assert!(amounts.credit.0 >= 0 && amounts.credit.0 <= base);
        prop_assert!(amounts.days_left >= 0 && amounts.days_left <= amounts.period_days);
        // Exactly round_half_up(base × d / P).
        let exact = i128::from(base) * i128::from(amounts.days_left);
        let p = i128::from(amounts.period_days);
        prop_assert_eq!(i128::from(amounts.credit.0), (2 * exact + p) / (2 * p));
        // Owed: the charge less the credit, never below 0; the rest is excess.
        prop_assert!(amounts.net.0 >= 0 && amounts.excess.0 >= 0);
        prop_assert_eq!(amounts.net.0 - amounts.excess.0, charge - amounts.credit.0);
        prop_assert!(amounts.net.0 == 0 || amounts.excess.0 == 0);
    }

    #[test]
    fn a_scheduled_change_alters_nothing_before_its_renewal(
        days_before in 0i64..30,
        seats_plan in any::<bool>(),
    ) {
        let start = Timestamp::from_millis(START_MS);
        let sub = NewSubscription {
            id: SubscriptionId::from_stored("sub_1".into()),
            org_id: OrgId::new("org"),
            customer_id: CustomerId::from_stored("cus_1".into()),
            plan_id: PlanId::from_stored("pln_business".into()),
            price_id: Some(PriceId::from_stored("pp_business".into())),
            name: "Business".into(),
            description: None,
            billing_interval: Some(BillingInterval::Monthly),
            trial_days: 0,
            start_date: start,
            credits: None,
            balance: None,
            currency: "usd".to_owned(),
        }
        .start(start);
        let end = sub.current_period.unwrap().end;
        let mut scheduled = sub.clone();
        scheduled.scheduled_change = Some(ScheduledChange {
            change_type: if seats_plan { ChangeType::PlanDowngrade } else { ChangeType::IntervalChange },
            plan_id: PlanId::from_stored(if seats_plan { "pln_pro" } else { "pln_business" }.into()),
            price_id: Some(PriceId::from_stored("pp_other".into())),
            billing_interval: Some(if seats_plan { BillingInterval::Monthly } else { BillingInterval::Weekly }),
            requested_at: start,
            effective_at: end,
        });
        // Any instant before the period end: the subscription reads as it was.
        let before = Timestamp::from_millis(end.as_millis() - 1 - days_before * MILLIS_PER_DAY);
        let seen = scheduled.as_of(before);
        prop_assert_eq!((&seen.plan_id, &seen.price_id, seen.billing_interval, seen.current_period),
            (&sub.plan_id, &sub.price_id, sub.billing_interval, sub.current_period));
        prop_assert_eq!(scheduled.next_deadline(), Some((end, DeadlineKind::Renewal)));
        // At the renewal it switches, and its periods start there.
        let renewed = scheduled.pass_deadline(DeadlineKind::Renewal, end);
        let target = scheduled.scheduled_change.clone().unwrap();
        prop_assert_eq!((&renewed.plan_id, &renewed.price_id, renewed.billing_interval),
            (&target.plan_id, &target.price_id, target.billing_interval));
        prop_assert_eq!(renewed.current_period.unwrap().start, end);
        prop_assert_eq!(renewed.scheduled_change, None);
    }
}

proptest! {
    /// Whatever else the invoice that opened the period charged (extra seats in advance,
    /// true-ups, usage), only its base price is credited.
    #[test]
    fn extra_seats_paid_are_never_credited(
        base in 0i64..10_000_000,
        extra in proptest::collection::vec((1i64..50, 1i64..100_000), 0..4),
        offset_days in 0i64..30,
    ) {
        use tally_domain::billing::{base_paid, plan_base_line, seat_advance_line};
        use tally_domain::money::Rate;
        let period = period(30);
        let mut lines = vec![plan_base_line("Pro", Cents(base), &period)];
        for (seats, unit_cents) in &extra {
            let line = seat_advance_line("editor", "Editors", 5, 5 + seats, *seats, Rate(unit_cents * 100), None)
                .unwrap()
                .unwrap();
            lines.push(line);
        }
        prop_assert_eq!(base_paid(&lines), Cents(base));
        let at = Timestamp::from_millis(START_MS + offset_days * MILLIS_PER_DAY);
        let credited = immediate_amounts(base_paid(&lines), Some(period), at, Cents(0)).unwrap();
        let base_only = immediate_amounts(Cents(base), Some(period), at, Cents(0)).unwrap();
        prop_assert_eq!(credited.credit, base_only.credit);
        prop_assert!(credited.credit.0 <= base);
    }
}
