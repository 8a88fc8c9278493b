//! Properties of the billing rules, over random inputs (`STYLE.md` §8): seat balances never go
//! negative and the ledger sums to the balance; paid extra seats only rise within a period;
//! prorating never bills more than the whole period; an invoice's total is the sum of its lines.

use proptest::prelude::*;
use tally_domain::billing::{
    plan_base_line, seat_advance_line, seat_unit_cents, subtotal, true_up,
};
use tally_domain::catalog::{AMOUNT_MAX, FeatureId, FeatureType, Overage};
use tally_domain::money::{Cents, MONEY_MAX, Rate};
use tally_domain::period::{BillingInterval, BillingPeriod};
use tally_domain::seats::{
    SEATS_MAX, SeatBalance, SeatChange, SeatEventId, apply_seat_change, billable_extra,
};
use tally_domain::subscription::{FeatureSnapshot, SubscriptionId};
use tally_domain::time::MILLIS_PER_DAY;
use tally_domain::{CustomerId, OrgId, Timestamp};

fn editor(included: i64, unit_price: i64) -> FeatureSnapshot {
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
            enabled: true,
            unit_price: Some(Rate(unit_price)),
        },
        credits_per_unit: None,
        pricing_mode: "fixed".to_owned(),
    }
}

fn change() -> impl Strategy<Value = SeatChange> {
    prop_oneof![
        (1i64..50).prop_map(SeatChange::Add),
        (1i64..50).prop_map(SeatChange::Remove),
        (0i64..120).prop_map(SeatChange::Set),
    ]
}

const START: Timestamp = Timestamp::from_millis(1_780_272_000_000);

proptest! {
    #[test]
    fn balances_never_go_negative_and_the_ledger_sums_to_the_balance(
        changes in proptest::collection::vec(change(), 1..60),
        included in 0i64..20,
    ) {
        let feature = editor(included, 250_000);
        let org = OrgId::new("org");
        let customer = CustomerId::from_stored("cus_1".into());
        let mut balance = SeatBalance {
            subscription_id: SubscriptionId::from_stored("sub_1".into()),
            feature_code: "editor".into(),
            current: 0,
            paid_extra: 0,
            peak: 0,
            updated_at: START,
        };
        let mut ledger_sum = 0;
        for change in changes {
            let before = balance.clone();
            match apply_seat_change(&balance, change, &feature, (SeatEventId::from_stored("sev_1".into()), &org, &customer), START) {
                Ok(applied) => {
                    ledger_sum += applied.event.new_balance - applied.event.previous_balance;
                    prop_assert!(applied.balance.current >= 0);
                    prop_assert!(applied.balance.paid_extra >= before.paid_extra, "paid extra seats never fall within a period");
                    prop_assert!(applied.balance.paid_extra >= billable_extra(applied.balance.current, &feature));
                    balance = applied.balance;
                }
                Err(_) => prop_assert_eq!(&balance, &before, "a refused change changes nothing"),
            }
        }
        prop_assert_eq!(ledger_sum, balance.current);
    }

    #[test]
    fn prorating_never_bills_more_than_the_whole_period(
        units in 1i64..20,
        unit_price in 0i64..1_000_000,
        first_day in 0i64..31,
        second_day in 0i64..31,
    ) {
        let end = BillingInterval::Monthly.boundary(START, 1).unwrap();
        let period = BillingPeriod { start: START, end };
        let whole = true_up(units, Rate(unit_price), &period, START).unwrap().0;
        let (first, second) = (first_day.min(second_day), first_day.max(second_day));
        // The same seats bought in two halves: some at `first`, the rest at `second`.
        let half = units / 2;
        let early = true_up(half, Rate(unit_price), &period, START.plus_millis(first * MILLIS_PER_DAY)).unwrap().0;
        let late = true_up(units - half, Rate(unit_price), &period, START.plus_millis(second * MILLIS_PER_DAY)).unwrap().0;

        prop_assert!(early.0 >= 0 && late.0 >= 0);
        // Each part rounds half up on its own, so two parts may exceed the whole by a cent.
        prop_assert!(early.0 + late.0 <= whole.0 + 1);
        prop_assert!(true_up(units, Rate(unit_price), &period, START.plus_millis(first * MILLIS_PER_DAY)).unwrap().0 <= whole);
    }

    #[test]
    fn an_invoice_total_is_the_sum_of_its_lines_or_refused_above_the_bound(
        price in 0i64..=AMOUNT_MAX,
        seats in proptest::collection::vec((0i64..30, 0i64..=SEATS_MAX, 0i64..=AMOUNT_MAX), 0..2_000),
    ) {
        // Prices, unit prices and seat counts up to the largest the API accepts, and up to
        // 2 000 seat features: the wide sum of the lines is the total when within the bound,
        // and anything else is refused; nothing wraps.
        let end = BillingInterval::Monthly.boundary(START, 1).unwrap();
        let mut lines = vec![plan_base_line("Pro", Cents(price), &BillingPeriod { start: START, end })];
        for (included, count, unit_price) in seats {
            let extra = (count - included).max(0);
            match seat_advance_line("seat", "Seat", included, count, extra, Rate(unit_price), None) {
                Ok(line) => lines.extend(line),
                Err(_) => prop_assert!(
                    i128::from(seat_unit_cents(Rate(unit_price)).0) * i128::from(extra) > i128::from(MONEY_MAX),
                    "only a line above the bound is refused"
                ),
            }
        }

        let wide: i128 = lines.iter().map(|l| i128::from(l.amount.0)).sum();

        prop_assert!(lines.iter().all(|l| (0..=MONEY_MAX).contains(&l.amount.0)));
        prop_assert!(lines.iter().all(|l| i128::from(l.amount.0) == i128::from(l.quantity) * i128::from(l.unit_amount.0)));
        match subtotal(&lines) {
            Ok(total) => prop_assert_eq!(i128::from(total.0), wide),
            Err(_) => prop_assert!(wide > i128::from(MONEY_MAX)),
        }
    }
}
