//! Site load management on PostgreSQL, as `sqlite/site_load.rs`: group settings (operator
//! changes) and the allocation history (the CSMS's own decisions).
//!
//! Several nodes may allocate on one site at once. SQLite's single writer orders a group's
//! allocations by itself; here each allocation is inserted in a transaction that first locks
//! the group's row (`SELECT … FOR UPDATE`), so allocations of one group are serialised across
//! nodes: ids are given in the order the allocations commit, and a reader of the history
//! (newest `limit` by id) never sees a later allocation before an earlier one has committed.

use sqlx::postgres::PgRow;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{timestamp, Columns};
use crate::{Result, SiteAllocationRecord, SiteGroup, StoreError};

fn allocation(row: &PgRow) -> Result<SiteAllocationRecord> {
    let station = row.required_text("station_id")?;
    let rate = row.required_text("rate")?;
    Ok(SiteAllocationRecord {
        group_id: row.required_text("group_id")?,
        at: row.required_time("at")?,
        station_id: StationId::new(station)
            .map_err(|e| StoreError::Corrupt(format!("site_allocations.station_id: {e}")))?,
        evse_id: row.required_int("evse_id")?,
        transaction_id: row.required_text("transaction_id")?,
        rate: rate
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("site_allocations.rate: {e}")))?,
        unit: row.required_text("unit")?,
        reason: row.required_text("reason")?,
        status: row.required_text("status")?,
    })
}

impl PgStore {
    /// [`crate::Store::put_site_group`]: create or replace (by id).
    pub async fn put_site_group(&self, group: &SiteGroup) -> Result<()> {
        let config =
            serde_json::to_string(group).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        sqlx::query(
            "INSERT INTO site_groups (id, config, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (id) DO UPDATE SET config = excluded.config,
                updated_at = excluded.updated_at",
        )
        .bind(&group.id)
        .bind(config)
        .bind(timestamp(&group.updated_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// [`crate::Store::site_groups`], by id.
    pub async fn site_groups(&self) -> Result<Vec<SiteGroup>> {
        let rows: Vec<String> = sqlx::query_scalar("SELECT config FROM site_groups ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|config| {
                serde_json::from_str(config)
                    .map_err(|e| StoreError::Corrupt(format!("site_groups.config: {e}")))
            })
            .collect()
    }

    /// [`crate::Store::delete_site_group`] (its allocation history stays, as in SQLite).
    pub async fn delete_site_group(&self, id: &str) -> Result<bool> {
        let deleted = sqlx::query("DELETE FROM site_groups WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(deleted > 0)
    }

    /// [`crate::Store::add_site_allocation`]: inserted while holding the group's row lock
    /// (see the module doc), so one group's allocations commit one at a time, in id order.
    /// An allocation of a group that does not exist (deleted meanwhile) is still kept, as
    /// SQLite keeps it: the history says what was sent.
    pub async fn add_site_allocation(&self, allocation: &SiteAllocationRecord) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("SELECT 1 FROM site_groups WHERE id = $1 FOR UPDATE")
            .bind(&allocation.group_id)
            .fetch_optional(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO site_allocations (group_id, at, station_id, evse_id, transaction_id,
                rate, unit, reason, status)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&allocation.group_id)
        .bind(timestamp(&allocation.at))
        .bind(allocation.station_id.as_str())
        .bind(allocation.evse_id)
        .bind(&allocation.transaction_id)
        .bind(allocation.rate.to_string())
        .bind(&allocation.unit)
        .bind(&allocation.reason)
        .bind(&allocation.status)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// [`crate::Store::site_allocations`]: the latest `limit` entries, oldest first.
    pub async fn site_allocations(
        &self,
        group_id: &str,
        limit: u32,
    ) -> Result<Vec<SiteAllocationRecord>> {
        sqlx::query(
            "SELECT * FROM (SELECT * FROM site_allocations WHERE group_id = $1
                ORDER BY id DESC LIMIT $2) newest ORDER BY id",
        )
        .bind(group_id)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(allocation)
        .collect()
    }
}
