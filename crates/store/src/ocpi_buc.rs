//! OCPI records of the business use cases beyond the 2.2.1 modules: the roles last published to
//! each partner (migration 0097, B8.2), MSPs' session limits (migration 0098, B4.2 / B2.4) and
//! the operator's approval of location data sharing (migration 0100, B1.5).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use unicharge_core::StationId;

use crate::Result;

/// The roles our last credentials exchange with a partner told it (migration 0097, B8.2).
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedRolesRow {
    pub partner_id: i64,
    /// The `CredentialsRole` list, JSON.
    pub roles: String,
    /// When the partner took `roles` (or, with `last_error`, when it was last tried).
    pub published_at: DateTime<Utc>,
    /// Why the partner has not taken the latest list yet.
    pub last_error: Option<String>,
}

#[async_trait]
pub trait OcpiPublishedRoles: Send + Sync + 'static {
    async fn put_ocpi_published_roles(&self, row: &PublishedRolesRow) -> Result<()>;
    async fn ocpi_published_roles(&self, partner_id: i64) -> Result<Option<PublishedRolesRow>>;
}

/// Limits an MSP set on one session (migration 0098, B4.2 / B2.4).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionLimitRow {
    pub partner_id: i64,
    /// `RECEIVED` (a partner eMSP's limits on our session, enforced here) or `SENT` (ours on a
    /// CPO partner's session).
    pub side: String,
    pub session_id: String,
    /// RECEIVED: the transaction the limits are enforced on.
    pub station_id: Option<StationId>,
    pub transaction_id: Option<String>,
    /// The `SessionLimits` object, JSON.
    pub data: String,
    /// `COST`, `ENERGY` or `DURATION` once reached.
    pub reached: Option<String>,
    pub reached_at: Option<DateTime<Utc>>,
    pub stop_requested_at: Option<DateTime<Utc>>,
    /// `Accepted`, `Rejected`, `ENDED` (the session ended first) or why the stop failed.
    pub stop_result: Option<String>,
    pub last_updated: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiSessionLimits: Send + Sync + 'static {
    /// Create or replace the row of (partner, side, session).
    async fn put_ocpi_session_limit(&self, row: &SessionLimitRow) -> Result<()>;
    async fn ocpi_session_limit(
        &self,
        partner_id: i64,
        side: &str,
        session_id: &str,
    ) -> Result<Option<SessionLimitRow>>;
    /// RECEIVED limits still to watch: no stop accepted yet and the session not ended.
    async fn ocpi_session_limits_armed(&self) -> Result<Vec<SessionLimitRow>>;
    /// True if a row was deleted.
    async fn delete_ocpi_session_limit(
        &self,
        partner_id: i64,
        side: &str,
        session_id: &str,
    ) -> Result<bool>;
}

/// The operator's decision on sharing one location's data (migration 0100, B1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct SharingRow {
    pub party: crate::ocpi::Party,
    pub location_id: String,
    /// None: every partner; Some: this partner (wins over the location-wide row).
    pub partner_id: Option<i64>,
    pub approved: bool,
    /// Why, as the operator wrote it (the owner's request, a legal ground).
    pub reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiLocationSharing: Send + Sync + 'static {
    /// Create or replace the row of (location, partner).
    async fn put_ocpi_location_sharing(&self, row: &SharingRow) -> Result<()>;
    /// Remove the row of (location, partner); true if there was one.
    async fn delete_ocpi_location_sharing(
        &self,
        party: &crate::ocpi::Party,
        location_id: &str,
        partner_id: Option<i64>,
    ) -> Result<bool>;
    /// Every row (one per location the operator decided on, so a short list).
    async fn ocpi_location_sharing(&self) -> Result<Vec<SharingRow>>;
}
