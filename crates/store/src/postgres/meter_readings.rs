//! Meter values in the PostgreSQL store: the same packed `meter_readings` rows as
//! `sqlite/meter_readings.rs` writes (codec in `crate::meter_samples`), so either engine's rows
//! read the same. Billing-register readings newly stored are folded into the transaction's
//! running aggregate (`super::metered_usage`) in the same transaction.

use serde_json::Value;
use sqlx::{PgConnection, PgPool, Row};
use unicharge_core::StationId;

use crate::columns::{parse_timestamp, timestamp};
use crate::meter_samples::{corrupt, pack, same_sample, unpack, unpack_one, RowKey};
use crate::{MeterValueFilter, MeterValueRecord, Result};

/// How many earlier rows are searched for the previous reading of a series (as in SQLite).
const PREVIOUS_ROWS: i64 = 8;

/// Store the sampledValues of one meterValue (`group`: same station, EVSE, transaction and
/// timestamp — the caller groups them). Samples already stored are ignored (a retransmitted
/// message); new ones are added to the row, as in SQLite.
pub(super) async fn insert(conn: &mut PgConnection, group: &[&MeterValueRecord]) -> Result<()> {
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
    // FOR UPDATE: another node's writer merging samples into the same row waits for this one.
    let existing: Option<(i64, String)> = sqlx::query_as(
        "SELECT id, samples FROM meter_readings
         WHERE station_id = $1 AND transaction_id = $2 AND timestamp = $3 AND evse_id = $4
         FOR UPDATE",
    )
    .bind(key.station_id.as_str())
    .bind(key.transaction_id)
    .bind(&at)
    .bind(key.evse_id)
    .fetch_optional(&mut *conn)
    .await?;
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
        let backwards = m.energy_backwards || went_backwards(conn, &key, m).await?;
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
        Some((id, _)) => {
            sqlx::query("UPDATE meter_readings SET samples = $1, billing = $2 WHERE id = $3")
                .bind(&samples)
                .bind(i64::from(billing))
                .bind(id)
                .execute(&mut *conn)
                .await?
        }
        None => {
            sqlx::query(
                "INSERT INTO meter_readings
                    (station_id, evse_id, transaction_id, timestamp, billing, samples)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(key.station_id.as_str())
            .bind(key.evse_id)
            .bind(key.transaction_id)
            .bind(&at)
            .bind(i64::from(billing))
            .bind(&samples)
            .execute(&mut *conn)
            .await?
        }
    };
    for m in &added {
        if let (Some(transaction_id), Some(reading)) = (&m.transaction_id, m.billing_reading()) {
            let input = crate::metered::Input::Reading(&reading);
            super::metered_usage::fold(conn, &m.station_id, transaction_id, input).await?;
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

/// An energy register that reads lower than the reading just before it in the same series
/// (same EVSE, transaction, measurand, phase, location) went backwards: kept, flagged.
async fn went_backwards(
    conn: &mut PgConnection,
    key: &RowKey<'_>,
    m: &MeterValueRecord,
) -> Result<bool> {
    let Some(wh) = m.wh else {
        return Ok(false);
    };
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT timestamp, samples FROM meter_readings
         WHERE station_id = $1 AND transaction_id = $2 AND timestamp < $3 AND evse_id = $4
         ORDER BY timestamp DESC LIMIT $5",
    )
    .bind(key.station_id.as_str())
    .bind(key.transaction_id)
    .bind(timestamp(&key.timestamp))
    .bind(key.evse_id)
    .bind(PREVIOUS_ROWS)
    .fetch_all(&mut *conn)
    .await?;
    for (at, samples) in rows {
        let earlier = RowKey {
            timestamp: parse_timestamp(&at, "timestamp")?,
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

/// The latest `filter.limit` samples (default 1000) of a station, up to `filter.until`, oldest
/// first.
pub(super) async fn meter_values(
    pool: &PgPool,
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
            WHERE station_id = $1 AND ($2::text IS NULL OR transaction_id = $2)
              AND ($3::bigint IS NULL OR evse_id = $3)
              AND ($5::text IS NULL OR timestamp <= $5)
            ORDER BY timestamp DESC, id DESC LIMIT $4) latest
         ORDER BY timestamp, id",
    )
    .bind(station.as_str())
    .bind(&filter.transaction_id)
    .bind(filter.evse_id)
    .bind(i64::from(limit))
    .bind(filter.until.as_ref().map(timestamp))
    .fetch_all(pool)
    .await?;
    let mut samples = Vec::new();
    for row in &rows {
        let transaction_id: String = row.try_get("transaction_id")?;
        let at: String = row.try_get("timestamp")?;
        let key = RowKey {
            station_id: station,
            evse_id: row.try_get("evse_id")?,
            transaction_id: &transaction_id,
            timestamp: parse_timestamp(&at, "timestamp")?,
        };
        let packed: String = row.try_get("samples")?;
        samples.extend(unpack(&key, &packed)?);
    }
    let skip = samples.len().saturating_sub(limit as usize);
    Ok(samples.split_off(skip))
}

impl super::PgStore {
    /// [`crate::Store::meter_values`].
    pub async fn meter_values(
        &self,
        station: &StationId,
        filter: &MeterValueFilter,
    ) -> Result<Vec<MeterValueRecord>> {
        meter_values(&self.pool, station, filter).await
    }
}
