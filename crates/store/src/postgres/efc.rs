//! EFC (ISO 17575-1) records on PostgreSQL, as `sqlite/efc.rs`: the report insert runs on the
//! writer inside the batch's savepoint (durable before the answer leaves); reads and operator
//! writes use the pool. Ids are the identity columns', returned by the INSERT itself, so two
//! nodes never hand out the same one.

use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};

use super::PgStore;
use crate::columns::{timestamp, Columns};
use crate::efc::{EfcChargeRecord, EfcContract, EfcObe, EfcQueuedUpdate, EfcReportRecord};
use crate::{Result, StoreError};

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

/// How far back an old report is looked for by its counter (as `sqlite/efc.rs`): an OBE
/// retransmits only until answered, so a retransmission is one of its latest reports.
const RETRANSMISSION_WINDOW: u32 = 10_000;

const REPORT_COLUMNS: &str = "id, obe_key, contract_key, counter, mileage, mileage_unit,
    account_status, time_of_report, counter_gap, violations, request, response, received_at";

const CHARGE_RECORD_COLUMNS: &str = "report_id, usage_statement_id, fee_excl_vat, vat,
    fee_unit, period_begin, period_end, distance, distance_unit, charge_objects, no_usage,
    events, authenticated";

/// The OBE's id in `efc_obe_ids` (migration 0102), given on its first report. Nodes may race
/// to give it: `ON CONFLICT DO NOTHING` lets one insert win (the other waits for it), and the
/// loser reads the winner's id.
async fn obe_id(conn: &mut PgConnection, obe_key: &str) -> Result<i64> {
    let select = "SELECT id FROM efc_obe_ids WHERE obe_key = $1";
    if let Some(id) = sqlx::query_scalar(select)
        .bind(obe_key)
        .fetch_optional(&mut *conn)
        .await?
    {
        return Ok(id);
    }
    let inserted: Option<i64> = sqlx::query_scalar(
        "INSERT INTO efc_obe_ids (obe_key) VALUES ($1) ON CONFLICT (obe_key) DO NOTHING
         RETURNING id",
    )
    .bind(obe_key)
    .fetch_optional(&mut *conn)
    .await?;
    match inserted {
        Some(id) => Ok(id),
        None => Ok(sqlx::query_scalar(select)
            .bind(obe_key)
            .fetch_one(&mut *conn)
            .await?),
    }
}

/// [`crate::Write::EfcReport`]: the report, its charge records, and the queued update it
/// delivered marked done.
pub(super) async fn insert_report(conn: &mut PgConnection, r: &EfcReportRecord) -> Result<()> {
    let obe_id = obe_id(conn, &r.obe_key).await?;
    let report_id: i64 = sqlx::query_scalar(
        "INSERT INTO efc_reports (obe_key, obe_id, contract_key, counter, mileage,
            mileage_unit, account_status, time_of_report, counter_gap, violations, request,
            response, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         RETURNING id",
    )
    .bind(&r.obe_key)
    .bind(obe_id)
    .bind(&r.contract_key)
    .bind(r.counter.map(i64::from))
    .bind(r.mileage.map(i64::from))
    .bind(r.mileage_unit.map(i64::from))
    .bind(r.account_status.map(i64::from))
    .bind(r.time_of_report.as_ref().map(timestamp))
    .bind(r.counter_gap.map(i64::from))
    .bind(json_text(&r.violations)?)
    .bind(&r.request)
    .bind(&r.response)
    .bind(timestamp(&r.received_at))
    .fetch_one(&mut *conn)
    .await?;
    for c in &r.charge_records {
        sqlx::query(
            "INSERT INTO efc_charge_records (report_id, obe_key, contract_key,
                usage_statement_id, fee_excl_vat, vat, fee_unit, period_begin, period_end,
                distance, distance_unit, charge_objects, no_usage, events, authenticated)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(report_id)
        .bind(&r.obe_key)
        .bind(&r.contract_key)
        .bind(c.usage_statement_id.map(i64::from))
        .bind(c.fee_excl_vat.map(i64::from))
        .bind(c.vat.map(i64::from))
        .bind(&c.fee_unit)
        .bind(c.period_begin.as_ref().map(timestamp))
        .bind(c.period_end.as_ref().map(timestamp))
        .bind(c.distance.map(i64::from))
        .bind(c.distance_unit.map(i64::from))
        .bind(charge_objects_text(&c.charge_objects))
        .bind(i64::from(c.no_usage))
        // BIGINT is i64; more detected events than that cannot be reported (as SQLite).
        .bind(c.events.map(|e| i64::try_from(e).unwrap_or(i64::MAX)))
        .bind(c.authenticated.map(i64::from))
        .execute(&mut *conn)
        .await?;
    }
    if let Some(update) = r.completed_update {
        sqlx::query("UPDATE efc_updates SET done_at = $1 WHERE id = $2 AND done_at IS NULL")
            .bind(timestamp(&r.received_at))
            .bind(update)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// `chargeObjectDesignation`s as the column keeps them: decimal, comma-separated.
fn charge_objects_text(objects: &[u32]) -> String {
    objects
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

fn charge_record_row(row: &PgRow) -> Result<EfcChargeRecord> {
    let objects = row.required_text("charge_objects")?;
    Ok(EfcChargeRecord {
        usage_statement_id: row.int("usage_statement_id")?.map(|v| v as u16),
        fee_excl_vat: row.int("fee_excl_vat")?.map(|v| v as u16),
        vat: row.int("vat")?.map(|v| v as u16),
        fee_unit: row.text("fee_unit")?,
        period_begin: row.time("period_begin")?,
        period_end: row.time("period_end")?,
        distance: row.int("distance")?.map(|v| v as u32),
        distance_unit: row.int("distance_unit")?.map(|v| v as u8),
        charge_objects: objects
            .split(',')
            .filter(|o| !o.is_empty())
            .map(|o| {
                o.parse()
                    .map_err(|e| StoreError::Corrupt(format!("efc charge_objects {o:?}: {e}")))
            })
            .collect::<Result<_>>()?,
        no_usage: row.flag("no_usage")?,
        events: row.int("events")?.map(|v| v as u64),
        authenticated: row.int("authenticated")?.map(|v| v != 0),
    })
}

fn report_row(row: &PgRow) -> Result<EfcReportRecord> {
    let violations = row.required_text("violations")?;
    Ok(EfcReportRecord {
        id: row.required_int("id")?,
        obe_key: row.required_text("obe_key")?,
        contract_key: row.required_text("contract_key")?,
        counter: row.int("counter")?.map(|v| v as u32),
        mileage: row.int("mileage")?.map(|v| v as u32),
        mileage_unit: row.int("mileage_unit")?.map(|v| v as u8),
        account_status: row.int("account_status")?.map(|v| v as u8),
        time_of_report: row.time("time_of_report")?,
        counter_gap: row.int("counter_gap")?.map(|v| v as u32),
        violations: from_json(&violations, "efc report violations")?,
        request: row.try_get("request")?,
        response: row.try_get("response")?,
        received_at: row.required_time("received_at")?,
        charge_records: Vec::new(),
        completed_update: None,
    })
}

impl PgStore {
    /// [`crate::Store::upsert_efc_obe`].
    pub async fn upsert_efc_obe(&self, obe: &EfcObe) -> Result<()> {
        let key = obe
            .mac_key_hex
            .as_deref()
            .map(hex::decode)
            .transpose()
            .map_err(|e| StoreError::Corrupt(format!("mac key is not hex: {e}")))?;
        sqlx::query(
            "INSERT INTO efc_obes (obe_key, mac_key, require_auth, data, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (obe_key) DO UPDATE SET mac_key = excluded.mac_key,
                require_auth = excluded.require_auth, data = excluded.data",
        )
        .bind(&obe.obe_key)
        .bind(key)
        .bind(i64::from(obe.require_auth))
        .bind(json_text(obe)?)
        .bind(timestamp(&obe.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::efc_obe`].
    pub async fn efc_obe(&self, obe_key: &str) -> Result<Option<EfcObe>> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT data FROM efc_obes WHERE obe_key = $1")
                .bind(obe_key)
                .fetch_optional(&self.pool)
                .await?;
        raw.map(|r| from_json(&r, "efc obe")).transpose()
    }

    /// [`crate::Store::efc_obes`], by key.
    pub async fn efc_obes(&self) -> Result<Vec<EfcObe>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM efc_obes ORDER BY obe_key")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| from_json(r, "efc obe")).collect()
    }

    /// [`crate::Store::efc_reports`]: newest first, each with its charge records. The
    /// records of all the reports are read in one second statement (`report_id = ANY`), not
    /// one per report.
    pub async fn efc_reports(
        &self,
        obe_key: Option<&str>,
        limit: u32,
    ) -> Result<Vec<EfcReportRecord>> {
        // Through the OBE's id: efc_reports_by_obe is keyed by it (migration 0102).
        let rows = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM efc_reports
             WHERE ($1::text IS NULL
                    OR obe_id = (SELECT id FROM efc_obe_ids WHERE obe_key = $1))
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(obe_key)
        .bind(i64::from(limit.max(1)))
        .fetch_all(&self.pool)
        .await?;
        let mut reports = rows.iter().map(report_row).collect::<Result<Vec<_>>>()?;
        let ids: Vec<i64> = reports.iter().map(|r| r.id).collect();
        let records = sqlx::query(&format!(
            "SELECT {CHARGE_RECORD_COLUMNS} FROM efc_charge_records
             WHERE report_id = ANY($1) ORDER BY report_id, id"
        ))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await?;
        for row in &records {
            let report_id = row.required_int("report_id")?;
            if let Some(report) = reports.iter_mut().find(|r| r.id == report_id) {
                report.charge_records.push(charge_record_row(row)?);
            }
        }
        Ok(reports)
    }

    /// [`crate::Store::efc_report_by_counter`]: the newest report with this counter among
    /// the OBE's latest [`RETRANSMISSION_WINDOW`] (without its charge records, as SQLite).
    pub async fn efc_report_by_counter(
        &self,
        obe_key: &str,
        counter: u32,
    ) -> Result<Option<EfcReportRecord>> {
        let row = sqlx::query(&format!(
            "WITH obe AS (SELECT id FROM efc_obe_ids WHERE obe_key = $1)
             SELECT {REPORT_COLUMNS} FROM efc_reports
             WHERE obe_id = (SELECT id FROM obe) AND counter = $2
               AND id >= COALESCE((SELECT id FROM efc_reports
                                   WHERE obe_id = (SELECT id FROM obe)
                                   ORDER BY id DESC LIMIT 1 OFFSET $3), 0)
             ORDER BY id DESC LIMIT 1"
        ))
        .bind(obe_key)
        .bind(i64::from(counter))
        .bind(i64::from(RETRANSMISSION_WINDOW - 1))
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_row).transpose()
    }

    /// [`crate::Store::efc_last_mileage`].
    pub async fn efc_last_mileage(&self, contract_key: &str) -> Result<Option<EfcReportRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {REPORT_COLUMNS} FROM efc_reports
             WHERE contract_key = $1 AND mileage IS NOT NULL ORDER BY id DESC LIMIT 1"
        ))
        .bind(contract_key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(report_row).transpose()
    }

    /// [`crate::Store::enqueue_efc_update`]: returns the id the INSERT was given.
    pub async fn enqueue_efc_update(&self, update: &EfcQueuedUpdate) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO efc_updates (obe_key, data, created_at) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(&update.obe_key)
        .bind(json_text(update)?)
        .bind(timestamp(&update.created_at))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// [`crate::Store::efc_pending_updates`]: not yet done, oldest first.
    pub async fn efc_pending_updates(&self, obe_key: &str) -> Result<Vec<EfcQueuedUpdate>> {
        let rows = sqlx::query(
            "SELECT id, data FROM efc_updates WHERE obe_key = $1 AND done_at IS NULL
             ORDER BY id",
        )
        .bind(obe_key)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let mut u: EfcQueuedUpdate = from_json(&row.required_text("data")?, "efc update")?;
                u.id = row.required_int("id")?;
                Ok(u)
            })
            .collect()
    }

    /// [`crate::Store::upsert_efc_contract`].
    pub async fn upsert_efc_contract(&self, contract: &EfcContract) -> Result<()> {
        sqlx::query(
            "INSERT INTO efc_contracts (contract_key, data, created_at) VALUES ($1, $2, $3)
             ON CONFLICT (contract_key) DO UPDATE SET data = excluded.data",
        )
        .bind(&contract.contract_key)
        .bind(json_text(contract)?)
        .bind(timestamp(&contract.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::efc_contract`].
    pub async fn efc_contract(&self, contract_key: &str) -> Result<Option<EfcContract>> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT data FROM efc_contracts WHERE contract_key = $1")
                .bind(contract_key)
                .fetch_optional(&self.pool)
                .await?;
        raw.map(|r| from_json(&r, "efc contract")).transpose()
    }

    /// [`crate::Store::efc_contracts`], by key.
    pub async fn efc_contracts(&self) -> Result<Vec<EfcContract>> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT data FROM efc_contracts ORDER BY contract_key")
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| from_json(r, "efc contract")).collect()
    }
}
