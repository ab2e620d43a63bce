//! Device model (B06–B08 reports) and issued certificates (A02/A03) on PostgreSQL: the reads
//! and operator-side writes of the SQLite store's methods of the same names.

use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{self, timestamp};
use crate::{IssuedCertificate, ReportPart, ReportRecord, Result, VariableRecord};

impl PgStore {
    /// Every device-model attribute learnt from the station, in key order.
    pub async fn device_model(&self, station: &StationId) -> Result<Vec<VariableRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM device_model WHERE station_id = $1
             ORDER BY component, component_instance, evse_id, connector_id, variable,
                      variable_instance, attribute_type",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::variable).collect()
    }

    /// A GetBaseReport / GetReport request about to be sent.
    pub async fn create_report(&self, report: &ReportRecord) -> Result<()> {
        sqlx::query(
            "INSERT INTO reports (station_id, request_id, request, status, complete, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(report.station_id.as_str())
        .bind(report.request_id)
        .bind(&report.request)
        .bind(&report.status)
        .bind(i64::from(report.complete))
        .bind(timestamp(&report.requested_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The station's answer to the report request.
    pub async fn set_report_status(
        &self,
        station: &StationId,
        request_id: i64,
        status: &str,
    ) -> Result<()> {
        sqlx::query("UPDATE reports SET status = $1 WHERE station_id = $2 AND request_id = $3")
            .bind(status)
            .bind(station.as_str())
            .bind(request_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// One more than the station's highest report requestId.
    pub async fn next_report_request_id(&self, station: &StationId) -> Result<i64> {
        let next: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(request_id), 0) + 1 FROM reports WHERE station_id = $1",
        )
        .bind(station.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(next)
    }

    /// A report request and the parts received for it, by seqNo.
    pub async fn report(
        &self,
        station: &StationId,
        request_id: i64,
    ) -> Result<Option<(ReportRecord, Vec<ReportPart>)>> {
        let Some(row) =
            sqlx::query("SELECT * FROM reports WHERE station_id = $1 AND request_id = $2")
                .bind(station.as_str())
                .bind(request_id)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let report = columns::report(&row)?;
        let parts = sqlx::query(
            "SELECT * FROM report_parts WHERE station_id = $1 AND request_id = $2
             ORDER BY seq_no",
        )
        .bind(station.as_str())
        .bind(request_id)
        .fetch_all(&self.pool)
        .await?;
        let parts = parts
            .iter()
            .map(columns::report_part)
            .collect::<Result<Vec<_>>>()?;
        Ok(Some((report, parts)))
    }

    /// Certificates issued to the station, newest first.
    pub async fn issued_certificates(&self, station: &StationId) -> Result<Vec<IssuedCertificate>> {
        let rows = sqlx::query(
            "SELECT * FROM station_certificates WHERE station_id = $1 ORDER BY seq DESC",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::issued_certificate).collect()
    }
}
