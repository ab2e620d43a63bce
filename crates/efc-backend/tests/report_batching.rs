//! Reports that arrive together are committed together ([`unicharge_efc_backend::batcher`]),
//! and each is still answered with its own answer, only after it is durable, in order per OBE.
//!
//! The runtime is the current-thread one: every report of a round is queued before the flush
//! task runs, so the tests know the reports shared a writer job (not by luck of timing).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use unicharge_efc::adu::Adu;
use unicharge_efc::DataReceived;
use unicharge_efc_backend::batcher::Batcher;
use unicharge_efc_backend::{Backend, EfcConfig};
use unicharge_sim::efc::FrontEnd;
use unicharge_store::efc::EfcReportRecord;
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, StoreError, Write};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 7, 8, 0, 0).unwrap()
}

async fn open() -> (Arc<SqliteStore>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("efc.sqlite"), Durability::Normal)
        .await
        .unwrap();
    (Arc::new(store), dir)
}

fn counter_echoed(answer: &[u8]) -> u32 {
    match Adu::from_frame(answer).unwrap() {
        Adu::ChargeReportResponse(r) => match r.data_received {
            Some(DataReceived::ChargeReportCounter(c)) => c,
            other => panic!("dataReceived {other:?}"),
        },
        other => panic!("answered {other:?}"),
    }
}

#[tokio::test]
async fn reports_of_many_obes_share_writer_jobs_and_each_gets_its_own_answer() {
    let (sqlite, _dir) = open().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let backend = Backend::with_clock(store.clone(), EfcConfig::default(), Arc::new(now));
    let mut fronts: Vec<FrontEnd> = (0..40)
        .map(|i| FrontEnd::new(7, format!("BATCH{i:03}").as_bytes(), 100 + i as u16))
        .collect();
    let (_, jobs_before) = sqlite.group_commits();
    let rounds = 4;
    for _ in 0..rounds {
        let mut sent = Vec::new();
        let calls: Vec<_> = fronts
            .iter_mut()
            .map(|fe| {
                let report = fe.next_report(now());
                sent.push(report.charge_report_counter.unwrap());
                let frame = fe.frame(&report);
                let backend = backend.clone();
                async move { backend.handle_frame(&frame, "test").await }
            })
            .collect();
        let answers = futures_join_all(calls).await;
        for (answer, counter) in answers.iter().zip(&sent) {
            // Each report its own answer: the echo of its own counter.
            assert_eq!(counter_echoed(answer), *counter);
        }
    }
    let (_, jobs_after) = sqlite.group_commits();
    let reports = fronts.len() * rounds;
    assert!(
        ((jobs_after - jobs_before) as usize) <= reports / 4,
        "{reports} reports took {} writer jobs",
        jobs_after - jobs_before
    );
    for fe in &fronts {
        let stored = store.efc_reports(Some(&fe.obe_key()), 10).await.unwrap();
        assert_eq!(
            stored.len(),
            rounds,
            "every report of {} stored",
            fe.obe_key()
        );
        // Newest first, counters +1 in commit order, no gap recorded.
        let counters: Vec<u32> = stored.iter().rev().map(|r| r.counter.unwrap()).collect();
        assert!(
            counters.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
            "{counters:?}"
        );
        assert!(stored
            .iter()
            .all(|r| r.counter_gap.is_none() && r.violations.is_empty()));
        assert_eq!(stored[0].charge_records.len(), 1);
    }
}

/// Both copies of a report are handled at once: the second waits for the first to be durable
/// and gets its stored answer byte for byte; one report is stored, and the next counter is in
/// order (no gap).
#[tokio::test]
async fn a_retransmission_racing_its_original_gets_the_same_answer_and_is_stored_once() {
    let (sqlite, _dir) = open().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let backend = Backend::with_clock(store.clone(), EfcConfig::default(), Arc::new(now));
    let mut fe = FrontEnd::new(7, b"RACE", 9);
    let mut other = FrontEnd::new(7, b"OTHER", 9);
    let report = fe.next_report(now());
    let frame = fe.frame(&report);
    let other_report = other.next_report(now());
    let other_frame = other.frame(&other_report);
    let (first, second, third) = tokio::join!(
        backend.handle_frame(&frame, "a"),
        backend.handle_frame(&other_frame, "b"),
        backend.handle_frame(&frame, "a-again"),
    );
    assert_eq!(
        first, third,
        "the retransmission is answered with the stored answer"
    );
    assert_eq!(
        counter_echoed(&first),
        report.charge_report_counter.unwrap()
    );
    assert_eq!(
        counter_echoed(&second),
        other_report.charge_report_counter.unwrap(),
        "the other OBE's report in the same batch got its own answer"
    );
    let next = fe.next_report(now());
    let answer = backend.handle_frame(&fe.frame(&next), "a").await;
    assert_eq!(counter_echoed(&answer), next.charge_report_counter.unwrap());
    let stored = store.efc_reports(Some(&fe.obe_key()), 10).await.unwrap();
    assert_eq!(stored.len(), 2, "the retransmission is not stored again");
    assert_eq!(stored[1].response, first);
    assert_eq!(stored[0].counter_gap, None);
}

fn record(obe: &str, counter: u32) -> EfcReportRecord {
    EfcReportRecord {
        id: 0,
        obe_key: obe.into(),
        contract_key: "c".into(),
        counter: Some(counter),
        mileage: None,
        mileage_unit: None,
        account_status: None,
        time_of_report: None,
        counter_gap: None,
        violations: Vec::new(),
        request: vec![1, 2, 3],
        response: vec![4, 5, 6],
        received_at: now(),
        charge_records: Vec::new(),
        completed_update: None,
    }
}

/// A report whose writes the store refuses (here: a debit of an account that does not exist)
/// fails alone; the reports batched with it are committed and told so.
#[tokio::test]
async fn a_report_the_store_refuses_fails_alone_in_its_batch() {
    let (sqlite, _dir) = open().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let batcher = Batcher::new(store.clone(), 64);
    let bad_debit = Write::Ledger(Box::new(unicharge_core::ledger::Request {
        account: "no-such-account".into(),
        reference: "efc:B:2".into(),
        operation: unicharge_core::ledger::Operation::Debit {
            amount: rust_decimal::Decimal::ONE,
            partial: true,
        },
        at: now(),
    }));
    let (a, b, c) = tokio::join!(
        batcher.commit(vec![Write::EfcReport(Box::new(record("A", 1)))]),
        batcher.commit(vec![Write::EfcReport(Box::new(record("B", 2))), bad_debit]),
        batcher.commit(vec![Write::EfcReport(Box::new(record("C", 3)))]),
    );
    a.unwrap();
    assert!(matches!(b, Err(StoreError::Ledger(_))), "{b:?}");
    c.unwrap();
    for (obe, stored) in [("A", 1), ("B", 0), ("C", 1)] {
        assert_eq!(
            store.efc_reports(Some(obe), 10).await.unwrap().len(),
            stored,
            "reports of {obe}"
        );
    }
}

/// Run them all at once (tasks on the current-thread runtime) and collect in order.
async fn futures_join_all<F>(calls: Vec<F>) -> Vec<Vec<u8>>
where
    F: std::future::Future<Output = Vec<u8>> + Send + 'static,
{
    let handles: Vec<_> = calls.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        out.push(handle.await.unwrap());
    }
    out
}

/// An older report sent again (not the last one) is found by its counter among the OBE's
/// latest reports (migration 0095 dropped the counter index) and answered with its stored
/// answer; a counter never seen is a gap, stored once.
#[tokio::test]
async fn an_older_report_sent_again_gets_its_stored_answer_and_a_jump_is_a_gap() {
    let (sqlite, _dir) = open().await;
    let store: Arc<dyn Store> = sqlite.clone();
    let backend = Backend::with_clock(store.clone(), EfcConfig::default(), Arc::new(now));
    let mut fe = FrontEnd::new(7, b"OLDER", 3);
    let mut frames = Vec::new();
    let mut answers = Vec::new();
    for _ in 0..3 {
        let report = fe.next_report(now());
        let frame = fe.frame(&report);
        answers.push(backend.handle_frame(&frame, "a").await);
        frames.push(frame);
    }
    let again = backend.handle_frame(&frames[0], "a").await;
    assert_eq!(again, answers[0], "the first report's stored answer");
    assert_eq!(
        store
            .efc_reports(Some(&fe.obe_key()), 10)
            .await
            .unwrap()
            .len(),
        3
    );

    let mut jump = fe.next_report(now());
    let expected = jump.charge_report_counter.unwrap();
    jump.charge_report_counter = Some(expected.wrapping_add(4));
    let answer = backend.handle_frame(&fe.frame(&jump), "a").await;
    assert_eq!(counter_echoed(&answer), expected.wrapping_add(4));
    let stored = store.efc_reports(Some(&fe.obe_key()), 10).await.unwrap();
    assert_eq!(stored.len(), 4);
    assert_eq!(stored[0].counter_gap, Some(4));
}
