//! SQLite side of site load management: group settings and allocation history (pool writes:
//! operator changes and the CSMS's own allocation decisions, not station messages).

use sqlx::sqlite::{SqlitePool, SqliteRow};
use sqlx::Row;
use unicharge_core::StationId;

use crate::{Result, SiteAllocationRecord, SiteGroup, StoreError};

pub(super) async fn put_group(pool: &SqlitePool, group: &SiteGroup) -> Result<()> {
    let config = serde_json::to_string(group).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    sqlx::query(
        "INSERT INTO site_groups (id, config, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET config = excluded.config, updated_at = excluded.updated_at",
    )
    .bind(&group.id)
    .bind(config)
    .bind(group.updated_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn groups(pool: &SqlitePool) -> Result<Vec<SiteGroup>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT config FROM site_groups ORDER BY id")
        .fetch_all(pool)
        .await?;
    rows.into_iter()
        .map(|(config,)| {
            serde_json::from_str(&config)
                .map_err(|e| StoreError::Corrupt(format!("site_groups.config: {e}")))
        })
        .collect()
}

pub(super) async fn delete_group(pool: &SqlitePool, id: &str) -> Result<bool> {
    let deleted = sqlx::query("DELETE FROM site_groups WHERE id = ?")
        .bind(id)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(deleted > 0)
}

pub(super) async fn add_allocation(pool: &SqlitePool, a: &SiteAllocationRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO site_allocations (group_id, at, station_id, evse_id, transaction_id, rate,
            unit, reason, status)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&a.group_id)
    .bind(a.at)
    .bind(a.station_id.as_str())
    .bind(a.evse_id)
    .bind(&a.transaction_id)
    .bind(a.rate.to_string())
    .bind(&a.unit)
    .bind(&a.reason)
    .bind(&a.status)
    .execute(pool)
    .await?;
    Ok(())
}

fn allocation(row: &SqliteRow) -> Result<SiteAllocationRecord> {
    let station: String = row.try_get("station_id")?;
    let rate: String = row.try_get("rate")?;
    Ok(SiteAllocationRecord {
        group_id: row.try_get("group_id")?,
        at: row.try_get("at")?,
        station_id: StationId::new(station)
            .map_err(|e| StoreError::Corrupt(format!("site_allocations.station_id: {e}")))?,
        evse_id: row.try_get("evse_id")?,
        transaction_id: row.try_get("transaction_id")?,
        rate: rate
            .parse()
            .map_err(|e| StoreError::Corrupt(format!("site_allocations.rate: {e}")))?,
        unit: row.try_get("unit")?,
        reason: row.try_get("reason")?,
        status: row.try_get("status")?,
    })
}

/// The group's allocation history, oldest first: the latest `limit` entries.
pub(super) async fn allocations(
    pool: &SqlitePool,
    group_id: &str,
    limit: u32,
) -> Result<Vec<SiteAllocationRecord>> {
    let rows = sqlx::query(
        "SELECT * FROM (SELECT * FROM site_allocations WHERE group_id = ?
            ORDER BY id DESC LIMIT ?) ORDER BY id",
    )
    .bind(group_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    rows.iter().map(allocation).collect()
}
