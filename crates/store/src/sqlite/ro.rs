//! Diameter Ro online charging on SQLite: subscribers, tariffs, sessions and stored answers.
//! Sessions and answers are written by the writer in the CCR's batch (with its ledger
//! operations); everything else here reads, or is an operator change.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use unicharge_core::online::{OnlineTariff, Subscriber};

use super::columns::{parse_timestamp, timestamp};
use crate::ro::{RoAnswerRow, RoSessionRow};
use crate::{Result, StoreError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

/// Write a session row, guarded by its version (see [`crate::Write::RoSession`]).
pub(super) fn put_session(conn: &Connection, s: &RoSessionRow) -> Result<()> {
    let data = serde_json::to_string(&s.data).map_err(|e| corrupt("ro session data", e))?;
    let changed = if s.version <= 1 {
        conn.prepare_cached(
            "INSERT INTO ro_sessions (session_id, origin_host, origin_realm, account_id, subscriber,
                state, closed_reason, last_request_number, terminate_requested, created_at,
                updated_at, expires_at, data, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (session_id) DO NOTHING",
        )?
        .execute(params![
            s.session_id,
            s.origin_host,
            s.origin_realm,
            s.account,
            s.subscriber,
            s.state,
            s.closed_reason,
            s.last_request_number,
            s.terminate_requested,
            timestamp(&s.created_at),
            timestamp(&s.updated_at),
            timestamp(&s.expires_at),
            data,
            s.version.max(1),
        ])?
    } else {
        conn.prepare_cached(
            "UPDATE ro_sessions SET account_id = ?2, subscriber = ?3, state = ?4,
                closed_reason = ?5, last_request_number = ?6,
                terminate_requested = MAX(terminate_requested, ?7), updated_at = ?8,
                expires_at = ?9, data = ?10, version = ?11
             WHERE session_id = ?1 AND version = ?11 - 1",
        )?
        .execute(params![
            s.session_id,
            s.account,
            s.subscriber,
            s.state,
            s.closed_reason,
            s.last_request_number,
            s.terminate_requested,
            timestamp(&s.updated_at),
            timestamp(&s.expires_at),
            data,
            s.version,
        ])?
    };
    if changed == 0 {
        return Err(StoreError::Stale(format!(
            "ro session {} is no longer at version {}",
            s.session_id,
            s.version - 1
        )));
    }
    Ok(())
}

/// Keep the answer to (Session-Id, CC-Request-Number); the first one stays.
pub(super) fn put_answer(conn: &Connection, a: &RoAnswerRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO ro_answers (session_id, request_number, request_type, result_code, answer,
            answered_at)
         VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, request_number) DO NOTHING",
    )?
    .execute(params![
        a.session_id,
        a.request_number,
        a.request_type,
        a.result_code,
        a.answer,
        timestamp(&a.answered_at),
    ])?;
    Ok(())
}

fn session_row(row: &SqliteRow) -> Result<RoSessionRow> {
    let ts = |c: &str| -> Result<DateTime<Utc>> {
        let raw: String = row.try_get(c)?;
        parse_timestamp(&raw, c)
    };
    let data: String = row.try_get("data")?;
    Ok(RoSessionRow {
        session_id: row.try_get("session_id")?,
        origin_host: row.try_get("origin_host")?,
        origin_realm: row.try_get("origin_realm")?,
        account: row.try_get("account_id")?,
        subscriber: row.try_get("subscriber")?,
        state: row.try_get("state")?,
        closed_reason: row.try_get("closed_reason")?,
        last_request_number: row.try_get("last_request_number")?,
        terminate_requested: row.try_get("terminate_requested")?,
        created_at: ts("created_at")?,
        updated_at: ts("updated_at")?,
        expires_at: ts("expires_at")?,
        data: serde_json::from_str(&data).map_err(|e| corrupt("ro session data", e))?,
        version: row.try_get("version")?,
    })
}

pub(super) async fn session(pool: &SqlitePool, id: &str) -> Result<Option<RoSessionRow>> {
    sqlx::query("SELECT * FROM ro_sessions WHERE session_id = ?")
        .bind(id)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(session_row)
        .transpose()
}

/// Sessions, most recently active first; `state` `OPEN` or `CLOSED` filters.
pub(super) async fn sessions(
    pool: &SqlitePool,
    state: Option<&str>,
    limit: u32,
) -> Result<Vec<RoSessionRow>> {
    sqlx::query(
        "SELECT * FROM ro_sessions WHERE (?1 IS NULL OR state = ?1)
         ORDER BY updated_at DESC, session_id LIMIT ?2",
    )
    .bind(state)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(session_row)
    .collect()
}

/// Open sessions charged to `account` (index `ro_sessions_open_by_account`, migration 0090).
pub(super) async fn open_sessions_of(
    pool: &SqlitePool,
    account: &str,
    limit: u32,
) -> Result<Vec<RoSessionRow>> {
    sqlx::query(
        "SELECT * FROM ro_sessions WHERE account_id = ?1 AND state = 'OPEN'
         ORDER BY session_id LIMIT ?2",
    )
    .bind(account)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?
    .iter()
    .map(session_row)
    .collect()
}

/// Open sessions whose Tcc deadline is at or before `now`.
pub(super) async fn expired_sessions(
    pool: &SqlitePool,
    now: DateTime<Utc>,
) -> Result<Vec<RoSessionRow>> {
    sqlx::query("SELECT * FROM ro_sessions WHERE state = 'OPEN' AND expires_at <= ? LIMIT 1000")
        .bind(timestamp(&now))
        .fetch_all(pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
}

pub(super) async fn request_termination(pool: &SqlitePool, id: &str) -> Result<bool> {
    let r = sqlx::query(
        "UPDATE ro_sessions SET terminate_requested = 1, version = version + 1
         WHERE session_id = ? AND state = 'OPEN'",
    )
    .bind(id)
    .execute(pool)
    .await?;
    Ok(r.rows_affected() > 0)
}

/// The session and all its answers, in one statement (one snapshot, one trip to the
/// database thread): the session's columns repeat on each answer's row, NULL when absent.
pub(super) async fn session_with_answers(
    pool: &SqlitePool,
    id: &str,
) -> Result<(Option<RoSessionRow>, Vec<RoAnswerRow>)> {
    let rows = sqlx::query(
        "SELECT s.*, a.request_number, a.request_type, a.result_code, a.answer, a.answered_at
         FROM (SELECT ?1 AS sid) k
         LEFT JOIN ro_sessions s ON s.session_id = k.sid
         LEFT JOIN ro_answers a ON a.session_id = k.sid
         ORDER BY a.request_number",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut session = None;
    let mut answers = Vec::with_capacity(rows.len());
    for row in &rows {
        if session.is_none() && row.try_get::<Option<String>, _>("session_id")?.is_some() {
            session = Some(session_row(row)?);
        }
        if let Some(number) = row.try_get::<Option<i64>, _>("request_number")? {
            let at: String = row.try_get("answered_at")?;
            answers.push(RoAnswerRow {
                session_id: id.to_owned(),
                request_number: number,
                request_type: row.try_get("request_type")?,
                result_code: row.try_get("result_code")?,
                answer: row.try_get("answer")?,
                answered_at: parse_timestamp(&at, "answered_at")?,
            });
        }
    }
    Ok((session, answers))
}

fn answer_row(row: &SqliteRow) -> Result<RoAnswerRow> {
    let at: String = row.try_get("answered_at")?;
    Ok(RoAnswerRow {
        session_id: row.try_get("session_id")?,
        request_number: row.try_get("request_number")?,
        request_type: row.try_get("request_type")?,
        result_code: row.try_get("result_code")?,
        answer: row.try_get("answer")?,
        answered_at: parse_timestamp(&at, "answered_at")?,
    })
}

pub(super) async fn answer(
    pool: &SqlitePool,
    session_id: &str,
    number: i64,
) -> Result<Option<RoAnswerRow>> {
    let Some(row) =
        sqlx::query("SELECT * FROM ro_answers WHERE session_id = ? AND request_number = ?")
            .bind(session_id)
            .bind(number)
            .fetch_optional(pool)
            .await?
    else {
        return Ok(None);
    };
    answer_row(&row).map(Some)
}

pub(super) async fn put_subscriber(pool: &SqlitePool, s: &Subscriber) -> Result<()> {
    sqlx::query(
        "INSERT INTO ro_subscribers (id_type, id_data, account_id, barred) VALUES (?, ?, ?, ?)
         ON CONFLICT (id_type, id_data) DO UPDATE SET account_id = excluded.account_id,
            barred = excluded.barred",
    )
    .bind(&s.id_type)
    .bind(&s.id_data)
    .bind(&s.account)
    .bind(s.barred)
    .execute(pool)
    .await?;
    Ok(())
}

fn subscriber_row(row: &SqliteRow) -> Result<Subscriber> {
    Ok(Subscriber {
        id_type: row.try_get("id_type")?,
        id_data: row.try_get("id_data")?,
        account: row.try_get("account_id")?,
        barred: row.try_get("barred")?,
    })
}

pub(super) async fn subscriber(
    pool: &SqlitePool,
    id_type: &str,
    id_data: &str,
) -> Result<Option<Subscriber>> {
    sqlx::query("SELECT * FROM ro_subscribers WHERE id_type = ? AND id_data = ?")
        .bind(id_type)
        .bind(id_data)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(subscriber_row)
        .transpose()
}

pub(super) async fn subscribers(pool: &SqlitePool) -> Result<Vec<Subscriber>> {
    sqlx::query("SELECT * FROM ro_subscribers ORDER BY id_type, id_data")
        .fetch_all(pool)
        .await?
        .iter()
        .map(subscriber_row)
        .collect()
}

pub(super) async fn put_tariff(pool: &SqlitePool, t: &OnlineTariff) -> Result<()> {
    let data = serde_json::to_string(t).map_err(|e| corrupt("ro tariff", e))?;
    sqlx::query(
        "INSERT INTO ro_tariffs (id, data) VALUES (?, ?)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data",
    )
    .bind(&t.id)
    .bind(data)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn tariffs(pool: &SqlitePool) -> Result<Vec<OnlineTariff>> {
    sqlx::query("SELECT data FROM ro_tariffs ORDER BY id")
        .fetch_all(pool)
        .await?
        .iter()
        .map(|row| {
            let data: String = row.try_get("data")?;
            serde_json::from_str(&data).map_err(|e| corrupt("ro tariff", e))
        })
        .collect()
}
