//! GDPR access and erasure for an idToken (see [`crate::personal_data`]), on the writer thread:
//! the listing is one consistent read, the erasure one IMMEDIATE transaction with its audit
//! row, under `secure_delete` so the deleted and replaced values are overwritten in the
//! database pages, not just unlinked.
//!
//! Where an idToken can be: `PLAIN` columns hold it as the whole value, `JSON` columns inside
//! the OCPP messages and records kept as JSON text (both lists in [`crate::personal_data`],
//! shared with the PostgreSQL store).

use std::collections::BTreeMap;

use chrono::Utc;
use rusqlite::types::ValueRef;
use rusqlite::{params, Connection, Row, TransactionBehavior};
use serde_json::{Map, Value};

use super::cache::Caches;
use crate::columns::like_pattern;
use crate::personal_data::{
    camel, mentions, pseudonym, replace_in_json, Erasure, PersonalData, Plain, JSON, PLAIN,
};
use crate::{Result, StoreError};

/// A row as a JSON object; text that is JSON (objects, arrays) is parsed.
fn row_json(row: &Row<'_>) -> rusqlite::Result<Value> {
    let mut map = Map::new();
    for (i, name) in row.as_ref().column_names().iter().enumerate() {
        let value = match row.get_ref(i)? {
            ValueRef::Null => Value::Null,
            ValueRef::Integer(n) => Value::from(n),
            ValueRef::Real(f) => Value::from(f),
            ValueRef::Text(t) => {
                let text = String::from_utf8_lossy(t);
                match serde_json::from_str::<Value>(&text) {
                    Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                    _ => Value::String(text.into_owned()),
                }
            }
            ValueRef::Blob(b) => Value::String(hex::encode(b)),
        };
        map.insert(camel(name), value);
    }
    Ok(Value::Object(map))
}

fn rows(conn: &Connection, sql: &str, param: &str) -> Result<Vec<Value>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt
        .query_map(params![param], row_json)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Rows of `table` whose JSON `column` names the token: (rowid, parsed JSON). LIKE narrows the
/// scan (it folds ASCII case, as idTokens compare); the JSON walk decides.
fn json_rows(
    conn: &Connection,
    table: &str,
    column: &str,
    id_token: &str,
) -> Result<Vec<(i64, Value)>> {
    let sql = format!("SELECT rowid, {column} FROM {table} WHERE {column} LIKE ?1 ESCAPE '\\'");
    let mut stmt = conn.prepare(&sql)?;
    let found = stmt
        .query_map(params![like_pattern(id_token)], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found
        .into_iter()
        .filter_map(|(rowid, text)| {
            let v = serde_json::from_str::<Value>(&text).ok()?;
            mentions(&v, id_token).then_some((rowid, v))
        })
        .collect())
}

pub(super) fn personal_data(conn: &mut Connection, id_token: &str) -> Result<PersonalData> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Deferred)?;
    let nocase = |table: &str, column: &str| {
        format!("SELECT * FROM {table} WHERE {column} = ?1 COLLATE NOCASE ORDER BY rowid")
    };
    let mut data = PersonalData {
        id_token: id_token.to_string(),
        tokens: rows(&tx, &nocase("id_tokens", "id_token"), id_token)?,
        local_list_entries: rows(&tx, &nocase("local_list_entries", "id_token"), id_token)?,
        reservations: rows(
            &tx,
            "SELECT * FROM reservations WHERE id_token = ?1 COLLATE NOCASE \
             OR group_id_token = ?1 COLLATE NOCASE ORDER BY id",
            id_token,
        )?,
        remote_starts: rows(&tx, &nocase("remote_starts", "id_token"), id_token)?,
        transactions: rows(
            &tx,
            "SELECT * FROM transactions WHERE id_token = ?1 COLLATE NOCASE \
             OR group_id_token = ?1 COLLATE NOCASE ORDER BY started_at",
            id_token,
        )?,
        ..PersonalData::default()
    };
    for table in ["ocpi_tokens", "ocpi_own_tokens"] {
        data.roaming
            .extend(rows(&tx, &nocase(table, "uid"), id_token)?);
    }
    for (table, column) in JSON {
        let found = json_rows(&tx, table, column, id_token)?;
        let listed: Vec<Value> = found
            .into_iter()
            .map(|(rowid, v)| match *table {
                // The record itself is the personal data.
                "charge_records" | "transaction_events" => v,
                _ => serde_json::json!({"table": table, "rowid": rowid, "column": column, "value": v}),
            })
            .collect();
        let into = match *table {
            "transaction_events" => &mut data.transaction_events,
            "charge_records" => &mut data.charge_records,
            "commands" => &mut data.commands,
            "tracked_requests" | "tracked_request_parts" => &mut data.station_requests,
            "answers" => &mut data.stored_answers,
            t if t.starts_with("ocpi_") => &mut data.roaming,
            _ => &mut data.station_requests,
        };
        into.extend(listed);
    }
    tx.commit()?;
    Ok(data)
}

pub(super) fn erase(
    conn: &mut Connection,
    caches: &Caches,
    id_token: &str,
    key: &[u8],
    erased_by: &str,
) -> Result<Erasure> {
    let alias = pseudonym(key, id_token);
    // Overwrite freed and rewritten content in the pages this transaction touches.
    conn.pragma_update(None, "secure_delete", "ON")?;
    let outcome = erase_in_transaction(conn, id_token, &alias, erased_by);
    if let Err(e) = conn.pragma_update(None, "secure_delete", "OFF") {
        tracing::warn!(error = %e, "secure_delete not switched off again");
    }
    let erasure = outcome?;
    let lower = id_token.to_ascii_lowercase();
    caches.tokens.retain(|k, v| {
        k.0 != lower
            && !v
                .as_ref()
                .and_then(|t| t.group_id_token.as_deref())
                .is_some_and(|g| g.eq_ignore_ascii_case(id_token))
    });
    caches.transactions.retain(|_, t| {
        ![&t.record.id_token, &t.record.group_id_token]
            .iter()
            .any(|v| {
                v.as_deref()
                    .is_some_and(|v| v.eq_ignore_ascii_case(id_token))
            })
    });
    Ok(erasure)
}

fn erase_in_transaction(
    conn: &mut Connection,
    id_token: &str,
    alias: &str,
    erased_by: &str,
) -> Result<Erasure> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut deleted = BTreeMap::new();
    let mut pseudonymised = BTreeMap::<String, u64>::new();
    let mut local_list_stations: Vec<String> = tx
        .prepare(
            "SELECT DISTINCT station_id FROM local_list_entries \
             WHERE id_token = ?1 COLLATE NOCASE ORDER BY station_id",
        )?
        .query_map(params![id_token], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    local_list_stations.dedup();
    for (table, column, what) in PLAIN {
        let n = match what {
            Plain::Delete => tx.execute(
                &format!("DELETE FROM {table} WHERE {column} = ?1 COLLATE NOCASE"),
                params![id_token],
            )?,
            Plain::Pseudonymise => tx.execute(
                &format!("UPDATE {table} SET {column} = ?2 WHERE {column} = ?1 COLLATE NOCASE"),
                params![id_token, alias],
            )?,
        } as u64;
        let into = match what {
            Plain::Delete => &mut deleted,
            Plain::Pseudonymise => &mut pseudonymised,
        };
        *into.entry(format!("{table}.{column}")).or_insert(0) += n;
    }
    for (table, column) in JSON {
        let mut n = 0u64;
        for (rowid, mut value) in json_rows(&tx, table, column, id_token)? {
            if replace_in_json(&mut value, id_token, alias) {
                let text = serde_json::to_string(&value)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                tx.execute(
                    &format!("UPDATE {table} SET {column} = ?1 WHERE rowid = ?2"),
                    params![text, rowid],
                )?;
                n += 1;
            }
        }
        pseudonymised.insert(format!("{table}.{column}"), n);
    }
    let erased_at = Utc::now();
    let erasure = Erasure {
        pseudonym: alias.to_string(),
        deleted,
        pseudonymised,
        local_list_stations,
        erased_at,
        erased_by: erased_by.to_string(),
    };
    let counts = serde_json::json!({
        "deleted": erasure.deleted,
        "pseudonymised": erasure.pseudonymised,
        "localListStations": erasure.local_list_stations,
    });
    tx.execute(
        "INSERT INTO personal_data_erasures (erased_at, erased_by, pseudonym, counts)
         VALUES (?1, ?2, ?3, ?4)",
        params![
            super::columns::timestamp(&erased_at),
            erased_by,
            alias,
            counts.to_string()
        ],
    )?;
    tx.commit()?;
    Ok(erasure)
}
