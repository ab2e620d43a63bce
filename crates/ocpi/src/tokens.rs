//! Tokens module: Token, AuthorizationInfo (real-time authorization answer) and their enums.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::sessions::ProfileType;
use crate::types::DisplayText;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub country_code: String,
    pub party_id: String,
    pub uid: String,
    #[serde(rename = "type")]
    pub kind: TokenType,
    pub contract_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visual_number: Option<String>,
    pub issuer: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    pub valid: bool,
    pub whitelist: WhitelistType,
    /// ISO 639-1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_profile_type: Option<ProfileType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub energy_contract: Option<EnergyContract>,
    #[serde(with = "crate::datetime")]
    pub last_updated: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnergyContract {
    pub supplier_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_id: Option<String>,
}

/// The eMSP's answer to `POST {tokens}/{uid}/authorize`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationInfo {
    pub allowed: AllowedType,
    pub token: Token,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<LocationReferences>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_reference: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<DisplayText>,
}

/// The body of an authorize request: where the driver wants to charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocationReferences {
    pub location_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evse_uids: Option<Vec<String>>,
}

ocpi_enum! {
    AllowedType {
        Allowed => "ALLOWED",
        Blocked => "BLOCKED",
        Expired => "EXPIRED",
        NoCredit => "NO_CREDIT",
        NotAllowed => "NOT_ALLOWED",
    }
}

ocpi_enum! {
    TokenType {
        AdHocUser => "AD_HOC_USER",
        AppUser => "APP_USER",
        /// 2.3.0: an ISO 15118 contract id used as token (Plug & Charge).
        Emaid => "EMAID",
        OtherToken => "OTHER",
        Rfid => "RFID",
    }
}

ocpi_enum! {
    /// When the CPO may authorize the token without asking the eMSP.
    WhitelistType {
        Always => "ALWAYS",
        Allowed => "ALLOWED",
        AllowedOffline => "ALLOWED_OFFLINE",
        Never => "NEVER",
    }
}
