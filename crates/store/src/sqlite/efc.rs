//! EFC (ISO 17575-1) records: the report insert runs on the writer inside the batch's
//! transaction (durable before the answer leaves); reads and operator writes use the pool.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;

use super::columns::timestamp;
use crate::efc::{EfcObe, EfcQueuedUpdate, EfcReportRecord};
use crate::{Result, StoreError};

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// Insert a report, its charge records, and close the queued update it delivered.
pub(super) fn insert_report(conn: &Connection, r: &EfcReportRecord) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO efc_reports (obe_key, contract_key, counter, mileage, mileage_unit,
            account_status, time_of_report, counter_gap, violations, request, response, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        r.obe_key,
        r.contract_key,
        r.counter,
        r.mileage,
        r.mileage_unit,
        r.account_status,
        r.time_of_report.as_ref().map(timestamp),
        r.counter_gap,
        json_text(&r.violations)?,
        r.request,
        r.response,
        timestamp(&r.received_at),
    ])?;
    let report_id = conn.last_insert_rowid();
    for c in &r.charge_records {
        conn.prepare_cached(
            "INSERT INTO efc_charge_records (report_id, obe_key, contract_key, usage_statement_id,
                fee_excl_vat, vat, fee_unit, period_begin, period_end, distance, distance_unit, data)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            report_id,
            r.obe_key,
            r.contract_key,
            c.usage_statement_id,
            c.fee_excl_vat,
            c.vat,
            c.fee_unit,
            c.period_begin.as_ref().map(timestamp),
            c.period_end.as_ref().map(timestamp),
            c.distance,
            c.distance_unit,
            json_text(c)?,
        ])?;
    }
    if let Some(update) = r.completed_update {
        conn.prepare_cached("UPDATE efc_updates SET done_at = ? WHERE id = ? AND done_at IS NULL")?
            .execute(params![timestamp(&r.received_at), update])?;
    }
    Ok(())
}

fn report_row(row: &SqliteRow) -> Result<EfcReportRecord> {
    let int = |c: &str| -> Result<Option<i64>> { Ok(row.try_get::<Option<i64>, _>(c)?) };
    let violations: String = row.try_get("violations")?;
    Ok(EfcReportRecord {
        id: row.try_get("id")?,
        obe_key: row.try_get("obe_key")?,
        contract_key: row.try_get("contract_key")?,
        counter: int("counter")?.map(|v| v as u32),
        mileage: int("mileage")?.map(|v| v as u32),
        mileage_unit: int("mileage_unit")?.map(|v| v as u8),
        account_status: int("account_status")?.map(|v| v as u8),
        time_of_report: row.try_get::<Option<DateTime<Utc>>, _>("time_of_report")?,
        counter_gap: int("counter_gap")?.map(|v| v as u32),
        violations: from_json(&violations, "efc report violations")?,
        request: row.try_get("request")?,
        response: row.try_get("response")?,
        received_at: row.try_get("received_at")?,
        charge_records: Vec::new(),
        completed_update: None,
    })
}

const REPORT_COLUMNS: &str = "id, obe_key, contract_key, counter, mileage, mileage_unit,
    account_status, time_of_report, counter_gap, violations, request, response, received_at";

pub(super) async fn reports(
    pool: &SqlitePool,
    obe_key: Option<&str>,
    limit: u32,
) -> Result<Vec<EfcReportRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM efc_reports WHERE (? IS NULL OR obe_key = ?)
         ORDER BY id DESC LIMIT ?"
    ))
    .bind(obe_key)
    .bind(obe_key)
    .bind(i64::from(limit.max(1)))
    .fetch_all(pool)
    .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut report = report_row(row)?;
        let records: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM efc_charge_records WHERE report_id = ? ORDER BY id",
        )
        .bind(report.id)
        .fetch_all(pool)
        .await?;
        report.charge_records = records
            .iter()
            .map(|r| from_json(r, "efc charge record"))
            .collect::<Result<_>>()?;
        out.push(report);
    }
    Ok(out)
}

pub(super) async fn report_by_counter(
    pool: &SqlitePool,
    obe_key: &str,
    counter: u32,
) -> Result<Option<EfcReportRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM efc_reports WHERE obe_key = ? AND counter = ?
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(obe_key)
    .bind(i64::from(counter))
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(report_row).transpose()
}

pub(super) async fn last_mileage(
    pool: &SqlitePool,
    contract_key: &str,
) -> Result<Option<EfcReportRecord>> {
    let row = sqlx::query(&format!(
        "SELECT {REPORT_COLUMNS} FROM efc_reports WHERE contract_key = ? AND mileage IS NOT NULL
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(contract_key)
    .fetch_optional(pool)
    .await?;
    row.as_ref().map(report_row).transpose()
}

pub(super) async fn upsert_obe(pool: &SqlitePool, obe: &EfcObe) -> Result<()> {
    let key = obe
        .mac_key_hex
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(|e| StoreError::Corrupt(format!("mac key is not hex: {e}")))?;
    sqlx::query(
        "INSERT INTO efc_obes (obe_key, mac_key, require_auth, data, created_at)
         VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (obe_key) DO UPDATE SET mac_key = excluded.mac_key,
            require_auth = excluded.require_auth, data = excluded.data",
    )
    .bind(&obe.obe_key)
    .bind(key)
    .bind(obe.require_auth)
    .bind(json_text(obe)?)
    .bind(obe.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn obe(pool: &SqlitePool, obe_key: &str) -> Result<Option<EfcObe>> {
    let raw: Option<String> = sqlx::query_scalar("SELECT data FROM efc_obes WHERE obe_key = ?")
        .bind(obe_key)
        .fetch_optional(pool)
        .await?;
    raw.map(|r| from_json(&r, "efc obe")).transpose()
}

pub(super) async fn obes(pool: &SqlitePool) -> Result<Vec<EfcObe>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM efc_obes ORDER BY obe_key")
        .fetch_all(pool)
        .await?;
    rows.iter().map(|r| from_json(r, "efc obe")).collect()
}

pub(super) async fn enqueue_update(pool: &SqlitePool, update: &EfcQueuedUpdate) -> Result<i64> {
    let id = sqlx::query("INSERT INTO efc_updates (obe_key, data, created_at) VALUES (?, ?, ?)")
        .bind(&update.obe_key)
        .bind(json_text(update)?)
        .bind(update.created_at)
        .execute(pool)
        .await?
        .last_insert_rowid();
    Ok(id)
}

pub(super) async fn pending_updates(
    pool: &SqlitePool,
    obe_key: &str,
) -> Result<Vec<EfcQueuedUpdate>> {
    let rows = sqlx::query(
        "SELECT id, data FROM efc_updates WHERE obe_key = ? AND done_at IS NULL ORDER BY id",
    )
    .bind(obe_key)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|row| {
            let mut u: EfcQueuedUpdate =
                from_json(&row.try_get::<String, _>("data")?, "efc update")?;
            u.id = row.try_get("id")?;
            Ok(u)
        })
        .collect()
}

pub(super) async fn upsert_contract(pool: &SqlitePool, c: &crate::efc::EfcContract) -> Result<()> {
    sqlx::query(
        "INSERT INTO efc_contracts (contract_key, data, created_at) VALUES (?, ?, ?)
         ON CONFLICT (contract_key) DO UPDATE SET data = excluded.data",
    )
    .bind(&c.contract_key)
    .bind(json_text(c)?)
    .bind(c.created_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn contract(
    pool: &SqlitePool,
    key: &str,
) -> Result<Option<crate::efc::EfcContract>> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT data FROM efc_contracts WHERE contract_key = ?")
            .bind(key)
            .fetch_optional(pool)
            .await?;
    raw.map(|r| from_json(&r, "efc contract")).transpose()
}

pub(super) async fn contracts(pool: &SqlitePool) -> Result<Vec<crate::efc::EfcContract>> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT data FROM efc_contracts ORDER BY contract_key")
            .fetch_all(pool)
            .await?;
    rows.iter().map(|r| from_json(r, "efc contract")).collect()
}
