//! SQLite side of blocks L and N: tracked requests (pool writes, operator-initiated), their
//! parts and the monitors reported (writer, station messages committed before their answer).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use super::columns::{station_id, timestamp};
use crate::{Result, StoreError, TrackedKind, TrackedPart, TrackedRequest, VariableMonitorRecord};

fn kind_of(row: &SqliteRow) -> Result<TrackedKind> {
    let raw: String = row.try_get("kind")?;
    TrackedKind::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("tracked kind {raw}")))
}

// --- writer side ---

pub(super) fn insert_part(conn: &Connection, p: &TrackedPart) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO tracked_request_parts (station_id, kind, request_id, seq_no, tbc, status,
            data, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        p.station_id.as_str(),
        p.kind.as_str(),
        p.request_id,
        p.seq_no,
        i64::from(p.tbc),
        p.status,
        p.data,
        timestamp(&p.received_at),
    ])?;
    let complete = p.final_status || (p.status.is_none() && !p.tbc);
    conn.prepare_cached(
        "UPDATE tracked_requests SET status = COALESCE(?, status),
            complete = CASE WHEN ? THEN 1 ELSE complete END, updated_at = ?
         WHERE station_id = ? AND kind = ? AND request_id = ?",
    )?
    .execute(params![
        p.status,
        complete,
        timestamp(&p.received_at),
        p.station_id.as_str(),
        p.kind.as_str(),
        p.request_id,
    ])?;
    Ok(())
}

pub(super) fn upsert_monitor(conn: &Connection, m: &VariableMonitorRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO variable_monitors (station_id, monitor_id, component,
            component_instance, evse_id, connector_id, variable, variable_instance, monitor_type,
            value, severity, transaction_only, origin, updated_at, cleared_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        m.station_id.as_str(),
        m.monitor_id,
        m.component,
        m.component_instance,
        m.evse_id,
        m.connector_id,
        m.variable,
        m.variable_instance,
        m.monitor_type,
        m.value,
        m.severity,
        i64::from(m.transaction_only),
        m.origin,
        timestamp(&m.updated_at),
        m.cleared_at.as_ref().map(timestamp),
    ])?;
    Ok(())
}

// --- pool side ---

pub(super) async fn create(pool: &SqlitePool, r: &TrackedRequest) -> Result<()> {
    sqlx::query(
        "INSERT INTO tracked_requests (station_id, kind, request_id, request, answer, status,
            complete, requested_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(r.station_id.as_str())
    .bind(r.kind.as_str())
    .bind(r.request_id)
    .bind(&r.request)
    .bind(&r.answer)
    .bind(&r.status)
    .bind(r.complete)
    .bind(r.requested_at)
    .bind(r.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn set_answer(
    pool: &SqlitePool,
    station: &StationId,
    kind: TrackedKind,
    request_id: i64,
    answer: &str,
    complete: bool,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE tracked_requests SET answer = ?, updated_at = ?,
            complete = CASE WHEN ? THEN 1 ELSE complete END
         WHERE station_id = ? AND kind = ? AND request_id = ?",
    )
    .bind(answer)
    .bind(Utc::now())
    .bind(complete)
    .bind(station.as_str())
    .bind(kind.as_str())
    .bind(request_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

pub(super) async fn next_request_id(
    pool: &SqlitePool,
    station: &StationId,
    kind: TrackedKind,
) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(request_id) FROM tracked_requests WHERE station_id = ? AND kind = ?",
    )
    .bind(station.as_str())
    .bind(kind.as_str())
    .fetch_one(pool)
    .await?;
    Ok(max.unwrap_or(0) + 1)
}

fn request(row: &SqliteRow) -> Result<TrackedRequest> {
    Ok(TrackedRequest {
        station_id: station_id(row, "station_id")?,
        kind: kind_of(row)?,
        request_id: row.try_get("request_id")?,
        request: row.try_get("request")?,
        answer: row.try_get("answer")?,
        status: row.try_get("status")?,
        complete: row.try_get("complete")?,
        requested_at: row.try_get("requested_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn requests(
    pool: &SqlitePool,
    station: &StationId,
    kind: TrackedKind,
    limit: u32,
) -> Result<Vec<TrackedRequest>> {
    let rows = sqlx::query(
        "SELECT * FROM tracked_requests WHERE station_id = ? AND kind = ?
         ORDER BY request_id DESC LIMIT ?",
    )
    .bind(station.as_str())
    .bind(kind.as_str())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(request).collect()
}

pub(super) async fn one(
    pool: &SqlitePool,
    station: &StationId,
    kind: TrackedKind,
    request_id: i64,
) -> Result<Option<(TrackedRequest, Vec<TrackedPart>)>> {
    let Some(row) = sqlx::query(
        "SELECT * FROM tracked_requests WHERE station_id = ? AND kind = ? AND request_id = ?",
    )
    .bind(station.as_str())
    .bind(kind.as_str())
    .bind(request_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let tracked = request(&row)?;
    let rows = sqlx::query(
        "SELECT * FROM tracked_request_parts WHERE station_id = ? AND kind = ? AND request_id = ?
         ORDER BY id",
    )
    .bind(station.as_str())
    .bind(kind.as_str())
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    let parts = rows
        .iter()
        .map(|row| {
            let status: Option<String> = row.try_get("status")?;
            Ok(TrackedPart {
                station_id: station_id(row, "station_id")?,
                kind: kind_of(row)?,
                request_id: row.try_get("request_id")?,
                seq_no: row.try_get("seq_no")?,
                tbc: row.try_get("tbc")?,
                final_status: false,
                status,
                data: row.try_get("data")?,
                received_at: row.try_get("received_at")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some((tracked, parts)))
}

pub(super) async fn put_monitor(pool: &SqlitePool, m: &VariableMonitorRecord) -> Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO variable_monitors (station_id, monitor_id, component,
            component_instance, evse_id, connector_id, variable, variable_instance, monitor_type,
            value, severity, transaction_only, origin, updated_at, cleared_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.station_id.as_str())
    .bind(m.monitor_id)
    .bind(&m.component)
    .bind(&m.component_instance)
    .bind(m.evse_id)
    .bind(m.connector_id)
    .bind(&m.variable)
    .bind(&m.variable_instance)
    .bind(&m.monitor_type)
    .bind(m.value)
    .bind(m.severity)
    .bind(m.transaction_only)
    .bind(&m.origin)
    .bind(m.updated_at)
    .bind(m.cleared_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn clear_monitors(
    pool: &SqlitePool,
    station: &StationId,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<u64> {
    super::cleared::mark_cleared(pool, "variable_monitors", "monitor_id", station, ids, at).await
}

pub(super) async fn monitors(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<VariableMonitorRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM variable_monitors WHERE station_id = ? AND cleared_at IS NULL
         ORDER BY monitor_id",
    )
    .bind(station.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(VariableMonitorRecord {
                station_id: station_id(row, "station_id")?,
                monitor_id: row.try_get("monitor_id")?,
                component: row.try_get("component")?,
                component_instance: row.try_get("component_instance")?,
                evse_id: row.try_get("evse_id")?,
                connector_id: row.try_get("connector_id")?,
                variable: row.try_get("variable")?,
                variable_instance: row.try_get("variable_instance")?,
                monitor_type: row.try_get("monitor_type")?,
                value: row.try_get("value")?,
                severity: row.try_get("severity")?,
                transaction_only: row.try_get("transaction_only")?,
                origin: row.try_get("origin")?,
                updated_at: row.try_get("updated_at")?,
                cleared_at: row.try_get("cleared_at")?,
            })
        })
        .collect()
}
