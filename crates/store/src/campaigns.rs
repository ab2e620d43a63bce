//! Block L rollout campaigns and block N uploaded log files.
//!
//! A campaign ([`CampaignRecord`]) installs one firmware on many stations, a few at a time; each
//! chosen station has a [`CampaignStationRecord`] saying where it stands. A log file
//! ([`LogFileRecord`]) is what a station uploaded to unicharge for a GetLog.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// A firmware rollout campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub id: i64,
    pub name: String,
    /// `Running`, `Paused`, `Aborted`, `Completed`.
    pub state: String,
    /// What to install, JSON text (the CSMS's firmware update, without the requestId).
    pub firmware: String,
    /// Stations updating at once, at most.
    pub concurrency: i64,
    /// UpdateFirmware attempts per station (1: no retry).
    pub max_attempts: i64,
    /// An attempt with no final FirmwareStatus after this long fails (`timeout`).
    pub station_timeout_secs: i64,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Where one station of a campaign stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignStationRecord {
    pub campaign_id: i64,
    pub station_id: StationId,
    pub position: i64,
    /// `Pending`, `InProgress`, `Installed`, `Failed`, `Aborted`, `Skipped`.
    pub state: String,
    pub attempts: i64,
    pub request_id: Option<i64>,
    pub last_status: Option<String>,
    pub reason: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A log file a station uploaded to unicharge (N01).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogFileRecord {
    /// Assigned by the store.
    pub id: i64,
    pub station_id: StationId,
    pub request_id: i64,
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub size: i64,
    pub sha256: String,
    /// Relative to the files directory.
    pub path: String,
    pub uploaded_at: DateTime<Utc>,
}
