//! SQLite side of block O: display messages and GetDisplayMessages reports (pool writes,
//! operator-initiated) and the report parts (writer, station messages committed before their
//! answer).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use super::columns::{station_id, timestamp};
use crate::{DisplayMessageRecord, DisplayMessageReport, DisplayMessageReportPart, Result};

// --- writer side ---

pub(super) fn insert_report_part(conn: &Connection, p: &DisplayMessageReportPart) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO display_message_report_parts (station_id, request_id, tbc, messages,
            received_at)
         VALUES (?, ?, ?, ?, ?)",
    )?
    .execute(params![
        p.station_id.as_str(),
        p.request_id,
        i64::from(p.tbc),
        p.messages,
        timestamp(&p.received_at),
    ])?;
    if !p.tbc {
        conn.prepare_cached(
            "UPDATE display_message_reports SET complete = 1 WHERE station_id = ? AND request_id = ?",
        )?
        .execute(params![p.station_id.as_str(), p.request_id])?;
    }
    Ok(())
}

// --- pool side ---

pub(super) async fn put_message(pool: &SqlitePool, m: &DisplayMessageRecord) -> Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO display_messages (station_id, message_id, priority, state,
            transaction_id, start_at, end_at, message, status, status_info, sent_at, answered_at,
            cleared_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(m.station_id.as_str())
    .bind(m.message_id)
    .bind(&m.priority)
    .bind(&m.state)
    .bind(&m.transaction_id)
    .bind(m.start_at)
    .bind(m.end_at)
    .bind(&m.message)
    .bind(&m.status)
    .bind(&m.status_info)
    .bind(m.sent_at)
    .bind(m.answered_at)
    .bind(m.cleared_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn set_message_status(
    pool: &SqlitePool,
    station: &StationId,
    message_id: i64,
    status: &str,
    status_info: Option<&str>,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE display_messages SET status = ?, status_info = ?, answered_at = ?
         WHERE station_id = ? AND message_id = ?",
    )
    .bind(status)
    .bind(status_info)
    .bind(Utc::now())
    .bind(station.as_str())
    .bind(message_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

fn message(row: &SqliteRow) -> Result<DisplayMessageRecord> {
    Ok(DisplayMessageRecord {
        station_id: station_id(row, "station_id")?,
        message_id: row.try_get("message_id")?,
        priority: row.try_get("priority")?,
        state: row.try_get("state")?,
        transaction_id: row.try_get("transaction_id")?,
        start_at: row.try_get("start_at")?,
        end_at: row.try_get("end_at")?,
        message: row.try_get("message")?,
        status: row.try_get("status")?,
        status_info: row.try_get("status_info")?,
        sent_at: row.try_get("sent_at")?,
        answered_at: row.try_get("answered_at")?,
        cleared_at: row.try_get("cleared_at")?,
    })
}

pub(super) async fn messages(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<DisplayMessageRecord>> {
    let rows =
        sqlx::query("SELECT * FROM display_messages WHERE station_id = ? ORDER BY message_id")
            .bind(station.as_str())
            .fetch_all(pool)
            .await?;
    rows.iter().map(message).collect()
}

pub(super) async fn clear_message(
    pool: &SqlitePool,
    station: &StationId,
    message_id: i64,
    at: DateTime<Utc>,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE display_messages SET cleared_at = ?
         WHERE station_id = ? AND message_id = ? AND cleared_at IS NULL",
    )
    .bind(at)
    .bind(station.as_str())
    .bind(message_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

pub(super) async fn create_report(pool: &SqlitePool, r: &DisplayMessageReport) -> Result<i64> {
    // One statement: two concurrent requests never get the same requestId.
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO display_message_reports (station_id, request_id, request, status, complete,
            requested_at)
         VALUES (?1, (SELECT COALESCE(MAX(request_id), 0) + 1 FROM display_message_reports
                      WHERE station_id = ?1), ?2, ?3, ?4, ?5)
         RETURNING request_id",
    )
    .bind(r.station_id.as_str())
    .bind(&r.request)
    .bind(&r.status)
    .bind(r.complete)
    .bind(r.requested_at)
    .fetch_one(pool)
    .await?;
    Ok(id)
}

pub(super) async fn set_report_status(
    pool: &SqlitePool,
    station: &StationId,
    request_id: i64,
    status: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE display_message_reports
         SET status = ?, complete = CASE WHEN ? = 'Unknown' THEN 1 ELSE complete END
         WHERE station_id = ? AND request_id = ?",
    )
    .bind(status)
    .bind(status)
    .bind(station.as_str())
    .bind(request_id)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn report(
    pool: &SqlitePool,
    station: &StationId,
    request_id: i64,
) -> Result<Option<(DisplayMessageReport, Vec<DisplayMessageReportPart>)>> {
    super::parts::with_parts(
        pool,
        "display_message_reports",
        "display_message_report_parts",
        station,
        request_id,
        report_head,
        report_part,
    )
    .await
}

fn report_head(row: &SqliteRow) -> Result<DisplayMessageReport> {
    Ok(DisplayMessageReport {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        request: row.try_get("request")?,
        status: row.try_get("status")?,
        complete: row.try_get("complete")?,
        requested_at: row.try_get("requested_at")?,
    })
}

fn report_part(row: &SqliteRow) -> Result<DisplayMessageReportPart> {
    Ok(DisplayMessageReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        tbc: row.try_get("tbc")?,
        messages: row.try_get("messages")?,
        received_at: row.try_get("received_at")?,
    })
}
