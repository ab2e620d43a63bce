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
//! | UpdateFirmware | UpdateFirmware | location, retrieveDateTime → retrieveDate, retries, retryInterval; the empty 1.6 answer is Accepted; refused for a signed firmware (signature / signing certificate: SignedUpdateFirmware is not translated yet) and an installDateTime |
//! | GetLog (DiagnosticsLog) | GetDiagnostics | remoteLocation → location, oldest / latest timestamp → start / stop time; fileName → filename (Accepted), no fileName → Rejected (nothing to upload); a SecurityLog is refused |

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
    GetDiagnostics,
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
    if f.signature.is_some() || f.signing_certificate.is_some() {
        return Err(refuse(
            action,
            "a signed firmware needs SignedUpdateFirmware, not translated yet: send it unsigned or update over 2.0.1",
        ));
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
    if r.log_type != v201::LogEnumType::DiagnosticsLog {
        return Err(refuse(
            action,
            "1.6 GetDiagnostics uploads the diagnostics log only (the security log needs the whitepaper's GetLog, not translated yet)",
        ));
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
