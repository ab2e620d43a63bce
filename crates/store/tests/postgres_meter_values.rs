//! OCPP 2.0.1 J (meter values) on the PostgreSQL store against a real server
//! (`UNICHARGE_TEST_POSTGRES_URL`; each test in its own schema, skipped without it), with the
//! SQLite store as the reference: the same writes go to both, and every read must agree,
//! sample for sample.

mod pg_support;

use pg_support::{at, id, station, store};
use rust_decimal::Decimal;
use unicharge_core::metering::MeteredUsage;
use unicharge_core::{SecurityProfile, Station};
use unicharge_store::postgres::PgStore;
use unicharge_store::sqlite::{Durability, SqliteStore};
use unicharge_store::{MeterValueFilter, MeterValueRecord, Store, TransactionEventRecord, Write};

/// One sampledValue of CP1's EVSE `evse`.
fn sample(
    evse: i64,
    tx: Option<&str>,
    when: &str,
    measurand: &str,
    value: i64,
) -> MeterValueRecord {
    let energy = measurand == "Energy.Active.Import.Register";
    MeterValueRecord {
        station_id: id("CP1"),
        evse_id: evse,
        transaction_id: tx.map(str::to_string),
        timestamp: at(when),
        context: "Sample.Periodic".into(),
        measurand: measurand.into(),
        phase: None,
        location: Some("Outlet".into()),
        unit: Some(if energy { "Wh" } else { "W" }.into()),
        multiplier: 0,
        value: Decimal::from(value),
        wh: energy.then(|| Decimal::from(value)),
        signed: false,
        signed_data: None,
        source: "TransactionEvent".into(),
        energy_backwards: false,
    }
}

const ENERGY: &str = "Energy.Active.Import.Register";
const POWER: &str = "Power.Active.Import";

/// The J scenario, one batch per station message.
fn batches() -> Vec<Vec<Write>> {
    let mv = |m: MeterValueRecord| Write::MeterValue(Box::new(m));
    let mut phase = sample(1, Some("TX1"), "2026-03-01T10:00:00Z", "Voltage", 230);
    phase.phase = Some("L1-N".into());
    phase.unit = Some("V".into());
    let mut scaled = sample(1, Some("TX1"), "2026-03-01T10:15:00Z", ENERGY, 2);
    // 2 kWh written as a multiplier: 2000 Wh.
    scaled.unit = Some("kWh".into());
    scaled.multiplier = 3;
    scaled.wh = Some(Decimal::from(2_000));
    let mut periodic = sample(1, Some("TX1"), "2026-03-01T10:30:00Z", ENERGY, 1_500);
    periodic.source = "MeterValues".into();
    periodic.signed = true;
    periodic.signed_data = Some(r#"{"signedMeterData":"AAE="}"#.into());
    vec![
        // J02: a TransactionEvent with three sampledValues of one meterValue.
        vec![
            mv(sample(
                1,
                Some("TX1"),
                "2026-03-01T10:00:00Z",
                ENERGY,
                1_000,
            )),
            mv(sample(1, Some("TX1"), "2026-03-01T10:00:00Z", POWER, 7_200)),
            mv(phase.clone()),
        ],
        // The same message again (a retransmission): nothing new.
        vec![
            mv(sample(
                1,
                Some("TX1"),
                "2026-03-01T10:00:00Z",
                ENERGY,
                1_000,
            )),
            mv(phase),
        ],
        // A later write adds a new measurand to the same instant's row.
        vec![mv(sample(
            1,
            Some("TX1"),
            "2026-03-01T10:00:00Z",
            "SoC",
            40,
        ))],
        vec![mv(scaled)],
        // J01: MeterValues reading lower than 2000 Wh before it: kept, flagged backwards.
        vec![mv(periodic)],
        // Outside a transaction, and another EVSE.
        vec![mv(sample(1, None, "2026-03-01T11:00:00Z", ENERGY, 1_600))],
        vec![mv(sample(
            2,
            Some("TX2"),
            "2026-03-01T10:05:00Z",
            ENERGY,
            300,
        ))],
    ]
}

fn filters() -> Vec<MeterValueFilter> {
    let f = |tx: Option<&str>, evse: Option<i64>, limit: u32| MeterValueFilter {
        transaction_id: tx.map(str::to_string),
        evse_id: evse,
        limit,
        until: None,
    };
    vec![
        f(None, None, 0),
        f(Some("TX1"), None, 0),
        f(Some("TX2"), None, 0),
        f(None, Some(1), 0),
        f(None, Some(2), 0),
        f(Some("TX1"), Some(2), 0),
        f(None, None, 2),
        f(Some("TX1"), None, 3),
        f(Some("NOPE"), None, 0),
    ]
}

/// The SQLite store the PostgreSQL store is compared with, CP1 registered.
async fn reference() -> (tempfile::TempDir, SqliteStore) {
    let dir = tempfile::tempdir().unwrap();
    let lite = SqliteStore::open(&dir.path().join("unicharge.db"), Durability::Normal)
        .await
        .unwrap();
    lite.create_station(&Station::new(
        id("CP1"),
        SecurityProfile::BasicAuth,
        at("2026-03-01T10:00:00Z"),
    ))
    .await
    .unwrap();
    (dir, lite)
}

#[tokio::test]
async fn j01_j02_meter_values_read_as_in_sqlite() {
    let Some((schema, pg)) = store("meter_values").await else {
        return;
    };
    station(&pg, "CP1").await;
    let (_dir, lite) = reference().await;
    for batch in batches() {
        pg.write(batch.clone()).await.unwrap();
        lite.write(batch).await.unwrap();
    }
    for filter in filters() {
        let expected = lite.meter_values(&id("CP1"), &filter).await.unwrap();
        let got = pg.meter_values(&id("CP1"), &filter).await.unwrap();
        assert_eq!(got, expected, "{filter:?}");
    }

    // The values themselves, so that both stores being wrong the same way fails too.
    let tx1 = MeterValueFilter {
        transaction_id: Some("TX1".into()),
        evse_id: None,
        limit: 0,
        until: None,
    };
    let got = pg.meter_values(&id("CP1"), &tx1).await.unwrap();
    let seen: Vec<(&str, i64, Option<Decimal>, bool)> = got
        .iter()
        .map(|m| {
            (
                m.measurand.as_str(),
                m.timestamp.timestamp() - at("2026-03-01T10:00:00Z").timestamp(),
                m.wh,
                m.energy_backwards,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (ENERGY, 0, Some(Decimal::from(1_000)), false),
            (POWER, 0, None, false),
            ("Voltage", 0, None, false),
            ("SoC", 0, None, false),
            (ENERGY, 900, Some(Decimal::from(2_000)), false),
            (ENERGY, 1_800, Some(Decimal::from(1_500)), true),
        ]
    );
    assert_eq!(got[2].phase.as_deref(), Some("L1-N"));
    assert_eq!(got[4].multiplier, 3);
    assert_eq!(got[5].source, "MeterValues");
    assert!(got[5].signed);
    let other = pg
        .meter_values(&id("OTHER"), &MeterValueFilter::default())
        .await
        .unwrap();
    assert!(other.is_empty());

    // One packed row per instant: the retransmission and the added SoC did not add rows.
    let pool = schema.pool().await;
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT transaction_id, billing FROM meter_readings ORDER BY timestamp, id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let rows: Vec<(&str, i64)> = rows.iter().map(|(t, b)| (t.as_str(), *b)).collect();
    assert_eq!(
        rows,
        vec![("TX1", 1), ("TX2", 1), ("TX1", 1), ("TX1", 1), ("", 1)]
    );
    // The metered usage the billing readings fed, equal on both engines.
    for tx in ["TX1", "TX2"] {
        let expected = lite.metered_usage(&id("CP1"), tx).await.unwrap();
        assert_eq!(pg.metered_usage(&id("CP1"), tx).await.unwrap(), expected);
    }
    let tx2 = pg.metered_usage(&id("CP1"), "TX2").await.unwrap().unwrap();
    assert_eq!(tx2.last_reading.unwrap().wh, Decimal::from(300));
}

/// A TransactionEvent of TX1 at `min` minutes past 08:00, carrying `state`.
fn event(seq_no: i64, min: i64, state: Option<&str>) -> Write {
    Write::TransactionEvent(TransactionEventRecord {
        station_id: id("CP1"),
        transaction_id: "TX1".into(),
        seq_no,
        event_type: if seq_no == 0 { "Started" } else { "Updated" }.into(),
        trigger_reason: "ChargingStateChanged".into(),
        timestamp: minute(min),
        offline: false,
        evse_id: Some(1),
        connector_id: Some(1),
        id_token: None,
        charging_state: state.map(str::to_string),
        stopped_reason: None,
        // What the series rebuild reads the charging state from: the request as received.
        data:
            serde_json::json!({"transactionInfo": {"transactionId": "TX1", "chargingState": state}})
                .to_string(),
        meter_values: 0,
        received_at: minute(min),
    })
}

fn minute(min: i64) -> chrono::DateTime<chrono::Utc> {
    at("2026-01-15T08:00:00Z") + chrono::TimeDelta::minutes(min)
}

/// TX1's billing register (no phase) or a phase register, read at `min`.
fn register(min: i64, wh: i64, phase: Option<&str>) -> Write {
    let mut m = sample(1, Some("TX1"), "2026-01-15T08:00:00Z", ENERGY, wh);
    m.timestamp = minute(min);
    m.phase = phase.map(str::to_string);
    Write::MeterValue(Box::new(m))
}

async fn same_usage(pg: &PgStore, lite: &SqliteStore, step: &str) -> Option<MeteredUsage> {
    let expected = lite.metered_usage(&id("CP1"), "TX1").await.unwrap();
    let got = pg.metered_usage(&id("CP1"), "TX1").await.unwrap();
    assert_eq!(got, expected, "{step}");
    let series = pg.metered_series(&id("CP1"), "TX1").await.unwrap();
    assert_eq!(
        series,
        lite.metered_series(&id("CP1"), "TX1").await.unwrap(),
        "{step}"
    );
    if let Some(m) = &got {
        // The invariant: after every commit the row equals the stored series' summary.
        assert_eq!(
            *m,
            MeteredUsage::from_series(&series.readings, &series.changes),
            "{step}"
        );
    }
    got
}

#[tokio::test]
async fn j02_e_metered_usage_folds_in_order_and_rebuilds_out_of_order_as_in_sqlite() {
    let Some((schema, pg)) = store("metered_usage").await else {
        return;
    };
    station(&pg, "CP1").await;
    let (_dir, lite) = reference().await;
    let steps: Vec<(&str, Vec<Write>)> = vec![
        (
            "started",
            vec![event(0, 0, Some("Charging")), register(0, 1_000, None)],
        ),
        (
            "suspended",
            vec![
                event(1, 30, Some("SuspendedEV")),
                register(30, 6_000, None),
                // a phase register is not the billing register
                register(30, 2_000, Some("L1")),
            ],
        ),
        ("retransmitted", vec![register(30, 6_000, None)]),
        ("offline seq 3 first", vec![event(3, 50, Some("Charging"))]),
        ("late seq 2", vec![event(2, 40, Some("EVConnected"))]),
        ("late older reading", vec![register(20, 4_000, None)]),
        ("newest reading", vec![register(60, 9_000, None)]),
    ];
    for (step, batch) in steps {
        pg.write(batch.clone()).await.unwrap();
        lite.write(batch).await.unwrap();
        same_usage(&pg, &lite, step).await.expect("current");
    }
    let m = same_usage(&pg, &lite, "end").await.unwrap();
    assert_eq!(m.energy_wh, Decimal::from(8_000));
    assert_eq!(m.first_reading.as_ref().unwrap().wh, Decimal::from(1_000));
    // Charging 0–30, idle 30–50, charging again from 50: the open change counts nothing yet.
    assert_eq!(m.charging, chrono::TimeDelta::minutes(30), "{m:?}");
    assert_eq!(m.last_change.as_ref().unwrap().seq_no, 3);

    // A stale row (as migration 0008 leaves old transactions) reads as not computed, and the
    // next write rebuilds it.
    let pool = schema.pool().await;
    sqlx::query("UPDATE metered_usage SET stale = 1, energy_wh = '0'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(pg.metered_usage(&id("CP1"), "TX1").await.unwrap(), None);
    pg.write(vec![register(70, 9_500, None)]).await.unwrap();
    lite.write(vec![register(70, 9_500, None)]).await.unwrap();
    let m = same_usage(&pg, &lite, "after stale").await.unwrap();
    assert_eq!(m.energy_wh, Decimal::from(8_500));
}
