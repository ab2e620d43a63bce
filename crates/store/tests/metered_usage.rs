//! The running aggregate of metered usage the SQLite store keeps per transaction, and the seqNo
//! gaps it reports, against a real database file.

use chrono::{DateTime, Duration, TimeZone, Utc};
use rust_decimal::Decimal;
use unicharge_core::metering::MeteredUsage;
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{MeterValueRecord, Store, TransactionEventRecord, Write};

const TX: &str = "TX-1";

async fn store() -> (tempfile::TempDir, SqliteStore, StationId) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("unicharge.db");
    let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
    let id = StationId::new("CP1").unwrap();
    store
        .create_station(&Station::new(
            id.clone(),
            SecurityProfile::BasicAuth,
            Utc::now(),
        ))
        .await
        .unwrap();
    (dir, store, id)
}

fn at(min: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 15, 8, 0, 0).unwrap() + Duration::minutes(min)
}

fn event(id: &StationId, seq_no: i64, min: i64, state: Option<&str>) -> Write {
    Write::TransactionEvent(TransactionEventRecord {
        station_id: id.clone(),
        transaction_id: TX.into(),
        seq_no,
        event_type: if seq_no == 0 { "Started" } else { "Updated" }.into(),
        trigger_reason: "MeterValuePeriodic".into(),
        timestamp: at(min),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: None,
        charging_state: state.map(str::to_string),
        stopped_reason: None,
        // What the series rebuild reads the charging state from: the request as received.
        data: serde_json::json!({"transactionInfo": {"transactionId": TX, "chargingState": state}})
            .to_string(),
        meter_values: 0,
        received_at: Utc::now(),
    })
}

fn reading(id: &StationId, min: i64, wh: i64, phase: Option<&str>) -> Write {
    Write::MeterValue(Box::new(MeterValueRecord {
        station_id: id.clone(),
        evse_id: 1,
        transaction_id: Some(TX.into()),
        timestamp: at(min),
        context: "Sample.Periodic".into(),
        measurand: "Energy.Active.Import.Register".into(),
        phase: phase.map(str::to_string),
        location: None,
        unit: None,
        multiplier: 0,
        value: Decimal::from(wh),
        wh: Some(Decimal::from(wh)),
        signed: false,
        signed_data: None,
        source: "TransactionEvent".into(),
        energy_backwards: false,
    }))
}

async fn current(store: &SqliteStore, id: &StationId) -> MeteredUsage {
    store.metered_usage(id, TX).await.unwrap().expect("current")
}

async fn rebuilt(store: &SqliteStore, id: &StationId) -> MeteredUsage {
    let series = store.metered_series(id, TX).await.unwrap();
    MeteredUsage::from_series(&series.readings, &series.changes)
}

#[tokio::test]
async fn every_stored_event_and_billing_sample_is_folded_in_the_same_commit() {
    let (_dir, store, id) = store().await;
    store
        .write(vec![
            event(&id, 0, 0, Some("Charging")),
            reading(&id, 0, 1_000, None),
        ])
        .await
        .unwrap();
    store
        .write(vec![
            event(&id, 1, 30, Some("SuspendedEV")),
            reading(&id, 30, 6_000, None),
            // a phase register is not the billing register
            reading(&id, 30, 2_000, Some("L1")),
        ])
        .await
        .unwrap();
    // the same sample again (ignored by the table's key) is not folded twice
    store
        .write(vec![reading(&id, 30, 6_000, None)])
        .await
        .unwrap();
    let m = current(&store, &id).await;
    assert_eq!(m.energy_wh, Decimal::from(5_000));
    assert_eq!(m.charging, Duration::minutes(30));
    let usage = m.usage_between(at(0), at(40)).unwrap();
    assert_eq!((usage.charging_seconds, usage.idle_seconds), (1_800, 600));
    assert_eq!(m, rebuilt(&store, &id).await);
}

/// Transactions stored before the aggregate existed are marked stale by the migration: they
/// read as "not computed" (so pricing uses the series) until the next write rebuilds them.
#[tokio::test]
async fn a_stale_aggregate_is_not_used_and_is_rebuilt_by_the_next_write() {
    let (dir, store, id) = store().await;
    store
        .write(vec![
            event(&id, 0, 0, Some("Charging")),
            reading(&id, 0, 1_000, None),
        ])
        .await
        .unwrap();
    // As migration 0008 leaves a transaction that existed before it: changed behind the
    // store's back, so seen by a store opened afterwards (as after the upgrade's restart).
    drop(store);
    let path = dir.path().join("unicharge.db");
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("UPDATE metered_usage SET stale = 1, energy_wh = '0', last_reading_at = NULL, last_reading_wh = NULL")
        .execute(&pool)
        .await
        .unwrap();
    let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
    assert_eq!(store.metered_usage(&id, TX).await.unwrap(), None);
    store
        .write(vec![event(&id, 1, 10, None), reading(&id, 10, 1_500, None)])
        .await
        .unwrap();
    let m = current(&store, &id).await;
    assert_eq!(m.energy_wh, Decimal::from(500));
    assert_eq!(m, rebuilt(&store, &id).await);
}

#[tokio::test]
async fn seq_no_gaps_are_reported_without_reading_every_seq_no_when_there_are_none() {
    let (_dir, store, id) = store().await;
    store
        .write(vec![event(&id, 3, 0, None), event(&id, 4, 1, None)])
        .await
        .unwrap();
    let t = store.transaction(&id, TX).await.unwrap().unwrap();
    assert!(t.seq_no_gaps.is_empty(), "{t:?}");
    store.write(vec![event(&id, 7, 2, None)]).await.unwrap();
    let t = store.transaction(&id, TX).await.unwrap().unwrap();
    assert_eq!(t.seq_no_gaps, vec![5, 6]);
    store
        .write(vec![event(&id, 5, 3, None), event(&id, 6, 3, None)])
        .await
        .unwrap();
    let t = store.transaction(&id, TX).await.unwrap().unwrap();
    assert!(t.seq_no_gaps.is_empty(), "{t:?}");
}
