//! Property tests of the ledger: any interleaving of reserve / commit / release / top-up /
//! debit on one account, with retries, keeps the books exact and never goes below the floor.

use chrono::{DateTime, TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use unicharge_core::ledger::{
    Account, Ledger, LedgerError, Movement, MovementKind, Operation, Request, Unit,
};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

/// Cents, so sums are exact only if the ledger is.
fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

#[derive(Debug, Clone)]
enum Step {
    Op(Operation),
    /// Send again the request made `n` steps back (modulo), with its reference.
    Retry(usize),
}

fn reservation() -> impl Strategy<Value = String> {
    (0u8..4).prop_map(|r| format!("r{r}"))
}

fn operation() -> impl Strategy<Value = Operation> {
    prop_oneof![
        (1i64..5_000).prop_map(|c| Operation::TopUp { amount: money(c) }),
        (0i64..5_000, any::<bool>()).prop_map(|(c, partial)| Operation::Debit {
            amount: money(c),
            partial
        }),
        (reservation(), 1i64..3_000, 0i64..3_000).prop_map(|(reservation, a, m)| {
            Operation::Reserve {
                reservation,
                amount: money(a),
                minimum: money(m.min(a)),
            }
        }),
        (reservation(), 0i64..4_000, any::<bool>()).prop_map(|(reservation, u, close)| {
            Operation::Commit {
                reservation,
                used: money(u),
                close,
            }
        }),
        reservation().prop_map(|reservation| Operation::Release { reservation }),
        (-3_000i64..=0).prop_map(|f| Operation::SetFloor { floor: money(f) }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        5 => operation().prop_map(Step::Op),
        1 => (0usize..50).prop_map(Step::Retry),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn books_balance_and_floor_holds(floor in -2_000i64..=0, steps in prop::collection::vec(step(), 1..80)) {
        let mut ledger = Ledger::new();
        ledger.open(Account::open("a", Unit::Money("EUR".into()), money(floor), at()).unwrap()).unwrap();
        let mut sent: Vec<Request> = Vec::new();
        let mut applied: Vec<Movement> = Vec::new();
        for (i, step) in steps.into_iter().enumerate() {
            let request = match step {
                Step::Op(operation) => Request {
                    account: "a".into(),
                    reference: format!("ref-{i}"),
                    operation,
                    at: at(),
                },
                Step::Retry(n) if !sent.is_empty() => sent[sent.len() - 1 - n % sent.len()].clone(),
                Step::Retry(_) => continue,
            };
            let before = ledger.account("a").unwrap().clone();
            let first = applied.iter().find(|m| m.reference == request.reference).cloned();
            match ledger.apply(&request) {
                Ok(m) => {
                    match first {
                        // A retry: the first answer again, and nothing changes.
                        Some(first) => {
                            prop_assert_eq!(&m, &first);
                            prop_assert_eq!(ledger.account("a").unwrap(), &before);
                        }
                        None => applied.push(m),
                    }
                }
                Err(e) => {
                    // A refusal changes nothing and records nothing.
                    prop_assert_eq!(ledger.account("a").unwrap(), &before);
                    prop_assert!(first.is_none(), "a stored reference was refused: {e}");
                    prop_assert!(matches!(e,
                        LedgerError::InsufficientFunds { .. } | LedgerError::UnknownReservation { .. }), "{e}");
                }
            }
            sent.push(request);

            let account = ledger.account("a").unwrap();
            let top_ups: Decimal = applied.iter()
                .filter(|m| m.operation.kind() == MovementKind::TopUp).map(|m| m.amount).sum();
            let debited: Decimal = applied.iter()
                .filter(|m| matches!(m.operation.kind(), MovementKind::Debit | MovementKind::Commit))
                .map(|m| m.amount).sum();
            prop_assert_eq!(account.balance, top_ups - debited);
            prop_assert!(account.balance - account.reserved >= account.floor,
                "balance {} reserved {} floor {}", account.balance, account.reserved, account.floor);
            prop_assert!(account.balance >= account.floor);
            let held: Decimal = account.reservations.values().sum();
            prop_assert_eq!(account.reserved, held);
            prop_assert!(account.reservations.values().all(|v| *v >= Decimal::ZERO));
            prop_assert_eq!(account.seq, applied.len() as u64);
        }
    }
}

fn request(reference: &str, operation: Operation) -> Request {
    Request {
        account: "a".into(),
        reference: reference.into(),
        operation,
        at: at(),
    }
}

fn prepaid(balance_cents: i64) -> Ledger {
    let mut ledger = Ledger::new();
    ledger
        .open(Account::open("a", Unit::Money("EUR".into()), Decimal::ZERO, at()).unwrap())
        .unwrap();
    if balance_cents > 0 {
        ledger
            .apply(&request(
                "top",
                Operation::TopUp {
                    amount: money(balance_cents),
                },
            ))
            .unwrap();
    }
    ledger
}

#[test]
fn reserve_commit_release_the_rest() {
    let mut l = prepaid(1000);
    let granted = l
        .apply(&request(
            "g1",
            Operation::Reserve {
                reservation: "s1".into(),
                amount: money(1500),
                minimum: Decimal::ZERO,
            },
        ))
        .unwrap();
    assert_eq!(granted.amount, money(1000), "grant limited to the balance");
    assert_eq!(l.account("a").unwrap().available(), Decimal::ZERO);
    let used = l
        .apply(&request(
            "u1",
            Operation::Commit {
                reservation: "s1".into(),
                used: money(333),
                close: true,
            },
        ))
        .unwrap();
    assert_eq!(used.amount, money(333));
    assert_eq!(used.reserved_delta, money(-1000));
    let a = l.account("a").unwrap();
    assert_eq!((a.balance, a.reserved), (money(667), Decimal::ZERO));
    assert!(a.reservations.is_empty());
}

#[test]
fn usage_beyond_the_floor_is_shortfall_not_a_negative_balance() {
    let mut l = prepaid(100);
    let m = l
        .apply(&request(
            "d",
            Operation::Debit {
                amount: money(250),
                partial: true,
            },
        ))
        .unwrap();
    assert_eq!(
        (m.amount, m.shortfall, m.balance_after),
        (money(100), money(150), Decimal::ZERO)
    );
    let refused = l.apply(&request(
        "d2",
        Operation::Debit {
            amount: money(1),
            partial: false,
        },
    ));
    assert!(matches!(
        refused,
        Err(LedgerError::InsufficientFunds { .. })
    ));
}

#[test]
fn same_reference_other_operation_is_a_conflict() {
    let mut l = prepaid(100);
    let err = l
        .apply(&request("top", Operation::TopUp { amount: money(5) }))
        .unwrap_err();
    assert!(matches!(err, LedgerError::ReferenceConflict { .. }));
    assert_eq!(l.account("a").unwrap().balance, money(100));
}

#[test]
fn movements_serialise_decimals_exactly() {
    let mut l = prepaid(10);
    let m = l
        .apply(&request("t", Operation::TopUp { amount: money(1) }))
        .unwrap();
    let json = serde_json::to_value(&m).unwrap();
    assert_eq!(json["operation"]["op"], "topUp");
    assert_eq!(json["balanceAfter"], "0.11");
    let back: Movement = serde_json::from_value(json).unwrap();
    assert_eq!(back, m);
}

#[test]
fn units_have_a_text_form() {
    for u in [
        Unit::Money("EUR".into()),
        Unit::Time,
        Unit::Volume,
        Unit::Distance,
        Unit::Events,
        Unit::Service(7),
    ] {
        assert_eq!(u.code().parse::<Unit>().unwrap(), u);
    }
    assert!("money:eur".parse::<Unit>().is_err());
    assert!("seconds".parse::<Unit>().is_err());
}
