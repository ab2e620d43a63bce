//! Marking what a station no longer holds (a charging profile, a variable monitor) as cleared:
//! the row stays, with the time, so the history of what was held is not lost.

use chrono::{DateTime, Utc};
use sqlx::SqlitePool;
use unicharge_core::StationId;

use crate::Result;

/// Set `cleared_at` on the rows of `table` with these ids in `id_column` that are not cleared
/// yet, in one transaction. Returns how many were cleared.
///
/// `table` and `id_column` are names fixed in this crate, never input.
pub(super) async fn mark_cleared(
    pool: &SqlitePool,
    table: &'static str,
    id_column: &'static str,
    station: &StationId,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<u64> {
    let sql = format!(
        "UPDATE {table} SET cleared_at = ?
         WHERE station_id = ? AND {id_column} = ? AND cleared_at IS NULL"
    );
    let mut tx = pool.begin().await?;
    let mut n = 0;
    for id in ids {
        n += sqlx::query(&sql)
            .bind(at)
            .bind(station.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    }
    tx.commit().await?;
    Ok(n)
}
