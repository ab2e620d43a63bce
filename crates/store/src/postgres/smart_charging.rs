//! Block K on PostgreSQL, as `sqlite/smart_charging.rs`: charging profiles, GetChargingProfiles
//! reports and composite schedules (pool writes, operator-initiated), and external limits and
//! report parts (writer: station messages committed before their answer).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{
    ChargingLimitRecord, ChargingProfileRecord, ChargingProfileReport, ChargingProfileReportPart,
    CompositeScheduleRecord, Result,
};

// --- writer side (inside the job's savepoint) ---

/// [`crate::Write::ChargingProfileReportPart`]; the last part (`tbc` false) completes the
/// report.
pub(super) async fn insert_report_part(
    conn: &mut PgConnection,
    p: &ChargingProfileReportPart,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO charging_profile_report_parts (station_id, request_id, evse_id,
            charging_limit_source, tbc, profiles, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(p.station_id.as_str())
    .bind(p.request_id)
    .bind(p.evse_id)
    .bind(&p.charging_limit_source)
    .bind(i64::from(p.tbc))
    .bind(&p.profiles)
    .bind(timestamp(&p.received_at))
    .execute(&mut *conn)
    .await?;
    if !p.tbc {
        sqlx::query(
            "UPDATE charging_profile_reports SET complete = 1
             WHERE station_id = $1 AND request_id = $2",
        )
        .bind(p.station_id.as_str())
        .bind(p.request_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// [`crate::Write::ChargingLimit`] (K12): a new notification replaces the source's limit on
/// the EVSE and un-clears it.
pub(super) async fn upsert_limit(conn: &mut PgConnection, l: &ChargingLimitRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO charging_limits (station_id, evse_id, source, is_grid_critical, schedules,
            notified_at, cleared_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL)
         ON CONFLICT (station_id, evse_id, source) DO UPDATE SET
            is_grid_critical = excluded.is_grid_critical, schedules = excluded.schedules,
            notified_at = excluded.notified_at, cleared_at = NULL",
    )
    .bind(l.station_id.as_str())
    .bind(l.evse_id)
    .bind(&l.source)
    .bind(l.is_grid_critical.map(i64::from))
    .bind(&l.schedules)
    .bind(timestamp(&l.notified_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// [`crate::Write::ChargingLimitCleared`] (K13): without an EVSE the source's limits are
/// released everywhere on the station. A release of a limit never notified is kept too, so
/// the source's state shows.
pub(super) async fn clear_limit(
    conn: &mut PgConnection,
    station: &StationId,
    evse_id: Option<i64>,
    source: &str,
    at: &DateTime<Utc>,
) -> Result<()> {
    let keep = |evse: i64| {
        sqlx::query(
            "INSERT INTO charging_limits (station_id, evse_id, source, notified_at, cleared_at)
             VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (station_id, evse_id, source)
             DO UPDATE SET cleared_at = excluded.cleared_at",
        )
        .bind(station.as_str())
        .bind(evse)
        .bind(source)
        .bind(timestamp(at))
    };
    match evse_id {
        Some(evse) => {
            keep(evse).execute(&mut *conn).await?;
        }
        None => {
            let n = sqlx::query(
                "UPDATE charging_limits SET cleared_at = $1
                 WHERE station_id = $2 AND source = $3 AND cleared_at IS NULL",
            )
            .bind(timestamp(at))
            .bind(station.as_str())
            .bind(source)
            .execute(&mut *conn)
            .await?
            .rows_affected();
            if n == 0 {
                keep(0).execute(&mut *conn).await?;
            }
        }
    }
    Ok(())
}

// --- decoders ---

fn profile(row: &PgRow) -> Result<ChargingProfileRecord> {
    Ok(ChargingProfileRecord {
        station_id: station_id(row, "station_id")?,
        profile_id: row.required_int("profile_id")?,
        evse_id: row.required_int("evse_id")?,
        stack_level: row.required_int("stack_level")?,
        purpose: row.required_text("purpose")?,
        kind: row.required_text("kind")?,
        valid_from: row.time("valid_from")?,
        valid_to: row.time("valid_to")?,
        transaction_id: row.text("transaction_id")?,
        profile: row.required_text("profile")?,
        status: row.required_text("status")?,
        status_info: row.text("status_info")?,
        sent_at: row.required_time("sent_at")?,
        answered_at: row.time("answered_at")?,
        cleared_at: row.time("cleared_at")?,
    })
}

fn report_head(row: &PgRow) -> Result<ChargingProfileReport> {
    Ok(ChargingProfileReport {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        request: row.required_text("request")?,
        status: row.text("status")?,
        complete: row.flag("complete")?,
        requested_at: row.required_time("requested_at")?,
    })
}

fn report_part(row: &PgRow) -> Result<ChargingProfileReportPart> {
    Ok(ChargingProfileReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        evse_id: row.required_int("evse_id")?,
        charging_limit_source: row.required_text("charging_limit_source")?,
        tbc: row.flag("tbc")?,
        profiles: row.required_text("profiles")?,
        received_at: row.required_time("received_at")?,
    })
}

fn composite(row: &PgRow) -> Result<CompositeScheduleRecord> {
    Ok(CompositeScheduleRecord {
        id: row.required_int("id")?,
        station_id: station_id(row, "station_id")?,
        evse_id: row.required_int("evse_id")?,
        duration: row.required_int("duration")?,
        charging_rate_unit: row.text("charging_rate_unit")?,
        status: row.required_text("status")?,
        status_info: row.text("status_info")?,
        schedule: row.text("schedule")?,
        requested_at: row.required_time("requested_at")?,
    })
}

fn limit(row: &PgRow) -> Result<ChargingLimitRecord> {
    Ok(ChargingLimitRecord {
        station_id: station_id(row, "station_id")?,
        evse_id: row.required_int("evse_id")?,
        source: row.required_text("source")?,
        is_grid_critical: row.int("is_grid_critical")?.map(|c| c != 0),
        schedules: row.text("schedules")?,
        notified_at: row.required_time("notified_at")?,
        cleared_at: row.time("cleared_at")?,
    })
}

impl PgStore {
    /// [`crate::Store::put_charging_profile`]: one with the same id replaces it (SQLite's
    /// `INSERT OR REPLACE`, K01.FR.05).
    pub async fn put_charging_profile(&self, profile: &ChargingProfileRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO charging_profiles (station_id, profile_id, evse_id, stack_level,
                purpose, kind, valid_from, valid_to, transaction_id, profile, status,
                status_info, sent_at, answered_at, cleared_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (station_id, profile_id) DO UPDATE SET evse_id = excluded.evse_id,
                stack_level = excluded.stack_level, purpose = excluded.purpose,
                kind = excluded.kind, valid_from = excluded.valid_from,
                valid_to = excluded.valid_to, transaction_id = excluded.transaction_id,
                profile = excluded.profile, status = excluded.status,
                status_info = excluded.status_info, sent_at = excluded.sent_at,
                answered_at = excluded.answered_at, cleared_at = excluded.cleared_at",
        )
        .bind(profile.station_id.as_str())
        .bind(profile.profile_id)
        .bind(profile.evse_id)
        .bind(profile.stack_level)
        .bind(&profile.purpose)
        .bind(&profile.kind)
        .bind(profile.valid_from.as_ref().map(timestamp))
        .bind(profile.valid_to.as_ref().map(timestamp))
        .bind(&profile.transaction_id)
        .bind(&profile.profile)
        .bind(&profile.status)
        .bind(&profile.status_info)
        .bind(timestamp(&profile.sent_at))
        .bind(profile.answered_at.as_ref().map(timestamp))
        .bind(profile.cleared_at.as_ref().map(timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::set_charging_profile_status`].
    pub async fn set_charging_profile_status(
        &self,
        station: &StationId,
        profile_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE charging_profiles SET status = $1, status_info = $2, answered_at = $3
             WHERE station_id = $4 AND profile_id = $5",
        )
        .bind(status)
        .bind(status_info)
        .bind(timestamp(&Utc::now()))
        .bind(station.as_str())
        .bind(profile_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// [`crate::Store::charging_profiles`]: not cleared, by id.
    pub async fn charging_profiles(
        &self,
        station: &StationId,
    ) -> Result<Vec<ChargingProfileRecord>> {
        sqlx::query(
            "SELECT * FROM charging_profiles WHERE station_id = $1 AND cleared_at IS NULL
             ORDER BY profile_id",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(profile)
        .collect()
    }

    /// [`crate::Store::clear_charging_profiles`]: one statement over every id; a profile
    /// already cleared is not counted again.
    pub async fn clear_charging_profiles(
        &self,
        station: &StationId,
        profile_ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<u64> {
        let n = sqlx::query(
            "UPDATE charging_profiles SET cleared_at = $1
             WHERE station_id = $2 AND profile_id = ANY($3) AND cleared_at IS NULL",
        )
        .bind(timestamp(&at))
        .bind(station.as_str())
        .bind(profile_ids)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n)
    }

    /// [`crate::Store::create_charging_profile_report`]. The primary key (station,
    /// requestId) refuses a second request with the same id, so two requests' parts are
    /// never mixed in one report.
    pub async fn create_charging_profile_report(
        &self,
        report: &ChargingProfileReport,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO charging_profile_reports (station_id, request_id, request, status,
                complete, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(report.station_id.as_str())
        .bind(report.request_id)
        .bind(&report.request)
        .bind(&report.status)
        .bind(i64::from(report.complete))
        .bind(timestamp(&report.requested_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::set_charging_profile_report_status`]; `NoProfiles` completes it.
    pub async fn set_charging_profile_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE charging_profile_reports
             SET status = $1, complete = CASE WHEN $1 = 'NoProfiles' THEN 1 ELSE complete END
             WHERE station_id = $2 AND request_id = $3",
        )
        .bind(status)
        .bind(station.as_str())
        .bind(request_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::next_charging_profile_request_id`]: one past the station's highest, in
    /// one statement. The id is not reserved here: the CSMS picks it and creates the report
    /// under the station's turn (`unicharge_csms::station_turn`, a cluster lease), so two nodes
    /// never pick at once; were they to, the report's primary key would refuse the second
    /// [`PgStore::create_charging_profile_report`] — an error, never two requests sharing one
    /// report. SQLite hands out ids the same way.
    pub async fn next_charging_profile_request_id(&self, station: &StationId) -> Result<i64> {
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(request_id), 0) + 1 FROM charging_profile_reports
             WHERE station_id = $1",
        )
        .bind(station.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    /// [`crate::Store::charging_profile_report`]: the request and its parts in arrival order.
    pub async fn charging_profile_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ChargingProfileReport, Vec<ChargingProfileReportPart>)>> {
        let Some(row) = sqlx::query(
            "SELECT * FROM charging_profile_reports WHERE station_id = $1 AND request_id = $2",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let parts = sqlx::query(
            "SELECT * FROM charging_profile_report_parts WHERE station_id = $1
             AND request_id = $2 ORDER BY id",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some((
            report_head(&row)?,
            parts.iter().map(report_part).collect::<Result<Vec<_>>>()?,
        )))
    }

    /// [`crate::Store::add_composite_schedule`]: returns the id the INSERT was given.
    pub async fn add_composite_schedule(&self, schedule: &CompositeScheduleRecord) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO composite_schedules (station_id, evse_id, duration,
                charging_rate_unit, status, status_info, schedule, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             RETURNING id",
        )
        .bind(schedule.station_id.as_str())
        .bind(schedule.evse_id)
        .bind(schedule.duration)
        .bind(&schedule.charging_rate_unit)
        .bind(&schedule.status)
        .bind(&schedule.status_info)
        .bind(&schedule.schedule)
        .bind(timestamp(&schedule.requested_at))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// [`crate::Store::composite_schedules`]: newest first.
    pub async fn composite_schedules(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<CompositeScheduleRecord>> {
        sqlx::query(
            "SELECT * FROM composite_schedules WHERE station_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(composite)
        .collect()
    }

    /// [`crate::Store::charging_limits`]: cleared ones too, by EVSE and source.
    pub async fn charging_limits(&self, station: &StationId) -> Result<Vec<ChargingLimitRecord>> {
        sqlx::query("SELECT * FROM charging_limits WHERE station_id = $1 ORDER BY evse_id, source")
            .bind(station.as_str())
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(limit)
            .collect()
    }
}
