//! The core ledger on the PostgreSQL store against a real server
//! (`UNICHARGE_TEST_POSTGRES_URL`; each test in its own schema, skipped without it): the same
//! requests give the same answers as on the SQLite store, and two nodes (two stores on one
//! database) debiting one account concurrently never spend the same money twice.

mod pg_support;

use chrono::{DateTime, TimeZone, Utc};
use pg_support::store;
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_store::postgres::{PgStore, StoreConfig};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, StoreError, Write};

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap()
}

fn money(cents: i64) -> Decimal {
    Decimal::new(cents, 2)
}

fn request(account: &str, reference: &str, operation: Operation) -> Request {
    Request {
        account: account.into(),
        reference: reference.into(),
        operation,
        at: at(),
    }
}

fn script() -> Vec<Request> {
    let reserve = |r: &str, a, m| Operation::Reserve {
        reservation: r.into(),
        amount: money(a),
        minimum: money(m),
    };
    vec![
        request(
            "acc",
            "t1",
            Operation::TopUp {
                amount: money(5_000),
            },
        ),
        request("acc", "r1", reserve("s1", 3_000, 1_000)),
        // More than is free: refused (minimum = amount).
        request("acc", "r2", reserve("s2", 4_000, 4_000)),
        request(
            "acc",
            "d1",
            Operation::Debit {
                amount: money(2_500),
                partial: true,
            },
        ),
        // A retry of d1: the stored movement, not a second debit.
        request(
            "acc",
            "d1",
            Operation::Debit {
                amount: money(2_500),
                partial: true,
            },
        ),
        request(
            "acc",
            "c1",
            Operation::Commit {
                reservation: "s1".into(),
                used: money(1_200),
                close: false,
            },
        ),
        request(
            "acc",
            "f1",
            Operation::SetFloor {
                floor: money(-1_000),
            },
        ),
        request(
            "acc",
            "c2",
            Operation::Commit {
                reservation: "s1".into(),
                used: money(3_000),
                close: true,
            },
        ),
        request(
            "acc",
            "x1",
            Operation::Release {
                reservation: "nope".into(),
            },
        ),
        request("nobody", "t1", Operation::TopUp { amount: money(1) }),
    ]
}

#[tokio::test]
async fn ledger_answers_as_in_sqlite() {
    let Some((_schema, pg)) = store("ledger").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("ledger.db"), Durability::Normal)
        .await
        .unwrap();
    for id in ["acc", "other"] {
        let account = Account::open(id, Unit::Money("EUR".into()), Decimal::ZERO, at()).unwrap();
        pg.ledger_open(&account).await.unwrap();
        lite.ledger_open(&account).await.unwrap();
    }
    let again = Account::open("acc", Unit::Time, Decimal::ZERO, at()).unwrap();
    let refused = pg.ledger_open(&again).await.unwrap_err().to_string();
    assert_eq!(
        refused,
        lite.ledger_open(&again).await.unwrap_err().to_string()
    );
    assert!(pg.ledger_set_label("acc", "Fleet A").await.unwrap());
    assert!(lite.ledger_set_label("acc", "Fleet A").await.unwrap());
    assert!(!pg.ledger_set_label("nobody", "x").await.unwrap());

    let mut refusals = 0;
    for r in script() {
        let got = pg.ledger_apply(&r).await.map_err(|e| e.to_string());
        let expected = lite.ledger_apply(&r).await.map_err(|e| e.to_string());
        assert_eq!(got, expected, "{} {}", r.account, r.reference);
        refusals += usize::from(got.is_err());
    }
    assert_eq!(refusals, 3, "r2, x1 and the unknown account are refused");

    // LedgerUnchanged: passes at the current movement, fails (the whole batch) otherwise.
    let seq = pg.ledger_account("acc").await.unwrap().unwrap().seq;
    let guarded = |seq| {
        vec![
            Write::LedgerUnchanged {
                account: "acc".into(),
                seq,
            },
            Write::Ledger(Box::new(request(
                "acc",
                "g1",
                Operation::TopUp { amount: money(1) },
            ))),
        ]
    };
    let stale = pg.write(guarded(seq - 1)).await.unwrap_err();
    assert!(matches!(stale, StoreError::Stale(_)), "{stale:?}");
    assert!(lite.write(guarded(seq - 1)).await.is_err());
    pg.write(guarded(seq)).await.unwrap();
    lite.write(guarded(seq)).await.unwrap();

    let account = pg.ledger_account("acc").await.unwrap().unwrap();
    assert_eq!(account, lite.ledger_account("acc").await.unwrap().unwrap());
    assert_eq!(account.label, "Fleet A");
    // 50.00 top-up; d1 finds 20.00 free (30.00 reserved): 20.00 taken, 5.00 short → 30.00;
    // c1 uses 12.00 → 18.00; c2 uses 30.00 with the floor at −10.00: 28.00 taken → −10.00;
    // g1 adds 0.01.
    assert_eq!(account.balance, money(-999));
    assert_eq!(account.reserved, Decimal::ZERO);
    assert_eq!(
        pg.ledger_accounts().await.unwrap(),
        lite.ledger_accounts().await.unwrap()
    );
    assert_eq!(
        pg.ledger_movements("acc", 100).await.unwrap(),
        lite.ledger_movements("acc", 100).await.unwrap()
    );
    assert_eq!(pg.ledger_movements("acc", 100).await.unwrap().len(), 7);
    assert_eq!(
        pg.ledger_movement("acc", "d1").await.unwrap(),
        lite.ledger_movement("acc", "d1").await.unwrap()
    );
    assert!(pg.ledger_account("nobody").await.unwrap().is_none());
}

#[tokio::test]
async fn two_nodes_debiting_one_account_never_double_spend() {
    let Some((schema, node_a)) = store("ledger_two_nodes").await else {
        return;
    };
    let node_b = PgStore::open_with(schema.options(), StoreConfig::default())
        .await
        .unwrap();
    let account = Account::open("acc", Unit::Money("EUR".into()), Decimal::ZERO, at()).unwrap();
    node_a.ledger_open(&account).await.unwrap();
    node_a
        .ledger_apply(&request(
            "acc",
            "top",
            Operation::TopUp {
                amount: money(1_000),
            },
        ))
        .await
        .unwrap();
    // 40 debits of 1.00 against 10.00, half on each node, all at once: exactly 10 pass.
    let mut tasks = Vec::new();
    for n in 0..40 {
        let node = if n % 2 == 0 {
            node_a.clone()
        } else {
            node_b.clone()
        };
        tasks.push(tokio::spawn(async move {
            let debit = Operation::Debit {
                amount: money(100),
                partial: false,
            };
            node.ledger_apply(&request("acc", &format!("d{n}"), debit))
                .await
                .is_ok()
        }));
    }
    let mut passed = 0;
    for task in tasks {
        passed += usize::from(task.await.unwrap());
    }
    assert_eq!(passed, 10);
    let account = node_b.ledger_account("acc").await.unwrap().unwrap();
    assert_eq!(account.balance, Decimal::ZERO);
    assert_eq!(account.seq, 11);
    assert_eq!(node_a.ledger_movements("acc", 100).await.unwrap().len(), 11);
}
