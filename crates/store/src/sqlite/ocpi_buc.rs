//! Roles published to partners (migration 0097), session limits (migration 0098) and location
//! data sharing (migration 0100).

use async_trait::async_trait;

use super::columns::timestamp;
use super::SqliteStore;
use crate::ocpi::Party;
use crate::ocpi_buc::{
    OcpiLocationSharing, OcpiPublishedRoles, OcpiSessionLimits, PublishedRolesRow, SessionLimitRow,
    SharingRow,
};
use crate::ocpi_rows;
use crate::Result;

#[async_trait]
impl OcpiPublishedRoles for SqliteStore {
    async fn put_ocpi_published_roles(&self, r: &PublishedRolesRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_published_roles (partner_id, roles, published_at, last_error)
             VALUES (?, ?, ?, ?)
             ON CONFLICT (partner_id) DO UPDATE SET roles = excluded.roles,
                published_at = excluded.published_at, last_error = excluded.last_error",
        )
        .bind(r.partner_id)
        .bind(&r.roles)
        .bind(timestamp(&r.published_at))
        .bind(&r.last_error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_published_roles(&self, partner_id: i64) -> Result<Option<PublishedRolesRow>> {
        let row = sqlx::query("SELECT * FROM ocpi_published_roles WHERE partner_id = ?")
            .bind(partner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ocpi_rows::published_roles).transpose()
    }
}

#[async_trait]
impl OcpiSessionLimits for SqliteStore {
    async fn put_ocpi_session_limit(&self, r: &SessionLimitRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_session_limits
                (partner_id, side, session_id, station_id, transaction_id, data, reached,
                 reached_at, stop_requested_at, stop_result, last_updated)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, side, session_id) DO UPDATE SET
                station_id = excluded.station_id, transaction_id = excluded.transaction_id,
                data = excluded.data, reached = excluded.reached,
                reached_at = excluded.reached_at, stop_requested_at = excluded.stop_requested_at,
                stop_result = excluded.stop_result, last_updated = excluded.last_updated",
        )
        .bind(r.partner_id)
        .bind(&r.side)
        .bind(&r.session_id)
        .bind(r.station_id.as_ref().map(|s| s.as_str().to_string()))
        .bind(&r.transaction_id)
        .bind(&r.data)
        .bind(&r.reached)
        .bind(r.reached_at.as_ref().map(timestamp))
        .bind(r.stop_requested_at.as_ref().map(timestamp))
        .bind(&r.stop_result)
        .bind(timestamp(&r.last_updated))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_session_limit(
        &self,
        partner_id: i64,
        side: &str,
        session_id: &str,
    ) -> Result<Option<SessionLimitRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_session_limits
             WHERE partner_id = ? AND side = ? AND session_id = ?",
        )
        .bind(partner_id)
        .bind(side)
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::session_limit).transpose()
    }

    async fn ocpi_session_limits_armed(&self) -> Result<Vec<SessionLimitRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_session_limits WHERE side = 'RECEIVED'
               AND (stop_result IS NULL OR stop_result NOT IN ('Accepted', 'ENDED'))",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::session_limit).collect()
    }

    async fn delete_ocpi_session_limit(
        &self,
        partner_id: i64,
        side: &str,
        session_id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM ocpi_session_limits WHERE partner_id = ? AND side = ? AND session_id = ?",
        )
        .bind(partner_id)
        .bind(side)
        .bind(session_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

#[async_trait]
impl OcpiLocationSharing for SqliteStore {
    async fn put_ocpi_location_sharing(&self, r: &SharingRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_location_sharing
                (country_code, party_id, location_id, partner_id, approved, reason, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (country_code, party_id, location_id, partner_id) DO UPDATE SET
                approved = excluded.approved, reason = excluded.reason,
                updated_at = excluded.updated_at",
        )
        .bind(&r.party.country_code)
        .bind(&r.party.party_id)
        .bind(&r.location_id)
        .bind(r.partner_id.unwrap_or(0))
        .bind(r.approved)
        .bind(&r.reason)
        .bind(timestamp(&r.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn delete_ocpi_location_sharing(
        &self,
        party: &Party,
        location_id: &str,
        partner_id: Option<i64>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM ocpi_location_sharing
             WHERE country_code = ? AND party_id = ? AND location_id = ? AND partner_id = ?",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(location_id)
        .bind(partner_id.unwrap_or(0))
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn ocpi_location_sharing(&self) -> Result<Vec<SharingRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_location_sharing
             ORDER BY country_code, party_id, location_id, partner_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::sharing).collect()
    }
}
