//! HubClientInfo from hub partners (migration 0063): one row per (hub, party), replaced on
//! each PUT.

use async_trait::async_trait;

use super::columns::timestamp;
use super::SqliteStore;
use crate::ocpi::{ClientInfoRow, OcpiHub, Party};
use crate::ocpi_rows;
use crate::Result;

#[async_trait]
impl OcpiHub for SqliteStore {
    async fn put_ocpi_client_info(&self, info: &ClientInfoRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_client_info (partner_id, country_code, party_id, data, last_updated)
             VALUES (?, ?, ?, ?, ?)
             ON CONFLICT (partner_id, country_code, party_id) DO UPDATE SET
                data = excluded.data, last_updated = excluded.last_updated",
        )
        .bind(info.partner_id)
        .bind(&info.party.country_code)
        .bind(&info.party.party_id)
        .bind(&info.data)
        .bind(timestamp(&info.last_updated))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_client_info(
        &self,
        partner_id: i64,
        party: &Party,
    ) -> Result<Option<ClientInfoRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_client_info
             WHERE partner_id = ? AND country_code = ? AND party_id = ?",
        )
        .bind(partner_id)
        .bind(&party.country_code)
        .bind(&party.party_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::client_info).transpose()
    }

    async fn ocpi_client_infos(&self, partner_id: i64) -> Result<Vec<ClientInfoRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_client_info WHERE partner_id = ?
             ORDER BY country_code, party_id",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::client_info).collect()
    }
}
