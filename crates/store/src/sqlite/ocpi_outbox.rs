//! The OCPI push outbox and tariff versions (migrations 0061, 0062). Operator-rate writes, not
//! station traffic: through the pool, one statement each.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::columns::{parse_timestamp, timestamp};
use super::SqliteStore;
use crate::ocpi::{OcpiOutbox, PushCounts, PushRow};
use crate::ocpi_rows::{self, from_millis, millis, party_text, PUSH_COLUMNS};
use crate::Result;

#[async_trait]
impl OcpiOutbox for SqliteStore {
    async fn enqueue_ocpi_push(&self, p: &PushRow) -> Result<Option<i64>> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO ocpi_outbox (partner_id, module, object_key, method, path,
                body, ocpi_from, ocpi_to, status, attempts, next_attempt_ms, last_error,
                created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'PENDING', 0, ?, NULL, ?)",
        )
        .bind(p.partner_id)
        .bind(&p.module)
        .bind(&p.object_key)
        .bind(&p.method)
        .bind(&p.path)
        .bind(&p.body)
        .bind(party_text(&p.from))
        .bind(party_text(&p.to))
        .bind(millis(&p.next_attempt_at))
        .bind(timestamp(&p.created_at))
        .execute(&self.pool)
        .await?;
        Ok((done.rows_affected() == 1).then(|| done.last_insert_rowid()))
    }

    async fn due_ocpi_pushes(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<PushRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM ocpi_outbox o
             WHERE status = 'PENDING' AND next_attempt_ms <= ?
               AND NOT EXISTS (SELECT 1 FROM ocpi_outbox e
                   WHERE e.partner_id = o.partner_id AND e.object_key = o.object_key
                     AND e.status = 'PENDING' AND e.id < o.id)
             ORDER BY id LIMIT ?"
        ))
        .bind(millis(&now))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::push).collect()
    }

    async fn next_ocpi_push_due(&self) -> Result<Option<DateTime<Utc>>> {
        // Only the oldest pending push of each object can be due (the others wait behind it).
        let ms: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(next_attempt_ms) FROM ocpi_outbox o
             WHERE status = 'PENDING'
               AND NOT EXISTS (SELECT 1 FROM ocpi_outbox e
                   WHERE e.partner_id = o.partner_id AND e.object_key = o.object_key
                     AND e.status = 'PENDING' AND e.id < o.id)",
        )
        .fetch_one(&self.pool)
        .await?;
        ms.map(from_millis).transpose()
    }

    async fn ocpi_push_delivered(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE ocpi_outbox SET status = 'DELIVERED', attempts = attempts + 1,
                delivered_at = ? WHERE id = ?",
        )
        .bind(timestamp(&at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_push_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE ocpi_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_ms = ?
             WHERE id = ?",
        )
        .bind(error)
        .bind(millis(&retry_at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_pushes(&self, partner_id: i64, limit: u32) -> Result<Vec<PushRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {PUSH_COLUMNS} FROM ocpi_outbox WHERE partner_id = ? ORDER BY id DESC LIMIT ?"
        ))
        .bind(partner_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::push).collect()
    }

    async fn ocpi_push_counts(&self, partner_id: i64) -> Result<PushCounts> {
        let row = sqlx::query(
            "SELECT
                COALESCE(SUM(status = 'PENDING'), 0) AS pending,
                COALESCE(SUM(status = 'DELIVERED'), 0) AS delivered,
                COALESCE(SUM(status = 'PENDING' AND attempts > 0), 0) AS failing
             FROM ocpi_outbox WHERE partner_id = ?",
        )
        .bind(partner_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(PushCounts {
            pending: row.try_get("pending")?,
            delivered: row.try_get("delivered")?,
            failing: row.try_get("failing")?,
        })
    }

    async fn ocpi_tariff_version(
        &self,
        tariff_id: &str,
        fingerprint: &str,
        now: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, bool)> {
        // One statement, not read-then-write in a transaction: in WAL mode a read snapshot
        // that another connection wrote past cannot be upgraded to a write (SQLITE_BUSY
        // without waiting), while a lone write waits for the lock.
        let changed = sqlx::query(
            "INSERT INTO ocpi_tariff_versions (tariff_id, fingerprint, last_updated)
             VALUES (?, ?, ?)
             ON CONFLICT (tariff_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                last_updated = excluded.last_updated
             WHERE ocpi_tariff_versions.fingerprint <> excluded.fingerprint",
        )
        .bind(tariff_id)
        .bind(fingerprint)
        .bind(timestamp(&now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            > 0;
        if changed {
            return Ok((now, true));
        }
        let at: String =
            sqlx::query_scalar("SELECT last_updated FROM ocpi_tariff_versions WHERE tariff_id = ?")
                .bind(tariff_id)
                .fetch_one(&self.pool)
                .await?;
        Ok((parse_timestamp(&at, "last_updated")?, false))
    }

    async fn ocpi_tariff_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT tariff_id FROM ocpi_tariff_versions ORDER BY tariff_id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn forget_ocpi_tariff(&self, tariff_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM ocpi_tariff_versions WHERE tariff_id = ?")
            .bind(tariff_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
