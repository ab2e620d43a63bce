//! SQLite side of block K: charging profiles, GetChargingProfiles reports, composite schedules
//! (pool writes, operator-initiated) and external limits and report parts (writer, station
//! messages committed before their answer).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use super::columns::{station_id, timestamp};
use crate::{
    ChargingLimitRecord, ChargingProfileRecord, ChargingProfileReport, ChargingProfileReportPart,
    CompositeScheduleRecord, Result,
};

// --- writer side ---

pub(super) fn insert_report_part(conn: &Connection, p: &ChargingProfileReportPart) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO charging_profile_report_parts (station_id, request_id, evse_id,
            charging_limit_source, tbc, profiles, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        p.station_id.as_str(),
        p.request_id,
        p.evse_id,
        p.charging_limit_source,
        i64::from(p.tbc),
        p.profiles,
        timestamp(&p.received_at),
    ])?;
    if !p.tbc {
        conn.prepare_cached(
            "UPDATE charging_profile_reports SET complete = 1 WHERE station_id = ? AND request_id = ?",
        )?
        .execute(params![p.station_id.as_str(), p.request_id])?;
    }
    Ok(())
}

pub(super) fn upsert_limit(conn: &Connection, l: &ChargingLimitRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO charging_limits (station_id, evse_id, source, is_grid_critical, schedules,
            notified_at, cleared_at)
         VALUES (?, ?, ?, ?, ?, ?, NULL)
         ON CONFLICT (station_id, evse_id, source) DO UPDATE SET
            is_grid_critical = excluded.is_grid_critical, schedules = excluded.schedules,
            notified_at = excluded.notified_at, cleared_at = NULL",
    )?
    .execute(params![
        l.station_id.as_str(),
        l.evse_id,
        l.source,
        l.is_grid_critical.map(i64::from),
        l.schedules,
        timestamp(&l.notified_at),
    ])?;
    Ok(())
}

pub(super) fn clear_limit(
    conn: &Connection,
    station: &StationId,
    evse_id: Option<i64>,
    source: &str,
    at: &DateTime<Utc>,
) -> Result<()> {
    // K13: a release without an EVSE releases the source's limits everywhere on the station.
    // A release of a limit the CSMS never heard of is kept too, so the source's state shows.
    match evse_id {
        Some(evse) => {
            conn.prepare_cached(
                "INSERT INTO charging_limits (station_id, evse_id, source, notified_at, cleared_at)
                 VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (station_id, evse_id, source) DO UPDATE SET cleared_at = excluded.cleared_at",
            )?
            .execute(params![station.as_str(), evse, source, timestamp(at), timestamp(at)])?;
        }
        None => {
            let n = conn
                .prepare_cached(
                    "UPDATE charging_limits SET cleared_at = ?
                     WHERE station_id = ? AND source = ? AND cleared_at IS NULL",
                )?
                .execute(params![timestamp(at), station.as_str(), source])?;
            if n == 0 {
                conn.prepare_cached(
                    "INSERT INTO charging_limits (station_id, evse_id, source, notified_at, cleared_at)
                     VALUES (?, 0, ?, ?, ?)
                     ON CONFLICT (station_id, evse_id, source) DO UPDATE SET cleared_at = excluded.cleared_at",
                )?
                .execute(params![station.as_str(), source, timestamp(at), timestamp(at)])?;
            }
        }
    }
    Ok(())
}

// --- pool side ---

pub(super) async fn put_profile(pool: &SqlitePool, p: &ChargingProfileRecord) -> Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO charging_profiles (station_id, profile_id, evse_id, stack_level,
            purpose, kind, valid_from, valid_to, transaction_id, profile, status, status_info,
            sent_at, answered_at, cleared_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(p.station_id.as_str())
    .bind(p.profile_id)
    .bind(p.evse_id)
    .bind(p.stack_level)
    .bind(&p.purpose)
    .bind(&p.kind)
    .bind(p.valid_from)
    .bind(p.valid_to)
    .bind(&p.transaction_id)
    .bind(&p.profile)
    .bind(&p.status)
    .bind(&p.status_info)
    .bind(p.sent_at)
    .bind(p.answered_at)
    .bind(p.cleared_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn set_profile_status(
    pool: &SqlitePool,
    station: &StationId,
    profile_id: i64,
    status: &str,
    status_info: Option<&str>,
) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE charging_profiles SET status = ?, status_info = ?, answered_at = ?
         WHERE station_id = ? AND profile_id = ?",
    )
    .bind(status)
    .bind(status_info)
    .bind(Utc::now())
    .bind(station.as_str())
    .bind(profile_id)
    .execute(pool)
    .await?
    .rows_affected();
    Ok(n > 0)
}

fn profile(row: &SqliteRow) -> Result<ChargingProfileRecord> {
    Ok(ChargingProfileRecord {
        station_id: station_id(row, "station_id")?,
        profile_id: row.try_get("profile_id")?,
        evse_id: row.try_get("evse_id")?,
        stack_level: row.try_get("stack_level")?,
        purpose: row.try_get("purpose")?,
        kind: row.try_get("kind")?,
        valid_from: row.try_get("valid_from")?,
        valid_to: row.try_get("valid_to")?,
        transaction_id: row.try_get("transaction_id")?,
        profile: row.try_get("profile")?,
        status: row.try_get("status")?,
        status_info: row.try_get("status_info")?,
        sent_at: row.try_get("sent_at")?,
        answered_at: row.try_get("answered_at")?,
        cleared_at: row.try_get("cleared_at")?,
    })
}

pub(super) async fn profiles(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<ChargingProfileRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM charging_profiles WHERE station_id = ? AND cleared_at IS NULL
         ORDER BY profile_id",
    )
    .bind(station.as_str())
    .fetch_all(pool)
    .await?;
    rows.iter().map(profile).collect()
}

pub(super) async fn clear_profiles(
    pool: &SqlitePool,
    station: &StationId,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<u64> {
    super::cleared::mark_cleared(pool, "charging_profiles", "profile_id", station, ids, at).await
}

pub(super) async fn create_report(pool: &SqlitePool, r: &ChargingProfileReport) -> Result<()> {
    sqlx::query(
        "INSERT INTO charging_profile_reports (station_id, request_id, request, status, complete,
            requested_at)
         VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(r.station_id.as_str())
    .bind(r.request_id)
    .bind(&r.request)
    .bind(&r.status)
    .bind(r.complete)
    .bind(r.requested_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn set_report_status(
    pool: &SqlitePool,
    station: &StationId,
    request_id: i64,
    status: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE charging_profile_reports
         SET status = ?, complete = CASE WHEN ? = 'NoProfiles' THEN 1 ELSE complete END
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

pub(super) async fn next_request_id(pool: &SqlitePool, station: &StationId) -> Result<i64> {
    let max: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(request_id) FROM charging_profile_reports WHERE station_id = ?",
    )
    .bind(station.as_str())
    .fetch_one(pool)
    .await?;
    Ok(max.unwrap_or(0) + 1)
}

pub(super) async fn report(
    pool: &SqlitePool,
    station: &StationId,
    request_id: i64,
) -> Result<Option<(ChargingProfileReport, Vec<ChargingProfileReportPart>)>> {
    super::parts::with_parts(
        pool,
        "charging_profile_reports",
        "charging_profile_report_parts",
        station,
        request_id,
        report_head,
        report_part,
    )
    .await
}

fn report_head(row: &SqliteRow) -> Result<ChargingProfileReport> {
    Ok(ChargingProfileReport {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        request: row.try_get("request")?,
        status: row.try_get("status")?,
        complete: row.try_get("complete")?,
        requested_at: row.try_get("requested_at")?,
    })
}

fn report_part(row: &SqliteRow) -> Result<ChargingProfileReportPart> {
    Ok(ChargingProfileReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        evse_id: row.try_get("evse_id")?,
        charging_limit_source: row.try_get("charging_limit_source")?,
        tbc: row.try_get("tbc")?,
        profiles: row.try_get("profiles")?,
        received_at: row.try_get("received_at")?,
    })
}

pub(super) async fn add_composite(pool: &SqlitePool, c: &CompositeScheduleRecord) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO composite_schedules (station_id, evse_id, duration, charging_rate_unit,
            status, status_info, schedule, requested_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(c.station_id.as_str())
    .bind(c.evse_id)
    .bind(c.duration)
    .bind(&c.charging_rate_unit)
    .bind(&c.status)
    .bind(&c.status_info)
    .bind(&c.schedule)
    .bind(c.requested_at)
    .execute(pool)
    .await?
    .last_insert_rowid();
    Ok(id)
}

pub(super) async fn composites(
    pool: &SqlitePool,
    station: &StationId,
    limit: u32,
) -> Result<Vec<CompositeScheduleRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM composite_schedules WHERE station_id = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(station.as_str())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(CompositeScheduleRecord {
                id: row.try_get("id")?,
                station_id: station_id(row, "station_id")?,
                evse_id: row.try_get("evse_id")?,
                duration: row.try_get("duration")?,
                charging_rate_unit: row.try_get("charging_rate_unit")?,
                status: row.try_get("status")?,
                status_info: row.try_get("status_info")?,
                schedule: row.try_get("schedule")?,
                requested_at: row.try_get("requested_at")?,
            })
        })
        .collect()
}

pub(super) async fn limits(
    pool: &SqlitePool,
    station: &StationId,
) -> Result<Vec<ChargingLimitRecord>> {
    let rows =
        sqlx::query("SELECT * FROM charging_limits WHERE station_id = ? ORDER BY evse_id, source")
            .bind(station.as_str())
            .fetch_all(pool)
            .await?;
    rows.iter()
        .map(|row| {
            let critical: Option<i64> = row.try_get("is_grid_critical")?;
            Ok(ChargingLimitRecord {
                station_id: station_id(row, "station_id")?,
                evse_id: row.try_get("evse_id")?,
                source: row.try_get("source")?,
                is_grid_critical: critical.map(|c| c != 0),
                schedules: row.try_get("schedules")?,
                notified_at: row.try_get("notified_at")?,
                cleared_at: row.try_get("cleared_at")?,
            })
        })
        .collect()
}
