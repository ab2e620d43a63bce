//! Block O on PostgreSQL, as `sqlite/display.rs` stores it: display messages and
//! GetDisplayMessages reports (pool writes, operator-initiated) and the report parts (writer,
//! station messages committed before their answer).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{DisplayMessageRecord, DisplayMessageReport, DisplayMessageReportPart, Result};

// --- writer side (inside the job's savepoint) ---

pub(super) async fn insert_report_part(
    conn: &mut PgConnection,
    p: &DisplayMessageReportPart,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO display_message_report_parts (station_id, request_id, tbc, messages,
            received_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(p.station_id.as_str())
    .bind(p.request_id)
    .bind(i64::from(p.tbc))
    .bind(&p.messages)
    .bind(timestamp(&p.received_at))
    .execute(&mut *conn)
    .await?;
    if !p.tbc {
        sqlx::query(
            "UPDATE display_message_reports SET complete = 1
             WHERE station_id = $1 AND request_id = $2",
        )
        .bind(p.station_id.as_str())
        .bind(p.request_id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// --- pool side ---

impl PgStore {
    pub async fn put_display_message(&self, m: &DisplayMessageRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO display_messages (station_id, message_id, priority, state,
                transaction_id, start_at, end_at, message, status, status_info, sent_at,
                answered_at, cleared_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
             ON CONFLICT (station_id, message_id) DO UPDATE SET priority = excluded.priority,
                state = excluded.state, transaction_id = excluded.transaction_id,
                start_at = excluded.start_at, end_at = excluded.end_at,
                message = excluded.message, status = excluded.status,
                status_info = excluded.status_info, sent_at = excluded.sent_at,
                answered_at = excluded.answered_at, cleared_at = excluded.cleared_at",
        )
        .bind(m.station_id.as_str())
        .bind(m.message_id)
        .bind(&m.priority)
        .bind(&m.state)
        .bind(&m.transaction_id)
        .bind(m.start_at.as_ref().map(timestamp))
        .bind(m.end_at.as_ref().map(timestamp))
        .bind(&m.message)
        .bind(&m.status)
        .bind(&m.status_info)
        .bind(timestamp(&m.sent_at))
        .bind(m.answered_at.as_ref().map(timestamp))
        .bind(m.cleared_at.as_ref().map(timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_display_message_status(
        &self,
        station: &StationId,
        message_id: i64,
        status: &str,
        status_info: Option<&str>,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE display_messages SET status = $1, status_info = $2, answered_at = $3
             WHERE station_id = $4 AND message_id = $5",
        )
        .bind(status)
        .bind(status_info)
        .bind(timestamp(&Utc::now()))
        .bind(station.as_str())
        .bind(message_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    pub async fn display_messages(&self, station: &StationId) -> Result<Vec<DisplayMessageRecord>> {
        let rows =
            sqlx::query("SELECT * FROM display_messages WHERE station_id = $1 ORDER BY message_id")
                .bind(station.as_str())
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(message).collect()
    }

    pub async fn clear_display_message(
        &self,
        station: &StationId,
        message_id: i64,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let n = super::cleared::mark_cleared(
            &self.pool,
            "display_messages",
            "message_id",
            station,
            &[message_id],
            at,
        )
        .await?;
        Ok(n > 0)
    }

    /// One statement picks the next requestId; two nodes racing for the same station collide
    /// on the primary key instead of sharing an id, and the loser takes the next number.
    pub async fn create_display_message_report(&self, r: &DisplayMessageReport) -> Result<i64> {
        super::unique_retry(|| async {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO display_message_reports (station_id, request_id, request, status,
                    complete, requested_at)
                 VALUES ($1, (SELECT COALESCE(MAX(request_id), 0) + 1
                              FROM display_message_reports WHERE station_id = $1),
                         $2, $3, $4, $5)
                 RETURNING request_id",
            )
            .bind(r.station_id.as_str())
            .bind(&r.request)
            .bind(&r.status)
            .bind(i64::from(r.complete))
            .bind(timestamp(&r.requested_at))
            .fetch_one(&self.pool)
            .await?;
            Ok(id)
        })
        .await
    }

    pub async fn set_display_message_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE display_message_reports
             SET status = $1, complete = CASE WHEN $1 = 'Unknown' THEN 1 ELSE complete END
             WHERE station_id = $2 AND request_id = $3",
        )
        .bind(status)
        .bind(station.as_str())
        .bind(request_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn display_message_report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(DisplayMessageReport, Vec<DisplayMessageReportPart>)>> {
        let Some(head) = sqlx::query(
            "SELECT * FROM display_message_reports WHERE station_id = $1 AND request_id = $2",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let parts = sqlx::query(
            "SELECT * FROM display_message_report_parts
             WHERE station_id = $1 AND request_id = $2 ORDER BY id",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(Some((
            report_head(&head)?,
            parts.iter().map(report_part).collect::<Result<_>>()?,
        )))
    }
}

fn message(row: &PgRow) -> Result<DisplayMessageRecord> {
    Ok(DisplayMessageRecord {
        station_id: station_id(row, "station_id")?,
        message_id: row.required_int("message_id")?,
        priority: row.required_text("priority")?,
        state: row.text("state")?,
        transaction_id: row.text("transaction_id")?,
        start_at: row.time("start_at")?,
        end_at: row.time("end_at")?,
        message: row.required_text("message")?,
        status: row.required_text("status")?,
        status_info: row.text("status_info")?,
        sent_at: row.required_time("sent_at")?,
        answered_at: row.time("answered_at")?,
        cleared_at: row.time("cleared_at")?,
    })
}

fn report_head(row: &PgRow) -> Result<DisplayMessageReport> {
    Ok(DisplayMessageReport {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        request: row.required_text("request")?,
        status: row.text("status")?,
        complete: row.flag("complete")?,
        requested_at: row.required_time("requested_at")?,
    })
}

fn report_part(row: &PgRow) -> Result<DisplayMessageReportPart> {
    Ok(DisplayMessageReportPart {
        station_id: station_id(row, "station_id")?,
        request_id: row.required_int("request_id")?,
        tbc: row.flag("tbc")?,
        messages: row.required_text("messages")?,
        received_at: row.required_time("received_at")?,
    })
}
