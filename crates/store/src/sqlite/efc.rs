//! EFC (ISO 17575-1) records: the report insert runs on the writer inside the batch's
//! transaction (durable before the answer leaves); reads and operator writes use the pool.

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;

use super::columns::timestamp;
use crate::efc::{EfcChargeRecord, EfcObe, EfcQueuedUpdate, EfcReportRecord};
use crate::{Result, StoreError};

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// The OBE's id in `efc_obe_ids` (migration 0102), given on its first report. Runs on the
/// writer, the only connection that inserts there, so the look-up and the insert cannot race;
/// an id given in a transaction that rolls back is gone with it.
fn obe_id(conn: &Connection, obe_key: &str) -> Result<i64> {
    let known = conn
        .prepare_cached("SELECT id FROM efc_obe_ids WHERE obe_key = ?")?
        .query_row([obe_key], |row| row.get(0))
        .optional()?;
    if let Some(id) = known {
        return Ok(id);
    }
    conn.prepare_cached("INSERT INTO efc_obe_ids (obe_key) VALUES (?)")?
        .execute([obe_key])?;
    Ok(conn.last_insert_rowid())
}

/// Insert a report, its charge records, and close the queued update it delivered.
pub(super) fn insert_report(conn: &Connection, r: &EfcReportRecord) -> Result<()> {
    let obe_id = obe_id(conn, &r.obe_key)?;
    conn.prepare_cached(
        "INSERT INTO efc_reports (obe_key, obe_id, contract_key, counter, mileage, mileage_unit,
            account_status, time_of_report, counter_gap, violations, request, response, received_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        r.obe_key,
        obe_id,
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
                fee_excl_vat, vat, fee_unit, period_begin, period_end, distance, distance_unit,
                charge_objects, no_usage, events, authenticated)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
            charge_objects_text(&c.charge_objects),
            c.no_usage,
            // SQLite integers are i64; more detected events than that cannot be reported.
            c.events.map(|e| i64::try_from(e).unwrap_or(i64::MAX)),
            c.authenticated,
        ])?;
    }
    if let Some(update) = r.completed_update {
        conn.prepare_cached("UPDATE efc_updates SET done_at = ? WHERE id = ? AND done_at IS NULL")?
            .execute(params![timestamp(&r.received_at), update])?;
    }
    Ok(())
}

/// `chargeObjectDesignation`s as the column keeps them: decimal, comma-separated.
fn charge_objects_text(objects: &[u32]) -> String {
    let mut text = String::new();
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&o.to_string());
    }
    text
}

fn charge_record_row(row: &SqliteRow) -> Result<EfcChargeRecord> {
    let int = |c: &str| -> Result<Option<i64>> { Ok(row.try_get::<Option<i64>, _>(c)?) };
    let objects: String = row.try_get("charge_objects")?;
    Ok(EfcChargeRecord {
        usage_statement_id: int("usage_statement_id")?.map(|v| v as u16),
        fee_excl_vat: int("fee_excl_vat")?.map(|v| v as u16),
        vat: int("vat")?.map(|v| v as u16),
        fee_unit: row.try_get("fee_unit")?,
        period_begin: row.try_get::<Option<DateTime<Utc>>, _>("period_begin")?,
        period_end: row.try_get::<Option<DateTime<Utc>>, _>("period_end")?,
        distance: int("distance")?.map(|v| v as u32),
        distance_unit: int("distance_unit")?.map(|v| v as u8),
        charge_objects: objects
            .split(',')
            .filter(|o| !o.is_empty())
            .map(|o| {
                o.parse()
                    .map_err(|e| StoreError::Corrupt(format!("efc charge_objects {o:?}: {e}")))
            })
            .collect::<Result<_>>()?,
        no_usage: row.try_get("no_usage")?,
        events: int("events")?.map(|v| v as u64),
        authenticated: row.try_get("authenticated")?,
    })
}

const CHARGE_RECORD_COLUMNS: &str = "usage_statement_id, fee_excl_vat, vat, fee_unit,
    period_begin, period_end, distance, distance_unit, charge_objects, no_usage, events,
    authenticated";

/// How far back an old report is looked for by its counter: the OBE's latest this many
/// reports. An OBE retransmits a report only until it is answered, so a retransmission is of
/// one of its last few; the bound keeps a counter that was never seen (a gap) from scanning
/// the OBE's whole history.
const RETRANSMISSION_WINDOW: u32 = 10_000;

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
    let limit = i64::from(limit.max(1));
    let rows = match obe_key {
        // Through the OBE's id: efc_reports_by_obe is keyed by it (migration 0102).
        Some(obe_key) => {
            sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS} FROM efc_reports
                 WHERE obe_id = (SELECT id FROM efc_obe_ids WHERE obe_key = ?)
                 ORDER BY id DESC LIMIT ?"
            ))
            .bind(obe_key)
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {REPORT_COLUMNS} FROM efc_reports ORDER BY id DESC LIMIT ?"
            ))
            .bind(limit)
            .fetch_all(pool)
            .await?
        }
    };
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut report = report_row(row)?;
        let records = sqlx::query(&format!(
            "SELECT {CHARGE_RECORD_COLUMNS} FROM efc_charge_records WHERE report_id = ? ORDER BY id"
        ))
        .bind(report.id)
        .fetch_all(pool)
        .await?;
        report.charge_records = records
            .iter()
            .map(charge_record_row)
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
        "WITH obe AS (SELECT id FROM efc_obe_ids WHERE obe_key = ?1)
         SELECT {REPORT_COLUMNS} FROM efc_reports
         WHERE obe_id = (SELECT id FROM obe) AND counter = ?2
           AND id >= COALESCE((SELECT id FROM efc_reports WHERE obe_id = (SELECT id FROM obe)
                               ORDER BY id DESC LIMIT 1 OFFSET ?3), 0)
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(obe_key)
    .bind(i64::from(counter))
    .bind(i64::from(RETRANSMISSION_WINDOW - 1))
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

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

    use super::super::{Durability, SqliteStore, MIGRATIONS};
    use crate::Store;

    /// A database at `path` with the migrations before `version` applied (as an older release
    /// left it).
    async fn migrated_before(version: i64, path: &std::path::Path) -> sqlx::SqlitePool {
        let options = SqliteConnectOptions::from_str("sqlite://")
            .unwrap()
            .filename(path)
            .create_if_missing(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await
            .unwrap();
        let before = sqlx::migrate::Migrator {
            migrations: MIGRATIONS
                .migrations
                .iter()
                .filter(|m| m.version < version)
                .cloned()
                .collect::<Vec<_>>()
                .into(),
            ..sqlx::migrate::Migrator::DEFAULT
        };
        before.run(&pool).await.unwrap();
        pool
    }

    /// Migration 0095 moves what only the JSON copy of a charge record held into columns:
    /// a database written before it reads back the same records after it.
    #[tokio::test]
    async fn charge_records_written_before_0095_read_the_same_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let pool = migrated_before(95, &path).await;
        sqlx::query(
            "INSERT INTO efc_reports (id, obe_key, contract_key, counter, violations, request,
                response, received_at)
             VALUES (7, 'M:01', 'K', 5, '[]', x'01', x'02', '2026-12-07 08:00:00+00:00')",
        )
        .execute(&pool)
        .await
        .unwrap();
        for (id, data) in [
            (
                1,
                r#"{"usageStatementId":3,"feeExclVat":250,"vat":50,"feeUnit":"03d2",
                   "periodBegin":null,"periodEnd":null,"distance":12,"distanceUnit":1,
                   "chargeObjects":[4,17],"noUsage":false,"events":9}"#,
            ),
            (
                2,
                r#"{"usageStatementId":null,"feeExclVat":null,"vat":null,"feeUnit":null,
                   "periodBegin":null,"periodEnd":null,"distance":null,"distanceUnit":null,
                   "chargeObjects":[],"noUsage":true,"authenticated":false}"#,
            ),
        ] {
            let record: crate::efc::EfcChargeRecord = serde_json::from_str(data).unwrap();
            sqlx::query(
                "INSERT INTO efc_charge_records (id, report_id, obe_key, contract_key,
                    usage_statement_id, fee_excl_vat, vat, fee_unit, distance, distance_unit, data)
                 VALUES (?, 7, 'M:01', 'K', ?, ?, ?, ?, ?, ?, ?)",
            )
            .bind(id)
            .bind(record.usage_statement_id.map(i64::from))
            .bind(record.fee_excl_vat.map(i64::from))
            .bind(record.vat.map(i64::from))
            .bind(&record.fee_unit)
            .bind(record.distance.map(i64::from))
            .bind(record.distance_unit.map(i64::from))
            .bind(data)
            .execute(&pool)
            .await
            .unwrap();
        }
        pool.close().await;

        let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        let report = store
            .efc_reports(Some("M:01"), 1)
            .await
            .unwrap()
            .pop()
            .unwrap();
        let records = &report.charge_records;
        assert_eq!(records.len(), 2);
        assert_eq!(records[0].usage_statement_id, Some(3));
        assert_eq!(records[0].fee_excl_vat, Some(250));
        assert_eq!(records[0].vat, Some(50));
        assert_eq!(records[0].fee_unit.as_deref(), Some("03d2"));
        assert_eq!(records[0].distance, Some(12));
        assert_eq!(records[0].charge_objects, vec![4, 17]);
        assert!(!records[0].no_usage);
        assert_eq!(records[0].events, Some(9));
        assert_eq!(records[0].authenticated, None);
        assert!(records[1].no_usage);
        assert!(records[1].charge_objects.is_empty());
        assert_eq!(records[1].events, None);
        assert_eq!(records[1].authenticated, Some(false));
        // An old report is still found by its counter (without the index that was dropped).
        let by_counter = store.efc_report_by_counter("M:01", 5).await.unwrap();
        assert_eq!(by_counter.map(|r| r.id), Some(7));
    }

    /// Migration 0102 keys efc_reports_by_obe by an integer OBE id: reports stored before it
    /// are found by their OBE after it (listing and counter look-up), and a new report of an
    /// OBE that reported before gets that OBE's id, not a new one.
    #[tokio::test]
    async fn reports_written_before_0102_are_found_by_obe_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let pool = migrated_before(102, &path).await;
        sqlx::query(
            "INSERT INTO efc_reports (id, obe_key, contract_key, counter, violations, request,
                response, received_at) VALUES
              (1, 'M:01', 'K', 5, '[]', x'01', x'02', '2026-12-07 08:00:00+00:00'),
              (2, 'M:02', 'K', 9, '[]', x'03', x'04', '2026-12-07 08:00:01+00:00'),
              (3, 'M:01', 'K', 6, '[]', x'05', x'06', '2026-12-07 08:00:02+00:00')",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = SqliteStore::open(&path, Durability::Normal).await.unwrap();
        let ids = |reports: Vec<crate::efc::EfcReportRecord>| -> Vec<i64> {
            reports.iter().map(|r| r.id).collect()
        };
        assert_eq!(
            ids(store.efc_reports(Some("M:01"), 10).await.unwrap()),
            [3, 1]
        );
        assert_eq!(ids(store.efc_reports(Some("M:02"), 10).await.unwrap()), [2]);
        assert!(store
            .efc_reports(Some("M:03"), 10)
            .await
            .unwrap()
            .is_empty());
        let by_counter = store.efc_report_by_counter("M:01", 5).await.unwrap();
        assert_eq!(by_counter.map(|r| r.id), Some(1));
        assert!(store
            .efc_report_by_counter("M:02", 5)
            .await
            .unwrap()
            .is_none());

        let mut report = store.efc_reports(Some("M:01"), 1).await.unwrap().remove(0);
        report.counter = Some(7);
        for obe_key in ["M:01", "M:03"] {
            report.obe_key = obe_key.into();
            store
                .write(vec![crate::Write::EfcReport(Box::new(report.clone()))])
                .await
                .unwrap();
        }
        assert_eq!(
            ids(store.efc_reports(Some("M:01"), 10).await.unwrap()),
            [4, 3, 1]
        );
        assert_eq!(ids(store.efc_reports(Some("M:03"), 10).await.unwrap()), [5]);
        let obe_ids: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, obe_key FROM efc_obe_ids ORDER BY id")
                .fetch_all(&store.pool)
                .await
                .unwrap();
        assert_eq!(
            obe_ids,
            [(1, "M:01".into()), (2, "M:02".into()), (3, "M:03".into())]
        );
    }
}
