//! HubClientInfo from hub partners (migration 0063) on PostgreSQL: the statements of
//! `sqlite/ocpi_hub.rs`. One row per (hub, party), replaced on each PUT by one upsert (atomic
//! on its own, so two nodes receiving PUTs at once leave one of them, never a mix).

use async_trait::async_trait;

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi::{ClientInfoRow, OcpiHub, Party};
use crate::ocpi_rows;
use crate::Result;

#[async_trait]
impl OcpiHub for PgStore {
    async fn put_ocpi_client_info(&self, info: &ClientInfoRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_client_info (partner_id, country_code, party_id, data, last_updated)
             VALUES ($1, $2, $3, $4, $5)
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
             WHERE partner_id = $1 AND country_code = $2 AND party_id = $3",
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
            "SELECT * FROM ocpi_client_info WHERE partner_id = $1
             ORDER BY country_code, party_id",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::client_info).collect()
    }
}
