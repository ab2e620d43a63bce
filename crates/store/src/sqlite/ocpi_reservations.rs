//! OCPI reservation ids against CSMS reservation ids (migration 0093) and CDR verdicts
//! (migration 0094).

use async_trait::async_trait;

use super::columns::timestamp;
use super::SqliteStore;
use crate::ocpi_reservations::{
    CdrVerdictRow, OcpiCdrVerdicts, OcpiReservationRow, OcpiReservations,
};
use crate::ocpi_rows;
use crate::Result;

#[async_trait]
impl OcpiReservations for SqliteStore {
    async fn put_ocpi_reservation(&self, r: &OcpiReservationRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_reservations
                (partner_id, reservation_id, location_id, station_id, csms_reservation_id,
                 created_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, reservation_id) DO UPDATE SET
                location_id = excluded.location_id, station_id = excluded.station_id,
                csms_reservation_id = excluded.csms_reservation_id,
                created_at = excluded.created_at",
        )
        .bind(r.partner_id)
        .bind(&r.reservation_id)
        .bind(&r.location_id)
        .bind(r.station_id.as_str())
        .bind(r.csms_reservation_id)
        .bind(timestamp(&r.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_reservation(
        &self,
        partner_id: i64,
        reservation_id: &str,
    ) -> Result<Option<OcpiReservationRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_reservations WHERE partner_id = ? AND reservation_id = ?",
        )
        .bind(partner_id)
        .bind(reservation_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::reservation).transpose()
    }
}

#[async_trait]
impl OcpiCdrVerdicts for SqliteStore {
    async fn put_ocpi_cdr_verdict(&self, v: &CdrVerdictRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_cdr_verdicts
                (partner_id, side, cdr_id, result, reason, last_updated)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, side, cdr_id) DO UPDATE SET
                result = excluded.result, reason = excluded.reason,
                last_updated = excluded.last_updated",
        )
        .bind(v.partner_id)
        .bind(&v.side)
        .bind(&v.cdr_id)
        .bind(&v.result)
        .bind(&v.reason)
        .bind(timestamp(&v.last_updated))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_cdr_verdicts(
        &self,
        side: &str,
        result: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CdrVerdictRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_cdr_verdicts WHERE side = ? AND (? IS NULL OR result = ?)
             ORDER BY last_updated DESC LIMIT ?",
        )
        .bind(side)
        .bind(result)
        .bind(result)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::cdr_verdict).collect()
    }
}
