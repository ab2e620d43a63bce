//! The OCPP 1.6J side of a simulated [`Station`] (issue 18): a station connected with
//! [`crate::ConnectOptions::ocpp16`] sends and answers typed 1.6 messages, each checked against
//! the official 1.6 schemas like the 2.0.1 ones. [`Security16`] is the charge point's side of
//! the security whitepaper (edition 3): the root certificates it holds, GetLog,
//! SignedUpdateFirmware and ExtendedTriggerMessage, answered by [`Station::serve16_security`].

use std::str::FromStr;

use serde_json::Value;
use unicharge_ocpp::v16::{self, OcppRequest, Validator};
use unicharge_ocpp::{Direction, Frame};

use crate::station::Station;
use crate::SimError;

impl Station {
    /// Send a typed 1.6 request and wait for its typed confirmation.
    pub async fn call16<R: OcppRequest>(&mut self, request: &R) -> Result<R::Response, SimError> {
        let payload =
            serde_json::to_value(request).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let action = R::ACTION.as_str();
        let answer = self.call_raw(action, payload).await?;
        serde_json::from_value(answer)
            .map_err(|e| SimError::Schema(format!("{action} confirmation not understood: {e}")))
    }

    /// Wait for the CSMS to send a 1.6 CALL of action `R` (schema-checked); returns its message
    /// id and typed payload.
    pub async fn expect_call16<R: OcppRequest>(&mut self) -> Result<(String, R), SimError> {
        let action = R::ACTION.as_str();
        let (id, got, payload) = match self.inbox.pop_front() {
            Some(call) => call,
            None => match self.next_frame(&format!("a {action} CALL")).await? {
                Frame::Call {
                    id,
                    action,
                    payload,
                } => (id, action, payload),
                other => {
                    return Err(SimError::Unexpected(format!(
                        "a CALLRESULT/CALLERROR {} while waiting for {action}",
                        other.id()
                    )))
                }
            },
        };
        if got != action {
            return Err(SimError::Unexpected(format!(
                "CSMS sent {got} while {action} was expected"
            )));
        }
        Validator::global()
            .validate(action, Direction::Request, &payload)
            .map_err(|v| SimError::Schema(format!("{action}.req: {v}")))?;
        let typed = serde_json::from_value(payload)
            .map_err(|e| SimError::Schema(format!("{action}.req not understood: {e}")))?;
        Ok((id, typed))
    }

    /// Answer a CSMS 1.6 CALL with its typed confirmation.
    pub async fn respond16<R: OcppRequest>(
        &mut self,
        id: &str,
        response: &R::Response,
    ) -> Result<(), SimError> {
        let payload =
            serde_json::to_value(response).map_err(|e| SimError::Unexpected(e.to_string()))?;
        let frame = Frame::CallResult {
            id: id.to_string(),
            payload,
        };
        self.send_text(&frame.to_text()).await
    }
}

/// What a simulated 1.6 charge point with the security whitepaper (edition 3) does when the
/// Central System asks: it keeps the root certificates it was given, reports their hash data
/// (SHA-256, computed from the certificate itself, so a CSMS that mixes them up is caught) and
/// deletes by hash data; it takes GetLog, SignedUpdateFirmware and ExtendedTriggerMessage.
/// [`Station::serve16_security`] answers one CALL with it.
#[derive(Debug, Default, Clone)]
pub struct Security16 {
    /// Installed root certificates: their type, hash data and PEM.
    pub certificates: Vec<(
        v16::CertificateUseEnumType,
        v16::CertificateHashDataType,
        String,
    )>,
    /// Answer InstallCertificate `Rejected` (a charge point that refuses the root).
    pub reject_installs: bool,
    /// The filename GetLog answers with.
    pub log_file: Option<String>,
    /// What SignedUpdateFirmware answers.
    pub firmware_status: Option<v16::UpdateFirmwareStatusEnumType>,
    /// The last GetLog and SignedUpdateFirmware taken, for the scenario to follow up on.
    pub last_get_log: Option<v16::GetLogRequest>,
    pub last_signed_update: Option<v16::SignedUpdateFirmwareRequest>,
    pub last_trigger: Option<v16::ExtendedTriggerMessageRequest>,
}

/// The 1.6 hash data of the first certificate of `pem` (its issuer: the next one, or itself).
pub fn hash_data16(pem: &str) -> Result<v16::CertificateHashDataType, String> {
    let h = crate::octt::states::certificate_hash_data(pem)?;
    Ok(v16::CertificateHashDataType {
        hash_algorithm: v16::HashAlgorithmEnumType::Sha256,
        issuer_name_hash: h.issuer_name_hash,
        issuer_key_hash: h.issuer_key_hash,
        serial_number: h.serial_number,
    })
}

impl Security16 {
    /// The typed confirmation of one CSMS request (schema-valid for its action); an error for
    /// an action this responder does not take.
    pub fn answer(&mut self, action: v16::Action, payload: Value) -> Result<Value, SimError> {
        fn decode<T: serde::de::DeserializeOwned>(p: Value) -> Result<T, SimError> {
            serde_json::from_value(p).map_err(|e| SimError::Schema(e.to_string()))
        }
        fn json<T: serde::Serialize>(v: &T) -> Result<Value, SimError> {
            serde_json::to_value(v).map_err(|e| SimError::Unexpected(e.to_string()))
        }
        match action {
            v16::Action::InstallCertificate => {
                let r: v16::InstallCertificateRequest = decode(payload)?;
                let status = match hash_data16(&r.certificate) {
                    _ if self.reject_installs => v16::InstallCertificateStatusEnumType::Rejected,
                    Ok(hash) => {
                        self.certificates
                            .retain(|(_, h, _)| h.serial_number != hash.serial_number);
                        self.certificates
                            .push((r.certificate_type, hash, r.certificate));
                        v16::InstallCertificateStatusEnumType::Accepted
                    }
                    Err(_) => v16::InstallCertificateStatusEnumType::Rejected,
                };
                json(&v16::InstallCertificateResponse { status })
            }
            v16::Action::GetInstalledCertificateIds => {
                let r: v16::GetInstalledCertificateIdsRequest = decode(payload)?;
                let found: Vec<_> = self
                    .certificates
                    .iter()
                    .filter(|(t, _, _)| *t == r.certificate_type)
                    .map(|(_, h, _)| h.clone())
                    .collect();
                json(&v16::GetInstalledCertificateIdsResponse {
                    status: if found.is_empty() {
                        v16::GetInstalledCertificateStatusEnumType::NotFound
                    } else {
                        v16::GetInstalledCertificateStatusEnumType::Accepted
                    },
                    certificate_hash_data: (!found.is_empty()).then_some(found),
                })
            }
            v16::Action::DeleteCertificate => {
                let r: v16::DeleteCertificateRequest = decode(payload)?;
                let before = self.certificates.len();
                self.certificates
                    .retain(|(_, h, _)| *h != r.certificate_hash_data);
                json(&v16::DeleteCertificateResponse {
                    status: if self.certificates.len() < before {
                        v16::DeleteCertificateStatusEnumType::Accepted
                    } else {
                        v16::DeleteCertificateStatusEnumType::NotFound
                    },
                })
            }
            v16::Action::GetLog => {
                let r: v16::GetLogRequest = decode(payload)?;
                self.last_get_log = Some(r);
                json(&v16::GetLogResponse {
                    status: if self.log_file.is_some() {
                        v16::LogStatusEnumType::Accepted
                    } else {
                        v16::LogStatusEnumType::Rejected
                    },
                    filename: self.log_file.clone(),
                })
            }
            v16::Action::SignedUpdateFirmware => {
                let r: v16::SignedUpdateFirmwareRequest = decode(payload)?;
                self.last_signed_update = Some(r);
                json(&v16::SignedUpdateFirmwareResponse {
                    status: self
                        .firmware_status
                        .unwrap_or(v16::UpdateFirmwareStatusEnumType::Accepted),
                })
            }
            v16::Action::ExtendedTriggerMessage => {
                let r: v16::ExtendedTriggerMessageRequest = decode(payload)?;
                self.last_trigger = Some(r);
                json(&v16::ExtendedTriggerMessageResponse {
                    status: v16::TriggerMessageStatusEnumType::Accepted,
                })
            }
            other => Err(SimError::Unexpected(format!(
                "{} is not a security whitepaper request",
                other.as_str()
            ))),
        }
    }
}

impl Station {
    /// Take the CSMS's next 1.6 CALL (schema-checked), answer it from `security` (the answer
    /// checked against the 1.6 schema too) and say which action it was.
    pub async fn serve16_security(
        &mut self,
        security: &mut Security16,
    ) -> Result<v16::Action, SimError> {
        let name = self.next_call_action().await?;
        let (id, payload) = self.take_call()?;
        let action = v16::Action::from_str(&name)
            .map_err(|_| SimError::Unexpected(format!("{name} is not a 1.6 action")))?;
        Validator::global()
            .validate(&name, Direction::Request, &payload)
            .map_err(|v| SimError::Schema(format!("{name}.req: {v}")))?;
        let answer = security.answer(action, payload)?;
        Validator::global()
            .validate(&name, Direction::Response, &answer)
            .map_err(|v| SimError::Schema(format!("our {name}.conf: {v}")))?;
        let frame = Frame::CallResult {
            id,
            payload: answer,
        };
        self.send_text(&frame.to_text()).await?;
        Ok(action)
    }
}
