//! Drive the SQLite store's writer as the CSMS does at load and report what group commit and
//! storage give: `cargo run --release -p unicharge-store --example write_load -- [stations]
//! [messages] [full|normal]`.
//!
//! Every station runs a transaction of TransactionEvents (Started, Updated…, Ended), each one
//! batch as the CSMS writes it: the event, its 8 sampled values (energy, power and current on
//! three phases, voltage, SoC), the stored answer, and the transaction's facts on Started.
//! Stations write concurrently (one task each, waiting for its commit like a station waiting
//! for its answer). Prints messages/s, jobs per commit and bytes stored per message (database
//! and WAL after a TRUNCATE checkpoint).

use std::time::Instant;

use chrono::{Duration, Utc};
use rust_decimal::Decimal;
use unicharge_core::{SecurityProfile, Station, StationId};
use unicharge_store::sqlite::{CheckpointConfig, Durability, SqliteStore, StoreConfig};
use unicharge_store::{
    MeterValueRecord, Store, StoredAnswer, TransactionEventRecord, TransactionFacts, Write,
};

const SAMPLES: [(&str, Option<&str>, &str); 8] = [
    ("Energy.Active.Import.Register", None, "Wh"),
    ("Power.Active.Import", None, "W"),
    ("Current.Import", Some("L1"), "A"),
    ("Current.Import", Some("L2"), "A"),
    ("Current.Import", Some("L3"), "A"),
    ("Voltage", Some("L1-N"), "V"),
    ("SoC", None, "Percent"),
    ("Power.Offered", None, "W"),
];

fn batch(station: &StationId, seq_no: i64, last: bool) -> Vec<Write> {
    let transaction_id = format!("{station}-TX");
    let at = Utc::now() + Duration::seconds(seq_no * 60);
    let kind = match (seq_no, last) {
        (0, _) => "Started",
        (_, true) => "Ended",
        _ => "Updated",
    };
    let request = serde_json::json!({
        "eventType": kind, "timestamp": at.to_rfc3339(), "triggerReason": "MeterValuePeriodic",
        "seqNo": seq_no, "transactionInfo": {"transactionId": transaction_id,
            "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "DRIVER-1", "type": "ISO14443"}
    })
    .to_string();
    let mut writes = vec![Write::TransactionEvent(TransactionEventRecord {
        station_id: station.clone(),
        transaction_id: transaction_id.clone(),
        seq_no,
        event_type: kind.into(),
        trigger_reason: "MeterValuePeriodic".into(),
        timestamp: at,
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: Some("DRIVER-1".into()),
        charging_state: Some("Charging".into()),
        stopped_reason: last.then(|| "EVDisconnected".into()),
        // As the CSMS stores it: the samples only as meter values, not again in the event.
        data: request,
        meter_values: 1,
        received_at: Utc::now(),
    })];
    if seq_no == 0 {
        writes.push(Write::TransactionFacts(TransactionFacts {
            station_id: station.clone(),
            transaction_id: transaction_id.clone(),
            id_token_type: Some("ISO14443".into()),
            group_id_token: None,
            remote_start_id: None,
            reservation_id: None,
            tariff_id: Some("STD".into()),
        }));
    }
    for (i, (measurand, phase, unit)) in SAMPLES.iter().enumerate() {
        let value = Decimal::from(seq_no * 1000 + i as i64);
        writes.push(Write::MeterValue(Box::new(MeterValueRecord {
            station_id: station.clone(),
            evse_id: 1,
            transaction_id: Some(transaction_id.clone()),
            timestamp: at,
            context: "Sample.Periodic".into(),
            measurand: (*measurand).into(),
            phase: phase.map(str::to_string),
            location: None,
            unit: Some((*unit).into()),
            multiplier: 0,
            value,
            wh: (i == 0).then_some(value),
            signed: false,
            signed_data: None,
            source: "TransactionEvent".into(),
            energy_backwards: false,
        })));
    }
    writes.push(Write::Answer(StoredAnswer {
        station_id: station.clone(),
        message_id: format!("{seq_no:08}-5f1c-4d0e-9a57-{seq_no:012}"),
        action: "TransactionEvent".into(),
        request_hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08".into(),
        response: r#"{"totalCost":1.23,"idTokenInfo":{"status":"Accepted"}}"#.into(),
        answered_at: Utc::now(),
    }));
    writes
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stations: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);
    let messages: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let durability = match args.get(3).map(String::as_str) {
        Some("normal") => Durability::Normal,
        _ => Durability::Full,
    };
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("unicharge.db");
    // WRITE_LOAD_KEEP=1: keep the database to look into (its path is printed).
    let _dir = if std::env::var_os("WRITE_LOAD_KEEP").is_some() {
        println!("database: {}", path.display());
        Err(dir.keep())
    } else {
        Ok(dir)
    };
    let store = SqliteStore::open(&path, durability).await.expect("open");
    let ids: Vec<StationId> = (0..stations)
        .map(|n| StationId::new(format!("CP{n:05}")).expect("a station id"))
        .collect();
    for id in &ids {
        let station = Station::new(id.clone(), SecurityProfile::BasicAuth, Utc::now());
        store.create_station(&station).await.expect("create");
    }
    let before = store.group_commits();
    let per_station = (messages / stations).max(1);
    let started = Instant::now();
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|id| {
            let store = store.clone();
            tokio::spawn(async move {
                for seq_no in 0..per_station {
                    let last = seq_no + 1 == per_station;
                    let batch = batch(&id, seq_no as i64, last);
                    store.write(batch).await.expect("write");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a writer task");
    }
    let elapsed = started.elapsed();
    let after = store.group_commits();
    let (commits, jobs) = (after.0 - before.0, after.1 - before.1);
    let written = per_station * stations;
    // Everything into the database file, the WAL emptied: what the data takes at rest.
    drop(store);
    let config = StoreConfig {
        checkpoint: CheckpointConfig {
            truncate_above: 0,
            ..CheckpointConfig::default()
        },
        ..StoreConfig::default()
    };
    let store = SqliteStore::open_with(&path, durability, config)
        .await
        .expect("reopen");
    // The old store's connections close in the background; until they have, TRUNCATE may
    // find a reader and leave the WAL in place. An example may wait for that.
    for _ in 0..50 {
        let outcome = store.checkpoint().await.expect("checkpoint");
        if outcome.wal_bytes == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let size = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::fs::metadata(&p).map_or(0, |m| m.len())
    };
    let (database, wal) = (size(""), size("-wal"));
    let bytes = database + wal;
    println!(
        "{written} TransactionEvents from {stations} stations in {:.2} s: {:.0} msg/s; \
         {commits} commits, {:.1} jobs per commit; {} bytes stored (WAL {wal}), {:.0} bytes \
         per message ({durability:?})",
        elapsed.as_secs_f64(),
        written as f64 / elapsed.as_secs_f64(),
        jobs as f64 / commits.max(1) as f64,
        bytes,
        bytes as f64 / written as f64,
    );
}
