//! The packed form of meter values, shared by both stores: one `meter_readings` row per
//! meterValue (the samples a station took at one instant on one EVSE for one transaction), its
//! sampledValues packed into a JSON array in `samples` (migration 0014). Moved from
//! `sqlite/meter_readings.rs` so that the PostgreSQL store writes and reads byte-identical rows.
//!
//! Why packed: as one row and two index entries per sampledValue, meter values were 82 % of the
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
use rust_decimal::Decimal;
use serde_json::Value;
use unicharge_core::metering::EnergyReading;
use unicharge_core::StationId;

use crate::{MeterValueRecord, Result, StoreError};

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
        Some(i) => Value::from(i),
        None => Value::from(name),
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

pub(crate) fn corrupt(message: String) -> StoreError {
    StoreError::Corrupt(format!("meter_readings.samples: {message}"))
}

/// One sampledValue as its packed array.
pub(crate) fn pack(m: &MeterValueRecord, energy_backwards: bool) -> Value {
    let wh = match m.wh {
        None => Value::Null,
        Some(wh) if wh == m.value && m.multiplier == 0 => Value::from(1),
        Some(wh) => Value::from(wh.to_string()),
    };
    let flags = i64::from(m.signed) * SIGNED + i64::from(energy_backwards) * BACKWARDS;
    let mut sample = vec![
        code(MEASURANDS, &m.measurand),
        code(CONTEXTS, &m.context),
        optional_code(PHASES, m.phase.as_deref()),
        optional_code(LOCATIONS, m.location.as_deref()),
        m.unit.as_deref().map_or(Value::Null, Value::from),
        Value::from(m.multiplier),
        Value::from(m.value.to_string()),
        wh,
        Value::from(flags),
        code(SOURCES, &m.source),
        m.signed_data.as_deref().map_or(Value::Null, Value::from),
    ];
    // Trailing defaults (no signed data, TransactionEvent, no flags, no wh) are left out.
    let defaults = [Value::Null, Value::from(0), Value::from(0), Value::Null];
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
pub(crate) fn same_sample(a: &MeterValueRecord, b: &MeterValueRecord) -> bool {
    a.measurand == b.measurand
        && a.phase == b.phase
        && a.location == b.location
        && a.context == b.context
}

/// Where a row is, and what it says of every sample in it.
pub(crate) struct RowKey<'a> {
    pub station_id: &'a StationId,
    pub evse_id: i64,
    pub transaction_id: &'a str,
    pub timestamp: DateTime<Utc>,
}

pub(crate) fn unpack(key: &RowKey<'_>, samples: &str) -> Result<Vec<MeterValueRecord>> {
    let samples: Vec<Vec<Value>> =
        serde_json::from_str(samples).map_err(|e| corrupt(e.to_string()))?;
    samples.into_iter().map(|s| unpack_one(key, &s)).collect()
}

pub(crate) fn unpack_one(key: &RowKey<'_>, s: &[Value]) -> Result<MeterValueRecord> {
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

/// The billing-register readings of a transaction in (timestamp, arrival) order, from the rows
/// `rows` yields as (timestamp, samples). Shared by both connections' rebuild of the metered
/// usage.
pub(crate) fn billing_readings(
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
