//! Ro sessions on the SQLite store: the version guard that lets an OCF node plan from memory
//! (ADR 0046), the ledger guard next to it, and the one-read load of a session with its
//! answers.

use chrono::{TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::ledger::{Account, Operation, Request, Unit};
use unicharge_store::ro::{RoAnswerRow, RoSessionData, RoSessionRow};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, StoreError, Write};

fn at() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
}

async fn store(dir: &tempfile::TempDir) -> SqliteStore {
    SqliteStore::open(&dir.path().join("ro.db"), Durability::Normal)
        .await
        .unwrap()
}

fn row(version: i64, last: i64) -> RoSessionRow {
    RoSessionRow {
        session_id: "ctf;1".into(),
        origin_host: "ctf".into(),
        origin_realm: "realm".into(),
        account: Some("a".into()),
        subscriber: None,
        state: "OPEN".into(),
        closed_reason: None,
        last_request_number: last,
        terminate_requested: false,
        created_at: at(),
        updated_at: at(),
        expires_at: at(),
        data: RoSessionData::default(),
        version,
    }
}

fn answer(n: i64) -> RoAnswerRow {
    RoAnswerRow {
        session_id: "ctf;1".into(),
        request_number: n,
        request_type: if n == 0 { 1 } else { 2 },
        result_code: 2001,
        answer: vec![1, 2, n as u8],
        answered_at: at(),
    }
}

fn stale(r: Result<(), StoreError>) -> bool {
    matches!(r, Err(StoreError::Stale(_)))
}

#[tokio::test]
async fn session_versions_let_one_writer_win() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    assert_eq!(
        s.ro_session_with_answers("ctf;1").await.unwrap(),
        (None, vec![])
    );
    s.write(vec![
        Write::RoSession(Box::new(row(1, 0))),
        Write::RoAnswer(Box::new(answer(0))),
    ])
    .await
    .unwrap();
    // A second "new session" with the same id loses.
    assert!(stale(
        s.write(vec![Write::RoSession(Box::new(row(1, 0)))]).await
    ));
    // Two nodes both holding version 1: the first update wins, the second is stale and
    // writes nothing, not even its answer.
    s.write(vec![
        Write::RoSession(Box::new(row(2, 1))),
        Write::RoAnswer(Box::new(answer(1))),
    ])
    .await
    .unwrap();
    assert!(stale(
        s.write(vec![
            Write::RoSession(Box::new(row(2, 2))),
            Write::RoAnswer(Box::new(answer(2))),
        ])
        .await
    ));
    // The operator's abort moves the version too.
    assert!(s.ro_request_termination("ctf;1").await.unwrap());
    assert!(stale(
        s.write(vec![Write::RoSession(Box::new(row(3, 2)))]).await
    ));
    let (session, answers) = s.ro_session_with_answers("ctf;1").await.unwrap();
    let session = session.unwrap();
    assert_eq!(
        (
            session.version,
            session.last_request_number,
            session.terminate_requested
        ),
        (3, 1, true)
    );
    assert_eq!(answers, vec![answer(0), answer(1)]);
    s.write(vec![Write::RoSession(Box::new(row(4, 2)))])
        .await
        .unwrap();
    // The abort's mark survives a later write of the row.
    assert!(
        s.ro_session("ctf;1")
            .await
            .unwrap()
            .unwrap()
            .terminate_requested
    );
}

#[tokio::test]
async fn ledger_guard_refuses_a_plan_on_a_moved_account() {
    let dir = tempfile::tempdir().unwrap();
    let s = store(&dir).await;
    s.ledger_open(&Account::open("a", Unit::Money("EUR".into()), Decimal::ZERO, at()).unwrap())
        .await
        .unwrap();
    let top_up = |reference: &str| {
        Write::Ledger(Box::new(Request {
            account: "a".into(),
            reference: reference.into(),
            operation: Operation::TopUp {
                amount: Decimal::new(500, 2),
            },
            at: at(),
        }))
    };
    s.write(vec![top_up("t1")]).await.unwrap();
    let seq = s.ledger_account("a").await.unwrap().unwrap().seq;
    s.write(vec![
        Write::LedgerUnchanged {
            account: "a".into(),
            seq,
        },
        top_up("t2"),
    ])
    .await
    .unwrap();
    // Planned at `seq`, but t2 moved the account since: nothing of the batch is written.
    assert!(stale(
        s.write(vec![
            Write::LedgerUnchanged {
                account: "a".into(),
                seq,
            },
            top_up("t3"),
        ])
        .await
    ));
    let a = s.ledger_account("a").await.unwrap().unwrap();
    assert_eq!((a.seq, a.balance), (seq + 1, Decimal::new(1000, 2)));
}
