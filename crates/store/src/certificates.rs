//! Block M records: the certificates the CSMS knows a station holds.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use unicharge_core::StationId;

/// A certificate a station holds, by its OCPP CertificateHashDataType.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledCertificate {
    pub station_id: StationId,
    /// HashAlgorithmEnumType: `SHA256`, `SHA384`, `SHA512`.
    pub hash_algorithm: String,
    /// Lower-case hex, as the station reported it (or as the CSMS computed it).
    pub issuer_name_hash: String,
    pub issuer_key_hash: String,
    pub serial_number: String,
    /// GetCertificateIdUseEnumType, e.g. `CSMSRootCertificate`.
    pub certificate_type: String,
    /// The PEM, when the CSMS installed it.
    pub certificate: Option<String>,
    /// `install` (the CSMS installed it) or `reported` (GetInstalledCertificateIds).
    pub source: String,
    pub seen_at: DateTime<Utc>,
    /// When the station accepted its DeleteCertificate.
    pub deleted_at: Option<DateTime<Utc>>,
}

/// OCPP CertificateHashDataType, as plain strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertificateHash {
    pub hash_algorithm: String,
    pub issuer_name_hash: String,
    pub issuer_key_hash: String,
    pub serial_number: String,
}
