//! The OCPI push outbox and tariff versions (migrations 0061, 0062) on PostgreSQL: the
//! statements of `sqlite/ocpi_outbox.rs`, except that reading the due pushes *claims* them.
//!
//! Why a claim: with SQLite one process runs one outbox worker, so reading what is due and
//! sending it cannot race. With several nodes on one database every node runs a worker, and
//! two of them reading the same due row would both send it (a CDR POSTed twice). So
//! [`OcpiOutbox::due_ocpi_pushes`] is one statement that picks the due rows `FOR UPDATE SKIP
//! LOCKED` (a row another node is claiming at that instant is skipped, not waited for) and
//! moves their `next_attempt_ms` to the end of a lease (`StoreConfig::ocpi_push_lease`): until
//! then no other node finds them due. The worker's `ocpi_push_delivered` / `ocpi_push_failed`
//! end the lease; a node that dies holding a claim only delays its pushes until the lease ends,
//! when any node takes them over (a push is then sent at least once, never lost).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::Row;

use super::PgStore;
use crate::columns::timestamp;
use crate::ocpi::{OcpiOutbox, PushCounts, PushRow};
use crate::ocpi_rows::{self, millis, party_text, PUSH_COLUMNS};
use crate::Result;

/// The oldest pending push of its object: only it can be due (the others wait behind it).
const FIRST_OF_OBJECT: &str = "NOT EXISTS (SELECT 1 FROM ocpi_outbox e
    WHERE e.partner_id = o.partner_id AND e.object_key = o.object_key
      AND e.status = 'PENDING' AND e.id < o.id)";

#[async_trait]
impl OcpiOutbox for PgStore {
    async fn enqueue_ocpi_push(&self, p: &PushRow) -> Result<Option<i64>> {
        // `ocpi_outbox_once` (partial unique index on POSTs) makes a second POST of an object
        // a no-op, also when two nodes enqueue it at once.
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO ocpi_outbox (partner_id, module, object_key, method, path,
                body, ocpi_from, ocpi_to, status, attempts, next_attempt_ms, last_error,
                created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'PENDING', 0, $9, NULL, $10)
             ON CONFLICT DO NOTHING
             RETURNING id",
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
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    /// Claims the rows it returns (see the module doc): each comes back with the
    /// `next_attempt_at` it was due at, while the stored one is the end of this node's lease.
    async fn due_ocpi_pushes(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<PushRow>> {
        let lease_ms = i64::try_from(self.ocpi_push_lease.as_millis()).unwrap_or(i64::MAX);
        let returning = PUSH_COLUMNS
            .split(',')
            .map(|c| match c.trim() {
                "next_attempt_ms" => "due.due_ms AS next_attempt_ms".to_string(),
                c => format!("o.{c}"),
            })
            .collect::<Vec<_>>()
            .join(", ");
        let rows = sqlx::query(&format!(
            "WITH due AS (
                SELECT o.id, o.next_attempt_ms AS due_ms FROM ocpi_outbox o
                WHERE o.status = 'PENDING' AND o.next_attempt_ms <= $1 AND {FIRST_OF_OBJECT}
                ORDER BY o.id LIMIT $2
                FOR UPDATE OF o SKIP LOCKED
             ), claimed AS (
                UPDATE ocpi_outbox o SET next_attempt_ms = $3 FROM due WHERE o.id = due.id
                RETURNING {returning}
             )
             SELECT * FROM claimed ORDER BY id"
        ))
        .bind(millis(&now))
        .bind(i64::from(limit))
        .bind(millis(&now).saturating_add(lease_ms))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::push).collect()
    }

    /// Counts a claimed push at the end of its lease: when another node may take it over.
    async fn next_ocpi_push_due(&self) -> Result<Option<DateTime<Utc>>> {
        let ms: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT MIN(next_attempt_ms) FROM ocpi_outbox o
             WHERE status = 'PENDING' AND {FIRST_OF_OBJECT}"
        ))
        .fetch_one(&self.pool)
        .await?;
        ms.map(ocpi_rows::from_millis).transpose()
    }

    async fn ocpi_push_delivered(&self, id: i64, at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE ocpi_outbox SET status = 'DELIVERED', attempts = attempts + 1,
                delivered_at = $1 WHERE id = $2",
        )
        .bind(timestamp(&at))
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn ocpi_push_failed(&self, id: i64, error: &str, retry_at: DateTime<Utc>) -> Result<()> {
        sqlx::query(
            "UPDATE ocpi_outbox SET attempts = attempts + 1, last_error = $1,
                next_attempt_ms = $2
             WHERE id = $3",
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
            "SELECT {PUSH_COLUMNS} FROM ocpi_outbox WHERE partner_id = $1
             ORDER BY id DESC LIMIT $2"
        ))
        .bind(partner_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(ocpi_rows::push).collect()
    }

    async fn ocpi_push_counts(&self, partner_id: i64) -> Result<PushCounts> {
        let row = sqlx::query(
            "SELECT
                COUNT(*) FILTER (WHERE status = 'PENDING') AS pending,
                COUNT(*) FILTER (WHERE status = 'DELIVERED') AS delivered,
                COUNT(*) FILTER (WHERE status = 'PENDING' AND attempts > 0) AS failing
             FROM ocpi_outbox WHERE partner_id = $1",
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
        // One statement decides "new or changed" atomically (the upsert locks the row), so two
        // nodes recording the same change see it as a change once. RETURNING yields a row only
        // when it inserted or changed.
        let changed: Option<String> = sqlx::query_scalar(
            "INSERT INTO ocpi_tariff_versions (tariff_id, fingerprint, last_updated)
             VALUES ($1, $2, $3)
             ON CONFLICT (tariff_id) DO UPDATE SET fingerprint = excluded.fingerprint,
                last_updated = excluded.last_updated
             WHERE ocpi_tariff_versions.fingerprint <> excluded.fingerprint
             RETURNING last_updated",
        )
        .bind(tariff_id)
        .bind(fingerprint)
        .bind(timestamp(&now))
        .fetch_optional(&self.pool)
        .await?;
        if changed.is_some() {
            return Ok((now, true));
        }
        let at: String = sqlx::query_scalar(
            "SELECT last_updated FROM ocpi_tariff_versions WHERE tariff_id = $1",
        )
        .bind(tariff_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((crate::columns::parse_timestamp(&at, "last_updated")?, false))
    }

    async fn ocpi_tariff_ids(&self) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT tariff_id FROM ocpi_tariff_versions ORDER BY tariff_id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    async fn forget_ocpi_tariff(&self, tariff_id: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM ocpi_tariff_versions WHERE tariff_id = $1")
            .bind(tariff_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
