//! CDRs module: the charge detail record, its location snapshot, token and signed meter data.
//! A credit CDR (correction) has `credit: true` and `credit_reference_id` naming the CDR it
//! credits.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::locations::{ConnectorFormat, ConnectorType, GeoLocation, PowerType};
use crate::sessions::ChargingPeriod;
use crate::tariffs::Tariff;
use crate::tokens::TokenType;
use crate::types::Price;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cdr {
    pub country_code: String,
    pub party_id: String,
    pub id: String,
    #[serde(with = "crate::datetime")]
    pub start_date_time: DateTime<Utc>,
    #[serde(with = "crate::datetime")]
    pub end_date_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    pub cdr_token: CdrToken,
    pub auth_method: AuthMethod,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
    pub cdr_location: CdrLocation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_id: Option<String>,
    pub currency: String,
    /// The tariffs relevant for this CDR, as they were when the session ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariffs: Option<Vec<Tariff>>,
    pub charging_periods: Vec<ChargingPeriod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_data: Option<SignedData>,
    pub total_cost: Price,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_fixed_cost: Option<Price>,
    /// kWh.
    #[serde(with = "crate::number::exact")]
    pub total_energy: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_energy_cost: Option<Price>,
    /// Hours.
    #[serde(with = "crate::number::exact")]
    pub total_time: Decimal,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_time_cost: Option<Price>,
    /// Hours.
    #[serde(
        with = "crate::number::exact_option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub total_parking_time: Option<Decimal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_parking_cost: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_reservation_cost: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remark: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invoice_reference_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_reference_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_charging_compensation: Option<bool>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

/// The token a session or CDR ran with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrToken {
    /// The eMSP's country code (required; the 2.2.1 examples leave it out, 2.3.0's carry it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_code: Option<String>,
    /// The eMSP's party id (required; see `country_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party_id: Option<String>,
    pub uid: String,
    #[serde(rename = "type")]
    pub kind: TokenType,
    pub contract_id: String,
}

/// The location as it was at the time of the session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrLocation {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub address: String,
    pub city: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub country: String,
    pub coordinates: GeoLocation,
    pub evse_uid: String,
    pub evse_id: String,
    pub connector_id: String,
    pub connector_standard: ConnectorType,
    pub connector_format: ConnectorFormat,
    pub connector_power_type: PowerType,
}

/// Signed meter values (e.g. OCMF, Alfen, EDL40) that let the driver check the CDR.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedData {
    pub encoding_method: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding_method_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    pub signed_values: Vec<SignedValue>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedValue {
    /// e.g. "Start", "End", "Intermediate".
    pub nature: String,
    pub plain_data: String,
    pub signed_data: String,
}

ocpi_enum! {
    AuthMethod {
        AuthRequest => "AUTH_REQUEST",
        Command => "COMMAND",
        Whitelist => "WHITELIST",
    }
}
