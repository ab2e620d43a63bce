//! The OCPI eMSP role's records (migration 0064): objects CPO partners pushed to us, commands
//! we sent, tokens of our eMSP parties. Operator- and partner-rate writes: through the pool.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::columns::timestamp;
use super::SqliteStore;
use crate::ocpi::{CommandSentRow, OcpiEmsp, OwnTokenRow, Party, ReceivedRow};
use crate::ocpi_rows;
use crate::Result;

const INSERT_RECEIVED: &str = "INSERT INTO ocpi_received
    (partner_id, module, country_code, party_id, id, data, last_updated, received_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

fn bind_received<'q>(
    query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    row: &'q ReceivedRow,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
    query
        .bind(row.partner_id)
        .bind(&row.module)
        .bind(&row.party.country_code)
        .bind(&row.party.party_id)
        .bind(&row.id)
        .bind(&row.data)
        .bind(timestamp(&row.last_updated))
        .bind(timestamp(&row.received_at))
}

#[async_trait]
impl OcpiEmsp for SqliteStore {
    async fn put_ocpi_received(&self, row: &ReceivedRow) -> Result<()> {
        let sql = format!(
            "{INSERT_RECEIVED} ON CONFLICT (partner_id, module, country_code, party_id, id)
             DO UPDATE SET data = excluded.data, last_updated = excluded.last_updated,
                received_at = excluded.received_at"
        );
        bind_received(sqlx::query(&sql), row)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn insert_ocpi_received_once(&self, row: &ReceivedRow) -> Result<bool> {
        let sql = format!("{INSERT_RECEIVED} ON CONFLICT DO NOTHING");
        let done = bind_received(sqlx::query(&sql), row)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn ocpi_received(
        &self,
        partner_id: i64,
        module: &str,
        party: &Party,
        id: &str,
    ) -> Result<Option<ReceivedRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_received WHERE partner_id = ? AND module = ?
             AND country_code = ? AND party_id = ? AND id = ?",
        )
        .bind(partner_id)
        .bind(module)
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::received).transpose()
    }

    async fn ocpi_received_list(
        &self,
        partner_id: Option<i64>,
        module: &str,
    ) -> Result<Vec<ReceivedRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_received WHERE module = ?1 AND (?2 IS NULL OR partner_id = ?2)
             ORDER BY rowid",
        )
        .bind(module)
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::received).collect()
    }

    async fn delete_ocpi_received(
        &self,
        partner_id: i64,
        module: &str,
        party: &Party,
        id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM ocpi_received WHERE partner_id = ? AND module = ?
             AND country_code = ? AND party_id = ? AND id = ?",
        )
        .bind(partner_id)
        .bind(module)
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn create_ocpi_command(&self, row: &CommandSentRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_commands_sent
             (id, partner_id, command, request, response, result, created_at, result_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(&row.id)
        .bind(row.partner_id)
        .bind(&row.command)
        .bind(&row.request)
        .bind(&row.response)
        .bind(&row.result)
        .bind(timestamp(&row.created_at))
        .bind(row.result_at.as_ref().map(timestamp))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_command_response(&self, id: &str, response: &str) -> Result<()> {
        sqlx::query("UPDATE ocpi_commands_sent SET response = ? WHERE id = ?")
            .bind(response)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn ocpi_command_result(&self, id: &str, result: &str, at: DateTime<Utc>) -> Result<bool> {
        let done =
            sqlx::query("UPDATE ocpi_commands_sent SET result = ?, result_at = ? WHERE id = ?")
                .bind(result)
                .bind(timestamp(&at))
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn ocpi_command(&self, id: &str) -> Result<Option<CommandSentRow>> {
        let row = sqlx::query("SELECT * FROM ocpi_commands_sent WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ocpi_rows::command_sent).transpose()
    }

    async fn ocpi_commands(&self, partner_id: i64) -> Result<Vec<CommandSentRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_commands_sent WHERE partner_id = ? ORDER BY rowid DESC",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::command_sent).collect()
    }

    async fn put_ocpi_own_token(&self, token: &OwnTokenRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_own_tokens (country_code, party_id, uid, type, data, last_updated)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (country_code, party_id, uid, type) DO UPDATE SET
                data = excluded.data, last_updated = excluded.last_updated",
        )
        .bind(&token.party.country_code)
        .bind(&token.party.party_id)
        .bind(&token.uid)
        .bind(&token.kind)
        .bind(&token.data)
        .bind(timestamp(&token.last_updated))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_own_token(
        &self,
        party: &Party,
        uid: &str,
        kind: &str,
    ) -> Result<Option<OwnTokenRow>> {
        let row = sqlx::query(
            "SELECT * FROM ocpi_own_tokens
             WHERE country_code = ? AND party_id = ? AND uid = ? AND type = ?",
        )
        .bind(&party.country_code)
        .bind(&party.party_id)
        .bind(uid)
        .bind(kind)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(ocpi_rows::own_token).transpose()
    }

    async fn ocpi_own_tokens(&self) -> Result<Vec<OwnTokenRow>> {
        let rows = sqlx::query("SELECT * FROM ocpi_own_tokens ORDER BY rowid")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ocpi_rows::own_token).collect()
    }
}
