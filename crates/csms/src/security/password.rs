//! A01 Update Charging Station Password for HTTP Basic Authentication.
//!
//! The CSMS generates the password (32 characters from a CSPRNG), sends it with SetVariables
//! `SecurityCtrlr.BasicAuthPassword` and, only when the station answers `Accepted`, stores its
//! hash: from the next connection on the new password is the one accepted (A01.FR.03);
//! otherwise the old one stays valid (A01.FR.04). The password is never returned, stored in
//! clear or logged: the command log keeps it redacted ([`crate::request::redact`]).

use unicharge_core::credentials::GeneratedPassword;
use unicharge_core::StationId;
use unicharge_ocpp::v201::{
    ComponentType, SetVariableDataType, SetVariableStatusEnumType, SetVariablesRequest,
    VariableType,
};

use crate::request::{OpError, Requester};
use crate::Csms;

/// The outcome of a rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasswordRotated {
    /// The station's `attributeStatus`.
    pub status: SetVariableStatusEnumType,
    /// True when the CSMS now expects the new password.
    pub rotated: bool,
}

/// Give the station a new, generated BasicAuthPassword.
pub async fn rotate_password(
    csms: &Csms,
    station: &StationId,
    by: &Requester,
) -> Result<PasswordRotated, OpError> {
    csms.registered(station).await?;
    let password = GeneratedPassword::new();
    let request = SetVariablesRequest {
        custom_data: None,
        set_variable_data: vec![SetVariableDataType {
            custom_data: None,
            attribute_type: None,
            attribute_value: password.as_str().to_string(),
            component: ComponentType {
                custom_data: None,
                evse: None,
                name: "SecurityCtrlr".into(),
                instance: None,
            },
            variable: VariableType {
                custom_data: None,
                name: "BasicAuthPassword".into(),
                instance: None,
            },
        }],
    };
    let answer = csms.request(station, &request, by).await?;
    let status = answer
        .set_variable_result
        .first()
        .map(|r| r.attribute_status)
        .ok_or_else(|| OpError::InvalidResponse {
            station: station.clone(),
            action: unicharge_ocpp::v201::Action::SetVariables,
            violation: "no setVariableResult for the password".into(),
        })?;
    let rotated = status == SetVariableStatusEnumType::Accepted;
    if rotated {
        // Generated: a salted SHA-256, cheap to check at every reconnect (ADR 9).
        let hash = password.hash();
        csms.store().set_password_hash(station, Some(&hash)).await?;
        tracing::info!(station = %station, requested_by = %by.label(), "BasicAuthPassword rotated");
    } else {
        tracing::warn!(station = %station, status = status.as_str(),
            "BasicAuthPassword rotation refused; the old password stays valid");
    }
    Ok(PasswordRotated { status, rotated })
}
