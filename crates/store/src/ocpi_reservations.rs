//! OCPI records beyond the modules' objects: reservations made through commands (migration
//! 0093: the eMSP's `reservation_id`, a string it chooses, against the integer id the CSMS gave
//! the station's reservation) and MSPs' verdicts on CDRs (migration 0094, B5.2).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use unicharge_core::StationId;

use crate::Result;

/// One OCPI reservation of one partner.
#[derive(Debug, Clone, PartialEq)]
pub struct OcpiReservationRow {
    pub partner_id: i64,
    /// The eMSP's id (`ReserveNow.reservation_id`), unique per partner.
    pub reservation_id: String,
    pub location_id: String,
    pub station_id: StationId,
    /// The id in the CSMS's reservations (and in the station's ReserveNow).
    pub csms_reservation_id: i64,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiReservations: Send + Sync + 'static {
    /// Record (or replace: a RESERVE_NOW with a known reservation_id replaces it) a reservation.
    async fn put_ocpi_reservation(&self, row: &OcpiReservationRow) -> Result<()>;
    /// The partner's reservation with this id, if any.
    async fn ocpi_reservation(
        &self,
        partner_id: i64,
        reservation_id: &str,
    ) -> Result<Option<OcpiReservationRow>>;
}

/// An MSP's verdict on a CDR (migration 0094, B5.2).
#[derive(Debug, Clone, PartialEq)]
pub struct CdrVerdictRow {
    pub partner_id: i64,
    /// `RECEIVED` (a partner's verdict on our CDR) or `SENT` (ours on a partner's CDR).
    pub side: String,
    pub cdr_id: String,
    /// `ACCEPTED` or `DISPUTED`.
    pub result: String,
    pub reason: Option<String>,
    pub last_updated: DateTime<Utc>,
}

#[async_trait]
pub trait OcpiCdrVerdicts: Send + Sync + 'static {
    /// Keep the latest verdict of a partner on a CDR (replacing an earlier one).
    async fn put_ocpi_cdr_verdict(&self, row: &CdrVerdictRow) -> Result<()>;
    /// Verdicts of one side, newest first; `result` narrows to ACCEPTED or DISPUTED.
    async fn ocpi_cdr_verdicts(
        &self,
        side: &str,
        result: Option<&str>,
        limit: u32,
    ) -> Result<Vec<CdrVerdictRow>>;
}
