//! Records of the money path: meter values, local authorization lists, remote starts,
//! reservations. Tariffs and charge records are the core's own types
//! ([`unicharge_core::tariff`], [`unicharge_core::charge_record`]), kept as JSON.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use unicharge_core::metering::{EnergyReading, SequencedChange};
use unicharge_core::StationId;

/// One sampledValue, from a MeterValuesRequest or a TransactionEventRequest's meterValue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MeterValueRecord {
    pub station_id: StationId,
    /// 0 is the station's main meter (MeterValues for evseId 0).
    pub evse_id: i64,
    pub transaction_id: Option<String>,
    pub timestamp: DateTime<Utc>,
    /// `Sample.Periodic` when the station omits it (OCPP's default).
    pub context: String,
    /// `Energy.Active.Import.Register` when the station omits it (OCPP's default).
    pub measurand: String,
    pub phase: Option<String>,
    pub location: Option<String>,
    pub unit: Option<String>,
    /// Power of ten the value is multiplied by (`unitOfMeasure.multiplier`).
    pub multiplier: i32,
    /// The value exactly as reported (before unit and multiplier).
    pub value: Decimal,
    /// Energy registers converted to Wh (unit and multiplier applied); None for other
    /// measurands.
    pub wh: Option<Decimal>,
    /// The sample carried a signedMeterValue.
    pub signed: bool,
    /// The signedMeterValue, JSON text, kept for the driver's and the auditor's checks.
    pub signed_data: Option<String>,
    /// `MeterValues` or `TransactionEvent`.
    pub source: String,
    /// An energy register reading lower than an earlier one of the same series: stored as
    /// reported, flagged, and never billed as negative energy.
    pub energy_backwards: bool,
}

impl MeterValueRecord {
    /// The sample as a reading of the billing register — the main import register of the EVSE,
    /// what energy is billed on: `Energy.Active.Import.Register`, no phase, measured at the
    /// outlet (OCPP's default location), with a value in Wh. `None` for any other sample.
    pub fn billing_reading(&self) -> Option<EnergyReading> {
        let register = self.measurand == "Energy.Active.Import.Register"
            && self.phase.is_none()
            && matches!(self.location.as_deref(), None | Some("Outlet"));
        self.wh.filter(|_| register).map(|wh| EnergyReading {
            timestamp: self.timestamp,
            wh,
        })
    }
}

/// A transaction's whole metered series, as stored: what its running aggregate
/// ([`unicharge_core::metering::MeteredUsage`]) summarises.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeteredSeries {
    /// Billing-register readings ([`MeterValueRecord::billing_reading`]) in timestamp order,
    /// equal timestamps in the order stored.
    pub readings: Vec<EnergyReading>,
    /// The plug-state changes of its TransactionEvents (`chargingState`), in seqNo order.
    pub changes: Vec<SequencedChange>,
}

/// Which samples to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeterValueFilter {
    pub transaction_id: Option<String>,
    pub evse_id: Option<i64>,
    /// At most this many (the latest); 0 means the default of 1000.
    pub limit: u32,
    /// Only samples taken at or before this time (the latest `limit` of those).
    pub until: Option<DateTime<Utc>>,
}

/// The local authorization list the CSMS keeps for a station (D01/D02).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalList {
    /// Version of `entries` as last sent to (or being sent to) the station; 0 = never sent.
    pub version: i64,
    /// What the station last reported through GetLocalListVersion.
    pub station_version: Option<i64>,
    /// The station's answer to the last SendLocalList.
    pub last_status: Option<String>,
    /// `(idToken, type)`.
    pub entries: Vec<(String, String)>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// A RequestStartTransaction; its id is the remoteStartId.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteStartRecord {
    pub id: i64,
    pub station_id: StationId,
    pub id_token: String,
    pub id_token_type: String,
    pub evse_id: Option<i64>,
    /// `Requested` until the station answers, then its status (or why it failed).
    pub status: String,
    pub transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A reservation (H01); its id is the one sent in ReserveNowRequest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReservationRecord {
    pub id: i64,
    pub station_id: StationId,
    pub evse_id: Option<i64>,
    pub connector_type: Option<String>,
    pub id_token: String,
    pub id_token_type: String,
    pub group_id_token: Option<String>,
    pub expires_at: DateTime<Utc>,
    /// Requested, then the station's ReserveNow answer (Accepted, Faulted, Occupied, Rejected,
    /// Unavailable), then Cancelled, Used, Expired or Removed.
    pub status: String,
    pub transaction_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ReservationRecord {
    /// The status as the operator should see it now: an accepted reservation past its expiry
    /// is Expired even if the station never said so (H04: the station may be offline).
    pub fn effective_status(&self, now: DateTime<Utc>) -> &str {
        if self.status == "Accepted" && self.expires_at <= now {
            "Expired"
        } else {
            &self.status
        }
    }
}
