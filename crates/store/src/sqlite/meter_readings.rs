//! Meter values, stored compactly: one `meter_readings` row per meterValue (the samples a
//! station took at one instant on one EVSE for one transaction), its sampledValues packed into a
//! JSON array in `samples` (migration 0014).
//!
//! Why: as one row and two index entries per sampledValue, meter values were 82 % of the
//! database and most of the writer's work (issue 9's profile). Packed, a TransactionEvent with
//! eight sampled values is one row and two index entries, a few hundred bytes.
//!
//! The packed sample is a JSON array, positions fixed, trailing defaults left out:
//! `[measurand, context, phase, location, unit, multiplier, value, wh, flags, source,
//! signedData]`. Measurand, context, phase and location are OCPP 2.0.1 enumerations and are
//! written as their index in the tables below (append only: a stored code never changes
//! meaning); the reader also accepts the names themselves (rows migrated from the old table).
//! `wh` is null for samples that are not energy registers, `1` when it equals the value (Wh,
//! multiplier 0) and the exact decimal text otherwise. `flags`: 1 signed, 2 energy went
//! backwards. `source`: 0 TransactionEvent, 1 MeterValues.
//!
//! JSON rather than a binary layout so the rows stay readable with `sqlite3` and
//! `json_extract`, which operators and the migration itself use.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use rust_decimal::Decimal;
use serde_json::{json, Value};
use sqlx::{Row, SqlitePool};
use unicharge_core::metering::EnergyReading;
use unicharge_core::StationId;

use super::columns::timestamp;
use crate::{MeterValueFilter, MeterValueRecord, Result, StoreError};

/// OCPP 2.0.1 MeasurandEnumType, in the order codes were given. Append only.
const MEASURANDS: &[&str] = &[
    "Current.Export",
    "Current.Import",
    "Current.Offered",
    "Energy.Active.Export.Register",
    "Energy.Active.Import.Register",
    "Energy.Reactive.Export.Register",
    "Energy.Reactive.Import.Register",
    "Energy.Active.Export.Interval",
    "Energy.Active.Import.Interval",
    "Energy.Active.Net",
    "Energy.Reactive.Export.Interval",
    "Energy.Reactive.Import.Interval",
    "Energy.Reactive.Net",
    "Energy.Apparent.Net",
    "Energy.Apparent.Import",
    "Energy.Apparent.Export",
    "Frequency",
    "Power.Active.Export",
    "Power.Active.Import",
    "Power.Factor",
    "Power.Offered",
    "Power.Reactive.Export",
    "Power.Reactive.Import",
    "SoC",
    "Voltage",
];

/// OCPP 2.0.1 ReadingContextEnumType. Append only.
const CONTEXTS: &[&str] = &[
    "Interruption.Begin",
    "Interruption.End",
    "Other",
    "Sample.Clock",
    "Sample.Periodic",
    "Transaction.Begin",
    "Transaction.End",
    "Trigger",
];

/// OCPP 2.0.1 PhaseEnumType. Append only.
const PHASES: &[&str] = &[
    "L1", "L2", "L3", "N", "L1-N", "L2-N", "L3-N", "L1-L2", "L2-L3", "L3-L1",
];

/// OCPP 2.0.1 LocationEnumType. Append only.
const LOCATIONS: &[&str] = &["Body", "Cable", "EV", "Inlet", "Outlet"];

/// `source` codes. Append only.
const SOURCES: &[&str] = &["TransactionEvent", "MeterValues"];

const SIGNED: i64 = 1;
const BACKWARDS: i64 = 2;

fn code(table: &[&str], name: &str) -> Value {
    match table.iter().position(|n| *n == name) {
        Some(i) => json!(i),
        None => json!(name),
    }
}

fn optional_code(table: &[&str], name: Option<&str>) -> Value {
    match name {
        None | Some("") => Value::Null,
        Some(name) => code(table, name),
    }
}

fn name(table: &[&str], value: &Value, what: &str) -> Result<Option<String>> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(n) => n
            .as_u64()
            .and_then(|i| table.get(usize::try_from(i).ok()?))
            .map(|s| Some((*s).to_string()))
            .ok_or_else(|| corrupt(format!("{what} code {n} unknown"))),
        other => Err(corrupt(format!("{what} is {other}"))),
    }
}

fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt(format!("meter_readings.samples: {message}"))
}

/// One sampledValue as its packed array.
fn pack(m: &MeterValueRecord, energy_backwards: bool) -> Value {
    let wh = match m.wh {
        None => Value::Null,
        Some(wh) if wh == m.value && m.multiplier == 0 => json!(1),
        Some(wh) => json!(wh.to_string()),
    };
    let flags = i64::from(m.signed) * SIGNED + i64::from(energy_backwards) * BACKWARDS;
    let mut sample = vec![
        code(MEASURANDS, &m.measurand),
        code(CONTEXTS, &m.context),
        optional_code(PHASES, m.phase.as_deref()),
        optional_code(LOCATIONS, m.location.as_deref()),
        m.unit.as_deref().map_or(Value::Null, |u| json!(u)),
        json!(m.multiplier),
        json!(m.value.to_string()),
        wh,
        json!(flags),
        code(SOURCES, &m.source),
        m.signed_data.as_deref().map_or(Value::Null, |s| json!(s)),
    ];
    // Trailing defaults (no signed data, TransactionEvent, no flags, no wh) are left out.
    let defaults = [Value::Null, json!(0), json!(0), Value::Null];
    for default in defaults {
        if sample.last() == Some(&default) {
            sample.pop();
        } else {
            break;
        }
    }
    Value::Array(sample)
}

/// The key of a sample within its row: a repeat of it is the same sample.
fn same_sample(a: &MeterValueRecord, b: &MeterValueRecord) -> bool {
    a.measurand == b.measurand
        && a.phase == b.phase
        && a.location == b.location
        && a.context == b.context
}

/// Where a row is, and what it says of every sample in it.
struct RowKey<'a> {
    station_id: &'a StationId,
    evse_id: i64,
    transaction_id: &'a str,
    timestamp: DateTime<Utc>,
}

fn unpack(key: &RowKey<'_>, samples: &str) -> Result<Vec<MeterValueRecord>> {
    let samples: Vec<Vec<Value>> =
        serde_json::from_str(samples).map_err(|e| corrupt(e.to_string()))?;
    samples.into_iter().map(|s| unpack_one(key, &s)).collect()
}

fn unpack_one(key: &RowKey<'_>, s: &[Value]) -> Result<MeterValueRecord> {
    let at = |i: usize| s.get(i).unwrap_or(&Value::Null);
    let text = |i: usize, what: &str| -> Result<Option<String>> {
        match at(i) {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            other => Err(corrupt(format!("{what} is {other}"))),
        }
    };
    let decimal = |raw: &str, what: &str| {
        Decimal::from_str(raw).map_err(|e| corrupt(format!("{what} {raw:?}: {e}")))
    };
    let value = decimal(
        &text(6, "value")?.ok_or_else(|| corrupt("value missing".into()))?,
        "value",
    )?;
    let wh = match at(7) {
        Value::Null => None,
        Value::Number(n) if n.as_i64() == Some(1) => Some(value),
        Value::String(raw) => Some(decimal(raw, "wh")?),
        other => return Err(corrupt(format!("wh is {other}"))),
    };
    let flags = at(8).as_i64().unwrap_or(0);
    Ok(MeterValueRecord {
        station_id: key.station_id.clone(),
        evse_id: key.evse_id,
        transaction_id: (!key.transaction_id.is_empty()).then(|| key.transaction_id.to_string()),
        timestamp: key.timestamp,
        measurand: name(MEASURANDS, at(0), "measurand")?
            .ok_or_else(|| corrupt("measurand missing".into()))?,
        context: name(CONTEXTS, at(1), "context")?
            .ok_or_else(|| corrupt("context missing".into()))?,
        phase: name(PHASES, at(2), "phase")?,
        location: name(LOCATIONS, at(3), "location")?,
        unit: text(4, "unit")?,
        multiplier: at(5)
            .as_i64()
            .and_then(|m| i32::try_from(m).ok())
            .unwrap_or(0),
        value,
        wh,
        signed: flags & SIGNED != 0,
        signed_data: text(10, "signedData")?,
        source: name(SOURCES, at(9), "source")?.unwrap_or_else(|| SOURCES[0].to_string()),
        energy_backwards: flags & BACKWARDS != 0,
    })
}

// --- writer side (inside the group commit, on the writer's own connection) ---

/// Store the sampledValues of one meterValue (`group`: same station, EVSE, transaction and
/// timestamp — the caller groups them). Samples already stored are ignored (a retransmitted
/// message); new ones are added to the row. Billing-register readings newly stored are folded
/// into the transaction's running aggregate.
pub(super) fn insert(conn: &Connection, group: &[&MeterValueRecord]) -> Result<()> {
    let Some(first) = group.first() else {
        return Ok(());
    };
    let key = RowKey {
        station_id: &first.station_id,
        evse_id: first.evse_id,
        transaction_id: first.transaction_id.as_deref().unwrap_or(""),
        timestamp: first.timestamp,
    };
    let at = timestamp(&key.timestamp);
    let existing: Option<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, samples FROM meter_readings
             WHERE station_id = ? AND transaction_id = ? AND timestamp = ? AND evse_id = ?",
        )?
        .query_row(
            params![key.station_id.as_str(), key.transaction_id, at, key.evse_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    // The stored samples are parsed once: kept as they are (packed) and read (stored).
    let mut packed: Vec<Value> = match &existing {
        Some((_, samples)) => serde_json::from_str(samples).map_err(|e| corrupt(e.to_string()))?,
        None => Vec::new(),
    };
    let mut stored = packed
        .iter()
        .map(|s| match s {
            Value::Array(fields) => unpack_one(&key, fields),
            other => Err(corrupt(format!("a sample is {other}"))),
        })
        .collect::<Result<Vec<_>>>()?;
    let mut added = Vec::new();
    for m in group {
        if stored.iter().any(|s| same_sample(s, m)) {
            continue;
        }
        let backwards = m.energy_backwards || went_backwards(conn, &key, m)?;
        packed.push(pack(m, backwards));
        let mut m = (*m).clone();
        m.energy_backwards = backwards;
        stored.push(m.clone());
        added.push(m);
    }
    if added.is_empty() {
        return Ok(());
    }
    let billing = stored.iter().any(|s| s.billing_reading().is_some());
    let samples = Value::Array(packed).to_string();
    match existing {
        Some((id, _)) => conn
            .prepare_cached("UPDATE meter_readings SET samples = ?, billing = ? WHERE id = ?")?
            .execute(params![samples, i64::from(billing), id])?,
        None => conn
            .prepare_cached(
                "INSERT INTO meter_readings
                    (station_id, evse_id, transaction_id, timestamp, billing, samples)
                 VALUES (?, ?, ?, ?, ?, ?)",
            )?
            .execute(params![
                key.station_id.as_str(),
                key.evse_id,
                key.transaction_id,
                at,
                i64::from(billing),
                samples
            ])?,
    };
    for m in &added {
        if let (Some(transaction_id), Some(reading)) = (&m.transaction_id, m.billing_reading()) {
            let input = super::metered_usage::Input::Reading(&reading);
            super::metered_usage::fold(conn, &m.station_id, transaction_id, input)?;
        }
        if m.energy_backwards {
            tracing::warn!(station = %m.station_id, evse = m.evse_id,
                transaction = m.transaction_id.as_deref().unwrap_or("-"), measurand = %m.measurand,
                value = %m.value, "energy register went backwards; stored and flagged");
            metrics::counter!("meter_energy_backwards_total").increment(1);
        }
    }
    Ok(())
}

/// How many earlier rows are searched for the previous reading of a series: a station sends
/// the same measurands at every sample, so it is almost always in the row just before.
const PREVIOUS_ROWS: i64 = 8;

/// An energy register that reads lower than the reading just before it in the same series
/// (same EVSE, transaction, measurand, phase, location) went backwards: kept, flagged.
fn went_backwards(conn: &Connection, key: &RowKey<'_>, m: &MeterValueRecord) -> Result<bool> {
    let Some(wh) = m.wh else {
        return Ok(false);
    };
    let mut statement = conn.prepare_cached(
        "SELECT timestamp, samples FROM meter_readings
         WHERE station_id = ? AND transaction_id = ? AND timestamp < ? AND evse_id = ?
         ORDER BY timestamp DESC LIMIT ?",
    )?;
    let mut rows = statement.query(params![
        key.station_id.as_str(),
        key.transaction_id,
        timestamp(&key.timestamp),
        key.evse_id,
        PREVIOUS_ROWS
    ])?;
    while let Some(row) = rows.next()? {
        let at: String = row.get(0)?;
        let samples: String = row.get(1)?;
        let earlier = RowKey {
            timestamp: super::columns::parse_timestamp(&at, "timestamp")?,
            ..*key
        };
        let previous = unpack(&earlier, &samples)?.into_iter().find(|s| {
            s.measurand == m.measurand
                && s.phase == m.phase
                && s.location == m.location
                && s.wh.is_some()
        });
        if let Some(previous) = previous {
            return Ok(previous.wh.is_some_and(|p| p > wh));
        }
    }
    Ok(false)
}

/// The billing-register readings of a transaction in (timestamp, arrival) order, from the rows
/// `rows` yields as (timestamp, samples). Shared by both connections' rebuild of the metered
/// usage.
pub(super) fn billing_readings(
    station: &StationId,
    transaction_id: &str,
    rows: impl IntoIterator<Item = (DateTime<Utc>, String)>,
) -> Result<Vec<EnergyReading>> {
    let mut readings = Vec::new();
    for (at, samples) in rows {
        let key = RowKey {
            station_id: station,
            evse_id: 0,
            transaction_id,
            timestamp: at,
        };
        readings.extend(
            unpack(&key, &samples)?
                .iter()
                .filter_map(MeterValueRecord::billing_reading),
        );
    }
    Ok(readings)
}

/// The rows holding billing-register readings of a transaction, in time then arrival order.
pub(super) const BILLING_ROWS: &str = "SELECT timestamp, samples FROM meter_readings
     WHERE station_id = ? AND transaction_id = ? AND billing = 1
     ORDER BY timestamp, id";

// --- reads (pool) ---

/// The latest `filter.limit` samples (default 1000) of a station, oldest first.
pub(super) async fn meter_values(
    pool: &SqlitePool,
    station: &StationId,
    filter: &MeterValueFilter,
) -> Result<Vec<MeterValueRecord>> {
    let limit = if filter.limit == 0 {
        1000
    } else {
        filter.limit
    };
    // Every row holds at least one sample: `limit` rows are enough for `limit` samples.
    let rows = sqlx::query(
        "SELECT * FROM (SELECT * FROM meter_readings
            WHERE station_id = ? AND (? IS NULL OR transaction_id = ?) AND (? IS NULL OR evse_id = ?)
            ORDER BY timestamp DESC, id DESC LIMIT ?)
         ORDER BY timestamp, id",
    )
    .bind(station.as_str())
    .bind(&filter.transaction_id)
    .bind(&filter.transaction_id)
    .bind(filter.evse_id)
    .bind(filter.evse_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut samples = Vec::new();
    for row in &rows {
        let transaction_id: String = row.try_get("transaction_id")?;
        let key = RowKey {
            station_id: station,
            evse_id: row.try_get("evse_id")?,
            transaction_id: &transaction_id,
            timestamp: row.try_get("timestamp")?,
        };
        let packed: String = row.try_get("samples")?;
        samples.extend(unpack(&key, &packed)?);
    }
    let skip = samples.len().saturating_sub(limit as usize);
    Ok(samples.split_off(skip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(measurand: &str, value: &str, wh: Option<&str>) -> MeterValueRecord {
        MeterValueRecord {
            station_id: StationId::new("CS-1").unwrap(),
            evse_id: 1,
            transaction_id: Some("tx-1".into()),
            timestamp: "2026-12-06T10:00:00Z".parse().unwrap(),
            context: "Sample.Periodic".into(),
            measurand: measurand.into(),
            phase: None,
            location: Some("Outlet".into()),
            unit: Some("Wh".into()),
            multiplier: 0,
            value: value.parse().unwrap(),
            wh: wh.map(|w| w.parse().unwrap()),
            signed: false,
            signed_data: None,
            source: "TransactionEvent".into(),
            energy_backwards: false,
        }
    }

    fn key(m: &MeterValueRecord) -> RowKey<'_> {
        RowKey {
            station_id: &m.station_id,
            evse_id: m.evse_id,
            transaction_id: m.transaction_id.as_deref().unwrap_or(""),
            timestamp: m.timestamp,
        }
    }

    #[test]
    fn a_sample_comes_back_as_it_went_in() {
        let mut samples = vec![
            sample("Energy.Active.Import.Register", "1234.5", Some("1234.5")),
            sample("Energy.Active.Import.Register", "1.2345", Some("1234.5")),
            sample("Power.Active.Import", "7200", None),
        ];
        samples[1].unit = Some("kWh".into());
        samples[1].multiplier = 3;
        samples[2].phase = Some("L2-N".into());
        samples[2].context = "Trigger".into();
        samples[2].signed = true;
        samples[2].signed_data = Some(r#"{"signedMeterData":"AAE="}"#.into());
        samples[2].source = "MeterValues".into();
        samples[2].energy_backwards = true;
        let packed = Value::Array(
            samples
                .iter()
                .map(|s| pack(s, s.energy_backwards))
                .collect(),
        )
        .to_string();
        assert_eq!(unpack(&key(&samples[0]), &packed).unwrap(), samples);
    }

    #[test]
    fn a_typical_energy_sample_packs_small() {
        let s = sample("Energy.Active.Import.Register", "1234.5", Some("1234.5"));
        assert_eq!(
            pack(&s, false).to_string(),
            r#"[4,4,null,4,"Wh",0,"1234.5",1]"#
        );
    }

    #[test]
    fn names_from_migrated_rows_are_read_and_unknown_codes_refused() {
        let s = sample("Energy.Active.Import.Register", "10", Some("10"));
        let migrated = r#"[["Energy.Active.Import.Register","Sample.Periodic","","Outlet","Wh",0,"10","10",0,"TransactionEvent",null]]"#;
        assert_eq!(unpack(&key(&s), migrated).unwrap(), vec![s.clone()]);
        assert!(unpack(&key(&s), r#"[[99,4,null,null,"Wh",0,"10"]]"#).is_err());
    }
}
