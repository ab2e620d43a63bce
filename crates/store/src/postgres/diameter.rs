//! Diameter Rf accounting on PostgreSQL, as `sqlite/diameter.rs` and the accounting arm of
//! `sqlite/apply.rs`: each record stored once per (Session-Id, Accounting-Record-Number) and
//! its session row kept up to date in the same savepoint. The session row is one
//! `INSERT … ON CONFLICT DO UPDATE`, atomic on its own (the counts and bounds are computed
//! from the stored row, never from what a node read before), so two nodes storing records of
//! one session count both.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;

use super::PgStore;
use crate::columns::{timestamp, Columns};
use crate::{AccountingRecordRow, AccountingSessionRow, Result, StoreError, SubscriptionIdData};

/// Record types that end a session (RFC 6733 §9.8.1): 1 EVENT_RECORD, 4 STOP_RECORD.
fn closing_reason(record_type: i64) -> Option<&'static str> {
    match record_type {
        1 => Some("EVENT_RECORD"),
        4 => Some("STOP_RECORD"),
        _ => None,
    }
}

/// [`crate::Write::AccountingRecord`]: a repeat of (Session-Id, number) changes nothing.
pub(super) async fn insert_record(conn: &mut PgConnection, r: &AccountingRecordRow) -> Result<()> {
    let data = serde_json::to_string(&r.data)
        .map_err(|e| StoreError::Corrupt(format!("accounting data: {e}")))?;
    let inserted = sqlx::query(
        "INSERT INTO diameter_accounting_records
            (session_id, record_number, record_type, origin_host, origin_realm, received_at, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (session_id, record_number) DO NOTHING",
    )
    .bind(&r.session_id)
    .bind(r.record_number)
    .bind(r.record_type)
    .bind(&r.origin_host)
    .bind(&r.origin_realm)
    .bind(timestamp(&r.received_at))
    .bind(data)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted == 1 {
        session_after_record(conn, r).await?;
    }
    Ok(())
}

/// The session row after a newly stored record. A closed session stays closed: a late
/// INTERIM after the STOP is counted, not reopened.
async fn session_after_record(conn: &mut PgConnection, r: &AccountingRecordRow) -> Result<()> {
    let subscriber = r.data.subscription_ids.first();
    let reason = closing_reason(r.record_type);
    let started = r.data.event_timestamp.unwrap_or(r.received_at);
    sqlx::query(
        "INSERT INTO diameter_accounting_sessions AS s
            (session_id, origin_host, origin_realm, subscription_id_type, subscription_id_data,
             service_context_id, first_record_number, last_record_number, records, state,
             closed_reason, started_at, last_record_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1, $8, $9, $10, $11)
         ON CONFLICT (session_id) DO UPDATE SET
            subscription_id_type = COALESCE(s.subscription_id_type, excluded.subscription_id_type),
            subscription_id_data = COALESCE(s.subscription_id_data, excluded.subscription_id_data),
            service_context_id = COALESCE(s.service_context_id, excluded.service_context_id),
            first_record_number = LEAST(s.first_record_number, excluded.first_record_number),
            last_record_number = excluded.last_record_number,
            records = s.records + 1,
            state = CASE WHEN s.state = 'CLOSED' THEN 'CLOSED' ELSE excluded.state END,
            closed_reason = COALESCE(s.closed_reason, excluded.closed_reason),
            last_record_at = GREATEST(s.last_record_at, excluded.last_record_at)",
    )
    .bind(&r.session_id)
    .bind(&r.origin_host)
    .bind(&r.origin_realm)
    .bind(subscriber.map(|s| s.kind.as_str()))
    .bind(subscriber.map(|s| s.data.as_str()))
    .bind(&r.data.service_context_id)
    .bind(r.record_number)
    .bind(if reason.is_some() { "CLOSED" } else { "OPEN" })
    .bind(reason)
    .bind(timestamp(&started))
    .bind(timestamp(&r.received_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// [`crate::Write::AccountingSessionClosed`]: closes an open session that stopped reporting.
pub(super) async fn close_session(
    conn: &mut PgConnection,
    session_id: &str,
    reason: &str,
    at: &DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE diameter_accounting_sessions
         SET state = 'CLOSED', closed_reason = $2, last_record_at = GREATEST(last_record_at, $3)
         WHERE session_id = $1 AND state = 'OPEN'",
    )
    .bind(session_id)
    .bind(reason)
    .bind(timestamp(at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn record_row(row: &PgRow) -> Result<AccountingRecordRow> {
    let data = row.required_text("data")?;
    Ok(AccountingRecordRow {
        session_id: row.required_text("session_id")?,
        record_number: row.required_int("record_number")?,
        record_type: row.required_int("record_type")?,
        origin_host: row.required_text("origin_host")?,
        origin_realm: row.required_text("origin_realm")?,
        received_at: row.required_time("received_at")?,
        data: serde_json::from_str(&data)
            .map_err(|e| StoreError::Corrupt(format!("accounting data: {e}")))?,
    })
}

fn session_row(row: &PgRow) -> Result<AccountingSessionRow> {
    let kind = row.text("subscription_id_type")?;
    Ok(AccountingSessionRow {
        session_id: row.required_text("session_id")?,
        origin_host: row.required_text("origin_host")?,
        origin_realm: row.required_text("origin_realm")?,
        subscription_id: row
            .text("subscription_id_data")?
            .map(|data| SubscriptionIdData {
                kind: kind.unwrap_or_default(),
                data,
            }),
        service_context_id: row.text("service_context_id")?,
        first_record_number: row.required_int("first_record_number")?,
        last_record_number: row.required_int("last_record_number")?,
        records: row.required_int("records")?,
        state: row.required_text("state")?,
        closed_reason: row.text("closed_reason")?,
        started_at: row.required_time("started_at")?,
        last_record_at: row.required_time("last_record_at")?,
    })
}

impl PgStore {
    /// [`crate::Store::accounting_records`]: newest first, optionally of one session.
    pub async fn accounting_records(
        &self,
        session_id: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingRecordRow>> {
        sqlx::query(
            "SELECT session_id, record_number, record_type, origin_host, origin_realm,
                received_at, data
             FROM diameter_accounting_records WHERE ($1::text IS NULL OR session_id = $1)
             ORDER BY received_at DESC, record_number DESC LIMIT $2",
        )
        .bind(session_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(record_row)
        .collect()
    }

    /// [`crate::Store::accounting_sessions`]: most recently active first; `state` filters.
    pub async fn accounting_sessions(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<AccountingSessionRow>> {
        sqlx::query(
            "SELECT * FROM diameter_accounting_sessions WHERE ($1::text IS NULL OR state = $1)
             ORDER BY last_record_at DESC, session_id LIMIT $2",
        )
        .bind(state)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
    }
}
