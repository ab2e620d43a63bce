//! OCPI signing keys (migration 0101, B8.5) on PostgreSQL. The statements of
//! `sqlite/ocpi_signing.rs`; the replacement is one transaction on either engine.

use async_trait::async_trait;

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi_rows;
use crate::ocpi_signing::{OcpiSigningKeys, SigningKeyRow, PUBLISHED, TRUSTED};
use crate::Result;

#[async_trait]
impl OcpiSigningKeys for PgStore {
    async fn ocpi_signing_keys(&self, partner_id: i64) -> Result<Vec<SigningKeyRow>> {
        let rows = sqlx::query(
            "SELECT * FROM ocpi_signing_keys WHERE partner_id = $1 ORDER BY source, kid",
        )
        .bind(partner_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::signing_key).collect()
    }

    async fn replace_ocpi_published_keys(
        &self,
        partner_id: i64,
        keys: &[SigningKeyRow],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        // Two nodes replacing the same partner's keys at once take turns (READ COMMITTED would
        // otherwise let both inserts through, leaving the union of the two sets).
        sqlx::query("SELECT id FROM ocpi_partners WHERE id = $1 FOR UPDATE")
            .bind(partner_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM ocpi_signing_keys WHERE partner_id = $1 AND source = $2")
            .bind(partner_id)
            .bind(PUBLISHED)
            .execute(&mut *tx)
            .await?;
        for key in keys {
            insert(&mut tx, partner_id, PUBLISHED, key).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn put_ocpi_trusted_key(&self, row: &SigningKeyRow) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        insert(&mut tx, row.partner_id, TRUSTED, row).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn delete_ocpi_trusted_key(&self, partner_id: i64, kid: &str) -> Result<bool> {
        let done = sqlx::query(
            "DELETE FROM ocpi_signing_keys WHERE partner_id = $1 AND source = $2 AND kid = $3",
        )
        .bind(partner_id)
        .bind(TRUSTED)
        .bind(kid)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}

/// Upsert one key of `source` for the partner (a repeated key keeps one row, relabelled).
async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    partner_id: i64,
    source: &str,
    key: &SigningKeyRow,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO ocpi_signing_keys (partner_id, source, kid, public_key, label, added_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (partner_id, source, kid) DO UPDATE SET
            public_key = excluded.public_key, label = excluded.label",
    )
    .bind(partner_id)
    .bind(source)
    .bind(&key.kid)
    .bind(&key.public_key)
    .bind(&key.label)
    .bind(timestamp(&key.added_at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
