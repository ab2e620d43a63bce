//! Block I running cost and charge record priced from each transaction's running aggregate of
//! metered usage (issue 8, "Running cost is O(1) per TransactionEvent"), through the real CALL
//! path (`dispatch`: handler and durable commit to SQLite), with station timestamps, no sleeps.
//!
//! Amounts follow `support::station_session::tariff`: 1 EUR/kWh, 0.06 EUR per charging minute,
//! 0.60 EUR per idle minute, no fee, no VAT.

#[path = "support/station_session.rs"]
mod support;

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::charge_record::charge_record_id;
use unicharge_core::metering::MeteredUsage;
use unicharge_ocpp::v201::{
    ChargingStateEnumType, MeterValuesRequest, MeterValuesResponse, TransactionEventEnumType,
    TransactionEventRequest, TransactionEventResponse,
};
use unicharge_store::sqlite::Durability;
use unicharge_store::Store;

use support::{event, sample, Session, STATION};
use ChargingStateEnumType::*;
use TransactionEventEnumType::*;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap()
}

fn eur(s: &str) -> Option<Decimal> {
    Some(s.parse().unwrap())
}

async fn send(session: &mut Session, e: &TransactionEventRequest) -> TransactionEventResponse {
    session.call("TransactionEvent", e).await
}

/// The stored aggregate is what a rebuild from the stored series gives (the store's
/// invariant after every commit).
async fn assert_aggregate_matches_series(session: &Session, transaction_id: &str) {
    let id = session.station_id();
    let stored = session
        .store
        .metered_usage(&id, transaction_id)
        .await
        .unwrap()
        .expect("the aggregate is current");
    let series = session
        .store
        .metered_series(&id, transaction_id)
        .await
        .unwrap();
    assert_eq!(
        stored,
        MeteredUsage::from_series(&series.readings, &series.changes)
    );
}

/// A long session — 20,000 meter samples of eight sampled values each (160,000 rows), spread
/// over 200 events — is billed to its last reading. Before the running aggregate, pricing read
/// at most the latest 100,000 rows of the transaction, so the bill silently lost the energy of
/// the first 7,500 samples.
#[tokio::test]
async fn long_session_is_billed_to_its_last_reading_not_truncated() {
    let mut session = Session::new(Durability::Normal).await;
    let tx = "TX-LONG";
    let (samples, per_event) = (20_000i64, 100i64);
    let at = |s: i64| t0() + Duration::seconds(s);
    let started = event(
        tx,
        0,
        Started,
        at(0),
        Some(Charging),
        vec![sample(at(0), 1_000)],
    );
    assert_eq!(send(&mut session, &started).await.total_cost, eur("0.00"));
    for n in 0..samples / per_event {
        let first = 1 + n * per_event;
        let values = (first..first + per_event)
            .map(|i| sample(at(i), 1_000 + 10 * i))
            .collect();
        let last = first + per_event - 1;
        let e = event(tx, 1 + n, Updated, at(last), None, values);
        send(&mut session, &e).await;
    }
    // 20,000 samples after the first, 10 Wh each: 200 kWh in 20,000 s (333⅓ min) charging.
    let ended = event(
        tx,
        1 + samples / per_event,
        Ended,
        at(samples),
        None,
        vec![],
    );
    let answer = send(&mut session, &ended).await;
    assert_eq!(answer.total_cost, eur("220.00")); // 200.00 energy + 20.00 charging time
    let record = session
        .store
        .charge_record(&charge_record_id(STATION, tx))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.usage.energy_wh, Decimal::from(200_000));
    assert_eq!(record.usage.charging_seconds, samples);
    assert_eq!(record.cost.unwrap().total_incl_vat, eur("220.00").unwrap());
    assert_aggregate_matches_series(&session, tx).await;
}

/// An event that lies before the aggregate's last point — here an offline-queued Updated
/// event (seqNo 2, SuspendedEV at 10 min) arriving after the Ended one — is not folded onto
/// the end of the session: the cost and the charge record are recomputed once from the whole
/// stored series with the event in its place on the timeline, and the stored aggregate is
/// rebuilt to match the series.
#[tokio::test]
async fn late_event_before_the_last_point_is_priced_in_its_place_on_the_timeline() {
    let mut session = Session::new(Durability::Normal).await;
    let tx = "TX-LATE";
    let m = |min: i64| t0() + Duration::minutes(min);
    let events = [
        event(
            tx,
            0,
            Started,
            m(0),
            Some(EvConnected),
            vec![sample(m(0), 1_000)],
        ),
        event(tx, 1, Updated, m(0), Some(Charging), vec![]),
        event(
            tx,
            3,
            Updated,
            m(20),
            Some(Charging),
            vec![sample(m(20), 3_000)],
        ),
        event(
            tx,
            4,
            Ended,
            m(30),
            Some(EvConnected),
            vec![sample(m(30), 4_000)],
        ),
    ];
    let mut answers = Vec::new();
    for e in &events {
        answers.push(send(&mut session, e).await.total_cost);
    }
    // Without seqNo 2: 3 kWh and 30 min charging = 3.00 + 1.80.
    assert_eq!(answers.last().unwrap(), &eur("4.80"));

    let mut late = event(
        tx,
        2,
        Updated,
        m(10),
        Some(SuspendedEv),
        vec![sample(m(10), 2_000)],
    );
    late.offline = Some(true);
    let answer = send(&mut session, &late).await;
    // Charging 0–10 and 20–30 min (1.20), idle 10–20 min (6.00), 3 kWh (3.00): the final cost
    // of the completed record, still up to the Ended time.
    assert_eq!(answer.total_cost, eur("10.20"));
    let record = session
        .store
        .charge_record(&charge_record_id(STATION, tx))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (record.usage.charging_seconds, record.usage.idle_seconds),
        (20 * 60, 10 * 60)
    );
    assert_eq!(record.ended_at, m(30));
    assert_eq!(record.cost.unwrap().total_incl_vat, eur("10.20").unwrap());
    assert_aggregate_matches_series(&session, tx).await;
}

/// Billing-register samples a MeterValues request files under the open transaction count in
/// its running cost like those of its TransactionEvents (the store folds every stored sample).
#[tokio::test]
async fn meter_values_sent_during_the_transaction_count_in_its_running_cost() {
    let mut session = Session::new(Durability::Normal).await;
    let tx = "TX-MV";
    let m = |min: i64| t0() + Duration::minutes(min);
    let started = event(
        tx,
        0,
        Started,
        m(0),
        Some(Charging),
        vec![sample(m(0), 1_000)],
    );
    send(&mut session, &started).await;
    let _: MeterValuesResponse = session
        .call(
            "MeterValues",
            &MeterValuesRequest {
                custom_data: None,
                evse_id: 1,
                meter_value: vec![sample(m(10), 1_500)],
            },
        )
        .await;
    let running = send(&mut session, &event(tx, 1, Updated, m(20), None, vec![])).await;
    // 0.5 kWh (0.50) and 20 min charging (1.20).
    assert_eq!(running.total_cost, eur("1.70"));
    assert_aggregate_matches_series(&session, tx).await;
}

/// The same seqNo again under another message id adds nothing: same cost, one stored event.
#[tokio::test]
async fn same_seq_no_under_another_message_id_is_not_counted_twice() {
    let mut session = Session::new(Durability::Normal).await;
    let tx = "TX-DUP";
    let m = |min: i64| t0() + Duration::minutes(min);
    send(
        &mut session,
        &event(
            tx,
            0,
            Started,
            m(0),
            Some(Charging),
            vec![sample(m(0), 1_000)],
        ),
    )
    .await;
    let update = event(
        tx,
        1,
        Updated,
        m(10),
        Some(SuspendedEv),
        vec![sample(m(10), 2_000)],
    );
    let first = send(&mut session, &update).await.total_cost;
    let again = send(&mut session, &update).await.total_cost;
    assert_eq!(first, eur("1.60")); // 1 kWh + 10 min charging
    assert_eq!(again, first);
    let id = session.station_id();
    assert_eq!(
        session
            .store
            .transaction_events(&id, tx)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_aggregate_matches_series(&session, tx).await;
}
