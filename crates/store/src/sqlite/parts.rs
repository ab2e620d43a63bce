//! A request the station answers in parts under a requestId (GetChargingProfiles →
//! ReportChargingProfiles, GetDisplayMessages → NotifyDisplayMessages): the request row and its
//! parts in arrival order, read the same way for each.

use sqlx::sqlite::{SqlitePool, SqliteRow};
use unicharge_core::StationId;

use crate::Result;

/// The request `request_id` of `station` from `requests` with its rows from `parts` (by
/// arrival, the `id` column), decoded by `head` and `part`. `None` if there is no such request.
///
/// The table names are fixed in this crate, never input.
pub(super) async fn with_parts<R, P>(
    pool: &SqlitePool,
    requests: &'static str,
    parts: &'static str,
    station: &StationId,
    request_id: i64,
    head: fn(&SqliteRow) -> Result<R>,
    part: fn(&SqliteRow) -> Result<P>,
) -> Result<Option<(R, Vec<P>)>> {
    let Some(row) = sqlx::query(&format!(
        "SELECT * FROM {requests} WHERE station_id = ? AND request_id = ?"
    ))
    .bind(station.as_str())
    .bind(request_id)
    .fetch_optional(pool)
    .await?
    else {
        return Ok(None);
    };
    let rows = sqlx::query(&format!(
        "SELECT * FROM {parts} WHERE station_id = ? AND request_id = ? ORDER BY id"
    ))
    .bind(station.as_str())
    .bind(request_id)
    .fetch_all(pool)
    .await?;
    Ok(Some((
        head(&row)?,
        rows.iter().map(part).collect::<Result<Vec<_>>>()?,
    )))
}
