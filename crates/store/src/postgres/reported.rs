//! What stations reported, newest first, on PostgreSQL: the reads of the SQLite store's
//! `events`, `security_events`, `commands` and `station_notices`, decoded by the shared
//! decoders (`crate::columns`).

use unicharge_core::StationId;

use super::PgStore;
use crate::columns;
use crate::{CommandRecord, EventRecord, Result, SecurityEventRecord, StationNotice};

impl PgStore {
    /// The newest `limit` events of a station (NotifyEvent), newest first.
    pub async fn events(&self, station: &StationId, limit: u32) -> Result<Vec<EventRecord>> {
        let rows =
            sqlx::query("SELECT * FROM events WHERE station_id = $1 ORDER BY seq DESC LIMIT $2")
                .bind(station.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(columns::event).collect()
    }

    /// The newest `limit` security events of a station, newest first.
    pub async fn security_events(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<SecurityEventRecord>> {
        let rows = sqlx::query(
            "SELECT * FROM security_events WHERE station_id = $1 ORDER BY seq DESC LIMIT $2",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::security_event).collect()
    }

    /// The newest `limit` CSMS-initiated calls to a station and their outcomes, newest first.
    pub async fn commands(&self, station: &StationId, limit: u32) -> Result<Vec<CommandRecord>> {
        let rows =
            sqlx::query("SELECT * FROM commands WHERE station_id = $1 ORDER BY seq DESC LIMIT $2")
                .bind(station.as_str())
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(columns::command).collect()
    }

    /// The newest `limit` progress notices of a station (firmware, logs, …), newest first.
    pub async fn station_notices(
        &self,
        station: &StationId,
        limit: u32,
    ) -> Result<Vec<StationNotice>> {
        let rows = sqlx::query(
            "SELECT * FROM station_notices WHERE station_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(station.as_str())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(columns::station_notice).collect()
    }
}
