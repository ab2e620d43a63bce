//! 1.6 Firmware Management both ways.
//!
//! From the charge point: FirmwareStatusNotification (1.6 section 4.5) and
//! DiagnosticsStatusNotification (4.4), kept by the same handlers as 2.0.1's
//! FirmwareStatusNotification (L01) and LogStatusNotification (N01). 1.6 carries no requestId:
//! a 1.6 charge point runs one firmware update (and one diagnostics upload) at a time, so a
//! notification belongs to the station's newest UpdateFirmware (GetLog) the CSMS sent — which
//! is how single updates and rollout campaigns follow a 1.6 station like a 2.0.1 one.
//!
//! From the CSMS (translated like [`super::outgoing`]):
//!
//! | 2.0.1 request | 1.6 request | reading / refused (400) when |
//! |---|---|---|
//! | UpdateFirmware (unsigned) | UpdateFirmware | location, retrieveDateTime → retrieveDate, retries, retryInterval; the empty 1.6 answer is Accepted; refused for an installDateTime |
//! | UpdateFirmware (signingCertificate + signature) | SignedUpdateFirmware (security whitepaper) | field for field, requestId kept, so SignedFirmwareStatusNotification names the same request; refused when only one of the two is given |
//! | GetLog (DiagnosticsLog) | GetDiagnostics | remoteLocation → location, oldest / latest timestamp → start / stop time; fileName → filename (Accepted), no fileName → Rejected (nothing to upload) |
//! | GetLog (SecurityLog) | GetLog (security whitepaper) | field for field, requestId kept, so LogStatusNotification names the same request |
//!
//! Why a diagnostics log still goes as GetDiagnostics: every 1.6 charge point with the Firmware
//! Management profile answers it, while the whitepaper's GetLog needs the security extension;
//! the security log exists only in the whitepaper (ADR 0036).

use serde_json::Value;
use unicharge_ocpp::v16;
use unicharge_ocpp::v201::{self, Action, FirmwareStatusEnumType, UploadLogStatusEnumType};
use unicharge_store::TrackedKind;

use super::convert::by_name;
use super::core_profile::map;
use super::outgoing::{decode, encode, parse, refuse, to_json};
use crate::dispatch::{CallRefusal, Handled, StationContext};
use crate::request::OpError;
use crate::{diagnostics, firmware};

/// The newest request of `kind` the CSMS sent this station: what a 1.6 notification (which
/// names none) is about. `None` when there is none, or the store cannot say (the notice is
/// kept either way).
async fn newest(ctx: &StationContext, kind: TrackedKind) -> Option<i64> {
    match ctx.store.tracked_requests(&ctx.station_id, kind, 1).await {
        Ok(requests) => requests.first().map(|r| r.request_id),
        Err(e) => {
            tracing::warn!(station = %ctx.station_id, error = %e, "tracked request lookup failed");
            None
        }
    }
}

/// FirmwareStatusNotification: the seven 1.6 statuses all have a 2.0.1 namesake.
pub async fn firmware_status_notification(
    ctx: &mut StationContext,
    req: v16::FirmwareStatusNotificationRequest,
) -> Result<Handled<v16::FirmwareStatusNotificationResponse>, CallRefusal> {
    let status = by_name(&FirmwareStatusEnumType::ALL, req.status.as_str(), |s| {
        s.as_str()
    })
    .unwrap_or(FirmwareStatusEnumType::Idle);
    // Idle says nothing is under way: it belongs to no request.
    let request_id = match status {
        FirmwareStatusEnumType::Idle => None,
        _ => newest(ctx, TrackedKind::UpdateFirmware).await,
    };
    let request = v201::FirmwareStatusNotificationRequest {
        custom_data: None,
        status,
        request_id,
    };
    let handled = firmware::firmware_status::handle(ctx, request).await?;
    Ok(map(handled, |_| v16::FirmwareStatusNotificationResponse {}))
}

/// DiagnosticsStatusNotification: a diagnostics upload is 2.0.1's log upload; `UploadFailed`
/// is `UploadFailure`.
pub async fn diagnostics_status_notification(
    ctx: &mut StationContext,
    req: v16::DiagnosticsStatusNotificationRequest,
) -> Result<Handled<v16::DiagnosticsStatusNotificationResponse>, CallRefusal> {
    let status = match req.status {
        v16::DiagnosticsStatus::Idle => UploadLogStatusEnumType::Idle,
        v16::DiagnosticsStatus::Uploaded => UploadLogStatusEnumType::Uploaded,
        v16::DiagnosticsStatus::UploadFailed => UploadLogStatusEnumType::UploadFailure,
        v16::DiagnosticsStatus::Uploading => UploadLogStatusEnumType::Uploading,
    };
    let request_id = match status {
        UploadLogStatusEnumType::Idle => None,
        _ => newest(ctx, TrackedKind::GetLog).await,
    };
    let request = v201::LogStatusNotificationRequest {
        custom_data: None,
        status,
        request_id,
    };
    let handled = diagnostics::log_status::handle(ctx, request).await?;
    Ok(map(handled, |_| {
        v16::DiagnosticsStatusNotificationResponse {}
    }))
}

/// What the translation back needs of a firmware request.
pub enum FirmwareBack {
    UpdateFirmware,
    SignedUpdateFirmware,
    GetDiagnostics,
    GetLog,
}

/// UpdateFirmware / GetLog for a 1.6 charge point; `None` for other actions.
pub fn request(
    action: Action,
    payload: &Value,
) -> Option<Result<(v16::Action, Value, FirmwareBack), OpError>> {
    let translated = match action {
        Action::UpdateFirmware => update_firmware(action, payload),
        Action::GetLog => get_diagnostics(action, payload),
        _ => return None,
    };
    Some(translated.and_then(|t| carried(action, t)))
}

/// The 1.6 request must meet the 1.6 schema: its `location` is a URI there, while 2.0.1 takes
/// any string. What 1.6 cannot carry is refused (400) here, never sent invalid.
fn carried(
    action: Action,
    (action16, payload, back): (v16::Action, Value, FirmwareBack),
) -> Result<(v16::Action, Value, FirmwareBack), OpError> {
    match v16::Validator::global().validate(
        action16.as_str(),
        unicharge_ocpp::Direction::Request,
        &payload,
    ) {
        Ok(()) => Ok((action16, payload, back)),
        Err(why) => Err(refuse(
            action,
            format!(
                "its 1.6 form breaks the 1.6 schema ({why}); a location must be an absolute URI"
            ),
        )),
    }
}

fn update_firmware(
    action: Action,
    payload: &Value,
) -> Result<(v16::Action, Value, FirmwareBack), OpError> {
    let r: v201::UpdateFirmwareRequest = decode(action, payload)?;
    let f = r.firmware;
    match (f.signing_certificate, f.signature) {
        (None, None) => {}
        // A secure update (L01): the whitepaper's SignedUpdateFirmware carries it whole.
        (Some(signing_certificate), Some(signature)) => {
            let req = v16::SignedUpdateFirmwareRequest {
                retries: r.retries,
                retry_interval: r.retry_interval,
                request_id: r.request_id,
                firmware: v16::FirmwareType {
                    location: f.location,
                    retrieve_date_time: f.retrieve_date_time,
                    install_date_time: f.install_date_time,
                    signing_certificate,
                    signature,
                },
            };
            return Ok((
                v16::Action::SignedUpdateFirmware,
                encode(&req)?,
                FirmwareBack::SignedUpdateFirmware,
            ));
        }
        _ => {
            return Err(refuse(
                action,
                "1.6 SignedUpdateFirmware needs both the signing certificate and the signature",
            ))
        }
    }
    if f.install_date_time.is_some() {
        return Err(refuse(
            action,
            "1.6 installs as soon as the download is done: omit installDateTime",
        ));
    }
    let req = v16::UpdateFirmwareRequest {
        location: f.location,
        retries: r.retries,
        retrieve_date: f.retrieve_date_time,
        retry_interval: r.retry_interval,
    };
    Ok((
        v16::Action::UpdateFirmware,
        encode(&req)?,
        FirmwareBack::UpdateFirmware,
    ))
}

fn get_diagnostics(
    action: Action,
    payload: &Value,
) -> Result<(v16::Action, Value, FirmwareBack), OpError> {
    let r: v201::GetLogRequest = decode(action, payload)?;
    if r.log_type == v201::LogEnumType::SecurityLog {
        let req = v16::GetLogRequest {
            log: v16::LogParametersType {
                remote_location: r.log.remote_location,
                oldest_timestamp: r.log.oldest_timestamp,
                latest_timestamp: r.log.latest_timestamp,
            },
            log_type: v16::LogEnumType::SecurityLog,
            request_id: r.request_id,
            retries: r.retries,
            retry_interval: r.retry_interval,
        };
        return Ok((v16::Action::GetLog, encode(&req)?, FirmwareBack::GetLog));
    }
    let req = v16::GetDiagnosticsRequest {
        location: r.log.remote_location,
        retries: r.retries,
        retry_interval: r.retry_interval,
        start_time: r.log.oldest_timestamp,
        stop_time: r.log.latest_timestamp,
    };
    Ok((
        v16::Action::GetDiagnostics,
        encode(&req)?,
        FirmwareBack::GetDiagnostics,
    ))
}

/// The 1.6 confirmation as the 2.0.1 response.
pub fn answer(back: &FirmwareBack, answer: Value) -> Result<Value, String> {
    match back {
        // UpdateFirmware.conf is empty: the charge point took the request.
        FirmwareBack::UpdateFirmware => {
            let _: v16::UpdateFirmwareResponse = parse(answer)?;
            to_json(&v201::UpdateFirmwareResponse {
                custom_data: None,
                status: v201::UpdateFirmwareStatusEnumType::Accepted,
                status_info: None,
            })
        }
        // Same statuses under the same names (Accepted, Rejected, AcceptedCanceled,
        // InvalidCertificate, RevokedCertificate).
        FirmwareBack::SignedUpdateFirmware => {
            let a: v16::SignedUpdateFirmwareResponse = parse(answer)?;
            let status = by_name(
                &v201::UpdateFirmwareStatusEnumType::ALL,
                a.status.as_str(),
                |s| s.as_str(),
            )
            .ok_or_else(|| format!("no 2.0.1 UpdateFirmware status {}", a.status.as_str()))?;
            to_json(&v201::UpdateFirmwareResponse {
                custom_data: None,
                status,
                status_info: None,
            })
        }
        FirmwareBack::GetLog => {
            let a: v16::GetLogResponse = parse(answer)?;
            let status = by_name(&v201::LogStatusEnumType::ALL, a.status.as_str(), |s| {
                s.as_str()
            })
            .ok_or_else(|| format!("no 2.0.1 GetLog status {}", a.status.as_str()))?;
            to_json(&v201::GetLogResponse {
                custom_data: None,
                status,
                status_info: None,
                filename: a.filename,
            })
        }
        // No fileName: the charge point has no diagnostics to upload.
        FirmwareBack::GetDiagnostics => {
            let a: v16::GetDiagnosticsResponse = parse(answer)?;
            let status = match a.file_name {
                Some(_) => v201::LogStatusEnumType::Accepted,
                None => v201::LogStatusEnumType::Rejected,
            };
            to_json(&v201::GetLogResponse {
                custom_data: None,
                status,
                status_info: None,
                filename: a.file_name,
            })
        }
    }
}
