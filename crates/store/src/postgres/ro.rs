//! Diameter Ro online charging on PostgreSQL, as `sqlite/ro.rs`: subscribers, tariffs,
//! sessions and stored answers. Sessions and answers are written by the writer in the CCR's
//! batch (with its ledger operations); everything else here reads, or is an operator change.
//!
//! Several nodes may hold sessions: a session row is written only at the version its writer
//! read (`version = new - 1` in the UPDATE's own WHERE), so of two nodes that read the same
//! version one wins and the other gets [`StoreError::Stale`]; the statement is atomic on its
//! own, without SQLite's single writer.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use unicharge_core::online::{OnlineTariff, Subscriber};

use super::PgStore;
use crate::columns::{timestamp, Columns};
use crate::ro::{RoAnswerRow, RoSessionRow};
use crate::{Result, StoreError};

fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {e}"))
}

// --- writer side (inside the job's savepoint) ---

/// Write a session row, guarded by its version (see [`crate::Write::RoSession`]).
pub(super) async fn put_session(conn: &mut PgConnection, s: &RoSessionRow) -> Result<()> {
    let data = serde_json::to_string(&s.data).map_err(|e| corrupt("ro session data", e))?;
    let changed = if s.version <= 1 {
        sqlx::query(
            "INSERT INTO ro_sessions (session_id, origin_host, origin_realm, account_id,
                subscriber, state, closed_reason, last_request_number, terminate_requested,
                created_at, updated_at, expires_at, data, version)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(&s.session_id)
        .bind(&s.origin_host)
        .bind(&s.origin_realm)
        .bind(&s.account)
        .bind(&s.subscriber)
        .bind(&s.state)
        .bind(&s.closed_reason)
        .bind(s.last_request_number)
        .bind(i64::from(s.terminate_requested))
        .bind(timestamp(&s.created_at))
        .bind(timestamp(&s.updated_at))
        .bind(timestamp(&s.expires_at))
        .bind(data)
        .bind(s.version.max(1))
        .execute(&mut *conn)
        .await?
        .rows_affected()
    } else {
        sqlx::query(
            "UPDATE ro_sessions SET account_id = $2, subscriber = $3, state = $4,
                closed_reason = $5, last_request_number = $6,
                terminate_requested = GREATEST(terminate_requested, $7), updated_at = $8,
                expires_at = $9, data = $10, version = $11
             WHERE session_id = $1 AND version = $11 - 1",
        )
        .bind(&s.session_id)
        .bind(&s.account)
        .bind(&s.subscriber)
        .bind(&s.state)
        .bind(&s.closed_reason)
        .bind(s.last_request_number)
        .bind(i64::from(s.terminate_requested))
        .bind(timestamp(&s.updated_at))
        .bind(timestamp(&s.expires_at))
        .bind(data)
        .bind(s.version)
        .execute(&mut *conn)
        .await?
        .rows_affected()
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
pub(super) async fn put_answer(conn: &mut PgConnection, a: &RoAnswerRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO ro_answers (session_id, request_number, request_type, result_code, answer,
            answered_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (session_id, request_number) DO NOTHING",
    )
    .bind(&a.session_id)
    .bind(a.request_number)
    .bind(a.request_type)
    .bind(a.result_code)
    .bind(&a.answer)
    .bind(timestamp(&a.answered_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- decoders (PostgreSQL integers are BIGINT: flags read through `Columns::flag`) ---

fn session_row(row: &PgRow) -> Result<RoSessionRow> {
    let data = row.required_text("data")?;
    Ok(RoSessionRow {
        session_id: row.required_text("session_id")?,
        origin_host: row.required_text("origin_host")?,
        origin_realm: row.required_text("origin_realm")?,
        account: row.text("account_id")?,
        subscriber: row.text("subscriber")?,
        state: row.required_text("state")?,
        closed_reason: row.text("closed_reason")?,
        last_request_number: row.required_int("last_request_number")?,
        terminate_requested: row.flag("terminate_requested")?,
        created_at: row.required_time("created_at")?,
        updated_at: row.required_time("updated_at")?,
        expires_at: row.required_time("expires_at")?,
        data: serde_json::from_str(&data).map_err(|e| corrupt("ro session data", e))?,
        version: row.required_int("version")?,
    })
}

fn answer_row(row: &PgRow, session_id: &str) -> Result<RoAnswerRow> {
    Ok(RoAnswerRow {
        session_id: session_id.to_owned(),
        request_number: row.required_int("request_number")?,
        request_type: row.required_int("request_type")?,
        result_code: row.required_int("result_code")?,
        answer: row.try_get("answer")?,
        answered_at: row.required_time("answered_at")?,
    })
}

fn subscriber_row(row: &PgRow) -> Result<Subscriber> {
    Ok(Subscriber {
        id_type: row.required_text("id_type")?,
        id_data: row.required_text("id_data")?,
        account: row.required_text("account_id")?,
        barred: row.flag("barred")?,
    })
}

fn tariff(raw: &str) -> Result<OnlineTariff> {
    serde_json::from_str(raw).map_err(|e| corrupt("ro tariff", e))
}

impl PgStore {
    /// [`crate::Store::ro_put_subscriber`].
    pub async fn ro_put_subscriber(&self, s: &Subscriber) -> Result<()> {
        sqlx::query(
            "INSERT INTO ro_subscribers (id_type, id_data, account_id, barred)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (id_type, id_data) DO UPDATE SET account_id = excluded.account_id,
                barred = excluded.barred",
        )
        .bind(&s.id_type)
        .bind(&s.id_data)
        .bind(&s.account)
        .bind(i64::from(s.barred))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::ro_subscriber`] (read through: no cache across nodes, ADR 0047).
    pub async fn ro_subscriber(&self, id_type: &str, id_data: &str) -> Result<Option<Subscriber>> {
        sqlx::query("SELECT * FROM ro_subscribers WHERE id_type = $1 AND id_data = $2")
            .bind(id_type)
            .bind(id_data)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(subscriber_row)
            .transpose()
    }

    /// [`crate::Store::ro_subscribers`].
    pub async fn ro_subscribers(&self) -> Result<Vec<Subscriber>> {
        sqlx::query("SELECT * FROM ro_subscribers ORDER BY id_type, id_data")
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(subscriber_row)
            .collect()
    }

    /// [`crate::Store::ro_put_tariff`].
    pub async fn ro_put_tariff(&self, t: &OnlineTariff) -> Result<()> {
        let data = serde_json::to_string(t).map_err(|e| corrupt("ro tariff", e))?;
        sqlx::query(
            "INSERT INTO ro_tariffs (id, data) VALUES ($1, $2)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data",
        )
        .bind(&t.id)
        .bind(data)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::ro_tariffs`], read on each call: another node may have changed them.
    pub async fn ro_tariffs(&self) -> Result<std::sync::Arc<Vec<OnlineTariff>>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM ro_tariffs ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let tariffs = rows.iter().map(|r| tariff(r)).collect::<Result<Vec<_>>>()?;
        Ok(std::sync::Arc::new(tariffs))
    }

    /// [`crate::Store::ro_session`].
    pub async fn ro_session(&self, session_id: &str) -> Result<Option<RoSessionRow>> {
        sqlx::query("SELECT * FROM ro_sessions WHERE session_id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(session_row)
            .transpose()
    }

    /// [`crate::Store::ro_open_sessions_of`] (index `ro_sessions_open_by_account`).
    pub async fn ro_open_sessions_of(
        &self,
        account: &str,
        limit: u32,
    ) -> Result<Vec<RoSessionRow>> {
        sqlx::query(
            "SELECT * FROM ro_sessions WHERE account_id = $1 AND state = 'OPEN'
             ORDER BY session_id LIMIT $2",
        )
        .bind(account)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
    }

    /// [`crate::Store::ro_sessions`]: most recently active first; `state` filters.
    pub async fn ro_sessions(&self, state: Option<&str>, limit: u32) -> Result<Vec<RoSessionRow>> {
        sqlx::query(
            "SELECT * FROM ro_sessions WHERE ($1::text IS NULL OR state = $1)
             ORDER BY updated_at DESC, session_id LIMIT $2",
        )
        .bind(state)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
    }

    /// [`crate::Store::ro_expired_sessions`]: open sessions whose Tcc deadline is at or
    /// before `now` (timestamps compared as text, as SQLite does).
    pub async fn ro_expired_sessions(&self, now: DateTime<Utc>) -> Result<Vec<RoSessionRow>> {
        sqlx::query(
            "SELECT * FROM ro_sessions WHERE state = 'OPEN' AND expires_at <= $1 LIMIT 1000",
        )
        .bind(timestamp(&now))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(session_row)
        .collect()
    }

    /// [`crate::Store::ro_request_termination`]: bumps the version, so a node holding the
    /// session in memory fails its next write (`Stale`) and rereads the flag.
    pub async fn ro_request_termination(&self, session_id: &str) -> Result<bool> {
        let r = sqlx::query(
            "UPDATE ro_sessions SET terminate_requested = 1, version = version + 1
             WHERE session_id = $1 AND state = 'OPEN'",
        )
        .bind(session_id)
        .execute(&self.pool)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// [`crate::Store::ro_session_with_answers`]: one statement, so one snapshot; the
    /// session's columns repeat on each answer's row, NULL when absent.
    pub async fn ro_session_with_answers(
        &self,
        session_id: &str,
    ) -> Result<(Option<RoSessionRow>, Vec<RoAnswerRow>)> {
        let rows = sqlx::query(
            "SELECT s.*, a.request_number, a.request_type, a.result_code, a.answer,
                a.answered_at
             FROM (SELECT $1::text AS sid) k
             LEFT JOIN ro_sessions s ON s.session_id = k.sid
             LEFT JOIN ro_answers a ON a.session_id = k.sid
             ORDER BY a.request_number",
        )
        .bind(session_id)
        .fetch_all(&self.pool)
        .await?;
        let mut session = None;
        let mut answers = Vec::with_capacity(rows.len());
        for row in &rows {
            if session.is_none() && row.text("session_id")?.is_some() {
                session = Some(session_row(row)?);
            }
            if row.int("request_number")?.is_some() {
                answers.push(answer_row(row, session_id)?);
            }
        }
        Ok((session, answers))
    }

    /// [`crate::Store::ro_answer`].
    pub async fn ro_answer(
        &self,
        session_id: &str,
        request_number: i64,
    ) -> Result<Option<RoAnswerRow>> {
        sqlx::query("SELECT * FROM ro_answers WHERE session_id = $1 AND request_number = $2")
            .bind(session_id)
            .bind(request_number)
            .fetch_optional(&self.pool)
            .await?
            .as_ref()
            .map(|row| answer_row(row, session_id))
            .transpose()
    }
}
