//! SQLite side of rollout campaigns and uploaded log files (pool writes: operator- or
//! campaign-initiated, not station messages).

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use super::columns::station_id;
use crate::{CampaignRecord, CampaignStationRecord, LogFileRecord, Result};

// --- log files ---

pub(super) async fn add_log_file(pool: &SqlitePool, f: &LogFileRecord) -> Result<i64> {
    let id = sqlx::query(
        "INSERT INTO log_files (station_id, request_id, filename, content_type, size, sha256,
            path, uploaded_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(f.station_id.as_str())
    .bind(f.request_id)
    .bind(&f.filename)
    .bind(&f.content_type)
    .bind(f.size)
    .bind(&f.sha256)
    .bind(&f.path)
    .bind(f.uploaded_at)
    .execute(pool)
    .await?
    .last_insert_rowid();
    Ok(id)
}

fn log_file(row: &SqliteRow) -> Result<LogFileRecord> {
    Ok(LogFileRecord {
        id: row.try_get("id")?,
        station_id: station_id(row, "station_id")?,
        request_id: row.try_get("request_id")?,
        filename: row.try_get("filename")?,
        content_type: row.try_get("content_type")?,
        size: row.try_get("size")?,
        sha256: row.try_get("sha256")?,
        path: row.try_get("path")?,
        uploaded_at: row.try_get("uploaded_at")?,
    })
}

pub(super) async fn log_files(
    pool: &SqlitePool,
    station: &StationId,
    limit: u32,
) -> Result<Vec<LogFileRecord>> {
    let rows = sqlx::query("SELECT * FROM log_files WHERE station_id = ? ORDER BY id DESC LIMIT ?")
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    rows.iter().map(log_file).collect()
}

pub(super) async fn log_file_by_id(pool: &SqlitePool, id: i64) -> Result<Option<LogFileRecord>> {
    let row = sqlx::query("SELECT * FROM log_files WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(log_file).transpose()
}

// --- campaigns ---

/// Insert the campaign and its stations in one transaction; returns the campaign's id.
pub(super) async fn create_campaign(
    pool: &SqlitePool,
    c: &CampaignRecord,
    stations: &[CampaignStationRecord],
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let id = sqlx::query(
        "INSERT INTO firmware_campaigns (name, state, firmware, concurrency, max_attempts,
            station_timeout_secs, created_by, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&c.name)
    .bind(&c.state)
    .bind(&c.firmware)
    .bind(c.concurrency)
    .bind(c.max_attempts)
    .bind(c.station_timeout_secs)
    .bind(&c.created_by)
    .bind(c.created_at)
    .bind(c.updated_at)
    .execute(&mut *tx)
    .await?
    .last_insert_rowid();
    for s in stations {
        put_station_in(&mut tx, id, s).await?;
    }
    tx.commit().await?;
    Ok(id)
}

async fn put_station_in(
    tx: &mut sqlx::Transaction<'_, sqlx::Sqlite>,
    campaign_id: i64,
    s: &CampaignStationRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT OR REPLACE INTO firmware_campaign_stations (campaign_id, station_id, position,
            state, attempts, request_id, last_status, reason, started_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(campaign_id)
    .bind(s.station_id.as_str())
    .bind(s.position)
    .bind(&s.state)
    .bind(s.attempts)
    .bind(s.request_id)
    .bind(&s.last_status)
    .bind(&s.reason)
    .bind(s.started_at)
    .bind(s.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Replace the rows of these stations of a campaign (one transaction).
pub(super) async fn put_campaign_stations(
    pool: &SqlitePool,
    stations: &[CampaignStationRecord],
) -> Result<()> {
    let mut tx = pool.begin().await?;
    for s in stations {
        put_station_in(&mut tx, s.campaign_id, s).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_campaign_state(pool: &SqlitePool, id: i64, state: &str) -> Result<bool> {
    let n = sqlx::query("UPDATE firmware_campaigns SET state = ?, updated_at = ? WHERE id = ?")
        .bind(state)
        .bind(chrono::Utc::now())
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n > 0)
}

fn campaign(row: &SqliteRow) -> Result<CampaignRecord> {
    Ok(CampaignRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        state: row.try_get("state")?,
        firmware: row.try_get("firmware")?,
        concurrency: row.try_get("concurrency")?,
        max_attempts: row.try_get("max_attempts")?,
        station_timeout_secs: row.try_get("station_timeout_secs")?,
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn campaigns(pool: &SqlitePool) -> Result<Vec<CampaignRecord>> {
    let rows = sqlx::query("SELECT * FROM firmware_campaigns ORDER BY id DESC")
        .fetch_all(pool)
        .await?;
    rows.iter().map(campaign).collect()
}

pub(super) async fn campaign_by_id(pool: &SqlitePool, id: i64) -> Result<Option<CampaignRecord>> {
    let row = sqlx::query("SELECT * FROM firmware_campaigns WHERE id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    row.as_ref().map(campaign).transpose()
}

fn campaign_station(row: &SqliteRow) -> Result<CampaignStationRecord> {
    Ok(CampaignStationRecord {
        campaign_id: row.try_get("campaign_id")?,
        station_id: station_id(row, "station_id")?,
        position: row.try_get("position")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        request_id: row.try_get("request_id")?,
        last_status: row.try_get("last_status")?,
        reason: row.try_get("reason")?,
        started_at: row.try_get("started_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) async fn campaign_stations(
    pool: &SqlitePool,
    id: i64,
) -> Result<Vec<CampaignStationRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM firmware_campaign_stations WHERE campaign_id = ? ORDER BY position",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    rows.iter().map(campaign_station).collect()
}
