//! The money path's writes on the PostgreSQL store against a real server
//! (`UNICHARGE_TEST_POSTGRES_URL`; each test in its own schema, skipped without it), with the
//! SQLite store as the reference: TransactionFacts (E, C, H03, I) and the charge records (I)
//! built when a transaction ends. The same writes go to both engines and every read must agree.

mod pg_support;

use chrono::{DateTime, TimeDelta, Utc};
use pg_support::{at, id, station, store};
use rust_decimal::Decimal;
use unicharge_core::charge_record::{charge_record, ChargeRecord, SessionFacts};
use unicharge_core::metering::{EnergyReading, PlugState, StateChange};
use unicharge_core::tariff::Tariff;
use unicharge_core::{SecurityProfile, Station};
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{Store, TransactionEventRecord, TransactionFacts, Write};

fn minute(min: i64) -> DateTime<Utc> {
    at("2026-03-01T08:00:00Z") + TimeDelta::minutes(min)
}

fn started(station: &str, tx: &str) -> Write {
    Write::TransactionEvent(TransactionEventRecord {
        station_id: id(station),
        transaction_id: tx.into(),
        seq_no: 0,
        event_type: "Started".into(),
        trigger_reason: "Authorized".into(),
        timestamp: minute(0),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: Some("04A1B2C3".into()),
        charging_state: None,
        stopped_reason: None,
        data: "{}".into(),
        meter_values: 0,
        received_at: minute(0),
    })
}

fn facts(tx: &str, token_type: &str, group: &str, tariff: &str) -> Write {
    Write::TransactionFacts(TransactionFacts {
        station_id: id("CP1"),
        transaction_id: tx.into(),
        id_token_type: Some(token_type.into()),
        group_id_token: Some(group.into()),
        remote_start_id: None,
        reservation_id: None,
        tariff_id: Some(tariff.into()),
    })
}

fn tariff() -> Tariff {
    let dec = |s: &str| s.parse::<Decimal>().unwrap();
    Tariff {
        id: "STD".into(),
        currency: "EUR".into(),
        vat_percent: dec("20"),
        price_per_kwh: dec("0.30"),
        price_per_charging_minute: dec("0.01"),
        price_per_idle_minute: dec("0.10"),
        session_fee: dec("0.50"),
        valid_from: None,
        valid_to: None,
        display_text: vec![],
    }
}

/// The record of `station`'s `tx`: 12 kWh over an hour of charging and 10 minutes idle.
fn record(station: &str, tx: &str, created: i64, rated: bool) -> ChargeRecord {
    let facts = SessionFacts {
        station_id: station.into(),
        evse_id: Some(1),
        connector_id: Some(1),
        transaction_id: tx.into(),
        id_token: Some("04A1B2C3".into()),
        id_token_type: Some("ISO14443".into()),
        group_id_token: Some("FLEET".into()),
        started_at: minute(0),
        ended_at: minute(70),
        stopped_reason: Some("EVDisconnected".into()),
        readings: vec![
            EnergyReading {
                timestamp: minute(0),
                wh: Decimal::from(1_000),
            },
            EnergyReading {
                timestamp: minute(60),
                wh: Decimal::from(13_000),
            },
        ],
        changes: vec![
            StateChange {
                timestamp: minute(0),
                state: PlugState::Charging,
            },
            StateChange {
                timestamp: minute(60),
                state: PlugState::Idle,
            },
        ],
    };
    let tariff = tariff();
    charge_record(facts, rated.then_some(&tariff), minute(created))
}

#[tokio::test]
async fn e_i_transaction_facts_and_charge_records_read_as_in_sqlite() {
    let Some((_schema, pg)) = store("charge_records").await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    for name in ["CP1", "CP10", "XY1"] {
        station(&pg, name).await;
        lite.create_station(&Station::new(
            id(name),
            SecurityProfile::BasicAuth,
            minute(0),
        ))
        .await
        .unwrap();
    }
    let batches = vec![
        vec![
            started("CP1", "TX1"),
            facts("TX1", "ISO14443", "FLEET", "STD"),
        ],
        // Facts are only added: a later, different statement changes nothing.
        vec![facts("TX1", "eMAID", "OTHER", "CHEAP")],
        // Facts of a transaction not stored (yet) touch nothing.
        vec![facts("TX9", "ISO14443", "FLEET", "STD")],
        vec![Write::ChargeRecord(Box::new(record(
            "CP1", "TX1", 71, false,
        )))],
        vec![Write::ChargeRecord(Box::new(record(
            "CP10", "TX1", 72, true,
        )))],
        vec![Write::ChargeRecord(Box::new(record(
            "XY1", "TX7", 73, true,
        )))],
        // Rated again later (e.g. a tariff corrected): the record is replaced, not doubled.
        vec![Write::ChargeRecord(Box::new(record(
            "CP1", "TX1", 80, true,
        )))],
    ];
    for batch in batches {
        pg.write(batch.clone()).await.unwrap();
        lite.write(batch).await.unwrap();
    }

    let tx = pg.transaction(&id("CP1"), "TX1").await.unwrap().unwrap();
    assert_eq!(
        tx,
        lite.transaction(&id("CP1"), "TX1").await.unwrap().unwrap()
    );
    assert_eq!(tx.id_token_type.as_deref(), Some("ISO14443"));
    assert_eq!(tx.group_id_token.as_deref(), Some("FLEET"));
    assert_eq!(tx.tariff_id.as_deref(), Some("STD"));
    assert!(pg.transaction(&id("CP1"), "TX9").await.unwrap().is_none());

    for record_id in ["CP1:TX1", "CP10:TX1", "XY1:TX7", "NOPE:TX1"] {
        let got = pg.charge_record(record_id).await.unwrap();
        assert_eq!(
            got,
            lite.charge_record(record_id).await.unwrap(),
            "{record_id}"
        );
    }
    let cp1 = pg.charge_record("CP1:TX1").await.unwrap().unwrap();
    assert_eq!(cp1, record("CP1", "TX1", 80, true));
    let cost = cp1.cost.unwrap();
    assert_eq!(cost.currency, "EUR");
    assert_eq!(cp1.usage.energy_wh, Decimal::from(12_000));

    for (station, limit) in [
        (None, 10),
        (None, 2),
        (Some(id("CP1")), 10),
        (Some(id("ZZ")), 5),
    ] {
        let got = pg.charge_records(station.as_ref(), limit).await.unwrap();
        let expected = lite.charge_records(station.as_ref(), limit).await.unwrap();
        assert_eq!(got, expected, "{station:?} {limit}");
    }
    let ids = |records: Vec<ChargeRecord>| records.into_iter().map(|r| r.id).collect::<Vec<_>>();
    // Newest first by when each record was first created (a replacement keeps that time).
    assert_eq!(
        ids(pg.charge_records(None, 10).await.unwrap()),
        ["XY1:TX7", "CP10:TX1", "CP1:TX1"]
    );
    for (prefix, expected) in [
        ("CP1", vec!["CP10:TX1", "CP1:TX1"]),
        ("CP10", vec!["CP10:TX1"]),
        ("", vec!["XY1:TX7", "CP10:TX1", "CP1:TX1"]),
        ("CP%", vec![]),
    ] {
        let got = pg
            .charge_records_with_station_prefix(prefix, 10)
            .await
            .unwrap();
        let reference = lite
            .charge_records_with_station_prefix(prefix, 10)
            .await
            .unwrap();
        assert_eq!(got, reference, "{prefix:?}");
        assert_eq!(ids(got), expected, "{prefix:?}");
    }
}
