//! The station registry record.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{SecurityProfile, StationId};

/// Whether the CSMS lets a station in when it boots (BootNotificationResponse.status).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RegistrationStatus {
    /// Known and allowed: boots are Accepted.
    Accepted,
    /// Known but waiting (auto-registered, or provisioning): boots are Pending.
    Pending,
    /// Known and refused: boots are Rejected.
    Rejected,
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Accepted => "Accepted",
            RegistrationStatus::Pending => "Pending",
            RegistrationStatus::Rejected => "Rejected",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "Accepted" => Some(RegistrationStatus::Accepted),
            "Pending" => Some(RegistrationStatus::Pending),
            "Rejected" => Some(RegistrationStatus::Rejected),
            _ => None,
        }
    }
}

/// What the CSMS knows about one charging station.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Station {
    pub id: StationId,
    /// The lowest profile a connection of this station may use.
    pub security_profile: SecurityProfile,
    /// A05: the profile the station is being moved to. It replaces `security_profile` once the
    /// station has connected at it.
    pub pending_security_profile: Option<SecurityProfile>,
    /// Argon2id PHC string of the Basic-auth password; never the password itself.
    #[serde(skip_serializing)]
    pub password_hash: Option<String>,
    pub registration: RegistrationStatus,
    /// From the last BootNotification.
    pub model: Option<String>,
    pub vendor_name: Option<String>,
    pub serial_number: Option<String>,
    pub firmware_version: Option<String>,
    pub last_boot_at: Option<DateTime<Utc>>,
    pub last_boot_reason: Option<String>,
    /// Status answered to the last BootNotification, if any.
    pub last_boot_status: Option<RegistrationStatus>,
    pub last_seen_at: Option<DateTime<Utc>>,
    /// When the first-boot provisioning step finished (B02), if the CSMS runs one.
    pub provisioned_at: Option<DateTime<Utc>>,
    pub connected: bool,
    /// The OCPP version of its newest connection (`"1.6"` or `"2.0.1"`), if it ever connected.
    #[serde(default)]
    pub ocpp_version: Option<String>,
    /// The version it gets when it offers both 1.6 and 2.0.1 (`None`: 2.0.1).
    #[serde(default)]
    pub preferred_ocpp_version: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl Station {
    /// A freshly registered station that has not booted yet.
    pub fn new(id: StationId, security_profile: SecurityProfile, now: DateTime<Utc>) -> Self {
        Station {
            id,
            security_profile,
            pending_security_profile: None,
            password_hash: None,
            registration: RegistrationStatus::Accepted,
            model: None,
            vendor_name: None,
            serial_number: None,
            firmware_version: None,
            last_boot_at: None,
            last_boot_reason: None,
            last_boot_status: None,
            last_seen_at: None,
            provisioned_at: None,
            ocpp_version: None,
            preferred_ocpp_version: None,
            connected: false,
            created_at: now,
        }
    }
}
