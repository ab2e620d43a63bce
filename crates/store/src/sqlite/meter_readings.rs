//! Meter values in the SQLite store: the packed `meter_readings` rows (format and codec in
//! `crate::meter_samples`, shared with the PostgreSQL store) written by the writer thread and
//! read through the pool.

use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use sqlx::{Row, SqlitePool};
use unicharge_core::StationId;

use super::columns::timestamp;
pub(super) use crate::meter_samples::billing_readings;
use crate::meter_samples::{corrupt, pack, same_sample, unpack, unpack_one, RowKey};
use crate::{MeterValueFilter, MeterValueRecord, Result};

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

/// The rows holding billing-register readings of a transaction, in time then arrival order.
pub(super) const BILLING_ROWS: &str = "SELECT timestamp, samples FROM meter_readings
     WHERE station_id = ? AND transaction_id = ? AND billing = 1
     ORDER BY timestamp, id";

// --- reads (pool) ---

/// The latest `filter.limit` samples (default 1000) of a station, up to `filter.until`, oldest
/// first.
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
              AND (? IS NULL OR timestamp <= ?)
            ORDER BY timestamp DESC, id DESC LIMIT ?)
         ORDER BY timestamp, id",
    )
    .bind(station.as_str())
    .bind(&filter.transaction_id)
    .bind(&filter.transaction_id)
    .bind(filter.evse_id)
    .bind(filter.evse_id)
    .bind(filter.until.as_ref().map(timestamp))
    .bind(filter.until.as_ref().map(timestamp))
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
