//! ChargingProfiles module: the eMSP or SCSP sets, reads and clears a session's charging
//! profile at the CPO; the CPO answers at once (ChargingProfileResponse) and later POSTs a
//! result to `response_url`.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// `PUT {chargingprofiles}/{session_id}` body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetChargingProfile {
    pub charging_profile: ChargingProfile,
    pub response_url: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingProfile {
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub start_date_time: Option<DateTime<Utc>>,
    /// Seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<u32>,
    pub charging_rate_unit: ChargingRateUnit,
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub min_charging_rate: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_profile_period: Option<Vec<ChargingProfilePeriod>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingProfilePeriod {
    /// Seconds from the profile's start.
    pub start_period: u32,
    /// In the profile's unit (W or A).
    #[serde(with = "crate::number::exact")]
    pub limit: Decimal,
}

/// The profile in force, as the CPO computes it (smart charging, local limits, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveChargingProfile {
    #[serde(with = "crate::datetime")]
    pub start_date_time: DateTime<Utc>,
    pub charging_profile: ChargingProfile,
}

/// The CPO's immediate answer to GET / PUT / DELETE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargingProfileResponse {
    pub result: ChargingProfileResponseType,
    /// Seconds.
    pub timeout: u32,
}

/// POSTed to `response_url` after a GET (and PUT by the CPO on its own changes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveChargingProfileResult {
    pub result: ChargingProfileResultType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<ActiveChargingProfile>,
}

/// POSTed to `response_url` after a PUT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChargingProfileResult {
    pub result: ChargingProfileResultType,
}

/// POSTed to `response_url` after a DELETE.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClearProfileResult {
    pub result: ChargingProfileResultType,
}

ocpi_enum! {
    ChargingRateUnit {
        W => "W",
        A => "A",
    }
}

ocpi_enum! {
    ChargingProfileResponseType {
        Accepted => "ACCEPTED",
        NotSupported => "NOT_SUPPORTED",
        Rejected => "REJECTED",
        TooOften => "TOO_OFTEN",
        UnknownSession => "UNKNOWN_SESSION",
    }
}

ocpi_enum! {
    ChargingProfileResultType {
        Accepted => "ACCEPTED",
        Rejected => "REJECTED",
        Unknown => "UNKNOWN",
    }
}
