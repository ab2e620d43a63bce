//! Block K records: the charging profiles the CSMS sent and what each station answered, the
//! assembled GetChargingProfiles reports, composite schedules and external charging limits.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// A charging profile the CSMS sent a station (SetChargingProfile, or the TxProfile of a
/// RequestStartTransaction), keyed by station and profile id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingProfileRecord {
    pub station_id: StationId,
    pub profile_id: i64,
    /// 0: the whole station.
    pub evse_id: i64,
    pub stack_level: i64,
    /// ChargingProfilePurposeEnumType as OCPP spells it.
    pub purpose: String,
    /// ChargingProfileKindEnumType as OCPP spells it.
    pub kind: String,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
    pub transaction_id: Option<String>,
    /// The ChargingProfileType sent, JSON text.
    pub profile: String,
    /// `Requested` until answered, then the station's answer (`Accepted` / `Rejected`) or why
    /// there was none (`station_timeout`, `call_error`, …).
    pub status: String,
    /// The station's statusInfo, JSON text.
    pub status_info: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When a ClearChargingProfile the station accepted removed it.
    pub cleared_at: Option<DateTime<Utc>>,
}

/// A GetChargingProfiles request (K09) and the station's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingProfileReport {
    pub station_id: StationId,
    pub request_id: i64,
    /// The GetChargingProfilesRequest, JSON text.
    pub request: String,
    /// `Accepted` / `NoProfiles`, once known.
    pub status: Option<String>,
    /// The part with `tbc` false arrived (or the station had no profiles).
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
}

/// One ReportChargingProfilesRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingProfileReportPart {
    pub station_id: StationId,
    pub request_id: i64,
    pub evse_id: i64,
    pub charging_limit_source: String,
    pub tbc: bool,
    /// JSON array of ChargingProfileType.
    pub profiles: String,
    pub received_at: DateTime<Utc>,
}

/// A GetCompositeSchedule (K08) and what the station answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompositeScheduleRecord {
    /// Assigned by the store (0 before).
    pub id: i64,
    pub station_id: StationId,
    pub evse_id: i64,
    pub duration: i64,
    pub charging_rate_unit: Option<String>,
    /// `Accepted` / `Rejected`.
    pub status: String,
    pub status_info: Option<String>,
    /// CompositeScheduleType, JSON text.
    pub schedule: Option<String>,
    pub requested_at: DateTime<Utc>,
}

/// An external charging limit (K12 NotifyChargingLimit), per EVSE and source; K13
/// ClearedChargingLimit sets `cleared_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingLimitRecord {
    pub station_id: StationId,
    /// 0: the whole station (NotifyChargingLimit without evseId).
    pub evse_id: i64,
    /// ChargingLimitSourceEnumType: `EMS`, `Other`, `SO`, `CSO`.
    pub source: String,
    pub is_grid_critical: Option<bool>,
    /// JSON array of ChargingScheduleType, if the station sent them.
    pub schedules: Option<String>,
    pub notified_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
}
