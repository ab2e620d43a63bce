//! Diameter Rf accounting sessions: kept up to date with each stored record, in the record's
//! transaction, and read for the operator API.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::{Row, SqlitePool};

use super::columns::{parse_timestamp, timestamp};
use crate::{AccountingRecordRow, AccountingSessionRow, Result, SubscriptionIdData};

/// Record types that end a session (RFC 6733 §9.8.1): 1 EVENT_RECORD, 4 STOP_RECORD.
fn closing_reason(record_type: i64) -> Option<&'static str> {
    match record_type {
        1 => Some("EVENT_RECORD"),
        4 => Some("STOP_RECORD"),
        _ => None,
    }
}

/// The session row after a newly stored record (a repeat of (Session-Id, number) never gets
/// here). A closed session stays closed: a late INTERIM after the STOP is counted, not reopened.
pub(super) fn session_after_record(conn: &Connection, r: &AccountingRecordRow) -> Result<()> {
    let subscriber = r.data.subscription_ids.first();
    let reason = closing_reason(r.record_type);
    let started = r.data.event_timestamp.unwrap_or(r.received_at);
    conn.prepare_cached(
        "INSERT INTO diameter_accounting_sessions
            (session_id, origin_host, origin_realm, subscription_id_type, subscription_id_data,
             service_context_id, first_record_number, last_record_number, records, state,
             closed_reason, started_at, last_record_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7, 1, ?8, ?9, ?10, ?11)
         ON CONFLICT (session_id) DO UPDATE SET
            subscription_id_type = COALESCE(subscription_id_type, excluded.subscription_id_type),
            subscription_id_data = COALESCE(subscription_id_data, excluded.subscription_id_data),
            service_context_id = COALESCE(service_context_id, excluded.service_context_id),
            first_record_number = MIN(first_record_number, excluded.first_record_number),
            last_record_number = excluded.last_record_number,
            records = records + 1,
            state = CASE WHEN state = 'CLOSED' THEN 'CLOSED' ELSE excluded.state END,
            closed_reason = COALESCE(closed_reason, excluded.closed_reason),
            last_record_at = MAX(last_record_at, excluded.last_record_at)",
    )?
    .execute(params![
        r.session_id,
        r.origin_host,
        r.origin_realm,
        subscriber.map(|s| s.kind.as_str()),
        subscriber.map(|s| s.data.as_str()),
        r.data.service_context_id,
        r.record_number,
        if reason.is_some() { "CLOSED" } else { "OPEN" },
        reason,
        timestamp(&started),
        timestamp(&r.received_at),
    ])?;
    Ok(())
}

/// Closes an open session that stopped reporting.
pub(super) fn close_session(
    conn: &Connection,
    session_id: &str,
    reason: &str,
    at: &DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE diameter_accounting_sessions
         SET state = 'CLOSED', closed_reason = ?2, last_record_at = MAX(last_record_at, ?3)
         WHERE session_id = ?1 AND state = 'OPEN'",
    )?
    .execute(params![session_id, reason, timestamp(at)])?;
    Ok(())
}

/// Sessions, most recently active first; `state` `OPEN` or `CLOSED` filters.
pub(super) async fn sessions(
    pool: &SqlitePool,
    state: Option<&str>,
    limit: u32,
) -> Result<Vec<AccountingSessionRow>> {
    let rows = sqlx::query(
        "SELECT * FROM diameter_accounting_sessions WHERE (?1 IS NULL OR state = ?1)
         ORDER BY last_record_at DESC, session_id LIMIT ?2",
    )
    .bind(state)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let kind: Option<String> = row.try_get("subscription_id_type")?;
            let data: Option<String> = row.try_get("subscription_id_data")?;
            let started: String = row.try_get("started_at")?;
            let last: String = row.try_get("last_record_at")?;
            Ok(AccountingSessionRow {
                session_id: row.try_get("session_id")?,
                origin_host: row.try_get("origin_host")?,
                origin_realm: row.try_get("origin_realm")?,
                subscription_id: data.map(|data| SubscriptionIdData {
                    kind: kind.unwrap_or_default(),
                    data,
                }),
                service_context_id: row.try_get("service_context_id")?,
                first_record_number: row.try_get("first_record_number")?,
                last_record_number: row.try_get("last_record_number")?,
                records: row.try_get("records")?,
                state: row.try_get("state")?,
                closed_reason: row.try_get("closed_reason")?,
                started_at: parse_timestamp(&started, "started_at")?,
                last_record_at: parse_timestamp(&last, "last_record_at")?,
            })
        })
        .collect()
}
