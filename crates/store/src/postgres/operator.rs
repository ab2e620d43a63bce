//! Operator-side changes of one station column or one transaction mark, each its own
//! statement on the pool (SQLite runs them on its writer thread to keep its caches coherent;
//! the PostgreSQL store has no caches to keep, ADR 0047).

use chrono::{DateTime, Utc};
use sqlx::{Encode, Postgres, Type};
use unicharge_core::{RegistrationStatus, SecurityProfile, StationId};

use super::PgStore;
use crate::columns::timestamp;
use crate::Result;

impl PgStore {
    /// `sql` is `UPDATE stations SET <column> = $1 WHERE id = $2`; true if the station exists.
    async fn set_station_column<'q, T>(
        &self,
        sql: &'static str,
        value: T,
        id: &'q StationId,
    ) -> Result<bool>
    where
        T: Encode<'q, Postgres> + Type<Postgres> + Send + 'q,
    {
        let done = sqlx::query(sql)
            .bind(value)
            .bind(id.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replace the Basic-auth password hash. True if the station exists.
    pub async fn set_password_hash(&self, id: &StationId, hash: Option<&str>) -> Result<bool> {
        let sql = "UPDATE stations SET password_hash = $1 WHERE id = $2";
        self.set_station_column(sql, hash.map(str::to_owned), id)
            .await
    }

    /// Change the lowest security profile a connection must offer. True if the station exists.
    pub async fn set_security_profile(
        &self,
        id: &StationId,
        profile: SecurityProfile,
    ) -> Result<bool> {
        let sql = "UPDATE stations SET security_profile = $1 WHERE id = $2";
        self.set_station_column(sql, i64::from(profile.number()), id)
            .await
    }

    /// A05: the profile the station is being moved to (`None`: no move under way).
    pub async fn set_pending_security_profile(
        &self,
        id: &StationId,
        profile: Option<SecurityProfile>,
    ) -> Result<bool> {
        let sql = "UPDATE stations SET pending_security_profile = $1 WHERE id = $2";
        let value = profile.map(|p| i64::from(p.number()));
        self.set_station_column(sql, value, id).await
    }

    /// Record that the station's first-boot provisioning step finished (B02).
    pub async fn set_provisioned(&self, id: &StationId, at: DateTime<Utc>) -> Result<bool> {
        let sql = "UPDATE stations SET provisioned_at = $1 WHERE id = $2";
        self.set_station_column(sql, timestamp(&at), id).await
    }

    /// The OCPP version the station gets when it offers both (`None`: the CSMS default).
    pub async fn set_preferred_ocpp_version(
        &self,
        id: &StationId,
        version: Option<&str>,
    ) -> Result<bool> {
        let sql = "UPDATE stations SET preferred_ocpp_version = $1 WHERE id = $2";
        self.set_station_column(sql, version.map(str::to_owned), id)
            .await
    }

    pub async fn set_registration(
        &self,
        id: &StationId,
        status: RegistrationStatus,
    ) -> Result<bool> {
        let sql = "UPDATE stations SET registration = $1 WHERE id = $2";
        self.set_station_column(sql, status.as_str(), id).await
    }

    /// E14: the station says this open transaction is not ongoing and nothing is queued.
    /// True if an unended transaction was marked.
    pub async fn mark_transaction_forgotten(
        &self,
        station: &StationId,
        transaction_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE transactions SET station_forgot_at = $1
             WHERE station_id = $2 AND transaction_id = $3 AND ended_at IS NULL",
        )
        .bind(timestamp(&at))
        .bind(station.as_str())
        .bind(transaction_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
