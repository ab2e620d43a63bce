//! Property: for any interleaving of online-charging sessions on one account — grants, usage
//! reports (rated on either side of a tariff switch), retried requests and releases — the total
//! debited equals the sum of the rated used units as long as the account could pay, nothing is
//! ever debited twice for a retried reference, and the account never goes below its floor.

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Ledger, Operation, Request, Unit};
use unicharge_core::online::{quota, OnlineTariff, QuotaUnit, SwitchSide, TariffSwitch};

#[derive(Debug, Clone)]
enum Step {
    /// Session asks for seconds.
    Grant {
        session: usize,
        seconds: u64,
    },
    /// Session reports used seconds on a side of the switch (0 before, 1 after, 2 unknown).
    Use {
        session: usize,
        seconds: u64,
        side: i32,
    },
    /// The previous request again (a retransmission).
    Retry,
    Release {
        session: usize,
    },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0..4usize, 1..400u64).prop_map(|(session, seconds)| Step::Grant { session, seconds }),
        (0..4usize, 0..500u64, 0..3i32).prop_map(|(session, seconds, side)| Step::Use {
            session,
            seconds,
            side
        }),
        Just(Step::Retry),
        (0..4usize).prop_map(|session| Step::Release { session }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn debits_equal_rated_usage_and_the_floor_holds(
        balance in 0..2000i64,
        floor in -300..=0i64,
        steps in proptest::collection::vec(step(), 1..60),
    ) {
        let now = Utc.with_ymd_and_hms(2026, 12, 6, 18, 0, 0).unwrap();
        let tariff = OnlineTariff {
            id: "voice".into(),
            rating_group: Some(10),
            service_identifier: None,
            unit: QuotaUnit::Time,
            currency: "EUR".into(),
            price: Decimal::new(10, 2),
            block: 60,
            max_grant: Some(600),
            default_grant: 60,
            switch: Some(TariffSwitch { at: now + Duration::minutes(5), price: Decimal::new(5, 2) }),
        };
        let unit = Unit::Money("EUR".into());
        let mut ledger = Ledger::new();
        let floor = Decimal::new(floor, 2);
        let account = Account::open("a", unit.clone(), floor, now).unwrap();
        ledger.open(account).unwrap();
        if balance > 0 {
            ledger.apply(&Request { account: "a".into(), reference: "topup".into(),
                operation: Operation::TopUp { amount: Decimal::new(balance, 2) }, at: now }).unwrap();
        }
        let mut open: [Option<String>; 4] = Default::default();
        let mut rated = Decimal::ZERO;
        let mut shortfall = Decimal::ZERO;
        let mut last: Option<Request> = None;
        for (n, s) in steps.into_iter().enumerate() {
            let request = match s {
                Step::Grant { session, seconds } => {
                    let available = ledger.account("a").unwrap().available();
                    let q = quota(&tariff, &unit, available, Some(seconds), now).unwrap();
                    prop_assert!(q.units <= seconds && q.units <= 600);
                    prop_assert!(q.cost <= available);
                    if q.units == 0 || open[session].is_some() {
                        continue;
                    }
                    let name = format!("ro:s{session}:10:{n}");
                    open[session] = Some(name.clone());
                    Request { account: "a".into(), reference: format!("ro:s{session}:{n}:reserve"),
                        operation: Operation::Reserve { reservation: name, amount: q.cost, minimum: q.cost }, at: now }
                }
                Step::Use { session, seconds, side } => {
                    let Some(name) = open[session].take() else { continue };
                    let price = tariff.price_for(SwitchSide::from_tariff_change_usage(Some(side), now));
                    let cost = tariff.cost(&unit, seconds, price).unwrap();
                    rated += cost;
                    Request { account: "a".into(), reference: format!("ro:s{session}:{n}:commit"),
                        operation: Operation::Commit { reservation: name, used: cost, close: true }, at: now }
                }
                Step::Release { session } => {
                    let Some(name) = open[session].take() else { continue };
                    Request { account: "a".into(), reference: format!("ro:s{session}:{n}:release"),
                        operation: Operation::Release { reservation: name }, at: now }
                }
                Step::Retry => match last.clone() { Some(r) => r, None => continue },
            };
            let before = ledger.account("a").unwrap().clone();
            let m = ledger.apply(&request).unwrap();
            if matches!(s, Step::Retry) {
                prop_assert_eq!(ledger.account("a").unwrap(), &before, "a retry changes nothing");
            } else {
                shortfall += m.shortfall;
            }
            let a = ledger.account("a").unwrap();
            prop_assert!(a.balance - a.reserved >= a.floor, "floor broken: {:?}", a);
            last = Some(request);
        }
        let a = ledger.account("a").unwrap();
        let debited = Decimal::new(balance.max(0), 2) - a.balance;
        prop_assert_eq!(debited + shortfall, rated, "debited + unpaid = rated usage");
    }
}
