//! Block O records: the display messages the CSMS sent and what each station answered, and the
//! assembled GetDisplayMessages reports.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// A display message the CSMS sent a station (SetDisplayMessage), keyed by station and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisplayMessageRecord {
    pub station_id: StationId,
    pub message_id: i64,
    /// MessagePriorityEnumType as OCPP spells it.
    pub priority: String,
    /// MessageStateEnumType, if the message is for one station state.
    pub state: Option<String>,
    pub transaction_id: Option<String>,
    pub start_at: Option<DateTime<Utc>>,
    pub end_at: Option<DateTime<Utc>>,
    /// The MessageInfoType sent, JSON text.
    pub message: String,
    /// `Requested` until answered, then the station's answer or why there was none.
    pub status: String,
    /// The station's statusInfo, JSON text.
    pub status_info: Option<String>,
    pub sent_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    /// When the station cleared it (ClearDisplayMessage Accepted, or Unknown).
    pub cleared_at: Option<DateTime<Utc>>,
}

/// A GetDisplayMessages request (O03/O04) and the station's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisplayMessageReport {
    pub station_id: StationId,
    pub request_id: i64,
    /// The GetDisplayMessagesRequest, JSON text.
    pub request: String,
    /// `Accepted` / `Unknown`, once known.
    pub status: Option<String>,
    /// The part with `tbc` false arrived (or the station had no matching messages).
    pub complete: bool,
    pub requested_at: DateTime<Utc>,
}

/// One NotifyDisplayMessagesRequest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisplayMessageReportPart {
    pub station_id: StationId,
    pub request_id: i64,
    pub tbc: bool,
    /// JSON array of MessageInfoType.
    pub messages: String,
    pub received_at: DateTime<Utc>,
}
