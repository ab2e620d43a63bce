//! What the operator starts at a station on PostgreSQL, as `sqlite/charging.rs` stores it: the
//! local authorization list (D), OCPP 1.6 transaction ids, remote starts (F) and reservations
//! (H).
//!
//! Several nodes share these rows, so every read-modify-write is one statement (`ON CONFLICT …
//! RETURNING`) or one transaction: two nodes never hand out the same 1.6 transaction id nor
//! leave a local list half replaced.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::PgConnection;
use unicharge_core::StationId;

use super::PgStore;
use crate::columns::{station_id, timestamp, Columns};
use crate::{LocalList, RemoteStartRecord, ReservationRecord, Result};

impl PgStore {
    pub async fn local_list(&self, station: &StationId) -> Result<LocalList> {
        let head = sqlx::query("SELECT * FROM local_lists WHERE station_id = $1")
            .bind(station.as_str())
            .fetch_optional(&self.pool)
            .await?;
        let entries: Vec<(String, String)> = sqlx::query_as(
            "SELECT id_token, type FROM local_list_entries WHERE station_id = $1
             ORDER BY id_token, type",
        )
        .bind(station.as_str())
        .fetch_all(&self.pool)
        .await?;
        Ok(match head {
            Some(row) => LocalList {
                version: row.required_int("version")?,
                station_version: row.int("station_version")?,
                last_status: row.text("last_status")?,
                entries,
                updated_at: row.time("updated_at")?,
            },
            None => LocalList {
                version: 0,
                station_version: None,
                last_status: None,
                entries,
                updated_at: None,
            },
        })
    }

    /// Replace the list in one transaction. The head row is locked by its upsert, so a second
    /// node replacing the same station's list waits for this one instead of interleaving
    /// entries.
    pub async fn put_local_list(
        &self,
        station: &StationId,
        version: i64,
        entries: &[(String, String)],
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO local_lists (station_id, version, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (station_id) DO UPDATE SET version = excluded.version,
                updated_at = excluded.updated_at, last_status = NULL",
        )
        .bind(station.as_str())
        .bind(version)
        .bind(timestamp(&Utc::now()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM local_list_entries WHERE station_id = $1")
            .bind(station.as_str())
            .execute(&mut *tx)
            .await?;
        insert_entries(&mut tx, station, entries).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn set_local_list_station_state(
        &self,
        station: &StationId,
        last_status: Option<&str>,
        station_version: Option<i64>,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO local_lists (station_id, version, station_version, last_status, updated_at)
             VALUES ($1, 0, $2, $3, $4)
             ON CONFLICT (station_id) DO UPDATE SET
                station_version = COALESCE(excluded.station_version, local_lists.station_version),
                last_status = COALESCE(excluded.last_status, local_lists.last_status),
                updated_at = excluded.updated_at",
        )
        .bind(station.as_str())
        .bind(station_version)
        .bind(last_status)
        .bind(timestamp(&Utc::now()))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// See [`crate::Store::ocpp16_transaction_id`]: one statement, so a repeated start — on
    /// this node or another — gets the id the first one got.
    pub async fn ocpp16_transaction_id(
        &self,
        station: &StationId,
        connector_id: i64,
        id_tag: &str,
        started_at: DateTime<Utc>,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO ocpp16_transactions
                (station_id, connector_id, id_tag, started_at, created_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (station_id, connector_id, started_at, id_tag)
             DO UPDATE SET id_tag = excluded.id_tag
             RETURNING id",
        )
        .bind(station.as_str())
        .bind(connector_id)
        .bind(id_tag)
        .bind(timestamp(&started_at))
        .bind(timestamp(&Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn create_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        id_token_type: &str,
        evse_id: Option<i64>,
    ) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO remote_starts
                (station_id, id_token, id_token_type, evse_id, status, created_at)
             VALUES ($1, $2, $3, $4, 'Requested', $5) RETURNING id",
        )
        .bind(station.as_str())
        .bind(id_token)
        .bind(id_token_type)
        .bind(evse_id)
        .bind(timestamp(&Utc::now()))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn set_remote_start_outcome(
        &self,
        id: i64,
        status: &str,
        transaction_id: Option<&str>,
    ) -> Result<()> {
        sqlx::query(
            "UPDATE remote_starts SET status = $1, transaction_id = COALESCE(transaction_id, $2)
             WHERE id = $3",
        )
        .bind(status)
        .bind(transaction_id)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn remote_start(&self, id: i64) -> Result<Option<RemoteStartRecord>> {
        let row = sqlx::query("SELECT * FROM remote_starts WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| {
            Ok(RemoteStartRecord {
                id: row.required_int("id")?,
                station_id: station_id(&row, "station_id")?,
                id_token: row.required_text("id_token")?,
                id_token_type: row.required_text("id_token_type")?,
                evse_id: row.int("evse_id")?,
                status: row.required_text("status")?,
                transaction_id: row.text("transaction_id")?,
                created_at: row.required_time("created_at")?,
            })
        })
        .transpose()
    }

    pub async fn open_remote_start(
        &self,
        station: &StationId,
        id_token: &str,
        evse_id: i64,
        since: DateTime<Utc>,
    ) -> Result<Option<i64>> {
        let id = sqlx::query_scalar(
            "SELECT id FROM remote_starts
             WHERE station_id = $1 AND id_token = $2 AND transaction_id IS NULL
               AND (evse_id IS NULL OR evse_id = $3) AND status IN ('Requested', 'Accepted')
               AND created_at >= $4
             ORDER BY id DESC LIMIT 1",
        )
        .bind(station.as_str())
        .bind(id_token)
        .bind(evse_id)
        .bind(timestamp(&since))
        .fetch_optional(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn create_reservation(&self, r: &ReservationRecord) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO reservations (station_id, evse_id, connector_type, id_token,
                id_token_type, group_id_token, expires_at, status, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(r.station_id.as_str())
        .bind(r.evse_id)
        .bind(&r.connector_type)
        .bind(&r.id_token)
        .bind(&r.id_token_type)
        .bind(&r.group_id_token)
        .bind(timestamp(&r.expires_at))
        .bind(&r.status)
        .bind(timestamp(&r.created_at))
        .bind(timestamp(&r.updated_at))
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn set_reservation_status(
        &self,
        station: &StationId,
        id: i64,
        status: &str,
    ) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE reservations SET status = $1, updated_at = $2
             WHERE station_id = $3 AND id = $4",
        )
        .bind(status)
        .bind(timestamp(&Utc::now()))
        .bind(station.as_str())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    pub async fn reservation(
        &self,
        station: &StationId,
        id: i64,
    ) -> Result<Option<ReservationRecord>> {
        let row = sqlx::query("SELECT * FROM reservations WHERE station_id = $1 AND id = $2")
            .bind(station.as_str())
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(reservation).transpose()
    }

    pub async fn reservations(&self, station: &StationId) -> Result<Vec<ReservationRecord>> {
        let rows = sqlx::query("SELECT * FROM reservations WHERE station_id = $1 ORDER BY id DESC")
            .bind(station.as_str())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(reservation).collect()
    }
}

async fn insert_entries(
    conn: &mut PgConnection,
    station: &StationId,
    entries: &[(String, String)],
) -> Result<()> {
    for (id_token, kind) in entries {
        sqlx::query(
            "INSERT INTO local_list_entries (station_id, id_token, type) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .bind(station.as_str())
        .bind(id_token)
        .bind(kind)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// `Write::ReservationStatus`, in the writer's transaction: a station's report never revives a
/// reservation already used or cancelled.
pub(super) async fn reservation_status(
    conn: &mut PgConnection,
    station: &StationId,
    reservation_id: i64,
    status: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE reservations SET status = $1, updated_at = $2
         WHERE station_id = $3 AND id = $4 AND status NOT IN ('Used', 'Cancelled')",
    )
    .bind(status)
    .bind(timestamp(&Utc::now()))
    .bind(station.as_str())
    .bind(reservation_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

fn reservation(row: &PgRow) -> Result<ReservationRecord> {
    Ok(ReservationRecord {
        id: row.required_int("id")?,
        station_id: station_id(row, "station_id")?,
        evse_id: row.int("evse_id")?,
        connector_type: row.text("connector_type")?,
        id_token: row.required_text("id_token")?,
        id_token_type: row.required_text("id_token_type")?,
        group_id_token: row.text("group_id_token")?,
        expires_at: row.required_time("expires_at")?,
        status: row.required_text("status")?,
        transaction_id: row.text("transaction_id")?,
        created_at: row.required_time("created_at")?,
        updated_at: row.required_time("updated_at")?,
    })
}
