//! The station registry and the CSMS core's reads on PostgreSQL: the same statements and
//! semantics as the SQLite store's [`crate::Store`] methods of the same names (which the
//! PostgreSQL store cannot implement until every method exists, ADR 0047). Rows are decoded by
//! the shared decoders in `crate::columns`.
//!
//! Operator-side changes run in their own transactions on the pool, not through the writer:
//! there are no caches to keep coherent with them, and PostgreSQL's row locks serialise them
//! with the writer's batches.

use chrono::{DateTime, Utc};
use unicharge_core::{Station, StationId};

use super::PgStore;
use crate::columns::{self, timestamp};
use crate::{
    ConnectorRecord, Result, StoreError, StoredAnswer, TransactionEventRecord, TransactionRecord,
};

/// PostgreSQL's `unique_violation`.
const UNIQUE_VIOLATION: &str = "23505";

impl PgStore {
    /// Register a new station. Fails with [`StoreError::StationExists`] if the id is taken.
    pub async fn create_station(&self, station: &Station) -> Result<()> {
        let inserted = sqlx::query(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(station.id.as_str())
        .bind(i64::from(station.security_profile.number()))
        .bind(&station.password_hash)
        .bind(station.registration.as_str())
        .bind(timestamp(&station.created_at))
        .execute(&self.pool)
        .await;
        match inserted {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some(UNIQUE_VIOLATION) => {
                Err(StoreError::StationExists(station.id.clone()))
            }
            Err(e) => Err(e.into()),
            Ok(_) => Ok(()),
        }
    }

    /// Register or update the operator-managed fields (profile, password hash, registration).
    pub async fn upsert_station(&self, station: &Station) -> Result<()> {
        sqlx::query(
            "INSERT INTO stations (id, security_profile, password_hash, registration, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET
                security_profile = excluded.security_profile,
                password_hash = excluded.password_hash,
                registration = excluded.registration",
        )
        .bind(station.id.as_str())
        .bind(i64::from(station.security_profile.number()))
        .bind(&station.password_hash)
        .bind(station.registration.as_str())
        .bind(timestamp(&station.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn get_station(&self, id: &StationId) -> Result<Option<Station>> {
        let row = sqlx::query("SELECT * FROM stations WHERE id = $1")
            .bind(id.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| columns::station(&r)).transpose()
    }

    pub async fn list_stations(&self) -> Result<Vec<Station>> {
        let rows = sqlx::query("SELECT * FROM stations ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(columns::station).collect()
    }

    /// Remove a station and everything it reported (foreign keys cascade; answers have
    /// none). True if it existed.
    pub async fn delete_station(&self, id: &StationId) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM answers WHERE station_id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM stations WHERE id = $1")
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted > 0)
    }

    /// Forget the answers kept for retransmission detection older than `before`; how many.
    pub async fn prune_answers(&self, before: DateTime<Utc>) -> Result<u64> {
        let done = sqlx::query("DELETE FROM answers WHERE answered_at < $1")
            .bind(timestamp(&before))
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// The answer stored for a CALL with this station and message id, if any.
    pub async fn find_answer(
        &self,
        station: &StationId,
        message_id: &str,
    ) -> Result<Option<StoredAnswer>> {
        let row = sqlx::query("SELECT * FROM answers WHERE station_id = $1 AND message_id = $2")
            .bind(station.as_str())
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| columns::answer(&r)).transpose()
    }

    pub async fn connectors(&self, station: &StationId) -> Result<Vec<ConnectorRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM connectors WHERE station_id = $1 ORDER BY evse_id, connector_id",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::connector).collect()
    }

    pub async fn transaction(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Option<TransactionRecord>> {
        let row =
            sqlx::query("SELECT * FROM transactions WHERE station_id = $1 AND transaction_id = $2")
                .bind(station.as_str())
                .bind(transaction_id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(r) => {
                let mut t = columns::transaction(&r)?;
                t.seq_no_gaps = self.seq_no_gaps(station, &t).await?;
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }

    /// The station's transactions, newest first.
    pub async fn transactions(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<TransactionRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM transactions WHERE station_id = $1 ORDER BY started_at DESC LIMIT $2",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        let mut list = rows
            .iter()
            .map(columns::transaction)
            .collect::<Result<Vec<_>>>()?;
        for t in &mut list {
            t.seq_no_gaps = self.seq_no_gaps(station, t).await?;
        }
        Ok(list)
    }

    /// Every event of a transaction, by seqNo.
    pub async fn transaction_events(
        &self,
        station: &StationId,
        transaction_id: &str,
    ) -> Result<Vec<TransactionEventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM transaction_events WHERE station_id = $1 AND transaction_id = $2
             ORDER BY seq_no",
        )
        .bind(station.as_str())
        .bind(transaction_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::transaction_event).collect()
    }

    /// Whether the transaction already has an event with this seqNo (one keyed lookup).
    pub async fn transaction_event_seen(
        &self,
        station: &StationId,
        transaction_id: &str,
        seq_no: i64,
    ) -> Result<bool> {
        let seen: Option<i32> = sqlx::query_scalar(
            "SELECT 1 FROM transaction_events
             WHERE station_id = $1 AND transaction_id = $2 AND seq_no = $3",
        )
        .bind(station.as_str())
        .bind(transaction_id)
        .bind(seq_no)
        .fetch_optional(&self.pool)
        .await?;
        Ok(seen.is_some())
    }

    /// The seqNos missing from the transaction's events (see `columns::gaps`); no second read
    /// when they are contiguous, the usual case.
    async fn seq_no_gaps(&self, station: &StationId, t: &TransactionRecord) -> Result<Vec<i64>> {
        let lowest: Option<i64> = sqlx::query_scalar(
            "SELECT MIN(seq_no) FROM transaction_events
             WHERE station_id = $1 AND transaction_id = $2",
        )
        .bind(station.as_str())
        .bind(&t.transaction_id)
        .fetch_one(&self.pool)
        .await?;
        if columns::contiguous(t, lowest) {
            return Ok(Vec::new());
        }
        let seqs: Vec<i64> = sqlx::query_scalar(
            "SELECT seq_no FROM transaction_events WHERE station_id = $1 AND transaction_id = $2
             ORDER BY seq_no",
        )
        .bind(station.as_str())
        .bind(&t.transaction_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(columns::gaps(&seqs))
    }
}
