//! Marking what a station no longer holds (a charging profile, a variable monitor, a display
//! message) as cleared on PostgreSQL, as `sqlite/cleared.rs` does: the row stays, with the time.

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use unicharge_core::StationId;

use crate::columns::timestamp;
use crate::Result;

/// Set `cleared_at` on the rows of `table` with these ids in `id_column` that are not cleared
/// yet, in one statement. Returns how many were cleared.
///
/// `table` and `id_column` are names fixed in this crate, never input.
pub(super) async fn mark_cleared(
    pool: &PgPool,
    table: &'static str,
    id_column: &'static str,
    station: &StationId,
    ids: &[i64],
    at: DateTime<Utc>,
) -> Result<u64> {
    let sql = format!(
        "UPDATE {table} SET cleared_at = $1
         WHERE station_id = $2 AND {id_column} = ANY($3) AND cleared_at IS NULL"
    );
    let n = sqlx::query(&sql)
        .bind(timestamp(&at))
        .bind(station.as_str())
        .bind(ids)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n)
}
