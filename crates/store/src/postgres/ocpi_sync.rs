//! OCPI pull marks and credentials rotation (migration 0092) on PostgreSQL: the statements of
//! `sqlite/ocpi_sync.rs`. Each write is one upsert, atomic on its own across nodes.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi::{OcpiSync, PushRow, RotationRow, SyncMark};
use crate::ocpi_rows::{self, PUSH_COLUMNS};
use crate::Result;

#[async_trait]
impl OcpiSync for PgStore {
    async fn put_ocpi_sync_mark(&self, m: &SyncMark) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_sync (partner_id, module, date_from, synced_at, objects, stored)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (partner_id, module) DO UPDATE SET date_from = excluded.date_from,
                synced_at = excluded.synced_at, objects = excluded.objects,
                stored = excluded.stored",
        )
        .bind(m.partner_id)
        .bind(&m.module)
        .bind(timestamp(&m.date_from))
        .bind(timestamp(&m.synced_at))
        .bind(m.objects)
        .bind(m.stored)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_sync_marks(&self, partner_id: i64) -> Result<Vec<SyncMark>> {
        let rows = sqlx::query("SELECT * FROM ocpi_sync WHERE partner_id = $1 ORDER BY module")
            .bind(partner_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ocpi_rows::sync_mark).collect()
    }

    async fn put_ocpi_rotation(&self, r: &RotationRow) -> Result<()> {
        sqlx::query(
            "INSERT INTO ocpi_credentials_rotation (partner_id, initiated_by_us, issued_at,
                pending_token_hash, pending_since, last_error)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (partner_id) DO UPDATE SET initiated_by_us = excluded.initiated_by_us,
                issued_at = excluded.issued_at, pending_token_hash = excluded.pending_token_hash,
                pending_since = excluded.pending_since, last_error = excluded.last_error",
        )
        .bind(r.partner_id)
        .bind(i64::from(r.initiated_by_us))
        .bind(timestamp(&r.issued_at))
        .bind(&r.pending_token_hash)
        .bind(r.pending_since.as_ref().map(timestamp))
        .bind(&r.last_error)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_rotation(&self, partner_id: i64) -> Result<Option<RotationRow>> {
        let row = sqlx::query("SELECT * FROM ocpi_credentials_rotation WHERE partner_id = $1")
            .bind(partner_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(ocpi_rows::rotation).transpose()
    }

    async fn ocpi_rotations(&self) -> Result<Vec<RotationRow>> {
        let rows = sqlx::query("SELECT * FROM ocpi_credentials_rotation ORDER BY partner_id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(ocpi_rows::rotation).collect()
    }

    async fn ocpi_partner_by_pending_token_hash(&self, hash: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT partner_id FROM ocpi_credentials_rotation WHERE pending_token_hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    async fn ocpi_pushes_since(
        &self,
        partner_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Vec<PushRow>> {
        // created_at is RFC 3339 text with a varying number of decimals: compared as time
        // (SQLite: julianday).
        let rows = sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM ocpi_outbox
             WHERE partner_id = $1
               AND (status = 'PENDING' OR created_at::timestamptz >= $2::timestamptz)
             ORDER BY id"
        ))
        .bind(partner_id)
        .bind(timestamp(&since))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::push).collect()
    }
}
