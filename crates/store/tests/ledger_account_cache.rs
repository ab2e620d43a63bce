//! `ledger_account` answers from a cache the writer keeps coherent (ADR 0043): after every
//! committed change — a movement in any batch, a reservation, `open`, `set_label`, a refused
//! write — it reads exactly what a fresh read of the tables gives.

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, Write};

fn request(account: &str, reference: &str, operation: Operation) -> Request {
    Request {
        account: account.into(),
        reference: reference.into(),
        operation,
        at: Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap(),
    }
}

/// The cached answer equals the tables' (a second store on the same file has no cache entry).
async fn assert_coherent(store: &SqliteStore, fresh: &SqliteStore, id: &str) -> Option<Account> {
    let cached = store.ledger_account(id).await.unwrap();
    let cached_again = store.ledger_account(id).await.unwrap();
    let read = fresh.ledger_account(id).await.unwrap();
    assert_eq!(cached, read, "{id}: cache and tables differ");
    assert_eq!(cached_again, read);
    read
}

#[tokio::test]
async fn the_cached_account_follows_every_committed_change() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ledger.db");
    let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
    let fresh = || async { SqliteStore::open(&path, Durability::Normal).await.unwrap() };

    // Unknown first (the miss is cached), then opened: found.
    assert_eq!(assert_coherent(&store, &fresh().await, "acc").await, None);
    let at = Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap();
    let account = Account::open("acc", Unit::Money("EUR".into()), Decimal::ZERO, at).unwrap();
    store.ledger_open(&account).await.unwrap();
    let opened = assert_coherent(&store, &fresh().await, "acc")
        .await
        .unwrap();
    assert_eq!(opened.balance, Decimal::ZERO);

    // Movements through ledger_apply and inside other batches.
    store
        .ledger_apply(&request(
            "acc",
            "top-up",
            Operation::TopUp {
                amount: Decimal::from(10),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        assert_coherent(&store, &fresh().await, "acc")
            .await
            .unwrap()
            .balance,
        Decimal::from(10)
    );
    let debit = |reference: &str, amount: i64| {
        Write::Ledger(Box::new(request(
            "acc",
            reference,
            Operation::Debit {
                amount: Decimal::from(amount),
                partial: true,
            },
        )))
    };
    store.write(vec![debit("d1", 3)]).await.unwrap();
    store
        .ledger_apply(&request(
            "acc",
            "hold",
            Operation::Reserve {
                reservation: "r1".into(),
                amount: Decimal::from(2),
                minimum: Decimal::ZERO,
            },
        ))
        .await
        .unwrap();
    let held = assert_coherent(&store, &fresh().await, "acc")
        .await
        .unwrap();
    assert_eq!(held.balance, Decimal::from(7));
    assert_eq!(held.reservations.get("r1"), Some(&Decimal::from(2)));

    // A refused batch changes nothing (the account is not re-read from a rolled-back state).
    let unknown = Write::Ledger(Box::new(request(
        "nobody",
        "x",
        Operation::TopUp {
            amount: Decimal::ONE,
        },
    )));
    assert!(store.write(vec![debit("d2", 1), unknown]).await.is_err());
    assert_eq!(
        assert_coherent(&store, &fresh().await, "acc")
            .await
            .unwrap()
            .balance,
        Decimal::from(7)
    );

    // Partial debit past the floor: the balance stops at it, the cache says so.
    store.write(vec![debit("d3", 100)]).await.unwrap();
    let empty = assert_coherent(&store, &fresh().await, "acc")
        .await
        .unwrap();
    assert_eq!(empty.balance, Decimal::from(2), "only the reserved 2 stay");
    assert_eq!(empty.available(), Decimal::ZERO);

    store.ledger_set_label("acc", "fleet 7").await.unwrap();
    assert_eq!(
        assert_coherent(&store, &fresh().await, "acc")
            .await
            .unwrap()
            .label,
        "fleet 7"
    );
}
