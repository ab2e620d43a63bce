//! The `metered_usage` table: each transaction's running aggregate
//! ([`unicharge_core::metering::MeteredUsage`]), kept by the writer in the same commit as the
//! rows it summarises.
//!
//! Every TransactionEvent with a chargingState and every billing-register sample filed under a
//! transaction — whoever wrote it: a TransactionEvent, or MeterValues during the transaction —
//! is folded in when, and only when, its row is inserted (a duplicate is ignored by the tables'
//! keys and so not folded twice). An input the aggregate refuses as out of order (a late
//! offline event, an older reading) makes the writer rebuild the aggregate from the stored
//! series, inside the same transaction: O(series) once, then O(1) again. Rows marked `stale`
//! (transactions stored before the table existed) are rebuilt the same way on their next write.
//! The invariant: after every commit the row equals `MeteredUsage::from_series` of the stored
//! series.

//!
//! The row's encoding and the fold itself are shared with the PostgreSQL store
//! (`crate::metered`).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::{Sqlite, SqliteConnection};
use unicharge_core::metering::MeteredUsage;
use unicharge_core::StationId;

use super::columns::timestamp;
use crate::metered::{change, split, stored};
pub(super) use crate::metered::{Input, Stored};
use crate::{MeteredSeries, Result};

pub(super) async fn load<'e, E>(db: E, station: &StationId, transaction_id: &str) -> Result<Stored>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    let row =
        sqlx::query("SELECT * FROM metered_usage WHERE station_id = ? AND transaction_id = ?")
            .bind(station.as_str())
            .bind(transaction_id)
            .fetch_optional(db)
            .await?;
    row.as_ref()
        .map_or(Ok(Stored::Current(MeteredUsage::default())), stored)
}

/// [`load`] on the writer's connection.
pub(super) fn load_sync(
    conn: &Connection,
    station: &StationId,
    transaction_id: &str,
) -> Result<Stored> {
    let mut statement = conn.prepare_cached(
        "SELECT * FROM metered_usage WHERE station_id = ? AND transaction_id = ?",
    )?;
    let mut rows = statement.query(params![station.as_str(), transaction_id])?;
    match rows.next()? {
        None => Ok(Stored::Current(MeteredUsage::default())),
        Some(row) => stored(row),
    }
}

/// The plug-state changes of a transaction's events, in seqNo order (see [`series`]).
const CHANGES: &str =
    "SELECT seq_no, timestamp, json_extract(data, '$.transactionInfo.chargingState')
     FROM transaction_events
     WHERE station_id = ? AND transaction_id = ?
       AND json_extract(data, '$.transactionInfo.chargingState') IS NOT NULL
     ORDER BY seq_no";

/// [`series`] on the writer's connection (the rare rebuild inside a batch).
fn series_sync(
    conn: &Connection,
    station: &StationId,
    transaction_id: &str,
) -> Result<MeteredSeries> {
    let mut statement = conn.prepare_cached(super::meter_readings::BILLING_ROWS)?;
    let rows = statement
        .query_map(params![station.as_str(), transaction_id], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?))
        })?
        .map(|row| {
            let (at, samples) = row?;
            Ok((super::columns::parse_timestamp(&at, "timestamp")?, samples))
        })
        .collect::<Result<Vec<_>>>()?;
    let readings = super::meter_readings::billing_readings(station, transaction_id, rows)?;
    let mut statement = conn.prepare_cached(CHANGES)?;
    let mut rows = statement.query(params![station.as_str(), transaction_id])?;
    let mut changes = Vec::new();
    while let Some(row) = rows.next()? {
        let at: String = row.get(1)?;
        let state: String = row.get(2)?;
        changes.extend(change(
            row.get(0)?,
            super::columns::parse_timestamp(&at, "timestamp")?,
            &state,
        ));
    }
    Ok(MeteredSeries { readings, changes })
}

/// The transaction's whole stored series: billing-register readings in (timestamp, arrival)
/// order and the plug-state changes of its events with their seqNos.
pub(super) async fn series(
    conn: &mut SqliteConnection,
    station: &StationId,
    transaction_id: &str,
) -> Result<MeteredSeries> {
    let rows: Vec<(DateTime<Utc>, String)> = sqlx::query_as(super::meter_readings::BILLING_ROWS)
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&mut *conn)
        .await?;
    let readings = super::meter_readings::billing_readings(station, transaction_id, rows)?;
    let rows: Vec<(i64, DateTime<Utc>, String)> = sqlx::query_as(CHANGES)
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&mut *conn)
        .await?;
    let changes = rows
        .into_iter()
        .filter_map(|(seq_no, timestamp, state)| change(seq_no, timestamp, &state))
        .collect();
    Ok(MeteredSeries { readings, changes })
}

/// Fold one newly inserted input into the transaction's aggregate (writer side).
pub(super) fn fold(
    conn: &Connection,
    station: &StationId,
    transaction_id: &str,
    input: Input<'_>,
) -> Result<()> {
    let aggregate = match crate::metered::folded(load_sync(conn, station, transaction_id)?, input) {
        Some(aggregate) => aggregate,
        None => {
            // The rare path: the input is already inserted, so the series includes it.
            let series = series_sync(conn, station, transaction_id)?;
            tracing::info!(station = %station, transaction = %transaction_id,
                readings = series.readings.len(), changes = series.changes.len(),
                "metered usage rebuilt from the stored series (out-of-order or first input)");
            metrics::counter!("metered_usage_rebuilds_total").increment(1);
            MeteredUsage::from_series(&series.readings, &series.changes)
        }
    };
    save(conn, station, transaction_id, &aggregate)
}

fn save(
    conn: &Connection,
    station: &StationId,
    transaction_id: &str,
    m: &MeteredUsage,
) -> Result<()> {
    let (charging_secs, charging_nanos) = split(m.charging);
    let (idle_secs, idle_nanos) = split(m.idle);
    let last = m.last_change.as_ref();
    conn.prepare_cached(
        "INSERT OR REPLACE INTO metered_usage (station_id, transaction_id, first_reading_at,
            first_reading_wh, last_reading_at, last_reading_wh, energy_wh, energy_backwards,
            first_change_at, last_change_at, last_change_state, last_change_seq_no,
            charging_secs, charging_nanos, idle_secs, idle_nanos, stale)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
    )?
    .execute(params![
        station.as_str(),
        transaction_id,
        m.first_reading.as_ref().map(|r| timestamp(&r.timestamp)),
        m.first_reading.as_ref().map(|r| r.wh.to_string()),
        m.last_reading.as_ref().map(|r| timestamp(&r.timestamp)),
        m.last_reading.as_ref().map(|r| r.wh.to_string()),
        m.energy_wh.to_string(),
        i64::from(m.energy_went_backwards),
        m.first_change_at.as_ref().map(timestamp),
        last.map(|c| timestamp(&c.change.timestamp)),
        last.map(|c| c.change.state.as_str()),
        last.map(|c| c.seq_no),
        charging_secs,
        charging_nanos,
        idle_secs,
        idle_nanos,
    ])?;
    Ok(())
}
