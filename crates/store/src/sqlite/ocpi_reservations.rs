//! OCPI reservation ids against CSMS reservation ids (migration 0093).

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::columns::{parse_timestamp, station_id, timestamp};
use super::SqliteStore;
use crate::ocpi_reservations::{OcpiReservationRow, OcpiReservations};
use crate::Result;

fn reservation_row(row: &SqliteRow) -> Result<OcpiReservationRow> {
    Ok(OcpiReservationRow {
        partner_id: row.try_get("partner_id")?,
        reservation_id: row.try_get("reservation_id")?,
        location_id: row.try_get("location_id")?,
        station_id: station_id(row, "station_id")?,
        csms_reservation_id: row.try_get("csms_reservation_id")?,
        created_at: parse_timestamp(&row.try_get::<String, _>("created_at")?, "created_at")?,
    })
}

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
        row.as_ref().map(reservation_row).transpose()
    }
}
