//! The "Improved security for OCPP 1.6-J" (edition 3) messages a charge point sends, answered
//! by the 2.0.1 security, diagnostics and firmware blocks they were modelled on: the whitepaper
//! took them from 2.0.1 nearly field for field.
//!
//! - SecurityEventNotification → A04 handler (stored, critical ones logged).
//! - SignCertificate → A02/A03 handler: the CSR is signed by the same CA and delivered with
//!   CertificateSigned (translated for 1.6 in [`super::outgoing`]). 1.6 signs only the charge
//!   point certificate (no certificateType).
//! - LogStatusNotification → N01 handler, SignedFirmwareStatusNotification → L01 handler,
//!   matched to the tracked GetLog / SignedUpdateFirmware by requestId.
//!
//! And the ones the Central System sends, translated from the 2.0.1 request every operation
//! builds (M03–M05, F06) like [`super::outgoing`]:
//!
//! | 2.0.1 request | 1.6 request | reading / refused (400) when |
//! |---|---|---|
//! | InstallCertificate | InstallCertificate | CSMSRootCertificate → CentralSystemRootCertificate, ManufacturerRootCertificate; V2G / MO roots refused (1.6 has no ISO 15118) |
//! | GetInstalledCertificateIds | GetInstalledCertificateIds | exactly one of those two types (1.6 asks for one type per request); the hash data come back under the type asked for |
//! | DeleteCertificate | DeleteCertificate | hash data field for field |
//! | TriggerMessage (LogStatusNotification, SignChargingStationCertificate) | ExtendedTriggerMessage (LogStatusNotification, SignChargePointCertificate) | only what plain TriggerMessage cannot ask; the five it can (incl. FirmwareStatusNotification, which a charge point in a signed update answers with SignedFirmwareStatusNotification) stay TriggerMessage |

use serde_json::Value;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, Action, FirmwareStatusEnumType, UploadLogStatusEnumType};

use super::convert::by_name;
use super::core_profile::map;
use super::outgoing::{decode, encode, parse, refuse, to_json};
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::request::OpError;
use crate::{diagnostics, firmware, security};

pub async fn security_event_notification(
    ctx: &mut StationContext,
    req: v16::SecurityEventNotificationRequest,
) -> Result<Handled<v16::SecurityEventNotificationResponse>, CallRefusal> {
    let request = v201::SecurityEventNotificationRequest {
        custom_data: None,
        r#type: req.r#type,
        timestamp: req.timestamp,
        tech_info: req.tech_info,
    };
    let handled = security::security_event::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::SecurityEventNotificationResponse {}))
}

pub async fn sign_certificate(
    ctx: &mut StationContext,
    req: v16::SignCertificateRequest,
) -> Result<Handled<v16::SignCertificateResponse>, CallRefusal> {
    let request = v201::SignCertificateRequest {
        custom_data: None,
        csr: req.csr,
        certificate_type: Some(v201::CertificateSigningUseEnumType::ChargingStationCertificate),
    };
    let handled = security::sign_certificate::handle(ctx, request).await?;
    let status = match handled.response.status {
        v201::GenericStatusEnumType::Accepted => v16::GenericStatusEnumType::Accepted,
        v201::GenericStatusEnumType::Rejected => v16::GenericStatusEnumType::Rejected,
    };
    Ok(map(handled, |_| v16::SignCertificateResponse { status }))
}

pub async fn log_status_notification(
    ctx: &mut StationContext,
    req: v16::LogStatusNotificationRequest,
) -> Result<Handled<v16::LogStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&UploadLogStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(UploadLogStatusEnumType::UploadFailure);
    let request = v201::LogStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: req.request_id,
    };
    let handled = diagnostics::log_status::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::LogStatusNotificationResponse {}))
}

pub async fn signed_firmware_status_notification(
    ctx: &mut StationContext,
    req: v16::SignedFirmwareStatusNotificationRequest,
) -> Result<Handled<v16::SignedFirmwareStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&FirmwareStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(FirmwareStatusEnumType::Idle);
    let request = v201::FirmwareStatusNotificationRequest {
        custom_data: None,
        status,
        request_id: req.request_id,
    };
    let handled = firmware::firmware_status::handle(ctx, request).await?;
    Ok(map(handled, |_| {
        v16::SignedFirmwareStatusNotificationResponse {}
    }))
}

/// What the translation back needs of a security request.
pub enum SecurityBack {
    InstallCertificate,
    /// The one type asked for: 1.6 answers bare hash data, 2.0.1 names each entry's type.
    GetInstalledCertificateIds(v201::GetCertificateIdUseEnumType),
    DeleteCertificate,
    ExtendedTrigger,
}

/// InstallCertificate / GetInstalledCertificateIds / DeleteCertificate for a 1.6 charge point;
/// `None` for other actions.
pub fn request(
    action: Action,
    payload: &Value,
) -> Option<Result<(v16::Action, Value, SecurityBack), OpError>> {
    // The 1.6 form is checked against the 1.6 schema by [`super::outgoing::request`].
    Some(match action {
        Action::InstallCertificate => install_certificate(action, payload),
        Action::GetInstalledCertificateIds => get_installed_certificate_ids(action, payload),
        Action::DeleteCertificate => delete_certificate(action, payload),
        _ => return None,
    })
}

fn install_certificate(
    action: Action,
    payload: &Value,
) -> Result<(v16::Action, Value, SecurityBack), OpError> {
    let r: v201::InstallCertificateRequest = decode(action, payload)?;
    let certificate_type = match r.certificate_type {
        v201::InstallCertificateUseEnumType::CsmsRootCertificate => {
            v16::CertificateUseEnumType::CentralSystemRootCertificate
        }
        v201::InstallCertificateUseEnumType::ManufacturerRootCertificate => {
            v16::CertificateUseEnumType::ManufacturerRootCertificate
        }
        other => {
            return Err(refuse(
                action,
                format!(
                    "1.6 installs CSMSRootCertificate (CentralSystemRootCertificate) or \
                     ManufacturerRootCertificate only, not {}",
                    other.as_str()
                ),
            ))
        }
    };
    let req = v16::InstallCertificateRequest {
        certificate_type,
        certificate: r.certificate,
    };
    Ok((
        v16::Action::InstallCertificate,
        encode(&req)?,
        SecurityBack::InstallCertificate,
    ))
}

fn get_installed_certificate_ids(
    action: Action,
    payload: &Value,
) -> Result<(v16::Action, Value, SecurityBack), OpError> {
    use v201::GetCertificateIdUseEnumType as T;
    let r: v201::GetInstalledCertificateIdsRequest = decode(action, payload)?;
    let types = r.certificate_type.unwrap_or_default();
    let (certificate_type, asked) = match types.as_slice() {
        [T::CsmsRootCertificate] => (
            v16::CertificateUseEnumType::CentralSystemRootCertificate,
            T::CsmsRootCertificate,
        ),
        [T::ManufacturerRootCertificate] => (
            v16::CertificateUseEnumType::ManufacturerRootCertificate,
            T::ManufacturerRootCertificate,
        ),
        _ => {
            return Err(refuse(
                action,
                "1.6 asks for one certificate type per request: give certificateType \
                 [\"CSMSRootCertificate\"] or [\"ManufacturerRootCertificate\"]",
            ))
        }
    };
    let req = v16::GetInstalledCertificateIdsRequest { certificate_type };
    Ok((
        v16::Action::GetInstalledCertificateIds,
        encode(&req)?,
        SecurityBack::GetInstalledCertificateIds(asked),
    ))
}

fn delete_certificate(
    action: Action,
    payload: &Value,
) -> Result<(v16::Action, Value, SecurityBack), OpError> {
    let r: v201::DeleteCertificateRequest = decode(action, payload)?;
    let h = r.certificate_hash_data;
    let hash_algorithm = by_name(
        &v16::HashAlgorithmEnumType::ALL,
        h.hash_algorithm.as_str(),
        |a| a.as_str(),
    )
    .ok_or_else(|| refuse(action, "1.6 knows SHA256, SHA384 and SHA512 only"))?;
    let req = v16::DeleteCertificateRequest {
        certificate_hash_data: v16::CertificateHashDataType {
            hash_algorithm,
            issuer_name_hash: h.issuer_name_hash,
            issuer_key_hash: h.issuer_key_hash,
            serial_number: h.serial_number,
        },
    };
    Ok((
        v16::Action::DeleteCertificate,
        encode(&req)?,
        SecurityBack::DeleteCertificate,
    ))
}

/// A 2.0.1 TriggerMessage that only the whitepaper's ExtendedTriggerMessage can ask of a 1.6
/// charge point; `None` when it has no ExtendedTriggerMessage form either.
pub fn extended_trigger(
    r: &v201::TriggerMessageRequest,
) -> Option<Result<(v16::Action, Value, SecurityBack), OpError>> {
    use v16::MessageTriggerEnumType as E;
    let requested_message = match r.requested_message {
        v201::MessageTriggerEnumType::LogStatusNotification => E::LogStatusNotification,
        v201::MessageTriggerEnumType::SignChargingStationCertificate => {
            E::SignChargePointCertificate
        }
        _ => return None,
    };
    let req = v16::ExtendedTriggerMessageRequest {
        requested_message,
        connector_id: r.evse.as_ref().map(|e| e.id),
    };
    Some(encode(&req).map(|p| {
        (
            v16::Action::ExtendedTriggerMessage,
            p,
            SecurityBack::ExtendedTrigger,
        )
    }))
}

/// The 1.6 confirmation as the 2.0.1 response. The status enumerations share their names.
pub fn answer(back: &SecurityBack, answer: Value) -> Result<Value, String> {
    match back {
        SecurityBack::InstallCertificate => {
            let a: v16::InstallCertificateResponse = parse(answer)?;
            to_json(&v201::InstallCertificateResponse {
                custom_data: None,
                status: same(
                    &v201::InstallCertificateStatusEnumType::ALL,
                    a.status.as_str(),
                    |s| s.as_str(),
                )?,
                status_info: None,
            })
        }
        SecurityBack::GetInstalledCertificateIds(asked) => {
            let a: v16::GetInstalledCertificateIdsResponse = parse(answer)?;
            let chain = a
                .certificate_hash_data
                .unwrap_or_default()
                .into_iter()
                .map(|h| {
                    Ok(v201::CertificateHashDataChainType {
                        custom_data: None,
                        certificate_type: *asked,
                        certificate_hash_data: hash_data(h)?,
                        child_certificate_hash_data: None,
                    })
                })
                .collect::<Result<Vec<_>, String>>()?;
            to_json(&v201::GetInstalledCertificateIdsResponse {
                custom_data: None,
                status: same(
                    &v201::GetInstalledCertificateStatusEnumType::ALL,
                    a.status.as_str(),
                    |s| s.as_str(),
                )?,
                status_info: None,
                certificate_hash_data_chain: (!chain.is_empty()).then_some(chain),
            })
        }
        SecurityBack::DeleteCertificate => {
            let a: v16::DeleteCertificateResponse = parse(answer)?;
            to_json(&v201::DeleteCertificateResponse {
                custom_data: None,
                status: same(
                    &v201::DeleteCertificateStatusEnumType::ALL,
                    a.status.as_str(),
                    |s| s.as_str(),
                )?,
                status_info: None,
            })
        }
        SecurityBack::ExtendedTrigger => {
            let a: v16::ExtendedTriggerMessageResponse = parse(answer)?;
            to_json(&v201::TriggerMessageResponse {
                custom_data: None,
                status: same(
                    &v201::TriggerMessageStatusEnumType::ALL,
                    a.status.as_str(),
                    |s| s.as_str(),
                )?,
                status_info: None,
            })
        }
    }
}

fn hash_data(h: v16::CertificateHashDataType) -> Result<v201::CertificateHashDataType, String> {
    Ok(v201::CertificateHashDataType {
        custom_data: None,
        hash_algorithm: same(
            &v201::HashAlgorithmEnumType::ALL,
            h.hash_algorithm.as_str(),
            |a| a.as_str(),
        )?,
        issuer_name_hash: h.issuer_name_hash,
        issuer_key_hash: h.issuer_key_hash,
        serial_number: h.serial_number,
    })
}

/// The 2.0.1 value named like a 1.6 one (an error names the value 2.0.1 lacks).
fn same<T: Copy>(all: &[T], name: &str, as_str: impl Fn(&T) -> &'static str) -> Result<T, String> {
    by_name(all, name, as_str).ok_or_else(|| format!("2.0.1 has no value {name}"))
}
