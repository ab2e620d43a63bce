//! The core ledger persisted by the SQLite store: the same answers as the in-memory reference
//! ledger for any sequence (with retries), durable across a reopen, atomic in a batch, and
//! exact under concurrent callers.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Ledger, LedgerError, Operation, Request, Unit};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, StoreError, Write};

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("ledger.db"), Durability::Normal)
        .await
        .unwrap()
}

fn request(account: &str, reference: &str, operation: Operation) -> Request {
    Request {
        account: account.into(),
        reference: reference.into(),
        operation,
        at: at(),
    }
}

fn operation() -> impl Strategy<Value = Operation> {
    let r = (0u8..3).prop_map(|r| format!("r{r}"));
    prop_oneof![
        (1i64..5_000).prop_map(|c| Operation::TopUp { amount: money(c) }),
        (0i64..5_000, any::<bool>()).prop_map(|(c, partial)| Operation::Debit {
            amount: money(c),
            partial
        }),
        (r.clone(), 1i64..3_000, 0i64..3_000).prop_map(|(reservation, a, m)| {
            Operation::Reserve {
                reservation,
                amount: money(a),
                minimum: money(m.min(a)),
            }
        }),
        (r.clone(), 0i64..4_000, any::<bool>()).prop_map(|(reservation, u, close)| {
            Operation::Commit {
                reservation,
                used: money(u),
                close,
            }
        }),
        r.prop_map(|reservation| Operation::Release { reservation }),
        (-3_000i64..=0).prop_map(|f| Operation::SetFloor { floor: money(f) }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// The store gives the reference ledger's answer to every request, retries included, and
    /// ends with the same account.
    #[test]
    fn store_matches_the_reference_ledger(
        ops in prop::collection::vec((operation(), prop::option::of(0usize..20)), 1..40)
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let store = store(&dir).await;
            let account = Account::open("acc", Unit::Time, Decimal::ZERO, at()).unwrap();
            store.ledger_open(&account).await.unwrap();
            let mut model = Ledger::new();
            model.open(account).unwrap();
            let mut sent: Vec<Request> = Vec::new();
            for (i, (op, retry)) in ops.into_iter().enumerate() {
                let req = match retry {
                    Some(n) if !sent.is_empty() => sent[sent.len() - 1 - n % sent.len()].clone(),
                    _ => request("acc", &format!("ref-{i}"), op),
                };
                let expected = model.apply(&req);
                let got = store.ledger_apply(&req).await;
                match (expected, got) {
                    (Ok(e), Ok(g)) => prop_assert_eq!(e, g),
                    (Err(e), Err(StoreError::Ledger(g))) => prop_assert_eq!(e, g),
                    (e, g) => prop_assert!(false, "model {e:?}, store {g:?}"),
                }
                sent.push(req);
            }
            let stored = store.ledger_account("acc").await.unwrap().unwrap();
            prop_assert_eq!(&stored, model.account("acc").unwrap());
            Ok(())
        })?;
    }
}

#[tokio::test]
async fn movements_survive_a_reopen_and_trace_their_cause() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = store(&dir).await;
        let mut a = Account::open("eur-1", Unit::Money("EUR".into()), money(-500), at()).unwrap();
        a.label = "contract 42".into();
        store.ledger_open(&a).await.unwrap();
        let again = store.ledger_open(&a).await.unwrap_err();
        assert!(matches!(
            again,
            StoreError::Ledger(LedgerError::AccountExists(_))
        ));
        let top = request(
            "eur-1",
            "api:top-1",
            Operation::TopUp {
                amount: money(1000),
            },
        );
        store.ledger_apply(&top).await.unwrap();
        let grant = store
            .ledger_apply(&request(
                "eur-1",
                "ro:s1:0",
                Operation::Reserve {
                    reservation: "s1/rg1".into(),
                    amount: money(2000),
                    minimum: Decimal::ZERO,
                },
            ))
            .await
            .unwrap();
        assert_eq!(
            grant.amount,
            money(1500),
            "balance 10.00 above a floor of -5.00"
        );
        // A refused operation changes nothing.
        let refused = store
            .ledger_apply(&request(
                "eur-1",
                "api:debit-1",
                Operation::Debit {
                    amount: money(1),
                    partial: false,
                },
            ))
            .await
            .unwrap_err();
        assert!(matches!(
            refused,
            StoreError::Ledger(LedgerError::InsufficientFunds { .. })
        ));
        assert!(store
            .ledger_movement("eur-1", "api:debit-1")
            .await
            .unwrap()
            .is_none());
    }
    let store = store(&dir).await;
    let a = store.ledger_account("eur-1").await.unwrap().unwrap();
    assert_eq!(
        (a.balance, a.reserved, a.floor, a.seq),
        (money(1000), money(1500), money(-500), 2)
    );
    assert_eq!(a.reservations.get("s1/rg1"), Some(&money(1500)));
    assert_eq!(a.label, "contract 42");
    let history = store.ledger_movements("eur-1", 10).await.unwrap();
    let refs: Vec<_> = history.iter().map(|m| m.reference.as_str()).collect();
    assert_eq!(refs, ["ro:s1:0", "api:top-1"]);
    let commit = store
        .ledger_apply(&request(
            "eur-1",
            "ro:s1:1",
            Operation::Commit {
                reservation: "s1/rg1".into(),
                used: money(1234),
                close: true,
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        (commit.amount, commit.balance_after, commit.reserved_after),
        (money(1234), money(-234), Decimal::ZERO)
    );
    assert!(store
        .ledger_account("eur-1")
        .await
        .unwrap()
        .unwrap()
        .reservations
        .is_empty());
}

#[tokio::test]
async fn a_refused_ledger_write_rolls_its_whole_batch_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir).await;
    let a = Account::open("ev", Unit::Events, Decimal::ZERO, at()).unwrap();
    store.ledger_open(&a).await.unwrap();
    let batch = vec![
        Write::Ledger(Box::new(request(
            "ev",
            "t1",
            Operation::TopUp { amount: money(300) },
        ))),
        Write::Ledger(Box::new(request(
            "ev",
            "d1",
            Operation::Debit {
                amount: money(500),
                partial: false,
            },
        ))),
    ];
    let err = store.write(batch).await.unwrap_err();
    assert!(matches!(
        err,
        StoreError::Ledger(LedgerError::InsufficientFunds { .. })
    ));
    let a = store.ledger_account("ev").await.unwrap().unwrap();
    assert_eq!(
        (a.balance, a.seq),
        (Decimal::ZERO, 0),
        "the top-up was rolled back too"
    );
    assert!(store.ledger_movements("ev", 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn concurrent_sessions_never_overdraw_and_retries_apply_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(store(&dir).await);
    let a = Account::open("pool", Unit::Volume, Decimal::ZERO, at()).unwrap();
    store.ledger_open(&a).await.unwrap();
    store
        .ledger_apply(&request(
            "pool",
            "top",
            Operation::TopUp {
                amount: money(10_000),
            },
        ))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for s in 0..16 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut debited = Decimal::ZERO;
            for round in 0..5 {
                let res = format!("s{s}");
                let grant = request(
                    "pool",
                    &format!("{res}:{round}:grant"),
                    Operation::Reserve {
                        reservation: res.clone(),
                        amount: money(300),
                        minimum: Decimal::ZERO,
                    },
                );
                store.ledger_apply(&grant).await.unwrap();
                // A retransmitted grant: answered, not granted again.
                store.ledger_apply(&grant).await.unwrap();
                let used = request(
                    "pool",
                    &format!("{res}:{round}:used"),
                    Operation::Commit {
                        reservation: res.clone(),
                        used: money(200),
                        close: true,
                    },
                );
                let m = store.ledger_apply(&used).await.unwrap();
                assert_eq!(store.ledger_apply(&used).await.unwrap(), m);
                debited += m.amount;
            }
            debited
        }));
    }
    let mut debited = Decimal::ZERO;
    for t in tasks {
        debited += t.await.unwrap();
    }
    let a = store.ledger_account("pool").await.unwrap().unwrap();
    assert_eq!(a.balance, money(10_000) - debited);
    assert!(a.balance >= a.floor);
    assert_eq!(a.reserved, Decimal::ZERO);
    // 16 × 5 × 2.00 wanted 160.00; usage beyond the balance is shortfall, never overdraft.
    let history = store.ledger_movements("pool", 1000).await.unwrap();
    let shortfall: Decimal = history.iter().map(|m| m.shortfall).sum();
    assert_eq!(debited + shortfall, money(16_000));
    assert_eq!(history.len(), 1 + 16 * 5 * 2);
}
