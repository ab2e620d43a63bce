//! OCPI reservation ids against CSMS reservation ids (migration 0093) and CDR verdicts
//! (migration 0094) on PostgreSQL: the statements of `sqlite/ocpi_reservations.rs`. Each write
//! is one upsert, atomic on its own across nodes.

use async_trait::async_trait;

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi_reservations::{
    CdrVerdictRow, OcpiCdrVerdicts, OcpiReservationRow, OcpiReservations,
};
use crate::ocpi_rows;
use crate::Result;

#[async_trait]
impl OcpiReservations for PgStore {
    async fn put_ocpi_reservation(&self, r: &OcpiReservationRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_reservations
                (partner_id, reservation_id, location_id, station_id, csms_reservation_id,
                 created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
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
            "SELECT * FROM ocpi_reservations WHERE partner_id = $1 AND reservation_id = $2",
        )
        .bind(partner_id)
        .bind(reservation_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::reservation).transpose()
    }
}

#[async_trait]
impl OcpiCdrVerdicts for PgStore {
    async fn put_ocpi_cdr_verdict(&self, v: &CdrVerdictRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_cdr_verdicts
                (partner_id, side, cdr_id, result, reason, last_updated)
             VALUES ($1, $2, $3, $4, $5, $6)
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

    /// Newest first as SQLite; ties (SQLite: unspecified) by partner and CDR, so every node
    /// pages alike.
    async fn ocpi_cdr_verdicts(
        &self,
        side: &str,
        result: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CdrVerdictRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_cdr_verdicts WHERE side = $1 AND ($2::text IS NULL OR result = $2)
             ORDER BY last_updated DESC, partner_id, cdr_id LIMIT $3",
        )
        .bind(side)
        .bind(result)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::cdr_verdict).collect()
    }
}
