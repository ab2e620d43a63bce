//! Blocks L and N on PostgreSQL, as `sqlite/tracked.rs` stores them: tracked requests
//! (operator-initiated, pool writes), their parts and the monitors reported (writer, station
//! messages committed before their answer).

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{Result, StoreError, TrackedKind, TrackedPart, TrackedRequest, VariableMonitorRecord};

const UPSERT_MONITOR: &str = "INSERT INTO variable_monitors (station_id, monitor_id, component,
        component_instance, evse_id, connector_id, variable, variable_instance, monitor_type,
        value, severity, transaction_only, origin, updated_at, cleared_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
     ON CONFLICT (station_id, monitor_id) DO UPDATE SET component = excluded.component,
        component_instance = excluded.component_instance, evse_id = excluded.evse_id,
        connector_id = excluded.connector_id, variable = excluded.variable,
        variable_instance = excluded.variable_instance, monitor_type = excluded.monitor_type,
        value = excluded.value, severity = excluded.severity,
        transaction_only = excluded.transaction_only, origin = excluded.origin,
        updated_at = excluded.updated_at, cleared_at = excluded.cleared_at";

// --- writer side (inside the job's savepoint) ---

pub(super) async fn insert_part(conn: &mut PgConnection, p: &TrackedPart) -> Result<()> {
    sqlx::query(
        "INSERT INTO tracked_request_parts (station_id, kind, request_id, seq_no, tbc, status,
            data, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(p.station_id.as_str())
    .bind(p.kind.as_str())
    .bind(p.request_id)
    .bind(p.seq_no)
    .bind(i64::from(p.tbc))
    .bind(&p.status)
    .bind(&p.data)
    .bind(timestamp(&p.received_at))
    .execute(&mut *conn)
    .await?;
    let complete = p.final_status || (p.status.is_none() && !p.tbc);
    sqlx::query(
        "UPDATE tracked_requests SET status = COALESCE($1, status),
            complete = CASE WHEN $2 THEN 1 ELSE complete END, updated_at = $3
         WHERE station_id = $4 AND kind = $5 AND request_id = $6",
    )
    .bind(&p.status)
    .bind(complete)
    .bind(timestamp(&p.received_at))
    .bind(p.station_id.as_str())
    .bind(p.kind.as_str())
    .bind(p.request_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn upsert_monitor(
    conn: &mut PgConnection,
    m: &VariableMonitorRecord,
) -> Result<()> {
    bind_monitor(sqlx::query(UPSERT_MONITOR), m)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

fn bind_monitor<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    m: &'q VariableMonitorRecord,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
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
        .bind(i64::from(m.transaction_only))
        .bind(&m.origin)
        .bind(timestamp(&m.updated_at))
        .bind(m.cleared_at.as_ref().map(timestamp))
}

// --- pool side ---

impl PgStore {
    pub async fn create_tracked_request(&self, r: &TrackedRequest) -> Result<()> {
        sqlx::query(
            "INSERT INTO tracked_requests (station_id, kind, request_id, request, answer, status,
                complete, requested_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.station_id.as_str())
        .bind(r.kind.as_str())
        .bind(r.request_id)
        .bind(&r.request)
        .bind(&r.answer)
        .bind(&r.status)
        .bind(i64::from(r.complete))
        .bind(timestamp(&r.requested_at))
        .bind(timestamp(&r.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn set_tracked_answer(
        &self,
        station: &StationId,
        kind: TrackedKind,
        request_id: i64,
        answer: &str,
        complete: bool,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE tracked_requests SET answer = $1, updated_at = $2,
                complete = CASE WHEN $3 THEN 1 ELSE complete END
             WHERE station_id = $4 AND kind = $5 AND request_id = $6",
        )
        .bind(answer)
        .bind(timestamp(&Utc::now()))
        .bind(complete)
        .bind(station.as_str())
        .bind(kind.as_str())
        .bind(request_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// One more than the highest requestId used. The CSMS asks and records the request under
    /// the station's turn (`unicharge_csms::station_turn`, a cluster lease), so two nodes never
    /// ask at once; were they to, the primary key would refuse the second
    /// `create_tracked_request`: a request is never recorded twice under one id.
    pub async fn next_tracked_request_id(
        &self,
        station: &StationId,
        kind: TrackedKind,
    ) -> Result<i64> {
        let max: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(request_id) FROM tracked_requests WHERE station_id = $1 AND kind = $2",
        )
        .bind(station.as_str())
        .bind(kind.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(max.unwrap_or(0) + 1)
    }

    pub async fn tracked_requests(
        &self,
        station: &StationId,
        kind: TrackedKind,
        limit: u32,
    ) -> Result<Vec<TrackedRequest>> {
        let rows = sqlx::query(
            "SELECT * FROM tracked_requests WHERE station_id = $1 AND kind = $2
             ORDER BY request_id DESC LIMIT $3",
        )
        .bind(station.as_str())
        .bind(kind.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(request).collect()
    }

    pub async fn tracked_request(
        &self,
        station: &StationId,
        kind: TrackedKind,
        request_id: i64,
    ) -> Result<Option<(TrackedRequest, Vec<TrackedPart>)>> {
        let Some(row) = sqlx::query(
            "SELECT * FROM tracked_requests
             WHERE station_id = $1 AND kind = $2 AND request_id = $3",
        )
        .bind(station.as_str())
        .bind(kind.as_str())
        .bind(request_id)
        .fetch_optional(&self.pool)
        .await?
        else {
            return Ok(None);
        };
        let tracked = request(&row)?;
        let rows = sqlx::query(
            "SELECT * FROM tracked_request_parts
             WHERE station_id = $1 AND kind = $2 AND request_id = $3 ORDER BY id",
        )
        .bind(station.as_str())
        .bind(kind.as_str())
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        let parts = rows.iter().map(part).collect::<Result<Vec<_>>>()?;
        Ok(Some((tracked, parts)))
    }

    pub async fn put_variable_monitor(&self, m: &VariableMonitorRecord) -> Result<()> {
        bind_monitor(sqlx::query(UPSERT_MONITOR), m)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn clear_variable_monitors(
        &self,
        station: &StationId,
        monitor_ids: &[i64],
        at: DateTime<Utc>,
    ) -> Result<u64> {
        super::cleared::mark_cleared(
            &self.pool,
            "variable_monitors",
            "monitor_id",
            station,
            monitor_ids,
            at,
        )
        .await
    }

    pub async fn variable_monitors(
        &self,
        station: &StationId,
    ) -> Result<Vec<VariableMonitorRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM variable_monitors WHERE station_id = $1 AND cleared_at IS NULL
             ORDER BY monitor_id",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(monitor).collect()
    }
}

fn kind_of(row: &PgRow) -> Result<TrackedKind> {
    let raw = row.required_text("kind")?;
    TrackedKind::parse(&raw).ok_or_else(|| StoreError::Corrupt(format!("tracked kind {raw}")))
}

fn request(row: &PgRow) -> Result<TrackedRequest> {
    Ok(TrackedRequest {
        station_id: station_id(row, "station_id")?,
        kind: kind_of(row)?,
        request_id: row.required_int("request_id")?,
        request: row.required_text("request")?,
        answer: row.text("answer")?,
        status: row.text("status")?,
        complete: row.flag("complete")?,
        requested_at: row.required_time("requested_at")?,
        updated_at: row.required_time("updated_at")?,
    })
}

fn part(row: &PgRow) -> Result<TrackedPart> {
    Ok(TrackedPart {
        station_id: station_id(row, "station_id")?,
        kind: kind_of(row)?,
        request_id: row.required_int("request_id")?,
        seq_no: row.int("seq_no")?,
        tbc: row.flag("tbc")?,
        final_status: false,
        status: row.text("status")?,
        data: row.required_text("data")?,
        received_at: row.required_time("received_at")?,
    })
}

fn monitor(row: &PgRow) -> Result<VariableMonitorRecord> {
    use sqlx::Row;
    Ok(VariableMonitorRecord {
        station_id: station_id(row, "station_id")?,
        monitor_id: row.required_int("monitor_id")?,
        component: row.required_text("component")?,
        component_instance: row.text("component_instance")?,
        evse_id: row.int("evse_id")?,
        connector_id: row.int("connector_id")?,
        variable: row.required_text("variable")?,
        variable_instance: row.text("variable_instance")?,
        monitor_type: row.required_text("monitor_type")?,
        value: row.try_get("value")?,
        severity: row.required_int("severity")?,
        transaction_only: row.flag("transaction_only")?,
        origin: row.required_text("origin")?,
        updated_at: row.required_time("updated_at")?,
        cleared_at: row.time("cleared_at")?,
    })
}
