//! What one priced TransactionEvent costs the CSMS at the 1st, 1,000th and 10,000th event of a
//! session: the real CALL path (`dispatch`: schema check, retransmission check, the block E/I
//! handler pricing the running cost, the durable group commit to SQLite in a temporary
//! directory, the answer), without a socket. Each event carries one meterValue of eight sampled
//! values (energy register, power, current and voltage per phase); every tenth changes the
//! charging state. The figure must not grow with the session (issue 8, "Running cost is O(1)").
//!
//! `cargo bench -p unicharge-csms --bench transaction_event_cost -- --warm-up-time 1 --measurement-time 3`
//!
//! The 1,000 and 10,000 sessions are played up to that event first (not measured); measured
//! iterations then add events to the same session, so the position drifts upwards during a run
//! (printed at the end) — which can only make a cost that grows look worse, never better.

#[path = "../tests/support/station_session.rs"]
mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use unicharge_ocpp::v201::{
    ChargingStateEnumType, TransactionEventEnumType, TransactionEventResponse,
};
use unicharge_store::sqlite::Durability;

use support::{event, sample, Session};

fn at(s: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap() + chrono::Duration::seconds(s)
}

/// Event `n` (0 = Started) of transaction `tx`.
async fn send(session: &mut Session, tx: &str, n: i64) {
    let kind = if n == 0 {
        TransactionEventEnumType::Started
    } else {
        TransactionEventEnumType::Updated
    };
    let state = match n % 20 {
        0 => Some(ChargingStateEnumType::Charging),
        10 => Some(ChargingStateEnumType::SuspendedEv),
        _ => None,
    };
    let e = event(
        tx,
        n,
        kind,
        at(n),
        state,
        vec![sample(at(n), 1_000 + 7 * n)],
    );
    let answer: TransactionEventResponse = session.call("TransactionEvent", &e).await;
    assert!(answer.total_cost.is_some(), "the event is priced");
}

fn transaction_event_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("transaction_event_cost");
    group.sample_size(10);

    // Event 1: every iteration starts a new transaction.
    let mut session = rt.block_on(Session::new(Durability::Normal));
    let mut started = 0u64;
    group.bench_function("event 1 (Started)", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let begin = Instant::now();
                for _ in 0..iters {
                    started += 1;
                    send(&mut session, &format!("TX-{started}"), 0).await;
                }
                begin.elapsed()
            })
        })
    });

    for events in [1_000i64, 10_000] {
        let mut session = rt.block_on(Session::new(Durability::Normal));
        let tx = "TX-LONG";
        let mut next = 0i64;
        rt.block_on(async {
            while next < events - 1 {
                send(&mut session, tx, next).await;
                next += 1;
            }
        });
        group.bench_function(format!("event {events}"), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        let begin = Instant::now();
                        send(&mut session, tx, next).await;
                        spent += begin.elapsed();
                        next += 1;
                    }
                    spent
                })
            })
        });
        println!("event {events}: the session ended at event {}", next + 1);
    }
    group.finish();
}

criterion_group!(benches, transaction_event_cost);
criterion_main!(benches);
