//! Sessions module: Session, ChargingPeriod, CdrDimension, charging preferences.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::cdrs::{AuthMethod, CdrToken};
use crate::types::Price;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    #[serde(with = "crate::datetime")]
    pub start_date_time: DateTime<Utc>,
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub end_date_time: Option<DateTime<Utc>>,
    /// Energy charged so far, kWh.
    #[serde(with = "crate::number::exact")]
    pub kwh: Decimal,
    pub cdr_token: CdrToken,
    pub auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
    pub location_id: String,
    pub evse_uid: String,
    pub connector_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_id: Option<String>,
    pub currency: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub charging_periods: Option<Vec<ChargingPeriod>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_cost: Option<Price>,
    pub status: SessionStatus,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// A period of a session or CDR during which the dimensions apply (until the next period).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingPeriod {
    #[serde(with = "crate::datetime")]
    pub start_date_time: DateTime<Utc>,
    pub dimensions: Vec<CdrDimension>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdrDimension {
    #[serde(rename = "type")]
    pub kind: CdrDimensionType,
    #[serde(with = "crate::number::exact")]
    pub volume: Decimal,
}

ocpi_enum! {
    CdrDimensionType {
        Current => "CURRENT",
        Energy => "ENERGY",
        EnergyExport => "ENERGY_EXPORT",
        EnergyImport => "ENERGY_IMPORT",
        MaxCurrent => "MAX_CURRENT",
        MinCurrent => "MIN_CURRENT",
        MaxPower => "MAX_POWER",
        MinPower => "MIN_POWER",
        ParkingTime => "PARKING_TIME",
        Power => "POWER",
        ReservationTime => "RESERVATION_TIME",
        StateOfCharge => "STATE_OF_CHARGE",
        Time => "TIME",
    }
}

ocpi_enum! {
    SessionStatus {
        Active => "ACTIVE",
        Completed => "COMPLETED",
        Invalid => "INVALID",
        Pending => "PENDING",
        Reservation => "RESERVATION",
    }
}

/// Sent by the eMSP to `PUT {sessions}/{session_id}/charging_preferences`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChargingPreferences {
    pub profile_type: ProfileType,
    #[serde(
        with = "crate::datetime::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub departure_time: Option<DateTime<Utc>>,
    /// kWh.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub energy_need: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discharge_allowed: Option<bool>,
}

ocpi_enum! {
    ChargingPreferencesResponse {
        Accepted => "ACCEPTED",
        DepartureRequired => "DEPARTURE_REQUIRED",
        EnergyNeedRequired => "ENERGY_NEED_REQUIRED",
        NotPossible => "NOT_POSSIBLE",
        ProfileTypeNotSupported => "PROFILE_TYPE_NOT_SUPPORTED",
    }
}

ocpi_enum! {
    ProfileType {
        Cheap => "CHEAP",
        Fast => "FAST",
        Green => "GREEN",
        Regular => "REGULAR",
    }
}
