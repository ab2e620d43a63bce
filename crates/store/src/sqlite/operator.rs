//! Operator-side changes of the tables the caches mirror (stations, tokens, tariffs and their
//! assignments, a transaction's E14 mark). They run on the writer thread, each in its own
//! transaction, serialised with the station batches, and update the caches after their commit
//! and before they answer: so no reader can see the old value once the caller has its answer,
//! and no batch refresh can interleave with them.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, ErrorCode, Transaction, TransactionBehavior};
use unicharge_core::tariff::{Tariff, TariffAssignment};
use unicharge_core::tokens::IdTokenRecord;
use unicharge_core::{Station, StationId};

use super::cache::{token_key, Caches};
use super::columns::{self, timestamp};
use super::refresh;
use crate::{Result, StoreError};

/// Run `change` in one `BEGIN IMMEDIATE … COMMIT`.
fn committed<R>(
    conn: &mut Connection,
    change: impl FnOnce(&Transaction) -> Result<R>,
) -> Result<R> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let outcome = change(&tx)?;
    tx.commit()?;
    Ok(outcome)
}

fn refresh_station(conn: &Connection, caches: &Caches, id: &StationId) {
    match refresh::station(conn, id) {
        Ok(row) => caches.stations.put(id.clone(), row),
        Err(e) => {
            tracing::error!(station = %id, error = %e, "station not re-read after a change; uncached");
            caches.stations.remove(id);
        }
    }
}

pub(super) fn create_station(
    conn: &mut Connection,
    caches: &Caches,
    station: &Station,
) -> Result<()> {
    let outcome = committed(conn, |tx| {
        tx.prepare_cached(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES (?, ?, ?, ?, ?)",
        )?
        .execute(params![
            station.id.as_str(),
            i64::from(station.security_profile.number()),
            station.password_hash,
            station.registration.as_str(),
            timestamp(&station.created_at),
        ])?;
        Ok(())
    });
    match outcome {
        Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)))
            if e.code == ErrorCode::ConstraintViolation
                && matches!(
                    e.extended_code,
                    rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
                        | rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                ) =>
        {
            Err(StoreError::StationExists(station.id.clone()))
        }
        Err(e) => Err(e),
        Ok(()) => {
            refresh_station(conn, caches, &station.id);
            Ok(())
        }
    }
}

pub(super) fn upsert_station(
    conn: &mut Connection,
    caches: &Caches,
    station: &Station,
) -> Result<()> {
    committed(conn, |tx| {
        tx.prepare_cached(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET
                security_profile = excluded.security_profile,
                password_hash = excluded.password_hash,
                registration = excluded.registration",
        )?
        .execute(params![
            station.id.as_str(),
            i64::from(station.security_profile.number()),
            station.password_hash,
            station.registration.as_str(),
            timestamp(&station.created_at),
        ])?;
        Ok(())
    })?;
    refresh_station(conn, caches, &station.id);
    Ok(())
}

pub(super) fn delete_station(
    conn: &mut Connection,
    caches: &Caches,
    id: &StationId,
) -> Result<bool> {
    let deleted = committed(conn, |tx| {
        tx.prepare_cached("DELETE FROM answers WHERE station_id = ?")?
            .execute(params![id.as_str()])?;
        Ok(tx
            .prepare_cached("DELETE FROM stations WHERE id = ?")?
            .execute(params![id.as_str()])?)
    })?;
    caches.forget_station(id);
    Ok(deleted > 0)
}

/// One column of a station: `UPDATE stations SET <column> = ? WHERE id = ?`.
pub(super) fn set_station_column(
    conn: &mut Connection,
    caches: &Caches,
    id: &StationId,
    column: StationColumn,
    value: rusqlite::types::Value,
) -> Result<bool> {
    let sql = match column {
        StationColumn::PasswordHash => "UPDATE stations SET password_hash = ? WHERE id = ?",
        StationColumn::SecurityProfile => "UPDATE stations SET security_profile = ? WHERE id = ?",
        StationColumn::PendingSecurityProfile => {
            "UPDATE stations SET pending_security_profile = ? WHERE id = ?"
        }
        StationColumn::ProvisionedAt => "UPDATE stations SET provisioned_at = ? WHERE id = ?",
        StationColumn::Registration => "UPDATE stations SET registration = ? WHERE id = ?",
        StationColumn::PreferredOcppVersion => {
            "UPDATE stations SET preferred_ocpp_version = ? WHERE id = ?"
        }
    };
    let changed = committed(conn, |tx| {
        Ok(tx
            .prepare_cached(sql)?
            .execute(params![value, id.as_str()])?)
    })?;
    refresh_station(conn, caches, id);
    Ok(changed > 0)
}

/// The operator-managed columns of `stations` changed one at a time.
#[derive(Debug, Clone, Copy)]
pub(super) enum StationColumn {
    PasswordHash,
    SecurityProfile,
    PendingSecurityProfile,
    ProvisionedAt,
    Registration,
    PreferredOcppVersion,
}

pub(super) fn mark_transaction_forgotten(
    conn: &mut Connection,
    caches: &Caches,
    station: &StationId,
    transaction_id: &str,
    at: DateTime<Utc>,
) -> Result<bool> {
    let changed = committed(conn, |tx| {
        Ok(tx
            .prepare_cached(
                "UPDATE transactions SET station_forgot_at = ?
                 WHERE station_id = ? AND transaction_id = ? AND ended_at IS NULL",
            )?
            .execute(params![timestamp(&at), station.as_str(), transaction_id])?)
    })?;
    let key = (station.clone(), transaction_id.to_owned());
    match refresh::transaction(conn, station, transaction_id) {
        Ok(Some(entry)) => caches.put_transaction(entry, std::time::Instant::now()),
        Ok(None) => caches.transactions.remove(&key),
        Err(e) => {
            tracing::error!(station = %station, transaction = %transaction_id, error = %e,
                "transaction not re-read after a change; uncached");
            caches.transactions.remove(&key);
        }
    }
    Ok(changed > 0)
}

fn refresh_token(conn: &Connection, caches: &Caches, id_token: &str, kind: &str) {
    let key = token_key(id_token, kind);
    let row = conn
        .prepare_cached("SELECT * FROM id_tokens WHERE id_token = ? AND type = ?")
        .and_then(|mut s| {
            let mut rows = s.query(params![id_token, kind])?;
            Ok(rows.next()?.map(columns::token))
        });
    match row {
        Ok(Some(Ok(token))) => caches.tokens.put(key, Some(token)),
        Ok(None) => caches.tokens.put(key, None),
        Ok(Some(Err(e))) => {
            tracing::error!(error = %e, "token not re-read after a change; uncached");
            caches.tokens.remove(&key);
        }
        Err(e) => {
            tracing::error!(error = %e, "token not re-read after a change; uncached");
            caches.tokens.remove(&key);
        }
    }
}

pub(super) fn upsert_token(
    conn: &mut Connection,
    caches: &Caches,
    token: &IdTokenRecord,
) -> Result<()> {
    committed(conn, |tx| {
        tx.prepare_cached(
            "INSERT INTO id_tokens (id_token, type, status, expiry, group_id_token)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (id_token, type) DO UPDATE SET status = excluded.status,
                expiry = excluded.expiry, group_id_token = excluded.group_id_token",
        )?
        .execute(params![
            token.id_token,
            token.kind,
            token.status,
            token.expiry.as_ref().map(timestamp),
            token.group_id_token,
        ])?;
        Ok(())
    })?;
    refresh_token(conn, caches, &token.id_token, &token.kind);
    Ok(())
}

pub(super) fn delete_token(
    conn: &mut Connection,
    caches: &Caches,
    id_token: &str,
    kind: &str,
) -> Result<bool> {
    let deleted = committed(conn, |tx| {
        Ok(tx
            .prepare_cached("DELETE FROM id_tokens WHERE id_token = ? AND type = ?")?
            .execute(params![id_token, kind])?)
    })?;
    refresh_token(conn, caches, id_token, kind);
    Ok(deleted > 0)
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Tariffs and assignments are one snapshot: any change drops it, the next read rebuilds it.
fn tariffs_changed(caches: &Caches) {
    caches.tariffs.remove(&());
}

pub(super) fn put_tariff(conn: &mut Connection, caches: &Caches, tariff: &Tariff) -> Result<()> {
    let data = to_json(tariff)?;
    committed(conn, |tx| {
        tx.prepare_cached(
            "INSERT INTO tariffs (id, data, updated_at) VALUES (?, ?, ?)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        )?
        .execute(params![tariff.id, data, timestamp(&Utc::now())])?;
        Ok(())
    })?;
    tariffs_changed(caches);
    Ok(())
}

pub(super) fn delete_tariff(conn: &mut Connection, caches: &Caches, id: &str) -> Result<bool> {
    let deleted = committed(conn, |tx| {
        Ok(tx
            .prepare_cached("DELETE FROM tariffs WHERE id = ?")?
            .execute(params![id])?)
    })?;
    tariffs_changed(caches);
    Ok(deleted > 0)
}

pub(super) fn add_tariff_assignment(
    conn: &mut Connection,
    caches: &Caches,
    assignment: &TariffAssignment,
) -> Result<i64> {
    let scope = to_json(&assignment.scope)?;
    let id = committed(conn, |tx| {
        tx.prepare_cached(
            "INSERT INTO tariff_assignments (tariff_id, scope, created_at) VALUES (?, ?, ?)",
        )?
        .execute(params![assignment.tariff_id, scope, timestamp(&Utc::now())])?;
        Ok(tx.last_insert_rowid())
    })?;
    tariffs_changed(caches);
    Ok(id)
}

pub(super) fn delete_tariff_assignment(
    conn: &mut Connection,
    caches: &Caches,
    id: i64,
) -> Result<bool> {
    let deleted = committed(conn, |tx| {
        Ok(tx
            .prepare_cached("DELETE FROM tariff_assignments WHERE id = ?")?
            .execute(params![id])?)
    })?;
    tariffs_changed(caches);
    Ok(deleted > 0)
}

/// Load a station's answer fingerprints (the ids of its last K stored answers), on the writer
/// so that no commit slips between this read and the install.
pub(super) fn load_answer_fingerprints(
    conn: &Connection,
    caches: &Caches,
    station: &StationId,
) -> Result<()> {
    if caches.answers.is_loaded(station) {
        return Ok(());
    }
    // INSERT OR REPLACE gives a replaced answer a new rowid: rowid order is commit order.
    let mut statement = conn.prepare_cached(
        "SELECT message_id FROM answers WHERE station_id = ? ORDER BY rowid DESC LIMIT ?",
    )?;
    let limit = i64::try_from(caches.answers.per_station()).unwrap_or(i64::MAX);
    let mut ids = statement
        .query_map(params![station.as_str(), limit], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    ids.reverse();
    caches.answers.load(station, ids.iter().map(String::as_str));
    Ok(())
}
