//! Rollout campaigns and uploaded log files on PostgreSQL, as `sqlite/campaigns.rs` stores
//! them (pool writes: operator- or campaign-initiated, not station messages).

use chrono::Utc;
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{CampaignRecord, CampaignStationRecord, LogFileRecord, Result};

impl PgStore {
    // --- log files ---

    pub async fn add_log_file(&self, f: &LogFileRecord) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO log_files (station_id, request_id, filename, content_type, size, sha256,
                path, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(f.station_id.as_str())
        .bind(f.request_id)
        .bind(&f.filename)
        .bind(&f.content_type)
        .bind(f.size)
        .bind(&f.sha256)
        .bind(&f.path)
        .bind(timestamp(&f.uploaded_at))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn log_files(&self, station: &StationId, limit: u32) -> Result<Vec<LogFileRecord>> {
        let rows =
            sqlx::query("SELECT * FROM log_files WHERE station_id = $1 ORDER BY id DESC LIMIT $2")
                .bind(station.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(log_file).collect()
    }

    pub async fn log_file(&self, id: i64) -> Result<Option<LogFileRecord>> {
        let row = sqlx::query("SELECT * FROM log_files WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(log_file).transpose()
    }

    // --- campaigns ---

    /// Insert the campaign and its stations in one transaction; returns the campaign's id.
    pub async fn create_campaign(
        &self,
        c: &CampaignRecord,
        stations: &[CampaignStationRecord],
    ) -> Result<i64> {
        let mut tx = self.pool.begin().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO firmware_campaigns (name, state, firmware, concurrency, max_attempts,
                station_timeout_secs, created_by, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(&c.name)
        .bind(&c.state)
        .bind(&c.firmware)
        .bind(c.concurrency)
        .bind(c.max_attempts)
        .bind(c.station_timeout_secs)
        .bind(&c.created_by)
        .bind(timestamp(&c.created_at))
        .bind(timestamp(&c.updated_at))
        .fetch_one(&mut *tx)
        .await?;
        for s in stations {
            put_station_in(&mut tx, id, s).await?;
        }
        tx.commit().await?;
        Ok(id)
    }

    /// Replace the rows of these stations of a campaign (one transaction).
    pub async fn put_campaign_stations(&self, stations: &[CampaignStationRecord]) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        for s in stations {
            put_station_in(&mut tx, s.campaign_id, s).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_campaign_state(&self, id: i64, state: &str) -> Result<bool> {
        let n =
            sqlx::query("UPDATE firmware_campaigns SET state = $1, updated_at = $2 WHERE id = $3")
                .bind(state)
                .bind(timestamp(&Utc::now()))
                .bind(id)
                .execute(&self.pool)
                .await?
                .rows_affected();
        Ok(n > 0)
    }

    pub async fn campaigns(&self) -> Result<Vec<CampaignRecord>> {
        let rows = sqlx::query("SELECT * FROM firmware_campaigns ORDER BY id DESC")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(campaign).collect()
    }

    pub async fn campaign(&self, id: i64) -> Result<Option<CampaignRecord>> {
        let row = sqlx::query("SELECT * FROM firmware_campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(campaign).transpose()
    }

    pub async fn campaign_stations(&self, id: i64) -> Result<Vec<CampaignStationRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM firmware_campaign_stations WHERE campaign_id = $1 ORDER BY position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(campaign_station).collect()
    }
}

async fn put_station_in(
    conn: &mut PgConnection,
    campaign_id: i64,
    s: &CampaignStationRecord,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO firmware_campaign_stations (campaign_id, station_id, position, state,
            attempts, request_id, last_status, reason, started_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (campaign_id, station_id) DO UPDATE SET position = excluded.position,
            state = excluded.state, attempts = excluded.attempts,
            request_id = excluded.request_id, last_status = excluded.last_status,
            reason = excluded.reason, started_at = excluded.started_at,
            updated_at = excluded.updated_at",
    )
    .bind(campaign_id)
    .bind(s.station_id.as_str())
    .bind(s.position)
    .bind(&s.state)
    .bind(s.attempts)
    .bind(s.request_id)
    .bind(&s.last_status)
    .bind(&s.reason)
    .bind(s.started_at.as_ref().map(timestamp))
    .bind(timestamp(&s.updated_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn log_file(row: &PgRow) -> Result<LogFileRecord> {
    Ok(LogFileRecord {
        id: row.required_int("id")?,
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        filename: row.text("filename")?,
        content_type: row.text("content_type")?,
        size: row.required_int("size")?,
        sha256: row.required_text("sha256")?,
        path: row.required_text("path")?,
        uploaded_at: row.required_time("uploaded_at")?,
    })
}

fn campaign(row: &PgRow) -> Result<CampaignRecord> {
    Ok(CampaignRecord {
        id: row.required_int("id")?,
        name: row.required_text("name")?,
        state: row.required_text("state")?,
        firmware: row.required_text("firmware")?,
        concurrency: row.required_int("concurrency")?,
        max_attempts: row.required_int("max_attempts")?,
        station_timeout_secs: row.required_int("station_timeout_secs")?,
        created_by: row.required_text("created_by")?,
        created_at: row.required_time("created_at")?,
        updated_at: row.required_time("updated_at")?,
    })
}

fn campaign_station(row: &PgRow) -> Result<CampaignStationRecord> {
    Ok(CampaignStationRecord {
        campaign_id: row.required_int("campaign_id")?,
        station_id: station_id(row, "station_id")?,
        position: row.required_int("position")?,
        state: row.required_text("state")?,
        attempts: row.required_int("attempts")?,
        request_id: row.int("request_id")?,
        last_status: row.text("last_status")?,
        reason: row.text("reason")?,
        started_at: row.time("started_at")?,
        updated_at: row.required_time("updated_at")?,
    })
}
