//! CSMS-initiated calls to a 1.6 station: the 2.0.1 request every operation builds, translated
//! into the 1.6 request that means the same, and the 1.6 confirmation translated back into the
//! 2.0.1 response the operation expects. A request 1.6 cannot express is refused before anything
//! is sent ([`OpError::Refused`], code `not_expressible_in_ocpp16`, HTTP 400), with the reason.
//!
//! | 2.0.1 request | 1.6 request | reading |
//! |---|---|---|
//! | RequestStartTransaction | RemoteStartTransaction | evseId → connectorId; chargingProfile (TxProfile) → chargingProfile; remoteStartId linked to the StartTransaction that follows |
//! | RequestStopTransaction | RemoteStopTransaction | transactionId must be a 1.6 (integer) id |
//! | Reset | Reset | Immediate → Hard, OnIdle → Soft; no per-EVSE reset in 1.6 |
//! | UnlockConnector | UnlockConnector | EVSE n, connector 1 → connector n; NotSupported → UnlockFailed |
//! | ChangeAvailability | ChangeAvailability | EVSE n → connector n, none → 0 |
//! | SetVariables (one item) | ChangeConfiguration | key = variable name; NotSupported → UnknownVariable |
//! | GetVariables | GetConfiguration | keys = variable names; unknownKey → UnknownVariable |
//! | TriggerMessage | TriggerMessage | the five messages both versions name alike |
//! | TriggerMessage (LogStatusNotification, SignChargingStationCertificate) | ExtendedTriggerMessage | see [`super::security`] |
//! | InstallCertificate, GetInstalledCertificateIds, DeleteCertificate | the same (security whitepaper) | see [`super::security`] |
//! | ClearCache | ClearCache | same |
//! | CertificateSigned | CertificateSigned (security whitepaper) | a V2G certificate |
//! | Local Auth List, Reservation, Smart Charging | see [`super::profiles`] | |
//! | UpdateFirmware (signed → SignedUpdateFirmware), GetLog (SecurityLog → GetLog) | see [`super::firmware`] | |

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, Action};

use super::convert::by_name;
use crate::request::OpError;

/// A 2.0.1 request as it goes to a 1.6 station, and how to read the answer.
pub struct Translated {
    pub action: v16::Action,
    pub payload: Value,
    pub(super) back: Back,
}

/// What the translation back needs to know of the request.
pub(super) enum Back {
    RemoteStart,
    RemoteStop,
    Reset,
    Unlock,
    ChangeAvailability,
    ChangeConfiguration(Box<v201::SetVariableDataType>),
    GetConfiguration(Vec<v201::GetVariableDataType>),
    Trigger,
    ClearCache,
    CertificateSigned,
    /// Local Auth List, Reservation, Smart Charging ([`super::profiles`]).
    Profile(super::profiles::ProfileBack),
    /// UpdateFirmware, GetDiagnostics ([`super::firmware`]).
    Firmware(super::firmware::FirmwareBack),
    /// Certificate management, ExtendedTriggerMessage ([`super::security`]).
    Security(super::security::SecurityBack),
}

/// Translate a (schema-valid) 2.0.1 request for a 1.6 station. The 1.6 form is checked
/// against the 1.6 schema here, so what 1.6 cannot carry (a charging-schedule limit that is not
/// a multiple of 0.1, a location that is not a URI, …) is refused with the reason (400), never
/// sent invalid.
pub fn request(action: Action, payload: &Value) -> Result<Translated, OpError> {
    let translated = translate(action, payload)?;
    v16::Validator::global()
        .validate(
            translated.action.as_str(),
            unicharge_ocpp::Direction::Request,
            &translated.payload,
        )
        .map_err(|why| {
            refuse(
                action,
                format!("its 1.6 form breaks the 1.6 schema ({why})"),
            )
        })?;
    Ok(translated)
}

fn translate(action: Action, payload: &Value) -> Result<Translated, OpError> {
    let (action16, payload, back) = match action {
        Action::RequestStartTransaction => {
            let r: v201::RequestStartTransactionRequest = decode(action, payload)?;
            // 1.6 section 5.11: the profile of a remote start is a TxProfile without a
            // transactionId (the transaction does not exist yet); 2.0.1 K05 asks the same.
            let charging_profile = match r.charging_profile {
                Some(p) => {
                    if p.charging_profile_purpose != v201::ChargingProfilePurposeEnumType::TxProfile
                        || p.transaction_id.is_some()
                    {
                        return Err(refuse(
                            action,
                            "the profile of a 1.6 remote start is a TxProfile without a transactionId",
                        ));
                    }
                    Some(super::profiles::charging_profile(action, p)?)
                }
                None => None,
            };
            // The remoteStartId has no 1.6 field: the StartTransaction that follows is linked
            // to it by station and idTag (see [`super::transactions`]).
            let req = v16::RemoteStartTransactionRequest {
                connector_id: r.evse_id,
                id_tag: id_tag(action, &r.id_token.id_token)?,
                charging_profile,
            };
            (
                v16::Action::RemoteStartTransaction,
                encode(&req)?,
                Back::RemoteStart,
            )
        }
        Action::RequestStopTransaction => {
            let r: v201::RequestStopTransactionRequest = decode(action, payload)?;
            let transaction_id = r.transaction_id.parse::<i64>().map_err(|_| {
                refuse(
                    action,
                    format!(
                        "transaction {:?} is not a 1.6 transaction id (an integer)",
                        r.transaction_id
                    ),
                )
            })?;
            let req = v16::RemoteStopTransactionRequest { transaction_id };
            (
                v16::Action::RemoteStopTransaction,
                encode(&req)?,
                Back::RemoteStop,
            )
        }
        Action::Reset => {
            let r: v201::ResetRequest = decode(action, payload)?;
            if r.evse_id.is_some() {
                return Err(refuse(
                    action,
                    "1.6 resets the whole charge point: omit evseId",
                ));
            }
            let r#type = match r.r#type {
                v201::ResetEnumType::Immediate => v16::ResetType::Hard,
                v201::ResetEnumType::OnIdle => v16::ResetType::Soft,
            };
            (
                v16::Action::Reset,
                encode(&v16::ResetRequest { r#type })?,
                Back::Reset,
            )
        }
        Action::UnlockConnector => {
            let r: v201::UnlockConnectorRequest = decode(action, payload)?;
            if r.connector_id != 1 {
                return Err(refuse(
                    action,
                    "a 1.6 charge point has one connector per EVSE: use connectorId 1 and the connector number as evseId",
                ));
            }
            let req = v16::UnlockConnectorRequest {
                connector_id: r.evse_id,
            };
            (v16::Action::UnlockConnector, encode(&req)?, Back::Unlock)
        }
        Action::ChangeAvailability => {
            let r: v201::ChangeAvailabilityRequest = decode(action, payload)?;
            let r#type = match r.operational_status {
                v201::OperationalStatusEnumType::Operative => v16::AvailabilityType::Operative,
                v201::OperationalStatusEnumType::Inoperative => v16::AvailabilityType::Inoperative,
            };
            let req = v16::ChangeAvailabilityRequest {
                connector_id: r.evse.map_or(0, |e| e.id),
                r#type,
            };
            (
                v16::Action::ChangeAvailability,
                encode(&req)?,
                Back::ChangeAvailability,
            )
        }
        Action::SetVariables => {
            let r: v201::SetVariablesRequest = decode(action, payload)?;
            let mut items = r.set_variable_data.into_iter();
            let (Some(item), None) = (items.next(), items.next()) else {
                return Err(refuse(
                    action,
                    "1.6 ChangeConfiguration sets one key at a time",
                ));
            };
            if item
                .attribute_type
                .is_some_and(|t| t != v201::AttributeEnumType::Actual)
            {
                return Err(refuse(
                    action,
                    "1.6 configuration keys have only the Actual value",
                ));
            }
            // ChangeConfiguration.req: value is CiString500 (a 2.0.1 attributeValue may be 1000).
            if item.attribute_value.chars().count() > 500 {
                return Err(refuse(
                    action,
                    "a 1.6 configuration value has at most 500 characters",
                ));
            }
            let req = v16::ChangeConfigurationRequest {
                key: item.variable.name.clone(),
                value: item.attribute_value.clone(),
            };
            (
                v16::Action::ChangeConfiguration,
                encode(&req)?,
                Back::ChangeConfiguration(Box::new(item)),
            )
        }
        Action::GetVariables => {
            let r: v201::GetVariablesRequest = decode(action, payload)?;
            if r.get_variable_data.iter().any(|i| {
                i.attribute_type
                    .is_some_and(|t| t != v201::AttributeEnumType::Actual)
            }) {
                return Err(refuse(
                    action,
                    "1.6 configuration keys have only the Actual value",
                ));
            }
            let req = v16::GetConfigurationRequest {
                key: Some(
                    r.get_variable_data
                        .iter()
                        .map(|i| i.variable.name.clone())
                        .collect(),
                ),
            };
            (
                v16::Action::GetConfiguration,
                encode(&req)?,
                Back::GetConfiguration(r.get_variable_data),
            )
        }
        Action::TriggerMessage => {
            let r: v201::TriggerMessageRequest = decode(action, payload)?;
            let name = r.requested_message.as_str();
            let Some(requested_message) = by_name(&v16::MessageTrigger::ALL, name, |m| m.as_str())
            else {
                let (action16, payload, back) = super::security::extended_trigger(&r)
                    .ok_or_else(|| refuse(action, format!("1.6 cannot trigger {name}")))??;
                return Ok(Translated {
                    action: action16,
                    payload,
                    back: Back::Security(back),
                });
            };
            let req = v16::TriggerMessageRequest {
                requested_message,
                connector_id: r.evse.map(|e| e.id),
            };
            (v16::Action::TriggerMessage, encode(&req)?, Back::Trigger)
        }
        Action::CertificateSigned => {
            let r: v201::CertificateSignedRequest = decode(action, payload)?;
            if r.certificate_type == Some(v201::CertificateSigningUseEnumType::V2GCertificate) {
                return Err(refuse(
                    action,
                    "1.6 installs only the charge point certificate",
                ));
            }
            let req = v16::CertificateSignedRequest {
                certificate_chain: r.certificate_chain,
            };
            (
                v16::Action::CertificateSigned,
                encode(&req)?,
                Back::CertificateSigned,
            )
        }
        Action::ClearCache => (
            v16::Action::ClearCache,
            encode(&v16::ClearCacheRequest {})?,
            Back::ClearCache,
        ),
        other => {
            if let Some(translated) = super::profiles::request(other, payload) {
                return translated;
            }
            if let Some(translated) = super::security::request(other, payload) {
                let (action, payload, back) = translated?;
                return Ok(Translated {
                    action,
                    payload,
                    back: Back::Security(back),
                });
            }
            if let Some(translated) = super::firmware::request(other, payload) {
                let (action, payload, back) = translated?;
                return Ok(Translated {
                    action,
                    payload,
                    back: Back::Firmware(back),
                });
            }
            return Err(refuse(
                other,
                "OCPP 1.6 has no equivalent of this request (or it is not translated yet)",
            ));
        }
    };
    Ok(Translated {
        action: action16,
        payload,
        back,
    })
}

impl Translated {
    /// The 1.6 confirmation (schema-valid) as the 2.0.1 response of the original request.
    pub fn answer(&self, answer: Value) -> Result<Value, String> {
        match &self.back {
            Back::RemoteStart => {
                let a: v16::RemoteStartTransactionResponse = parse(answer)?;
                to_json(&v201::RequestStartTransactionResponse {
                    custom_data: None,
                    status: start_stop(a.status),
                    status_info: None,
                    transaction_id: None,
                })
            }
            Back::RemoteStop => {
                let a: v16::RemoteStopTransactionResponse = parse(answer)?;
                to_json(&v201::RequestStopTransactionResponse {
                    custom_data: None,
                    status: start_stop(a.status),
                    status_info: None,
                })
            }
            Back::Reset => {
                let a: v16::ResetResponse = parse(answer)?;
                let status = match a.status {
                    v16::ResetStatus::Accepted => v201::ResetStatusEnumType::Accepted,
                    v16::ResetStatus::Rejected => v201::ResetStatusEnumType::Rejected,
                };
                to_json(&v201::ResetResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
            Back::Unlock => {
                let a: v16::UnlockConnectorResponse = parse(answer)?;
                let status = match a.status {
                    v16::UnlockStatus::Unlocked => v201::UnlockStatusEnumType::Unlocked,
                    v16::UnlockStatus::UnlockFailed | v16::UnlockStatus::NotSupported => {
                        v201::UnlockStatusEnumType::UnlockFailed
                    }
                };
                to_json(&v201::UnlockConnectorResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
            Back::ChangeAvailability => {
                let a: v16::ChangeAvailabilityResponse = parse(answer)?;
                let status = match a.status {
                    v16::AvailabilityStatus::Accepted => {
                        v201::ChangeAvailabilityStatusEnumType::Accepted
                    }
                    v16::AvailabilityStatus::Rejected => {
                        v201::ChangeAvailabilityStatusEnumType::Rejected
                    }
                    v16::AvailabilityStatus::Scheduled => {
                        v201::ChangeAvailabilityStatusEnumType::Scheduled
                    }
                };
                to_json(&v201::ChangeAvailabilityResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
            Back::ChangeConfiguration(item) => {
                let a: v16::ChangeConfigurationResponse = parse(answer)?;
                use v201::SetVariableStatusEnumType as S;
                let attribute_status = match a.status {
                    v16::ConfigurationStatus::Accepted => S::Accepted,
                    v16::ConfigurationStatus::Rejected => S::Rejected,
                    v16::ConfigurationStatus::RebootRequired => S::RebootRequired,
                    v16::ConfigurationStatus::NotSupported => S::UnknownVariable,
                };
                to_json(&v201::SetVariablesResponse {
                    custom_data: None,
                    set_variable_result: vec![v201::SetVariableResultType {
                        custom_data: None,
                        attribute_type: item.attribute_type,
                        attribute_status,
                        attribute_status_info: None,
                        component: item.component.clone(),
                        variable: item.variable.clone(),
                    }],
                })
            }
            Back::GetConfiguration(items) => {
                let a: v16::GetConfigurationResponse = parse(answer)?;
                let known = a.configuration_key.unwrap_or_default();
                let get_variable_result = items
                    .iter()
                    .map(|item| {
                        let found = known.iter().find(|k| k.key == item.variable.name);
                        v201::GetVariableResultType {
                            custom_data: None,
                            attribute_status_info: None,
                            attribute_status: if found.is_some() {
                                v201::GetVariableStatusEnumType::Accepted
                            } else {
                                v201::GetVariableStatusEnumType::UnknownVariable
                            },
                            attribute_type: item.attribute_type,
                            // A key without a value (unset) reads as the empty string.
                            attribute_value: found.map(|k| k.value.clone().unwrap_or_default()),
                            component: item.component.clone(),
                            variable: item.variable.clone(),
                        }
                    })
                    .collect();
                to_json(&v201::GetVariablesResponse {
                    custom_data: None,
                    get_variable_result,
                })
            }
            Back::Trigger => {
                let a: v16::TriggerMessageResponse = parse(answer)?;
                let status = match a.status {
                    v16::TriggerMessageStatus::Accepted => {
                        v201::TriggerMessageStatusEnumType::Accepted
                    }
                    v16::TriggerMessageStatus::Rejected => {
                        v201::TriggerMessageStatusEnumType::Rejected
                    }
                    v16::TriggerMessageStatus::NotImplemented => {
                        v201::TriggerMessageStatusEnumType::NotImplemented
                    }
                };
                to_json(&v201::TriggerMessageResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
            Back::Profile(back) => super::profiles::answer(back, answer),
            Back::Firmware(back) => super::firmware::answer(back, answer),
            Back::Security(back) => super::security::answer(back, answer),
            Back::CertificateSigned => {
                let a: v16::CertificateSignedResponse = parse(answer)?;
                let status = match a.status {
                    v16::CertificateSignedStatusEnumType::Accepted => {
                        v201::CertificateSignedStatusEnumType::Accepted
                    }
                    v16::CertificateSignedStatusEnumType::Rejected => {
                        v201::CertificateSignedStatusEnumType::Rejected
                    }
                };
                to_json(&v201::CertificateSignedResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
            Back::ClearCache => {
                let a: v16::ClearCacheResponse = parse(answer)?;
                let status = match a.status {
                    v16::ClearCacheStatus::Accepted => v201::ClearCacheStatusEnumType::Accepted,
                    v16::ClearCacheStatus::Rejected => v201::ClearCacheStatusEnumType::Rejected,
                };
                to_json(&v201::ClearCacheResponse {
                    custom_data: None,
                    status,
                    status_info: None,
                })
            }
        }
    }
}

fn start_stop(status: v16::RemoteStartStopStatus) -> v201::RequestStartStopStatusEnumType {
    match status {
        v16::RemoteStartStopStatus::Accepted => v201::RequestStartStopStatusEnumType::Accepted,
        v16::RemoteStartStopStatus::Rejected => v201::RequestStartStopStatusEnumType::Rejected,
    }
}

/// A 1.6 idTag is at most 20 characters; a longer 2.0.1 idToken cannot be sent.
fn id_tag(action: Action, token: &str) -> Result<String, OpError> {
    if token.chars().count() > 20 {
        return Err(refuse(
            action,
            "a 1.6 idTag has at most 20 characters; this idToken is longer",
        ));
    }
    Ok(token.to_string())
}

/// The refusal of a request 1.6 cannot carry (HTTP 400 at the API).
pub fn refuse(action: Action, why: impl std::fmt::Display) -> OpError {
    OpError::refused(
        "not_expressible_in_ocpp16",
        format!(
            "the station speaks OCPP 1.6, which cannot carry this {}: {why}",
            action.as_str()
        ),
    )
}

pub(super) fn decode<T: DeserializeOwned>(action: Action, payload: &Value) -> Result<T, OpError> {
    serde_json::from_value(payload.clone()).map_err(|e| OpError::InvalidRequest {
        action: action.as_str().to_string(),
        path: String::new(),
        message: format!("cannot decode: {e}"),
        code: unicharge_ocpp::ErrorCode::InternalError,
    })
}

pub(super) fn encode<T: Serialize>(value: &T) -> Result<Value, OpError> {
    serde_json::to_value(value).map_err(|e| OpError::Store(format!("cannot encode: {e}")))
}

pub(super) fn parse<T: DeserializeOwned>(answer: Value) -> Result<T, String> {
    serde_json::from_value(answer).map_err(|e| format!("1.6 answer does not decode: {e}"))
}

pub(super) fn to_json<T: Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicharge_ocpp::Direction;

    /// Every translation of a schema-valid 2.0.1 request is a schema-valid 1.6 request (or a
    /// refusal), and every schema-valid 1.6 answer reads back as a schema-valid 2.0.1 answer.
    fn round_trip(action: Action, request: Value, answer16: Value) -> Result<Value, OpError> {
        unicharge_ocpp::Validator::global()
            .validate(action.as_str(), Direction::Request, &request)
            .expect("test input is a valid 2.0.1 request");
        let translated = self::request(action, &request)?;
        v16::Validator::global()
            .validate(
                translated.action.as_str(),
                Direction::Request,
                &translated.payload,
            )
            .unwrap_or_else(|v| panic!("{} → invalid 1.6 request: {v}", action.as_str()));
        v16::Validator::global()
            .validate(translated.action.as_str(), Direction::Response, &answer16)
            .expect("test answer is a valid 1.6 confirmation");
        let back = translated.answer(answer16).unwrap();
        unicharge_ocpp::Validator::global()
            .validate(action.as_str(), Direction::Response, &back)
            .unwrap_or_else(|v| panic!("{} ← invalid 2.0.1 answer: {v}", action.as_str()));
        Ok(back)
    }

    fn json(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn translations_keep_both_schemas() {
        let cases = [
            (
                Action::Reset,
                r#"{"type":"OnIdle"}"#,
                r#"{"status":"Rejected"}"#,
            ),
            (
                Action::RequestStopTransaction,
                r#"{"transactionId":"42"}"#,
                r#"{"status":"Accepted"}"#,
            ),
            (
                Action::UnlockConnector,
                r#"{"evseId":3,"connectorId":1}"#,
                r#"{"status":"NotSupported"}"#,
            ),
            (
                Action::GetVariables,
                r#"{"getVariableData":[{"component":{"name":"X"},"variable":{"name":"K"}}]}"#,
                r#"{"configurationKey":[{"key":"K","readonly":true}]}"#,
            ),
            (
                Action::SetVariables,
                r#"{"setVariableData":[{"component":{"name":"X"},"variable":{"name":"K"},"attributeValue":"v"}]}"#,
                r#"{"status":"NotSupported"}"#,
            ),
            (
                Action::TriggerMessage,
                r#"{"requestedMessage":"Heartbeat"}"#,
                r#"{"status":"NotImplemented"}"#,
            ),
            (
                Action::TriggerMessage,
                r#"{"requestedMessage":"SignChargingStationCertificate"}"#,
                r#"{"status":"Accepted"}"#,
            ),
            (
                Action::InstallCertificate,
                r#"{"certificateType":"CSMSRootCertificate","certificate":"-----BEGIN CERTIFICATE-----"}"#,
                r#"{"status":"Failed"}"#,
            ),
            (
                Action::DeleteCertificate,
                r#"{"certificateHashData":{"hashAlgorithm":"SHA384","issuerNameHash":"aa","issuerKeyHash":"bb","serialNumber":"0c"}}"#,
                r#"{"status":"NotFound"}"#,
            ),
            (
                Action::GetLog,
                r#"{"logType":"SecurityLog","requestId":9,"log":{"remoteLocation":"https://logs.example/up"}}"#,
                r#"{"status":"AcceptedCanceled","filename":"sec.log"}"#,
            ),
            (
                Action::UpdateFirmware,
                r#"{"requestId":4,"firmware":{"location":"https://fw.example/a.bin","retrieveDateTime":"2026-01-01T00:00:00Z","installDateTime":"2026-01-01T01:00:00Z","signingCertificate":"PEM","signature":"c2ln"}}"#,
                r#"{"status":"InvalidCertificate"}"#,
            ),
        ];
        for (action, request, answer) in cases {
            round_trip(action, json(request), json(answer)).unwrap();
        }
    }

    /// The whitepaper messages carry what 2.0.1 gave them: the type asked for comes back on
    /// every hash entry, statuses keep their names, requestIds stay.
    #[test]
    fn security_whitepaper_translations_keep_the_values() {
        let back = round_trip(
            Action::GetInstalledCertificateIds,
            json(r#"{"certificateType":["ManufacturerRootCertificate"]}"#),
            json(
                r#"{"status":"Accepted","certificateHashData":[{"hashAlgorithm":"SHA256","issuerNameHash":"n1","issuerKeyHash":"k1","serialNumber":"01"}]}"#,
            ),
        )
        .unwrap();
        assert_eq!(
            back,
            json(
                r#"{"status":"Accepted","certificateHashDataChain":[{"certificateType":"ManufacturerRootCertificate","certificateHashData":{"hashAlgorithm":"SHA256","issuerNameHash":"n1","issuerKeyHash":"k1","serialNumber":"01"}}]}"#
            )
        );
        let sent = request(
            Action::UpdateFirmware,
            &json(
                r#"{"requestId":4,"retries":2,"firmware":{"location":"https://fw.example/a.bin","retrieveDateTime":"2026-01-01T00:00:00Z","signingCertificate":"PEM","signature":"c2ln"}}"#,
            ),
        )
        .unwrap();
        assert_eq!(sent.action, v16::Action::SignedUpdateFirmware);
        assert_eq!(sent.payload["requestId"], 4);
        assert_eq!(sent.payload["firmware"]["signature"], "c2ln");
        let sent = request(
            Action::TriggerMessage,
            &json(r#"{"requestedMessage":"LogStatusNotification","evse":{"id":2}}"#),
        )
        .unwrap();
        assert_eq!(sent.action, v16::Action::ExtendedTriggerMessage);
        assert_eq!(
            sent.payload,
            json(r#"{"requestedMessage":"LogStatusNotification","connectorId":2}"#)
        );
        let sent = request(
            Action::TriggerMessage,
            &json(r#"{"requestedMessage":"FirmwareStatusNotification"}"#),
        )
        .unwrap();
        assert_eq!(sent.action, v16::Action::TriggerMessage);
    }

    #[test]
    fn what_1_6_cannot_carry_is_refused_not_sent_invalid() {
        let long = "v".repeat(501);
        let refused = [
            (Action::Reset, r#"{"type":"Immediate","evseId":1}"#.to_string()),
            (Action::RequestStopTransaction, r#"{"transactionId":"TX-1"}"#.to_string()),
            (Action::UnlockConnector, r#"{"evseId":1,"connectorId":2}"#.to_string()),
            (
                Action::SetVariables,
                format!(
                    r#"{{"setVariableData":[{{"component":{{"name":"X"}},"variable":{{"name":"K"}},"attributeValue":"{long}"}}]}}"#
                ),
            ),
            (
                Action::RequestStartTransaction,
                r#"{"remoteStartId":1,"idToken":{"idToken":"ABCDEFGHIJKLMNOPQRSTU","type":"Central"}}"#
                    .to_string(),
            ),
            (Action::TriggerMessage, r#"{"requestedMessage":"SignV2GCertificate"}"#.to_string()),
            (Action::GetBaseReport, r#"{"requestId":1,"reportBase":"FullInventory"}"#.to_string()),
            (
                Action::InstallCertificate,
                r#"{"certificateType":"V2GRootCertificate","certificate":"PEM"}"#.to_string(),
            ),
            (Action::GetInstalledCertificateIds, "{}".to_string()),
            (
                Action::GetInstalledCertificateIds,
                r#"{"certificateType":["CSMSRootCertificate","ManufacturerRootCertificate"]}"#.to_string(),
            ),
            (
                Action::UpdateFirmware,
                r#"{"requestId":4,"firmware":{"location":"https://fw.example/a.bin","retrieveDateTime":"2026-01-01T00:00:00Z","signature":"c2ln"}}"#.to_string(),
            ),
            (Action::TriggerMessage, r#"{"requestedMessage":"TransactionEvent"}"#.to_string()),
            (
                Action::RequestStartTransaction,
                r#"{"remoteStartId":1,"idToken":{"idToken":"T","type":"Central"},"chargingProfile":{"id":1,"stackLevel":0,"chargingProfilePurpose":"TxProfile","chargingProfileKind":"Relative","chargingSchedule":[{"id":1,"chargingRateUnit":"A","chargingSchedulePeriod":[{"startPeriod":0,"limit":13.55}]}]}}"#.to_string(),
            ),
        ];
        for (action, request) in refused {
            match round_trip(action, json(&request), Value::Null) {
                Err(OpError::Refused { code, .. }) => assert_eq!(code, "not_expressible_in_ocpp16"),
                other => panic!("{}: {other:?}", action.as_str()),
            }
        }
    }
}
