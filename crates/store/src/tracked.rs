//! Blocks L and N records: requests the CSMS sent under a requestId that the station follows up
//! on (firmware updates, log uploads, monitoring reports, customer information), what it sent
//! under each, and the variable monitors it holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// The OCPP action that opened a tracked request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackedKind {
    /// L01: followed by FirmwareStatusNotification.
    UpdateFirmware,
    /// L03: followed by PublishFirmwareStatusNotification.
    PublishFirmware,
    /// N01: followed by LogStatusNotification.
    GetLog,
    /// N02: followed by NotifyMonitoringReport parts.
    GetMonitoringReport,
    /// N09/N10: followed by NotifyCustomerInformation parts.
    CustomerInformation,
}

impl TrackedKind {
    pub const ALL: [TrackedKind; 5] = [
        TrackedKind::UpdateFirmware,
        TrackedKind::PublishFirmware,
        TrackedKind::GetLog,
        TrackedKind::GetMonitoringReport,
        TrackedKind::CustomerInformation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TrackedKind::UpdateFirmware => "UpdateFirmware",
            TrackedKind::PublishFirmware => "PublishFirmware",
            TrackedKind::GetLog => "GetLog",
            TrackedKind::GetMonitoringReport => "GetMonitoringReport",
            TrackedKind::CustomerInformation => "CustomerInformation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A request the CSMS sent under a requestId it allocated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedRequest {
    pub station_id: StationId,
    pub kind: TrackedKind,
    pub request_id: i64,
    /// The OCPP request sent, JSON text.
    pub request: String,
    /// The station's answer status (`Accepted`, `Rejected`, `AcceptedCanceled`, …), or why there
    /// was none (`station_timeout`, …); `None` while unanswered.
    pub answer: Option<String>,
    /// The latest status the station notified under the requestId.
    pub status: Option<String>,
    /// The last part arrived, or a final status was notified.
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One message the station sent under a tracked request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackedPart {
    pub station_id: StationId,
    pub kind: TrackedKind,
    pub request_id: i64,
    pub seq_no: Option<i64>,
    /// More parts follow.
    pub tbc: bool,
    /// A notified status (FirmwareStatusNotification, LogStatusNotification, …).
    pub status: Option<String>,
    /// Whether this status ends the request (Installed, InstallationFailed, Uploaded, …).
    pub final_status: bool,
    /// The message, JSON text.
    pub data: String,
    pub received_at: DateTime<Utc>,
}

/// A variable monitor the station holds (N02–N06).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VariableMonitorRecord {
    pub station_id: StationId,
    pub monitor_id: i64,
    pub component: String,
    pub component_instance: Option<String>,
    pub evse_id: Option<i64>,
    pub connector_id: Option<i64>,
    pub variable: String,
    pub variable_instance: Option<String>,
    /// MonitorEnumType as OCPP spells it.
    pub monitor_type: String,
    pub value: f64,
    /// 0 (Danger) … 9 (Debug).
    pub severity: i64,
    pub transaction_only: bool,
    /// `set` (the CSMS set it and the station accepted) or `report` (NotifyMonitoringReport).
    pub origin: String,
    pub updated_at: DateTime<Utc>,
    pub cleared_at: Option<DateTime<Utc>>,
}
