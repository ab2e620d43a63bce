//! The money path's writes and reads in the PostgreSQL store, as `sqlite/charging.rs` does
//! them: the facts a transaction learns after its first event (TransactionFacts) and the
//! charge records built when it ends, and the tariffs (I) they are rated with. Decimals are
//! kept as their exact text, never as floats, and a record or tariff is stored as its JSON
//! (`data`), so both engines return the same values.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use sqlx::{PgConnection, PgPool};
use unicharge_core::charge_record::ChargeRecord;
use unicharge_core::tariff::{Tariff, TariffAssignment};
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::timestamp;
use crate::{Result, StoreError, TransactionFacts};

// --- writer side (inside the job's savepoint) ---

/// Facts are only ever added (COALESCE): a later event cannot change the token type, remote
/// start, reservation or tariff the transaction began with.
pub(super) async fn apply_transaction_facts(
    conn: &mut PgConnection,
    f: &TransactionFacts,
) -> Result<()> {
    sqlx::query(
        "UPDATE transactions SET
            id_token_type = COALESCE(id_token_type, $1),
            group_id_token = COALESCE(group_id_token, $2),
            remote_start_id = COALESCE(remote_start_id, $3),
            reservation_id = COALESCE(reservation_id, $4),
            tariff_id = COALESCE(tariff_id, $5)
         WHERE station_id = $6 AND transaction_id = $7",
    )
    .bind(&f.id_token_type)
    .bind(&f.group_id_token)
    .bind(f.remote_start_id)
    .bind(f.reservation_id)
    .bind(&f.tariff_id)
    .bind(f.station_id.as_str())
    .bind(&f.transaction_id)
    .execute(&mut *conn)
    .await?;
    if let Some(id) = f.remote_start_id {
        sqlx::query(
            "UPDATE remote_starts SET transaction_id = COALESCE(transaction_id, $1)
             WHERE id = $2 AND station_id = $3",
        )
        .bind(&f.transaction_id)
        .bind(id)
        .bind(f.station_id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    if let Some(id) = f.reservation_id {
        // H03: the reservation is used by this transaction.
        sqlx::query(
            "UPDATE reservations SET status = 'Used', transaction_id = $1, updated_at = $2
             WHERE id = $3 AND station_id = $4 AND transaction_id IS NULL",
        )
        .bind(&f.transaction_id)
        .bind(timestamp(&Utc::now()))
        .bind(id)
        .bind(f.station_id.as_str())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// One record per transaction (its id is `<station>:<transaction>`): a record built again
/// replaces the cost and data, and keeps when it was first created.
pub(super) async fn insert_charge_record(
    conn: &mut PgConnection,
    record: &ChargeRecord,
) -> Result<()> {
    let data = serde_json::to_string(record).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO charge_records
            (id, station_id, transaction_id, currency, total_incl_vat, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET currency = excluded.currency,
            total_incl_vat = excluded.total_incl_vat, data = excluded.data",
    )
    .bind(&record.id)
    .bind(&record.station_id)
    .bind(&record.transaction_id)
    .bind(record.cost.as_ref().map(|c| c.currency.clone()))
    .bind(record.cost.as_ref().map(|c| c.total_incl_vat.to_string()))
    .bind(data)
    .bind(timestamp(&record.created_at))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

// --- reads (pool) ---

fn records(rows: &[String]) -> Result<Vec<ChargeRecord>> {
    rows.iter().map(|r| record(r)).collect()
}

fn record(raw: &str) -> Result<ChargeRecord> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("charge record: {e}")))
}

async fn newest(
    pool: &PgPool,
    station: Option<&StationId>,
    limit: u32,
) -> Result<Vec<ChargeRecord>> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT data FROM charge_records WHERE ($1::text IS NULL OR station_id = $1)
         ORDER BY created_at DESC LIMIT $2",
    )
    .bind(station.map(StationId::as_str))
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    records(&rows)
}

impl PgStore {
    /// [`crate::Store::charge_record`].
    pub async fn charge_record(&self, id: &str) -> Result<Option<ChargeRecord>> {
        let raw: Option<String> =
            sqlx::query_scalar("SELECT data FROM charge_records WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        raw.as_deref().map(record).transpose()
    }

    /// [`crate::Store::charge_records`]: the newest `limit`, of one station or all.
    pub async fn charge_records(
        &self,
        station: Option<&StationId>,
        limit: u32,
    ) -> Result<Vec<ChargeRecord>> {
        newest(&self.pool, station, limit).await
    }

    /// [`crate::Store::charge_records_with_station_prefix`]: the prefix compared character
    /// by character, as SQLite's `substr`, never as a `LIKE` pattern (`%` and `_` are
    /// ordinary characters of a station id).
    pub async fn charge_records_with_station_prefix(
        &self,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<ChargeRecord>> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT data FROM charge_records WHERE left(station_id, length($1)) = $1
             ORDER BY created_at DESC LIMIT $2",
        )
        .bind(prefix)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        records(&rows)
    }

    // --- tariffs (I): operator changes, each its own transaction on the pool ---

    /// [`crate::Store::put_tariff`]: create or replace (by id).
    pub async fn put_tariff(&self, tariff: &Tariff) -> Result<()> {
        let _changed = self.tariffs.changing();
        sqlx::query(
            "INSERT INTO tariffs (id, data, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at",
        )
        .bind(&tariff.id)
        .bind(json_text(tariff)?)
        .bind(timestamp(&Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::tariffs`], by id, as read within [`TariffCache`]'s time.
    pub async fn tariffs(&self) -> Result<Vec<Tariff>> {
        Ok(self.tariff_snapshot().await?.0.clone())
    }

    /// Tariffs and assignments from the cache, or read afresh (both at once) when it is older
    /// than its time or this node changed them since.
    async fn tariff_snapshot(&self) -> Result<TariffSnapshot> {
        let cache = &self.tariffs;
        let generation = {
            let held = cache.held.lock().unwrap_or_else(|p| p.into_inner());
            if let Some((read_at, snapshot)) = &held.snapshot {
                if read_at.elapsed() < cache.ttl {
                    return Ok(snapshot.clone());
                }
            }
            held.generation
        };
        let rows: Vec<String> = sqlx::query_scalar("SELECT data FROM tariffs ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        let tariffs = rows
            .iter()
            .map(|r| json(r, "tariff"))
            .collect::<Result<_>>()?;
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, tariff_id, scope FROM tariff_assignments ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        let assignments = rows
            .into_iter()
            .map(|(id, tariff_id, scope)| {
                Ok((
                    id,
                    TariffAssignment {
                        tariff_id,
                        scope: json(&scope, "tariff scope")?,
                    },
                ))
            })
            .collect::<Result<_>>()?;
        let snapshot = Arc::new((tariffs, assignments));
        let mut held = cache.held.lock().unwrap_or_else(|p| p.into_inner());
        // Changed by this node while reading: what was read may predate the change.
        if held.generation == generation && !cache.ttl.is_zero() {
            held.snapshot = Some((Instant::now(), snapshot.clone()));
        }
        Ok(snapshot)
    }

    /// [`crate::Store::delete_tariff`]: its assignments go with it (`ON DELETE CASCADE`).
    pub async fn delete_tariff(&self, id: &str) -> Result<bool> {
        let _changed = self.tariffs.changing();
        let deleted = sqlx::query("DELETE FROM tariffs WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// [`crate::Store::add_tariff_assignment`]: the id is the identity column's, given by
    /// the INSERT itself (`RETURNING`), so two nodes never hand out the same one.
    pub async fn add_tariff_assignment(&self, assignment: &TariffAssignment) -> Result<i64> {
        let _changed = self.tariffs.changing();
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tariff_assignments (tariff_id, scope, created_at) VALUES ($1, $2, $3)
             RETURNING id",
        )
        .bind(&assignment.tariff_id)
        .bind(json_text(&assignment.scope)?)
        .bind(timestamp(&Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    /// [`crate::Store::tariff_assignments`]: oldest first (later ones win ties), as read within
    /// [`TariffCache`]'s time.
    pub async fn tariff_assignments(&self) -> Result<Vec<(i64, TariffAssignment)>> {
        Ok(self.tariff_snapshot().await?.1.clone())
    }

    /// [`crate::Store::delete_tariff_assignment`].
    pub async fn delete_tariff_assignment(&self, id: i64) -> Result<bool> {
        let _changed = self.tariffs.changing();
        let deleted = sqlx::query("DELETE FROM tariff_assignments WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }
}

/// Tariffs and their assignments, as read together.
type TariffSnapshot = Arc<(Vec<Tariff>, Vec<(i64, TariffAssignment)>)>;

/// This node's tariffs as last read ([`crate::postgres::StoreConfig::tariff_cache_ttl`]).
pub(crate) struct TariffCache {
    ttl: Duration,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    snapshot: Option<(Instant, TariffSnapshot)>,
    /// Counts this node's changes: a read that overlapped one is not kept.
    generation: u64,
}

impl TariffCache {
    pub(crate) fn new(ttl: Duration) -> Arc<Self> {
        Arc::new(TariffCache {
            ttl,
            held: Mutex::new(Held::default()),
        })
    }

    /// Forget the snapshot now and once more when the returned guard drops (the change is then
    /// committed): a read between the two may have seen the old rows.
    fn changing(self: &Arc<Self>) -> Changing {
        self.forget();
        Changing(self.clone())
    }

    fn forget(&self) {
        let mut held = self.held.lock().unwrap_or_else(|p| p.into_inner());
        held.snapshot = None;
        held.generation += 1;
    }
}

/// See [`TariffCache::changing`].
struct Changing(Arc<TariffCache>);

impl Drop for Changing {
    fn drop(&mut self) {
        self.0.forget();
    }
}

fn json_text<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn json<T: serde::de::DeserializeOwned>(raw: &str, what: &str) -> Result<T> {
    serde_json::from_str(raw).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}
