//! The `metered_usage` table in the PostgreSQL store: each transaction's running aggregate,
//! kept by the writer in the same transaction as the rows it summarises, exactly as
//! `sqlite/metered_usage.rs` keeps it (encoding and fold shared in `crate::metered`).
//!
//! A new billing-register reading or chargingState is folded in when, and only when, its row
//! is inserted; an input the aggregate refuses as out of order, or a `stale` row, makes the
//! writer rebuild the aggregate from the stored series inside the same transaction. The
//! invariant: after every commit the row equals `MeteredUsage::from_series` of the stored
//! series. The row is read `FOR UPDATE`, so two nodes' writers fold one transaction in turn.

use sqlx::{PgConnection, PgPool};
use unicharge_core::metering::MeteredUsage;
use unicharge_core::StationId;

use crate::columns::{parse_timestamp, timestamp};
use crate::metered::{change, folded, split, stored, Input, Stored};
use crate::{MeteredSeries, Result};

/// The rows holding billing-register readings of a transaction, in time then arrival order.
const BILLING_ROWS: &str = "SELECT timestamp, samples FROM meter_readings
     WHERE station_id = $1 AND transaction_id = $2 AND billing = 1
     ORDER BY timestamp, id";

/// The chargingStates of a transaction's events, in seqNo order (the stored event JSON, read
/// as SQLite's `json_extract(data, '$.transactionInfo.chargingState')` reads it).
const CHANGES: &str = "SELECT seq_no, timestamp, data::jsonb #>> '{transactionInfo,chargingState}'
     FROM transaction_events
     WHERE station_id = $1 AND transaction_id = $2
       AND data::jsonb #>> '{transactionInfo,chargingState}' IS NOT NULL
     ORDER BY seq_no";

async fn load(
    conn: &mut PgConnection,
    station: &StationId,
    transaction_id: &str,
    lock: bool,
) -> Result<Stored> {
    let sql = if lock {
        "SELECT * FROM metered_usage WHERE station_id = $1 AND transaction_id = $2 FOR UPDATE"
    } else {
        "SELECT * FROM metered_usage WHERE station_id = $1 AND transaction_id = $2"
    };
    let row = sqlx::query(sql)
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref()
        .map_or(Ok(Stored::Current(MeteredUsage::default())), stored)
}

/// The transaction's whole stored series: billing-register readings in (timestamp, arrival)
/// order and the plug-state changes of its events with their seqNos.
async fn series(
    conn: &mut PgConnection,
    station: &StationId,
    transaction_id: &str,
) -> Result<MeteredSeries> {
    let rows: Vec<(String, String)> = sqlx::query_as(BILLING_ROWS)
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&mut *conn)
        .await?;
    let rows = rows
        .into_iter()
        .map(|(at, samples)| Ok((parse_timestamp(&at, "timestamp")?, samples)))
        .collect::<Result<Vec<_>>>()?;
    let readings = crate::meter_samples::billing_readings(station, transaction_id, rows)?;
    let rows: Vec<(i64, String, String)> = sqlx::query_as(CHANGES)
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut changes = Vec::new();
    for (seq_no, at, state) in rows {
        changes.extend(change(seq_no, parse_timestamp(&at, "timestamp")?, &state));
    }
    Ok(MeteredSeries { readings, changes })
}

/// Fold one newly inserted input into the transaction's aggregate (writer side).
pub(super) async fn fold(
    conn: &mut PgConnection,
    station: &StationId,
    transaction_id: &str,
    input: Input<'_>,
) -> Result<()> {
    let stored = load(conn, station, transaction_id, true).await?;
    let aggregate = match folded(stored, input) {
        Some(aggregate) => aggregate,
        None => {
            // The rare path: the input is already inserted, so the series includes it.
            let series = series(conn, station, transaction_id).await?;
            tracing::info!(station = %station, transaction = %transaction_id,
                readings = series.readings.len(), changes = series.changes.len(),
                "metered usage rebuilt from the stored series (out-of-order or first input)");
            metrics::counter!("metered_usage_rebuilds_total").increment(1);
            MeteredUsage::from_series(&series.readings, &series.changes)
        }
    };
    save(conn, station, transaction_id, &aggregate).await
}

async fn save(
    conn: &mut PgConnection,
    station: &StationId,
    transaction_id: &str,
    m: &MeteredUsage,
) -> Result<()> {
    let (charging_secs, charging_nanos) = split(m.charging);
    let (idle_secs, idle_nanos) = split(m.idle);
    let last = m.last_change.as_ref();
    sqlx::query(
        "INSERT INTO metered_usage (station_id, transaction_id, first_reading_at,
            first_reading_wh, last_reading_at, last_reading_wh, energy_wh, energy_backwards,
            first_change_at, last_change_at, last_change_state, last_change_seq_no,
            charging_secs, charging_nanos, idle_secs, idle_nanos, stale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0)
         ON CONFLICT (station_id, transaction_id) DO UPDATE SET
            first_reading_at = excluded.first_reading_at,
            first_reading_wh = excluded.first_reading_wh,
            last_reading_at = excluded.last_reading_at,
            last_reading_wh = excluded.last_reading_wh,
            energy_wh = excluded.energy_wh, energy_backwards = excluded.energy_backwards,
            first_change_at = excluded.first_change_at, last_change_at = excluded.last_change_at,
            last_change_state = excluded.last_change_state,
            last_change_seq_no = excluded.last_change_seq_no,
            charging_secs = excluded.charging_secs, charging_nanos = excluded.charging_nanos,
            idle_secs = excluded.idle_secs, idle_nanos = excluded.idle_nanos, stale = 0",
    )
    .bind(station.as_str())
    .bind(transaction_id)
    .bind(m.first_reading.as_ref().map(|r| timestamp(&r.timestamp)))
    .bind(m.first_reading.as_ref().map(|r| r.wh.to_string()))
    .bind(m.last_reading.as_ref().map(|r| timestamp(&r.timestamp)))
    .bind(m.last_reading.as_ref().map(|r| r.wh.to_string()))
    .bind(m.energy_wh.to_string())
    .bind(i64::from(m.energy_went_backwards))
    .bind(m.first_change_at.as_ref().map(timestamp))
    .bind(last.map(|c| timestamp(&c.change.timestamp)))
    .bind(last.map(|c| c.change.state.as_str()))
    .bind(last.map(|c| c.seq_no))
    .bind(charging_secs)
    .bind(charging_nanos)
    .bind(idle_secs)
    .bind(idle_nanos)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn read(pool: &PgPool, station: &StationId, transaction_id: &str) -> Result<Stored> {
    let mut conn = pool.acquire().await?;
    load(&mut conn, station, transaction_id, false).await
}

impl super::PgStore {
    /// [`crate::Store::metered_usage`]: `None` while the row is stale (not computed yet), as
    /// in SQLite.
    pub async fn metered_usage(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<MeteredUsage>> {
        Ok(match read(&self.pool, station, transaction_id).await? {
            Stored::Current(m) => Some(m),
            Stored::Stale => None,
        })
    }

    /// [`crate::Store::metered_series`].
    pub async fn metered_series(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<MeteredSeries> {
        let mut conn = self.pool.acquire().await?;
        series(&mut conn, station, transaction_id).await
    }
}
