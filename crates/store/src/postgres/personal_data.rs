//! GDPR access and erasure for an idToken on PostgreSQL (see [`crate::personal_data`]), with the
//! same lists of where an idToken can be as the SQLite store: the listing is one
//! REPEATABLE READ snapshot, the erasure one transaction with its audit row.
//!
//! Unlike SQLite's `secure_delete`, PostgreSQL keeps the replaced row versions in its pages
//! until (auto)vacuum reclaims them and later writes reuse the space; operators who must
//! overwrite at once run `VACUUM` on the tables the erasure counts name (docs/scaling.md).

use std::collections::BTreeMap;

use chrono::Utc;
use serde_json::{Map, Value};
use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::columns::like_pattern;
use crate::columns::timestamp;
use crate::personal_data::{
    camel, mentions, pseudonym, replace_in_json, Erasure, PersonalData, Plain, JSON, PLAIN,
};
use crate::{Result, StoreError};

impl PgStore {
    pub async fn personal_data(&self, id_token: &str) -> Result<PersonalData> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await?;
        let nocase = |table: &str, column: &str| {
            format!(
                "SELECT row_to_json(t)::text FROM {table} t \
                 WHERE {column} = $1 COLLATE nocase ORDER BY ctid"
            )
        };
        let mut data = PersonalData {
            id_token: id_token.to_string(),
            tokens: rows(&mut tx, &nocase("id_tokens", "id_token"), id_token).await?,
            local_list_entries: rows(&mut tx, &nocase("local_list_entries", "id_token"), id_token)
                .await?,
            reservations: rows(
                &mut tx,
                "SELECT row_to_json(t)::text FROM reservations t WHERE id_token = $1 COLLATE \
                 nocase OR group_id_token = $1 COLLATE nocase ORDER BY id",
                id_token,
            )
            .await?,
            remote_starts: rows(&mut tx, &nocase("remote_starts", "id_token"), id_token).await?,
            transactions: rows(
                &mut tx,
                "SELECT row_to_json(t)::text FROM transactions t WHERE id_token = $1 COLLATE \
                 nocase OR group_id_token = $1 COLLATE nocase ORDER BY started_at",
                id_token,
            )
            .await?,
            ..PersonalData::default()
        };
        for table in ["ocpi_tokens", "ocpi_own_tokens"] {
            data.roaming
                .extend(rows(&mut tx, &nocase(table, "uid"), id_token).await?);
        }
        for (table, column) in JSON {
            let found = json_rows(&mut tx, table, column, id_token).await?;
            let listed: Vec<Value> = found
                .into_iter()
                .map(|(row, v)| match *table {
                    // The record itself is the personal data.
                    "charge_records" | "transaction_events" => v,
                    _ => serde_json::json!({"table": table, "rowid": row, "column": column, "value": v}),
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
        tx.commit().await?;
        Ok(data)
    }

    pub async fn erase_personal_data(
        &self,
        id_token: &str,
        key: &[u8],
        erased_by: &str,
    ) -> Result<Erasure> {
        let alias = pseudonym(key, id_token);
        let mut tx = self.pool.begin().await?;
        let mut deleted = BTreeMap::new();
        let mut pseudonymised = BTreeMap::<String, u64>::new();
        let local_list_stations: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT station_id FROM local_list_entries
             WHERE id_token = $1 COLLATE nocase ORDER BY station_id",
        )
        .bind(id_token)
        .fetch_all(&mut *tx)
        .await?;
        for (table, column, what) in PLAIN {
            let n = match what {
                Plain::Delete => {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE {column} = $1 COLLATE nocase"
                    ))
                    .bind(id_token)
                    .execute(&mut *tx)
                    .await?
                }
                Plain::Pseudonymise => {
                    sqlx::query(&format!(
                        "UPDATE {table} SET {column} = $2 WHERE {column} = $1 COLLATE nocase"
                    ))
                    .bind(id_token)
                    .bind(&alias)
                    .execute(&mut *tx)
                    .await?
                }
            }
            .rows_affected();
            let into = match what {
                Plain::Delete => &mut deleted,
                Plain::Pseudonymise => &mut pseudonymised,
            };
            *into.entry(format!("{table}.{column}")).or_insert(0) += n;
        }
        for (table, column) in JSON {
            let mut n = 0u64;
            for (row, mut value) in json_rows(&mut tx, table, column, id_token).await? {
                if replace_in_json(&mut value, id_token, &alias) {
                    let text = serde_json::to_string(&value)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    sqlx::query(&format!(
                        "UPDATE {table} SET {column} = $1 WHERE ctid = $2::tid"
                    ))
                    .bind(text)
                    .bind(row)
                    .execute(&mut *tx)
                    .await?;
                    n += 1;
                }
            }
            pseudonymised.insert(format!("{table}.{column}"), n);
        }
        let erased_at = Utc::now();
        let erasure = Erasure {
            pseudonym: alias.clone(),
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
        sqlx::query(
            "INSERT INTO personal_data_erasures (erased_at, erased_by, pseudonym, counts)
             VALUES ($1, $2, $3, $4)",
        )
        .bind(timestamp(&erased_at))
        .bind(erased_by)
        .bind(&alias)
        .bind(counts.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(erasure)
    }
}

/// Rows as the API shows them (as SQLite's `row_json`): column names in camelCase, text that
/// is JSON (objects, arrays) parsed.
async fn rows(conn: &mut PgConnection, sql: &str, param: &str) -> Result<Vec<Value>> {
    let raw: Vec<String> = sqlx::query_scalar(sql)
        .bind(param)
        .fetch_all(&mut *conn)
        .await?;
    raw.iter().map(|text| api_row(text)).collect()
}

fn api_row(text: &str) -> Result<Value> {
    let Value::Object(columns) =
        serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("row_to_json: {e}")))?
    else {
        return Err(StoreError::Corrupt("row_to_json: not an object".into()));
    };
    let mut map = Map::new();
    for (name, value) in columns {
        let value = match value {
            Value::String(s) => match serde_json::from_str::<Value>(&s) {
                Ok(v @ (Value::Object(_) | Value::Array(_))) => v,
                _ => Value::String(s),
            },
            other => other,
        };
        map.insert(camel(&name), value);
    }
    Ok(Value::Object(map))
}

/// Rows of `table` whose JSON `column` names the token: (row address, parsed JSON). ILIKE
/// narrows the scan; the JSON walk decides. The row address (`ctid`) is stable for the
/// transaction that read it, which is the one that updates the row.
async fn json_rows(
    conn: &mut PgConnection,
    table: &str,
    column: &str,
    id_token: &str,
) -> Result<Vec<(String, Value)>> {
    let sql = format!(
        "SELECT ctid::text AS row, {column} AS value FROM {table}
         WHERE {column} ILIKE $1 ESCAPE '\\' ORDER BY ctid"
    );
    let found = sqlx::query(&sql)
        .bind(like_pattern(id_token))
        .fetch_all(&mut *conn)
        .await?;
    let mut out = Vec::new();
    for row in found {
        let (address, text): (String, Option<String>) =
            (row.try_get("row")?, row.try_get("value")?);
        let Some(v) = text.and_then(|t| serde_json::from_str::<Value>(&t).ok()) else {
            continue;
        };
        if mentions(&v, id_token) {
            out.push((address, v));
        }
    }
    Ok(out)
}
