//! SQLite side of the money path: meter values, local lists, remote starts, reservations,
//! tariffs and charge records. Decimals are kept as their exact text, never as REAL.

use chrono::Utc;
use rusqlite::{params, Connection};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use unicharge_core::charge_record::ChargeRecord;
use unicharge_core::tariff::{Tariff, TariffAssignment};
use unicharge_core::StationId;

use super::columns::{station_id, timestamp};
use crate::{
    LocalList, RemoteStartRecord, ReservationRecord, Result, StoreError, TransactionFacts,
};

// --- writer side (inside the group commit, on the writer's own connection) ---

pub(super) fn apply_transaction_facts(conn: &Connection, f: &TransactionFacts) -> Result<()> {
    conn.prepare_cached(
        "UPDATE transactions SET
            id_token_type = COALESCE(id_token_type, ?),
            group_id_token = COALESCE(group_id_token, ?),
            remote_start_id = COALESCE(remote_start_id, ?),
            reservation_id = COALESCE(reservation_id, ?),
            tariff_id = COALESCE(tariff_id, ?)
         WHERE station_id = ? AND transaction_id = ?",
    )?
    .execute(params![
        f.id_token_type,
        f.group_id_token,
        f.remote_start_id,
        f.reservation_id,
        f.tariff_id,
        f.station_id.as_str(),
        f.transaction_id,
    ])?;
    if let Some(id) = f.remote_start_id {
        conn.prepare_cached(
            "UPDATE remote_starts SET transaction_id = COALESCE(transaction_id, ?)
             WHERE id = ? AND station_id = ?",
        )?
        .execute(params![f.transaction_id, id, f.station_id.as_str()])?;
    }
    if let Some(id) = f.reservation_id {
        // H03: the reservation is used by this transaction.
        conn.prepare_cached(
            "UPDATE reservations SET status = 'Used', transaction_id = ?, updated_at = ?
             WHERE id = ? AND station_id = ? AND transaction_id IS NULL",
        )?
        .execute(params![
            f.transaction_id,
            timestamp(&Utc::now()),
            id,
            f.station_id.as_str()
        ])?;
    }
    Ok(())
}

pub(super) fn insert_charge_record(conn: &Connection, record: &ChargeRecord) -> Result<()> {
    let data = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    conn.prepare_cached(
        "INSERT INTO charge_records
            (id, station_id, transaction_id, currency, total_incl_vat, data, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET currency = excluded.currency,
            total_incl_vat = excluded.total_incl_vat, data = excluded.data",
    )?
    .execute(params![
        record.id,
        record.station_id,
        record.transaction_id,
        record.cost.as_ref().map(|c| c.currency.clone()),
        record.cost.as_ref().map(|c| c.total_incl_vat.to_string()),
        data,
        timestamp(&record.created_at),
    ])?;
    Ok(())
}

// --- reads and operator writes (pool) ---

/// The seqNos missing between the lowest and the highest of the transaction's events.
///
/// Without gaps (the usual case) this is one keyed lookup, not a read of every seqNo: the
/// transaction counts its distinct events and keeps the highest seqNo, so from the lowest
/// one alone we know whether anything is missing.
pub(super) async fn seq_no_gaps(
    pool: &SqlitePool,
    station: &StationId,
    transaction: &crate::TransactionRecord,
) -> Result<Vec<i64>> {
    let transaction_id = transaction.transaction_id.as_str();
    let lowest: Option<i64> = sqlx::query_scalar(
        "SELECT MIN(seq_no) FROM transaction_events WHERE station_id = ? AND transaction_id = ?",
    )
    .bind(station.as_str())
    .bind(transaction_id)
    .fetch_one(pool)
    .await?;
    if super::columns::contiguous(transaction, lowest) {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = sqlx::query_scalar(
        "SELECT seq_no FROM transaction_events WHERE station_id = ? AND transaction_id = ?
         ORDER BY seq_no",
    )
    .bind(station.as_str())
    .bind(transaction_id)
    .fetch_all(pool)
    .await?;
    Ok(super::columns::gaps(&seqs))
}

pub(super) async fn local_list(pool: &SqlitePool, station: &StationId) -> Result<LocalList> {
    let head = sqlx::query("SELECT * FROM local_lists WHERE station_id = ?")
        .bind(station.as_str())
        .fetch_optional(pool)
        .await?;
    let entries: Vec<(String, String)> = sqlx::query_as(
        "SELECT id_token, type FROM local_list_entries WHERE station_id = ? ORDER BY id_token, type",
    )
    .bind(station.as_str())
    .fetch_all(pool)
    .await?;
    Ok(match head {
        Some(row) => LocalList {
            version: row.try_get("version")?,
            station_version: row.try_get("station_version")?,
            last_status: row.try_get("last_status")?,
            entries,
            updated_at: row.try_get("updated_at")?,
        },
        None => LocalList {
            version: 0,
            station_version: None,
            last_status: None,
            entries,
            updated_at: None,
        },
    })
}

pub(super) async fn put_local_list(
    pool: &SqlitePool,
    station: &StationId,
    version: i64,
    entries: &[(String, String)],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "INSERT INTO local_lists (station_id, version, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (station_id) DO UPDATE SET version = excluded.version,
            updated_at = excluded.updated_at, last_status = NULL",
    )
    .bind(station.as_str())
    .bind(version)
    .bind(Utc::now())
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM local_list_entries WHERE station_id = ?")
        .bind(station.as_str())
        .execute(&mut *tx)
        .await?;
    for (id_token, kind) in entries {
        sqlx::query(
            "INSERT OR IGNORE INTO local_list_entries (station_id, id_token, type) VALUES (?, ?, ?)",
        )
        .bind(station.as_str())
        .bind(id_token)
        .bind(kind)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_local_list_station_state(
    pool: &SqlitePool,
    station: &StationId,
    last_status: Option<&str>,
    station_version: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO local_lists (station_id, version, station_version, last_status, updated_at)
         VALUES (?, 0, ?, ?, ?)
         ON CONFLICT (station_id) DO UPDATE SET
            station_version = COALESCE(excluded.station_version, local_lists.station_version),
            last_status = COALESCE(excluded.last_status, local_lists.last_status),
            updated_at = excluded.updated_at",
    )
    .bind(station.as_str())
    .bind(station_version)
    .bind(last_status)
    .bind(Utc::now())
    .execute(pool)
    .await?;
    Ok(())
}

/// See [`crate::Store::ocpp16_transaction_id`]. One statement: the insert that does nothing
/// on a repeated start, then the row's id (committed before the caller answers the station).
pub(super) async fn ocpp16_transaction_id(
    pool: &SqlitePool,
    station: &StationId,
    connector_id: i64,
    id_tag: &str,
    started_at: chrono::DateTime<Utc>,
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO ocpp16_transactions (station_id, connector_id, id_tag, started_at, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (station_id, connector_id, started_at, id_tag)
         DO UPDATE SET id_tag = excluded.id_tag
         RETURNING id",
    )
    .bind(station.as_str())
    .bind(connector_id)
    .bind(id_tag)
    .bind(started_at)
    .bind(Utc::now())
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(super) async fn create_remote_start(
    pool: &SqlitePool,
    station: &StationId,
    id_token: &str,
    id_token_type: &str,
    evse_id: Option<i64>,
) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO remote_starts (station_id, id_token, id_token_type, evse_id, status, created_at)
         VALUES (?, ?, ?, ?, 'Requested', ?)",
    )
    .bind(station.as_str())
    .bind(id_token)
    .bind(id_token_type)
    .bind(evse_id)
    .bind(Utc::now())
    .execute(pool)
    .await?
    .last_insert_rowid();
    Ok(id)
}

pub(super) async fn set_remote_start_outcome(
    pool: &SqlitePool,
    id: i64,
    status: &str,
    transaction_id: Option<&str>,
) -> Result<()> {
    sqlx::query(
        "UPDATE remote_starts SET status = ?, transaction_id = COALESCE(transaction_id, ?)
         WHERE id = ?",
    )
    .bind(status)
    .bind(transaction_id)
    .bind(id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn open_remote_start(
    pool: &SqlitePool,
    station: &StationId,
    id_token: &str,
    evse_id: i64,
    since: chrono::DateTime<Utc>,
) -> Result<Option<i64>> {
    let id = sqlx::query_scalar(
        "SELECT id FROM remote_starts
         WHERE station_id = ? AND id_token = ? AND transaction_id IS NULL
           AND (evse_id IS NULL OR evse_id = ?) AND status IN ('Requested', 'Accepted')
           AND created_at >= ?
         ORDER BY id DESC LIMIT 1",
    )
    .bind(station.as_str())
    .bind(id_token)
    .bind(evse_id)
    .bind(since)
    .fetch_optional(pool)
    .await?;
    Ok(id)
}

pub(super) async fn remote_start(pool: &SqlitePool, id: i64) -> Result<Option<RemoteStartRecord>> {
    let row = sqlx::query("SELECT * FROM remote_starts WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.map(|row| {
        Ok(RemoteStartRecord {
            id: row.try_get("id")?,
            station_id: station_id(&row, "station_id")?,
            id_token: row.try_get("id_token")?,
            id_token_type: row.try_get("id_token_type")?,
            evse_id: row.try_get("evse_id")?,
            status: row.try_get("status")?,
            transaction_id: row.try_get("transaction_id")?,
            created_at: row.try_get("created_at")?,
        })
    })
    .transpose()
}

fn reservation(row: &SqliteRow) -> Result<ReservationRecord> {
    Ok(ReservationRecord {
        id: row.try_get("id")?,
        station_id: station_id(row, "station_id")?,
        evse_id: row.try_get("evse_id")?,
        connector_type: row.try_get("connector_type")?,
        id_token: row.try_get("id_token")?,
        id_token_type: row.try_get("id_token_type")?,
        group_id_token: row.try_get("group_id_token")?,
        expires_at: row.try_get("expires_at")?,
        status: row.try_get("status")?,
        transaction_id: row.try_get("transaction_id")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn create_reservation(pool: &SqlitePool, r: &ReservationRecord) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO reservations (station_id, evse_id, connector_type, id_token, id_token_type,
            group_id_token, expires_at, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.station_id.as_str())
    .bind(r.evse_id)
    .bind(&r.connector_type)
    .bind(&r.id_token)
    .bind(&r.id_token_type)
    .bind(&r.group_id_token)
    .bind(r.expires_at)
    .bind(&r.status)
    .bind(r.created_at)
    .bind(r.updated_at)
    .execute(pool)
    .await?
    .last_insert_rowid();
    Ok(id)
}

pub(super) async fn set_reservation_status(
    pool: &SqlitePool,
    station: &StationId,
    id: i64,
    status: &str,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE reservations SET status = ?, updated_at = ? WHERE station_id = ? AND id = ?",
    )
    .bind(status)
    .bind(Utc::now())
    .bind(station.as_str())
    .bind(id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

pub(super) async fn reservation_by_id(
    pool: &SqlitePool,
    station: &StationId,
    id: i64,
) -> Result<Option<ReservationRecord>> {
    let row = sqlx::query("SELECT * FROM reservations WHERE station_id = ? AND id = ?")
        .bind(station.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(reservation).transpose()
}

pub(super) async fn reservations(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<ReservationRecord>> {
    let rows = sqlx::query("SELECT * FROM reservations WHERE station_id = ? ORDER BY id DESC")
        .bind(station.as_str())
        .fetch_all(pool)
        .await?;
    rows.iter().map(reservation).collect()
}

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

pub(super) async fn tariffs<'e, E>(db: E) -> Result<Vec<Tariff>>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM tariffs ORDER BY id")
        .fetch_all(db)
        .await?;
    rows.iter().map(|r| json(r, "tariff")).collect()
}

pub(super) async fn tariff_assignments<'e, E>(db: E) -> Result<Vec<(i64, TariffAssignment)>>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, tariff_id, scope FROM tariff_assignments ORDER BY id")
            .fetch_all(db)
            .await?;
    rows.into_iter()
        .map(|(id, tariff_id, scope)| {
            Ok((
                id,
                TariffAssignment {
                    tariff_id,
                    scope: json(&scope, "tariff scope")?,
                },
            ))
        })
        .collect()
}

pub(super) async fn charge_record(pool: &SqlitePool, id: &str) -> Result<Option<ChargeRecord>> {
    let raw: Option<String> = sqlx::query_scalar("SELECT data FROM charge_records WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    raw.map(|r| json(&r, "charge record")).transpose()
}

pub(super) async fn charge_records(
    pool: &SqlitePool,
    station: Option<&StationId>,
    limit: u32,
) -> Result<Vec<ChargeRecord>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM charge_records WHERE (? IS NULL OR station_id = ?)
         ORDER BY created_at DESC LIMIT ?",
    )
    .bind(station.map(StationId::as_str))
    .bind(station.map(StationId::as_str))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| json(r, "charge record")).collect()
}

pub(super) async fn charge_records_with_station_prefix(
    pool: &SqlitePool,
    prefix: &str,
    limit: u32,
) -> Result<Vec<ChargeRecord>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM charge_records WHERE substr(station_id, 1, length(?1)) = ?1
         ORDER BY created_at DESC LIMIT ?2",
    )
    .bind(prefix)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(|r| json(r, "charge record")).collect()
}

pub(super) async fn station_notices(
    pool: &SqlitePool,
    station: &StationId,
    limit: u32,
) -> Result<Vec<crate::StationNotice>> {
    let rows =
        sqlx::query("SELECT * FROM station_notices WHERE station_id = ? ORDER BY id DESC LIMIT ?")
            .bind(station.as_str())
            .bind(i64::from(limit))
            .fetch_all(pool)
            .await?;
    rows.iter().map(super::columns::station_notice).collect()
}
